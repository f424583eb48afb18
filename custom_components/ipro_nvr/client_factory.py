"""Build an NvrClient from a config entry's data, on Home Assistant's session.

Every client of one recorder in this Home Assistant process (the entry's, the
config, reauth and reconfigure flows' validation clients) takes its turns from
one pacing queue: spec 1.3's intervals are the recorder's, not a client's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .api import NvrClient
from .api.scheduler import Scheduler
from .api.spec import SPEC_PACING, PacingPolicy
from .const import CONF_USE_HTTPS, CONF_VERIFY_SSL, DEFAULT_PORT_HTTP, DEFAULT_PORT_HTTPS, DOMAIN

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
