"""The live path's fused fast path against its general path: the same items, the same counters.

:class:`LiveBodyReader` offers each run of parts to the depacketizer's
``take_run``, which reads most parts in one loop with the picture in local
variables; ``MultipartReader.feed`` + ``LiveDepacketizer.push`` read every part
one at a time through the general code. For any stream, clean or damaged
(loss, reordering, another source, bad TLVs, bit flips, other part heads,
other part types, garbage, a small size cap, the sequence number wrap),
chunked anyhow, both give the same pictures (bytes, timestamps, keyframes,
parameter sets, recorder information) and the same counters.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    LiveDepacketizer,
    MultipartReader,
    depacketizer as depacketizer_module,
)
from custom_components.ipro_nvr.api.media.access_unit import VideoCodec
from custom_components.ipro_nvr.api.media.depacketizer import VideoDepacketizer
from custom_components.ipro_nvr.api.media.errors import PartTooLargeError
from custom_components.ipro_nvr.api.media.h264 import H264Depacketizer
from custom_components.ipro_nvr.api.media.h265 import H265Depacketizer
from custom_components.ipro_nvr.api.media.live import LiveBodyReader, LiveItem, LiveStats
from custom_components.ipro_nvr.api.media.multipart import MultipartStats
from nvr_simulator.rtp_packetizer import RtpPacketizer
from nvr_simulator.video import VideoFormat, cached_video_clip

from .helpers import multipart_part, rtp_packet, split, time_tlv, tlv16

FMT = VideoFormat()  # 20 pictures, a keyframe every 10
STEP = 90_000 // FMT.fps
TLVS = tlv16(0x0001, 3) + time_tlv(0x0007, 1_700_000_000, hours=9) + tlv16(0x0005, 1)
JPEG = b"\xff\xd8\xff\xdb\x00\x04\x01\x02\xff\xd9"
MUTATIONS = (
    "drop",
    "duplicate",
    "swap",
    "flip",
    "payload flip",
    "unmark",
    "mark",
    "ssrc",
    "payload type",
    "bad tlvs",
    "padding",
    "truncate",
    "jpeg",
    "audio",
    "other head",
    "leading zero",
    "plus sign",
    "underscore",
    "garbage",
    # What makes a predicted part (the next middle fragment, framed as the last
    # one) differ from its prediction.
    "timestamp",
    "sequence",
    "tlv value",
    "fu bits",
    "shorten",
)


def _with_extension(packet: bytes, tlvs: bytes) -> bytes:
    """``packet`` (no extension, no CSRCs) with the recorder TLVs in a header extension."""
    if packet[0] & 0x10:
        return packet
    extension = struct.pack(">HH", 0, len(tlvs) // 4) + tlvs
    return bytes((packet[0] | 0x10,)) + packet[1:12] + extension + packet[12:]


def _packets(
    codec: str, count: int, mtu: int, *, aggregate: bool, tlvs: str, sequence: int
) -> list[bytes]:
    clip = cached_video_clip(codec, 1, FMT)
    packetizer = RtpPacketizer(codec, sequence=sequence, ssrc=0xCAFE, mtu=mtu, aggregate=aggregate)
    extension = TLVS if tlvs != "none" else b""
    packets = [
        packet
        for index, picture in enumerate(clip.pictures[:count])
        for packet in packetizer.packetize(picture.nals, 7000 + STEP * index, extension)
    ]
    return [_with_extension(p, TLVS) for p in packets] if tlvs == "every" else packets


type _Part = tuple[str, bytes, str]  # content type, body, how its head is written


def _mutate(parts: list[_Part], mutation: str, at: int, value: int) -> None:  # noqa: PLR0911, PLR0912
    index = at % len(parts)
    content_type, body, head = parts[index]
    packet = bytearray(body)
    if mutation == "drop":
        del parts[index]
        return
    if mutation == "duplicate":
        parts.insert(index, parts[index])
        return
    if mutation == "swap":
        if index + 1 < len(parts):
            parts[index], parts[index + 1] = parts[index + 1], parts[index]
        return
    if mutation == "jpeg":
        parts.insert(index, ("image/jpeg", JPEG, "standard"))
        return
    if mutation == "audio":
        parts.insert(index, ("audio/48kaac-lc", b"\x00\x21\x10\x04", "standard"))
        return
    if mutation in {"other head", "leading zero", "plus sign", "underscore", "garbage"}:
        parts[index] = (content_type, body, mutation)
        return
    if len(packet) < 16:
        return
    if mutation == "flip":
        packet[value % min(len(packet), 48)] ^= 1 << (value % 8)
    elif mutation == "payload flip":  # the payload header, FU header, first unit
        payload = 12 + (4 + 4 * (packet[14] << 8 | packet[15]) if packet[0] & 0x10 else 0)
        if payload + 3 <= len(packet):
            packet[payload + value % 3] ^= 1 << (value % 8)
    elif mutation == "unmark":
        packet[1] &= 0x7F
    elif mutation == "mark":
        packet[1] |= 0x80
    elif mutation == "ssrc":
        packet[8:12] = struct.pack(">I", value)
    elif mutation == "payload type":
        packet[1] = (packet[1] & 0x80) | (96 + value % 8)
    elif mutation == "bad tlvs" and packet[0] & 0x10:
        packet[18:20] = struct.pack(">H", 2 + value % 300)  # the first TLV's length
    elif mutation == "padding":
        packet[0] |= 0x20
    elif mutation == "truncate":
        del packet[value % len(packet) :]
    elif mutation == "timestamp":
        packet[4:8] = struct.pack(">I", value)
    elif mutation == "sequence":
        packet[2:4] = struct.pack(">H", value & 0xFFFF)
    elif mutation == "tlv value" and packet[0] & 0x10:
        packet[20 + value % 2] ^= 1 + value % 255  # the first TLV's value: still sound
    elif mutation == "fu bits":  # S, E and R of a fragment's FU header
        payload = 12 + (4 + 4 * (packet[14] << 8 | packet[15]) if packet[0] & 0x10 else 0)
        fu_at = payload + (1 if packet[1] & 0x7F == 98 else 2)
        if fu_at < len(packet):
            packet[fu_at] ^= (0x80, 0x40, 0x20, 0xC0)[value % 4]
    elif mutation == "shorten":
        del packet[len(packet) - 1 - value % 3 :]  # another Content-Length
    parts[index] = (content_type, bytes(packet), head)


def _body(parts: list[_Part]) -> bytes:
    body = b""
    for content_type, data, head in parts:
        part = multipart_part(
            data,
            content_type,
            header_names=(
                "CONTENT-TYPE" if head == "other head" else "Content-type",
                "Content-Length",
            ),
        )
        # Content-Length digits the tolerant parser reads (leading zeros) or
        # rejects (a sign, an underscore), which the template must leave to it.
        digits = str(len(data)).encode()
        length = {
            "leading zero": b"0" + digits,
            "plus sign": b"+" + digits,
            "underscore": digits[:1] + b"_" + digits[1:] if len(digits) > 1 else digits,
        }.get(head, digits)
        part = part.replace(b"Content-Length: " + digits, b"Content-Length: " + length, 1)
        body += (b"\x00garbage\r\n" if head == "garbage" else b"") + part
    return body


def _video_depacketizers(live: LiveDepacketizer, cap: int | None) -> None:
    """Give ``live`` depacketizers with a small size cap (as it would make them)."""
    if cap is not None:
        live._video[VideoCodec.H264] = H264Depacketizer(live.stats.video, max_access_unit_size=cap)
        live._video[VideoCodec.H265] = H265Depacketizer(live.stats.video, max_access_unit_size=cap)


def _fused(
    chunks: list[bytes], cap: int | None
) -> tuple[list[LiveItem], LiveStats, MultipartStats]:
    reader = MultipartReader()
    live = LiveDepacketizer()
    _video_depacketizers(live, cap)
    body = LiveBodyReader(reader, live)
    items = [item for chunk in chunks for item in body.feed(chunk)]
    body.finish()
    return items, live.stats, reader.stats


def _general(
    chunks: list[bytes], cap: int | None
) -> tuple[list[LiveItem], LiveStats, MultipartStats]:
    reader = MultipartReader()
    live = LiveDepacketizer()
    _video_depacketizers(live, cap)
    items = [item for chunk in chunks for part in reader.feed(chunk) for item in live.push(part)]
    reader.finish()
    return items, live.stats, reader.stats


@st.composite
def _streams(draw: st.DrawFn) -> tuple[list[bytes], int | None]:
    tlvs = draw(st.sampled_from(["first", "every", "none"]))
    # 30: parameter sets in fragments too (the packetizer needs 60 for TLVs of its own).
    mtu = draw(st.sampled_from([30, 300, 1400]))
    packets = _packets(
        draw(st.sampled_from(["H264", "H265"])),
        draw(st.integers(2, 20)),
        60 if mtu == 30 and tlvs != "none" else mtu,
        aggregate=draw(st.booleans()),
        tlvs=tlvs,
        sequence=draw(st.sampled_from([0, 65_500])),  # and through the wrap
    )
    parts: list[_Part] = [("application/octet-stream", packet, "standard") for packet in packets]
    mutations = st.tuples(
        st.sampled_from(MUTATIONS), st.integers(0, 10_000), st.integers(0, 2**32 - 1)
    )
    for mutation, at, value in draw(st.lists(mutations, max_size=6)):
        _mutate(parts, mutation, at, value)
    body = _body(parts)
    # Cut short (truncated), within a body or a head.
    body = body[: len(body) - draw(st.one_of(st.sampled_from([0, 0, 1, 200]), st.integers(0, 120)))]
    cuts = draw(
        st.one_of(
            st.just([]),  # all at once
            st.lists(st.integers(0, len(body)), max_size=8),
            st.integers(1, 2000).map(lambda step: list(range(0, len(body), step))),
        )
    )
    cap = draw(st.sampled_from([None, None, 3000, 20_000]))
    return split(body, cuts), cap


@given(_streams())
@settings(max_examples=150, deadline=None)
def test_fused_path_gives_what_the_general_path_gives(
    stream: tuple[list[bytes], int | None],
) -> None:
    chunks, cap = stream
    fused_items, fused_stats, fused_reader = _fused(chunks, cap)
    items, stats, reader = _general(chunks, cap)
    assert fused_items == items
    assert [type(i) for i in fused_items] == [type(i) for i in items]
    assert fused_stats == stats
    assert fused_reader == reader


def test_a_clean_stream_is_read_by_the_fused_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nearly every part of a clean stream goes through take_run (the test above needs that)."""
    taken = 0
    original = VideoDepacketizer.take_run

    def counting(self: VideoDepacketizer, *args: Any) -> tuple[int, int, bool]:
        nonlocal taken
        pos, parts, waiting = original(self, *args)
        taken += parts
        return pos, parts, waiting

    predictions = openings = 0
    pack_sequence = depacketizer_module._pack_sequence
    pack_sequence_timestamp = depacketizer_module._pack_sequence_timestamp

    def counting_predictions(*args: Any) -> None:
        nonlocal predictions
        predictions += 1
        pack_sequence(*args)

    def counting_openings(*args: Any) -> None:
        nonlocal openings
        openings += 1
        pack_sequence_timestamp(*args)

    monkeypatch.setattr(VideoDepacketizer, "take_run", counting)
    monkeypatch.setattr(depacketizer_module, "_pack_sequence", counting_predictions)
    monkeypatch.setattr(depacketizer_module, "_pack_sequence_timestamp", counting_openings)
    for codec, aggregate, tlvs in [("H264", False, "first"), ("H265", True, "every")]:
        taken = predictions = openings = 0
        packets = _packets(codec, 20, 300, aggregate=aggregate, tlvs=tlvs, sequence=65_500)
        body = _body([("application/octet-stream", p, "standard") for p in packets])
        items, stats, _reader = _fused(split(body, range(0, len(body), 4096)), None)
        assert len([i for i in items if isinstance(i, AccessUnit)]) == 20
        assert stats.video.access_units == 20
        # All but the first part, a part split across chunks now and then, the
        # parameter sets and the wrap of the sequence number.
        assert taken > 0.85 * len(packets)
        # Most are middle fragments, compared with their prediction; a P
        # picture's first fragment (without TLVs) with the last one's.
        assert predictions > 0.6 * len(packets)
        assert openings >= (10 if tlvs == "first" else 0)


