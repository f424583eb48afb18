"""Camera control (spec chapter 4): parameter checks and the per-channel state."""

from __future__ import annotations

import aiohttp
import pytest

from nvr_simulator import SimulatorConfig, run_simulator
from nvr_simulator.ptz import Position
from nvr_simulator.server import RunningSimulator

from .helpers import PASSWORD, USERNAME, get, login


@pytest.fixture
async def uid(client: aiohttp.ClientSession) -> str:
    """A live UID."""
    return await login(client)


async def test_pan_tilt_zoom_moves_and_stops(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str
) -> None:
    base = f"/cgi-bin/directctrl.cgi?UID={uid}&CH=1"
    # The spec's sequence (4.1.1).
    for pan, tilt, zoom in ((15, 0, 0), (15, 1, 2), (15, 2, 2), (15, 1, 0)):
        status, body = await get(client, f"{base}&PAN={pan}&TILT={tilt}&ZOOM={zoom}&PC=AS60")
        assert (status, body) == (200, "<HTML>\r\n</HTML>\r\n")
    state = sim.simulator.ptz_state(1)
    assert (state.pan_speed, state.tilt_speed, state.zoom_speed) == (15, 1, 0)
    assert state.position == Position(pan=60, tilt=4, zoom=4)
    assert (await get(client, f"{base}&PAN=0&TILT=0&ZOOM=0&PC=AS60"))[0] == 200
    assert (state.pan_speed, state.tilt_speed, state.zoom_speed) == (0, 0, 0)
    assert state.commands == 5
    # Other channels are untouched.
    assert sim.simulator.ptz_state(2).position == Position()


async def test_omitted_axes_and_256_steps(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str
) -> None:
    base = f"/cgi-bin/directctrl.cgi?UID={uid}&CH=2"
    assert (await get(client, f"{base}&PAN=-256&PC=AS60"))[0] == 200
    assert (await get(client, f"{base}&ZOOM=-4&PC=AS60"))[0] == 200
    state = sim.simulator.ptz_state(2)
    assert (state.pan_speed, state.tilt_speed, state.zoom_speed) == (0, 0, -4)
    assert state.position == Position(pan=-256, tilt=0, zoom=0)


@pytest.mark.parametrize(
    "params",
    [
        "CH=1&PAN=257&PC=AS60",
        "CH=1&TILT=-257&PC=AS60",
        "CH=1&ZOOM=5&PC=AS60",
        "CH=1&ZOOM=-5&PC=AS60",
        "CH=1&PAN=1.5&PC=AS60",
        "CH=1&PAN=%2B3&PC=AS60",  # "+3"
        "CH=1&PAN=&PC=AS60",
        "CH=1&PAN=1&PAN=2&PC=AS60",
        "CH=1&PAN=1",  # PC=AS60 missing
        "CH=1&PAN=1&PC=AS6",
        "PAN=1&PC=AS60",  # CH missing
        "CH=0&PAN=1&PC=AS60",
        "CH=9&PAN=1&PC=AS60",  # no camera registered on channel 9
        "CH=129&PAN=1&PC=AS60",
    ],
)
async def test_direct_control_rejects_bad_parameters(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str, params: str
) -> None:
    status, body = await get(client, f"/cgi-bin/directctrl.cgi?UID={uid}&{params}")
    assert status == 400
    assert body.startswith("400 Bad Request: ")
    assert sim.simulator.ptz == {}


async def test_sixteen_step_cameras_refuse_256_step_speeds(
    config: SimulatorConfig, socket_enabled: None
) -> None:
    config.pan_tilt_range = 16
    async with (
        run_simulator(config) as sim,
        aiohttp.ClientSession(
            base_url=sim.url, middlewares=(aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD),)
        ) as client,
    ):
        uid = await login(client)
        base = f"/cgi-bin/directctrl.cgi?UID={uid}&CH=1"
        assert (await get(client, f"{base}&PAN=16&TILT=-16&PC=AS60"))[0] == 200
        assert (await get(client, f"{base}&PAN=17&PC=AS60"))[0] == 400


