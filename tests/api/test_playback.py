"""The playback session (spec 3) against the simulator's recordings over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import datetime as dt
import itertools
from urllib.parse import parse_qs

import av
import pytest

from custom_components.ipro_nvr.api import NvrClient, UidBudgetExhaustedError, UidPurpose
from custom_components.ipro_nvr.api.feeds import VideoFeed
from custom_components.ipro_nvr.api.media import AccessUnit, JpegFrame
from custom_components.ipro_nvr.api.playback import (
    PlaybackFrame,
    PlaybackMode,
    PlaybackSession,
)
from custom_components.ipro_nvr.api.spec import Cgi, RecorderStatus
from nvr_simulator.server import RunningSimulator

from .conftest import client_for

FRAME = dt.timedelta(milliseconds=100)  # the simulator records 10 pictures per second
TIMEOUT = 20.0


def _past(seconds: float) -> dt.datetime:
    """A recorded moment: five minutes ago, plus ``seconds``, off the whole second."""
    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    return base + dt.timedelta(seconds=seconds)


def _decode(frame: PlaybackFrame) -> av.VideoFrame:
    """Decode the GOP of ``frame`` from its first picture up to the one shown."""
    context = av.CodecContext.create("h264", "r")
    decoded: list[av.VideoFrame] = []
    for picture in frame.gop.pictures[: frame.index + 1]:
        assert isinstance(picture, AccessUnit)
        decoded += context.decode(av.Packet(picture.data))
    decoded += context.decode(None)
    assert len(decoded) == frame.index + 1
    return decoded[-1]


def _hdrctl(simulator: RunningSimulator) -> list[dict[str, str]]:
    return [
        {key: values[0] for key, values in parse_qs(entry.query).items()}
        for entry in simulator.journal.by_cgi(Cgi.HDRCTL)
    ]


async def _collect(session: PlaybackSession, count: int) -> list[PlaybackFrame]:
    frames: list[PlaybackFrame] = []
    stream = session.frames()
    async with asyncio.timeout(TIMEOUT):
        async for frame in stream:
            frames.append(frame)
            if len(frames) >= count:
                break
    await stream.aclose()
    return frames


@pytest.fixture
async def session(client: NvrClient) -> AsyncIterator[PlaybackSession]:
    playback = PlaybackSession(client, 2, idle_timeout=30)
    yield playback
    await playback.close()


async def test_goto_shows_the_picture_recorded_then(
    simulator: RunningSimulator, session: PlaybackSession
) -> None:
    """GOTODATE (whole seconds) after MASK; the picture shown lies within one frame before
    the requested time, and decodes."""
    at = _past(3.45)
    async with asyncio.timeout(TIMEOUT):
        frame = await session.goto(at, paused=True)
    assert dt.timedelta(0) <= at - frame.time < FRAME
    picture = _decode(frame)
    assert (picture.width, picture.height) == (
        simulator.config.live_width,
        simulator.config.live_height,
    )
    commands = _hdrctl(simulator)
    assert [c.get("MASK", c.get("PLAYCMD")) for c in commands] == [
        "0100000" + "0" * (simulator.config.max_channels - 7),
        "GOTODATE",
        "PAUSE",
    ]
    goto, pause = commands[1], commands[2]
    assert goto["TIMEF"] == at.strftime("%y%m%d%H%M%S") + "00"  # 10 ms fixed 00 (spec 3.2.8)
    assert (goto["SDBACKUP"], goto["NOTIME"], goto["2ND"]) == ("0", "ON", "OFF")
    # PAUSE carries the shown picture's time, its 10 ms included (spec 3.2.6).
    assert pause["TIMEF"] == frame.time.strftime("%y%m%d%H%M%S") + "40"
    state = session.recorder_state
    assert state is not None
    assert state.status is RecorderStatus.PAUSE
    assert state.time == frame.time
    assert simulator.journal.violations == []


async def test_steps_move_exactly_one_picture(
    simulator: RunningSimulator, session: PlaybackSession
) -> None:
    """One step forwards or backwards shows the neighbouring picture, inside a GOP and over
    its edge (NEXTFRAME/PREVFRAME with the time of the picture shown before the step)."""
    async with asyncio.timeout(TIMEOUT):
        start = await session.goto(_past(7.85), paused=True)  # the GOP's last picture
        assert start.index == len(start.gop.pictures) - 2
        inside = await session.step(1)
        assert inside.time - start.time == FRAME
        over = await session.step(1)  # over the GOP's edge: the next GOP's first picture
        assert over.time - inside.time == FRAME
        assert over.gop_serial != inside.gop_serial
        assert over.index == 0
        back = await session.step(-1)  # and back over it
        assert inside.time - back.time == dt.timedelta(0)
        several = await session.step(-3)
        assert back.time - several.time == 3 * FRAME
        _decode(several)
    commands = [c for c in _hdrctl(simulator) if c.get("PLAYCMD") in {"NEXTFRAME", "PREVFRAME"}]
    assert commands[0]["PLAYCMD"] == "NEXTFRAME"
    assert commands[0]["TIMEF"] == start.time.strftime("%y%m%d%H%M%S") + "80"
    state = session.recorder_state
    assert state is not None
    assert state.status is RecorderStatus.PREVIOUS_IMAGE
    assert session.mode is PlaybackMode.PAUSE
    assert simulator.journal.violations == []


async def test_a_step_inside_the_gop_is_told_before_its_command(
    simulator: RunningSimulator, session: PlaybackSession
) -> None:
    """A step back inside the GOP at hand: listeners hear of the new position at once,
    before its PREVFRAME had its paced turn (a media player's recorded time follows
    the picture, not the command)."""
    async with asyncio.timeout(TIMEOUT):
        start = await session.goto(_past(7.55), paused=True)
        heard: list[tuple[dt.datetime | None, int]] = []

        def listener() -> None:
            sent = [c for c in _hdrctl(simulator) if c.get("PLAYCMD") == "PREVFRAME"]
            heard.append((session.position, len(sent)))

        session.add_listener(listener)
        await session.step(-2)
    assert heard[0] == (start.time - 2 * FRAME, 0)


async def test_play_shows_ascending_times(session: PlaybackSession) -> None:
    async with asyncio.timeout(TIMEOUT):
        await session.goto(_past(20.25))
    frames = await _collect(session, 25)
    times = [frame.time for frame in frames]
    assert all(later - earlier == FRAME for earlier, later in itertools.pairwise(times))
    state = session.recorder_state
    assert state is not None
    assert state.status is RecorderStatus.PLAYBACK


async def test_reverse_shows_descending_times(
    simulator: RunningSimulator, session: PlaybackSession
) -> None:
    """BPLAY (whole seconds): pictures come in descending recorded time, over GOP edges."""
    async with asyncio.timeout(TIMEOUT):
        start = await session.goto(_past(30.55), paused=True)
        await session.reverse()
    frames = await _collect(session, 25)
    times = [frame.time for frame in frames]
    assert times[0] <= start.time
    assert all(later - earlier == FRAME for later, earlier in itertools.pairwise(times))
    assert len({frame.gop_serial for frame in frames}) >= 2
    state = session.recorder_state
    assert state is not None
    assert state.status is RecorderStatus.REVERSE_PLAYBACK
    bplay = [c for c in _hdrctl(simulator) if c.get("PLAYCMD") == "BPLAY"]
    assert bplay[0]["TIMEF"].endswith("00")  # spec 3.2.5: 10 ms fixed 00


async def _wait_for_state(session: PlaybackSession, status: RecorderStatus, speed: int) -> None:
    async with asyncio.timeout(TIMEOUT):
        while True:
            state = session.recorder_state
            if state is not None and (state.status, state.speed) == (status, speed):
                return
            await asyncio.sleep(0.05)


async def test_fast_forward_raises_the_reported_speed_step(session: PlaybackSession) -> None:
    async with asyncio.timeout(TIMEOUT):
        await session.goto(_past(40))
        await session.fast_forward()
    await _wait_for_state(session, RecorderStatus.FAST_FORWARD, 1)
    async with asyncio.timeout(TIMEOUT):
        await session.fast_forward()
    await _wait_for_state(session, RecorderStatus.FAST_FORWARD, 2)
    frames = await _collect(session, 25)
    times = [frame.time for frame in frames]
    assert times == sorted(times)
    # GOPs are skipped: the recorded time runs ahead of the pictures shown.
    assert times[-1] - times[0] > 24 * FRAME
    async with asyncio.timeout(TIMEOUT):
        await session.fast_reverse()
    await _wait_for_state(session, RecorderStatus.FAST_REVERSE, 1)


async def test_stop_releases_the_uid(
    simulator: RunningSimulator, session: PlaybackSession, client: NvrClient
) -> None:
    async with asyncio.timeout(TIMEOUT):
        frame = await session.goto(_past(50.3))
    assert session.running
    assert client.uids_in_use == 1
    assert simulator.uids.active_count() == 1
    async with asyncio.timeout(TIMEOUT):
        await session.stop()
        assert not session.running  # at once: the logout goes on in the background
        await session.wait_released()
    assert session.mode is PlaybackMode.STOPPED
    assert client.uids_in_use == 0
    assert simulator.uids.active_count() == 0
    stop = _hdrctl(simulator)[-1]
    assert stop["PLAYCMD"] == "STOP"
    assert stop["TIMEF"] == frame.time.strftime("%y%m%d%H%M%S") + "00"  # spec 3.2.10
    assert "NOTIME" not in stop
    # A command starts it again where it was: a new UID, MASK, GOTODATE.
    async with asyncio.timeout(TIMEOUT):
        await session.pause()
    assert session.running
    assert session.position is not None
    assert abs(session.position - frame.time) <= FRAME


async def test_idle_session_stops_by_itself_and_restarts(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    session = PlaybackSession(client, 3, idle_timeout=0.3)
    try:
        async with asyncio.timeout(TIMEOUT):
            frame = await session.goto(_past(60.5), paused=True)
        for _ in range(400):
            if not session.running:
                break
            await asyncio.sleep(0.05)
        async with asyncio.timeout(TIMEOUT):
            await session.wait_released()
        assert client.uids_in_use == 0
        assert simulator.uids.active_count() == 0
        async with asyncio.timeout(TIMEOUT):
            shown = await session.step(1)
        assert shown.time - frame.time == FRAME
    finally:
        await session.close()


async def test_a_viewer_keeps_the_session_from_idling(client: NvrClient) -> None:
    session = PlaybackSession(client, 3, idle_timeout=0.2)
    try:
        async with asyncio.timeout(TIMEOUT):
            await session.goto(_past(70))
        frames = await _collect(session, 10)  # longer than the idle timeout (0.1 s a picture)
        assert len(frames) == 10
        assert session.running
    finally:
        await session.close()


async def test_a_paused_session_stops_even_while_watched(client: NvrClient) -> None:
    """A dashboard left open on a paused playback does not hold a UID for ever."""
    session = PlaybackSession(client, 3, idle_timeout=0.2)
    viewer = session.frames()
    try:
        async with asyncio.timeout(TIMEOUT):
            frame = await session.goto(_past(75), paused=True)
            assert (await anext(viewer)).sequence == frame.sequence
            reading = asyncio.ensure_future(anext(viewer))
            for _ in range(400):
                if not session.running:
                    break
                await asyncio.sleep(0.05)
            assert not session.running
            assert not reading.done()  # the viewer keeps the last picture
            assert session.shown is not None
            assert session.shown.time == frame.time
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
    finally:
        await viewer.aclose()
        await session.close()


async def test_playback_survives_the_recorder_dropping_it(
    simulator: RunningSimulator, session: PlaybackSession
) -> None:
    async with asyncio.timeout(TIMEOUT):
        await session.goto(_past(80))
    before = await _collect(session, 3)
    simulator.uids.expire_all()
    after = await _collect(session, 25)
    times = [frame.time for frame in after]
    assert times[0] >= before[-1].time
    assert times == sorted(times)
    assert session.stats.recoveries >= 1
    assert session.running
    assert simulator.journal.violations == []


async def test_live_and_playback_of_one_camera_on_two_uids(
    simulator: RunningSimulator, client: NvrClient, session: PlaybackSession
) -> None:
    """Spec 1.3: live and playback never share a UID; both run at once."""
    feed = VideoFeed(client, 2, idle_timeout=0.2, backoff=(0.05,))
    try:
        async with asyncio.timeout(TIMEOUT):
            live = feed.subscribe()
            first_live = await anext(live)
            await session.goto(_past(90))
            frames = await _collect(session, 5)
            second_live = await anext(live)
            await live.aclose()
        assert first_live.keyframe
        assert second_live.timestamp > first_live.timestamp
        assert len(frames) == 5
        live_uids = {e.uid for e in simulator.journal.by_cgi(Cgi.PUSH)}
        playback_uids = {e.uid for e in simulator.journal.by_cgi(Cgi.CAMERA)}
        assert live_uids
        assert playback_uids
        assert not live_uids & playback_uids
    finally:
        await feed.close()


async def test_two_playbacks_never_share_a_uid(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """A PLAYCMD acts on every channel of its UID's MASK: each playback has its own UID."""
    first = PlaybackSession(client, 1)
    second = PlaybackSession(client, 2)
    try:
        async with asyncio.timeout(TIMEOUT):
            await first.goto(_past(100), paused=True)
            await second.goto(_past(100), paused=True)
        by_channel: dict[str, set[str | None]] = {}
        for entry in simulator.journal.by_cgi(Cgi.CAMERA):
            by_channel.setdefault(parse_qs(entry.query)["CAM"][0], set()).add(entry.uid)
        assert not by_channel["1"] & by_channel["2"]
        masks = [c["MASK"] for c in _hdrctl(simulator) if "MASK" in c]
        assert sorted(mask.index("1") for mask in masks) == [0, 1]
    finally:
        await first.close()
        await second.close()


