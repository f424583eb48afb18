"""Constants of the i-PRO NVR integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

from .api import PAN_TILT_RANGE_16, PRESET_RANGE, SPEC_PACING

DOMAIN: Final = "ipro_nvr"
LOGGER: Final = logging.getLogger(__package__)

MANUFACTURER: Final = "i-PRO"

CONF_VERIFY_SSL: Final = "verify_ssl"
CONF_USE_HTTPS: Final = "use_https"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_CHANNELS: Final = "channels"
CONF_EVENT_SCAN_INTERVAL: Final = "event_scan_interval"
CONF_PRESET_COUNT: Final = "preset_count"
CONF_PRESET_NAMES: Final = "preset_names"
CONF_LIVE_CODEC: Final = "live_codec"
CONF_LIVE_AUDIO: Final = "live_audio"
CONF_CLIP_CACHE_SIZE: Final = "clip_cache_size_mb"
# Options of the per-camera live codec step: the form's switch, its three
# channel lists, and the stored map (channel as text -> codec).
CONF_PER_CAMERA_CODECS: Final = "per_camera_codecs"
CONF_CAMERA_LIVE_CODECS: Final = "camera_live_codecs"
CONF_LIVE_TRANSPORT: Final = "live_transport"
CONF_UDP_PORT_MIN: Final = "udp_port_min"
CONF_UDP_PORT_MAX: Final = "udp_port_max"

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

# Camera control. The recorder cannot say how many presets a camera has; the
# preset select offers this many unless the options say otherwise.
DEFAULT_PRESET_COUNT: Final = 8
MAX_PRESET_COUNT: Final = PRESET_RANGE
# Speeds of the direction and zoom buttons: half the 16-step scale, so one
# press (about 2 s of motion) nudges the view rather than swinging it away.
BUTTON_PAN_TILT_SPEED: Final = PAN_TILT_RANGE_16 // 2
BUTTON_ZOOM_SPEED: Final = 2

# Live video. H.264 is the default because every browser and Home Assistant's
# HLS player decode it; H.265 saves bandwidth where the player can decode it.
LIVE_CODEC_H264: Final = "h264"
LIVE_CODEC_H265: Final = "h265"
LIVE_CODECS: Final = (LIVE_CODEC_H264, LIVE_CODEC_H265)
# Per camera, JPEG too: no live video stream then (pictures and MJPEG only),
# for a camera that records JPEG or a player that cannot decode either codec.
LIVE_CODEC_JPEG: Final = "jpeg"
CAMERA_LIVE_CODECS: Final = (LIVE_CODEC_H264, LIVE_CODEC_H265, LIVE_CODEC_JPEG)
DEFAULT_LIVE_CODEC: Final = LIVE_CODEC_H264
# Audio costs the recorder a second stream per camera: off unless asked for.
DEFAULT_LIVE_AUDIO: Final = False
# How live video travels (spec 2.1 / 2.2): HTTP multipart works through NAT and
# container networking, so it is the default; RTP over UDP spares the recorder
# an HTTP connection per stream on a LAN. A UDP feed that receives nothing
# falls back to HTTP. One port per camera stream from this range.
LIVE_TRANSPORT_HTTP: Final = "http"
LIVE_TRANSPORT_UDP: Final = "udp"
LIVE_TRANSPORTS: Final = (LIVE_TRANSPORT_HTTP, LIVE_TRANSPORT_UDP)
DEFAULT_LIVE_TRANSPORT: Final = LIVE_TRANSPORT_HTTP
DEFAULT_UDP_PORT_MIN: Final = 50000
DEFAULT_UDP_PORT_MAX: Final = 50099
MIN_UDP_PORT: Final = 1024
MAX_UDP_PORT: Final = 65535

# Recording clips played in the media browser are kept on disk, per recorder,
# up to this many MiB (least recently played removed first).
DEFAULT_CLIP_CACHE_SIZE_MB: Final = 2048
MIN_CLIP_CACHE_SIZE_MB: Final = 100
MAX_CLIP_CACHE_SIZE_MB: Final = 20_000
