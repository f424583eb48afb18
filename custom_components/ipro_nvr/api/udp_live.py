"""One live stream as RTP over UDP on a leased UID (spec 2.1), for the live feed.

``push.cgi?UID&CAM&CMD=START&COMP&PORT`` asks the recorder to send RTP to
``PORT`` at the address the request came from. :class:`UdpLiveConnection`
binds that port first (:class:`~.udp_receiver.RtpUdpReceiver`, on the local
address of the route to the recorder unless told otherwise, the first free
port of the configured range), then sends the START, and waits a few seconds
for the first datagram: a recorder behind NAT, a firewall, or a client in a
container without host networking never gets one through, and
:class:`NoUdpDataError` tells the caller to use HTTP instead. Audio goes to
the same port (told apart by payload type). The STOP requests carry the port
as the START did (spec 2.1.1.1's sequence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from . import urls
from .errors import CannotConnectError, NvrError
from .media import LiveItem
from .media.jitter import DEFAULT_DELAY
from .scheduler import Priority
from .udp_receiver import RtpUdpReceiver, local_address_towards, resolve_addresses
from .urls import LiveCodec, Request

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from .client import NvrClient
    from .session import Lease

# How long the first datagram may take after the START was accepted.
DEFAULT_FIRST_DATA_WITHIN: Final = 5.0
# The default range: 100 ports above the IANA registered range's busy lower part.
DEFAULT_PORTS: Final = range(50000, 50100)


@dataclass(slots=True)
class UdpVerdict:
    """What the feeds sharing one :class:`UdpSettings` learnt: whether UDP gets through."""

    # Set when a START was taken but nothing arrived: the network between the
    # recorder and us drops it (NAT, firewall, container), for every camera alike.
    blocked: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class UdpSettings:
    """How a recorder's live feeds receive RTP over UDP (share one for a shared verdict)."""

    ports: range = DEFAULT_PORTS
    # The local address to bind; None: the source address of the route to the recorder.
    bind_host: str | None = None
    first_data_within: float = DEFAULT_FIRST_DATA_WITHIN
    jitter_delay: float = DEFAULT_DELAY
    verdict: UdpVerdict = field(default_factory=UdpVerdict, compare=False)


class NoUdpDataError(NvrError):
    """The recorder took the RTP/UDP START, but no datagram arrived in time."""


class UdpLiveConnection:
    """A bound port and the recorder's RTP/UDP streams (video, maybe audio) to it."""

    def __init__(
        self,
        client: NvrClient,
        lease: Lease,
        channel: int,
        codec: LiveCodec,
        settings: UdpSettings,
    ) -> None:
        """Prepare; nothing is bound or sent before :meth:`open`."""
        if codec is LiveCodec.JPEG:
            raise ValueError("JPEG is offered over HTTP(S) only, not RTP (spec 1.2)")
        self._client = client
        self._lease = lease
        self.channel = channel
        self.codec = codec
        self.settings = settings
        self.receiver: RtpUdpReceiver | None = None
        self.video_started = False
        self.audio_started = False

    @property
    def port(self) -> int | None:
        """The bound port (None before :meth:`open`)."""
        return None if self.receiver is None else self.receiver.port

    async def open(self, *, priority: Priority = Priority.USER) -> None:
        """Bind, send the video START and wait for the first datagram.

        :class:`~.udp_receiver.UdpPortUnavailableError` when no port is free,
        :class:`NoUdpDataError` when nothing arrives, :class:`~.errors.CannotConnectError`
        when the recorder's name does not resolve or no route leads there; the
        recorder's refusals raise as for any command.
        """
        settings = self.settings
        try:
            sources = await resolve_addresses(self._client.host)
            # IPv4 first: recorders are mostly addressed by it (the HTTP connection's choice).
            recorder = min(sources, key=lambda address: (":" in address, address))
            host = settings.bind_host or local_address_towards(recorder)
        except (OSError, ValueError) as err:  # no such host, or no route to it
            raise CannotConnectError(f"no route to {self._client.host} for RTP: {err}") from err
        receiver = self.receiver = RtpUdpReceiver(
            sources=sources, jitter_delay=settings.jitter_delay
        )
        port = await receiver.bind(host, settings.ports)
        await self._client.send_on(
            self._lease, urls.live_start(self.channel, self.codec, rtp_port=port), priority=priority
        )
        self.video_started = True
        if not await receiver.wait_for_data(settings.first_data_within):
            raise NoUdpDataError(
                f"no RTP over UDP arrived on {host}:{port} within "
                f"{settings.first_data_within:g} s of the START"
            )

    async def start_audio(self) -> None:
        """Send the audio START to the same port (the recorder takes it after video)."""
        if self.port is None:
            raise RuntimeError("open() first")
        await self._client.send_on(
            self._lease,
            urls.live_start(self.channel, LiveCodec.AUDIO, rtp_port=self.port),
            priority=Priority.NORMAL,
        )
        self.audio_started = True

    def items(self, *, idle_timeout: float | None = None) -> AsyncGenerator[LiveItem]:
        """The pictures and audio frames as they come (see ``RtpUdpReceiver.items``)."""
        if self.receiver is None:
            raise RuntimeError("open() first")
        return self.receiver.items(idle_timeout=idle_timeout)

    def stop_requests(self) -> list[Request]:
        """The STOPs for what was started: audio, then the video it depends on."""
        port = self.port
        if port is None:
            return []
        stops = []
        if self.audio_started:
            stops.append(urls.live_stop(self.channel, LiveCodec.AUDIO, rtp_port=port))
        if self.video_started:
            stops.append(urls.live_stop(self.channel, self.codec, rtp_port=port))
        return stops

    async def aclose(self) -> None:
        """Let the port go (the STOPs are the caller's, on its lease)."""
        if self.receiver is not None:
            await self.receiver.aclose()


__all__ = [
    "DEFAULT_FIRST_DATA_WITHIN",
    "DEFAULT_PORTS",
    "NoUdpDataError",
    "UdpLiveConnection",
    "UdpSettings",
    "UdpVerdict",
]
