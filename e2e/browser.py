"""Click through the demo in Debian's headless Chromium (Playwright); time what a person waits for.

Every step starts from what a person does (a click, a submitted form) and stops at what
they see (the frontend's state, a picture in an ``<img>``, a ``<video>`` whose
``currentTime`` moves). Elements live in shadow roots; Playwright's CSS locators pierce
open shadow roots and ``DEEP_QUERY`` walks them in the page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import datetime as dt
import json
from pathlib import Path
import re
import time
from typing import Any

import aiohttp
from playwright.async_api import (
    Browser,
    Error as PlaywrightError,
    Page,
    TimeoutError as PlaywrightTimeoutError,
    WebSocket,
    async_playwright,
)

from . import hass_api
from .demo import SIM_HOST, SIM_USER, Demo
from .playback import PlaybackSteps

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
DASHBOARD_URL = "ipro-cameras"  # a dashboard of its own (url paths need a hyphen)
DASHBOARD_PATH = "cameras"
# How long the dashboard is watched (the target is a picture in every tile within 30 s).
DASHBOARD_WATCH = 60.0
# Once every tile shows a real picture, the robot looks at the dashboard this long, as
# a person glances at it, before it presses a button and clicks a camera. Clicking the
# moment the last tile's picture came, the live view's START waits a whole turn behind
# that tile's START (about 2.9 s; 6.1-6.5 s to a moving picture in runs S and U).
DASHBOARD_GLANCE = 5.0
# How long a live video is watched for stalls once it plays.
LIVE_WATCH = 20.0
# A <video> counts as moving once its currentTime advances between two looks (a live
# HLS stream starts at the live edge, so its first currentTime is not zero).

# (hui-image elements anywhere) -> {entity: {"picture": bool, "real": bool, "broken": bool}}
# "picture": something is shown (maybe the placeholder); "real": a picture of the camera.
TILES_JS = """
() => {
  // The integration's placeholder (placeholder_picture.py): a dark grey frame,
  // RGB (38, 41, 46), with a thin camera outline; a camera's picture is not that.
  const isPlaceholder = (img) => {
    const canvas = document.createElement('canvas');
    canvas.width = 32; canvas.height = 18;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0, 32, 18);
    const pixels = context.getImageData(0, 0, 32, 18).data;
    let grey = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (Math.abs(pixels[i] - 38) + Math.abs(pixels[i + 1] - 41)
          + Math.abs(pixels[i + 2] - 46) < 30) grey++;
    }
    return grey > 0.7 * pixels.length / 4;
  };
  const tiles = {};
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'HUI-IMAGE' && el.shadowRoot) {
        const img = el.shadowRoot.querySelector('img');
        const key = el.entity || el.cameraImage || '?';
        // Loaded but no picture in it: an error answer or an undecodable body.
        const empty = !!img && !!img.getAttribute('src') && img.complete
                      && img.naturalWidth === 0;
        const picture = !!img && img.complete && img.naturalWidth > 0
                        && getComputedStyle(img).display !== 'none';
        tiles[key] = {
          picture: picture,
          real: picture && !isPlaceholder(img),
          broken: !!el.shadowRoot.querySelector('#brokenImage') || empty,
        };
      }
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return tiles;
}
"""
# The <video> elements anywhere -> [{currentTime, readyState, width, paused, error}]
VIDEOS_JS = """
() => {
  const videos = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'VIDEO') {
        videos.push({t: el.currentTime, ready: el.readyState, width: el.videoWidth,
                     paused: el.paused, error: el.error ? el.error.code : null});
      }
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return videos;
}
"""
# What the media browser page shows instead of items: dialogs, alerts, its header.
MEDIA_PAGE_JS = """
() => {
  const found = {dialogs: [], alerts: [], header: null, browsers: 0};
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (tag === 'ha-media-player-browse') found.browsers++;
      if (tag.includes('dialog') && (el.open || el.hasAttribute('open'))) found.dialogs.push(tag);
      if (tag === 'ha-alert') found.alerts.push(el.innerText.trim().slice(0, 200));
      if (tag === 'ha-media-player-browse' && el.shadowRoot) {
        const header = el.shadowRoot.querySelector('.header-info, .header');
        if (header) found.header = header.innerText.trim().slice(0, 200);
      }
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return JSON.stringify(found);
}
"""
STATES_JS = "() => document.querySelector('home-assistant')?.hass?.states ?? {}"
PLAYBACK_PATH = "playback"  # the dashboard's view with camera 1's playback
# The steps after the setup (login, integration, enabled entities, dashboard), in order.
STEPS = ("dashboard", "ptz", "live", "media", "playback")
# The picture an <img> of a camera shows right now (an MJPEG <img> draws its latest
# frame): its size and a hash of its pixels, so any changed picture gives a new hash.
PICTURE_JS = """
(entity) => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'IMG' && (el.getAttribute('src') || '').includes(entity)) found.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const img = found.find((el) => el.complete && el.naturalWidth > 0) || found[0];
  if (!img || !img.naturalWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let hash = 2166136261;
  for (let i = 0; i < pixels.length; i++) {
    hash = Math.imul(hash ^ pixels[i], 16777619) >>> 0;
  }
  return {hash: hash, width: img.naturalWidth, height: img.naturalHeight,
          src: img.getAttribute('src').split('?')[0]};
}
"""


@dataclass
class Row:
    """One line of the timing table."""

    what: str
    seconds: float | None
    target: float | None = None
    note: str = ""
    flag: str = ""  # a verdict the figure alone cannot give (BROKEN)

    @property
    def verdict(self) -> str:
        """ok / SLOW / FAILED against the target (blank without one), or the flag."""
        if self.flag:
            return self.flag
        if self.seconds is None:
            return "FAILED"
        if self.target is None:
            return ""
        return "ok" if self.seconds <= self.target else "SLOW"


@dataclass
class Report:
    """Everything the run measured, and what went wrong."""

    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(
        self,
        what: str,
        seconds: float | None,
        target: float | None = None,
        note: str = "",
        flag: str = "",
    ) -> None:
        """Add a row (and print it at once, for whoever watches the run)."""
        row = Row(what, seconds, target, note, flag)
        self.rows.append(row)
        shown = "-" if seconds is None else f"{seconds:.1f} s"
        print(f"  {what}: {shown} {row.verdict} {note}".rstrip(), flush=True)

    @property
    def missed(self) -> list[Row]:
        """The rows that miss their target (slow, failed or broken)."""
        return [row for row in self.rows if row.verdict not in ("", "ok")]

    def table(self) -> str:
        """The timing table as text."""
        width = max(len(row.what) for row in self.rows)
        lines = [f"{'what':<{width}}  {'seconds':>8}  {'target':>7}  verdict  note"]
        for row in self.rows:
            seconds = "-" if row.seconds is None else f"{row.seconds:8.1f}"
            target = "" if row.target is None else f"<= {row.target:g}"
            lines.append(
                f"{row.what:<{width}}  {seconds:>8}  {target:>7}  {row.verdict:<7}  {row.note}"
            )
        return "\n".join(lines)


class ProxyRequests:
    """The dashboard's ``camera_proxy`` requests: errors apart from the browser's own aborts.

    An error is an answer other than 200 or a request that failed in the network.
    ``net::ERR_ABORTED`` is the browser dropping a request itself (the frontend gave the
    ``<img>`` a new URL before the old one loaded): not an error of the server, but noted,
    and a tile that loads too long turns broken in the frontend, which the tile check sees.
    """

    PATTERN = re.compile(r"/api/camera_proxy/(camera\.[a-z0-9_]+)")

    def __init__(self, started: float) -> None:
        self.started = started
        self.errors: dict[str, int] = {}
        self.aborted: dict[str, int] = {}
        self.log: list[str] = []  # every error and abort, with its timing
        self._sent: dict[Any, float] = {}

    def attach(self, page: Page) -> None:
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def detach(self, page: Page) -> None:
        page.remove_listener("request", self._request)
        page.remove_listener("response", self._response)
        page.remove_listener("requestfailed", self._failed)

    def _camera(self, url: str) -> str | None:
        match = self.PATTERN.search(url)
        return match.group(1) if match else None

    def _note(self, request: Any, camera: str, what: str) -> None:
        now = time.monotonic()
        sent = self._sent.pop(request, None)
        took = "" if sent is None else f", {now - sent:.1f} s after it was sent"
        size = re.search(r"width=(\d+)&height=(\d+)", request.url)
        shape = f" {size.group(1)}x{size.group(2)}" if size else ""
        self.log.append(f"{now - self.started:5.1f} s {camera}{shape}: {what}{took}")

    def _request(self, request: Any) -> None:
        if self._camera(request.url):
            self._sent[request] = time.monotonic()

    def _response(self, answer: Any) -> None:
        camera = self._camera(answer.url)
        if camera is None:
            return
        if answer.status != 200:
            self.errors[camera] = self.errors.get(camera, 0) + 1
            self._note(answer.request, camera, f"HTTP {answer.status}")
        else:
            self._sent.pop(answer.request, None)

    def _failed(self, request: Any) -> None:
        camera = self._camera(request.url)
        if camera is None:
            return
        failure = str(request.failure or "failed")
        if "ERR_ABORTED" in failure:
            self.aborted[camera] = self.aborted.get(camera, 0) + 1
        else:
            self.errors[camera] = self.errors.get(camera, 0) + 1
        self._note(request, camera, failure)


class Run:
    """One end-to-end run against a started, onboarded demo."""

    def __init__(
        self, demo: Demo, tokens: hass_api.Tokens, screenshots: Path, report: Report
    ) -> None:
        self.demo = demo
        self.tokens = tokens
        self.screenshots = screenshots
        self.report = report
        self.page: Page
        self.cameras: list[str] = []
        self.connected: list[str] = []
        self.ptz_button: str | None = None
        self.playback_camera: str | None = None
        self.playback_player: str | None = None
        self._service_calls: dict[int, float] = {}
        self._service_results: dict[int, tuple[float, bool]] = {}

    # --- helpers -----------------------------------------------------------------

    async def states(self) -> dict[str, Any]:
        """The entity states the frontend holds right now."""
        states: dict[str, Any] = await self.page.evaluate(STATES_JS)
        return states

    async def wait_for(
        self, check: Callable[[], Awaitable[bool]], limit: float, interval: float = 0.1
    ) -> float | None:
        """Poll ``check`` until it is true; return the seconds it took, None after ``limit``."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if await check():
                return time.monotonic() - started
            await asyncio.sleep(interval)
        return None

    async def open_page(self, path: str) -> None:
        """Go to a page of the frontend, as a person types its address.

        A dialog closed just before goes back in the history once it has closed; that
        late navigation can abort ours (``net::ERR_ABORTED``): then go there again.
        """
        for attempt in range(3):
            try:
                await self.page.goto(f"{self.demo.url}{path}")
            except PlaywrightError as err:
                if "ERR_ABORTED" not in str(err) or attempt == 2:
                    raise
                await self.page.wait_for_timeout(1000)
            else:
                return

    async def on_dashboard(self) -> None:
        """Open the cameras' dashboard view unless the page shows it (``--only`` skips steps)."""
        path = f"/{DASHBOARD_URL}/{DASHBOARD_PATH}"
        if not self.page.url.endswith(path):
            await self.open_page(path)

    async def screenshot(self, name: str) -> Path:
        """Save a JPEG of the page under the screenshots folder."""
        path = self.screenshots / name
        await self.page.screenshot(path=str(path), type="jpeg", quality=70)
        print(f"  screenshot {path}", flush=True)
        return path

    def _watch_websocket(self, ws: WebSocket) -> None:
        """Note when the frontend calls a service and when the answer comes back."""

        def sent(payload: str | bytes) -> None:
            for message in _messages(payload):
                if message.get("type") == "call_service":
                    self._service_calls[message["id"]] = time.monotonic()

        def received(payload: str | bytes) -> None:
            for message in _messages(payload):
                if message.get("type") == "result" and message.get("id") in self._service_calls:
                    self._service_results[message["id"]] = (
                        time.monotonic(),
                        bool(message.get("success")),
                    )

        ws.on("framesent", sent)
        ws.on("framereceived", received)

    def _video_moves(self) -> Callable[[], Awaitable[bool]]:
        """A check that is true once some <video>'s currentTime advanced since the last look."""
        last: dict[int, float] = {}

        async def moves() -> bool:
            videos = await self.page.evaluate(VIDEOS_JS)
            advanced = any(
                v["t"] > 0 and 0 < last.get(i, 0.0) < v["t"] and not v["paused"]
                for i, v in enumerate(videos)
            )
            last.clear()
            last.update({i: v["t"] for i, v in enumerate(videos)})
            return advanced

        return moves

    # --- steps -------------------------------------------------------------------

    async def login(self) -> None:
        """Log in through the login form, as a person does."""
        self.page.on("websocket", self._watch_websocket)
        await self.page.goto(f"{self.demo.url}/")
        await self.page.get_by_role("textbox", name="Username").fill(hass_api.USERNAME)
        await self.page.get_by_role("textbox", name="Password").fill(hass_api.PASSWORD)
        await self.page.keyboard.press("Enter")
        await self.page.locator("ha-sidebar").wait_for(timeout=60_000)

    async def add_integration(self) -> None:
        """Settings > Add integration > i-PRO NVR, fill the form, submit; time the result."""
        page = self.page
        await page.goto(f"{self.demo.url}/config/integrations/dashboard")
        await page.get_by_role("button", name="Add integration").click()
        await page.wait_for_timeout(1500)  # the search field takes the focus
        await page.keyboard.type("i-PRO")
        await page.get_by_text("i-PRO NVR", exact=True).first.click()
        await page.get_by_role("textbox", name="Host").fill(SIM_HOST)
        await page.get_by_role("spinbutton", name="Port").fill(str(self.demo.sim_port))
        await page.get_by_role("textbox", name="Username").fill(SIM_USER)
        await page.get_by_role("textbox", name="Password").fill(self.demo.sim_password)
        started = time.monotonic()
        await page.get_by_role("button", name="Submit").click()

        async def cameras_visible() -> bool:
            states = await self.states()
            cams = [e for e in states if e.startswith("camera.")]
            return len(cams) >= self.demo.cameras

        done = page.get_by_text(re.compile("Devices created|Success"))
        await done.first.wait_for(timeout=180_000)
        dialog = time.monotonic() - started
        visible = await self.wait_for(cameras_visible, limit=120)
        entities = None if visible is None else time.monotonic() - started
        self.report.add("integration set up (dialog 'Devices created')", dialog)
        self.report.add("  ... and its camera entities in the frontend", entities, 10)
        await page.get_by_role("button", name=re.compile("finish", re.IGNORECASE)).first.click()

        states = await self.states()
        self.cameras = sorted((e for e in states if e.startswith("camera.")), key=_natural)

    async def enable_entities(self, ws: hass_api.HassWebsocket) -> None:
        """Enable camera 1's *Pan left* button and playback camera (both disabled by default).

        Both at once: Home Assistant reloads the entry once, about 30 s after the last
        change. Then wait until the reloaded entry's entities are back.
        """
        entries = await ws.call("config/entity_registry/list")
        first = self.cameras[0].split(".", 1)[1]
        ours = [e for e in entries if e["platform"] == "ipro_nvr"]
        buttons = [
            e["entity_id"]
            for e in ours
            if e["entity_id"].startswith(f"button.{first}_") and "pan_left" in e["entity_id"]
        ]
        players = [
            e["entity_id"]
            for e in ours
            if e["entity_id"].startswith(f"media_player.{first}_")
            and e["entity_id"].endswith("_playback")
        ]
        playback_cameras = [
            e["entity_id"]
            for e in ours
            if e["entity_id"].startswith(f"camera.{first}_")
            and e["entity_id"].endswith("_playback")
        ]
        if buttons:
            self.ptz_button = buttons[0]
        else:
            self.report.problems.append("no Pan left button for the first camera")
        if players and playback_cameras:
            self.playback_player, self.playback_camera = players[0], playback_cameras[0]
        else:
            self.report.problems.append("no playback media player or camera for the first camera")
        enable = [e for e in (self.ptz_button, self.playback_camera) if e]
        delay = 0.0
        for entity in enable:
            answer = await ws.call(
                "config/entity_registry/update", entity_id=entity, disabled_by=None
            )
            delay = max(delay, float(answer.get("reload_delay") or 0))
        if not enable:
            return
        print(f"  enabled {', '.join(enable)}; Home Assistant reloads the entry in {delay:.0f} s")

        async def all_there() -> bool:
            states = await self.states()
            cams_back = all(
                states.get(c, {}).get("state") not in (None, "unavailable")
                for c in self.cameras
                if c in self.connected or not self.connected
            )
            return cams_back and all(
                states.get(e, {}).get("state") not in (None, "unavailable") for e in enable
            )

        took = await self.wait_for(all_there, limit=delay + 120, interval=0.5)
        if took is None:
            self.report.problems.append(f"{', '.join(enable)} never became available")

    async def save_dashboard(self, ws: hass_api.HassWebsocket) -> None:
        """A dashboard view with every camera's picture and the PTZ button."""
        tiles = [
            {"type": "picture-entity", "entity": camera, "camera_view": "auto"}
            for camera in self.cameras
        ]
        grid = {"type": "grid", "columns": 4, "square": False, "cards": tiles}
        cards: list[dict[str, Any]] = [grid]
        if self.ptz_button:
            cards.append(
                {
                    "type": "tile",
                    "entity": self.ptz_button,
                    "name": "Pan left",
                    "tap_action": {
                        "action": "perform-action",
                        "perform_action": "button.press",
                        "target": {"entity_id": self.ptz_button},
                    },
                }
            )
        views: list[dict[str, Any]] = [
            {
                "title": "Cameras",
                "path": DASHBOARD_PATH,
                "type": "panel",
                "cards": [{"type": "vertical-stack", "cards": cards}],
            }
        ]
        if self.playback_camera and self.playback_player:
            # The README's Playback card: the picture (MJPEG) above the stock controls.
            playback = [
                {
                    "type": "picture-entity",
                    "entity": self.playback_camera,
                    "camera_view": "live",
                    "show_state": False,
                },
                {"type": "media-control", "entity": self.playback_player},
            ]
            views.append(
                {
                    "title": "Playback",
                    "path": PLAYBACK_PATH,
                    "cards": [{"type": "vertical-stack", "cards": playback}],
                }
            )
        config = {"title": "i-PRO NVR demo", "views": views}
        await ws.call(
            "lovelace/dashboards/create",
            url_path=DASHBOARD_URL,
            title="Cameras",
            icon="mdi:cctv",
            show_in_sidebar=True,
            require_admin=False,
            mode="storage",
        )
        await ws.call("lovelace/config/save", url_path=DASHBOARD_URL, config=config)

    async def dashboard(self) -> None:
        """Open the dashboard; time each tile's first real picture; note any broken tile."""
        states = await self.states()
        self.connected = [
            c for c in self.cameras if states.get(c, {}).get("state") != "unavailable"
        ]
        first_shown: dict[str, float] = {}  # a picture or the placeholder
        first_picture: dict[str, float] = {}  # a real picture of the camera
        broken: set[str] = set()
        started = time.monotonic()
        proxy = ProxyRequests(started)
        proxy.attach(self.page)
        await self.page.goto(f"{self.demo.url}/{DASHBOARD_URL}/{DASHBOARD_PATH}")
        while time.monotonic() - started < DASHBOARD_WATCH:
            tiles = await self.page.evaluate(TILES_JS)
            now = time.monotonic() - started
            for entity, tile in tiles.items():
                if tile["picture"] and entity not in first_shown:
                    first_shown[entity] = now
                if tile["real"] and entity not in first_picture:
                    first_picture[entity] = now
                if tile["broken"]:
                    broken.add(entity)
            if set(self.connected) <= set(first_picture) and now > max(
                10, max(first_picture.values()) + DASHBOARD_GLANCE
            ):
                break
            await asyncio.sleep(0.25)
        proxy.detach(self.page)
        for line in proxy.log:
            print(f"    {line}", flush=True)

        for camera in self.cameras:
            errors = proxy.errors.get(camera, 0)
            if camera not in self.connected:
                # The target: the tile says the camera is unavailable.
                states = await self.states()
                unavailable = states.get(camera, {}).get("state") == "unavailable"
                picture = "broken-image placeholder" if camera in broken else "no picture"
                self.report.add(
                    f"dashboard tile {camera} (disconnected)",
                    None,
                    note=f"says Unavailable, {picture}, {errors} proxy errors"
                    if unavailable
                    else "does not say Unavailable",
                    flag="ok" if unavailable else "FAILED",
                )
                continue
            notes = []
            if camera in first_shown:
                notes.append(f"something shown after {first_shown[camera]:.1f} s")
            if errors:
                notes.append(f"{errors} proxy errors")
            if aborted := proxy.aborted.get(camera, 0):
                # The frontend replaced the picture's URL before it loaded (not an error).
                notes.append(f"{aborted} requests aborted by the browser")
            self.report.add(
                f"dashboard tile {camera}: first real picture",
                first_picture.get(camera),
                30,
                ", ".join(notes),
                flag="BROKEN" if camera in broken else "",
            )
        shown = max((first_shown.get(c, float("inf")) for c in self.connected), default=None)
        self.report.add(
            "dashboard: something shown in every connected tile",
            None if shown in (None, float("inf")) else shown,
            note="the last good picture or the placeholder",
        )
        worst = max((first_picture.get(c, float("inf")) for c in self.connected), default=None)
        broken_connected = sorted(broken & set(self.connected))
        self.report.add(
            "dashboard: a real picture in every connected tile",
            None if worst in (None, float("inf")) else worst,
            30,
            f"tiles ever broken: {len(broken_connected)} of {len(self.connected)}",
            flag="BROKEN" if broken_connected else "",
        )
        await self.screenshot("e2e-dashboard.jpg")

    async def press_ptz(self) -> None:
        """Press the dashboard's Pan left button; time the service call's round trip."""
        if not self.ptz_button:
            self.report.add("PTZ button press round trip", None, note="no button")
            return
        await self.on_dashboard()
        before = set(self._service_calls)
        started = time.monotonic()
        await self.page.locator("hui-tile-card", has_text="Pan left").first.click()

        async def answered() -> bool:
            return any(i in self._service_results for i in set(self._service_calls) - before)

        answer = await self.wait_for(answered, limit=30)
        took = None if answer is None else time.monotonic() - started
        ok = all(
            self._service_results[i][1]
            for i in set(self._service_calls) - before
            if i in self._service_results
        )
        self.report.add(
            "PTZ button press round trip",
            took if ok else None,
            note="" if ok else "service call failed",
        )
        del started

    async def live_view(self) -> None:
        """Click a tile, wait for its live video to move; note stalls while watching it."""
        camera = self.connected[0] if self.connected else self.cameras[0]
        await self.on_dashboard()
        started = time.monotonic()
        _clicked()
        await self.page.locator("hui-picture-entity-card").nth(self.cameras.index(camera)).click()

        first = await self.wait_for(self._video_moves(), limit=90, interval=0.1)
        self.report.add(f"live view {camera}: cold camera to moving picture", first, 6)
        if first is None:
            await self.screenshot("e2e-live-view.jpg")
            self.report.problems.append(f"live video of {camera} never moved")
            return
        # Watch it: the longest time currentTime did not advance.
        longest, last_t, last_change = 0.0, -1.0, time.monotonic()
        watch_end = time.monotonic() + LIVE_WATCH
        shot = False
        while time.monotonic() < watch_end:
            videos = await self.page.evaluate(VIDEOS_JS)
            t = max((v["t"] for v in videos), default=0.0)
            now = time.monotonic()
            if t != last_t:
                last_t, last_change = t, now
            longest = max(longest, now - last_change)
            if not shot and now - started > first + 3:
                await self.screenshot("e2e-live-view.jpg")
                shot = True
            await asyncio.sleep(0.2)
        self.report.add(f"live view {camera}: longest freeze in {LIVE_WATCH:.0f} s", longest)
        await self._close_player()  # the more-info dialog, and its navigation back

    async def media(self) -> None:
        """Media > i-PRO NVR > recorder > camera > day > hour > clip; then an event clip."""
        await self.open_page("/media-browser/browser")
        await self._open("i-PRO NVR")
        await self._open_first_card()  # the recorder
        await self._open("Camera 2")
        await self._open_first_card(skip=("Events",))  # newest day
        await self._open_first_card()  # newest hour
        await self.screenshot("e2e-media-browser.jpg")
        clip = await self._first_card_title()
        first = await self._play_first_card()
        self.report.add(f"recording clip '{clip}' first play", first, 6)
        await self._close_player()
        again = await self._play_first_card()
        self.report.add("  ... same clip again (from the cache)", again, 1)
        await self._close_player()
        await self.open_page("/media-browser/browser")
        await self._open("i-PRO NVR")
        await self._open_first_card()
        await self._open("Camera 2")
        await self._open("Events")
        event = await self._first_card_title()
        took = await self._play_first_card()
        self.report.add(f"event clip '{event}' first play", took, 6)
        await self._close_player()

    async def playback(self) -> None:
        """Camera 1's playback on its dashboard view: a script's goto, the card's controls.

        As a person does it: the view shows the playback camera (MJPEG) above the stock
        media-control card. A script (the websocket's ``call_service``, as an automation
        or the developer tools call it) jumps to a recorded time; the card pauses, steps
        a picture forwards and backwards and plays; scripts fast-forward and reverse.
        After each, the picture on the page must change and the media player's state and
        recorded time follow.
        """
        if not (self.playback_camera and self.playback_player):
            raise RuntimeError("no playback camera and media player to show")
        camera, player = self.playback_camera, self.playback_player
        started = time.monotonic()
        await self.open_page(f"/{DASHBOARD_URL}/{PLAYBACK_PATH}")

        async def any_picture() -> bool:
            return await self._picture(camera) is not None

        shown = await self.wait_for(any_picture, limit=30)
        self.report.add(
            "playback view: first picture (idle: the placeholder)",
            None if shown is None else time.monotonic() - started,
        )
        if shown is None:
            raise RuntimeError(f"{camera} shows no picture on the playback view")
        async with (
            aiohttp.ClientSession() as session,
            hass_api.HassWebsocket(session, self.demo.url, self.tokens.access_token) as ws,
        ):
            steps = PlaybackSteps(self, ws, camera, player)
            await steps.run()

    async def _picture(self, camera: str) -> int | None:
        """A hash of the picture the camera's <img> shows now (None: no picture yet)."""
        found = await self.page.evaluate(PICTURE_JS, f"/{camera}")
        return None if found is None else int(found["hash"])

    def _items(self) -> Any:
        """The media browser's items (grid cards or list rows) in the current folder."""
        return self.page.locator("ha-media-player-browse").locator(".child, ha-list-item")

    async def _item_title(self, item: Any) -> str:
        """An item's title (a grid card also holds a tooltip with the same text)."""
        title = item.locator(".title")
        text = await (title.first if await title.count() else item).inner_text()
        return " ".join(str(text).split())

    async def _enter(self, item: Any) -> None:
        """Click a folder and wait until the browser shows its content."""
        before = await self._first_card_title()
        await item.click()

        async def changed() -> bool:
            first = self._items().first
            return await first.count() > 0 and await self._item_title(first) != before

        if await self.wait_for(changed, limit=30) is None:
            raise RuntimeError(f"the media browser stayed at {before!r}")

    async def _open(self, title: str) -> None:
        await self._wait_for_items()
        for index in range(await self._items().count()):
            item = self._items().nth(index)
            if await self._item_title(item) == title:
                await self._enter(item)
                return
        raise RuntimeError(f"no {title!r} in the media browser")

    async def _first_card_title(self) -> str:
        await self._wait_for_items()
        return await self._item_title(self._items().first)

    async def _open_first_card(self, skip: tuple[str, ...] = ()) -> None:
        await self._wait_for_items()
        for index in range(await self._items().count()):
            item = self._items().nth(index)
            if await self._item_title(item) not in skip:
                await self._enter(item)
                return
        raise RuntimeError("no item to open")

    async def _play_first_card(self) -> float | None:
        started = time.monotonic()
        _clicked()
        await self._items().first.click()

        took = await self.wait_for(self._video_moves(), limit=90)
        return None if took is None else time.monotonic() - started

    async def _wait_for_items(self) -> None:
        """Wait for the media browser's items; if none come, say what the page shows."""
        try:
            await self._items().first.wait_for(timeout=30_000)
        except PlaywrightTimeoutError:
            shown = await self.page.evaluate(MEDIA_PAGE_JS)
            raise RuntimeError(
                f"no items in the media browser within 30 s at {self.page.url}: {shown}"
            ) from None

    async def _close_player(self) -> None:
        """Close the player dialog (Escape) and wait until its video is gone."""
        for _ in range(3):
            await self.page.keyboard.press("Escape")

            async def closed() -> bool:
                return not await self.page.evaluate(VIDEOS_JS)

            if await self.wait_for(closed, limit=5) is not None:
                await self.page.wait_for_timeout(300)  # the dialog's closing animation
                return
        print("  note: a <video> is still on the page after three Escapes", flush=True)

    # --- the whole run ---------------------------------------------------------------

    def steps(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """The steps after the setup, in order, by the names ``--only`` takes."""
        return {
            "dashboard": self.dashboard,
            "ptz": self.press_ptz,
            "live": self.live_view,
            "media": self.media,
            "playback": self.playback,
        }

    async def run(self, browser: Browser, only: tuple[str, ...] = ()) -> None:
        """The setup, then every step (or those in ``only``) in order.

        A failed step is a problem in the report, the rest go on.
        """
        self.page = await browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        await self.login()
        await self.add_integration()

        async with (
            aiohttp.ClientSession() as session,
            hass_api.HassWebsocket(session, self.demo.url, self.tokens.access_token) as ws,
        ):
            states = await self.states()
            self.connected = [
                c for c in self.cameras if states.get(c, {}).get("state") != "unavailable"
            ]
            await self.enable_entities(ws)
            await self.save_dashboard(ws)
        steps = self.steps()
        chosen = [steps[name] for name in STEPS if not only or name in only]
        for step in chosen:
            try:
                await step()
            except Exception as err:  # noqa: BLE001 - one failed step must not hide the others
                self.report.problems.append(f"{step.__name__}: {err}")
                print(f"  {step.__name__} FAILED: {err}", flush=True)
                await self.screenshot(f"e2e-failed-{step.__name__}.jpg")


def _clicked() -> None:
    """Say when a timed click starts, in UTC as Home Assistant's log has it (to read
    the recorder commands that came between the click and the picture)."""
    print(f"    clicked at {dt.datetime.now(dt.UTC).strftime('%H:%M:%S.%f')[:-3]} UTC", flush=True)


def _available(entities: list[str], states: dict[str, Any]) -> list[str]:
    return [e for e in entities if states.get(e, {}).get("state") not in (None, "unavailable")]


def _messages(payload: str | bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(payload)
    except ValueError:
        return []
    return [m for m in (data if isinstance(data, list) else [data]) if isinstance(m, dict)]


def _natural(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


async def run_browser(
    demo: Demo,
    tokens: hass_api.Tokens,
    screenshots: Path,
    report: Report,
    only: tuple[str, ...] = (),
) -> None:
    """Launch Debian's Chromium (never a downloaded one) and run every step."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            await Run(demo, tokens, screenshots, report).run(browser, only)
        finally:
            await browser.close()
