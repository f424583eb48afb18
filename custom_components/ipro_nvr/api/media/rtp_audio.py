"""Live audio over RTP (spec 2.3.6): payload type 97, then the elementary stream.

G.711/G.726 data follows the RTP header directly. AAC-LC carries a 4-byte AU
header first (RFC 3640 AAC-hbr: a 16-bit AU-headers-length in bits, then one
16-bit AU header of 13 bits AU-size and 3 bits AU-Index). A recorder may also
send AAC without it, as over HTTP (spec 2.3.7): both are accepted. The AU
header is recognised by its sizes adding up to the payload exactly (several
AU headers too), which a bare AAC frame matches only by a rare accident.

The RTP packet does not name the codec (97 for every one, spec 2.3.6; over
HTTP the part's content type does). The caller may say which it expects, or
let :class:`AudioCodecGuess` tell it from the packets: an AU header means
AAC-LC; otherwise the timestamp step between two packets against the
payload size does (the clock runs at the sample rate): one tick a byte is
G.711 (mu-law, as over HTTP when no law is named), two ticks a byte G.726-32k
(both 8 kHz), 1024 a packet AAC-LC. Only AAC is looked at for an AU header:
G.711/G.726 data is taken whole.
"""

from __future__ import annotations

from typing import Final

from .audio import AudioCodec, AudioFrame
from .errors import MediaFormatError

# RFC 3640 3.2.1: AU-headers-length (bits), then AU headers of AU-size (13 bits)
# and AU-Index / AU-Index-delta (3 bits) for the AAC-hbr mode.
_AU_HEADERS_LENGTH_SIZE: Final = 2
_AU_HEADER_BITS: Final = 16
_AU_SIZE_SHIFT: Final = 3
# More AAC frames than this in one packet is not an AU header section.
_MAX_AUS: Final = 16
_AAC_RATE: Final = 48_000
_NARROWBAND_RATE: Final = 8000
_TS_MOD: Final = 1 << 32


def split_au_headers(payload: bytes) -> list[bytes] | None:
    """The AAC frames behind an AU header section, or None when ``payload`` has none."""
    if len(payload) < _AU_HEADERS_LENGTH_SIZE + 2:
        return None
    bits = int.from_bytes(payload[:_AU_HEADERS_LENGTH_SIZE])
    count, rest = divmod(bits, _AU_HEADER_BITS)
    if rest or not 1 <= count <= _MAX_AUS:
        return None
    data_at = _AU_HEADERS_LENGTH_SIZE + 2 * count
    if data_at >= len(payload):
        return None
    sizes = [
        int.from_bytes(payload[pos : pos + 2]) >> _AU_SIZE_SHIFT
        for pos in range(_AU_HEADERS_LENGTH_SIZE, data_at, 2)
    ]
    if 0 in sizes or sum(sizes) != len(payload) - data_at:
        return None
    frames = []
    pos = data_at
    for size in sizes:
        frames.append(payload[pos : pos + size])
        pos += size
    return frames


def parse_rtp_audio(
    payload: bytes, codec: AudioCodec = AudioCodec.AAC_LC, sample_rate: int = _AAC_RATE
) -> list[AudioFrame]:
    """The audio frames of one RTP audio payload; MediaFormatError when it is empty.

    ``codec`` and ``sample_rate`` are the stream's (not signalled in RTP).
    """
    if not payload:
        raise MediaFormatError("RTP audio packet without data")
    if codec is AudioCodec.AAC_LC:
        frames = split_au_headers(payload)
        if frames is not None:
            return [AudioFrame(codec, frame, sample_rate) for frame in frames]
    return [AudioFrame(codec, payload, sample_rate)]


class AudioCodecGuess:
    """Works out the codec of an RTP audio stream from its first packets."""

    __slots__ = ("_first", "result")

    def __init__(self) -> None:
        self._first: tuple[int, int] | None = None  # timestamp, payload size
        self.result: tuple[AudioCodec, int] | None = None

    def feed(self, timestamp: int, payload: bytes) -> tuple[AudioCodec, int] | None:
        """Take one packet (in order); return codec and sample rate once known."""
        if self.result is not None:
            return self.result
        if split_au_headers(payload) is not None:
            self.result = (AudioCodec.AAC_LC, _AAC_RATE)
        elif self._first is None:
            self._first = (timestamp, len(payload))
            return None
        else:
            first_timestamp, size = self._first
            step = (timestamp - first_timestamp) % _TS_MOD
            if step == size:
                self.result = (AudioCodec.G711, _NARROWBAND_RATE)
            elif step == 2 * size:
                self.result = (AudioCodec.G726, _NARROWBAND_RATE)
            else:  # 1024 samples a frame, or a step that says nothing: the usual codec
                self.result = (AudioCodec.AAC_LC, _AAC_RATE)
        return self.result


__all__ = ["AudioCodecGuess", "parse_rtp_audio", "split_au_headers"]
