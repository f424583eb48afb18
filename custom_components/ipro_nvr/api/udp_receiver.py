"""Receiving a live stream as RTP over UDP (spec 2.1: ``push.cgi ...&PORT=``).

:class:`RtpUdpReceiver` binds one UDP port on the local address the recorder
can reach (:func:`local_address_towards`: the source address of the route to
it), takes datagrams from the recorder's address only, puts each RTP stream
back in order (:class:`~.media.jitter.JitterBuffer`) and hands video to the
same :class:`~.media.LiveDepacketizer` the HTTP multipart path uses, and
audio (payload type 97) to :func:`~.media.rtp_audio.parse_rtp_audio`. Video
and audio may share the port: they are told apart by payload type.

Memory is bounded: the jitter buffers by packets and bytes, the depacketizer
by its picture cap, and the queue of finished items by :data:`QUEUE_SIZE`
(a consumer that falls behind loses pictures up to the next keyframe).
A datagram that is no RTP packet raises nothing: it is counted, and the first
is logged (:class:`MalformedDatagramError`), the rest at debug level.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field
import errno
import logging
import socket
from typing import Final

from .errors import NvrError, NvrTimeoutError
from .media import AccessUnit, AudioCodec, LiveDepacketizer, LiveItem, LiveStats
from .media.errors import MediaFormatError
from .media.jitter import DEFAULT_DELAY, JitterBuffer, JitterStats
from .media.rtp import RTP_HEADER_SIZE, parse_rtp
from .media.rtp_audio import AudioCodecGuess, parse_rtp_audio
from .spec import RTP_PAYLOAD_TYPE_AUDIO, RTP_VERSION

_LOGGER = logging.getLogger(__name__)

# Finished pictures and audio frames waiting for the consumer.
QUEUE_SIZE: Final = 256
# Asked of the kernel for the socket's receive buffer: a keyframe arrives as a
# burst of packets (the kernel may grant less, net.core.rmem_max).
RECEIVE_BUFFER: Final = 4 * 1024 * 1024
# Errors of a bind that mean "try the next port of the range".
_PORT_ERRNOS: Final = frozenset({errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL})


class MalformedDatagramError(MediaFormatError):
    """A datagram on the receiving port that is no RTP packet of the recorder's."""


class UdpPortUnavailableError(NvrError):
    """No port of the configured range could be bound."""


@dataclass(slots=True)
class UdpStats:
    """Counters of one receiver."""

    datagrams: int = 0
    bytes: int = 0
    # Datagrams from another address than the recorder's, ignored.
    foreign: int = 0
    malformed: int = 0
    audio_frames: int = 0
    bad_audio: int = 0
    # Items dropped because the consumer fell behind.
    dropped_items: int = 0
    video_jitter: JitterStats = field(default_factory=JitterStats)
    audio_jitter: JitterStats = field(default_factory=JitterStats)
    live: LiveStats = field(default_factory=LiveStats)


async def resolve_addresses(host: str) -> set[str]:
    """The IP addresses of ``host`` (itself when it is one)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    return {str(info[4][0]) for info in infos}


def local_address_towards(address: str) -> str:
    """The local address the kernel's route to ``address`` leaves from.

    A UDP "connect" sends nothing; it only picks the route, whose source
    address is the one the recorder can send back to.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.connect((address, 9))  # any port: nothing is sent
        return str(probe.getsockname()[0])


