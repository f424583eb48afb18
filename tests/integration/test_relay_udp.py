"""The relay with the option *Live transport: RTP over UDP*: video through UDP into MPEG-TS."""

from __future__ import annotations

import asyncio
import re
import socket

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.const import (
    CONF_LIVE_TRANSPORT,
    CONF_UDP_PORT_MAX,
    CONF_UDP_PORT_MIN,
    LIVE_TRANSPORT_UDP,
)
from custom_components.ipro_nvr.live.relay import StreamRelay
from nvr_simulator.server import RunningSimulator

from .test_relay import _decode, _read_ts


async def test_relay_over_udp_serves_decodable_video(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        first = int(probe.getsockname()[1])
    relay = StreamRelay.from_options(
        client,
        {
            CONF_LIVE_TRANSPORT: LIVE_TRANSPORT_UDP,
            CONF_UDP_PORT_MIN: first,
            CONF_UDP_PORT_MAX: first + 3,
        },
    )
    try:
        assert relay.feed(2).transport == "udp"
        url = await relay.async_url(2)
        data = await asyncio.wait_for(_read_ts(url, 150_000), timeout=30)
        assert relay.feed(2).transport == "udp"  # no fallback happened
    finally:
        await relay.async_stop()
        await client.close()
    frames = await asyncio.to_thread(_decode, data)
    assert len(frames) >= 10
    assert (frames[0].width, frames[0].height) == (320, 180)
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert len(starts) == 1
    port = re.search(r"&PORT=(\d+)", starts[0])
    assert port is not None
    assert int(port[1]) in range(first, first + 4)
    assert "INTERNETMODE" not in starts[0]


async def test_relay_falls_back_to_http_when_udp_does_not_arrive(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Behind NAT (simulated: the recorder's datagrams never arrive) viewers still get
    video, over HTTP multipart, after the few seconds the UDP attempt costs."""
    simulator.simulator.live_udp.faults.silent = True
    relay = StreamRelay.from_options(client, {CONF_LIVE_TRANSPORT: LIVE_TRANSPORT_UDP})
    try:
        url = await relay.async_url(1)
        data = await asyncio.wait_for(_read_ts(url, 100_000), timeout=40)
        assert relay.feed(1).transport == "http"
    finally:
        await relay.async_stop()
        await client.close()
    assert len(await asyncio.to_thread(_decode, data)) >= 5
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert ["PORT=" in q for q in starts] == [True, False]
