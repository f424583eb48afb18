"""Fuzz every parser of recorder answers with a large budget (the suite runs a small one).

Run: .venv/bin/python -m benchmarks.fuzz_parsers [examples per target, default 5000]

The same strategies as the suite (``tests/api/test_parser_properties.py``,
``tests/integration/test_log_tracking.py``), many more examples: whatever the
bytes, only the client's typed errors (``NvrError``) may escape; the log tracker
fires every entry exactly once whatever the polls show. Prints, per target, the
examples run and the time taken; exits non-zero with hypothesis's report when a
property fails.
"""

from __future__ import annotations

from collections.abc import Callable
import sys
import time

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.ipro_nvr.api.download import parse_file_name, sanitize_file_name
from custom_components.ipro_nvr.api.errors import NvrError
from custom_components.ipro_nvr.api.media.multipart import MultipartReader
from tests.api.test_parser_properties import _only_malformed_escapes, mutated
from tests.integration.test_log_tracking import (
    recorder_histories,
    test_every_entry_fires_once_whatever_the_polls_show as tracker_property,
)


def _targets(examples: int) -> dict[str, Callable[[], None]]:
    budget = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )

    @budget
    @given(st.binary(max_size=8192))
    def arbitrary_bytes(body: bytes) -> None:
        _only_malformed_escapes(body)

    @budget
    @given(mutated())
    def mutated_answers(body: bytes) -> None:
        _only_malformed_escapes(body)

    @budget
    @given(st.text(max_size=512))
    def file_names(value: str) -> None:
        assert isinstance(sanitize_file_name(parse_file_name(value)), str)

    @budget
    @given(st.lists(st.binary(max_size=512), max_size=12))
    def multipart_chunks(chunks: list[bytes]) -> None:
        reader = MultipartReader(max_part_size=4096, max_header_size=256)
        try:
            for chunk in chunks:
                reader.feed(chunk)
            reader.finish()
        except NvrError:
            pass

    inner = tracker_property.hypothesis.inner_test  # type: ignore[attr-defined]

    @budget
    @given(recorder_histories(), st.integers(3, 12))
    def log_tracker(steps: list[tuple[str, object]], capacity: int) -> None:
        inner(steps, capacity)

    return {
        "text parsers, arbitrary bytes": arbitrary_bytes,
        "text parsers, mutated valid answers": mutated_answers,
        "download file names": file_names,
        "multipart reader, arbitrary chunks": multipart_chunks,
        "log tracker, any polls and restarts": log_tracker,
    }


def main() -> None:
    """Run every target with the budget from the command line; print the figures."""
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    failed = False
    for name, target in _targets(examples).items():
        start = time.perf_counter()
        try:
            target()
        except Exception as err:  # noqa: BLE001 - report every failing property
            failed = True
            outcome = f"FAILED: {type(err).__name__}: {err}"
        else:
            outcome = "ok"
        print(f"{name:40s} {examples:6d} examples {time.perf_counter() - start:7.1f} s  {outcome}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
