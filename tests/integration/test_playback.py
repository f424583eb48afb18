"""Recorder playback through Home Assistant: media player, playback camera, actions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import datetime as dt
import io
from typing import Any

import av
from homeassistant.components.camera import async_get_image
from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    ATTR_MEDIA_SEEK_POSITION,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    ContainerCodec,
    ParameterSets,
    PlaybackGop,
    PlaybackVideoStats,
    RecorderInfo,
    VideoCodec,
)
from custom_components.ipro_nvr.api.playback import PlaybackFrame
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.const import DOMAIN, EVENT_NVR
from custom_components.ipro_nvr.playback.media_player import content_id_for
from custom_components.ipro_nvr.playback.renderer import PlaybackRenderer
from custom_components.ipro_nvr.playback.services import PLAYBACK_SERVICES
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator
from tests.conftest import fast_pacing

PACING = fast_pacing(0.06)
FRAME = dt.timedelta(milliseconds=100)  # the simulator records 10 pictures per second
TIMEOUT = 20.0


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """Four cameras (camera 4 disconnected), commands at fifty times the spec's speed."""
    sim_config.cameras = 4
    sim_config.pacing = PACING
    return sim_config


@pytest.fixture(autouse=True)
def _fast_pacing(monkeypatch: pytest.MonkeyPatch, _integration_setup: None) -> None:
    monkeypatch.setattr(client_factory, "CLIENT_PACING", PACING)


