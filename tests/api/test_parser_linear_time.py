"""Every parser of recorder answers takes time linear in its input, however hostile.

Each case times an adversarial input of n and of 10 n bytes and asserts the
ratio: about 10 when linear, about 100 when quadratic (the patterns below took
seconds for a few tens of kilobytes before they were rewritten). Times are the
process's CPU time, the best of a few rounds, each round repeating the call
until the small input costs about 10 ms: figures well above the timer's
resolution, and not stretched by other processes on a busy machine. No
wall-clock threshold: only the ratio counts.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from dataclasses import dataclass
from datetime import timedelta
import gc
import time

import pytest

from custom_components.ipro_nvr.api import LogKind
from custom_components.ipro_nvr.api.download import parse_file_name
from custom_components.ipro_nvr.api.errors import NvrError
from custom_components.ipro_nvr.api.log_events import classify_log_text
from custom_components.ipro_nvr.api.media.multipart import MultipartReader
from custom_components.ipro_nvr.api.parsers import (
    parse_camera_status,
    parse_log_list,
    parse_login,
    parse_recorded_time,
)

from .spec_examples import ERROR_LOG, EVENT_LOG, GETINFO, LOGIN, RECORDEDTIME

N = 20_000
# Linear is about 10 (caches make it up to ~20 on a busy machine); quadratic ~100.
MAX_RATIO = 30
_ROUNDS = 3
_ROUND_SECONDS = 0.005


@dataclass(frozen=True, slots=True)
class Case:
    """A parser and how to build its adversarial input of about ``n`` bytes."""

    parse: Callable[[bytes], object]
    make: Callable[[int], bytes]
    n: int = N


def _multipart(body: bytes) -> object:
    reader = MultipartReader(max_header_size=len(body) + 1, max_part_size=len(body) + 1)
    return reader.feed(body)


def _recorded_time(body: bytes) -> object:
    return parse_recorded_time(body, zone=timedelta(hours=9))


def _file_name(body: bytes) -> object:
    return parse_file_name(body.decode("latin-1"))


def _log_text(body: bytes) -> object:
    # Past the cache: every call classifies (texts repeat in a real log, not here).
    return classify_log_text.__wrapped__(body.decode("latin-1"))


CASES: dict[str, Case] = {
    # Was quadratic: the tag-line check (a 30 KB line took 3.99 s).
    "getinfo: a line that almost is an HTML tag": Case(
        parse_camera_status,
        lambda n: b"<HTML>\r\n<a" + b"a" * n + b"\r\nCAM_CONNECT_01CH=1\r\n</HTML>\r\n",
    ),
    # Was quadratic: one search per field for each quote kind, once the text is not
    # Latin-1 (1 MB took 19 s). The quadratic term is a fast scan, so it takes a
    # larger n, and a character beyond the BMP (the slowest scan), to stand out.
    "loglist: many fields and one character beyond Latin-1": Case(
        lambda body: parse_log_list(body, kind=LogKind.EVENT),
        lambda n: (
            'EVENT_LOG_NO=1\r\nEVENT_LOG="\U0001f600",' + '"x",' * (n // 4) + "\r\n"
        ).encode(),
        n=2 * N,
    ),
    "loglist: wrapped lines that almost are HTML tags": Case(
        parse_log_list,
        lambda n: b'ERROR_LOG_NO=1\r\nERROR_LOG="001"\r\n' + b"<a" * (n // 2) + b"\r\n",
    ),
    "loglist: blanks between fields": Case(
        parse_log_list, lambda n: b'ERROR_LOG_NO=1\r\nERROR_LOG="001",' + b" " * n + b'"x\r\n'
    ),
    "login: blanks after UID=": Case(parse_login, lambda n: b"UID= " + b" \t" * (n // 2) + b"x"),
    "login: UID= over and over": Case(parse_login, lambda n: b"UID=-1 " * (n // 7)),
    "recordedtime: blanks and parentheses": Case(
        _recorded_time, lambda n: b"MAIN-1,1" + b" " * (n // 2) + b"(" * (n // 2) + b",\r\n"
    ),
    # Was quadratic: "[ \t]*" after the colon and blanks in the value class.
    "multipart: header value of blanks": Case(
        _multipart,
        lambda n: b"--myboundary\r\nX-Head:" + b" \t" * (n // 2) + b"\x00\r\n\r\n",
    ),
    "multipart: standard head with blanks": Case(
        _multipart,
        lambda n: b"--myboundary\r\nContent-type: a" + b" " * n + b"\x00\r\n",
    ),
    # Was quadratic: "(.*?)\s*$" over the blanks of the value.
    "download: file name with blanks inside": Case(
        _file_name, lambda n: b"filename=x" + b" \t" * (n // 2) + b"y"
    ),
    # Was cubic: "[A-Z ]+?" between two "\s*" in the parentheses of "SITE(VMD)-1"
    # (2000 blanks took 9 s). A small n: the old pattern would take an hour at 10 n = N.
    "log text: a parenthesis of blanks never closed": Case(
        _log_text, lambda n: b"TRM(" + b" " * n + b"x", n=300
    ),
    # Never slow, but the rewritten pattern's repeated words must stay so.
    "log text: a parenthesis of words never closed": Case(
        _log_text, lambda n: b"SITE(" + b"A " * (n // 2) + b"-1", n=300
    ),
}


# The property tests' mutations (``test_parser_properties.mutated``) at scale: each kind of
# run they insert into a valid answer, stretched to n bytes, in the middle of the answer
# and right after its first line (where a key's value starts).
_VALID_ANSWERS: dict[str, tuple[bytes, Callable[[bytes], object]]] = {
    "getinfo": (GETINFO, parse_camera_status),
    "recordedtime": (RECORDEDTIME, _recorded_time),
    "error log": (ERROR_LOG, parse_log_list),
    "event log": (EVENT_LOG, parse_log_list),
    "login": (LOGIN, parse_login),
}
_INSERTED_RUNS: dict[str, bytes] = {
    "commas": b",",
    "quotes": b'"',
    "line ends": b"\r\n",
    "equals signs": b"=",
    "dashes": b"-",
    "digits": b"9",
    "a character beyond Latin-1": "\u201d".encode(),
    "bytes 0-255": bytes(range(256)),
}


def _stretched(answer: bytes, run: bytes, at_line: bool) -> Callable[[int], bytes]:
    position = answer.find(b"\n") + 1 if at_line else len(answer) // 2

    def make(n: int) -> bytes:
        return answer[:position] + run * max(1, n // len(run)) + answer[position:]

    return make


for _answer_name, (_answer, _parse) in _VALID_ANSWERS.items():
    for _run_name, _inserted in _INSERTED_RUNS.items():
        for _at_line in (False, True):
            _where = "after the first line" if _at_line else "in the middle"
            CASES[f"{_answer_name} with a run of {_run_name} {_where}"] = Case(
                _parse, _stretched(_answer, _inserted, _at_line)
            )


def _run(parse: Callable[[bytes], object], body: bytes) -> None:
    # A typed error is a fine answer to hostile input; its cost is what counts.
    with contextlib.suppress(NvrError):
        parse(body)


def _best_time(parse: Callable[[bytes], object], body: bytes, repeat: int) -> float:
    best = float("inf")
    for _ in range(_ROUNDS):
        start = time.process_time()
        for _ in range(repeat):
            _run(parse, body)
        best = min(best, time.process_time() - start)
    return best


def _repeat_for(parse: Callable[[bytes], object], body: bytes) -> int:
    """How many calls make a round of about ``_ROUND_SECONDS``."""
    repeat = 1
    while True:
        start = time.process_time()
        for _ in range(repeat):
            _run(parse, body)
        if time.process_time() - start >= _ROUND_SECONDS:
            return repeat
        repeat *= 2


@pytest.mark.parametrize("name", CASES)
def test_parser_time_is_linear(name: str) -> None:
    """t(10 n) / t(n) stays near 10 for the case's adversarial input."""
    case = CASES[name]
    small, large = case.make(case.n), case.make(10 * case.n)
    gc.collect()
    gc.disable()
    try:
        repeat = _repeat_for(case.parse, small)
        ratio = _best_time(case.parse, large, repeat) / _best_time(case.parse, small, repeat)
    finally:
        gc.enable()
    assert ratio < MAX_RATIO, f"{name}: t(10n)/t(n) = {ratio:.1f}"
