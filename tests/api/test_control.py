"""Camera control through NvrClient against the simulator (spec chapter 4)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import time
from typing import Any

from aiohttp import web
import pytest

from custom_components.ipro_nvr.api import (
    AuxAction,
    FocusAction,
    InvalidArgumentError,
    IrisAction,
    NvrClient,
    PtzSteps,
    RecorderBusyError,
    control,
)
from custom_components.ipro_nvr.api.spec import Cgi, Lane
from nvr_simulator.context import CgiContext
from nvr_simulator.handlers import direct_control
from nvr_simulator.ptz import Position
from nvr_simulator.responses import error_response
from nvr_simulator.server import RunningSimulator
from tests.conftest import assert_paced, record_sends

from .conftest import API_PACING, client_for

STOP = "CH=1&PAN=0&TILT=0&ZOOM=0&PC=AS60"
# Test holds re-send their move this often (the real interval is 1.5 s).
REPEAT = 0.1

type Call = Callable[[NvrClient], Awaitable[None]]


@pytest.fixture(autouse=True)
def _fast_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "MOVE_REPEAT_INTERVAL", REPEAT)


def _control_queries(simulator: RunningSimulator) -> list[str]:
    """Camera-control queries in arrival order, with the UID taken off."""
    return [
        entry.query.partition("&")[2]
        for entry in simulator.journal.by_lane(Lane.CAMERA_CONTROL)
        if entry.query.startswith(f"UID={entry.uid}&")
    ]


@pytest.mark.parametrize(
    ("call", "cgi", "query"),
    [
        (lambda c: c.ptz_move(1, pan=15, tilt=0, zoom=0), Cgi.DIRECTCTRL,
         "CH=1&PAN=15&TILT=0&ZOOM=0&PC=AS60"),
        (lambda c: c.ptz_move(1, pan=-256, tilt=256, steps=PtzSteps.STEPS_256), Cgi.DIRECTCTRL,
         "CH=1&PAN=-256&TILT=256&PC=AS60"),
        (lambda c: c.ptz_move(2, zoom=-4), Cgi.DIRECTCTRL, "CH=2&ZOOM=-4&PC=AS60"),
        (lambda c: c.ptz_stop(1), Cgi.DIRECTCTRL, STOP),
        (lambda c: c.center_on(3, 32, 0), Cgi.CAMCTL,
         "CH=3&CMD=CENTERING&CTRL=START&X=32&Y=0&PC=AS60"),
        (lambda c: c.focus(1, FocusAction.FAR), Cgi.CAMCTL,
         "CH=1&CMD=FOCUS&CTRL=FAR&CTRL=START&PC=AS60"),
        (lambda c: c.focus(1, "AUTO"), Cgi.CAMCTL, "CH=1&CMD=FOCUS&CTRL=AUTO&CTRL=START&PC=AS60"),
        (lambda c: c.iris(5, IrisAction.RESET), Cgi.CAMCTL,
         "CH=5&CMD=IRIS&CTRL=RESET&CTRL=START&PC=AS60"),
        (lambda c: c.store_preset(1, 256), Cgi.CAMCTL, "CH=1&CMD=PRESETPRG&NO=256&PC=AS60"),
        (lambda c: c.go_to_preset(1, 1), Cgi.CAMCTL, "CH=1&CMD=PRESET&NO=1&PC=AS60"),
        (lambda c: c.aux(8, 8, AuxAction.CLOSE), Cgi.CAMCTL, "CH=8&CMD=AUX8&CTRL=CLOSE&PC=AS60"),
    ],
)  # fmt: skip
async def test_each_command_sends_the_spec_url(
    simulator: RunningSimulator, client: NvrClient, call: Call, cgi: Cgi, query: str
) -> None:
    """The query reaches the recorder exactly as the spec writes it, UID first."""
    await call(client)
    [entry] = simulator.journal.by_cgi(cgi)
    assert entry.query == f"UID={entry.uid}&{query}"
    assert simulator.journal.violations == []


async def test_commands_change_the_simulated_camera(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Moves, presets, focus, iris, centering and AUX all reach the camera's state."""
    state = simulator.simulator.ptz_state(1)
    await client.ptz_move(1, pan=5, tilt=-3)
    assert (state.pan_speed, state.tilt_speed, state.position) == (5, -3, Position(5, -3, 0))
    await client.store_preset(1, 7)
    await client.ptz_move(1, pan=-16, zoom=4)
    await client.ptz_stop(1)
    assert (state.pan_speed, state.zoom_speed) == (0, 0)
    await client.go_to_preset(1, 7)
    assert (state.position, state.current_preset) == (Position(5, -3, 0), 7)
    await client.focus(1, "NEAR")
    await client.iris(1, "OPEN")
    await client.center_on(1, 0, 32)
    await client.aux(1, 2, "OPEN")
    assert (state.focus, state.iris, state.last_centering) == ("NEAR", "OPEN", (0, 32))
    assert state.aux == {2: True}
    assert simulator.journal.violations == []


