"""Fuzzing of the RTP/UDP receiver: whatever arrives, nothing escapes, memory stays bounded.

The receiver is driven the way its datagram protocol drives it (one call per
datagram, from the recorder's address), with the recorder's own packets,
shuffled, duplicated and mixed with garbage and audio packets of any content.
"""

from __future__ import annotations

import asyncio
import random

from hypothesis import given, strategies as st

from custom_components.ipro_nvr.api.media import AccessUnit, AudioFrame
from custom_components.ipro_nvr.api.udp_receiver import RtpUdpReceiver

from .budget import fuzz_settings
from .strategies import rtp_stream

_RECORDER = "192.0.2.10"


def _audio(data: bytes) -> bytes:
    """``data`` behind an RTP header of payload type 97 (audio, spec 2.3.6)."""
    return b"\x80\xe1" + data[:2].rjust(2, b"\x00") + bytes(8) + data[2:]


async def _receive(datagrams: list[bytes]) -> RtpUdpReceiver:
    receiver = RtpUdpReceiver(sources={_RECORDER}, jitter_delay=0.0, queue_size=8)
    for datagram in datagrams:
        receiver.datagram_received(datagram, _RECORDER)
        await asyncio.sleep(0)  # let the jitter buffer's deadline pass
    return receiver


@fuzz_settings(40)
@given(
    rtp_stream(),
    st.lists(st.binary(max_size=40), max_size=6),
    st.lists(st.binary(min_size=2, max_size=40), max_size=6),
    st.randoms(use_true_random=False),
)
def test_receiver_never_raises_and_stays_bounded(
    video: list[bytes], garbage: list[bytes], audio: list[bytes], rng: random.Random
) -> None:
    datagrams = video + garbage + [_audio(a) for a in audio]
    rng.shuffle(datagrams)
    # A loop of its own, never made current: the test's fixtures keep theirs.
    loop = asyncio.new_event_loop()
    try:
        receiver = loop.run_until_complete(_receive(datagrams))
    finally:
        loop.close()
    stats = receiver.stats
    assert stats.datagrams == len(datagrams)
    assert receiver._queue.qsize() <= 8
    items = []
    while not receiver._queue.empty():
        items.append(receiver._queue.get_nowait())
    assert all(isinstance(item, AccessUnit | AudioFrame) for item in items)
    assert receiver._video_jitter.held <= receiver._video_jitter.capacity
    receiver.close()