def _peek(datagram: bytes) -> tuple[int, int, int]:
    """Payload type, sequence number and SSRC of an RTP datagram."""
    if len(datagram) < RTP_HEADER_SIZE:
        raise MalformedDatagramError(
            f"datagram of {len(datagram)} bytes is shorter than an RTP header", datagram
        )
    if datagram[0] >> 6 != RTP_VERSION:
        raise MalformedDatagramError(f"datagram is not RTP version {RTP_VERSION}", datagram)
    return (
        datagram[1] & 0x7F,
        int.from_bytes(datagram[2:4]),
        int.from_bytes(datagram[8:12]),
    )


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, receiver: RtpUdpReceiver) -> None:
        self._receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self._receiver.datagram_received(data, str(addr[0]))

    def error_received(self, exc: Exception) -> None:
        # An ICMP error for something we sent: we send nothing, so it is noise.
        _LOGGER.debug("UDP receiver: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._receiver.close()
        self._receiver.released.set()


class RtpUdpReceiver:
    """One bound UDP port receiving the RTP of a live stream (video and audio)."""

    def __init__(
        self,
        *,
        sources: Iterable[str] | None = None,
        audio_codec: AudioCodec | None = None,
        audio_sample_rate: int = 48_000,
        jitter_delay: float = DEFAULT_DELAY,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        """Prepare; ``sources``: the recorder's addresses (None accepts any sender).

        ``audio_codec`` (with ``audio_sample_rate``): the audio stream's codec,
        which RTP does not name; None works it out from the first packets.
        """
        self.stats = UdpStats()
        self._sources = frozenset(sources) if sources is not None else None
        self._audio_guess = AudioCodecGuess()
        if audio_codec is not None:
            self._audio_guess.result = (audio_codec, audio_sample_rate)
        self._audio_pending: list[bytes] = []  # audio before its codec is known
        self._video_jitter = JitterBuffer(delay=jitter_delay, stats=self.stats.video_jitter)
        self._audio_jitter = JitterBuffer(delay=jitter_delay, stats=self.stats.audio_jitter)
        self._ssrc: dict[bool, int] = {}
        self._live = LiveDepacketizer(self.stats.live)
        self._queue: asyncio.Queue[LiveItem | None] = asyncio.Queue(queue_size)
        self._resync = False  # after an overflow: video resumes at a keyframe
        self._transport: asyncio.DatagramTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._arrived = asyncio.Event()
        self._told_malformed = False
        self._closed = False
        # Set once the socket is closed (the port free again), a loop turn after close().
        self.released = asyncio.Event()
        self.port: int | None = None
        self.host: str | None = None

    @property
    def closed(self) -> bool:
        """Whether the port was let go."""
        return self._closed

    async def bind(self, host: str, ports: Iterable[int]) -> int:
        """Bind the first free port of ``ports`` on ``host``; return it.

        :class:`UdpPortUnavailableError` when none is free (or allowed).
        """
        if self._transport is not None or self._closed:
            raise RuntimeError("a receiver binds once")
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        tried: list[int] = []
        for port in ports:
            tried.append(port)
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self), local_addr=(host, port), family=family
                )
            except OSError as err:
                if err.errno in _PORT_ERRNOS:
                    continue
                raise UdpPortUnavailableError(f"cannot bind UDP {host}:{port}: {err}") from err
            self._transport = transport
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            self.host = host
            self.port = int(transport.get_extra_info("sockname")[1])
            return self.port
        span = f"{tried[0]}-{tried[-1]}" if tried else "(none)"
        raise UdpPortUnavailableError(f"no free UDP port on {host} in {span}")

    async def wait_for_data(self, within: float) -> bool:
        """Whether a datagram of the recorder's arrived (already, or within ``within`` s)."""
        try:
            async with asyncio.timeout(within):
                await self._arrived.wait()
        except TimeoutError:
            return False
        return True

    async def items(self, *, idle_timeout: float | None = None) -> AsyncGenerator[LiveItem]:
        """Yield access units and audio frames until the receiver closes.

        :class:`~.errors.NvrTimeoutError` when nothing came for ``idle_timeout`` s.
        """
        queue = self._queue
        while True:
            try:
                async with asyncio.timeout(idle_timeout):
                    item = await queue.get()
            except TimeoutError:
                raise NvrTimeoutError(
                    f"no live data over UDP port {self.port} for {idle_timeout:.0f} s"
                ) from None
            if item is None:
                return
            yield item

    async def aclose(self) -> None:
        """:meth:`close`, then wait until the port is free again."""
        self.close()
        if self._transport is not None:
            await self.released.wait()

    def close(self) -> None:
        """Let the port go (at the loop's next turn) and end :meth:`items`."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._transport.close()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    # -- datagrams ----------------------------------------------------------------------

    def datagram_received(self, data: bytes, sender: str) -> None:
        """Take one datagram from ``sender`` (the protocol calls this)."""
        stats = self.stats
        if self._closed:
            return
        if self._sources is not None and sender not in self._sources:
            stats.foreign += 1
            return
        stats.datagrams += 1
        stats.bytes += len(data)
        try:
            payload_type, sequence, ssrc = _peek(data)
        except MalformedDatagramError as err:
            self._malformed(err)
            return
        self._arrived.set()
        audio = payload_type == RTP_PAYLOAD_TYPE_AUDIO
        jitter = self._audio_jitter if audio else self._video_jitter
        released: list[bytes] = []
        if self._ssrc.get(audio, ssrc) != ssrc:
            released = jitter.reset()  # a new stream: the old one's rest first
        self._ssrc[audio] = ssrc
        now = asyncio.get_running_loop().time()
        released += jitter.push(sequence, data, now)
        if audio:
            for datagram in released:
                self._deliver_audio(datagram)
        else:
            self._deliver_video(released)
        self._schedule()

    def _malformed(self, err: MalformedDatagramError) -> None:
        self.stats.malformed += 1
        if not self._told_malformed:
            self._told_malformed = True
            _LOGGER.warning("UDP port %s: ignoring a datagram: %s", self.port, err)
        else:
            _LOGGER.debug("UDP port %s: ignoring a datagram: %s", self.port, err)

    def _deliver_video(self, datagrams: list[bytes]) -> None:
        for datagram in datagrams:
            for unit in self._live.push_rtp(datagram):
                self._put(unit)

    def _deliver_audio(self, datagram: bytes) -> None:
        try:
            packet = parse_rtp(datagram)
            codec = self._audio_guess.feed(packet.timestamp, packet.payload)
            if codec is None:
                self._audio_pending.append(datagram)  # the next packet tells
                return
            pending, self._audio_pending = self._audio_pending, []
            for earlier in pending:
                self._deliver_audio(earlier)
            frames = parse_rtp_audio(packet.payload, *codec)
        except MediaFormatError as err:
            self.stats.bad_audio += 1
            self._malformed(MalformedDatagramError(f"audio: {err}"))
            return
        for frame in frames:
            self.stats.audio_frames += 1
            self._put(frame)

    def _put(self, item: LiveItem) -> None:
        if isinstance(item, AccessUnit) and self._resync:
            if not item.keyframe:
                self.stats.dropped_items += 1
                return
            self._resync = False
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.stats.dropped_items += 1
            if isinstance(item, AccessUnit):
                self._resync = True  # what follows needs the picture just dropped

    # -- the jitter buffers' deadline -------------------------------------------------

    def _schedule(self) -> None:
        deadlines = [
            d for d in (self._video_jitter.deadline, self._audio_jitter.deadline) if d is not None
        ]
        if not deadlines:
            return
        due = min(deadlines)
        if self._timer is not None and self._timer_at is not None and self._timer_at <= due:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = due
        self._timer = asyncio.get_running_loop().call_at(due, self._on_deadline)

    def _on_deadline(self) -> None:
        self._timer = None
        self._timer_at = None
        if self._closed:
            return
        now = asyncio.get_running_loop().time()
        self._deliver_video(self._video_jitter.due(now))
        for datagram in self._audio_jitter.due(now):
            self._deliver_audio(datagram)
        self._schedule()


__all__ = [
    "QUEUE_SIZE",
    "MalformedDatagramError",
    "RtpUdpReceiver",
    "UdpPortUnavailableError",
    "UdpStats",
    "local_address_towards",
    "resolve_addresses",
]
