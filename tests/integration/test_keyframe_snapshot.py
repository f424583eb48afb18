"""Decoding a live keyframe into a JPEG: good pictures and bad bytes."""

from __future__ import annotations

from fractions import Fraction
import io

import av
import numpy as np
import pytest

from custom_components.ipro_nvr.api.media import AccessUnit, ParameterSets, VideoCodec
from custom_components.ipro_nvr.live.keyframe_snapshot import keyframe_to_jpeg


def _keyframe(codec: str) -> bytes:
    encoder = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height, encoder.pix_fmt = 64, 48, "yuv420p"
    encoder.time_base = Fraction(1, 25)
    picture = np.full((48, 64, 3), 200, dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
    packets = [*encoder.encode(frame), *encoder.encode(None)]
    return bytes(packets[0])


@pytest.mark.parametrize(("encoder", "codec"), [("libx264", VideoCodec.H264)])
def test_a_keyframe_becomes_a_jpeg_of_its_size(encoder: str, codec: VideoCodec) -> None:
    """The JPEG decodes to the keyframe's size and brightness."""
    unit = AccessUnit(codec, 0, True, _keyframe(encoder), ParameterSets())
    jpeg = keyframe_to_jpeg(unit)
    assert jpeg is not None
    with av.open(io.BytesIO(jpeg), format="mjpeg") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (64, 48)
    assert abs(int(frame.to_ndarray(format="gray").mean()) - 200) < 10


@pytest.mark.parametrize(
    ("codec", "keyframe", "data"),
    [
        (VideoCodec.H264, True, b"\x00\x00\x00\x01\x65garbage"),
        (VideoCodec.H265, True, b""),
        (VideoCodec.H264, False, b"\x00\x00\x00\x01\x41"),
    ],
)
def test_bad_or_partial_pictures_give_none(codec: VideoCodec, keyframe: bool, data: bytes) -> None:
    """Nothing decodable is no picture, never an exception."""
    assert keyframe_to_jpeg(AccessUnit(codec, 0, keyframe, data, ParameterSets())) is None
