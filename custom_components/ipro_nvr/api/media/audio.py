"""Audio parts of the live stream (spec 2.3.7).

Each part is one ``0x00`` byte, then the elementary stream: raw AAC-LC frames
(``audio/48kaac-lc``; no RTP, AU or ADTS header), G.726 at 32 kbit/s
(``audio/g.726-32k``) or G.711. The leading ``0x00`` is dropped; a part without
it is taken whole.

The spec names no content type for G.711 and does not say which law it uses.
Any ``audio/`` type naming 711, ``pcmu`` or ``basic`` is taken as G.711
**mu-law** (RTP's ``PCMU``; ``audio/basic`` is mu-law by definition); one
naming A-law (``pcma``, ``alaw``, ``a-law``, ``711a``) as G.711 A-law.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import re
from typing import Final

from custom_components.ipro_nvr.api.spec import (
    AUDIO_PART_PREFIX,
    CONTENT_TYPE_AAC_LC,
    CONTENT_TYPE_G726,
)

from .errors import MediaFormatError

# A rate in kHz as a content type names it ("48k"): a few ASCII digits, not zero.
_RATE_IN_TYPE = re.compile(r"([1-9][0-9]{0,2})k")
_ALAW_IN_TYPE = re.compile(r"^pcma$|a-?law|711-?a(?![a-z])")
_NARROWBAND_RATE: Final = 8000
_AAC_DEFAULT_RATE: Final = 48000
# AudioSpecificConfig sampling-frequency indexes (ISO/IEC 14496-3, 1.6.3.4).
_AAC_RATES: Final = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025)
_AAC_RATES_LOW: Final = (8000, 7350)
_AAC_LC_OBJECT_TYPE: Final = 2


class AudioCodec(StrEnum):
    """Audio coding of a live audio part."""

    AAC_LC = "aac_lc"
    G726 = "g726"  # 32 kbit/s, 4 bits a sample
    G711 = "g711"  # mu-law, also where the content type names no law
    G711_ALAW = "g711_alaw"


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """The elementary-stream data of one audio part (without the ``0x00`` prefix)."""

    codec: AudioCodec
    data: bytes
    sample_rate: int

    @property
    def is_adts(self) -> bool:
        """Whether AAC data carries ADTS headers after all (sync word ``FFF``)."""
        return (
            self.codec is AudioCodec.AAC_LC
            and len(self.data) > 1
            and self.data[0] == 0xFF
            and self.data[1] & 0xF0 == 0xF0
        )


@dataclass(frozen=True, slots=True)
class TimedAudio:
    """An audio frame placed on a video clock (90 kHz), so a muxer can interleave both.

    The recorder's audio parts carry no timestamp (spec 2.3.7): whoever reads
    audio beside video stamps each frame in the video's clock.
    """

    frame: AudioFrame
    timestamp: int
    duration: int  # 90 kHz ticks


def audio_codec_for(content_type: str) -> tuple[AudioCodec, int] | None:
    """Return the codec and sample rate named by an audio part's content type."""
    media_type = content_type.partition(";")[0].strip().lower()
    if not media_type.startswith("audio/"):
        return None
    name = media_type.removeprefix("audio/")
    if media_type == CONTENT_TYPE_AAC_LC or "aac" in name:
        rate = _RATE_IN_TYPE.match(name)
        return AudioCodec.AAC_LC, int(rate[1]) * 1000 if rate else _AAC_DEFAULT_RATE
    if media_type == CONTENT_TYPE_G726 or "726" in name:
        return AudioCodec.G726, _NARROWBAND_RATE
    if _ALAW_IN_TYPE.search(name):
        return AudioCodec.G711_ALAW, _NARROWBAND_RATE
    if "711" in name or name in {"pcmu", "basic"}:
        return AudioCodec.G711, _NARROWBAND_RATE
    return None


def parse_audio_part(content_type: str, body: bytes) -> AudioFrame:
    """Return the audio frame of one part; MediaFormatError for an unknown type or no data."""
    codec = audio_codec_for(content_type)
    if codec is None:
        raise MediaFormatError(f"audio part of unknown type {content_type!r}")
    data = body.removeprefix(AUDIO_PART_PREFIX)
    if not data:
        raise MediaFormatError("audio part without data", body)
    return AudioFrame(codec[0], data, codec[1])


def aac_audio_specific_config(sample_rate: int = _AAC_DEFAULT_RATE, channels: int = 1) -> bytes:
    """Return the 2-byte AudioSpecificConfig of AAC-LC (what a decoder needs as extradata).

    The stream does not carry it; the content type names the rate (48 kHz) and
    the recorder's audio is mono.
    """
    try:
        index = (*_AAC_RATES, *_AAC_RATES_LOW).index(sample_rate)
    except ValueError:
        raise ValueError(f"no AAC sampling-frequency index for {sample_rate} Hz") from None
    if not 1 <= channels <= 7:
        raise ValueError(f"{channels} channels cannot be signalled in a channel configuration")
    value = (_AAC_LC_OBJECT_TYPE << 11) | (index << 7) | (channels << 3)
    return value.to_bytes(2)


__all__ = [
    "AudioCodec",
    "AudioFrame",
    "TimedAudio",
    "aac_audio_specific_config",
    "audio_codec_for",
    "parse_audio_part",
]
