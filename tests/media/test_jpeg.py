"""JPEG vendor blocks (spec 2.3.5): both length readings, JPEGs with comments, the fallback."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api.media.errors import MediaFormatError
from custom_components.ipro_nvr.api.media.jpeg import strip_vendor_blocks
from nvr_simulator.video import VideoFormat, cached_jpeg_clip

from .helpers import time_tlv, tlv16

# A minimal JPEG-like image: SOI, a DQT marker segment, EOI.
PLAIN_JPEG = b"\xff\xd8\xff\xdb\x00\x04\x01\x02" + b"\x10" * 20 + b"\xff\xd9"
# FFmpeg's encoder starts with a comment segment: SOI, FF FE, length 6 (counting itself), text.
COMMENT_JPEG = b"\xff\xd8\xff\xfe\x00\x06Lavc" + b"\xff\xdb\x00\x04\x01\x02" + b"\xff\xd9"

RECORDER_TLVS = tlv16(0x0004, 3) + time_tlv(0x0007, 1713929400, hours=9)
CAMERA_TLVS = time_tlv(0x0011, 1713929401, hours=9)


def block(tlvs: bytes, *, counts_itself: bool) -> bytes:
    length = len(tlvs) + (2 if counts_itself else 0)
    return b"\xff\xd8\xff\xfe" + struct.pack(">H", length) + tlvs


@pytest.mark.parametrize("counts_itself", [True, False])
@pytest.mark.parametrize("image", [PLAIN_JPEG, COMMENT_JPEG], ids=["plain", "comment"])
@pytest.mark.parametrize("camera_block", [True, False])
def test_both_length_readings(counts_itself: bool, image: bytes, camera_block: bool) -> None:
    data = block(RECORDER_TLVS, counts_itself=counts_itself)
    if camera_block:
        data += block(CAMERA_TLVS, counts_itself=counts_itself)
    frame = strip_vendor_blocks(data + image)
    assert frame.data == image
    assert frame.blocks == (2 if camera_block else 1)
    assert frame.info is not None
    assert frame.info.channel == 3
    assert frame.info.time is not None
    assert frame.info.time.timestamp() == 1713929400
    if camera_block:
        assert frame.camera_info is not None
        assert frame.camera_info.camera_time is not None
    else:
        assert frame.camera_info is None


@pytest.mark.parametrize("image", [PLAIN_JPEG, COMMENT_JPEG], ids=["plain", "comment"])
def test_no_vendor_block(image: bytes) -> None:
    frame = strip_vendor_blocks(image)
    assert frame.data == image
    assert frame.blocks == 0
    assert frame.info is None


def test_fallback_when_lengths_do_not_add_up() -> None:
    broken = b"\xff\xd8\xff\xfe\x00\x63" + RECORDER_TLVS  # the length points nowhere
    frame = strip_vendor_blocks(broken + PLAIN_JPEG)
    assert frame.data == PLAIN_JPEG
    assert frame.blocks == 0


def test_fallback_finds_a_jpeg_that_starts_with_a_comment() -> None:
    broken = b"\xff\xd8\xff\xfe\x00\x63" + RECORDER_TLVS
    assert strip_vendor_blocks(broken + COMMENT_JPEG).data == COMMENT_JPEG


def test_unreadable_tlvs_keep_the_image() -> None:
    bad_tlvs = struct.pack(">HH", 4, 40) + bytes(4)
    frame = strip_vendor_blocks(block(bad_tlvs, counts_itself=True) + PLAIN_JPEG)
    assert frame.data == PLAIN_JPEG
    assert frame.blocks == 1
    assert frame.info is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"no jpeg here at all",
        block(RECORDER_TLVS, counts_itself=True),  # blocks only, no image
        b"\xff\xd8\xff\xfe",  # a cut block header
        b"\xff\xd8\xff\xd9",  # too short to be an image
    ],
)
def test_no_image_is_a_typed_error(data: bytes) -> None:
    with pytest.raises(MediaFormatError):
        strip_vendor_blocks(data)


@pytest.mark.parametrize("counts_itself", [True, False])
def test_real_encoder_output(counts_itself: bool) -> None:
    """The simulator's JPEGs start with FFmpeg's comment segment: the hard case."""
    image = cached_jpeg_clip(1, VideoFormat()).images[0]
    assert image.startswith(b"\xff\xd8\xff\xfe")
    data = block(RECORDER_TLVS, counts_itself=counts_itself) + block(
        CAMERA_TLVS, counts_itself=counts_itself
    )
    assert strip_vendor_blocks(data + image).data == image


@given(st.binary(max_size=300))
@settings(max_examples=500)
def test_fuzz_only_typed_errors(data: bytes) -> None:
    with contextlib.suppress(MediaFormatError):
        frame = strip_vendor_blocks(data)
        assert frame.data.startswith(b"\xff\xd8")


@given(st.binary(max_size=60), st.booleans())
@settings(max_examples=300)
def test_fuzz_blocks_before_a_real_image(tlvs: bytes, counts_itself: bool) -> None:
    data = block(tlvs, counts_itself=counts_itself) + PLAIN_JPEG
    with contextlib.suppress(MediaFormatError):
        frame = strip_vendor_blocks(data)
        assert frame.data.endswith(b"\xff\xd9")