async def test_camera_control_needs_a_live_uid(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    target = "/cgi-bin/camctl.cgi?UID=42&CH=1&CMD=PRESET&NO=1&PC=AS60"
    assert (await get(client, target))[0] == 403
    assert (await get(client, "/cgi-bin/directctrl.cgi?UID=42&CH=1&PAN=1&PC=AS60"))[0] == 403


async def test_focus_and_iris_need_both_ctrl_values(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str
) -> None:
    base = f"/cgi-bin/camctl.cgi?UID={uid}&CH=3"
    state = sim.simulator.ptz_state(3)
    for ctrl in ("FAR", "NEAR", "AUTO"):
        assert (await get(client, f"{base}&CMD=FOCUS&CTRL={ctrl}&CTRL=START&PC=AS60"))[0] == 200
        assert state.focus == ctrl
    for ctrl in ("OPEN", "CLOSE", "RESET"):
        assert (await get(client, f"{base}&CMD=IRIS&CTRL={ctrl}&CTRL=START&PC=AS60"))[0] == 200
        assert state.iris == ctrl
    for bad in (
        "CMD=FOCUS&CTRL=FAR&PC=AS60",  # the second CTRL was lost (a dict-built query)
        "CMD=FOCUS&CTRL=START&PC=AS60",
        "CMD=FOCUS&CTRL=START&CTRL=NEAR&PC=AS60",
        "CMD=FOCUS&CTRL=OPEN&CTRL=START&PC=AS60",
        "CMD=IRIS&CTRL=FAR&CTRL=START&PC=AS60",
        "CMD=IRIS&CTRL=OPEN&CTRL=START",
    ):
        assert (await get(client, f"{base}&{bad}"))[0] == 400, bad
    assert (state.focus, state.iris) == ("AUTO", "RESET")
    # The journal keeps the doubled CTRL exactly as sent.
    assert sim.journal.entries[1].query == f"UID={uid}&CH=3&CMD=FOCUS&CTRL=FAR&CTRL=START&PC=AS60"


async def test_centering(sim: RunningSimulator, client: aiohttp.ClientSession, uid: str) -> None:
    base = f"/cgi-bin/camctl.cgi?UID={uid}&CH=1&CMD=CENTERING"
    assert (await get(client, f"{base}&CTRL=START&X=0&Y=32&PC=AS60"))[0] == 200
    state = sim.simulator.ptz_state(1)
    assert state.last_centering == (0, 32)
    # X grows to the left: the right edge (X=0) pans right; the bottom (Y=32) tilts down.
    assert state.position == Position(pan=16, tilt=16, zoom=0)
    for bad in ("X=33&Y=0", "X=-1&Y=0", "X=16", "Y=16"):
        assert (await get(client, f"{base}&CTRL=START&{bad}&PC=AS60"))[0] == 400, bad
    assert (await get(client, f"{base}&X=1&Y=1&PC=AS60"))[0] == 400  # CTRL=START missing


async def test_presets(sim: RunningSimulator, client: aiohttp.ClientSession, uid: str) -> None:
    move = f"/cgi-bin/directctrl.cgi?UID={uid}&CH=1&PC=AS60"
    camctl = f"/cgi-bin/camctl.cgi?UID={uid}&CH=1&PC=AS60"
    assert (await get(client, f"{move}&PAN=5&TILT=-3"))[0] == 200
    assert (await get(client, f"{camctl}&CMD=PRESETPRG&NO=256"))[0] == 200
    assert (await get(client, f"{move}&PAN=-16&ZOOM=4"))[0] == 200
    state = sim.simulator.ptz_state(1)
    assert state.position == Position(pan=-11, tilt=-3, zoom=4)
    assert (await get(client, f"{camctl}&CMD=PRESET&NO=256"))[0] == 200
    assert state.position == Position(pan=5, tilt=-3, zoom=0)
    assert state.current_preset == 256
    assert state.presets == {256: Position(pan=5, tilt=-3, zoom=0)}
    for bad in ("CMD=PRESET&NO=0", "CMD=PRESETPRG&NO=257", "CMD=PRESET", "CMD=PRESET&NO=x"):
        assert (await get(client, f"{camctl}&{bad}"))[0] == 400, bad


async def test_aux_outputs(sim: RunningSimulator, client: aiohttp.ClientSession, uid: str) -> None:
    base = f"/cgi-bin/camctl.cgi?UID={uid}&CH=2&PC=AS60"
    assert (await get(client, f"{base}&CMD=AUX1&CTRL=OPEN"))[0] == 200
    assert (await get(client, f"{base}&CMD=AUX8&CTRL=OPEN"))[0] == 200
    assert (await get(client, f"{base}&CMD=AUX8&CTRL=CLOSE"))[0] == 200
    assert sim.simulator.ptz_state(2).aux == {1: True, 8: False}
    for bad in ("CMD=AUX9&CTRL=OPEN", "CMD=AUX0&CTRL=OPEN", "CMD=AUX1&CTRL=START", "CMD=AUX1"):
        assert (await get(client, f"{base}&{bad}"))[0] == 400, bad
    assert (await get(client, f"{base}&CMD=ZOOM&CTRL=OPEN"))[0] == 400
    assert (await get(client, f"{base.removesuffix('&PC=AS60')}&CMD=AUX1&CTRL=OPEN"))[0] == 400