# Payloads built by hand, per codec: a single NAL unit of a type, a fragment
# (S / E bits) of a NAL unit of a type, an aggregate of NAL units.
_NAL_HEADER = {"H264": lambda t: bytes((0x60 | t,)), "H265": lambda t: bytes((t << 1, 1))}
_FU = {"H264": 28, "H265": 49}
_AGGREGATE = {"H264": 24, "H265": 48}
_TYPES = {  # AUD, SEI, SPS, keyframe slice, other slice
    "H264": {"aud": 9, "sei": 6, "sps": 7, "idr": 5, "slice": 1},
    "H265": {"aud": 35, "sei": 39, "sps": 33, "idr": 19, "slice": 1},
}


def _single(codec: str, kind: str, body: bytes = b"\xaa\xbb") -> bytes:
    return _NAL_HEADER[codec](_TYPES[codec][kind]) + body


def _fragment(codec: str, kind: str, bits: int, body: bytes = b"\xcc" * 5) -> bytes:
    return _NAL_HEADER[codec](_FU[codec]) + bytes((bits | _TYPES[codec][kind],)) + body


def _aggregate(codec: str, *units: bytes) -> bytes:
    header = _NAL_HEADER[codec](_AGGREGATE[codec])
    return header + b"".join(struct.pack(">H", len(u)) + u for u in units)


