"""The multipart reader: chunking, tolerances, resynchronisation, limits."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api.errors import MalformedResponseError
from custom_components.ipro_nvr.api.media.errors import MediaFormatError, PartTooLargeError
from custom_components.ipro_nvr.api.media.multipart import (
    MultipartReader,
    MultipartStats,
    Part,
    boundary_from_content_type,
    iter_parts,
)
from nvr_simulator import live as simulator_live

from .helpers import achunks, multipart_part, split

BODIES = [
    b"\x80\x62\x00\x01" + bytes(range(256)) * 3,
    b"",
    b"\r\n--myboundary\r\n inside a body with a length is just data",
    b"\xff\xd8\xff\xfe\x00\x10" + b"x" * 40 + b"\xff\xd9",
]


def _feed_all(reader: MultipartReader, chunks: list[bytes]) -> list[Part]:
    parts: list[Part] = []
    for chunk in chunks:
        parts += reader.feed(chunk)
    reader.finish()
    return parts


def test_parts_as_the_spec_draws_them() -> None:
    stream = b"".join(multipart_part(body) for body in BODIES)
    reader = MultipartReader()
    parts = _feed_all(reader, [stream])
    assert [p.body for p in parts] == BODIES
    assert all(p.content_type == "application/octet-stream" for p in parts)
    assert parts[0].header("CONTENT-LENGTH") == str(len(BODIES[0]))
    assert parts[0].headers == (
        ("content-type", "application/octet-stream"),
        ("content-length", str(len(BODIES[0]))),
    )
    assert reader.stats.parts == 4
    assert reader.stats.garbage_bytes == 0
    assert reader.stats.resyncs == 0
    assert not reader.stats.truncated


@given(
    bodies=st.lists(st.binary(max_size=300), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=40),
    newline=st.sampled_from([b"\r\n", b"\n"]),
)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_any_chunking_gives_the_same_parts(
    bodies: list[bytes], cuts: list[int], newline: bytes
) -> None:
    stream = b"".join(
        multipart_part(body, "image/jpeg" if i % 2 else "audio/48kaac-lc", newline=newline)
        for i, body in enumerate(bodies)
    )
    reader = MultipartReader(max_part_size=1000)
    chunks = split(stream, cuts)
    parts: list[Part] = []
    largest_chunk = max(len(c) for c in chunks)
    for chunk in chunks:
        parts += reader.feed(chunk)
        # Never more than one part (plus its framing) and the chunk being fed.
        assert reader.buffered <= 1000 + 200 + largest_chunk
    assert [p.body for p in parts] == bodies
    assert [p.media_type for p in parts] == [
        "image/jpeg" if i % 2 else "audio/48kaac-lc" for i in range(len(bodies))
    ]
    assert reader.stats.garbage_bytes == 0


def test_one_byte_at_a_time() -> None:
    stream = b"".join(multipart_part(body) for body in BODIES)
    parts = _feed_all(MultipartReader(), [stream[i : i + 1] for i in range(len(stream))])
    assert [p.body for p in parts] == BODIES


def test_header_names_any_case_and_lf_line_ends() -> None:
    stream = multipart_part(
        b"abc", "Image/JPEG", newline=b"\n", header_names=("CONTENT-TYPE", "content-length")
    )
    (part,) = _feed_all(MultipartReader(), [stream])
    assert part.body == b"abc"
    assert part.content_type == "Image/JPEG"
    assert part.media_type == "image/jpeg"


def test_part_without_content_length_runs_to_the_next_boundary() -> None:
    stream = (
        multipart_part(b"first\x00body", length=False)
        + multipart_part(b"", length=False)
        + multipart_part(b"third")
    )
    parts = _feed_all(MultipartReader(), split(stream, [5, 17, 40, 41]))
    assert [p.body for p in parts] == [b"first\x00body", b"", b"third"]


def test_missing_blank_line_before_a_binary_body_is_tolerated() -> None:
    rtp = b"\x80\xe2\x12\x34" + b"\n\x00" * 10
    jpeg = b"\xff\xd8\xff\xdb" + b"q" * 20
    stream = multipart_part(rtp, blank_line=False) + multipart_part(
        jpeg, "image/jpeg", blank_line=False
    )
    parts = _feed_all(MultipartReader(), split(stream, range(0, len(stream), 7)))
    assert [p.body for p in parts] == [rtp, jpeg]


def test_extra_dashes_and_transport_padding_are_framing() -> None:
    stream = (
        b"--"
        + multipart_part(b"one").replace(b"--myboundary\r\n", b"--myboundary  \r\n")
        + b"\r\n\r\n"
        + multipart_part(b"two")
    )
    reader = MultipartReader()
    assert [p.body for p in _feed_all(reader, [stream])] == [b"one", b"two"]
    assert reader.stats.garbage_bytes == 0


def test_garbage_between_parts_is_skipped_and_counted() -> None:
    garbage = b"\x00\x01 junk \xff\xfe--myboundar"
    stream = multipart_part(b"one") + garbage + multipart_part(b"two") + multipart_part(b"three")
    reader = MultipartReader()
    parts = _feed_all(reader, split(stream, [3, 50, 51, 60]))
    assert [p.body for p in parts] == [b"one", b"two", b"three"]
    assert reader.stats.resyncs == 1
    assert reader.stats.garbage_bytes >= len(garbage.strip(b"-")) - 2


def test_broken_headers_resync_on_the_next_boundary() -> None:
    broken = b"--myboundary\r\nthis is not a header\r\n\r\nbody\r\n"
    bad_length = b"--myboundary\r\nContent-Length: 12x\r\n\r\nbody\r\n"
    stream = multipart_part(b"one") + broken + bad_length + multipart_part(b"two")
    reader = MultipartReader()
    parts = _feed_all(reader, [stream])
    assert [p.body for p in parts] == [b"one", b"two"]
    assert reader.stats.resyncs >= 1
    assert reader.stats.garbage_bytes > 0


def test_foreign_boundary_with_our_prefix_is_not_ours() -> None:
    stream = b"--myboundaryX\r\nContent-Length: 3\r\n\r\nabc\r\n" + multipart_part(b"ok")
    reader = MultipartReader()
    assert [p.body for p in _feed_all(reader, [stream])] == [b"ok"]
    assert reader.stats.resyncs == 1


def test_oversize_content_length_is_a_typed_error() -> None:
    reader = MultipartReader(max_part_size=100)
    with pytest.raises(PartTooLargeError) as caught:
        reader.feed(b"--myboundary\r\nContent-Length: 101\r\n\r\n")
    assert caught.value.size == 101
    assert isinstance(caught.value, MalformedResponseError)


def test_endless_part_without_length_is_a_typed_error() -> None:
    reader = MultipartReader(max_part_size=100)
    reader.feed(b"--myboundary\r\nContent-type: image/jpeg\r\n\r\n")
    for _ in range(3):
        assert reader.feed(b"x" * 30) == []
    with pytest.raises(PartTooLargeError):
        reader.feed(b"x" * 30)


def test_garbage_without_boundary_is_not_buffered() -> None:
    reader = MultipartReader()
    for _ in range(1000):
        assert reader.feed(b"\x00garbage without any boundary at all\xff" * 10) == []
        assert reader.buffered < len("--myboundary")
    assert reader.stats.garbage_bytes > 300_000
    assert reader.feed(multipart_part(b"late")) == [
        Part(
            "application/octet-stream",
            (("content-type", "application/octet-stream"), ("content-length", "4")),
            b"late",
        )
    ]


def test_headers_that_never_end_are_dropped() -> None:
    reader = MultipartReader(max_header_size=64)
    reader.feed(b"--myboundary\r\nX-Long: " + b"a" * 200)
    assert reader.buffered < 100
    parts = reader.feed(b"\r\n\r\n" + multipart_part(b"after"))
    assert [p.body for p in parts] == [b"after"]
    assert reader.stats.resyncs == 1


def test_broken_headers_split_across_chunks_after_a_large_part() -> None:
    # The first chunk ends inside the headers of the second part, far into the buffer.
    big = bytes(range(256)) * 400
    reader = MultipartReader()
    first = reader.feed(multipart_part(big) + b"--myboundary\r\nContent-type: image/jpeg\r\n")
    assert [p.body for p in first] == [big]
    assert reader.buffered < 100
    rest = reader.feed(b"not a header line\r\n\r\n--myboundary-- no\r\n" + multipart_part(b"ok"))
    assert [p.body for p in rest] == [b"ok"]
    assert reader.stats.resyncs == 1


def test_truncated_last_part_is_counted() -> None:
    reader = MultipartReader()
    reader.feed(multipart_part(b"complete") + b"--myboundary\r\nContent-Length: 10\r\n\r\nabc")
    reader.finish()
    assert reader.stats.parts == 1
    assert reader.stats.truncated


def test_closing_delimiter_is_noted() -> None:
    reader = MultipartReader()
    parts = reader.feed(multipart_part(b"last") + b"--myboundary--\r\n")
    assert [p.body for p in parts] == [b"last"]
    assert reader.stats.closed


def test_other_boundary() -> None:
    stream = multipart_part(b"x").replace(b"myboundary", b"other")
    assert [p.body for p in _feed_all(MultipartReader("other"), [stream])] == [b"x"]
    with pytest.raises(ValueError, match="boundary"):
        MultipartReader("")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("multipart/x-mixed-replace; boundary=myboundary", "myboundary"),
        ('multipart/x-mixed-replace;boundary="--abc"', "abc"),
        ("multipart/x-mixed-replace", "myboundary"),
        (None, "myboundary"),
    ],
)
def test_boundary_from_content_type(header: str | None, expected: str) -> None:
    assert boundary_from_content_type(header) == expected


async def test_iter_parts_over_async_chunks() -> None:
    stream = b"".join(multipart_part(body) for body in BODIES)
    reader = MultipartReader()
    parts = [p async for p in iter_parts(achunks(split(stream, [1, 100, 700])), reader=reader)]
    assert [p.body for p in parts] == BODIES
    assert reader.stats.bytes_received == len(stream)


@given(
    data=st.binary(max_size=2000),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
)
@settings(max_examples=300)
def test_fuzz_only_typed_errors(data: bytes, cuts: list[int]) -> None:
    reader = MultipartReader(max_part_size=500, max_header_size=200)
    try:
        for chunk in split(data, cuts):
            reader.feed(chunk)
        reader.finish()
    except MediaFormatError:
        pass


@given(
    prefix=st.binary(max_size=200),
    pieces=st.lists(
        st.sampled_from(
            [
                b"--myboundary",
                b"\r\n",
                b"\n",
                b"Content-Length: 5",
                b"Content-type: a/b",
                b":",
                b"12345",
                b"\x80\x00",
                b"--",
            ]
        ),
        max_size=30,
    ),
)
@settings(max_examples=300)
def test_fuzz_structured_garbage(prefix: bytes, pieces: list[bytes]) -> None:
    reader = MultipartReader(max_part_size=500, max_header_size=200)
    try:
        reader.feed(prefix + b"".join(pieces))
    except MediaFormatError:
        return
    reader.finish()
    # After the end of one body, a reader takes up the next one cleanly.
    fresh = reader.feed(multipart_part(b"sync"))
    assert [p.body for p in fresh] == [b"sync"]


# -- the fast path for the standard part head ------------------------------------------
#
# The reader takes a part head of exactly the recorder's form with one match and
# leaves every other head to the tolerant line parser. These tests pin that both
# give the same parts and stats for the same bytes, however they are chunked.


def _tolerant_only(reader: MultipartReader) -> MultipartReader:
    """The reader with its fast path switched off: the reference."""

    def never(view: memoryview, parts: list[Part]) -> bool:
        return False

    reader._read_standard_parts = never  # type: ignore[method-assign]
    return reader


def _fast_only(reader: MultipartReader) -> MultipartReader:
    """The reader failing the test if a head reaches the tolerant header parser."""

    def forbidden() -> bool:
        raise AssertionError("a header line reached the tolerant parser")

    reader._read_header_line = forbidden  # type: ignore[method-assign]
    return reader


def _reference(stream: bytes, **limits: int) -> tuple[list[Part], MultipartStats]:
    reader = _tolerant_only(MultipartReader(**limits))
    parts = _feed_all(reader, [stream])
    return parts, reader.stats


STANDARD_STREAM = b"".join(
    [
        multipart_part(BODIES[0]),
        multipart_part(b""),
        multipart_part(BODIES[2], "image/jpeg"),
        multipart_part(b"\x00aac", "audio/48kaac-lc"),
        multipart_part(b"q", "image/jpeg; quality=5"),
    ]
)
# Heads the fast path leaves alone, between standard parts.
UNUSUAL_HEADS = [
    b"--myboundary\r\nCONTENT-TYPE: Image/JPEG\r\ncontent-LENGTH: 3\r\n\r\nabc\r\n",
    b"--myboundary\r\nContent-type: image/jpeg\r\nX-Extra: 1\r\nContent-Length: 3\r\n\r\nabc\r\n",
    b"--myboundary\r\nContent-Length: 3\r\nContent-type: image/jpeg\r\n\r\nabc\r\n",
    b"--myboundary\nContent-type: image/jpeg\nContent-Length: 3\n\nabc\n",
    b"--myboundary\r\nContent-type:image/jpeg\r\nContent-Length:\t3 \r\n\r\nabc\r\n",
    b"--myboundary\r\nContent-type: image/jpeg \r\nContent-Length: 3\r\n\r\nabc\r\n",
    b"--myboundary\r\nContent-type: image/\xe9\r\nContent-Length: 3\r\n\r\nabc\r\n",
    b"--myboundary\r\nContent-type: \r\nContent-Length: 3\r\n\r\nabc\r\n",
    b"--myboundary\r\nContent-type: image/jpeg\r\n\r\nno length\r\n",
    b"--myboundary\r\nContent-type: image/jpeg\r\nContent-Length: 3\r\nabc\r\n",
    b"--myboundary  \r\nContent-type: image/jpeg\r\nContent-Length: 3\r\n\r\nabc\r\n",
    b"\x00junk--myboundary\r\nContent-type: image/jpeg\r\nContent-Length: 3\r\n\r\nabc\r\n",
]
# Standard parts and unusual heads by turns: the fallback hands back to the fast path.
MIXED_STREAM = (
    b"".join(multipart_part(b"std %d" % i) + head for i, head in enumerate(UNUSUAL_HEADS))
    + STANDARD_STREAM
)


def test_the_simulators_parts_take_the_fast_path() -> None:
    stream = b"".join(
        simulator_live._part(content_type, body)
        for content_type, body in [
            ("application/octet-stream", BODIES[0]),
            ("image/jpeg", BODIES[3]),
            ("audio/48kaac-lc", b"\x00aac"),
            ("application/octet-stream", b""),
        ]
    )
    reader = _fast_only(MultipartReader())
    parts = _feed_all(reader, [stream])
    assert [p.body for p in parts] == [BODIES[0], BODIES[3], b"\x00aac", b""]
    assert parts[0] == Part(
        "application/octet-stream",
        (("content-type", "application/octet-stream"), ("content-length", str(len(BODIES[0])))),
        BODIES[0],
    )
    assert (parts, reader.stats) == _reference(stream)


def test_fast_path_reads_a_body_that_arrives_later() -> None:
    stream = STANDARD_STREAM
    reader = _fast_only(MultipartReader())
    head_end = stream.index(b"\r\n\r\n") + 4
    parts = _feed_all(reader, [stream[: head_end + 3], stream[head_end + 3 :]])
    assert (parts, reader.stats) == _reference(stream)


@pytest.mark.parametrize("stream", [STANDARD_STREAM, MIXED_STREAM], ids=["standard", "mixed"])
def test_both_paths_agree_at_every_split(stream: bytes) -> None:
    expected = _reference(stream)
    assert len(expected[0]) >= 5
    for cut in range(len(stream) + 1):
        reader = MultipartReader()
        parts = _feed_all(reader, [stream[:cut], stream[cut:]])
        assert (parts, reader.stats) == expected, cut
    reader = MultipartReader()
    parts = _feed_all(reader, [stream[i : i + 1] for i in range(len(stream))])
    assert (parts, reader.stats) == expected


@pytest.mark.parametrize("head", UNUSUAL_HEADS)
def test_unusual_heads_go_to_the_tolerant_parser(head: bytes) -> None:
    stream = multipart_part(b"before") + head + multipart_part(b"after")
    reader = MultipartReader()
    calls = 0
    tolerant = reader._read_header_line

    def counting() -> bool:
        nonlocal calls
        calls += 1
        return tolerant()

    reader._read_header_line = counting  # type: ignore[method-assign]
    parts = _feed_all(reader, [stream])
    assert calls > 0
    assert (parts, reader.stats) == _reference(stream)
    assert parts[0].body == b"before"
    assert parts[-1].body == b"after"


def test_unusual_casing_and_an_extra_header_give_the_same_part() -> None:
    odd = b"--myboundary\r\ncontent-TYPE: Image/JPEG\r\nX-Extra:  yes \r\nCONTENT-length: 3\r\n\r\n"
    (part,) = _feed_all(MultipartReader(), [odd + b"abc\r\n"])
    assert part == Part(
        "Image/JPEG",
        (("content-type", "Image/JPEG"), ("x-extra", "yes"), ("content-length", "3")),
        b"abc",
    )
    assert part.media_type == "image/jpeg"


def test_fast_path_keeps_the_limits() -> None:
    # An oversize part is refused as the tolerant parser refuses it.
    with pytest.raises(PartTooLargeError) as caught:
        MultipartReader(max_part_size=100).feed(multipart_part(b"x" * 101))
    assert caught.value.size == 101
    # A standard head longer than max_header_size is broken framing: resynchronise.
    long_type = "image/" + "x" * 80
    stream = multipart_part(b"lost", long_type) + multipart_part(b"kept")
    reader = MultipartReader(max_header_size=64)
    parts = _feed_all(reader, [stream])
    assert [p.body for p in parts] == [b"kept"]
    assert (parts, reader.stats) == _reference(stream, max_header_size=64)
    # 19 digits of length are left to the tolerant parser (which refuses them as too large).
    with pytest.raises(PartTooLargeError):
        MultipartReader().feed(
            b"--myboundary\r\nContent-type: a/b\r\nContent-Length: 1" + b"0" * 18 + b"\r\n\r\n"
        )


def test_garbage_before_a_standard_part_is_a_resync() -> None:
    stream = multipart_part(b"one") + b"\x00junk\r\n" + multipart_part(b"two")
    for cut in range(len(stream) + 1):
        reader = MultipartReader()
        parts = _feed_all(reader, [stream[:cut], stream[cut:]])
        assert (parts, reader.stats) == _reference(stream), cut
        assert reader.stats.resyncs == 1


def test_garbage_with_framing_inside_split_anywhere_counts_the_same() -> None:
    # Blanks inside a stretch of garbage are garbage, wherever a chunk ends.
    stream = multipart_part(b"one") + b"\x00\t \t\x00" + multipart_part(b"two")
    for cut in range(len(stream) + 1):
        reader = MultipartReader()
        parts = _feed_all(reader, [stream[:cut], stream[cut:]])
        assert (parts, reader.stats) == _reference(stream), cut
        assert reader.stats.garbage_bytes == 5


@given(
    pieces=st.lists(
        st.one_of(
            st.builds(
                multipart_part,
                st.binary(max_size=60),
                st.sampled_from(["application/octet-stream", "image/jpeg", "a/b; c=d"]),
            ),
            st.sampled_from(UNUSUAL_HEADS),
            st.binary(max_size=8),
        ),
        max_size=8,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=1000), max_size=12),
)
@settings(max_examples=300)
def test_any_chunking_matches_the_tolerant_parser(pieces: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(pieces)
    reader = MultipartReader(max_part_size=500, max_header_size=200)
    try:
        expected = _reference(stream, max_part_size=500, max_header_size=200)
    except PartTooLargeError:
        with pytest.raises(PartTooLargeError):
            _feed_all(reader, split(stream, cuts))
        return
    parts = _feed_all(reader, split(stream, cuts))
    assert (parts, reader.stats) == expected


def test_part_compares_hashes_and_prints_as_before() -> None:
    part = Part("image/jpeg", (("content-type", "image/jpeg"),), b"x")
    same = Part("image/jpeg", (("content-type", "image/jpeg"),), b"x")
    assert part == same
    assert hash(part) == hash(same)
    assert part != Part("image/jpeg", (), b"x")
    assert part != ("image/jpeg", (("content-type", "image/jpeg"),), b"x")
    assert repr(part) == (
        "Part(content_type='image/jpeg', headers=(('content-type', 'image/jpeg'),), body=b'x')"
    )
