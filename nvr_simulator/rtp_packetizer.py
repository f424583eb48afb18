"""RTP packetization of H.264 (RFC 6184) and H.265 (RFC 7798) pictures, as the recorder sends them.

Spec 2.3.1: version 2, payload type 98 (H.264) or 101 (H.265), the marker bit
on the last packet of a picture, sequence number +1 per packet (from a random
start), a 90 kHz timestamp. NAL units that fit go alone in a packet (AUD, SPS,
PPS, SEI of a keyframe, each in its own packet as the spec's figure draws);
larger ones are cut into FU-A (H.264) / FU (H.265) fragments. Optionally, runs
of small NAL units are packed into STAP-A / AP packets. The header extension
(X bit), when given, goes on the first packet of each picture: a 16-bit
profile field, a 16-bit length in 32-bit words, then the recorder-information
TLVs, zero-padded to a whole word.

Written independently of the client's depacketizer: the tests pass pictures
through both and compare the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import struct
from typing import Final

from custom_components.ipro_nvr.api.spec import (
    RTP_PAYLOAD_TYPE_H264,
    RTP_PAYLOAD_TYPE_H265,
    RTP_VERSION,
)

from .video import H264

RTP_HEADER: Final = struct.Struct(">BBHII")
# The spec leaves the extension's profile field to "the profile"; the simulator sends 0.
EXTENSION_PROFILE: Final = 0x0000
_H264_STAP_A: Final = 24
_H264_FU_A: Final = 28
_H265_AP: Final = 48
_H265_FU: Final = 49
_SIZE_FIELD: Final = 2


@dataclass(slots=True)
class RtpPacketizer:
    """Packetizes the pictures of one stream; keeps the sequence number running."""

    codec: str  # video.H264 or video.H265
    sequence: int
    ssrc: int
    mtu: int = 1400
    aggregate: bool = False
    packets_sent: int = field(default=0, init=False)

    @property
    def payload_type(self) -> int:
        """98 for H.264, 101 for H.265 (spec 2.3.1)."""
        return RTP_PAYLOAD_TYPE_H264 if self.codec == H264 else RTP_PAYLOAD_TYPE_H265

    def packetize(
        self, nals: Sequence[bytes], timestamp: int, extension: bytes = b""
    ) -> list[bytes]:
        """Return the RTP packets of one picture (NAL units without start codes)."""
        header_room = RTP_HEADER.size + (4 + _padded_len(extension) if extension else 0)
        budget_first = self.mtu - header_room
        budget = self.mtu - RTP_HEADER.size
        if min(budget_first, budget) < 8:
            raise ValueError(f"MTU {self.mtu} leaves no room for a payload")
        payloads: list[bytes] = []
        index = 0
        while index < len(nals):
            room = budget_first if not payloads else budget
            taken, payload = self._aggregate(nals, index, room) if self.aggregate else (0, b"")
            if taken >= 2:
                payloads.append(payload)
                index += taken
                continue
            nal = nals[index]
            if len(nal) <= room:
                payloads.append(nal)
            else:
                payloads += self._fragments(nal, budget_first if not payloads else budget, budget)
            index += 1
        packets = []
        for number, payload in enumerate(payloads):
            last = number == len(payloads) - 1
            packets.append(
                self._packet(
                    payload, timestamp, marker=last, extension=extension if number == 0 else b""
                )
            )
        return packets

    # -- payload formats ------------------------------------------------------------

    def _fragments(self, nal: bytes, first_room: int, room: int) -> list[bytes]:
        """FU-A (RFC 6184 5.8) or FU (RFC 7798 4.4.3) fragments of one NAL unit."""
        if self.codec == H264:
            indicator = bytes(((nal[0] & 0xE0) | _H264_FU_A,))
            nal_type = nal[0] & 0x1F
            data = nal[1:]
            overhead = 2
        else:
            indicator = bytes(((nal[0] & 0x81) | (_H265_FU << 1), nal[1]))
            nal_type = (nal[0] >> 1) & 0x3F
            data = nal[2:]
            overhead = 3
        pieces: list[bytes] = []
        pos = 0
        while pos < len(data):
            size = (first_room if not pieces else room) - overhead
            pieces.append(data[pos : pos + size])
            pos += size
        fragments = []
        for number, piece in enumerate(pieces):
            fu_header = nal_type
            if number == 0:
                fu_header |= 0x80
            if number == len(pieces) - 1:
                fu_header |= 0x40
            fragments.append(indicator + bytes((fu_header,)) + piece)
        return fragments

    def _aggregate(self, nals: Sequence[bytes], index: int, room: int) -> tuple[int, bytes]:
        """Pack as many NAL units from ``index`` as fit into one STAP-A / AP packet."""
        header_size = 1 if self.codec == H264 else 2
        size = header_size
        end = index
        while end < len(nals) and size + _SIZE_FIELD + len(nals[end]) <= room:
            size += _SIZE_FIELD + len(nals[end])
            end += 1
        units = nals[index:end]
        if len(units) < 2:
            return 0, b""
        if self.codec == H264:
            forbidden = max(nal[0] & 0x80 for nal in units)
            nri = max(nal[0] & 0x60 for nal in units)
            header = bytes((forbidden | nri | _H264_STAP_A,))
        else:
            forbidden = max(nal[0] & 0x80 for nal in units)
            layer = min(((nal[0] & 0x01) << 5) | (nal[1] >> 3) for nal in units)
            tid = min(nal[1] & 0x07 for nal in units)
            header = bytes(
                (forbidden | (_H265_AP << 1) | (layer >> 5), ((layer & 0x1F) << 3) | tid)
            )
        body = b"".join(len(nal).to_bytes(_SIZE_FIELD) + nal for nal in units)
        return len(units), header + body

    def _packet(self, payload: bytes, timestamp: int, *, marker: bool, extension: bytes) -> bytes:
        first = (RTP_VERSION << 6) | (0x10 if extension else 0)
        second = (0x80 if marker else 0) | self.payload_type
        header = RTP_HEADER.pack(first, second, self.sequence, timestamp & 0xFFFFFFFF, self.ssrc)
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.packets_sent += 1
        if not extension:
            return header + payload
        padded = extension + b"\x00" * (_padded_len(extension) - len(extension))
        return header + struct.pack(">HH", EXTENSION_PROFILE, len(padded) // 4) + padded + payload


def _padded_len(data: bytes) -> int:
    return (len(data) + 3) // 4 * 4
