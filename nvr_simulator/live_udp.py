"""Live streams as RTP over UDP: ``push.cgi?UID&CAM&CMD=START&COMP&PORT`` (spec 2.1, 2.3).

The START answers at once (``200`` with the usual acknowledgement); the
recorder then sends datagrams from its own UDP socket to ``PORT`` at the
address the request came from, until ``push.cgi ... CMD=STOP`` or any of the
reasons that end an HTTP stream (:class:`~.live.EndReason`); a UDP stream
cannot notice that its receiver went away, as a real recorder cannot.

* H264/H265: the very RTP packets of the HTTP form (:mod:`.rtp_packetizer`),
  one a datagram;
* AUDIO: payload type 97 (spec 2.3.6), marker set, one AAC-LC frame a packet
  behind the 4-byte AU header (RFC 3640: AU-headers-length 16, then AU-size
  << 3), or G.711/G.726 data with no header; timestamps in the audio's sample
  clock. ``UdpFaults.audio_au_header = False`` leaves the AU header out (a
  recorder that sends AAC as it does over HTTP, NOTES' tolerance).

JPEG is not offered over RTP (spec 1.2): 400. The rules of the HTTP form apply
otherwise (hdrctl first, one video stream per camera and UID, audio after
video).

:class:`UdpFaults` shapes what arrives: ``loss`` drops datagrams at random,
``drop_every`` every N-th; ``reorder`` holds a datagram back behind the next
``reorder_depth`` ones of the same picture (never past the picture's burst, so
a receiver with a short jitter window still sees every packet); ``silent``
sends nothing at all (a NAT or firewall in between). All random choices come
from ``config.seed``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import itertools
import random
import socket
import struct
from typing import TYPE_CHECKING, Final

from custom_components.ipro_nvr.api.spec import (
    CONTENT_TYPE_AAC_LC,
    RTP_PAYLOAD_TYPE_AUDIO,
    RTP_VERSION,
)

from .live import JPEG, EndReason, LiveStream
from .query import BadRequestError
from .responses import text_response
from .texts import ACK_BODY

if TYPE_CHECKING:
    from aiohttp import web

    from .context import CgiContext
    from .live import LiveState, _Source
    from .simulator import Simulator

_RTP_HEADER: Final = struct.Struct(">BBHII")
# RFC 3640 AAC-hbr: AU-headers-length in bits (one 16-bit AU header), then
# 13 bits AU-size and 3 bits AU-Index (0).
_AU_HEADERS_LENGTH_BITS: Final = 16
_AU_SIZE_SHIFT: Final = 3
# Asked for the sender's buffer: a keyframe burst goes out at once.
_SEND_BUFFER: Final = 1 << 20


@dataclass(slots=True)
class UdpFaults:
    """Switches of the UDP streams (see the module text); counters for tests."""

    loss: float = 0.0
    drop_every: int | None = None
    reorder: float = 0.0
    reorder_depth: int = 1
    silent: bool = False
    audio_au_header: bool = True
    sent: int = 0
    dropped: int = 0
    reordered: int = 0

    def clear(self) -> None:
        """Turn the switches off (the counters stay)."""
        self.loss = 0.0
        self.drop_every = None
        self.reorder = 0.0
        self.reorder_depth = 1
        self.silent = False
        self.audio_au_header = True


def au_header(size: int) -> bytes:
    """The 4-byte AU header section of one AAC frame of ``size`` bytes (spec 2.3.6)."""
    return struct.pack(">HH", _AU_HEADERS_LENGTH_BITS, size << _AU_SIZE_SHIFT)


@dataclass(slots=True)
class _AudioPacketizer:
    """RTP packets of payload type 97, one a payload, marker set (each is whole)."""

    sequence: int
    timestamp: int
    ssrc: int

    def packet(self, payload: bytes, samples: int) -> bytes:
        header = _RTP_HEADER.pack(
            RTP_VERSION << 6,
            0x80 | RTP_PAYLOAD_TYPE_AUDIO,
            self.sequence,
            self.timestamp & 0xFFFFFFFF,
            self.ssrc,
        )
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp += samples
        return header + payload


@dataclass(slots=True)
class _Shaper:
    """Applies the loss and reordering switches to one picture's datagrams."""

    faults: UdpFaults
    rng: random.Random
    count: int = 0
    held: list[tuple[int, bytes]] = field(default_factory=list)

    def shape(self, datagrams: list[bytes]) -> list[bytes]:
        faults = self.faults
        out: list[bytes] = []
        for datagram in datagrams:
            self.count += 1
            every = faults.drop_every
            if (every and self.count % every == 0) or (
                faults.loss and self.rng.random() < faults.loss
            ):
                faults.dropped += 1
                continue
            if faults.reorder and not self.held and self.rng.random() < faults.reorder:
                faults.reordered += 1
                self.held.append((len(out) + max(1, faults.reorder_depth), datagram))
                continue
            out.append(datagram)
            if self.held and len(out) >= self.held[0][0]:
                out.append(self.held.pop()[1])
        # A held datagram goes out with its picture's burst at the latest.
        out += [datagram for _, datagram in self.held]
        self.held.clear()
        return out


