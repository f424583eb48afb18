"""Which live codec each camera uses: its own option, else the recorder-wide one.

The options store the recorder-wide choice (``live_codec``: H.264 or H.265)
and, per camera, an override (``camera_live_codecs``: channel -> ``h264``,
``h265`` or ``jpeg``). A JPEG camera has no live video stream in Home
Assistant (its pictures and MJPEG view come from the recorder's JPEG stream).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from custom_components.ipro_nvr.api import LiveCodec
from custom_components.ipro_nvr.const import (
    CAMERA_LIVE_CODECS,
    CONF_CAMERA_LIVE_CODECS,
    CONF_LIVE_CODEC,
    DEFAULT_LIVE_CODEC,
    LIVE_CODEC_H265,
    LIVE_CODECS,
)


def recorder_live_codec(options: Mapping[str, Any]) -> str:
    """The recorder-wide live codec of the options (``h264`` or ``h265``)."""
    codec = options.get(CONF_LIVE_CODEC, DEFAULT_LIVE_CODEC)
    return codec if codec in LIVE_CODECS else DEFAULT_LIVE_CODEC


def camera_overrides(options: Mapping[str, Any]) -> dict[int, str]:
    """The per-camera codecs the options set (channel -> codec), invalid ones left out."""
    stored = options.get(CONF_CAMERA_LIVE_CODECS) or {}
    if not isinstance(stored, Mapping):
        return {}
    return {
        int(channel): codec
        for channel, codec in stored.items()
        if str(channel).isdigit() and codec in CAMERA_LIVE_CODECS
    }


def camera_live_codec(options: Mapping[str, Any], channel: int) -> str:
    """The live codec of ``channel``: its own override, else the recorder-wide choice."""
    return camera_overrides(options).get(channel, recorder_live_codec(options))


def video_codec(codec: str) -> LiveCodec:
    """The codec of a camera's live video feed for an option value.

    A JPEG camera has no video stream in Home Assistant (its view is MJPEG);
    should anything still ask for its video (nothing does), H.264.
    """
    return LiveCodec.H265 if codec == LIVE_CODEC_H265 else LiveCodec.H264
