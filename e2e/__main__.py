"""``python -m e2e`` (run by ``scripts/e2e``): the demo in a real browser, timed.

Starts ``scripts/develop`` (simulator with the spec's pacing, Home Assistant) on free
ports with a fresh configuration, onboards it through the API, then drives Debian's
Chromium through the frontend (see ``e2e.browser``), prints a timing table and saves
screenshots. Everything it started is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import shutil
import sys
import tempfile
import time

import aiohttp

from . import hass_api
from .browser import STEPS, Report, run_browser
from .demo import REPO, Demo

START_TIMEOUT = 300


async def _onboard(demo: Demo) -> hass_api.Tokens:
    async with aiohttp.ClientSession() as session:
        return await hass_api.onboard(session, demo.url)


def main(argv: list[str] | None = None) -> int:
    """Run everything; exit 1 if a step failed, 2 if all ran but a figure misses its target."""
    parser = argparse.ArgumentParser(prog="scripts/e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=8, help="simulated cameras (default 8)")
    parser.add_argument(
        "--screenshots", type=Path, default=REPO / "docs", help="folder for the screenshots"
    )
    parser.add_argument("--keep", action="store_true", help="keep the configuration folder")
    parser.add_argument(
        "--only",
        action="append",
        choices=STEPS,
        default=[],
        help="run only this step after the setup (repeatable; default: every step)",
    )
    args = parser.parse_args(argv)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="ipro-nvr-e2e-"))
    demo = Demo(workdir / "config", cameras=args.cameras)
    print(f"e2e: starting scripts/develop in {demo.config_dir}", flush=True)
    demo.start()
    try:
        report.add("Home Assistant start (scripts/develop)", demo.wait_until_up(START_TIMEOUT))
        started = time.monotonic()
        tokens = asyncio.run(_onboard(demo))
        report.add("onboarding through the API", time.monotonic() - started)
        asyncio.run(run_browser(demo, tokens, args.screenshots, report, tuple(args.only)))
    except Exception as err:  # noqa: BLE001 - report it with the figures so far
        report.problems.append(f"{type(err).__name__}: {err}")
    finally:
        report.add("stop (simulator and Home Assistant)", demo.stop(), 5)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            if workdir.exists():  # a late write raced the first removal
                time.sleep(1)
                shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"e2e: kept {workdir}")
    print()
    print(report.table())
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    if report.problems:
        return 1
    if report.missed:
        print(f"e2e: {len(report.missed)} figures miss their targets")
        return 2
    print("e2e: every step ran and every figure meets its target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
