"""Playback in the simulator (spec 3): hdrctl MASK/PLAYCMD, camera.cgi, playaudio.cgi over HTTP."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import aiohttp
import pytest

from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    AudioCodec,
    ContainerCodec,
    JpegFrame,
    PlaybackGop,
    parse_playback_audio,
    parse_playback_video,
    playback_state,
)
from custom_components.ipro_nvr.api.spec import RecorderStatus
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator

from .conftest import WALL_START
from .helpers import get, login

CHANNELS = 128  # SimulatorConfig.max_channels: MASK has one digit per channel
FIVE_MINUTES_AGO = WALL_START - dt.timedelta(minutes=5)
TICK = dt.timedelta(milliseconds=100)  # one picture at the default 10 fps


def _mask(*channels: int) -> str:
    return "".join("1" if ch in channels else "0" for ch in range(1, CHANNELS + 1))


def _timef(moment: dt.datetime, *, ticks: bool = True) -> str:
    value = moment.astimezone(dt.UTC).strftime("%y%m%d%H%M%S")
    return value + (f"{moment.microsecond // 10_000:02d}" if ticks else "00")


async def _command(client: aiohttp.ClientSession, uid: str, query: str) -> int:
    return (await get(client, f"/cgi-bin/hdrctl.cgi?UID={uid}&PC=AS60&{query}"))[0]


async def _start(client: aiohttp.ClientSession, channel: int, at: dt.datetime) -> str:
    uid = await login(client)
    assert await _command(client, uid, f"MASK={_mask(channel)}") == 200
    goto = f"PLAYCMD=GOTODATE&2ND=OFF&TIMEF={_timef(at, ticks=False)}&SDBACKUP=0&NOTIME=ON"
    assert await _command(client, uid, goto) == 200
    return uid


async def _gop(client: aiohttp.ClientSession, uid: str, channel: int) -> PlaybackGop:
    async with client.get(f"/cgi-bin/camera.cgi?UID={uid}&CAM={channel}") as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "application/octet-stream"
        return parse_playback_video(await response.read())


def _times(gop: PlaybackGop) -> list[dt.datetime]:
    return [p.info.time for p in gop.pictures if p.info is not None and p.info.time is not None]


async def test_goto_then_play_forward(client: aiohttp.ClientSession) -> None:
    at = FIVE_MINUTES_AGO + dt.timedelta(seconds=3, milliseconds=400)
    uid = await _start(client, 6, at.replace(microsecond=0))
    first = await _gop(client, uid, 6)
    assert first.codec is ContainerCodec.H264
    times = _times(first)
    assert times[0] == at.replace(microsecond=0)  # GOPs start on whole seconds at 10 fps
    assert times == [times[0] + TICK * n for n in range(10)]
    assert isinstance(first.pictures[0], AccessUnit)
    assert first.pictures[0].keyframe
    assert first.info is not None
    state = playback_state(first.info)
    assert (state.status, state.speed) == (RecorderStatus.PLAYBACK, 1)
    second = await _gop(client, uid, 6)
    assert _times(second)[0] == times[-1] + TICK  # the next GOP, contiguous


async def test_reverse_gives_descending_gops(client: aiohttp.ClientSession) -> None:
    uid = await _start(client, 1, FIVE_MINUTES_AGO)
    reverse = f"PLAYCMD=BPLAY&2ND=OFF&TIMEF={_timef(FIVE_MINUTES_AGO, ticks=False)}&NOTIME=ON"
    assert await _command(client, uid, reverse) == 200
    starts = []
    for _ in range(3):
        gop = await _gop(client, uid, 1)
        assert gop.info is not None
        assert playback_state(gop.info).reverse
        times = _times(gop)
        assert times == sorted(times)  # pictures in recording order within a GOP
        starts.append(times[0])
    assert starts == [FIVE_MINUTES_AGO - dt.timedelta(seconds=n) for n in range(3)]


async def test_pause_and_step_frame_by_frame(client: aiohttp.ClientSession) -> None:
    uid = await _start(client, 3, FIVE_MINUTES_AGO)
    shown = FIVE_MINUTES_AGO + TICK * 4
    pause = f"PLAYCMD=PAUSE&2ND=OFF&TIMEF={_timef(shown)}&SMOOTH=OFF&NOTIME=ON"
    assert await _command(client, uid, pause) == 200
    held = await _gop(client, uid, 3)
    assert _times(held)[0] == FIVE_MINUTES_AGO
    assert _times(await _gop(client, uid, 3)) == _times(held)  # paused: the same GOP
    last = _times(held)[-1]
    step = f"PLAYCMD=NEXTFRAME&2ND=OFF&TIMEF={_timef(last)}&NOTIME=ON"
    assert await _command(client, uid, step) == 200
    after = await _gop(client, uid, 3)
    assert _times(after)[0] == last + TICK  # the step past the GOP's end brings the next
    assert after.info is not None
    assert playback_state(after.info).status is RecorderStatus.NEXT_IMAGE
    back = f"PLAYCMD=PREVFRAME&2ND=OFF&TIMEF={_timef(_times(after)[0])}&NOTIME=ON"
    assert await _command(client, uid, back) == 200
    assert _times(await _gop(client, uid, 3)) == _times(held)


async def test_fast_forward_raises_the_speed_step(client: aiohttp.ClientSession) -> None:
    uid = await _start(client, 1, FIVE_MINUTES_AGO)
    fast = f"PLAYCMD=FF&2ND=OFF&TIMEF={_timef(FIVE_MINUTES_AGO)}&SMOOTH=OFF&NOTIME=ON"
    speeds = []
    starts = []
    for _ in range(2):
        assert await _command(client, uid, fast) == 200
        gop = await _gop(client, uid, 1)
        assert gop.info is not None
        speeds.append(playback_state(gop.info).speed)
        starts.append(_times(gop)[0])
    assert speeds == [1, 2]
    third = _times(await _gop(client, uid, 1))[0]
    assert third - starts[1] == dt.timedelta(seconds=3)  # skips two GOPs at step 2
    rewind = fast.replace("PLAYCMD=FF", "PLAYCMD=REW")
    assert await _command(client, uid, rewind) == 200
    gop = await _gop(client, uid, 1)
    assert gop.info is not None
    state = playback_state(gop.info)
    assert (state.status, state.speed) == (RecorderStatus.FAST_REVERSE, 1)


async def test_stop_ends_the_playback(client: aiohttp.ClientSession) -> None:
    uid = await _start(client, 1, FIVE_MINUTES_AGO)
    stop = f"PLAYCMD=STOP&2ND=OFF&TIMEF={_timef(FIVE_MINUTES_AGO, ticks=False)}"
    assert await _command(client, uid, stop) == 200
    assert (await get(client, f"/cgi-bin/camera.cgi?UID={uid}&CAM=1"))[0] == 409


async def test_play_without_time_continues(client: aiohttp.ClientSession) -> None:
    uid = await _start(client, 1, FIVE_MINUTES_AGO)
    start = _times(await _gop(client, uid, 1))[0]
    assert await _command(client, uid, "PLAYCMD=PLAY&2ND=OFF&TIMEF=AS60_UNKNOWN&NOTIME=ON") == 200
    assert _times(await _gop(client, uid, 1))[0] == start + dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    "query",
    [
        f"MASK={_mask(1)[:-1]}",  # one digit short
        f"MASK={'0' * CHANNELS}",  # no channel
        "PLAYCMD=JUMP&2ND=OFF&TIMEF=AS60_UNKNOWN&NOTIME=ON",
        "PLAYCMD=PLAY&2ND=OFF&TIMEF=240424033000&NOTIME=ON",  # PLAY takes AS60_UNKNOWN
        "PLAYCMD=GOTODATE&2ND=OFF&TIMEF=24042403300050&SDBACKUP=0&NOTIME=ON",  # ff fixed 00
        "PLAYCMD=BPLAY&2ND=OFF&TIMEF=24042403300010&NOTIME=ON",  # ff fixed 00
        "PLAYCMD=GOTODATE&2ND=OFF&TIMEF=24042403300000&NOTIME=ON",  # SDBACKUP missing
        "PLAYCMD=PAUSE&2ND=OFF&TIMEF=24042403300000&NOTIME=ON",  # SMOOTH missing
        "PLAYCMD=PAUSE&2ND=ON&TIMEF=24042403300000&SMOOTH=OFF&NOTIME=ON",
        "PLAYCMD=FF&2ND=OFF&TIMEF=2404240330&SMOOTH=OFF&NOTIME=ON",  # TIMEF too short
        "PLAYCMD=FF&2ND=OFF&TIMEF=24133103300000&SMOOTH=OFF&NOTIME=ON",  # month 13
    ],
)
async def test_malformed_commands_answer_400(client: aiohttp.ClientSession, query: str) -> None:
    uid = await login(client)
    assert await _command(client, uid, query) == 400


async def test_play_without_a_position_starts_a_minute_before_now(
    client: aiohttp.ClientSession,
) -> None:
    uid = await login(client)
    assert await _command(client, uid, f"MASK={_mask(1)}") == 200
    assert await _command(client, uid, "PLAYCMD=PLAY&2ND=OFF&TIMEF=AS60_UNKNOWN&NOTIME=ON") == 200
    start = _times(await _gop(client, uid, 1))[0]
    assert WALL_START - start == dt.timedelta(minutes=1)


async def test_commands_before_mask_and_channels_outside_it(client: aiohttp.ClientSession) -> None:
    uid = await login(client)
    play = "PLAYCMD=PLAY&2ND=OFF&TIMEF=AS60_UNKNOWN&NOTIME=ON"
    assert await _command(client, uid, play) == 409
    assert await _command(client, uid, f"MASK={_mask(1)}") == 200
    assert (await get(client, f"/cgi-bin/camera.cgi?UID={uid}&CAM=1"))[0] == 409  # no PLAYCMD
    assert await _command(client, uid, play) == 200
    assert (await get(client, f"/cgi-bin/camera.cgi?UID={uid}&CAM=1"))[0] == 200
    assert (await get(client, f"/cgi-bin/camera.cgi?UID={uid}&CAM=2"))[0] == 409


async def test_playback_audio_follows_the_pictures(client: aiohttp.ClientSession) -> None:
    uid = await _start(client, 1, FIVE_MINUTES_AGO)
    gop = await _gop(client, uid, 1)
    async with client.get(f"/cgi-bin/playaudio.cgi?UID={uid}&CAM=1") as response:
        assert response.status == 200
        audio = parse_playback_audio(await response.read())
    assert audio.codec is AudioCodec.AAC_LC
    assert audio.start.time == _times(gop)[0]
    assert audio.end.time - audio.start.time == dt.timedelta(seconds=1)
    assert len(audio.frames) == 47  # 1 s of 1024-sample frames at 48 kHz


@pytest.fixture
def config(config: SimulatorConfig) -> SimulatorConfig:
    """Channel 2 records JPEG, channel 3 H.265; camera 7 sends G.711 audio."""
    return dataclasses.replace(
        config,
        recording_codecs={2: "JPEG", 3: "H265"},
        live_audio_codecs={7: "G711"},
    )


async def test_jpeg_and_h265_recordings(client: aiohttp.ClientSession) -> None:
    uid = await _start(client, 2, FIVE_MINUTES_AGO)
    jpeg = [await _gop(client, uid, 2) for _ in range(2)]
    assert all(g.codec is ContainerCodec.JPEG for g in jpeg)
    assert all(isinstance(p, JpegFrame) for g in jpeg for p in g.pictures)
    assert [_times(g) for g in jpeg] == [[FIVE_MINUTES_AGO], [FIVE_MINUTES_AGO + TICK]]
    uid = await _start(client, 3, FIVE_MINUTES_AGO)
    gop = await _gop(client, uid, 3)
    assert gop.codec is ContainerCodec.H265
    assert len(gop.pictures) == 10


async def test_g711_playback_audio(client: aiohttp.ClientSession) -> None:
    uid = await _start(client, 7, FIVE_MINUTES_AGO)
    async with client.get(f"/cgi-bin/playaudio.cgi?UID={uid}&CAM=7") as response:
        audio = parse_playback_audio(await response.read())
    assert audio.codec is AudioCodec.G711
    assert len(audio.frames[0].data) == 8000


async def test_playback_is_kept_per_uid(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    one = await _start(client, 1, FIVE_MINUTES_AGO)
    two = await _start(client, 1, FIVE_MINUTES_AGO - dt.timedelta(minutes=1))
    firsts = [_times(await _gop(client, uid, 1))[0] for uid in (one, two)]
    assert firsts[0] - firsts[1] == dt.timedelta(minutes=1)
    served = [g for g in sim.simulator.playback.served if g.uid in {one, two}]
    assert [g.uid for g in served] == [one, two]
    assert all(b - a == TICK for g in served for a, b in itertools.pairwise(g.times))


async def test_no_recording_answers_404(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    sim.simulator.channel_states[5] = 2  # connection error: nothing recorded
    uid = await _start(client, 5, FIVE_MINUTES_AGO)
    assert (await get(client, f"/cgi-bin/camera.cgi?UID={uid}&CAM=5"))[0] == 404


async def test_no_playback_on_a_uid_that_streams_live(client: aiohttp.ClientSession) -> None:
    uid = await login(client)
    assert (await get(client, f"/cgi-bin/hdrctl.cgi?UID={uid}&SCREEN=16X&PC=AS60"))[0] == 200
    push = f"/cgi-bin/push.cgi?UID={uid}&CAM=1&CMD=START&COMP=H264&INTERNETMODE=ON"
    async with client.get(push) as response:
        assert response.status == 200
        await response.content.readany()  # the stream runs
        assert await _command(client, uid, f"MASK={_mask(1)}") == 409
        other = await _start(client, 1, FIVE_MINUTES_AGO)  # another UID plays camera 1 back
        assert len((await _gop(client, other, 1)).pictures) == 10