async def test_playbacks_never_take_live_or_polling_uids(simulator: RunningSimulator) -> None:
    """With the live UIDs kept, playbacks get what the budget leaves; a second one fails,
    and live video and polling go on."""
    async with client_for(simulator, uid_budget=4) as nvr:
        nvr.keep_uids(UidPurpose.LIVE, 2)
        first = PlaybackSession(nvr, 1)
        second = PlaybackSession(nvr, 2, uid_wait=0.1)
        feed = VideoFeed(nvr, 3, idle_timeout=0.2, backoff=(0.05,))
        try:
            async with asyncio.timeout(TIMEOUT):
                await first.goto(_past(130), paused=True)
                with pytest.raises(UidBudgetExhaustedError):
                    await second.goto(_past(130), paused=True)
                live = feed.subscribe()
                unit = await anext(live)
                await live.aclose()
                await nvr.get_event_log()  # a poll that needs the command UID
            assert unit.keyframe
            assert nvr.uids_in_use == 4  # command, two live, one playback
        finally:
            await feed.close()
            await first.close()
            await second.close()


async def test_a_third_playback_waits_for_a_uid_then_fails(simulator: RunningSimulator) -> None:
    """The budget bounds playbacks: the command UID stays reserved for polls."""
    async with client_for(simulator, uid_budget=2) as nvr:
        first = PlaybackSession(nvr, 1)
        second = PlaybackSession(nvr, 2, uid_wait=0.1)
        try:
            async with asyncio.timeout(TIMEOUT):
                await first.goto(_past(110), paused=True)
                with pytest.raises(Exception, match="budget"):
                    await second.goto(_past(110), paused=True)
                await first.stop()
                await second.goto(_past(110), paused=True)
            assert second.running
        finally:
            await first.close()
            await second.close()


