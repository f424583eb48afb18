"""Camera control through Home Assistant: actions, buttons, preset select, AUX switches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import json
from pathlib import Path
import time
from typing import Any

from aiohttp import web
from homeassistant.components.camera import CameraEntityFeature, async_get_image
from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.helpers.entity_component import DATA_INSTANCES
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol
import yaml

from custom_components import ipro_nvr
from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api import control
from custom_components.ipro_nvr.api.spec import Cgi, Lane
from custom_components.ipro_nvr.button import BUTTONS
from custom_components.ipro_nvr.camera import NvrCamera
from custom_components.ipro_nvr.const import CONF_PRESET_COUNT, CONF_PRESET_NAMES, DOMAIN
from custom_components.ipro_nvr.playback.services import PLAYBACK_SERVICES
from custom_components.ipro_nvr.services import SERVICES
from nvr_simulator import SimulatorConfig
from nvr_simulator.context import CgiContext
from nvr_simulator.handlers import direct_control
from nvr_simulator.ptz import Position, PtzState
from nvr_simulator.server import RunningSimulator
from tests.conftest import assert_paced, fast_pacing, record_sends

CAMERA = "camera.camera_1"
STOP = "CH=1&PAN=0&TILT=0&ZOOM=0&PC=AS60"
# Commands at fifty times the spec's speed (the other integration tests run at twenty):
# every test sets an entry up, whose polls cost commands 3 s apart in the spec.
PACING = fast_pacing(0.06)
# Timed moves re-send their move this often here (1.5 s in production).
REPEAT = 0.1


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """Four cameras (camera 4 disconnected): fewer entities; faster pacing."""
    sim_config.cameras = 4
    sim_config.pacing = PACING
    return sim_config


@pytest.fixture(autouse=True)
def _fast_control(monkeypatch: pytest.MonkeyPatch, _integration_setup: None) -> None:
    # After conftest's _integration_setup, which sets the usual test pacing.
    monkeypatch.setattr(client_factory, "CLIENT_PACING", PACING)
    monkeypatch.setattr(control, "MOVE_REPEAT_INTERVAL", REPEAT)


def _entity_id(hass: HomeAssistant, platform: str, entry: MockConfigEntry, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{key}")
    assert entity_id is not None, key
    return entity_id


@pytest.fixture
async def controls(
    hass: HomeAssistant, simulator: RunningSimulator, config_entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """The entry loaded with camera 1's buttons, select and switches enabled.

    The registry entries are made before the setup, as a user's earlier
    enabling would have left them: no reload needed (that path has its own test).
    """
    config_entry.add_to_hass(hass)
    registry = er.async_get(hass)
    keys = [("button", d.key) for d in BUTTONS] + [("select", "preset")]
    keys += [("switch", f"aux{n}") for n in range(1, 9)]
    for platform, key in keys:
        registry.async_get_or_create(
            platform, DOMAIN, f"{config_entry.entry_id}_1_{key}", config_entry=config_entry
        )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    simulator.journal.clear()
    yield config_entry
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


def _control_queries(simulator: RunningSimulator) -> list[str]:
    """Camera-control queries as they arrived, without the leading UID."""
    return [
        entry.query.removeprefix(f"UID={entry.uid}&")
        for entry in simulator.journal.by_lane(Lane.CAMERA_CONTROL)
    ]


async def _call(hass: HomeAssistant, service: str, entity_id: str = CAMERA, **data: Any) -> None:
    await hass.services.async_call(
        DOMAIN, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


def _ptz(simulator: RunningSimulator, channel: int = 1) -> PtzState:
    return simulator.simulator.ptz_state(channel)


# -- actions --------------------------------------------------------------------


ACTIONS: list[tuple[str, dict[str, Any], str, Callable[[PtzState], bool]]] = [
    ("ptz_move", {"pan": 15, "tilt": 0, "zoom": 0}, "CH=1&PAN=15&TILT=0&ZOOM=0&PC=AS60",
         lambda s: s.position == Position(15, 0, 0)),
        ("ptz_move", {"pan": -200, "tilt": 256, "speed_scale": "256"},
         "CH=1&PAN=-200&TILT=256&PC=AS60", lambda s: s.position == Position(-200, 256, 0)),
        ("ptz_move", {"zoom": -4}, "CH=1&ZOOM=-4&PC=AS60", lambda s: s.zoom_speed == -4),
        ("ptz_stop", {}, STOP, lambda s: s.commands == 1 and s.pan_speed == 0),
        ("ptz_center", {"x": 0, "y": 32}, "CH=1&CMD=CENTERING&CTRL=START&X=0&Y=32&PC=AS60",
         lambda s: s.last_centering == (0, 32) and s.position == Position(16, 16, 0)),
        ("focus", {"command": "far"}, "CH=1&CMD=FOCUS&CTRL=FAR&CTRL=START&PC=AS60",
         lambda s: s.focus == "FAR"),
        ("focus", {"command": "auto"}, "CH=1&CMD=FOCUS&CTRL=AUTO&CTRL=START&PC=AS60",
         lambda s: s.focus == "AUTO"),
        ("iris", {"command": "close"}, "CH=1&CMD=IRIS&CTRL=CLOSE&CTRL=START&PC=AS60",
         lambda s: s.iris == "CLOSE"),
        ("preset_goto", {"preset": 256}, "CH=1&CMD=PRESET&NO=256&PC=AS60",
         lambda s: s.current_preset == 256),
        ("preset_store", {"preset": 1}, "CH=1&CMD=PRESETPRG&NO=1&PC=AS60",
         lambda s: s.presets == {1: Position()}),
        ("aux", {"output": 8, "command": "open"}, "CH=1&CMD=AUX8&CTRL=OPEN&PC=AS60",
         lambda s: s.aux == {8: True}),
]  # fmt: skip


async def test_actions_send_the_spec_url(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Each action sends exactly the spec's URL and the simulated camera follows."""
    for service, data, query, check in ACTIONS:
        simulator.simulator.ptz.clear()
        simulator.journal.clear()
        await _call(hass, service, **data)
        assert _control_queries(simulator) == [query], service
        assert check(_ptz(simulator)), (service, _ptz(simulator))
    assert simulator.journal.violations == []


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("ptz_move", {"pan": 257, "speed_scale": 256}),
    ("ptz_move", {"zoom": 5}),
    ("ptz_move", {"pan": 1.5}),
    ("ptz_move", {}),  # no axis
    ("ptz_move", {"pan": 1, "speed_scale": 32}),
    ("ptz_move", {"pan": 1, "duration": 0}),
    ("ptz_move", {"pan": 1, "duration": 301}),
    ("ptz_move", {"tilt": 17}),  # beyond the default 16-step scale
    ("ptz_center", {"x": 33, "y": 0}),
    ("ptz_center", {"x": 16}),
    ("focus", {"command": "open"}),
    ("iris", {"command": "far"}),
    ("preset_goto", {"preset": 0}),
    ("preset_store", {"preset": 257}),
    ("aux", {"output": 9, "command": "open"}),
    ("aux", {"output": 1, "command": "start"}),
]


