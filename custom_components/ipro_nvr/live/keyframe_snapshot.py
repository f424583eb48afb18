"""A still picture from a live keyframe, for when the recorder sends no JPEG.

Snapshots normally come from the recorder's JPEG stream (no decoding at
all). Some recorders or cameras may refuse it; while someone watches the live
video, its current GOP starts with a keyframe that PyAV can decode and encode
as JPEG instead. This is CPU work, so it runs in the executor.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final, cast

import av
from av.video.codeccontext import VideoCodecContext

from custom_components.ipro_nvr.api.media import AccessUnit, VideoCodec, join_annexb

_DECODERS: Final = {VideoCodec.H264: "h264", VideoCodec.H265: "hevc"}
JPEG_QUALITY_SCALE: Final = 3  # FFmpeg's qscale: 2 (best) .. 31; 3 is close to "quality 90"


def keyframe_to_jpeg(unit: AccessUnit) -> bytes | None:
    """Decode ``unit`` (a keyframe) and return it as a JPEG; None if it cannot be decoded."""
    decoder_name = _DECODERS.get(unit.codec)
    if decoder_name is None or not unit.keyframe:
        return None
    sets = unit.parameter_sets
    # The decoder needs the parameter sets in band; a keyframe may not repeat them.
    data = join_annexb(p for p in (sets.vps, sets.sps, sets.pps) if p) + unit.data
    try:
        decoder = cast("VideoCodecContext", av.CodecContext.create(decoder_name, "r"))
        # One whole access unit: a packet as is, then a flush to get the picture.
        frames = [frame for packet in (av.Packet(data), None) for frame in decoder.decode(packet)]
        if not frames:
            return None
        return frame_to_jpeg(frames[0]) or None
    except av.FFmpegError:
        return None


def frame_to_jpeg(frame: av.VideoFrame) -> bytes:
    """Encode one decoded picture as a JPEG (blocking; raises av.FFmpegError)."""
    picture = frame.reformat(format="yuvj420p")
    encoder = cast("VideoCodecContext", av.CodecContext.create("mjpeg", "w"))
    encoder.width, encoder.height = picture.width, picture.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)  # one picture: any time base will do
    encoder.qmin = encoder.qmax = JPEG_QUALITY_SCALE
    packets = [*encoder.encode(picture), *encoder.encode(None)]
    return b"".join(bytes(packet) for packet in packets)
