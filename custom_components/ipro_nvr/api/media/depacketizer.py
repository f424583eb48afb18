"""What the H.264 and H.265 RTP depacketizers share: access-unit assembly and loss handling.

Packets of one picture share a timestamp; the marker bit ends the picture (a
timestamp change ends it too, should a marker be missing). Sequence numbers
must run +1: a gap (lost packets) or a packet from behind (reordered or
duplicated; over HTTP there is nothing to reorder, so it is dropped) spoils the
picture it falls in, and every picture after it is dropped until the next
keyframe (H.264 IDR, H.265 IRAP), because its references are gone. A stream is
also only taken up at a keyframe. Nothing here raises for damaged input: it is
counted in :class:`DepacketizerStats`.

A picture is held at most :data:`MAX_ACCESS_UNIT_SIZE` bytes (as assembled,
with a packet's payload about to join): one that grows past it (a picture that
never ends: no marker, no new timestamp) is dropped
(:class:`~.errors.AccessUnitTooLargeError`, logged once per depacketizer) and
the rest of its packets are skipped; the stream resumes at the next keyframe.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
import logging
import struct
from typing import ClassVar, Final, Protocol

from .access_unit import START_CODE, AccessUnit, ParameterSets, VideoCodec
from .errors import AccessUnitTooLargeError, MediaFormatError
from .multipart import StandardFraming
from .rtp import RTP_HEADER_SIZE, RtpPacket, TimestampExtender
from .tlv import TlvStructureCheck

_LOGGER = logging.getLogger(__name__)

# An RTP header (RFC 3550 5.1) for take_run: its first 16 bits, sequence number,
# timestamp and SSRC.
_RTP_HEADER = struct.Struct(">HHII")
# The first byte of the packets take_run reads: version 2, no padding, no CSRC.
_PLAIN_RTP = 0x80
# The bits of the first 16 that take_run compares (all but X and the marker).
_PLAIN_RTP_MASK = 0xEF7F
_EXTENSION_BIT = 0x1000
_MARKER_BIT = 0x80
# Write a sequence number (and a timestamp) into a predicted part (take_run).
_pack_sequence = struct.Struct(">H").pack_into
_pack_sequence_timestamp = struct.Struct(">HI").pack_into
# The smallest Content-Length of n plain decimal digits (no leading zero) that
# holds an RTP header, n = 1 to 18: int() of n characters that are anything else
# (blanks, a sign, underscores, leading zeros) gives less than 10**(n - 1).
_SMALLEST_PACKET: Final = (0, *(max(10 ** (n - 1), RTP_HEADER_SIZE) for n in range(1, 19)))

# The largest picture held in reassembly. A 4K H.264 I-frame at a high bitrate
# is 1-3 MiB; the multipart reader's part cap (a 4K JPEG) is the same 8 MiB.
MAX_ACCESS_UNIT_SIZE: Final = 8 * 1024 * 1024


class PictureSink(Protocol):
    """Where :meth:`VideoDepacketizer.take` puts finished pictures (a list of them, or of more)."""

    def append(self, unit: AccessUnit, /) -> None:
        """Add one finished picture."""


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
    """Turns the RTP packets of one video stream into :class:`AccessUnit` objects.

    The picture is assembled as Annex-B in one ``bytearray`` while its packets
    arrive (a NAL unit fragmented over several packets is rebuilt in place), so
    a packet costs one copy of its payload and no object. :meth:`take` reads a
    packet where it lies (the multipart reader's buffer, see
    :class:`~.live.LiveBodyReader`); :meth:`push` takes a parsed
    :class:`RtpPacket`.
    """

    codec: ClassVar[VideoCodec]
    _PARAMETER_SET_TYPES: ClassVar[dict[int, str]]
    _KEYFRAME_TYPES: ClassVar[frozenset[int]]
    # A fragmentation unit (FU-A, FU): its payload header's first byte masked
    # (type and forbidden bit) and the value that names it; where its FU header
    # is, and the NAL unit type bits of that header.
    _FU_MASK: ClassVar[int]
    _FU_ID: ClassVar[int]
    _FU_HEADER_AT: ClassVar[int]
    _FU_TYPE_MASK: ClassVar[int]
    # The payload header's first byte masked as for an FU names an aggregate
    # (STAP-A, AP) with this value; the types of a payload of one NAL unit.
    _AGGREGATE_ID: ClassVar[int]
    _SINGLE_TYPES: ClassVar[frozenset[int]]
    # Made from those for take_run: the first bytes of a payload of one NAL
    # unit that it adds itself (forbidden bit clear, not a parameter set), and
    # of those a keyframe's.
    _PLAIN_NAL_BYTES: ClassVar[frozenset[int]]
    _KEYFRAME_NAL_BYTES: ClassVar[frozenset[int]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        plain = frozenset(
            first
            for first in range(0x80)
            if cls._nal_type(first) in cls._SINGLE_TYPES - cls._PARAMETER_SET_TYPES.keys()
        )
        cls._PLAIN_NAL_BYTES = plain
        cls._KEYFRAME_NAL_BYTES = frozenset(
            first for first in plain if cls._nal_type(first) in cls._KEYFRAME_TYPES
        )

    def __init__(
        self,
        stats: DepacketizerStats | None = None,
        *,
        max_access_unit_size: int = MAX_ACCESS_UNIT_SIZE,
    ) -> None:
        self.stats = stats if stats is not None else DepacketizerStats()
        self.max_access_unit_size = max_access_unit_size
        self._told_oversize = False
        self._tlv_check = TlvStructureCheck()
        self._clear()

    def _clear(self) -> None:
        # The sequence number of the next packet; -1 before the first one.
        self._expected = -1
        self._extender = TimestampExtender()
        self._need_keyframe = True
        self._parameter_sets: dict[str, bytes] = {}
        # What the pictures carry: rebuilt only when a parameter set changes.
        self._sets = ParameterSets()
        self._sets_changed = False
        # The picture being assembled (timestamp -1: between pictures).
        self._timestamp = -1
        self._extended = 0
        self._data = bytearray()  # Annex-B, start codes included
        self._keyframe = False
        self._corrupt = False
        # Whether the picture being assembled went past the cap: skipped to its end.
        self._oversize = False
        self._info_tlvs: bytes | None = None
        # The NAL unit being reassembled from fragments: its type, and where its
        # start code is in ``_data`` (-1: none).
        self._fragment_type = -1
        self._fragment_start = -1
        # Its payload header as its first fragment had it (take_run's ``middle``).
        self._fragment_prefix = b""
        # take_run's prediction of the next part (see there), kept between runs:
        # the part's framing up to its fragment's data, its size, where that
        # data starts and where the sequence number is. Only take_run keeps
        # one, for the packet it expects next; any other packet drops it.
        self._prediction: tuple[bytearray, int, int, int] | None = None
        # take_run's prediction of a picture's first fragment: the last first
        # fragment it read (no header extension), as the part's framing up to
        # its FU header, its size, where its sequence number is; the start
        # code and NAL unit header it rebuilds, whether it is a keyframe's, and
        # its middle fragments' ``middle``. Kept from picture to picture.
        self._opening: tuple[bytearray, int, int, bytes, bool, bytes] | None = None
        # The part framing both were made with (they hold its head).
        self._predicted_framing: StandardFraming | None = None

    def push(self, packet: RtpPacket) -> list[AccessUnit]:
        """Take the next packet; return the pictures it completed (usually none or one)."""
        done: list[AccessUnit] = []
        extension = packet.extension
        data = extension + packet.payload if extension else packet.payload
        self.take(
            done,
            data,
            len(extension),
            len(data),
            packet.sequence,
            packet.timestamp,
            packet.marker,
            0,
        )
        return done

    def take(  # noqa: PLR0917 - a packet in place: its buffer, offsets and header fields
        self,
        done: PictureSink,
        data: bytes | bytearray | memoryview,
        start: int,
        end: int,
        sequence: int,
        timestamp: int,
        marker: int,
        extension: int,
    ) -> None:
        """Take the packet whose payload is ``data[start:end]``; add finished pictures to ``done``.

        ``marker`` is the RTP marker bit (any true value when set);
        ``data[extension:start]`` holds the header extension's data (the
        recorder TLVs, spec 7), empty when it has none. ``data`` is only read
        during the call.

        Most packets continue the picture being assembled with the next
        fragment of its NAL unit; they take the first branches below and
        cost a payload copy. Anything else (a new picture, loss, another
        payload structure) goes through :meth:`_next_picture` and the codec's
        :meth:`_unpack`.
        """
        self.stats.packets += 1
        self._prediction = None  # take_run's holds only for the state it left
        if sequence == self._expected and timestamp == self._timestamp:
            self._expected = (sequence + 1) & 0xFFFF
        elif not self._next_packet(done, data, start, end, sequence, timestamp):
            return
        if extension < start and self._info_tlvs is None:
            self._take_info(bytes(data[extension:start]))
        if self._oversize:
            pass  # the rest of a picture dropped at the cap
        elif len(self._data) + end - start > self.max_access_unit_size:
            self._drop_oversize(len(self._data) + end - start)
        else:
            fu_at = self._FU_HEADER_AT
            if (
                end - start > fu_at + 1
                and data[start] & self._FU_MASK == self._FU_ID
                and not (fu_header := data[start + fu_at]) & 0x80  # not a first fragment
                and fu_header & self._FU_TYPE_MASK == self._fragment_type
                and self._fragment_start >= 0
            ):
                self._data += data[start + fu_at + 1 : end]  # the next fragment
                if fu_header & 0x40:  # E: the last one
                    self._end_fragment()
            else:
                try:
                    self._unpack(data, start, end)
                except MediaFormatError:
                    self.stats.malformed_payloads += 1
                    self._abandon_fragment()
                    self._corrupt = True
        if marker:
            self._finish(done)

    def take_run(  # noqa: PLR0912, PLR0915, PLR0917 - one loop, by design
        self,
        done: PictureSink,
        buf: bytearray,
        view: memoryview,
        pos: int,
        framing: StandardFraming,
        payload_type: int,
        ssrc: int,
    ) -> tuple[int, int, bool]:
        """The live path's fused fast path: a run of multipart parts of RTP video, in one loop.

        A :data:`~.multipart.PartRun` for the packets of ``payload_type`` and
        ``ssrc`` (those :class:`~.live.LiveDepacketizer` sends here). Nearly
        every part of a live stream is framed exactly as the one before and
        carries the next packet of the sequence: this loop reads each such
        part's head, its RTP header and its payload where they lie in the
        reader's buffer, with the picture being assembled held in local
        variables (written back when the run ends), without the calls of the
        general path (:meth:`~.multipart.MultipartReader.feed_into`,
        :meth:`~.live.LiveDepacketizer.take_part`, ``rtp_span``, :meth:`take`)
        and with the same outcome: from the sequence check on, it is
        :meth:`take` for a packet that follows the last one. It handles what
        every picture has: its start (a new timestamp), the recorder TLVs, the
        access unit delimiter and other single NAL units, STAP-A / AP
        aggregates, the fragments of FU-A / FU, and its end (the marker).

        Within a fragmented NAL unit it reads predicted parts: the recorder
        fills each packet to its MTU, so the next fragment's part is framed
        byte for byte as the last one (see the loop's end) but for the
        sequence number, and one comparison takes it. The prediction is kept
        for the next run when the buffer ends within such a part. A picture's
        first fragment is predicted likewise from the last picture's (its
        timestamp written in too) when it carries no header extension. The
        predictions only spare the parsing: a part that differs from them in
        any byte is read as before.

        It stops at the first part whose head is not the template's or is
        incomplete, or whose packet is not plain (padding, CSRCs, another
        source, a short header extension), is not the next in the sequence
        (loss handling is :meth:`_next_packet`'s), or holds anything else: a
        parameter set, damage (bad TLVs, a malformed payload, a fragment whose
        start is missing), a packetization mode the recorder does not use, a
        picture near the size cap. The general path reads that part, from
        where this loop left the depacketizer: at most the new picture begun
        and its TLVs taken, as :meth:`take` does first. Returns where it
        stopped, how many parts it took and whether it stopped at a part
        whose body is not all in (see :data:`~.multipart.PartRun`).
        """
        if self._oversize:
            return pos, 0, False  # the rest of a picture dropped at the cap: take() skips it
        lead = framing.lead
        tail = framing.tail
        lead_size = len(lead)
        next_line_size = len(framing.next_line)
        tail_size = len(tail)
        tail_within = framing.tail_within
        smallest = _SMALLEST_PACKET
        data = self._data
        # Parts end here at the latest: in the buffer, at most max_part long;
        # fewer than 2**16 of them (the sequence numbers count them, below); and
        # no picture past the cap (a part adds less than twice its size to one).
        stop = min(
            len(buf),
            pos + framing.max_part,
            pos + 0xFFFF * (lead_size + tail_size),
            pos + (self.max_access_unit_size - len(data)) // 2,
        )
        # The first 16 bits of the RTP header that this loop takes, marker and X aside.
        plain = _PLAIN_RTP << 8 | payload_type
        unpack_header = _RTP_HEADER.unpack_from
        nal_header_size = self._FU_HEADER_AT
        fu_mask = self._FU_MASK
        fu_id = self._FU_ID
        type_mask = self._FU_TYPE_MASK
        single_nal = self._PLAIN_NAL_BYTES
        # The picture being assembled, as in take(); written back below. The
        # fragmented NAL unit being reassembled, if any, is known by how its
        # middle fragments begin (``middle``: payload header, FU header without
        # S or E); none: an empty tuple, which no bytes start with.
        first_expected = expected = self._expected
        current = self._timestamp
        extended = self._extended
        keyframe = self._keyframe
        corrupt = self._corrupt
        info = self._info_tlvs
        middle: bytes | tuple[()] = ()
        if self._fragment_start >= 0:
            middle = self._fragment_prefix + bytes((self._fragment_type,))
        # The prediction of the next part (built below), if any.
        predicted, size, skip, at = self._prediction or (None, 0, 0, 0)
        opening = self._opening
        if framing is not self._predicted_framing:  # another head: other parts
            predicted = opening = None
        waiting = False
        codec = self.codec
        handed = 0  # pictures handed out here (added to the stats at the end)
        while True:
            if predicted is not None:
                # Predicted parts: whole ones before stop, the sequence number below its wrap.
                taken = pos
                last = min(expected + (stop - pos) // size, 0x10000)
                for sequence in range(expected, last):
                    _pack_sequence(predicted, at, sequence)
                    if not buf.startswith(predicted, pos):
                        break
                    data += view[pos + skip : pos + size]
                    pos += size
                expected += (pos - taken) // size
            if not buf.startswith(lead, pos):
                # A part to wait for when the buffer ends within its head's
                # first bytes, its delimiter line in (the tolerant parser would
                # be reading its header lines).
                rest = len(buf) - pos
                waiting = next_line_size <= rest < lead_size and buf.startswith(lead[:rest], pos)
                break
            # The part's head: the template's bytes around plain Content-Length digits.
            digits = pos + lead_size
            found = buf.find(tail, digits, digits + tail_within)
            if found < 0:
                break
            try:
                length = int(buf[digits:found])
            except ValueError:
                break
            start = found + tail_size
            end = start + length
            if length < smallest[found - digits]:
                break
            if end > stop:
                # Plain digits (above): a part to wait for when not all in.
                waiting = end > len(buf) and length <= framing.max_part
                break
            # The RTP header: version 2, no padding or CSRCs, this payload type and source.
            word, sequence, timestamp, packet_ssrc = unpack_header(buf, start)
            if word & _PLAIN_RTP_MASK != plain or sequence != expected or packet_ssrc != ssrc:
                break
            payload = start + RTP_HEADER_SIZE
            if word & _EXTENSION_BIT:  # a header extension: the recorder TLVs (spec 7)
                extension = payload + 4
                if extension > end:
                    break
                payload = extension + 4 * (buf[extension - 2] << 8 | buf[extension - 1])
                if payload > end:
                    break
                if info is None and timestamp == current and extension < payload:
                    break  # the picture's TLVs in a later packet: take() keeps them
            # From here on this is take() for the next packet of the sequence.
            if timestamp != current:  # a new picture
                if current >= 0:  # the previous one ended without a marker
                    self._emit(done, data, corrupt or bool(middle), keyframe, extended, info)
                    middle = ()
                    data = bytearray()
                # (Between pictures the picture's bytes are empty: _finish left them so.)
                current = timestamp
                extended = self._extender.extend(timestamp)
                keyframe = corrupt = False
                info = None
                if word & _EXTENSION_BIT and extension < payload:  # the recorder TLVs
                    tlvs = bytes(view[extension:payload])
                    if not self._tlv_check.sound(tlvs):
                        break  # counted by the general path
                    info = tlvs
            if buf.startswith(middle, payload, end - 1):  # the next middle fragment, not empty
                data += view[payload + nal_header_size + 1 : end]
            elif end - payload > nal_header_size + 1 and buf[payload] & fu_mask == fu_id:
                fu_header = buf[payload + nal_header_size]  # another fragment (FU-A, FU)
                nal_type = fu_header & type_mask
                if fu_header & 0x40 and nal_type in self._PARAMETER_SET_TYPES:
                    break  # a parameter set: the general path keeps it
                if fu_header & 0x80:  # S: the first fragment rebuilds the NAL header
                    if middle:
                        corrupt = True  # the last NAL unit never ended
                    self._fragment_start = len(data)
                    nal_start = START_CODE + self._fragment_header(buf, payload, nal_type)
                    data += nal_start
                    opens_keyframe = nal_type in self._KEYFRAME_TYPES
                    if opens_keyframe:
                        keyframe = True
                    if not word & (_EXTENSION_BIT | _MARKER_BIT) and not fu_header & 0x40:
                        opening = (  # the next picture's may be framed alike (below)
                            bytearray(view[pos : payload + nal_header_size + 1]),
                            end - pos,
                            start + 2 - pos,
                            nal_start,
                            opens_keyframe,
                            bytes(buf[payload : payload + nal_header_size]) + bytes((nal_type,)),
                        )
                elif not middle or nal_type != middle[-1]:
                    break  # its start is missing
                data += view[payload + nal_header_size + 1 : end]
                if fu_header & 0x40:
                    middle = ()  # E: the last one
                else:  # the fragments in between begin like this one, without S
                    middle = bytes(buf[payload : payload + nal_header_size]) + bytes((nal_type,))
            elif end - payload >= nal_header_size and (first := buf[payload]) in single_nal:
                # One NAL unit, not a parameter set (the access unit delimiter, SEI, a slice).
                if middle:
                    corrupt = True  # a fragmented NAL unit never ended
                    middle = ()
                data += START_CODE
                data += view[payload:end]
                if first in self._KEYFRAME_NAL_BYTES:
                    keyframe = True
            elif (units := self._plain_aggregate(buf, payload, end)) is not None:
                if middle:
                    corrupt = True
                    middle = ()
                for kind, unit_start, unit_end in units:
                    data += START_CODE
                    data += view[unit_start:unit_end]
                    if kind in self._KEYFRAME_TYPES:
                        keyframe = True
            else:
                break
            expected = sequence + 1  # (made 16 bits below: the wrap goes to take())
            if word & _MARKER_BIT:  # the picture's last packet
                if corrupt or middle or not data or self._need_keyframe or self._sets_changed:
                    self._emit(done, data, corrupt or bool(middle), keyframe, extended, info)
                else:  # _emit's usual case: a sound picture handed out
                    handed += 1
                    done.append(
                        AccessUnit(
                            codec, extended, keyframe, bytes(data), self._sets, info_tlvs=info
                        )
                    )
                current = -1
                middle = ()
                data = bytearray()
                predicted = None
            elif middle:
                # A fragmented NAL unit goes on. Its next middle fragments are
                # framed as this part (spec 2.3.1, 2.3.3, 2.3.4): the same head
                # (the packets fill the MTU: the same Content-Length), the same
                # RTP header but for the sequence number +1 (the same picture:
                # timestamp, source, no marker), the same header extension
                # (none, or the picture's TLVs again) and the payload and FU
                # headers of a middle fragment. With the sequence number written
                # in, one comparison reads such a part's head, RTP header and
                # payload start as the loop above would, with the same outcome
                # (the TLVs of a picture's later packets are not read, as in
                # take()); the first that differs (the last fragment, loss,
                # another size...) is read as above.
                size = end - pos
                predicted = bytearray(view[pos:payload])
                predicted += middle
                skip = len(predicted)
                at = start + 2 - pos  # the sequence number
            else:
                predicted = None
                if opening is not None and end + opening[1] <= stop and expected <= 0xFFFF:
                    # The next part may be the first fragment of a NAL unit framed
                    # as the last one read: the same head, RTP header (this
                    # picture's timestamp, the next sequence number: spec 2.3.1),
                    # payload and FU headers (the same type: a P slice after a P
                    # slice). Taken as above; its middle fragments are then
                    # predicted from it.
                    framed, size, at, nal_start, opens_keyframe, opened = opening
                    _pack_sequence_timestamp(framed, at, expected, current)
                    if buf.startswith(framed, end):
                        skip = len(framed)
                        self._fragment_start = len(data)
                        data += nal_start
                        data += view[end + skip : end + size]
                        keyframe = keyframe or opens_keyframe
                        middle = opened
                        predicted = bytearray(framed)
                        predicted[-1] = opened[-1]  # the FU header without S
                        expected += 1
                        end += size
            pos = end
        parts = (expected - first_expected) & 0xFFFF
        if parts:
            self._expected = expected & 0xFFFF
        self._timestamp = current
        self._extended = extended
        self._data = data
        self._keyframe = keyframe
        self._corrupt = corrupt
        self._info_tlvs = info
        if middle:
            self._fragment_type = middle[-1]
            self._fragment_prefix = middle[:-1]
        else:
            self._fragment_start = -1
        # The state has not changed since the prediction was made, but for the
        # parts it took: it holds for the next packet.
        self._prediction = None if predicted is None else (predicted, size, skip, at)
        self._opening = opening
        self._predicted_framing = framing
        stats = self.stats  # once per run: nothing above reads them
        stats.packets += parts
        stats.access_units += handed
        return pos, parts, waiting

    def _plain_aggregate(
        self, data: bytearray, start: int, end: int
    ) -> list[tuple[int, int, int]] | None:
        """The NAL units of an aggregate (STAP-A, AP) take_run adds itself, or None.

        As ``(type, start, end)``: a sound aggregate without a parameter set
        (the delimiter and SEI of a picture, often); None for anything else,
        left to :meth:`_unpack`.
        """
        if end - start <= self._FU_HEADER_AT or data[start] & self._FU_MASK != self._AGGREGATE_ID:
            return None
        try:
            units = list(self._aggregate_units(data, start, end))
        except MediaFormatError:
            return None
        for kind, _start, _end in units:
            if kind in self._PARAMETER_SET_TYPES:
                return None
        return units

    def _next_packet(  # noqa: PLR0917 - as take
        self,
        done: PictureSink,
        data: bytes | bytearray | memoryview,
        start: int,
        end: int,
        sequence: int,
        timestamp: int,
    ) -> bool:
        """A packet that does not simply continue the picture; False when it is dropped (late)."""
        stats = self.stats
        expected = self._expected
        pending = self._timestamp >= 0
        same_picture = pending and timestamp == self._timestamp
        if sequence != expected and expected >= 0:
            lost = (sequence - expected) & 0xFFFF
            if lost >= 0x8000:  # behind: reordered or duplicated
                stats.late_packets += 1
                return False
            stats.lost_packets += lost
            self._need_keyframe = True
            if same_picture:
                self._corrupt = True
            else:
                # The previous picture lost its tail; whether this one lost its
                # head is only known when it visibly starts (an AUD), or when the
                # one lost packet must have been the previous picture's last.
                trusted = self._starts_access_unit(data, start, end) or (pending and lost == 1)
                if pending:
                    self._corrupt = True
                    self._finish(done)
                self._begin(timestamp, corrupt=not trusted)
        elif pending and not same_picture:
            self._finish(done)  # the previous picture ended without a marker
        self._expected = (sequence + 1) & 0xFFFF
        if self._timestamp < 0:
            self._begin(timestamp, corrupt=False)
        return True

    def _take_info(self, tlvs: bytes) -> None:
        """Keep the picture's recorder TLVs when their structure is sound (spec 7.1)."""
        if self._tlv_check.sound(tlvs):
            self._info_tlvs = tlvs
        else:
            self.stats.bad_extensions += 1

    def _drop_oversize(self, size: int) -> None:
        """Let go of a picture past the cap (at ``size`` bytes); skip its packets to its end."""
        error = AccessUnitTooLargeError(self.codec, size, self.max_access_unit_size)
        self.stats.oversize_access_units += 1
        if not self._told_oversize:
            self._told_oversize = True
            _LOGGER.warning("%s: dropped; the stream resumes at the next keyframe", error)
        else:
            _LOGGER.debug("%s: dropped", error)
        self._data = bytearray()
        self._fragment_start = -1
        self._corrupt = True
        self._oversize = True

    def reset(self) -> None:
        """Forget everything but the stats: the next packet starts a new stream."""
        self._clear()

    # -- for the codecs ---------------------------------------------------------

    @abstractmethod
    def _unpack(self, data: bytes | bytearray | memoryview, start: int, end: int) -> None:
        """Add the NAL units of the payload ``data[start:end]`` (MediaFormatError when invalid)."""

    @abstractmethod
    def _starts_access_unit(
        self, data: bytes | bytearray | memoryview, start: int, end: int
    ) -> bool:
        """Whether the payload ``data[start:end]`` begins with an access unit delimiter."""

    @staticmethod
    @abstractmethod
    def _nal_type(first: int) -> int:
        """The type of a NAL unit whose header begins with the byte ``first``."""

    @abstractmethod
    def _fragment_header(
        self, data: bytes | bytearray | memoryview, start: int, nal_type: int
    ) -> bytes:
        """The NAL unit header a first fragment (payload ``data[start:]``) rebuilds."""

    @abstractmethod
    def _aggregate_units(
        self, data: bytes | bytearray | memoryview, start: int, end: int
    ) -> Iterator[tuple[int, int, int]]:
        """``(type, start, end)`` of each NAL unit of the aggregate ``data[start:end]``.

        Raises MediaFormatError at the first unit that does not fit (after
        those before it).
        """

    def _add_nal(
        self, nal_type: int, data: bytes | bytearray | memoryview, start: int, end: int
    ) -> None:
        """Add the whole NAL unit ``data[start:end]`` of type ``nal_type``."""
        if start >= end:
            raise MediaFormatError(f"{self.codec}: empty NAL unit")
        self._abandon_fragment()
        picture = self._data
        picture += START_CODE
        picture += data[start:end]
        if nal_type in self._KEYFRAME_TYPES:
            self._keyframe = True
        elif nal_type in self._PARAMETER_SET_TYPES:
            self._parameter_set(nal_type, bytes(data[start:end]))

    def _parameter_set(self, nal_type: int, nal: bytes) -> None:
        kind = self._PARAMETER_SET_TYPES[nal_type]
        if self._parameter_sets.get(kind) != nal:
            self._parameter_sets[kind] = nal
            self._sets_changed = True

    def _start_fragment(
        self, nal_type: int, data: bytes | bytearray | memoryview, start: int
    ) -> None:
        """Open a fragmented NAL unit of ``nal_type``: its first fragment is ``data[start:]``."""
        self._abandon_fragment()
        picture = self._data
        self._fragment_type = nal_type
        self._fragment_start = len(picture)
        self._fragment_prefix = bytes(data[start : start + self._FU_HEADER_AT])
        picture += START_CODE
        picture += self._fragment_header(data, start, nal_type)
        if nal_type in self._KEYFRAME_TYPES:
            self._keyframe = True

    def _lost_fragment_start(self) -> None:
        """A fragment whose NAL unit's start never came: the picture is damaged."""
        self._abandon_fragment()
        self._corrupt = True

    def _end_fragment(self) -> None:
        nal_type = self._fragment_type
        start = self._fragment_start + len(START_CODE)
        self._fragment_start = -1
        if nal_type in self._PARAMETER_SET_TYPES:
            self._parameter_set(nal_type, bytes(self._data[start:]))

    def _abandon_fragment(self) -> None:
        if self._fragment_start >= 0:
            self._fragment_start = -1
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
        self._data = bytearray()
        self._keyframe = False
        self._corrupt = corrupt
        self._oversize = False
        self._info_tlvs = None

    def _finish(self, done: PictureSink) -> None:
        picture = self._data
        corrupt = self._corrupt or self._fragment_start >= 0
        self._timestamp = -1
        self._fragment_start = -1
        self._data = bytearray()
        self._emit(done, picture, corrupt, self._keyframe, self._extended, self._info_tlvs)

    def _emit(  # noqa: PLR0917 - the picture's state, from take_run's locals or the object
        self,
        done: PictureSink,
        picture: bytearray,
        corrupt: bool,
        keyframe: bool,
        timestamp: int,
        info_tlvs: bytes | None,
    ) -> None:
        """Hand out a finished picture, or drop it (damaged, or no keyframe yet)."""
        if corrupt:
            self._need_keyframe = True
            self.stats.dropped_access_units += 1
            return
        if not picture:
            return
        if self._need_keyframe and not keyframe:
            self.stats.dropped_access_units += 1
            return
        self._need_keyframe = False
        if self._sets_changed:
            sets = self._parameter_sets
            self._sets = ParameterSets(
                sps=sets.get("sps"), pps=sets.get("pps"), vps=sets.get("vps")
            )
            self._sets_changed = False
        self.stats.access_units += 1
        done.append(
            AccessUnit(
                self.codec, timestamp, keyframe, bytes(picture), self._sets, info_tlvs=info_tlvs
            )
        )


__all__ = ["MAX_ACCESS_UNIT_SIZE", "DepacketizerStats", "PictureSink", "VideoDepacketizer"]
