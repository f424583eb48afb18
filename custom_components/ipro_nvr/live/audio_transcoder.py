"""G.711 and G.726 live audio re-encoded as AAC-LC, for the relay's MPEG-TS audio track.

Home Assistant's stream component keeps AAC (and MP3) audio only, so the
narrowband codecs a recorder may send instead are transcoded with PyAV, one
:class:`AacTranscoder` per viewer (the :class:`~.ts_muxer.TsMuxer` of Home
Assistant's stream worker or of go2rtc, so one or two per camera):

* **G.711** is decoded as **mu-law** (FFmpeg's ``pcm_mulaw``): the spec names
  neither a content type nor a law for it, and mu-law is what ``audio/basic``
  and RTP's ``PCMU`` mean. A content type that names A-law (``audio/pcma``,
  ``...alaw...``) is decoded with ``pcm_alaw`` (see ``api.media.audio``).
* **G.726** at 32 kbit/s (``audio/g.726-32k``, 4 bits a sample) is decoded with
  FFmpeg's ``adpcm_g726le``. Spec 2.3.7 says the HTTP audio is "the same audio
  data (ES) as RTP transmission", and RTP's G.726 (RFC 3551, 4.5.4, payload
  name ``G726-32``) packs the code words little-endian: the first sample in the
  low bits of the first byte. FFmpeg's ``adpcm_g726`` reads the other packing
  (ITU-T I.366.2 Annex E, RTP's ``AAL2-G726-32``) and turns such a stream into
  noise. The simulator produces the same (``adpcm_g726le``).
* The AAC track is **48 kHz mono AAC-LC**, like the recorder's own
  ``audio/48kaac-lc`` and the silence that fills the track: the track's
  AudioSpecificConfig is fixed when the muxer starts, before the recorder's
  audio shows which codec the camera uses. PyAV resamples the 8 kHz audio to
  48 kHz on its way into FFmpeg's native ``aac`` encoder, which is opened at the
  first narrowband frame (a viewer of AAC audio never opens one). Measured: about
  1 % of one CPU core per transcoding viewer.

Timestamps follow the input: the encoder's sample count maps to the 90 kHz
clock from the :class:`~custom_components.ipro_nvr.api.media.TimedAudio` timestamp where the current
run of contiguous frames began. A frame that does not continue its
predecessor (the feed re-anchored its audio after a stall or a reconnect)
starts a new run at its own timestamp; the encoder goes on (the few
milliseconds it still holds come out just before the new run).

A frame that cannot be transcoded is skipped (the track carries silence
instead) and the pipeline starts afresh with the next frame; the first failure
is logged, and after ten failures in a row the transcoder gives up.
"""

from __future__ import annotations

from fractions import Fraction
import logging
from typing import Any, Final

import av

from custom_components.ipro_nvr.api.media import AudioCodec, TimedAudio, aac_audio_specific_config

_LOGGER = logging.getLogger(__name__)

_CLOCK_RATE: Final = 90_000
# FFmpeg's decoder of each narrowband codec, and what it needs to know.
_DECODERS: Final = {
    AudioCodec.G711: "pcm_mulaw",
    AudioCodec.G711_ALAW: "pcm_alaw",
    AudioCodec.G726: "adpcm_g726le",
}
_DECODER_OPTIONS: Final = {AudioCodec.G726: {"bits_per_coded_sample": "4"}}  # 32 kbit/s
# Ample for narrowband speech at 48 kHz (it carries nothing above 4 kHz).
AAC_BIT_RATE: Final = 48_000
# A frame starting further than this from where its predecessor ended begins a new run.
_RESYNC_TICKS: Final = _CLOCK_RATE // 100
# Failures in a row after which the transcoder stops trying.
_GIVE_UP_AFTER: Final = 10


