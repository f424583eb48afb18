"""The media fuzz tests with a larger budget: ``tests/fuzz`` with more examples each.

Run: .venv/bin/python -m benchmarks.fuzz [--scale N]  (or IPRO_FUZZ_SCALE=N)

Each fuzz test draws ``SUITE_EXAMPLES`` (or its own count) times ``N``
examples (default 10: about 600 per test, about two minutes on a 2-core
machine). Prints each test's time and the outcome; exits non-zero when a
test found something.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pytest

from tests.fuzz.budget import SCALE_VARIABLE, SUITE_EXAMPLES

DEFAULT_SCALE = 10


class _Timer:
    """A pytest plugin that records each fuzz test's duration and outcome."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.rows.append((report.nodeid.split("::")[-1], report.duration, report.outcome))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        type=int,
        default=int(os.environ.get(SCALE_VARIABLE, DEFAULT_SCALE)),
        help=f"multiply every fuzz test's examples ({SUITE_EXAMPLES} in the suite) by this",
    )
    args = parser.parse_args()
    os.environ[SCALE_VARIABLE] = str(args.scale)
    timer = _Timer()
    started = time.perf_counter()
    # hypothesis is imported already (for the budget's names): pytest may not rewrite it.
    quiet = "ignore::pytest.PytestAssertRewriteWarning"
    arguments = ["tests/fuzz", "-q", "-p", "no:randomly", "-o", "timeout=0", "-W", quiet]
    code = pytest.main(arguments, [timer])
    total = time.perf_counter() - started
    print(f"\nFuzzing with {args.scale}x the suite's examples:")
    for name, seconds, outcome in timer.rows:
        print(f"  {name:<72}{seconds:7.1f} s  {outcome}")
    print(f"  {'total':<72}{total:7.1f} s")
    sys.exit(int(code))


if __name__ == "__main__":
    main()
