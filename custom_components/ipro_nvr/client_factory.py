"""Build an NvrClient from a config entry's data, on Home Assistant's session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from .api import NvrClient
from .api.spec import SPEC_PACING, PacingPolicy
from .const import CONF_USE_HTTPS, CONF_VERIFY_SSL

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
        pacing=CLIENT_PACING,
        uid_budget=UID_BUDGET,
        default_tz=dt_util.get_default_time_zone(),
    )
