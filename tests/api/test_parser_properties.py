"""Property tests of the parsers: whatever the bytes, only MalformedResponseError escapes.

Besides arbitrary bytes, valid answers are mutated (bytes cut out, inserted,
replaced; lines duplicated; the body truncated), and log lists are generated,
wrapped at random widths and parsed back to the same entries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.ipro_nvr.api import LogKind, MalformedResponseError
from custom_components.ipro_nvr.api.log_events import classify_log_text
from custom_components.ipro_nvr.api.parsers import (
    check_acknowledgement,
    parse_camera_status,
    parse_log_list,
    parse_login,
    parse_recorded_time,
)

from .spec_examples import ERROR_LOG, EVENT_LOG, GETINFO, LOGIN, RECORDEDTIME

PARSERS: dict[str, Callable[[bytes], object]] = {
    "getinfo": parse_camera_status,
    "recordedtime": lambda body: parse_recorded_time(body, zone=timedelta(hours=9)),
    "loglist": parse_log_list,
    "login": parse_login,
    "ack": check_acknowledgement,
}
VALID = [GETINFO, RECORDEDTIME, ERROR_LOG, EVENT_LOG, LOGIN]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_malformed_escapes(body: bytes) -> None:
    for parse in PARSERS.values():
        try:
            parse(body)
        except MalformedResponseError as err:
            snippet = err.snippet
        else:
            continue
        assert len(snippet) <= 200
        assert snippet.isprintable()


@SETTINGS
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(body: bytes) -> None:
    """Random bytes never raise anything but MalformedResponseError."""
    _only_malformed_escapes(body)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["cut", "insert", "replace", "duplicate", "truncate"]))
        if action == "cut":
            del body[position : position + draw(st.integers(1, 12))]
        elif action == "insert":
            body[position:position] = draw(
                st.one_of(
                    st.binary(min_size=1, max_size=8),
                    st.sampled_from([b",", b'"', b"\r\n", b"=", b"-", b"9" * 25, "”".encode()]),
                )
            )
        elif action == "replace" and position < len(body):
            body[position] = draw(st.integers(0, 255))
        elif action == "duplicate":
            lines = bytes(body).split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(index, lines[index])
            body = bytearray(b"\n".join(lines))
        else:
            del body[position:]
    return bytes(body)


@SETTINGS
@given(mutated())
def test_mutated_valid_answers(body: bytes) -> None:
    """Valid answers with a few bytes cut, added or changed: parsed or rejected cleanly."""
    _only_malformed_escapes(body)


ENTRY_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"'),
    max_size=30,
)


@st.composite
def log_entries(draw: st.DrawFn) -> list[tuple[datetime, bool, str, int]]:
    count = draw(st.integers(0, 25))
    return [
        (
            draw(
                # Naive: the recorder's local clock.
                st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))  # noqa: DTZ001
            ).replace(microsecond=0),
            draw(st.booleans()),
            draw(ENTRY_TEXT),
            draw(st.sampled_from([-12 * 60, -210, 0, 60, 330, 540, 14 * 60 - 60])),
        )
        for _ in range(count)
    ]


@SETTINGS
@given(
    log_entries(),
    st.sampled_from(list(LogKind)),
    st.one_of(st.just(0), st.integers(10, 120)),  # the key itself is never broken
    st.booleans(),
    st.sampled_from(["\r\n", "\n"]),
)
def test_generated_log_lists_parse_back(
    entries: list[tuple[datetime, bool, str, int]],
    kind: LogKind,
    wrap: int,
    typographic: bool,
    newline: str,
) -> None:
    """A log list written in the spec's format, wrapped anywhere, gives its entries back."""
    prefix = "ERROR_LOG" if kind is LogKind.ERROR else "EVENT_LOG"
    opening, closing = ("“", "”") if typographic else ('"', '"')
    fields = []
    for number, (local, summer, text, minutes) in enumerate(entries, start=1):
        sign = "-" if minutes < 0 else "+"
        zone = f"GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        values = [f"{number:03d}", f"{local:%Y/%m/%d %H:%M:%S}", str(int(summer)), text, zone]
        fields += [f"{opening}{value}{closing}" for value in values]
    flat = f"{prefix}=" + ",".join(fields)
    lines = [flat[i : i + wrap] for i in range(0, len(flat), wrap)] if wrap else [flat]
    body = newline.join(
        [f"FILENAME=as_{kind.value}log.html", f"{prefix}_NO={len(entries)}", *lines, ""]
    ).encode()

    log = parse_log_list(body, kind=kind)

    assert log.declared_count == len(entries)
    expected = sorted(
        (
            (local - timedelta(minutes=minutes) - timedelta(hours=int(summer))).replace(tzinfo=UTC),
            text.strip(),
        )
        for local, summer, text, minutes in entries
    )
    assert sorted((entry.time, entry.text) for entry in log.entries) == expected
    assert [entry.time for entry in log.entries] == sorted(entry.time for entry in log.entries)


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=200),
        st.from_regex(r"\s*[A-Z]{1,6}\s*\([A-Z ]{0,20}\)?\s*-?\s*\d{0,5}\s*", fullmatch=True),
        st.from_regex(r"\s*CAM(ERA)?\s*\d{0,5}.{0,30}", fullmatch=True),
    )
)
def test_any_log_text_has_a_meaning(text: str) -> None:
    """Whatever a log entry says, it is classified without raising; a camera it names
    is a channel of at most three digits."""
    meaning = classify_log_text.__wrapped__(text)
    assert meaning.channel is None or 0 <= meaning.channel <= 999
    assert meaning.disk is None or meaning.disk.strip() == meaning.disk
