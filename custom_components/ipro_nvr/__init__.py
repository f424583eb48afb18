"""The i-PRO NVR integration."""

from __future__ import annotations

from datetime import timedelta
import time
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .api import CameraConnections, UidPurpose
from .client_factory import (
    Handover,
    async_drop_handover,
    create_client,
    forget_recorder_pictures,
    hand_over_entry,
    recorder_pictures,
    take_handover,
)
from .const import (
    CONF_EVENT_SCAN_INTERVAL,
    CONF_SCAN_INTERVAL,
    DEFAULT_EVENT_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
)
from .coordinator import NvrLogCoordinator, NvrStatusCoordinator
from .data import IproNvrConfigEntry, IproNvrRuntimeData
from .devices import async_remove_config_entry_device, async_setup_stale_device_removal
from .entity import recorder_device_info, selected_channels
from .live.relay import StreamRelay
from .playback import PlaybackManager
from .playback.services import async_setup_playback_services
from .recordings.views import async_remove_entry_clips, async_setup_clip_view
from .repairs import async_remove_entry_repairs, async_setup_repairs
from .services import async_setup_services

__all__ = [
    "async_remove_config_entry_device",
    "async_remove_entry",
    "async_setup",
    "async_setup_entry",
    "async_unload_entry",
]

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.MEDIA_PLAYER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

