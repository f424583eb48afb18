"""Constants of the i-PRO NVR integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

from .api.spec import SPEC_PACING

DOMAIN: Final = "ipro_nvr"
LOGGER: Final = logging.getLogger(__package__)

MANUFACTURER: Final = "i-PRO"

CONF_VERIFY_SSL: Final = "verify_ssl"
CONF_USE_HTTPS: Final = "use_https"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_CHANNELS: Final = "channels"
CONF_EVENT_SCAN_INTERVAL: Final = "event_scan_interval"

DEFAULT_PORT_HTTP: Final = 80
DEFAULT_PORT_HTTPS: Final = 443

# Each poll (status: as_getinfo + recordedtime; logs: two loglist calls) costs
# two commands, and the recorder wants 3 s between commands. Both polls share
# that one lane, so the floor leaves room for the other poll and for a user's
# stream start or control command in between.
COMMANDS_PER_POLL: Final = 2
MIN_SCAN_INTERVAL: Final = int(2 * COMMANDS_PER_POLL * SPEC_PACING.command_interval) + 3
DEFAULT_SCAN_INTERVAL: Final = 60
DEFAULT_EVENT_SCAN_INTERVAL: Final = 15
MAX_SCAN_INTERVAL: Final = 3600

# A camera channel that stays disconnected this long raises a repair issue.
CAMERA_DISCONNECTED_REPAIR_AFTER: Final = timedelta(minutes=10)

EVENT_NVR: Final = "ipro_nvr_event"
