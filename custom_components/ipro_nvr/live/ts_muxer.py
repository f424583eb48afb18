"""Access units (and audio) in, MPEG-TS bytes out, with PyAV's muxer.

Video and AAC audio are copied; G.711/G.726 audio is transcoded to AAC (see
:mod:`.audio_transcoder`), the only audio Home Assistant's stream keeps.
"""

from __future__ import annotations

from contextlib import suppress
from fractions import Fraction
import functools
import io
from typing import Any, Final
import weakref

import av

from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    AudioCodec,
    TimedAudio,
    VideoCodec,
    aac_audio_specific_config,
)

from .audio_transcoder import AacTranscoder

_CLOCK_RATE: Final = 90_000
_TIME_BASE: Final = Fraction(1, _CLOCK_RATE)
# FFmpeg's raw (Annex-B) demuxers of the codecs, which give the template streams.
_DEMUXERS: Final = {VideoCodec.H264: "h264", VideoCodec.H265: "hevc"}
# A template's demuxer probes with one decoder thread (FFmpeg would start one per CPU).
_ONE_THREAD: Final = {"threads": "1"}
# The recorder names one AAC flavour: 48 kHz AAC-LC, mono (``audio/48kaac-lc``).
# The track is that whatever the camera's codec: G.711/G.726 is transcoded to it.
AAC_SAMPLE_RATE: Final = 48_000
_AAC_FRAME_SAMPLES: Final = 1024
_AAC_FRAME_TICKS: Final = _AAC_FRAME_SAMPLES * _CLOCK_RATE // AAC_SAMPLE_RATE
# Silence fills the audio track only where real audio is this late behind the
# picture: arrival jitter between the two recorder streams stays below it.
_SILENCE_SLACK: Final = _CLOCK_RATE // 4
# Real audio further behind what was already muxed than this is dropped.
_AUDIO_STALE: Final = _CLOCK_RATE
# FFmpeg's interleaver holds a picture until the audio track has reached its
# time (by default up to 10 s). Silence keeps audio within the slack above;
# this caps the hold lower still, so audio adds at most ~0.1 s of latency.
_MAX_INTERLEAVE_DELTA_US: Final = "100000"