async def test_invalid_arguments_are_rejected_before_any_request(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Out-of-range values fail in validation; the recorder never sees a command."""
    accepted = []
    for service, data in INVALID:
        try:
            await _call(hass, service, **data)
        except (vol.Invalid, ServiceValidationError):
            continue
        accepted.append((service, data))
    assert accepted == []
    assert simulator.journal.by_lane(Lane.CAMERA_CONTROL) == []


async def test_speed_beyond_the_scale_is_a_translated_error(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Pan 100 is fine on the 256-step scale, not on the 16-step one; the message says so."""
    with pytest.raises(ServiceValidationError) as caught:
        await _call(hass, "ptz_move", pan=100)
    assert caught.value.translation_key == "speed_out_of_range"
    assert "-16..16" in str(caught.value)
    await _call(hass, "ptz_move", pan=100, speed_scale=256)
    assert _control_queries(simulator) == ["CH=1&PAN=100&PC=AS60"]


async def test_timed_move_repeats_then_stops(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A move with a duration is repeated while it lasts, then always stopped."""
    started = time.monotonic()
    await _call(hass, "ptz_move", pan=-6, tilt=2, duration=0.35)
    elapsed = time.monotonic() - started
    queries = _control_queries(simulator)
    assert queries[-1] == STOP
    assert set(queries[:-1]) == {"CH=1&PAN=-6&TILT=2&PC=AS60"}
    # Re-sent at most every REPEAT seconds while it lasts (fewer on a busy machine).
    assert 2 <= len(queries) - 1 <= 4
    assert elapsed >= 0.35
    assert (_ptz(simulator).pan_speed, _ptz(simulator).tilt_speed) == (0, 0)
    assert simulator.journal.violations == []


async def test_stop_follows_a_timed_move_when_the_recorder_is_busy(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """The move is refused (503): the stop still goes out, and the user reads why."""
    simulator.faults.only = {Cgi.DIRECTCTRL}
    simulator.faults.count = 1
    simulator.faults.busy = True
    with pytest.raises(HomeAssistantError) as caught:
        await _call(hass, "ptz_move", zoom=3, duration=5)
    assert caught.value.translation_key == "recorder_busy"
    assert "busy" in str(caught.value)
    assert _control_queries(simulator) == ["CH=1&ZOOM=3&PC=AS60", STOP]
    assert simulator.faults.applied == 1


async def test_stop_follows_when_a_repeat_fails(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Busy in the middle of a timed move: the hold ends at once with its stop."""

    async def busy_after_two_moves(ctx: CgiContext) -> web.StreamResponse:
        if len(simulator.journal.by_cgi(Cgi.DIRECTCTRL)) == 2:
            simulator.faults.only = {Cgi.DIRECTCTRL}
            simulator.faults.count = 1
            simulator.faults.busy = True
        return await direct_control(ctx)

    simulator.simulator.register(Cgi.DIRECTCTRL, busy_after_two_moves)
    with pytest.raises(HomeAssistantError) as caught:
        await _call(hass, "ptz_move", pan=3, duration=30)
    assert caught.value.translation_key == "recorder_busy"
    move = "CH=1&PAN=3&PC=AS60"
    assert _control_queries(simulator) == [move, move, move, STOP]
    assert _ptz(simulator).pan_speed == 0


async def test_cancelled_action_still_stops(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A script stopped during a timed move: the camera still gets its stop."""
    call = asyncio.create_task(_call(hass, "ptz_move", tilt=-5, duration=30))
    await asyncio.sleep(0.2)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    queries = _control_queries(simulator)
    assert queries[-1] == STOP
    assert set(queries[:-1]) == {"CH=1&TILT=-5&PC=AS60"}


async def test_stop_action_ends_a_timed_move(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Releasing a held dashboard button calls ptz_stop: the move ends, nothing follows."""
    hold = asyncio.create_task(_call(hass, "ptz_move", pan=7, duration=30))
    await asyncio.sleep(0.2)
    await _call(hass, "ptz_stop")
    await hold
    queries = _control_queries(simulator)
    assert queries[-2:] == [STOP, STOP]  # the hold's own stop, then the action's
    assert set(queries[:-2]) == {"CH=1&PAN=7&PC=AS60"}
    await asyncio.sleep(2 * REPEAT)
    assert len(_control_queries(simulator)) == len(queries)


async def test_unloading_stops_a_timed_move(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Unloading the entry during a timed move: the camera stops, the UIDs are released
    (removed: an unload alone keeps them for a next setup)."""
    hold = asyncio.create_task(_call(hass, "ptz_move", pan=2, duration=30))
    await asyncio.sleep(0.2)
    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hold
    assert _control_queries(simulator)[-1] == STOP
    assert simulator.uids.active_count() == 0


async def test_errors_are_translated(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A recorder without camctl says "not supported"; a stopped recorder "cannot connect"."""
    simulator.simulator.unregister(Cgi.CAMCTL)
    with pytest.raises(HomeAssistantError) as caught:
        await _call(hass, "focus", command="near")
    assert caught.value.translation_key == "not_supported"

    simulator.faults.drop_connection = True
    with pytest.raises(HomeAssistantError) as caught:
        await _call(hass, "ptz_stop")
    assert caught.value.translation_key == "cannot_connect"


async def test_disconnected_camera(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Camera 4 is in connection error: its entity is unavailable and gets no commands."""
    assert hass.states.get("camera.camera_4").state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    await _call(hass, "ptz_stop", "camera.camera_4")
    assert simulator.journal.by_lane(Lane.CAMERA_CONTROL) == []
    # Reached directly, the entity explains itself instead of sending anything.
    camera = hass.data[DATA_INSTANCES]["camera"].get_entity("camera.camera_4")
    assert isinstance(camera, NvrCamera)
    with pytest.raises(HomeAssistantError) as caught:
        await camera.async_control(lambda client, channel: client.ptz_stop(channel))
    assert caught.value.translation_key == "camera_disconnected"
    assert simulator.journal.by_lane(Lane.CAMERA_CONTROL) == []


async def test_camera_entity(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """One camera per channel, named after its device, offering a stream."""
    state = hass.states.get(CAMERA)
    assert state is not None
    assert state.state == "idle"
    assert state.attributes["friendly_name"] == "Camera 1"
    assert state.attributes["supported_features"] == CameraEntityFeature.STREAM
    camera = hass.data[DATA_INSTANCES]["camera"].get_entity(CAMERA)
    assert isinstance(camera, NvrCamera)
    assert (await camera.stream_source()).startswith("http://127.0.0.1:")


# -- buttons, select, switches --------------------------------------------------


async def test_controls_start_disabled(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """The recorder cannot tell which cameras have PTZ: every control entity starts disabled."""
    registry = er.async_get(hass)
    controls = [
        item
        for item in er.async_entries_for_config_entry(registry, loaded_entry.entry_id)
        if item.domain in {"button", "select", "switch"}
    ]
    assert len(controls) == 4 * (9 + 1 + 8)  # camera 4 too: it is registered
    assert all(item.disabled_by is er.RegistryEntryDisabler.INTEGRATION for item in controls)


async def test_enabling_a_button_and_pressing_it(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """One click in the entity registry, a reload, and the button works."""
    button = _entity_id(hass, "button", loaded_entry, "2_ptz_right")
    assert hass.states.get(button) is None
    er.async_get(hass).async_update_entity(button, disabled_by=None)
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(button).state == STATE_UNKNOWN  # type: ignore[union-attr]
    simulator.journal.clear()
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: button}, blocking=True)
    assert _control_queries(simulator) == ["CH=2&PAN=8&TILT=0&ZOOM=0&PC=AS60"]
    assert _ptz(simulator, 2).position == Position(8, 0, 0)


BUTTON_QUERIES = {
    "ptz_up": "CH=1&PAN=0&TILT=-8&ZOOM=0&PC=AS60",
    "ptz_down": "CH=1&PAN=0&TILT=8&ZOOM=0&PC=AS60",
    "ptz_left": "CH=1&PAN=-8&TILT=0&ZOOM=0&PC=AS60",
    "ptz_right": "CH=1&PAN=8&TILT=0&ZOOM=0&PC=AS60",
    "zoom_in": "CH=1&PAN=0&TILT=0&ZOOM=2&PC=AS60",
    "zoom_out": "CH=1&PAN=0&TILT=0&ZOOM=-2&PC=AS60",
    "ptz_stop": STOP,
    "focus_auto": "CH=1&CMD=FOCUS&CTRL=AUTO&CTRL=START&PC=AS60",
    "iris_reset": "CH=1&CMD=IRIS&CTRL=RESET&CTRL=START&PC=AS60",
}


async def test_buttons_send_the_spec_urls(
    hass: HomeAssistant, simulator: RunningSimulator, controls: MockConfigEntry
) -> None:
    """Each button sends its command; the simulated camera moves and stops."""
    for key in BUTTON_QUERIES:
        button = _entity_id(hass, "button", controls, f"1_{key}")
        await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: button}, blocking=True)
    assert _control_queries(simulator) == list(BUTTON_QUERIES.values())
    state = _ptz(simulator)
    assert state.position == Position(0, 0, 0)  # up/down and left/right cancel out
    assert (state.focus, state.iris, state.commands) == ("AUTO", "RESET", 9)
    assert simulator.journal.violations == []


async def test_a_burst_of_presses_keeps_order_and_pacing(
    hass: HomeAssistant, simulator: RunningSimulator, controls: MockConfigEntry
) -> None:
    """Twenty presses at once: sent in the order pressed, never closer than the pacing.

    Order and gaps are the client's own: its send order and its turn times (arrivals
    at the simulator share the event loop with Home Assistant and carry its jitter).
    """
    keys = [list(BUTTON_QUERIES)[n % len(BUTTON_QUERIES)] for n in range(20)]
    buttons = [_entity_id(hass, "button", controls, f"1_{key}") for key in keys]
    sends = record_sends(controls.runtime_data.client)
    await asyncio.gather(
        *(
            hass.services.async_call("button", "press", {ATTR_ENTITY_ID: b}, blocking=True)
            for b in buttons
        )
    )
    pressed = [BUTTON_QUERIES[key] for key in keys]
    assert sends.queries(Lane.CAMERA_CONTROL) == pressed
    assert_paced(sends, Lane.CAMERA_CONTROL, PACING)
    assert sorted(_control_queries(simulator)) == sorted(pressed)


async def test_preset_select_moves_the_camera(
    hass: HomeAssistant, simulator: RunningSimulator, controls: MockConfigEntry
) -> None:
    """Choosing a preset sends PRESET; the select remembers only the last choice."""
    select = _entity_id(hass, "select", controls, "1_preset")
    state = hass.states.get(select)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes["options"] == [f"Preset {n}" for n in range(1, 9)]
    await hass.services.async_call(
        "select", "select_option", {ATTR_ENTITY_ID: select, "option": "Preset 3"}, blocking=True
    )
    assert _control_queries(simulator) == ["CH=1&CMD=PRESET&NO=3&PC=AS60"]
    assert _ptz(simulator).current_preset == 3
    assert hass.states.get(select).state == "Preset 3"  # type: ignore[union-attr]
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "select", "select_option", {ATTR_ENTITY_ID: select, "option": "Preset 9"}, blocking=True
        )
    assert len(_control_queries(simulator)) == 1


async def test_preset_count_and_names_come_from_the_options(
    hass: HomeAssistant, simulator: RunningSimulator, controls: MockConfigEntry
) -> None:
    """Options flow: 4 presets, some named; the select offers them and maps them back."""
    result = await hass.config_entries.options.async_init(controls.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "scan_interval": 60,
            "event_scan_interval": 15,
            "channels": ["1", "2", "3", "4"],
            CONF_PRESET_COUNT: 4.0,
            CONF_PRESET_NAMES: "\nGate\n\nGate\nIgnored, beyond the count\n",
        },
    )
    assert controls.options[CONF_PRESET_COUNT] == 4
    await hass.async_block_till_done()  # the options flow reloads the entry
    select = _entity_id(hass, "select", controls, "1_preset")
    state = hass.states.get(select)
    assert state is not None
    assert state.attributes["options"] == ["Preset 1", "Gate", "Preset 3", "Gate (4)"]
    await hass.services.async_call(
        "select", "select_option", {ATTR_ENTITY_ID: select, "option": "Gate (4)"}, blocking=True
    )
    assert _control_queries(simulator)[-1] == "CH=1&CMD=PRESET&NO=4&PC=AS60"


async def test_aux_switches(
    hass: HomeAssistant, simulator: RunningSimulator, controls: MockConfigEntry
) -> None:
    """On closes the output, off opens it; the assumed state also follows the aux action."""
    switch = _entity_id(hass, "switch", controls, "1_aux2")
    state = hass.states.get(switch)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes["assumed_state"] is True
    assert state.attributes["friendly_name"] == "Camera 1 AUX 2"
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True)
    assert hass.states.get(switch).state == STATE_ON  # type: ignore[union-attr]
    assert _ptz(simulator).aux == {2: False}  # closed
    await _call(hass, "aux", output=2, command="open")
    assert hass.states.get(switch).state == STATE_OFF  # type: ignore[union-attr]
    await _call(hass, "aux", output=3, command="close")
    assert hass.states.get(switch).state == STATE_OFF  # type: ignore[union-attr]
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True)
    assert _control_queries(simulator) == [
        "CH=1&CMD=AUX2&CTRL=CLOSE&PC=AS60",
        "CH=1&CMD=AUX2&CTRL=OPEN&PC=AS60",
        "CH=1&CMD=AUX3&CTRL=CLOSE&PC=AS60",
        "CH=1&CMD=AUX2&CTRL=OPEN&PC=AS60",
    ]
    assert _ptz(simulator).aux == {2: True, 3: False}


# -- descriptions -----------------------------------------------------------------


def test_action_descriptions_are_complete() -> None:
    """services.yaml, strings.json, en.json and icons.json describe every action and field."""
    package = Path(ipro_nvr.__file__).parent
    described = yaml.safe_load((package / "services.yaml").read_text())
    strings = json.loads((package / "strings.json").read_text())
    assert json.loads((package / "translations" / "en.json").read_text()) == strings
    icons = json.loads((package / "icons.json").read_text())["services"]
    actions = {**SERVICES, **PLAYBACK_SERVICES}
    assert set(described) == set(actions) == set(strings["services"]) == set(icons)
    for name, description in described.items():
        # Camera control targets cameras; playback targets the playback media players.
        domain = "media_player" if name in PLAYBACK_SERVICES else "camera"
        assert description["target"] == {"entity": {"integration": DOMAIN, "domain": domain}}
        fields = description.get("fields", {})
        texts = strings["services"][name]
        assert texts["name"]
        assert texts["description"]
        assert set(fields) == set(texts.get("fields", {})), name
        for field, spec in fields.items():
            assert texts["fields"][field]["name"]
            assert texts["fields"][field]["description"]
            if key := spec["selector"].get("select", {}).get("translation_key"):
                options = strings["selector"][key]["options"]
                assert set(options) == set(spec["selector"]["select"]["options"])
        schema_fields = {str(key) for key in _schema_keys(actions[name][0])} - _target_keys()
        assert schema_fields == set(fields), name


def _target_keys() -> set[str]:
    """What every entity action accepts besides its own fields (entity_id, area_id...)."""
    probe = cv.make_entity_service_schema({vol.Optional("probe"): int})
    return {str(key) for key in _schema_keys(probe)} - {"probe"}


def _schema_keys(schema: Any) -> set[Any]:
    if isinstance(schema, dict):
        return set(schema)
    if isinstance(schema, vol.All):
        return set().union(*(_schema_keys(v) for v in schema.validators))
    if isinstance(schema, vol.Schema):
        return _schema_keys(schema.schema)
    return set()


async def test_control_goes_on_the_cameras_streaming_uid(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Spec 4.1.1: while camera 1 streams (its JPEG stream, for snapshots), its commands
    go on that stream's UID, not on the command UID."""
    await async_get_image(hass, CAMERA)
    starts = [
        entry
        for entry in simulator.journal.by_cgi(Cgi.PUSH)
        if "CAM=1&" in entry.query and "CMD=START" in entry.query
    ]
    assert starts
    simulator.journal.clear()
    await _call(hass, "ptz_stop")
    await _call(hass, "preset_goto", preset=3)
    sent = simulator.journal.by_lane(Lane.CAMERA_CONTROL)
    assert [entry.uid for entry in sent] == [starts[-1].uid] * 2
    assert _ptz(simulator).current_preset == 3
