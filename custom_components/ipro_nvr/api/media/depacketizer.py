"""What the H.264 and H.265 RTP depacketizers share: access-unit assembly and loss handling.

Packets of one picture share a timestamp; the marker bit ends the picture (a
timestamp change ends it too, should a marker be missing). Sequence numbers
must run +1: a gap (lost packets) or a packet from behind (reordered or
duplicated; over HTTP there is nothing to reorder, so it is dropped) spoils the
picture it falls in, and every picture after it is dropped until the next
keyframe (H.264 IDR, H.265 IRAP), because its references are gone. A stream is
also only taken up at a keyframe. Nothing here raises for damaged input: it is
counted in :class:`DepacketizerStats`.

A picture is held at most :data:`MAX_ACCESS_UNIT_SIZE` bytes: one that grows
past it (a picture that never ends: no marker, no new timestamp) is dropped
(:class:`~.errors.AccessUnitTooLargeError`, logged once per depacketizer) and
the rest of its packets are skipped; the stream resumes at the next keyframe.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
import logging
from typing import ClassVar, Final

from .access_unit import (
    START_CODE,
    AccessUnit,
    ParameterSets,
    VideoCodec,
    is_keyframe_nal,
    nal_unit_type,
)
from .errors import AccessUnitTooLargeError, MediaFormatError
from .rtp import RtpPacket, TimestampExtender, sequence_delta
from .tlv import RecorderInfo, parse_recorder_info

_LOGGER = logging.getLogger(__name__)

# The largest picture held in reassembly. A 4K H.264 I-frame at a high bitrate
# is 1-3 MiB; the multipart reader's part cap (a 4K JPEG) is the same 8 MiB.
MAX_ACCESS_UNIT_SIZE: Final = 8 * 1024 * 1024


@dataclass(slots=True)
class DepacketizerStats:
    """Counters of one depacketizer (or of several sharing one instance)."""

    packets: int = 0
    # Sequence numbers skipped over (packets that never came).
    lost_packets: int = 0
    # Packets arriving behind the sequence (reordered or duplicated), dropped.
    late_packets: int = 0
    access_units: int = 0
    # Pictures not handed out: damaged, or waiting for a keyframe.
    dropped_access_units: int = 0
    # Payloads that are not valid RFC 6184/7798 (counted, the picture dropped).
    malformed_payloads: int = 0
    # Packetization modes not used by the recorder (STAP-B, MTAP, FU-B, PACI).
    unsupported_payloads: int = 0
    # Header extensions whose recorder-information TLVs did not parse.
    bad_extensions: int = 0
    # Pictures dropped for growing past the size cap (also in dropped_access_units).
    oversize_access_units: int = 0


class VideoDepacketizer(ABC):
    """Turns the RTP packets of one video stream into :class:`AccessUnit` objects."""

    codec: ClassVar[VideoCodec]
    _PARAMETER_SET_TYPES: ClassVar[dict[int, str]]

    def __init__(
        self,
        stats: DepacketizerStats | None = None,
        *,
        max_access_unit_size: int = MAX_ACCESS_UNIT_SIZE,
    ) -> None:
        self.stats = stats if stats is not None else DepacketizerStats()
        self.max_access_unit_size = max_access_unit_size
        self._told_oversize = False
        self._clear()

    def _clear(self) -> None:
        self._expected: int | None = None
        self._extender = TimestampExtender()
        self._need_keyframe = True
        self._parameter_sets: dict[str, bytes] = {}
        # The picture being assembled (None: between pictures).
        self._timestamp: int | None = None
        self._extended = 0
        self._nals: list[bytes] = []
        self._corrupt = False
        # Payload bytes of the picture being assembled; an oversize one is skipped to its end.
        self._held = 0
        self._oversize = False
        self._info: RecorderInfo | None = None
        # The NAL unit being reassembled from fragments: its type and pieces.
        self._fragment_type = -1
        self._fragments: list[bytes] | None = None

    def push(self, packet: RtpPacket) -> list[AccessUnit]:
        """Take the next packet; return the pictures it completed (usually none or one)."""
        stats = self.stats
        stats.packets += 1
        done: list[AccessUnit] = []
        lost = 0
        if self._expected is not None:
            delta = sequence_delta(packet.sequence, self._expected)
            if delta < 0:
                stats.late_packets += 1
                return done
            lost = delta
        self._expected = (packet.sequence + 1) & 0xFFFF
        pending = self._timestamp is not None
        same_picture = pending and packet.timestamp == self._timestamp
        if lost:
            stats.lost_packets += lost
            self._need_keyframe = True
            if same_picture:
                self._corrupt = True
            else:
                # The previous picture lost its tail; whether this one lost its
                # head is only known when it visibly starts (an AUD), or when the
                # one lost packet must have been the previous picture's last.
                trusted = self._starts_access_unit(packet.payload) or (pending and lost == 1)
                if pending:
                    self._corrupt = True
                    self._finish(done)
                self._begin(packet.timestamp, corrupt=not trusted)
        elif pending and not same_picture:
            self._finish(done)  # the previous picture ended without a marker
        if self._timestamp is None:
            self._begin(packet.timestamp, corrupt=False)
        if packet.extension and self._info is None:
            try:
                self._info = parse_recorder_info(packet.extension)
            except MediaFormatError:
                stats.bad_extensions += 1
        self._take_payload(packet.payload)
        if packet.marker:
            self._finish(done)
        return done

    def _take_payload(self, payload: bytes) -> None:
        """Unpack ``payload`` into the picture, unless the picture is past the size cap."""
        self._held += len(payload)
        if self._oversize:
            return  # the rest of a dropped picture
        if self._held > self.max_access_unit_size:
            self._drop_oversize()
            return
        try:
            self._unpack(payload)
        except MediaFormatError:
            self.stats.malformed_payloads += 1
            self._abandon_fragment()
            self._corrupt = True

    def _drop_oversize(self) -> None:
        """Let go of a picture past the cap; its packets are skipped until it ends."""
        error = AccessUnitTooLargeError(self.codec, self._held, self.max_access_unit_size)
        self.stats.oversize_access_units += 1
        if not self._told_oversize:
            self._told_oversize = True
            _LOGGER.warning("%s: dropped; the stream resumes at the next keyframe", error)
        else:
            _LOGGER.debug("%s: dropped", error)
        self._nals = []
        self._fragments = None
        self._corrupt = True
        self._oversize = True

    def reset(self) -> None:
        """Forget everything but the stats: the next packet starts a new stream."""
        self._clear()

    # -- for the codecs ---------------------------------------------------------

    @abstractmethod
    def _unpack(self, payload: bytes) -> None:
        """Add the NAL units of one RTP payload (raise MediaFormatError when invalid)."""

    @abstractmethod
    def _starts_access_unit(self, payload: bytes) -> bool:
        """Whether ``payload`` begins with an access unit delimiter."""

    def _add_nal(self, nal: bytes) -> None:
        if not nal:
            raise MediaFormatError(f"{self.codec}: empty NAL unit")
        self._nals.append(nal)
        kind = self._PARAMETER_SET_TYPES.get(nal_unit_type(self.codec, nal))
        if kind is not None:
            self._parameter_sets[kind] = nal

    def _start_fragment(self, nal_type: int, header: bytes, data: bytes) -> None:
        self._abandon_fragment()
        self._fragment_type = nal_type
        self._fragments = [header, data]

    def _continue_fragment(self, nal_type: int, data: bytes, *, end: bool) -> None:
        fragments = self._fragments
        if fragments is None or nal_type != self._fragment_type:
            # The start of this NAL unit never came: the picture is damaged.
            self._abandon_fragment()
            self._corrupt = True
            return
        fragments.append(data)
        if end:
            self._fragments = None
            self._add_nal(b"".join(fragments))

    def _abandon_fragment(self) -> None:
        if self._fragments is not None:
            self._fragments = None
            self._corrupt = True

    def _unsupported(self) -> None:
        """A packetization mode the recorder does not use: the picture is incomplete."""
        self.stats.unsupported_payloads += 1
        self._abandon_fragment()
        self._corrupt = True

    # -- assembly -----------------------------------------------------------------

    def _begin(self, timestamp: int, *, corrupt: bool) -> None:
        self._timestamp = timestamp
        self._extended = self._extender.extend(timestamp)
        self._nals = []
        self._corrupt = corrupt
        self._held = 0
        self._oversize = False
        self._info = None

    def _finish(self, done: list[AccessUnit]) -> None:
        nals = self._nals
        corrupt = self._corrupt or self._fragments is not None
        info = self._info
        self._timestamp = None
        self._nals = []
        self._fragments = None
        self._info = None
        if corrupt:
            self._need_keyframe = True
            self.stats.dropped_access_units += 1
            return
        if not nals:
            return
        keyframe = any(is_keyframe_nal(self.codec, nal_unit_type(self.codec, n)) for n in nals)
        if self._need_keyframe and not keyframe:
            self.stats.dropped_access_units += 1
            return
        self._need_keyframe = False
        sets = self._parameter_sets
        self.stats.access_units += 1
        done.append(
            AccessUnit(
                codec=self.codec,
                timestamp=self._extended,
                keyframe=keyframe,
                data=START_CODE + START_CODE.join(nals),
                parameter_sets=ParameterSets(
                    sps=sets.get("sps"), pps=sets.get("pps"), vps=sets.get("vps")
                ),
                info=info,
            )
        )


__all__ = ["MAX_ACCESS_UNIT_SIZE", "DepacketizerStats", "VideoDepacketizer"]