async def test_the_spec_sequence_of_chapter_4(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Spec 4.1.1, command by command, on the camera-control lane."""
    for pan, tilt, zoom in ((15, 0, 0), (15, 1, 2), (15, 2, 2), (15, 1, 0)):
        await client.ptz_move(1, pan=pan, tilt=tilt, zoom=zoom)
    await client.ptz_stop(1)
    assert _control_queries(simulator) == [
        "CH=1&PAN=15&TILT=0&ZOOM=0&PC=AS60",
        "CH=1&PAN=15&TILT=1&ZOOM=2&PC=AS60",
        "CH=1&PAN=15&TILT=2&ZOOM=2&PC=AS60",
        "CH=1&PAN=15&TILT=1&ZOOM=0&PC=AS60",
        STOP,
    ]
    assert simulator.simulator.ptz_state(1).position == Position(60, 4, 4)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.ptz_move(1, pan=17),  # 16 steps by default
        lambda c: c.ptz_move(1, tilt=-257, steps=PtzSteps.STEPS_256),
        lambda c: c.ptz_move(1, zoom=5),
        lambda c: c.ptz_move(1),  # no axis at all
        lambda c: c.ptz_move(1, pan=1, steps=32),
        lambda c: c.ptz_move(1, pan=1, duration=0),
        lambda c: c.ptz_move(1, pan=1, duration=float("nan")),
        lambda c: c.ptz_move(1, pan=1, duration=True),
        lambda c: c.ptz_move(0, pan=1),
        lambda c: c.ptz_move(129, pan=1, duration=1),
        lambda c: c.ptz_stop(0),
        lambda c: c.center_on(1, 33, 0),
        lambda c: c.center_on(1, 0, -1),
        lambda c: c.focus(1, "OPEN"),
        lambda c: c.iris(1, "FAR"),
        lambda c: c.store_preset(1, 0),
        lambda c: c.go_to_preset(1, 257),
        lambda c: c.aux(1, 9, "OPEN"),
        lambda c: c.aux(1, 1, "START"),
    ],
)
async def test_invalid_arguments_send_nothing(
    simulator: RunningSimulator, client: NvrClient, call: Call
) -> None:
    """An out-of-range argument is an error, never a request (not even a login)."""
    with pytest.raises(InvalidArgumentError):
        await call(client)
    assert simulator.journal.entries == []


async def test_timed_move_repeats_then_stops(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """A 0.35 s move is re-sent every REPEAT seconds and ends with one stop."""
    started = time.monotonic()
    await client.ptz_move(1, pan=-8, duration=0.35)
    elapsed = time.monotonic() - started
    queries = _control_queries(simulator)
    move = "CH=1&PAN=-8&PC=AS60"
    assert queries[-1] == STOP
    assert set(queries[:-1]) == {move}
    # At most every REPEAT seconds (timers never fire early), at least once again.
    assert 2 <= len(queries) - 1 <= 4
    assert elapsed >= 0.35
    assert simulator.simulator.ptz_state(1).pan_speed == 0
    assert simulator.journal.violations == []


async def test_stop_follows_a_failing_move(simulator: RunningSimulator, client: NvrClient) -> None:
    """The recorder refuses the third move: the hold sends its stop at once, then raises."""

    async def busy_after_this_one(ctx: CgiContext) -> web.StreamResponse:
        if len(simulator.journal.by_cgi(Cgi.DIRECTCTRL)) == 2:
            # Refuse the next directctrl only: the stop after it must get through.
            simulator.faults.only = {Cgi.DIRECTCTRL}
            simulator.faults.count = 1
            simulator.faults.busy = True
        return await direct_control(ctx)

    simulator.simulator.register(Cgi.DIRECTCTRL, busy_after_this_one)
    with pytest.raises(RecorderBusyError):
        await client.ptz_move(1, pan=4, duration=5)
    move = "CH=1&PAN=4&PC=AS60"
    assert _control_queries(simulator) == [move, move, move, STOP]
    assert simulator.faults.applied == 1
    assert simulator.simulator.ptz_state(1).pan_speed == 0
    assert simulator.journal.violations == []


async def test_stop_follows_even_when_the_first_move_fails(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Busy from the very first move: the stop still goes out."""
    simulator.faults.only = {Cgi.DIRECTCTRL}
    simulator.faults.count = 1
    simulator.faults.busy = True
    with pytest.raises(RecorderBusyError):
        await client.ptz_move(1, zoom=2, duration=1)
    assert _control_queries(simulator) == ["CH=1&ZOOM=2&PC=AS60", STOP]


async def test_a_failing_stop_is_reported(simulator: RunningSimulator, client: NvrClient) -> None:
    """The moves went through but the stop was refused: the caller learns of it."""

    async def refuse_stops(ctx: CgiContext) -> web.StreamResponse:
        if ctx.query.get("PAN") == "0":
            return error_response(503, "busy (test)")
        return await direct_control(ctx)

    simulator.simulator.register(Cgi.DIRECTCTRL, refuse_stops)
    with pytest.raises(RecorderBusyError):
        await client.ptz_move(1, pan=1, duration=0.08)
    queries = _control_queries(simulator)
    assert queries[-1] == STOP
    assert set(queries[:-1]) == {"CH=1&PAN=1&PC=AS60"}


async def test_cancelled_timed_move_still_stops(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Cancelling the caller (a script stopped) ends the move with a stop."""
    hold = asyncio.create_task(client.ptz_move(1, tilt=6, duration=10))
    await asyncio.sleep(0.12)
    hold.cancel()
    with pytest.raises(asyncio.CancelledError):
        await hold
    queries = _control_queries(simulator)
    assert queries[-1] == STOP
    assert set(queries[:-1]) == {"CH=1&TILT=6&PC=AS60"}
    assert simulator.simulator.ptz_state(1).tilt_speed == 0


async def test_another_command_ends_a_timed_move_first(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """A preset chosen during a hold goes out after the hold's stop, never before."""
    hold = asyncio.create_task(client.ptz_move(1, pan=3, duration=10))
    await asyncio.sleep(0.08)
    await client.go_to_preset(1, 2)
    await hold  # ended early, without an error
    queries = _control_queries(simulator)
    assert queries[-2:] == [STOP, "CH=1&CMD=PRESET&NO=2&PC=AS60"]
    assert set(queries[:-2]) == {"CH=1&PAN=3&PC=AS60"}
    assert simulator.journal.violations == []


async def test_holds_on_different_cameras_run_side_by_side(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Two cameras, two holds: both run to their end, interleaved, and both stop."""
    # The two share the camera-control lane: about 0.5 s gives each four turns.
    await asyncio.gather(
        client.ptz_move(1, pan=2, duration=0.5), client.ptz_move(2, pan=-2, duration=0.5)
    )
    queries = _control_queries(simulator)
    first, second = "CH=1&PAN=2&PC=AS60", "CH=2&PAN=-2&PC=AS60"
    assert queries.count(STOP) == 1
    assert queries.count(STOP.replace("CH=1", "CH=2")) == 1
    assert queries.count(first) >= 2
    assert queries.count(second) >= 2
    # Side by side: the second camera moved before the first one's hold was over.
    assert queries.index(second) < len(queries) - 1 - queries[::-1].index(first)
    assert simulator.journal.violations == []


async def test_closing_the_client_stops_a_timed_move_before_logging_out(
    simulator: RunningSimulator,
) -> None:
    """Unloading during a hold: the camera gets its stop, then the UID is released."""
    client = client_for(simulator)
    hold = asyncio.create_task(client.ptz_move(1, pan=9, duration=30))
    await asyncio.sleep(0.08)
    await client.close()
    await hold
    cgis = [entry.cgi for entry in simulator.journal.entries]
    assert cgis[-2:] == [Cgi.DIRECTCTRL, Cgi.LOGOUT]
    assert simulator.journal.entries[-2].query.endswith(STOP)
    assert simulator.uids.active_count() == 0


async def test_a_burst_keeps_its_order_and_the_pacing(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Twenty commands at once go out in the order they were given, 0.2 s (scaled) apart.

    Order and gaps are the client's own (the simulator's arrival times share the event
    loop with the client, and a loaded machine shifts single arrivals by tens of ms).
    """
    await client.validate()
    sends = record_sends(client)
    calls: list[Awaitable[Any]] = [
        client.ptz_move(1, pan=n - 10) if n % 2 else client.go_to_preset(1, n + 1)
        for n in range(20)
    ]
    await asyncio.gather(*calls)
    expected = [
        f"CH=1&PAN={n - 10}&PC=AS60" if n % 2 else f"CH=1&CMD=PRESET&NO={n + 1}&PC=AS60"
        for n in range(20)
    ]
    assert sends.queries(Lane.CAMERA_CONTROL) == expected
    assert_paced(sends, Lane.CAMERA_CONTROL, API_PACING)
    # The recorder got each of them once.
    assert sorted(_control_queries(simulator)) == sorted(expected)