class AacTranscoder:
    """Turn one viewer's G.711/G.726 frames into raw AAC-LC frames with 90 kHz timestamps."""

    def __init__(self, sample_rate: int) -> None:
        """Prepare for AAC at ``sample_rate`` (mono); nothing is opened before the first frame."""
        self.sample_rate = sample_rate
        self.failures = 0
        self._failures_in_a_row = 0
        self._logged = False
        self._pipeline: tuple[AudioCodec, int] | None = None  # codec and input rate
        self._input_rate = 1
        self._decoder: Any = None
        self._encoder: Any = None
        self._fed = 0  # input samples fed to the encoder since it was opened
        self._anchor_tick = 0  # 90 kHz time of input sample ``_anchor_sample``
        self._anchor_sample = 0
        self._next_tick: int | None = None  # where the next contiguous frame starts

    @property
    def encoder_open(self) -> bool:
        """Whether an AAC encoder is open (only once narrowband audio arrived)."""
        return self._encoder is not None

    def transcode(self, audio: TimedAudio) -> list[tuple[bytes, int]] | None:
        """Return AAC frames and their timestamps for ``audio``; None when it cannot be done.

        The encoder holds back about two AAC frames, so the first call
        returns nothing yet and every later one the frames completed by now.
        """
        frame = audio.frame
        if frame.codec not in _DECODERS or self.gave_up:
            return None
        if not frame.data:
            return []  # an empty packet would tell the decoder the stream ended
        try:
            packets = self._transcode(audio)
        except (av.FFmpegError, ValueError) as err:
            self._failed(frame.codec, err)
            return None
        self._failures_in_a_row = 0
        return packets

    @property
    def gave_up(self) -> bool:
        """Whether it failed so often in a row that it stopped trying."""
        return self._failures_in_a_row >= _GIVE_UP_AFTER

    def flush(self) -> list[tuple[bytes, int]]:
        """Return what the encoder still holds, and close the pipeline."""
        packets: list[tuple[bytes, int]] = []
        try:
            packets = self._drain()
        except (av.FFmpegError, ValueError) as err:
            if self._pipeline is not None:
                self._failed(self._pipeline[0], err)
        self.close()
        return packets

    def close(self) -> None:
        """Release the decoder and the encoder (the next frame opens new ones)."""
        self._decoder = self._encoder = None
        self._pipeline = None
        self._next_tick = None

    def _drain(self) -> list[tuple[bytes, int]]:
        if self._encoder is None:
            return []
        return [(bytes(p), self._tick(p.pts)) for p in self._encoder.encode(None)]

    def _transcode(self, audio: TimedAudio) -> list[tuple[bytes, int]]:
        frame = audio.frame
        packets: list[tuple[bytes, int]] = []
        if self._pipeline != (frame.codec, frame.sample_rate):
            packets += self._drain()  # the end of another codec's audio
            self.close()
            self._open(frame.codec, frame.sample_rate)
        if self._next_tick is None or abs(audio.timestamp - self._next_tick) > _RESYNC_TICKS:
            self._anchor_tick = audio.timestamp
            self._anchor_sample = self._fed
        self._next_tick = audio.timestamp + audio.duration
        time_base = Fraction(1, frame.sample_rate)
        for decoded in self._decoder.decode(av.Packet(frame.data)):
            decoded.pts = self._fed
            decoded.time_base = time_base
            self._fed += decoded.samples
            packets += ((bytes(p), self._tick(p.pts)) for p in self._encoder.encode(decoded))
        return packets

    def _open(self, codec: AudioCodec, input_rate: int) -> None:
        decoder: Any = av.CodecContext.create(_DECODERS[codec], "r")
        decoder.sample_rate = input_rate
        decoder.layout = "mono"
        decoder.options = _DECODER_OPTIONS.get(codec, {})
        decoder.open()
        encoder: Any = av.CodecContext.create("aac", "w")
        encoder.sample_rate = self.sample_rate
        encoder.layout = "mono"
        encoder.format = "fltp"
        encoder.bit_rate = AAC_BIT_RATE
        encoder.time_base = Fraction(1, self.sample_rate)
        encoder.open()
        # The track's AudioSpecificConfig (AAC-LC, rate, mono) must fit what comes out.
        config = aac_audio_specific_config(self.sample_rate)
        if not bytes(encoder.extradata or b"").startswith(config):
            raise ValueError(f"AAC encoder configured as {bytes(encoder.extradata).hex()}")
        self._decoder, self._encoder = decoder, encoder
        self._pipeline = (codec, input_rate)
        self._input_rate = input_rate
        self._fed = 0
        self._next_tick = None

    def _tick(self, pts: int) -> int:
        """The 90 kHz time of the encoder's sample ``pts`` (at the AAC rate)."""
        input_rate = self._input_rate
        offset = pts * input_rate - self._anchor_sample * self.sample_rate
        return self._anchor_tick + offset * _CLOCK_RATE // (input_rate * self.sample_rate)

    def _failed(self, codec: AudioCodec, err: Exception) -> None:
        self.failures += 1
        self._failures_in_a_row += 1
        self.close()
        if not self._logged:
            self._logged = True
            _LOGGER.warning(
                "Live %s audio could not be transcoded to AAC, skipping what fails: %r",
                codec.value,
                err,
            )