class UdpLive:
    """The RTP/UDP streams of one simulated recorder (``Simulator.live_udp``)."""

    def __init__(self, simulator: Simulator) -> None:
        self._simulator = simulator
        self.faults = UdpFaults()
        # Not for security: reproducible loss and reordering.
        self._rng = random.Random(simulator.config.seed + 1)  # noqa: S311
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def _live(self) -> LiveState:
        return self._simulator.live

    async def start(
        self, ctx: CgiContext, uid: str, channel: int, comp: str, port: int
    ) -> web.StreamResponse:
        """Answer ``push.cgi ... CMD=START&PORT``; the datagrams follow from a task."""
        if comp == JPEG:
            raise BadRequestError("JPEG is offered over HTTP(S) only, not RTP (spec 1.2)")
        peer = ctx.request.remote
        if peer is None:  # pragma: no cover - a TCP request always has a peer
            raise BadRequestError("no address to send RTP to")
        stream = self._live.start(uid, channel, comp, ctx.now, port=port)
        if not isinstance(stream, LiveStream):
            return stream  # refused: the same answers as the HTTP form
        try:
            source = await self._live.open_source(stream)
            transport = await self._open_socket(ctx)
        except BaseException:
            self._live.end(stream, EndReason.CLIENT_GONE)
            raise
        task = asyncio.get_running_loop().create_task(
            self._send(stream, source, transport, (peer, port)),
            name=f"simulator udp live {channel} {comp}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return text_response(ACK_BODY)

    async def wait_closed(self) -> None:
        """Wait until every sending task has ended (after ``Simulator.close``)."""
        if self._tasks:
            await asyncio.wait(self._tasks)

    async def _open_socket(self, ctx: CgiContext) -> asyncio.DatagramTransport:
        # Send from the address the request came in on, as a recorder with one interface does.
        request_transport = ctx.request.transport
        sockname = request_transport.get_extra_info("sockname") if request_transport else None
        host = str(sockname[0]) if sockname else "127.0.0.1"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=(host, 0), family=family
        )
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
        return transport

    def _datagrams(
        self, source: _Source, index: int, audio: _AudioPacketizer | None
    ) -> list[bytes]:
        payloads = source.payloads(index)
        if audio is None:
            return payloads  # video: RTP packets already
        with_header = source.content_type == CONTENT_TYPE_AAC_LC and self.faults.audio_au_header
        return [
            audio.packet(
                au_header(len(payload)) + payload if with_header else payload,
                source.samples_per_payload,
            )
            for payload in payloads
        ]

    async def _send(
        self,
        stream: LiveStream,
        source: _Source,
        transport: asyncio.DatagramTransport,
        address: tuple[str, int],
    ) -> None:
        live = self._live
        loop = asyncio.get_running_loop()
        rng = self._rng
        audio = (
            None
            if stream.is_video
            else _AudioPacketizer(
                rng.randrange(1 << 16), rng.randrange(1 << 32), rng.randrange(1 << 32)
            )
        )
        shaper = _Shaper(self.faults, self._rng)
        started = loop.time()
        reason: EndReason = EndReason.CLOSED
        try:
            for index in itertools.count():
                await stream.wait_until(started + index * source.interval)
                ended = live.reason_to_end(stream)
                if ended is not None:
                    reason = ended
                    return
                datagrams = self._datagrams(source, index, audio)
                if self.faults.silent:
                    self.faults.dropped += len(datagrams)
                    datagrams = []
                for datagram in shaper.shape(datagrams):
                    transport.sendto(datagram, address)
                    self.faults.sent += 1
                    stream.parts += 1
                stream.pictures += 1
        finally:
            transport.close()
            live.end(stream, reason)
