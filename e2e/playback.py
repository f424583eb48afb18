"""The playback step of the e2e: camera 1's recorder playback on a dashboard view.

A script's controls go through the websocket's ``call_service`` (what an automation,
a script or the developer tools send); a person's through the stock media-control
card's buttons. After each control the picture on the page must change (or stay, for
a pause) and the media player's state, ``operation`` and ``recorded_time`` follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import datetime as dt
import itertools
import time
from typing import TYPE_CHECKING, Any

from . import hass_api

if TYPE_CHECKING:
    from .browser import Run

# How long a control may take to show its picture before the step fails (a control
# waits for its turn in the 3 s pacing, behind polls and keep-alives).
PLAYBACK_WAIT = 45.0
# How far back the goto jumps (the simulator records continuously; minutes back is recorded).
GOTO_BACK = dt.timedelta(minutes=3)
# A pause holds the picture: no new picture for this long once the player says paused.
STILL_WATCH = 2.0
# How long reverse or fast playback is watched for its recorded time to move.
MOVING_WATCH = 4.0


class PlaybackSteps:
    """The controls in order, each timed from the click or call to what the page shows."""

    def __init__(self, run: Run, ws: hass_api.HassWebsocket, camera: str, player: str) -> None:
        self.run_ = run
        self.ws = ws
        self.camera = camera
        self.player = player

    # --- what the page shows ----------------------------------------------------------

    async def picture(self) -> int | None:
        """A hash of the playback camera's picture on the page now."""
        return await self.run_._picture(self.camera)  # noqa: SLF001 - the run's own helper

    async def player_state(self) -> dict[str, Any]:
        """The media player's state object as the frontend holds it."""
        state: dict[str, Any] = (await self.run_.states()).get(self.player, {})
        return state

    async def recorded_time(self) -> dt.datetime | None:
        """The player's ``recorded_time`` attribute (None before any picture)."""
        value = (await self.player_state()).get("attributes", {}).get("recorded_time")
        return dt.datetime.fromisoformat(value) if value else None

    async def described(self) -> str:
        """State, operation, speed step and recorded time, for the table's note."""
        state = await self.player_state()
        attributes = state.get("attributes", {})
        recorded = attributes.get("recorded_time") or "-"
        return (
            f"{state.get('state')} {attributes.get('operation')} "
            f"step {attributes.get('speed_step')} at {recorded[11:23]}"
        )

    async def new_picture(self, before: int | None, started: float) -> float | None:
        """Seconds from ``started`` until the page shows a picture other than ``before``."""

        async def changed() -> bool:
            now = await self.picture()
            return now is not None and now != before

        took = await self.run_.wait_for(changed, limit=PLAYBACK_WAIT, interval=0.05)
        return None if took is None else time.monotonic() - started

    async def until_player(self, check: Callable[[dict[str, Any]], bool]) -> bool:
        """Wait until the player's state passes ``check``."""

        async def passes() -> bool:
            return check(await self.player_state())

        return await self.run_.wait_for(passes, limit=PLAYBACK_WAIT, interval=0.2) is not None

    # --- the controls -------------------------------------------------------------------

    async def script(self, service: str, **data: Any) -> None:
        """Call an ``ipro_nvr`` playback action as a script does (websocket call_service)."""
        await self.ws.call(
            "call_service",
            wait=PLAYBACK_WAIT,
            domain="ipro_nvr",
            service=service,
            target={"entity_id": self.player},
            service_data=data,
        )

    async def script_watched(self, service: str, **data: Any) -> tuple[float | None, float]:
        """Call an action and watch the picture meanwhile (a picture may come before the
        call returns: a step inside the GOP at hand is shown before its command's turn).

        Returns the seconds to a new picture (None: none came) and to the call's return.
        """
        before = await self.picture()
        started = time.monotonic()
        call = asyncio.create_task(self.script(service, **data))
        call.add_done_callback(lambda _: returned.append(time.monotonic() - started))
        returned: list[float] = []
        shown = await self.new_picture(before, started)
        await call
        return shown, returned[0]

    async def card(self, label: str) -> None:
        """Click one of the media-control card's buttons (Play, Pause, Next track, ...)."""
        card = self.run_.page.locator("hui-media-control-card")
        await card.get_by_role("button", name=label, exact=True).first.click()

    def add(self, what: str, seconds: float | None, note: str) -> None:
        """A row of the table: a figure, no target (the issue sets none for these)."""
        self.run_.report.add(what, seconds, note=note)

    def fail(self, what: str) -> None:
        """Something the page or the player did not show."""
        self.run_.report.problems.append(f"playback: {what}")
        print(f"  playback: {what}", flush=True)

    # --- the sequence -------------------------------------------------------------------

    async def run(self) -> None:
        """Goto, pause, steps, play, fast forward, reverse; a screenshot while paused."""
        await self.goto()
        await self.pause()
        await self.step("Next track", forward=True)
        await self.run_.screenshot("e2e-playback.jpg")
        await self.step("Previous track", forward=False)
        await self.script_step()
        await self.play()
        await self.moving("fast forward (script playback_speed)", "playback_speed", "fast_forward")
        await self.moving("reverse (script playback_reverse)", "playback_reverse", "reverse")
        await self.script("playback_stop")

    async def goto(self) -> None:
        """A script jumps to a recorded moment; the picture of that moment comes."""
        moment = dt.datetime.now(dt.UTC).replace(microsecond=0) - GOTO_BACK
        shown, returned = await self.script_watched("playback_goto", time=moment.isoformat())
        self.add(
            "playback goto (script) to its first picture",
            shown,
            f"the call returned after {returned:.1f} s; {await self.described()}",
        )
        if shown is None:
            self.fail("no picture after the goto")

        def at_moment(state: dict[str, Any]) -> bool:
            value = state.get("attributes", {}).get("recorded_time")
            if state.get("state") != "playing" or not value:
                return False
            gap = dt.datetime.fromisoformat(value) - moment
            return dt.timedelta(seconds=-2) <= gap <= dt.timedelta(seconds=60)

        if not await self.until_player(at_moment):
            self.fail(f"the player does not play at {moment:%H:%M:%S}: {await self.described()}")

    async def pause(self) -> None:
        """The card's Pause: the player says paused and the picture holds."""
        started = time.monotonic()
        await self.card("Pause")
        paused = await self.until_player(lambda s: s.get("state") == "paused")
        took = time.monotonic() - started if paused else None
        held = await self.picture()
        await self.run_.page.wait_for_timeout(STILL_WATCH * 1000)
        still = held is not None and await self.picture() == held
        self.add(
            "playback pause (card) to 'paused'",
            took,
            f"{await self.described()}; picture "
            + ("held" if still else "still changing")
            + f" for {STILL_WATCH:.0f} s",
        )
        if not paused or not still:
            self.fail(f"pause: paused={paused}, picture held={still}")

    async def step(self, label: str, *, forward: bool) -> None:
        """The card's Next/Previous track: one picture on, its recorded time one frame on."""
        before_time = await self.recorded_time()
        before = await self.picture()
        started = time.monotonic()
        await self.card(label)
        shown = await self.new_picture(before, started)

        followed = await self.until_player(_moved_from(before_time, forward=forward))
        after = await self.recorded_time()
        gap = (
            f"{(after - before_time).total_seconds() * 1000:+.0f} ms"
            if after and before_time
            else "?"
        )
        self.add(
            f"playback {label.lower()} (card) to a new picture",
            shown,
            f"recorded time {gap}; {await self.described()}",
        )
        if shown is None or not followed:
            self.fail(f"{label}: new picture={shown is not None}, time followed={followed}")

    async def script_step(self) -> None:
        """A script steps 5 pictures backward (``playback_step``)."""
        before_time = await self.recorded_time()
        shown, returned = await self.script_watched("playback_step", direction="backward", count=5)
        # The frontend's copy of the state may come a moment after the call's answer.
        await self.until_player(_moved_from(before_time, forward=False))
        after = await self.recorded_time()
        gap = (
            f"{(after - before_time).total_seconds() * 1000:+.0f} ms"
            if after and before_time
            else "?"
        )
        self.add(
            "playback step 5 backward (script) to a new picture",
            shown,
            f"recorded time {gap}, the call returned after {returned:.1f} s; "
            f"{await self.described()}",
        )
        if shown is None or not (after and before_time and after < before_time):
            self.fail(f"step 5 backward: new picture={shown is not None}, recorded time {gap}")

    async def play(self) -> None:
        """The card's Play: the player says playing and the pictures move again."""
        before = await self.picture()
        started = time.monotonic()
        await self.card("Play")
        shown = await self.new_picture(before, started)
        playing = await self.until_player(
            lambda s: (
                s.get("state") == "playing" and s.get("attributes", {}).get("operation") == "play"
            )
        )
        self.add("playback play (card) to a new picture", shown, await self.described())
        if shown is None or not playing:
            self.fail(f"play: new picture={shown is not None}, playing={playing}")

    async def moving(self, what: str, service: str, operation: str) -> None:
        """Fast forward or reverse by script: the operation and the recorded time's direction."""
        started = time.monotonic()
        data = {"direction": "forward"} if service == "playback_speed" else {}
        call = asyncio.create_task(self.script(service, **data))
        took = (
            time.monotonic() - started
            if await self.until_player(
                lambda s: s.get("attributes", {}).get("operation") == operation
            )
            else None
        )
        await call
        first_time = await self.recorded_time()
        watch_started = time.monotonic()
        pictures = []
        while time.monotonic() - watch_started < MOVING_WATCH:
            pictures.append(await self.picture())
            await asyncio.sleep(0.1)
        last_time = await self.recorded_time()
        changes = sum(1 for a, b in itertools.pairwise(pictures) if a != b)
        changed = changes > 0
        moved = (last_time - first_time).total_seconds() if first_time and last_time else None
        rate = "" if moved is None else f"{moved / (time.monotonic() - watch_started):+.1f}x"
        self.add(
            f"playback {what} to '{operation}'",
            took,
            f"recorded time moved {rate} while watched, the picture changed {changes} times "
            f"in {MOVING_WATCH:.0f} s; {await self.described()}",
        )
        wanted = moved is not None and (moved > 0 if operation == "fast_forward" else moved < 0)
        if took is None or not changed or not wanted:
            self.fail(f"{what}: operation={took is not None}, moving={changed}, time {rate}")


def _moved_from(before: dt.datetime | None, *, forward: bool) -> Callable[[dict[str, Any]], bool]:
    """A check that the player's recorded time moved past ``before`` in that direction."""

    def moved(state: dict[str, Any]) -> bool:
        value = state.get("attributes", {}).get("recorded_time")
        if not value or before is None:
            return False
        now = dt.datetime.fromisoformat(value)
        return now > before if forward else now < before

    return moved
