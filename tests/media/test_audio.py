"""Live audio parts (spec 2.3.7): the 0x00 prefix, content types, decodable AAC."""

from __future__ import annotations

import contextlib

import av
from hypothesis import given, strategies as st
import pytest

from custom_components.ipro_nvr.api.media.audio import (
    AudioCodec,
    aac_audio_specific_config,
    audio_codec_for,
    parse_audio_part,
)
from custom_components.ipro_nvr.api.media.errors import MediaFormatError
from nvr_simulator.video import cached_audio_clip


def test_prefix_is_dropped() -> None:
    frame = parse_audio_part("audio/48kaac-lc", b"\x00\x21\x10")
    assert frame.codec is AudioCodec.AAC_LC
    assert frame.data == b"\x21\x10"
    assert frame.sample_rate == 48000
    assert not frame.is_adts


def test_part_without_prefix_is_taken_whole() -> None:
    assert parse_audio_part("audio/g.726-32k", b"\x55\x66").data == b"\x55\x66"


def test_only_one_zero_byte_is_dropped() -> None:
    assert parse_audio_part("audio/g.726-32k", b"\x00\x00\x01").data == b"\x00\x01"


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("audio/48kaac-lc", (AudioCodec.AAC_LC, 48000)),
        ("Audio/16kAAC-LC; x=y", (AudioCodec.AAC_LC, 16000)),
        ("audio/aac", (AudioCodec.AAC_LC, 48000)),
        ("audio/g.726-32k", (AudioCodec.G726, 8000)),
        ("audio/g.711", (AudioCodec.G711, 8000)),
        ("audio/pcmu", (AudioCodec.G711, 8000)),
        ("audio/basic", (AudioCodec.G711, 8000)),
        ("audio/g.711-64k", (AudioCodec.G711, 8000)),
        ("audio/PCMA", (AudioCodec.G711_ALAW, 8000)),
        ("audio/x-alaw-basic", (AudioCodec.G711_ALAW, 8000)),
        ("audio/g.711a", (AudioCodec.G711_ALAW, 8000)),
        ("audio/g711-a-law", (AudioCodec.G711_ALAW, 8000)),
        ("audio/opus", None),
        ("image/jpeg", None),
    ],
)
def test_codec_from_content_type(
    content_type: str, expected: tuple[AudioCodec, int] | None
) -> None:
    assert audio_codec_for(content_type) == expected


@pytest.mark.parametrize(
    ("content_type", "body"), [("audio/48kaac-lc", b"\x00"), ("audio/x", b"\x00a")]
)
def test_bad_parts_are_typed_errors(content_type: str, body: bytes) -> None:
    with pytest.raises(MediaFormatError):
        parse_audio_part(content_type, body)


def test_adts_is_recognised() -> None:
    assert parse_audio_part("audio/48kaac-lc", b"\x00\xff\xf1\x4c\x80").is_adts


def test_audio_specific_config() -> None:
    assert aac_audio_specific_config() == b"\x11\x88"  # AAC-LC, 48 kHz, mono
    assert aac_audio_specific_config(44100, 2) == b"\x12\x10"
    assert aac_audio_specific_config(8000) == b"\x15\x88"
    with pytest.raises(ValueError, match="sampling"):
        aac_audio_specific_config(12345)
    with pytest.raises(ValueError, match="channels"):
        aac_audio_specific_config(48000, 9)


def test_simulated_aac_decodes_with_the_derived_config() -> None:
    clip = cached_audio_clip(1)
    assert clip.extradata.startswith(aac_audio_specific_config())
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = aac_audio_specific_config()
    samples = 0
    for raw in clip.frames[:20]:
        frame = parse_audio_part("audio/48kaac-lc", b"\x00" + raw)
        for decoded in decoder.decode(av.Packet(frame.data)):
            assert decoded.sample_rate == 48000
            assert decoded.layout.nb_channels == 1
            samples += decoded.samples
    assert samples >= 19 * 1024


@given(st.text(max_size=30), st.binary(max_size=20))
def test_fuzz_only_typed_errors(content_type: str, body: bytes) -> None:
    with contextlib.suppress(MediaFormatError):
        frame = parse_audio_part(content_type, body)
        assert frame.data
        assert content_type.lower().lstrip().startswith("audio/")