S, E = 0x80, 0x40
# Pictures as (payloads, marker on the last one), each after a clean keyframe and
# before a clean P picture: the odd cases of fragments and their ends.
SCENARIOS = {
    "a new fragment before the last one ended": lambda c: [
        _single(c, "aud"),
        _fragment(c, "slice", S),
        _fragment(c, "slice", S),
        _fragment(c, "slice", E),
    ],
    "a single NAL unit before the fragment ended": lambda c: [
        _fragment(c, "slice", S),
        _fragment(c, "slice", 0),
        _single(c, "sei"),
    ],
    "an aggregate before the fragment ended": lambda c: [
        _fragment(c, "slice", S),
        _aggregate(c, _single(c, "aud"), _single(c, "sei")),
    ],
    "a fragment without data": lambda c: [
        _fragment(c, "slice", S),
        _fragment(c, "slice", 0, b""),
        _fragment(c, "slice", E),
    ],
    "a fragment of another type": lambda c: [
        _fragment(c, "slice", S),
        _fragment(c, "idr", 0),
        _fragment(c, "slice", E),
    ],
    "a fragment whose start is missing": lambda c: [
        _single(c, "aud"),
        _fragment(c, "slice", 0),
        _fragment(c, "slice", E),
    ],
    "the reserved bit of a middle fragment": lambda c: [
        _fragment(c, "slice", S),
        _fragment(c, "slice", 0x20),
        _fragment(c, "slice", E),
    ],
    "the marker on a middle fragment": lambda c: [
        _fragment(c, "slice", S),
        _fragment(c, "slice", 0),
    ],
    "a parameter set in fragments": lambda c: [
        _fragment(c, "sps", S),
        _fragment(c, "sps", 0),
        _fragment(c, "sps", E),
        _fragment(c, "idr", S | E),
    ],
    "a parameter set in an aggregate": lambda c: [
        _aggregate(c, _single(c, "aud"), _single(c, "sps", b"\x01\x02")),
        _fragment(c, "idr", S | E),
    ],
    "a damaged aggregate": lambda c: [
        _single(c, "aud"),
        _aggregate(c, _single(c, "sei"))[:-1],
        _fragment(c, "slice", S | E),
    ],
    "the forbidden bit": lambda c: [
        _single(c, "aud"),
        bytes((0x80 | _single(c, "sei")[0],)) + _single(c, "sei")[1:],
    ],
    "a keyframe in an aggregate": lambda c: [
        _aggregate(c, _single(c, "aud"), _single(c, "idr")),
    ],
}