@pytest.mark.parametrize(("channel", "codec"), [(5, "H265"), (6, "JPEG")])
async def test_h265_and_jpeg_recordings_play_and_step(
    simulator: RunningSimulator, client: NvrClient, channel: int, codec: str
) -> None:
    """H.265 GOPs decode from their first picture; a JPEG camera's answers are one picture."""
    simulator.config.recording_codecs[channel] = codec
    session = PlaybackSession(client, channel)
    try:
        async with asyncio.timeout(TIMEOUT):
            frame = await session.goto(_past(120.45), paused=True)
            stepped = await session.step(1)
            back = await session.step(-2)
        assert stepped.time - frame.time == FRAME
        assert frame.time - back.time == FRAME
        if codec == "JPEG":
            assert len(frame.gop.pictures) == 1
            assert isinstance(stepped.picture, JpegFrame)
            assert stepped.picture.data.startswith(b"\xff\xd8")
        else:
            context = av.CodecContext.create("hevc", "r")
            decoded: list[av.VideoFrame] = []
            for picture in stepped.gop.pictures[: stepped.index + 1]:
                assert isinstance(picture, AccessUnit)
                decoded += context.decode(av.Packet(picture.data))
            decoded += context.decode(None)
            assert len(decoded) == stepped.index + 1
        async with asyncio.timeout(TIMEOUT):
            await session.play()
        times = [f.time for f in await _collect(session, 15)]
        assert all(later - earlier == FRAME for earlier, later in itertools.pairwise(times))
    finally:
        await session.close()
