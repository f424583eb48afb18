"""The jitter buffer of the RTP/UDP path, and RTP audio with and without the AU header."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api.media import AudioCodec, MediaFormatError
from custom_components.ipro_nvr.api.media.jitter import JitterBuffer
from custom_components.ipro_nvr.api.media.rtp_audio import (
    AudioCodecGuess,
    parse_rtp_audio,
    split_au_headers,
)


def _datagram(sequence: int) -> bytes:
    return sequence.to_bytes(2) + b"x" * 10


def _sequences(datagrams: list[bytes]) -> list[int]:
    return [int.from_bytes(d[:2]) for d in datagrams]


def _push(buffer: JitterBuffer, sequence: int, now: float = 0.0) -> list[int]:
    return _sequences(buffer.push(sequence, _datagram(sequence), now))


def test_in_order_packets_pass_at_once() -> None:
    buffer = JitterBuffer(delay=0.05)
    assert [_push(buffer, s) for s in (10, 11, 12)] == [[10], [11], [12]]
    assert buffer.deadline is None
    assert buffer.stats.held == 0


def test_reordered_packets_come_out_in_order() -> None:
    buffer = JitterBuffer(delay=0.05)
    assert _push(buffer, 100) == [100]
    assert _push(buffer, 102, now=1.0) == []
    assert _push(buffer, 103, now=1.01) == []
    assert buffer.deadline == pytest.approx(1.05)
    assert _push(buffer, 101, now=1.02) == [101, 102, 103]
    assert buffer.deadline is None
    assert buffer.stats.held == 2
    assert buffer.stats.skipped == 0


def test_a_gap_is_given_up_after_the_delay() -> None:
    buffer = JitterBuffer(delay=0.05)
    _push(buffer, 1)
    assert _push(buffer, 3, now=1.0) == []
    assert _push(buffer, 4, now=1.03) == []
    assert _sequences(buffer.due(1.04)) == []  # still waiting for 2
    assert _sequences(buffer.due(1.05)) == [3, 4]
    assert buffer.stats.skipped == 1
    # The lost packet turning up after all is too late: dropped, not handed out.
    assert _push(buffer, 2, now=1.06) == []
    assert buffer.stats.late == 1
    assert _push(buffer, 5, now=1.07) == [5]


def test_duplicates_are_dropped() -> None:
    buffer = JitterBuffer(delay=0.05)
    _push(buffer, 7)
    assert _push(buffer, 7) == []
    _push(buffer, 9)
    assert _push(buffer, 9) == []
    assert buffer.stats.duplicates == 1
    assert buffer.stats.late == 1


def test_sequence_numbers_wrap() -> None:
    buffer = JitterBuffer(delay=0.05)
    assert _push(buffer, 65534) == [65534]
    assert _push(buffer, 0) == []
    assert _push(buffer, 65535) == [65535, 0]
    assert _push(buffer, 1) == [1]


def test_a_full_buffer_gives_the_gap_up_at_once() -> None:
    buffer = JitterBuffer(delay=10.0, capacity=4)
    _push(buffer, 0)
    released = [s for seq in range(2, 7) for s in _push(buffer, seq)]
    assert released == [2, 3, 4, 5, 6]  # the fifth held packet overflowed the buffer
    assert buffer.stats.overflows == 1
    assert buffer.stats.skipped == 1
    assert buffer.held == 0


def test_memory_is_bounded_by_bytes_too() -> None:
    buffer = JitterBuffer(delay=10.0, capacity=1000, max_bytes=30)
    _push(buffer, 0)
    _push(buffer, 2)
    _push(buffer, 3)
    assert buffer.held == 2
    assert _push(buffer, 4) == [2, 3, 4]  # 36 bytes held: over the bound


def test_a_jump_far_away_starts_over() -> None:
    buffer = JitterBuffer(delay=0.05, capacity=16)
    _push(buffer, 1000)
    _push(buffer, 1002)
    assert _push(buffer, 30000) == [1002, 30000]  # the rest of the old stream first
    assert buffer.stats.resyncs == 1
    assert _push(buffer, 30001) == [30001]


def test_reset_releases_what_is_held() -> None:
    buffer = JitterBuffer(delay=0.05)
    _push(buffer, 5)
    _push(buffer, 8)
    _push(buffer, 7)
    assert _sequences(buffer.reset()) == [7, 8]
    assert _push(buffer, 500) == [500]


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="positive"):
        JitterBuffer(capacity=0)


# -- RTP audio (spec 2.3.6) -----------------------------------------------------------


def test_aac_with_the_au_header() -> None:
    frame = bytes(range(1, 201))
    payload = b"\x00\x10" + (len(frame) << 3).to_bytes(2) + frame
    (audio,) = parse_rtp_audio(payload)
    assert audio.codec is AudioCodec.AAC_LC
    assert audio.data == frame
    assert audio.sample_rate == 48_000


def test_aac_with_two_au_headers() -> None:
    first, second = b"\x21" * 50, b"\x22" * 70
    payload = b"\x00\x20" + (50 << 3).to_bytes(2) + (70 << 3).to_bytes(2) + first + second
    assert split_au_headers(payload) == [first, second]
    assert [f.data for f in parse_rtp_audio(payload)] == [first, second]


@pytest.mark.parametrize(
    "payload",
    [
        bytes(range(1, 201)),  # an AAC frame as over HTTP, no AU header
        b"\x00\x10" + (150 << 3).to_bytes(2) + b"\x01" * 100,  # sizes do not add up
        b"\x00\x11" + b"\x01" * 50,  # a length that is no whole AU header
        b"\x00\x10\x00",  # too short for one
    ],
)
def test_aac_without_the_au_header_is_taken_whole(payload: bytes) -> None:
    assert split_au_headers(payload) is None
    (audio,) = parse_rtp_audio(payload)
    assert audio.data == payload


def test_narrowband_audio_is_never_stripped() -> None:
    # G.711 data that happens to look like an AU header stays whole.
    payload = b"\x00\x10" + (4 << 3).to_bytes(2) + b"\x7f" * 4
    (audio,) = parse_rtp_audio(payload, AudioCodec.G711, 8000)
    assert audio.data == payload
    assert audio.codec is AudioCodec.G711
    assert audio.sample_rate == 8000


def test_empty_audio_payload_is_a_typed_error() -> None:
    with pytest.raises(MediaFormatError, match="without data"):
        parse_rtp_audio(b"")


@pytest.mark.parametrize(
    ("step", "size", "expected"),
    [
        (160, 160, (AudioCodec.G711, 8000)),
        (160, 80, (AudioCodec.G726, 8000)),
        (1024, 300, (AudioCodec.AAC_LC, 48_000)),
        (7, 300, (AudioCodec.AAC_LC, 48_000)),  # says nothing: the usual codec
    ],
)
def test_the_audio_codec_is_told_by_the_timestamp_step(
    step: int, size: int, expected: tuple[AudioCodec, int]
) -> None:
    guess = AudioCodecGuess()
    assert guess.feed(0xFFFFFF00, b"\x55" * size) is None
    assert guess.feed((0xFFFFFF00 + step) % (1 << 32), b"\x55" * size) == expected
    assert guess.feed(0, b"\x55") == expected  # settled


def test_an_au_header_tells_aac_at_once() -> None:
    frame = b"\x21" * 90
    assert AudioCodecGuess().feed(5, b"\x00\x10" + (90 << 3).to_bytes(2) + frame) == (
        AudioCodec.AAC_LC,
        48_000,
    )


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 0xFFFF),
    events=st.lists(
        st.tuples(st.integers(-3, 40), st.floats(0, 0.2)),  # offset from the start, time step
        max_size=120,
    ),
)
def test_whatever_arrives_comes_out_in_order_and_once(
    start: int, events: list[tuple[int, float]]
) -> None:
    """Reordered, duplicated, late and lost packets: the output only ever moves forward,
    holds each packet at most once, and the buffer never holds more than its capacity."""
    buffer = JitterBuffer(delay=0.05, capacity=8)
    now = 0.0
    out: list[int] = []
    for offset, step in events:
        now += step
        sequence = (start + offset) & 0xFFFF
        out += _sequences(buffer.due(now))
        out += _sequences(buffer.push(sequence, _datagram(sequence), now))
        assert buffer.held <= 8
    out += _sequences(buffer.reset())
    # Relative to the first packet out (where the buffer began): strictly increasing.
    forward = [(s - out[0]) & 0xFFFF for s in out]
    assert forward == sorted(set(forward))
    assert len(out) == len(set(out))