def _scenario_body(codec: str, picture: list[bytes]) -> bytes:
    payload_type = 98 if codec == "H264" else 101
    keyframe = [_single(codec, "aud"), _single(codec, "idr")]
    p_picture = [_single(codec, "aud"), _fragment(codec, "slice", S), _fragment(codec, "slice", E)]
    body = b""
    sequence = 65_530
    for index, payloads in enumerate([keyframe, picture, p_picture, keyframe, p_picture]):
        for number, payload in enumerate(payloads):
            extension = TLVS if number == 0 else None
            packet = rtp_packet(
                payload,
                sequence=sequence,
                timestamp=STEP * index,
                marker=number == len(payloads) - 1,
                payload_type=payload_type,
                extension=extension,
            )
            body += multipart_part(packet)
            sequence += 1
    return body


@pytest.mark.parametrize("codec", ["H264", "H265"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_odd_fragments_read_alike(codec: str, scenario: str) -> None:
    body = _scenario_body(codec, SCENARIOS[scenario](codec))
    for chunks in ([body], split(body, range(0, len(body), 97))):
        fused_items, fused_stats, _ = _fused(chunks, None)
        items, stats, _ = _general(chunks, None)
        assert fused_items == items
        assert fused_stats == stats
        assert len(items) >= 3  # the pictures around the scenario come out


# Predicted parts: within a fragmented NAL unit take_run compares each part with
# the last one's framing (sequence number + 1, a middle fragment's FU header);
# a picture's first fragment with the last picture's (its timestamp, the next
# sequence number). One middle fragment, or the first fragment of the second P
# picture, of pictures of equal-sized fragments changed in a way the prediction
# does not foresee; each is read as the general path reads it.
_MIDDLES = 6
_CHANGED = 3  # which middle fragment


PREDICTION_MISSES: dict[str, Any] = {
    "none (as predicted)": lambda f: None,
    "a shorter part": lambda f: f.update(body=f["body"][:-1]),
    "a longer part": lambda f: f.update(body=f["body"] + b"\xdd"),
    "a sequence gap": lambda f: f.update(sequence=f["sequence"] + 1),
    "a sequence number behind": lambda f: f.update(sequence=f["sequence"] - 1),
    "another timestamp": lambda f: f.update(timestamp=f["timestamp"] + 1),
    "another source": lambda f: f.update(ssrc=0x4321),
    "another payload type": lambda f: f.update(payload_type=f["payload_type"] + 1),
    "the marker": lambda f: f.update(marker=True),
    "other TLVs": lambda f: f.update(extension=tlv16(0x0001, 4) + TLVS[8:]),
    "no TLVs": lambda f: f.update(extension=None),
    "TLVs added": lambda f: f.update(extension=TLVS),
    "the S bit toggled": lambda f: f.update(bits=f["bits"] ^ S),
    "the E bit toggled": lambda f: f.update(bits=f["bits"] ^ E),
    "the reserved bit": lambda f: f.update(bits=f["bits"] | 0x20),
    "another NAL unit type": lambda f: f.update(kind="idr"),
    "no data": lambda f: f.update(body=b""),
}


def _predicted_body(codec: str, tlvs: str, miss: str, target: str) -> tuple[bytes, int]:
    """Pictures around one of long fragmented NAL units; where the changed part starts."""
    payload_type = 98 if codec == "H264" else 101
    keyframe = [_single(codec, "aud"), _single(codec, "idr")]
    fragments = [_fragment(codec, "slice", S, b"\xc0" * 24)]
    fragments += [_fragment(codec, "slice", 0, bytes((i,)) * 24) for i in range(_MIDDLES)]
    fragments.append(_fragment(codec, "slice", E, b"\xee" * 5))
    body = b""
    changed_at = -1
    sequence = 1000
    for index, payloads in enumerate([keyframe, [_single(codec, "aud"), *fragments]] * 2):
        for number, clean in enumerate(payloads):
            payload = clean
            fields: dict[str, Any] = {
                "sequence": sequence,
                "timestamp": STEP * index,
                "marker": number == len(payloads) - 1,
                "payload_type": payload_type,
                "ssrc": 0x1234,
                "extension": TLVS if number == 0 or tlvs == "every" else None,
                "kind": "slice",
                "bits": S if number == 1 else 0,
                "body": clean[len(_fragment(codec, "slice", 0, b"")) :],
            }
            is_changed = (index, number) == ((1, 2 + _CHANGED) if target == "middle" else (3, 1))
            if is_changed:
                PREDICTION_MISSES[miss](fields)
                payload = _fragment(codec, fields["kind"], fields["bits"], fields["body"])
                changed_at = len(body)
            packet = rtp_packet(
                payload,
                sequence=fields["sequence"],
                timestamp=fields["timestamp"],
                marker=fields["marker"],
                payload_type=fields["payload_type"],
                ssrc=fields["ssrc"],
                extension=fields["extension"],
            )
            body += multipart_part(packet)
            sequence += 1
    return body, changed_at


@pytest.mark.parametrize("target", ["middle", "first"])
@pytest.mark.parametrize("tlvs", ["first", "every"])
@pytest.mark.parametrize("codec", ["H264", "H265"])
@pytest.mark.parametrize("miss", list(PREDICTION_MISSES))
def test_predicted_parts_read_alike(codec: str, tlvs: str, miss: str, target: str) -> None:
    body, changed_at = _predicted_body(codec, tlvs, miss, target)
    part = len(multipart_part(rtp_packet(b"", extension=TLVS if tlvs == "every" else None)))
    # Whole; cut once anywhere in the part before the changed one, in the changed
    # one (its head, RTP header, extension, FU header, payload) and the next one;
    # or ending there (truncated).
    cuts = range(changed_at - part - 30, changed_at + 2 * part + 60)
    chunkings = [[body]] + [split(body, [cut]) for cut in cuts] + [[body[:cut]] for cut in cuts]
    for chunks in chunkings:
        fused_items, fused_stats, fused_reader = _fused(chunks, None)
        items, stats, reader = _general(chunks, None)
        assert fused_items == items
        assert fused_stats == stats
        assert fused_reader == reader
        if b"".join(chunks) == body:
            assert len(items) >= 3  # the pictures around the changed one come out


@pytest.mark.parametrize("excess", [0, 1])
def test_a_part_at_the_chunk_end_waits_only_within_the_part_cap(excess: int) -> None:
    """The run says a part not all in is one to wait for; not one above the cap (that raises).

    Both paths raise for it as soon as its head is in (the general path loses
    that chunk's parts with the exception, so only the readers are compared).
    """
    packets = _packets("H264", 4, 300, aggregate=False, tlvs="first", sequence=0)
    body = _body([("application/octet-stream", p, "standard") for p in packets])
    max_part = max(len(p) for p in packets) + 10
    big = multipart_part(b"\x80\x62" + b"\x00" * (max_part + excess - 2))
    chunks = [body + big[:200], big[200:]]
    outcomes = []
    for fused in (True, False):
        reader = MultipartReader(max_part_size=max_part)
        live = LiveDepacketizer()
        body_reader = LiveBodyReader(reader, live)
        raised = ""
        for index, chunk in enumerate(chunks):
            try:
                if fused:
                    body_reader.feed(chunk)
                else:
                    for part in reader.feed(chunk):
                        live.push(part)
            except PartTooLargeError as error:
                raised = f"chunk {index}: {error}"
                break
        outcomes.append((raised, reader.stats))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0].startswith("chunk 0") if excess else not outcomes[0][0]
