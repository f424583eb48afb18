"""``scripts/develop`` brings up a Home Assistant whose frontend loads on a fresh machine.

The frontend shows nothing but "Loading data" until ``get_services`` answers, and
Home Assistant reads service descriptions by importing base components (conversation,
assist_pipeline, tts, ...) whose packages only scripts/setup installs (from the
manifests, through scripts/demo_requirements.py). So this starts the demo as a person
does, with a fresh configuration and ``--skip-pip`` (a package the requirements script
forgot is an import error here, not a silent install), onboards it through the API and
asks for what the frontend asks first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
import re
import subprocess
import sys

import aiohttp
import pytest

from e2e import hass_api
from e2e.demo import REPO, Demo

# scripts/develop runs Home Assistant from the checkout's .venv (scripts/setup makes it):
# under another interpreter (scripts/test-newest's root) it would rebuild that venv.
pytestmark = pytest.mark.skipif(
    Path(sys.prefix).resolve() != (REPO / ".venv").resolve(),
    reason="the demo runs in the checkout's .venv, not in this interpreter's environment",
)

# Home Assistant takes 20-60 s to start on a busy two-core machine.
START_TIMEOUT = 240
MISSING_PACKAGE = re.compile(r"ModuleNotFoundError|No module named|Requirements for \S+ not found")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """scripts/develop on free ports with a fresh configuration folder, Home Assistant up."""
    running = Demo(tmp_path / "config", cameras=2, hass_args=("--skip-pip",))
    with running:
        running.wait_until_up(START_TIMEOUT)
        yield running


def test_requirements_come_from_the_manifests() -> None:
    """The list holds the packages the frontend's service descriptions import."""
    listed = subprocess.run(  # noqa: S603
        [sys.executable, str(REPO / "scripts" / "demo_requirements.py"), "--all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    names = {req.split("==", 1)[0].lower() for req in listed}
    # conversation, assist_pipeline, tts and ffmpeg (through the base components),
    # the frontend, and what onboarding sets up (met, google_translate).
    assert {
        "hassil",
        "home-assistant-intents",
        "pymicro-vad",
        "mutagen",
        "ha-ffmpeg",
        "home-assistant-frontend",
        "pymetno",
        "gtts",
    } <= names
    # Each one pinned as its manifest pins it, for pip to install exactly that.
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==\S+", req) for req in listed), listed


@pytest.mark.timeout(START_TIMEOUT + 120)
async def test_frontend_loads_after_onboarding(demo: Demo) -> None:
    """After onboarding, get_services and get_panels answer: the frontend gets past loading."""
    async with aiohttp.ClientSession() as session:
        tokens = await hass_api.onboard(session, demo.url)
        async with session.get(f"{demo.url}/api/onboarding") as answer:
            steps = await answer.json()
        assert {step["step"] for step in steps if step["done"]} == set(hass_api.ONBOARDING_STEPS)

        async with hass_api.HassWebsocket(session, demo.url, tokens.access_token) as ws:
            # Onboarding sets up met, google_translate (tts), radio_browser and
            # shopping_list (todo) in the background; todo's service descriptions are
            # the ones that need the base components.
            await _wait_for_components(ws, "todo", "tts")
            services = await ws.call("get_services")
            panels = await ws.call("get_panels")
            repairs = await ws.call("repairs/list_issues")

    assert "turn_on" in services["homeassistant"]
    assert "add_item" in services["todo"]
    assert "speak" in services["tts"]
    assert {"lovelace", "config", "history", "logbook", "media-browser"} <= set(panels)
    # The demo's configuration leaves Home Assistant nothing to ask for (its country):
    # a newcomer's Settings show only what the recorder reports.
    core_repairs = [i["issue_id"] for i in repairs["issues"] if i["domain"] == "homeassistant"]
    assert core_repairs == []
    # Nothing was missing: no import error in Home Assistant's log.
    log = await asyncio.to_thread(demo.hass_log_path.read_text, errors="replace")
    assert not MISSING_PACKAGE.findall(log), "\n".join(
        line for line in log.splitlines() if MISSING_PACKAGE.search(line)
    )


async def _wait_for_components(ws: hass_api.HassWebsocket, *components: str) -> None:
    """Wait until Home Assistant reports the components as set up."""
    async with asyncio.timeout(START_TIMEOUT):
        while True:  # polling: another process sets them up
            config = await ws.call("get_config")
            if set(components) <= set(config["components"]):
                return
            await asyncio.sleep(0.5)