# Live UIDs kept logged in (and set up with hdrctl) while the entry runs: one
# for the video streams of every camera, one for the JPEG streams of snapshots
# and MJPEG (spec 1.3: a UID never carries two streams of one camera).
KEPT_LIVE_UIDS = 2
# After setup, fetch one picture of every selected camera in the background (a
# START each, one at a time), so that a dashboard opened later has a picture in
# every tile at once. Tests that count commands turn it off.
PREFETCH_SNAPSHOTS = True
# How long closing may wait for paced logouts on an unload (a reload: its next
# setup logs in again, so the old UIDs should not count against the recorder's 16
# meanwhile); UIDs left expire on the recorder within 90 s.
CLOSE_WITHIN = 3.0
# The same when Home Assistant stops: a logout gets a turn only if one comes at
# once (the last command may be up to 3 s old). Home Assistant's own stop and the
# interpreter's exit follow, and the whole stop should take at most about 5 s.
STOP_CLOSE_WITHIN = 1.0
# An unloading entry hands its client over to its next setup only with at most
# this many live video streams running: each gets its STOP first (3 s apart),
# and Home Assistant waits only so long for an unload before the next setup.
# With more, the client logs out as on a removal.
HANDOVER_MAX_STOPS = 2


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and the recording clip view, once for every recorder."""
    async_setup_services(hass)
    async_setup_playback_services(hass)
    async_setup_clip_view(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: IproNvrConfigEntry) -> bool:
    """Connect to the recorder and set up its devices and entities."""
    # The client the config flow has just validated these settings with, still
    # logged in: no logout and login again on the way to the entities.
    # After a reload: the entry's previous client, logged in, with its kept
    # live UIDs set up and its JPEG streams running (see _async_unload).
    handover = take_handover(hass, entry.data)
    built_with = dict(entry.data)
    client = handover.client if handover is not None else create_client(hass, entry.data)
    connections = (
        handover.connections
        if handover is not None and handover.connections is not None
        else CameraConnections()
    )
    relay = StreamRelay.from_options(
        client,
        entry.options,
        connections,
        recorder_pictures(hass, entry.data),
        jpeg_feeds=handover.jpeg_feeds if handover is not None else None,
    )
    playback = PlaybackManager(hass, client)
    set_up = False  # only an entry that was set up hands its client over

    async def _async_close(within: float | None = None) -> None:
        # Streams first (their retries end, viewers are let go), then the
        # client (every UID, within a bound); this also runs when setup fails,
        # so nothing is left logged in.
        await relay.async_stop()
        await playback.async_close()
        await client.close(within=CLOSE_WITHIN if within is None else within)

    async def _async_unload() -> None:
        # Mostly a reload (an option changed, an entity enabled): the client
        # waits for the next setup instead of logging out (see _async_hand_over).
        if not (set_up and await _async_hand_over(hass, entry, built_with)):
            await _async_close()

    async def _async_stop(_event: Event) -> None:
        # Entries are not unloaded when Home Assistant stops: end the streams
        # now, or Home Assistant's stream workers wait on the relay for 30 s.
        await _async_close(STOP_CLOSE_WITHIN)

    entry.async_on_unload(_async_unload)
    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_stop))
    polls = NvrStatusCoordinator(
        hass,
        entry,
        client,
        timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)),
        first_status=handover.fresh_status() if handover is not None else None,
        first_poll=handover.fresh_poll() if handover is not None else None,
    )
    logs = NvrLogCoordinator(
        hass,
        entry,
        client,
        timedelta(seconds=entry.options.get(CONF_EVENT_SCAN_INTERVAL, DEFAULT_EVENT_SCAN_INTERVAL)),
        error_log=handover.error_log if handover is not None else None,
    )
    # Only the status poll is waited for (with a status handed over by the
    # flow, one command): the entities then show at once, and the logs are
    # polled right after, in the background. Their entries tell the
    # recorder's zone, in which the disk times (recordedtime.cgi has no zone)
    # are then read again, without asking the recorder.
    await logs.async_load_position()
    await polls.async_config_entry_first_refresh()
    entry.async_on_unload(logs.async_add_listener(polls.async_reread_disk_times))
    _connect_camera_connections(hass, entry, polls, connections)
    entry.runtime_data = IproNvrRuntimeData(
        client=client,
        coordinator=polls,
        log_coordinator=logs,
        relay=relay,
        playback=playback,
    )
    # The recorder's device first: every channel device names it as via_device.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **recorder_device_info(entry)
    )
    await async_setup_repairs(hass, entry)
    async_setup_stale_device_removal(hass, entry)
    # A poll that works again shows the recorder is back: failing live streams retry now.
    entry.async_on_unload(relay.retry_after_good_polls(polls, logs))
    # A full recorder (no login, it would evict another client): streams waiting
    # for a session retry as soon as a status poll shows one free.
    client.on_recorder_room(relay.retry_now)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    set_up = True
    # After the entities (an entry that arrived while Home Assistant was down
    # fires into them), and queued before the live UIDs' logins.
    logs.async_start_first_poll()
    # After the first status poll, so the entities are not kept waiting: the live
    # UIDs log in and set up in the background (a client handed over across a
    # reload has them already); the first stream raises their priority to its own.
    # Both at once: a camera's video and its JPEG pictures need two (spec 1.3), and
    # a live view opened while the second logs in waits for its login and hdrctl.
    client.keep_uids(UidPurpose.LIVE, KEPT_LIVE_UIDS)
    if PREFETCH_SNAPSHOTS:
        # A first picture of every camera, so no dashboard tile waits for one.
        entry.async_create_background_task(
            hass,
            relay.async_prefetch_snapshots(selected_channels(entry)),
            "ipro_nvr first snapshots",
        )
    return True


async def _async_hand_over(
    hass: HomeAssistant, entry: IproNvrConfigEntry, built_with: dict[str, Any]
) -> bool:
    """Leave the unloading entry's client, logged in, to its next setup; False: close it.

    Unloading while Home Assistant runs and not disabled, an entry is mostly
    reloading: its client waits, with its kept live UIDs set up, its JPEG
    streams running and its last status poll, so the next setup sends no
    logout, login, ``hdrctl`` or START again (logged out if no setup takes it
    within a minute, at once when the entry is removed). Not with changed data
    (reauth, reconfigure: their flow hands over a client of its own), nor with
    more than :data:`HANDOVER_MAX_STOPS` video streams to stop first.
    """
    data = entry.runtime_data
    client, relay, polls = data.client, data.relay, data.coordinator
    if (
        hass.is_stopping
        or entry.disabled_by
        or client.closed
        or relay.video_streams > HANDOVER_MAX_STOPS
        or dict(entry.data) != built_with
    ):
        return False
    jpeg_feeds = await relay.async_hand_over()
    await data.playback.async_close()
    polled_at = polls.polled_at
    kept = Handover(
        client=client,
        status=None,
        # The poll's age, from the client's clock to the handover's.
        read_at=time.monotonic() - (client.clock() - polled_at) if polled_at is not None else 0.0,
        fresh_for=polls.poll_interval.total_seconds(),
        jpeg_feeds=jpeg_feeds,
        connections=relay.connections,
        poll=polls.data if polls.last_update_success else None,
        error_log=data.log_coordinator.last_error_log,
    )
    if not hand_over_entry(hass, built_with, kept):
        await kept.async_close(CLOSE_WITHIN)
    return True


def _connect_camera_connections(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    status: NvrStatusCoordinator,
    connections: CameraConnections,
) -> None:
    """Feed every successful status poll to the live feeds' gate, and let a refused
    START ask for a fresh poll (it settles whether the camera or the recorder was the cause)."""
    seen: list[object] = []

    @callback
    def _status_polled() -> None:
        data = status.data
        if status.last_update_success and data is not None and (not seen or seen[0] is not data):
            seen[:] = [data]
            connections.update(data.status)

    @callback
    def _start_refused(_channel: int) -> None:
        entry.async_create_background_task(
            hass, status.async_request_refresh(), "ipro_nvr status after a refused start"
        )

    _status_polled()
    connections.on_suspect = _start_refused
    entry.async_on_unload(status.async_add_listener(_status_polled))


async def async_unload_entry(hass: HomeAssistant, entry: IproNvrConfigEntry) -> bool:
    """Unload the entities; the client is closed by the unload callback."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: IproNvrConfigEntry) -> None:
    """Log out a client the entry left for its next setup; delete the removed
    recorder's cached recording clips, repair issues and last pictures."""
    await async_drop_handover(hass, entry.data)
    forget_recorder_pictures(hass, entry.data)
    await async_remove_entry_clips(hass, entry.entry_id)
    await async_remove_entry_repairs(hass, entry.entry_id)
