"""Build an NvrClient from a config entry's data, on Home Assistant's session.

Every client of one recorder in this Home Assistant process (the entry's, the
config, reauth and reconfigure flows' validation clients) takes its turns from
one pacing queue: spec 1.3's intervals are the recorder's, not a client's.

A flow's validation client, logged in and holding a live UID, is handed over
to the entry the flow creates or reloads (:func:`hand_over`,
:func:`take_handover`) instead of logging out and in again: with 3 s between
commands that saves two commands (and a third with the camera status it read)
on the way from *Submit* to the entities. A client not taken within
:data:`HANDOVER_TTL` is closed (logged out) in the background, and every one
left is closed when Home Assistant stops.

An entry unloading while Home Assistant runs (mostly a reload: an option
changed, an entity enabled) hands its client over the same way, with its kept
live UIDs (``hdrctl`` sent), its running JPEG streams and the camera states:
the next setup sends no logout, login, ``hdrctl`` or START again, and the
dashboard's tiles keep their pictures coming. Unloaded for good (disabled),
the client is logged out when the handover expires; removed, at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
import time
from typing import Any

from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_USERNAME,
    EVENT_HOMEASSISTANT_STOP,
)
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .api import (
    SPEC_PACING,
    CameraConnections,
    CameraStatus,
    JpegFeed,
    LastPictures,
    LogList,
    NvrClient,
    PacingPolicy,
    Scheduler,
)
from .const import (
    CONF_USE_HTTPS,
    CONF_VERIFY_SSL,
    DEFAULT_PORT_HTTP,
    DEFAULT_PORT_HTTPS,
    DOMAIN,
    LOGGER,
)
from .coordinator import NvrStatus

# The recorder's pacing rules. Tests replace this with a scaled-down policy
# (the simulator then enforces the same scaled rules), never the client itself.
CLIENT_PACING: PacingPolicy = SPEC_PACING

# UIDs this integration may hold of the recorder's 16: the command UID, one for
# live video (every camera fits on one), one for the JPEG streams of snapshots
# and MJPEG (a UID never carries two streams of one camera, so a camera that is
# watched and snapshotted needs both), and two for recordings (playback never
# shares a UID with live), so a clip plays while another downloads. The rest
# stays free for the recorder's own viewers and other software.
UID_BUDGET = 5

# "host:port" -> the recorder's pacing queue. Kept for the life of the process
# (a few hundred bytes each): an entry reloading after reauth or reconfigure
# must still wait for the turn after its predecessor's logout.
DATA_SCHEDULERS: HassKey[dict[str, Scheduler]] = HassKey(f"{DOMAIN}_schedulers")


def recorder_key(data: Mapping[str, Any]) -> str:
    """``host:port`` of the recorder in ``data``, the port filled in from the protocol."""
    port = data.get(CONF_PORT) or (
        DEFAULT_PORT_HTTPS if data.get(CONF_USE_HTTPS, False) else DEFAULT_PORT_HTTP
    )
    return f"{str(data[CONF_HOST]).strip().lower()}:{int(port)}"


def recorder_scheduler(hass: HomeAssistant, data: Mapping[str, Any]) -> Scheduler:
    """The one pacing queue of the recorder in ``data``, created on first use."""
    schedulers = hass.data.setdefault(DATA_SCHEDULERS, {})
    key = recorder_key(data)
    scheduler = schedulers.get(key)
    if scheduler is None:
        scheduler = schedulers[key] = Scheduler(CLIENT_PACING)
    return scheduler


# "host:port" -> the recorder's last JPEG of each camera (bounded, see
# LastPictures). Kept beyond an entry's life so that a reloaded entry (an option
# or an enabled entity) shows every camera's picture at once while its first
# STARTs wait behind its setup commands; dropped when the entry is removed.
DATA_PICTURES: HassKey[dict[str, LastPictures]] = HassKey(f"{DOMAIN}_last_pictures")


def recorder_pictures(hass: HomeAssistant, data: Mapping[str, Any]) -> LastPictures:
    """The last pictures of the recorder in ``data``, created on first use."""
    pictures = hass.data.setdefault(DATA_PICTURES, {})
    return pictures.setdefault(recorder_key(data), LastPictures())


def forget_recorder_pictures(hass: HomeAssistant, data: Mapping[str, Any]) -> None:
    """Drop the last pictures of the recorder in ``data`` (its entry is removed)."""
    pictures = hass.data.get(DATA_PICTURES)
    if pictures is not None and (kept := pictures.pop(recorder_key(data), None)) is not None:
        kept.clear()


def create_client(hass: HomeAssistant, data: Mapping[str, Any]) -> NvrClient:
    """Return a client for the recorder described by config entry ``data``."""
    use_https: bool = data.get(CONF_USE_HTTPS, False)
    verify_ssl: bool = data.get(CONF_VERIFY_SSL, True)
    return NvrClient(
        data[CONF_HOST],
        username=data[CONF_USERNAME],
        password=data[CONF_PASSWORD],
        port=data.get(CONF_PORT),
        use_https=use_https,
        verify_ssl=verify_ssl,
        session=async_get_clientsession(hass, verify_ssl=verify_ssl),
        scheduler=recorder_scheduler(hass, data),
        uid_budget=UID_BUDGET,
        default_tz=dt_util.get_default_time_zone(),
    )


# How long a flow's validated client waits for its entry. The entry's setup
# starts at once after a user flow, and after a reauth/reconfigure flow as soon
# as the old entry has unloaded (a few paced logouts): a minute is ample, and
# short against the recorder's 90 s UID expiry.
HANDOVER_TTL = 60.0
# A handed-over camera status serves as the entry's first one while this
# fresh (seconds since it was read); older, the entry reads its own.
HANDOVER_STATUS_FRESH = 10.0
# Closing a handover not taken may wait this long for its paced logout.
HANDOVER_CLOSE_WITHIN = 3.0


@dataclass(slots=True)
class Handover:
    """A logged-in client, and what it read and runs, waiting for its entry.

    From a flow: the client it validated with and the camera status it read.
    From an unloading entry: also its JPEG streams (running on a kept UID, with
    their readers ended) and the camera states they are gated by.
    """

    client: NvrClient
    status: CameraStatus | None
    read_at: float = field(default_factory=time.monotonic)
    fresh_for: float = HANDOVER_STATUS_FRESH
    jpeg_feeds: dict[int, JpegFeed] = field(default_factory=dict)
    connections: CameraConnections | None = None
    # The unloading entry's last status poll, standing for the next setup's
    # first while younger than ``fresh_for`` (its interval).
    poll: NvrStatus | None = None
    # Its last error log read and when (the client's clock; see NvrLogCoordinator).
    error_log: tuple[LogList, float] | None = None

    def fresh_poll(self) -> NvrStatus | None:
        """The last status poll if it is recent enough to stand for a first poll."""
        if self.poll is None or time.monotonic() - self.read_at > self.fresh_for:
            return None
        return self.poll

    def fresh_status(self) -> CameraStatus | None:
        """The camera status if it is recent enough to stand for a first poll."""
        if self.status is None or time.monotonic() - self.read_at > self.fresh_for:
            return None
        return self.status

    async def async_close(self, within: float) -> None:
        """End the streams and log the client out (nobody took it)."""
        await asyncio.gather(*(feed.close() for feed in self.jpeg_feeds.values()))
        await self.client.close(within=within)


@dataclass(slots=True)
class _Waiting:
    identity: tuple[Any, ...]
    handover: Handover
    cancel_expiry: CALLBACK_TYPE


@dataclass(slots=True)
class _Handovers:
    waiting: dict[str, _Waiting] = field(default_factory=dict)
    closing: set[asyncio.Task[None]] = field(default_factory=set)


DATA_HANDOVERS: HassKey[_Handovers] = HassKey(f"{DOMAIN}_handovers")


def _identity(data: Mapping[str, Any]) -> tuple[Any, ...]:
    """Everything the client was built from: a handover serves only identical data."""
    return (
        recorder_key(data),
        bool(data.get(CONF_USE_HTTPS, False)),
        bool(data.get(CONF_VERIFY_SSL, True)),
        data[CONF_USERNAME],
        data[CONF_PASSWORD],
    )


def _handovers(hass: HomeAssistant) -> _Handovers:
    handovers = hass.data.get(DATA_HANDOVERS)
    if handovers is None:
        handovers = hass.data[DATA_HANDOVERS] = _Handovers()

        async def _async_stop(_event: Event) -> None:
            for key in list(handovers.waiting):
                _discard(hass, handovers, key)
            if handovers.closing:
                await asyncio.gather(*handovers.closing, return_exceptions=True)

        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _async_stop)
    return handovers


def _discard(hass: HomeAssistant, handovers: _Handovers, key: str) -> None:
    """Forget the client waiting for ``key`` and log it out in the background."""
    waiting = handovers.waiting.pop(key, None)
    if waiting is None:
        return
    waiting.cancel_expiry()
    handover = waiting.handover

    async def _async_close() -> None:
        try:
            await handover.async_close(HANDOVER_CLOSE_WITHIN)
        except Exception:  # noqa: BLE001 - a failed logout only leaves a UID to expire
            LOGGER.debug("Closing a validated client not taken failed", exc_info=True)

    task = hass.async_create_background_task(_async_close(), "ipro_nvr handover close")
    handovers.closing.add(task)
    task.add_done_callback(handovers.closing.discard)


@callback
def hand_over(
    hass: HomeAssistant,
    data: Mapping[str, Any],
    client: NvrClient,
    status: CameraStatus | None = None,
) -> None:
    """Keep the logged-in ``client`` (of a flow) for the entry set up from ``data`` next.

    One per recorder: a newer handover replaces (and logs out) an older one.
    """
    _wait_for_entry(hass, data, Handover(client=client, status=status))


@callback
def hand_over_entry(hass: HomeAssistant, data: Mapping[str, Any], handover: Handover) -> bool:
    """Keep an unloading entry's client and streams for its next setup.

    False, and nothing kept, when a flow's client waits for that recorder
    already (validated with the data the entry is set up with next): the
    caller closes its own.
    """
    if recorder_key(data) in _handovers(hass).waiting:
        return False
    _wait_for_entry(hass, data, handover)
    return True


@callback
def _wait_for_entry(hass: HomeAssistant, data: Mapping[str, Any], handover: Handover) -> None:
    handovers = _handovers(hass)
    key = recorder_key(data)
    _discard(hass, handovers, key)
    client = handover.client

    @callback
    def _expire(_now: Any) -> None:
        LOGGER.debug("No entry took the logged-in client of %s in time; logging it out", key)
        waiting = handovers.waiting.get(key)
        if waiting is not None and waiting.handover.client is client:
            waiting.cancel_expiry = lambda: None
            _discard(hass, handovers, key)

    handovers.waiting[key] = _Waiting(
        identity=_identity(data),
        handover=handover,
        cancel_expiry=async_call_later(hass, HANDOVER_TTL, _expire),
    )


@callback
def take_handover(hass: HomeAssistant, data: Mapping[str, Any]) -> Handover | None:
    """The client a flow validated with exactly ``data``, if one is waiting.

    A client waiting for the same recorder with other data (another password,
    TLS setting) is of no use any more: it is logged out.
    """
    handovers = hass.data.get(DATA_HANDOVERS)
    if handovers is None:
        return None
    key = recorder_key(data)
    waiting = handovers.waiting.get(key)
    if waiting is None:
        return None
    if waiting.identity != _identity(data):
        _discard(hass, handovers, key)
        return None
    del handovers.waiting[key]
    waiting.cancel_expiry()
    return waiting.handover


async def async_drop_handover(hass: HomeAssistant, data: Mapping[str, Any]) -> None:
    """Log out the client waiting for the entry of ``data`` now (the entry is removed)."""
    handovers = hass.data.get(DATA_HANDOVERS)
    if handovers is None:
        return
    key = recorder_key(data)
    waiting = handovers.waiting.get(key)
    if waiting is None or waiting.identity != _identity(data):
        return
    _discard(hass, handovers, key)
    if handovers.closing:
        await asyncio.gather(*handovers.closing, return_exceptions=True)