@pytest.fixture
async def entry(
    hass: HomeAssistant, simulator: RunningSimulator, config_entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """The entry loaded with camera 1's playback camera enabled (disabled by default)."""
    config_entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "camera", DOMAIN, f"{config_entry.entry_id}_1_playback_camera", config_entry=config_entry
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    yield config_entry
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


def _entity_id(hass: HomeAssistant, platform: str, entry: MockConfigEntry, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{key}")
    assert entity_id is not None, key
    return entity_id


def _player(hass: HomeAssistant, entry: MockConfigEntry, channel: int = 1) -> str:
    return _entity_id(hass, "media_player", entry, f"{channel}_playback")


def _past(seconds: float) -> dt.datetime:
    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    return base + dt.timedelta(seconds=seconds)


async def _call(hass: HomeAssistant, service: str, entity_id: str, **data: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        await hass.services.async_call(
            DOMAIN, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
        )


async def _media(hass: HomeAssistant, service: str, entity_id: str, **data: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        await hass.services.async_call(
            "media_player", service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
        )


def _state(hass: HomeAssistant, entity_id: str) -> State:
    state = hass.states.get(entity_id)
    assert state is not None
    return state


def _recorded(state: State) -> dt.datetime:
    value = dt_util.parse_datetime(state.attributes["recorded_time"])
    assert value is not None
    return value


async def _wait_for(hass: HomeAssistant, entity_id: str, **attributes: Any) -> State:
    """Wait until the player reports ``attributes`` (the recorder's next GOP tells)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            state = _state(hass, entity_id)
            if all(state.attributes.get(k) == v for k, v in attributes.items()):
                return state
            await asyncio.sleep(0.05)


async def test_actions_are_registered_for_media_players(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    assert set(PLAYBACK_SERVICES) <= set(hass.services.async_services_for_domain(DOMAIN))


async def test_media_player_follows_the_recorders_state(
    hass: HomeAssistant, simulator: RunningSimulator, entry: MockConfigEntry
) -> None:
    """Goto, play, fast forward, reverse, steps and stop: state and attributes are the
    recorder's (status TLV), the position is the picture's recorded time."""
    player = _player(hass, entry)
    assert _state(hass, player).state == "idle"
    at = _past(10.35)
    await _call(hass, "playback_goto", player, time=at.isoformat(), pause=True)
    state = _state(hass, player)
    assert state.state == "paused"
    shown = _recorded(state)
    assert dt.timedelta(0) <= at - shown < FRAME
    local = dt_util.as_local(shown)
    assert (
        state.attributes["media_position"] == local.hour * 3600 + local.minute * 60 + local.second
    )
    assert state.attributes["media_duration"] == 86_400
    assert state.attributes["operation"] == "pause"

    await _media(hass, "media_next_track", player)
    state = _state(hass, player)
    assert _recorded(state) - shown == FRAME
    assert state.attributes["operation"] == "next_picture"
    await _call(hass, "playback_step", player, direction="backward", count=3)
    state = _state(hass, player)
    assert shown - _recorded(state) == 2 * FRAME
    assert state.state == "paused"

    await _call(hass, "playback_play", player)
    state = await _wait_for(hass, player, operation="play")
    assert state.state == "playing"
    await _call(hass, "playback_speed", player, direction="forward")
    state = await _wait_for(hass, player, operation="fast_forward", speed_step=1)
    assert state.state == "playing"
    await _call(hass, "playback_speed", player, direction="forward")
    await _wait_for(hass, player, operation="fast_forward", speed_step=2)
    await _call(hass, "playback_reverse", player)
    before = _recorded(await _wait_for(hass, player, operation="reverse"))
    for _ in range(400):  # backwards in recorded time, GOP after GOP
        if _recorded(_state(hass, player)) < before:
            break
        await asyncio.sleep(0.05)
    assert _recorded(_state(hass, player)) < before

    await _media(hass, "media_pause", player)
    assert _state(hass, player).state == "paused"
    uids_before_stop = simulator.uids.active_count()
    await _call(hass, "playback_stop", player)
    state = _state(hass, player)
    assert state.state == "idle"
    assert state.attributes["operation"] == "stopped"
    for _ in range(400):  # its UID goes back: the logout waits for its turn
        if simulator.uids.active_count() == uids_before_stop - 1:
            break
        await asyncio.sleep(0.05)
    assert simulator.uids.active_count() == uids_before_stop - 1
    assert simulator.journal.violations == []
    playback = entry.runtime_data.playback.diagnostics()["1"]
    assert playback["mode"] == "stopped"
    assert playback["stats"]["commands"] >= 8


async def test_seek_goes_to_the_time_of_day(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    player = _player(hass, entry)
    await _call(hass, "playback_goto", player, time=_past(20).isoformat(), pause=True)
    start = _recorded(_state(hass, player))
    position = _state(hass, player).attributes["media_position"]
    await _media(hass, "media_seek", player, **{ATTR_MEDIA_SEEK_POSITION: position - 30})
    state = _state(hass, player)
    assert start - _recorded(state) == dt.timedelta(seconds=30)
    assert state.state == "paused"  # a seek while paused stays paused


async def test_playback_camera_shows_the_picture(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> None:
    """The playback camera's still and MJPEG are the pictures the playback shows."""
    player = _player(hass, entry)
    camera = _entity_id(hass, "camera", entry, "1_playback_camera")
    await _call(hass, "playback_goto", player, time=_past(30).isoformat(), pause=True)
    image = await async_get_image(hass, camera)
    with av.open(io.BytesIO(image.content), format="mjpeg") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (320, 180)

    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{camera}")
    try:
        assert response.status == 200
        await _call(hass, "playback_play", player)
        body = bytearray()
        async with asyncio.timeout(TIMEOUT):
            while body.count(b"--frameboundary") < 6:
                body += await response.content.readany()
    finally:
        response.close()
    pictures = [
        part.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")
        for part in bytes(body).split(b"--frameboundary")[1:-1]
    ]
    assert len(pictures) >= 5
    assert len(set(pictures)) >= 3  # it plays: the pictures change
    # The media player's artwork is the picture shown.
    assert _state(hass, player).attributes["entity_picture"].startswith("/api/media_player_proxy/")


async def test_live_and_playback_of_one_camera_at_once(
    hass: HomeAssistant, simulator: RunningSimulator, entry: MockConfigEntry
) -> None:
    """The live camera and the playback of camera 1 stream at once, on two UIDs."""
    player = _player(hass, entry)
    live = _entity_id(hass, "camera", entry, "1_camera")
    await _call(hass, "playback_goto", player, time=_past(40).isoformat())
    image = await async_get_image(hass, live)
    assert image.content.startswith(b"\xff\xd8")
    await _wait_for(hass, player, operation="play")
    push = {e.uid for e in simulator.journal.by_cgi(Cgi.PUSH)}
    playback = {e.uid for e in simulator.journal.by_cgi(Cgi.CAMERA)}
    assert push
    assert playback
    assert not push & playback


async def test_play_media_and_the_event_automation_jump_to_the_time(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """An event chosen in the media browser (play_media), or the README's automation on
    ``ipro_nvr_event``, jumps the playback to the event's time in one step."""
    player = _player(hass, entry)
    at = _past(50.5)
    await _media(
        hass,
        "play_media",
        player,
        **{ATTR_MEDIA_CONTENT_ID: content_id_for(at), ATTR_MEDIA_CONTENT_TYPE: "ipro_nvr_time"},
    )
    assert _recorded(_state(hass, player)) == at

    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Show the recording of a motion",
                "triggers": [
                    {
                        "trigger": "event",
                        "event_type": EVENT_NVR,
                        "event_data": {"type": "motion", "channel": 1},
                    }
                ],
                "actions": [
                    {
                        "action": "ipro_nvr.playback_goto",
                        "target": {"entity_id": player},
                        "data": {"time": "{{ trigger.event.data.time }}", "pause": True},
                    }
                ],
            }
        },
    )
    event_time = _past(70.2).astimezone(dt.timezone(dt.timedelta(hours=9)))
    hass.bus.async_fire(
        EVENT_NVR,
        {"type": "motion", "channel": 1, "log": "event", "time": event_time.isoformat()},
    )
    state = await _wait_for(hass, player, operation="pause")
    assert _recorded(state) == event_time


async def test_a_camera_without_recordings_says_so(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Camera 4 is disconnected in the simulator and has no recording: a translated error."""
    player = _player(hass, entry, 4)
    with pytest.raises(HomeAssistantError) as raised:
        await _call(hass, "playback_goto", player, time=_past(10).isoformat())
    assert raised.value.translation_key == "no_recording"
    assert _state(hass, player).state == "idle"  # its UID went back


async def test_renderer_skips_a_damaged_gop(hass: HomeAssistant) -> None:
    """A GOP that does not decode gives no picture, and no exception reaches the viewer."""
    damaged = AccessUnit(
        codec=VideoCodec.H264,
        timestamp=0,
        keyframe=True,
        data=b"\x00\x00\x00\x01\x65" + bytes(range(256)) * 4,
        parameter_sets=ParameterSets(sps=b"\x67\xff\xff\xff", pps=b"\x68\xff"),
        info=RecorderInfo(time=_past(0)),
    )
    gop = PlaybackGop(ContainerCodec.H264, None, None, (damaged,), PlaybackVideoStats())
    renderer = PlaybackRenderer(hass)
    assert await renderer.jpeg(PlaybackFrame(gop, 1, 0, 1)) is None
    assert await renderer.jpeg(PlaybackFrame(gop, 1, 0, 2)) is None
    assert renderer.rendered == 0