class _Sink(io.RawIOBase):
    """Collects what the muxer writes until the caller takes it."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def _adts_header(payload_size: int) -> bytes:
    """The 7-byte ADTS header of one AAC-LC frame at 48 kHz, mono (no CRC)."""
    size = payload_size + 7
    profile, rate_index, channels = 1, 3, 1  # AAC-LC (object type 2, minus 1), 48 kHz, mono
    return bytes(
        (
            0xFF,
            0xF1,  # sync word, MPEG-4, layer 0, no CRC
            profile << 6 | rate_index << 2 | channels >> 2,
            (channels & 3) << 6 | size >> 11,
            size >> 3 & 0xFF,
            (size & 7) << 5 | 0x1F,  # buffer fullness 0x7FF: variable rate
            0xFC,  # one raw data block
        )
    )


def _add_stream_like(container: Any, demuxer: str, sample: bytes) -> Any:
    """Add a stream to ``container`` with the codec parameters FFmpeg's ``demuxer`` finds.

    ``add_stream(codec_name)`` creates an *encoder* context, which the first
    mux opens (libx264/libx265 for video: memory and CPU for every viewer, and
    libx265 prints its banner on the console). A stream copied from a demuxed
    template with ``opaque=True`` gets the template's *decoder* instead, and
    an unused decoder costs next to nothing. (Home Assistant's stream worker
    copies its video with ``opaque=False``, which makes an encoder again.)
    Nothing is decoded for video: its raw demuxers need no data to name their
    codec; ``sample`` is what the ADTS demuxer needs to read the AAC
    parameters from.
    """
    with av.open(io.BytesIO(sample), format=demuxer, options=_ONE_THREAD) as source:
        stream = container.add_stream_from_template(source.streams[0], opaque=True)
    stream.codec_context.thread_count = 1  # the muxer opens it: no threads to start
    stream.time_base = _TIME_BASE
    return stream


def _close_quietly(container: Any, transcoder: AacTranscoder | None) -> None:
    # Nothing muxed yet means no header either, and closing then fails.
    with suppress(av.FFmpegError, ValueError):
        container.close()
    if transcoder is not None:
        transcoder.close()  # its decoder and encoder, if it opened them


@functools.cache
def silent_aac_frame() -> bytes:
    """One raw AAC-LC frame of silence (48 kHz mono), encoded once with PyAV."""
    encoder: Any = av.CodecContext.create("aac", "w")
    encoder.sample_rate = AAC_SAMPLE_RATE
    encoder.layout = "mono"
    encoder.format = "fltp"
    encoder.open()
    packets: list[bytes] = []
    # The first packets carry the encoder's priming; a later one is plain silence.
    for index in range(4):
        frame = av.AudioFrame(format="fltp", layout="mono", samples=_AAC_FRAME_SAMPLES)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = AAC_SAMPLE_RATE
        frame.pts = index * _AAC_FRAME_SAMPLES
        packets.extend(bytes(packet) for packet in encoder.encode(frame))
    return packets[-1]


class TsMuxer:
    """Mux one viewer's access units (and audio) into an MPEG-TS byte stream.

    Timestamps start near zero for every viewer (the first picture's timestamp
    is the origin) and follow the feed's 90 kHz clock, which only grows.

    With ``audio=True`` the stream has an AAC track (48 kHz mono AAC-LC) from
    the start, and silence fills it wherever the recorder's audio has not
    arrived (before its stream starts, a pacing interval after the video's, or
    while it reconnects). Home Assistant's stream worker drops a track that
    shows no packet among the first 20, and FFmpeg's interleaver would hold
    video back waiting for audio, so the track must never run dry. The
    recorder's AAC frames are copied; G.711 and G.726 frames are transcoded
    (an encoder opens at the first of them).

    :meth:`close` returns the last bytes; a muxer dropped without it is closed
    when it is collected (its last bytes are lost, but nothing crashes).
    """

    def __init__(self, codec: VideoCodec, *, audio: bool = False) -> None:
        """Open the muxer; the TS header goes out with the first picture."""
        self._sink = _Sink()
        options = {"max_interleave_delta": _MAX_INTERLEAVE_DELTA_US} if audio else {}
        container: Any = av.open(self._sink, mode="w", format="mpegts", options=options)
        self._container = container
        # Opens its codecs only for G.711/G.726 frames; holds no reference to the muxer.
        self._transcoder = AacTranscoder(AAC_SAMPLE_RATE) if audio else None
        # Closed however the muxer goes. A PyAV container and its streams
        # refer to each other, so an unclosed one is freed by the cycle
        # collector: it first drops the container's I/O wrapper (freeing
        # FFmpeg's AVIOContext), then the container's dealloc writes the
        # trailer through it, which corrupts the heap (a segfault, or glibc's
        # "corrupted size vs. prev_size"). The finalizer holds the container,
        # which is intact when it closes it as the muxer goes. It also lets go
        # of the transcoder's codecs.
        self._finalizer = weakref.finalize(self, _close_quietly, container, self._transcoder)
        self._stream: Any = _add_stream_like(container, _DEMUXERS[codec], b"")
        self._audio: Any = None
        if audio:
            silence = silent_aac_frame()
            self._audio = _add_stream_like(container, "aac", _adts_header(len(silence)) + silence)
            # Raw AAC frames plus the AudioSpecificConfig as extradata: the
            # MPEG-TS muxer writes the ADTS headers itself.
            self._audio.codec_context.extradata = aac_audio_specific_config(AAC_SAMPLE_RATE)
        self._origin: int | None = None
        self._audio_next = 0  # where the audio track continues (relative ticks)
        self.skipped_audio = 0  # frames the track cannot carry (other AAC rates, failures, late)
        # Pictures FFmpeg refuses (no data, a timestamp not after the last one's): skipped.
        self.skipped_video = 0
        self._last_video: int | None = None
        self.transcoded_audio = 0  # G.711/G.726 frames transcoded to AAC

    def mux(self, unit: AccessUnit) -> bytes:
        """Return the TS bytes for ``unit`` (possibly empty while the muxer buffers)."""
        if self._origin is None:
            self._origin = unit.timestamp
        timestamp = unit.timestamp - self._origin
        if self._last_video is not None and timestamp <= self._last_video:
            # The feed's clock only grows; a picture that does not is damage.
            self.skipped_video += 1
            return b""
        if self._audio is not None:
            silence = silent_aac_frame()
            while self._audio_next + _SILENCE_SLACK <= timestamp:
                self._mux_audio_packet(silence, self._audio_next)
        packet = av.Packet(unit.data)
        packet.stream = self._stream
        packet.time_base = _TIME_BASE
        packet.pts = packet.dts = timestamp
        packet.is_keyframe = unit.keyframe
        try:
            self._container.mux(packet)
        except av.FFmpegError:
            # A picture FFmpeg cannot take (an empty one): the viewer's stream goes on.
            self.skipped_video += 1
        else:
            self._last_video = timestamp
        return self._sink.take()

    def mux_audio(self, audio: TimedAudio) -> bytes:
        """Return the TS bytes for an audio frame; frames the track cannot carry are skipped."""
        frame = audio.frame
        if self._audio is None or self._origin is None:
            # No track, or audio before the first picture: nothing to sync to.
            self.skipped_audio += 1
            return b""
        if frame.codec is AudioCodec.AAC_LC:
            if frame.sample_rate != AAC_SAMPLE_RATE or frame.is_adts or not frame.data:
                self.skipped_audio += 1
                return b""
            self._mux_timed_audio(frame.data, audio.timestamp - self._origin)
            return self._sink.take()
        # The transcoder comes with the track: never None here.
        packets = self._transcoder.transcode(audio) if self._transcoder is not None else None
        if packets is None:
            self.skipped_audio += 1
            return b""
        self.transcoded_audio += 1
        for data, timestamp in packets:
            self._mux_timed_audio(data, timestamp - self._origin)
        return self._sink.take()

    def _mux_timed_audio(self, data: bytes, timestamp: int) -> None:
        """Mux an AAC frame due at ``timestamp`` where the track continues.

        The track stays gapless: where silence (or a previous frame) already
        covers this time, the frame goes right after it (timestamps must only
        grow); where the track ends before it (audio starting or coming back
        after a pause), silence fills whole frames up to it and the frame
        takes the last slot at or before its time (less than a frame early).
        """
        if self._audio_next - timestamp > _AUDIO_STALE:
            self.skipped_audio += 1
            return
        if self._audio_next + _AAC_FRAME_TICKS <= timestamp:
            silence = silent_aac_frame()
            while self._audio_next + _AAC_FRAME_TICKS <= timestamp:
                self._mux_audio_packet(silence, self._audio_next)
        self._mux_audio_packet(data, self._audio_next)

    def _mux_audio_packet(self, data: bytes, timestamp: int) -> None:
        packet = av.Packet(data)
        packet.stream = self._audio
        packet.time_base = _TIME_BASE
        packet.pts = packet.dts = timestamp
        # The slot is used even when FFmpeg refuses the frame: the track moves on.
        self._audio_next = timestamp + _AAC_FRAME_TICKS
        try:
            self._container.mux(packet)
        except av.FFmpegError:
            self.skipped_audio += 1

    def close(self) -> bytes:
        """Flush the muxer (and the transcoder) and return the last bytes."""
        if self._finalizer.alive and self._transcoder is not None and self._origin is not None:
            with suppress(av.FFmpegError, ValueError):
                for data, timestamp in self._transcoder.flush():
                    self._mux_timed_audio(data, timestamp - self._origin)
        self._finalizer()  # closes the container and the transcoder, once
        return self._sink.take()
