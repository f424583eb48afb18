"""Every request builder against the spec's example URLs, and argument checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from custom_components.ipro_nvr.api import InvalidArgumentError, LogKind, Uid, urls
from custom_components.ipro_nvr.api.spec import Cgi, Lane
from custom_components.ipro_nvr.api.transport import Transport

UID = Uid("7888")
JST = timedelta(hours=9)


def _at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# (request, UID or None, the spec's URL with its full-width equals signs written "=",
# wrapped lines joined, and placeholders such as PORT=pppp filled with a value).
SPEC_EXAMPLES: list[tuple[urls.Request, Uid | None, str]] = [
    # 2.1.1.1 Live with RTP.
    (urls.login(), None, "/cgi-bin/dlogin.cgi?UID=-1"),
    (urls.live_setup(), UID, "/cgi-bin/hdrctl.cgi?UID=7888&SCREEN=16X&PC=AS60"),
    (
        urls.live_start(1, urls.LiveCodec.H264, rtp_port=5004),
        UID,
        "/cgi-bin/push.cgi?UID=7888&CAM=1&CMD=START&COMP=H264&PORT=5004",
    ),
    (urls.keep_alive(), UID, "/cgi-bin/status.cgi?UID=7888&PC=AS60"),
    (
        urls.live_stop(1, "H264", rtp_port=5004),
        UID,
        "/cgi-bin/push.cgi?UID=7888&CAM=1&CMD=STOP&COMP=H264&PORT=5004",
    ),
    (urls.logout(), UID, "/cgi-bin/logout.cgi?UID=7888"),
    # 2.2.1.1 Live over HTTP(S).
    (
        urls.live_start(1, urls.LiveCodec.H264),
        UID,
        "/cgi-bin/push.cgi?UID=7888&CAM=1&CMD=START&COMP=H264&INTERNETMODE=ON",
    ),
    (urls.live_stop(1, "H264"), UID, "/cgi-bin/push.cgi?UID=7888&CAM=1&CMD=STOP&COMP=H264"),
    (
        urls.live_start(3, "JPEG"),
        UID,
        "/cgi-bin/push.cgi?UID=7888&CAM=3&CMD=START&COMP=JPEG&INTERNETMODE=ON",
    ),
    (
        urls.live_start(3, "AUDIO"),
        UID,
        "/cgi-bin/push.cgi?UID=7888&CAM=3&CMD=START&COMP=AUDIO&INTERNETMODE=ON",
    ),
    (
        urls.live_start(2, "H265", rtp_port=40000),
        UID,
        "/cgi-bin/push.cgi?UID=7888&CAM=2&CMD=START&COMP=H265&PORT=40000",
    ),
    # 3.1 Playback.
    (
        urls.playback_channels([2], channel_count=16),
        UID,
        "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&MASK=0100000000000000",
    ),
    (
        urls.play(),
        UID,
        "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=PLAY&2ND=OFF&TIMEF=AS60_UNKNOWN&NOTIME=ON",
    ),
    (urls.playback_video(2), UID, "/cgi-bin/camera.cgi?UID=7888&CAM=2"),
    (urls.playback_audio(2), UID, "/cgi-bin/playaudio.cgi?UID=7888&CAM=2"),
    (
        urls.reverse_play(_at(2022, 12, 1, 8, 30)),
        UID,
        "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=BPLAY&2ND=OFF&TIMEF=22120108300000&NOTIME=ON",
    ),
    (
        urls.pause(_at(2022, 12, 1, 8, 30, 10)),
        UID,
        (
            "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=PAUSE&2ND=OFF&TIMEF=22120108301000"
            "&SMOOTH=OFF&NOTIME=ON"
        ),
    ),
    (
        urls.next_frame(_at(2022, 11, 14, 12, 0, 0, 200_000)),
        UID,
        (
            "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=NEXTFRAME&2ND=OFF&TIMEF=22111412000020"
            "&NOTIME=ON"
        ),
    ),
    (
        urls.next_frame(_at(2022, 11, 14, 12, 0, 1, 209_999)),
        UID,
        (
            "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=NEXTFRAME&2ND=OFF&TIMEF=22111412000120"
            "&NOTIME=ON"
        ),
    ),
    (
        urls.previous_frame(_at(2022, 11, 14, 12, 0, 0, 400_000)),
        UID,
        (
            "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=PREVFRAME&2ND=OFF&TIMEF=22111412000040"
            "&NOTIME=ON"
        ),
    ),
    (
        urls.go_to_date(_at(2022, 12, 1, 9, 20, 15)),
        UID,
        (
            "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=GOTODATE&2ND=OFF&TIMEF=22120109201500"
            "&SDBACKUP=0&NOTIME=ON"
        ),
    ),
    # BPLAY, GOTODATE and STOP fix the 10 ms field at 00 (spec 3.2.5, 3.2.8, 3.2.10):
    # the time is cut to its second; FF keeps the displayed picture's 10 ms.
    (
        urls.go_to_date(_at(2022, 12, 1, 9, 20, 15, 990_000)),
        UID,
        (
            "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=GOTODATE&2ND=OFF&TIMEF=22120109201500"
            "&SDBACKUP=0&NOTIME=ON"
        ),
    ),
    (
        urls.reverse_play(_at(2022, 12, 1, 8, 30, 0, 450_000)),
        UID,
        "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=BPLAY&2ND=OFF&TIMEF=22120108300000&NOTIME=ON",
    ),
    (
        urls.stop_playback(_at(2022, 12, 1, 11, 23, 14, 120_000)),
        UID,
        "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=STOP&2ND=OFF&TIMEF=22120111231400",
    ),
    (
        urls.fast_forward(_at(2022, 12, 1, 10, 30, 0, 120_000)),
        UID,
        (
            "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=FF&2ND=OFF&TIMEF=22120110300012"
            "&SMOOTH=OFF&NOTIME=ON"
        ),
    ),
    (
        urls.fast_forward(_at(2022, 12, 1, 10, 30)),
        UID,
        (
            "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=FF&2ND=OFF&TIMEF=22120110300000"
            "&SMOOTH=OFF&NOTIME=ON"
        ),
    ),
    (
        urls.fast_reverse(_at(2022, 12, 1, 10, 30)),
        UID,
        (
            "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=REW&2ND=OFF&TIMEF=22120110300000"
            "&SMOOTH=OFF&NOTIME=ON"
        ),
    ),
    (
        # TIMEF is UTC: 20:23:14 at UTC+9 is 11:23:14 UTC.
        urls.stop_playback(datetime(2022, 12, 1, 20, 23, 14, tzinfo=timezone(JST))),
        UID,
        "/cgi-bin/hdrctl.cgi?UID=7888&PC=AS60&PLAYCMD=STOP&2ND=OFF&TIMEF=22120111231400",
    ),
    # 4.1, 4.2 Camera control.
    (
        urls.pan_tilt_zoom(1, pan=15, tilt=0, zoom=0),
        UID,
        "/cgi-bin/directctrl.cgi?UID=7888&CH=1&PAN=15&TILT=0&ZOOM=0&PC=AS60",
    ),
    (
        urls.pan_tilt_zoom(1, pan=15, tilt=1, zoom=2),
        UID,
        "/cgi-bin/directctrl.cgi?UID=7888&CH=1&PAN=15&TILT=1&ZOOM=2&PC=AS60",
    ),
    (
        urls.pan_tilt_zoom(1, pan=15, tilt=2, zoom=2),
        UID,
        "/cgi-bin/directctrl.cgi?UID=7888&CH=1&PAN=15&TILT=2&ZOOM=2&PC=AS60",
    ),
    (
        urls.pan_tilt_zoom(1, pan=15, tilt=1, zoom=0),
        UID,
        "/cgi-bin/directctrl.cgi?UID=7888&CH=1&PAN=15&TILT=1&ZOOM=0&PC=AS60",
    ),
    (
        urls.pan_tilt_zoom(1, pan=0, tilt=0, zoom=0),
        UID,
        "/cgi-bin/directctrl.cgi?UID=7888&CH=1&PAN=0&TILT=0&ZOOM=0&PC=AS60",
    ),
    (
        urls.pan_tilt_zoom(5, pan=-256, tilt=256, steps=urls.PtzSteps.STEPS_256),
        UID,
        "/cgi-bin/directctrl.cgi?UID=7888&CH=5&PAN=-256&TILT=256&PC=AS60",
    ),
    (urls.pan_tilt_zoom(7, zoom=-4), UID, "/cgi-bin/directctrl.cgi?UID=7888&CH=7&ZOOM=-4&PC=AS60"),
    (
        urls.center_on(2, 32, 0),
        UID,
        "/cgi-bin/camctl.cgi?UID=7888&CH=2&CMD=CENTERING&CTRL=START&X=32&Y=0&PC=AS60",
    ),
    (
        urls.focus(1, urls.FocusAction.FAR),
        UID,
        "/cgi-bin/camctl.cgi?UID=7888&CH=1&CMD=FOCUS&CTRL=FAR&CTRL=START&PC=AS60",
    ),
    (
        urls.focus(1, "AUTO"),
        UID,
        "/cgi-bin/camctl.cgi?UID=7888&CH=1&CMD=FOCUS&CTRL=AUTO&CTRL=START&PC=AS60",
    ),
    (
        urls.iris(128, urls.IrisAction.RESET),
        UID,
        "/cgi-bin/camctl.cgi?UID=7888&CH=128&CMD=IRIS&CTRL=RESET&CTRL=START&PC=AS60",
    ),
    (
        urls.store_preset(3, 256),
        UID,
        "/cgi-bin/camctl.cgi?UID=7888&CH=3&CMD=PRESETPRG&NO=256&PC=AS60",
    ),
    (urls.go_to_preset(3, 1), UID, "/cgi-bin/camctl.cgi?UID=7888&CH=3&CMD=PRESET&NO=1&PC=AS60"),
    (
        urls.aux(3, 8, urls.AuxAction.CLOSE),
        UID,
        "/cgi-bin/camctl.cgi?UID=7888&CH=3&CMD=AUX8&CTRL=CLOSE&PC=AS60",
    ),
    # 5 Recorder information.
    (urls.error_log(), UID, "/cgi-bin/loglist.cgi?UID=7888&KIND=ERR&HTML=as_errorlog.html"),
    (urls.event_log(), UID, "/cgi-bin/loglist.cgi?UID=7888&KIND=EVENT&HTML=as_eventlog.html"),
    (urls.recorded_time(), None, "/cgi-bin/recordedtime.cgi"),
    (urls.camera_connection_info(), None, "/cgi-bin/as_getinfo.cgi?FILE=2"),
    # 6.3 Download: local time (here UTC+9) of 2023-11-15 00:00 .. 01:00.
    (
        urls.download(
            1,
            _at(2023, 11, 14, 15, 0),
            _at(2023, 11, 14, 16, 0),
            urls.DownloadKind.MP4VO,
            zone=JST,
        ),
        UID,
        (
            "/cgi-bin/httpdl.cgi?UID=7888&STARTTIME=231115000000&ENDTIME=231115010000&KIND=MP4VO"
            "&CAM=1&PC=AS60"
        ),
    ),
]


@pytest.mark.parametrize(("request_", "uid", "expected"), SPEC_EXAMPLES)
def test_builders_match_the_spec(request_: urls.Request, uid: Uid | None, expected: str) -> None:
    """Parameter order and fixed values exactly as the spec's URLs."""
    assert request_.target(uid) == expected
    assert request_.needs_uid is (uid is not None)


def test_every_cgi_of_the_spec_has_a_builder() -> None:
    """The examples above cover every CGI."""
    assert {request.cgi for request, _uid, _url in SPEC_EXAMPLES} == set(Cgi)


def test_lanes_and_masked_description() -> None:
    """A request knows its lane; its description for logs hides the UID."""
    assert urls.focus(1, "FAR").lane is Lane.CAMERA_CONTROL
    assert urls.keep_alive().lane is Lane.COMMAND
    assert urls.playback_video(1).lane is Lane.STREAM
    assert urls.keep_alive().describe() == "/cgi-bin/status.cgi?UID=***&PC=AS60"
    assert urls.logout().describe() == "/cgi-bin/logout.cgi?UID=***"
    assert urls.log_list(LogKind.EVENT) == urls.event_log()


def test_final_url_keeps_the_doubled_ctrl_and_is_not_reencoded() -> None:
    """The transport's URL keeps both CTRL values, in order, byte for byte."""
    transport = Transport("192.0.2.1", username="u", password="p", port=8443, use_https=True)
    url = transport.url(urls.iris(2, "OPEN"), UID)
    assert str(url) == (
        "https://192.0.2.1:8443/cgi-bin/camctl.cgi?UID=7888&CH=2&CMD=IRIS&CTRL=OPEN&CTRL=START&PC=AS60"
    )
    assert url.query.getall("CTRL") == ["OPEN", "START"]
    assert url.raw_query_string == "UID=7888&CH=2&CMD=IRIS&CTRL=OPEN&CTRL=START&PC=AS60"


def test_download_times_follow_the_recorder_zone() -> None:
    """STARTTIME/ENDTIME are local: a standard offset with the summer flag, or a tz's rules."""
    start, end = _at(2023, 7, 1, 10, 0), _at(2023, 7, 1, 10, 30)
    with_flag = urls.download(2, start, end, "MP4", zone=timedelta(hours=1), summer_time=True)
    assert "STARTTIME=230701120000&ENDTIME=230701123000" in with_flag.query
    berlin = urls.download(2, start, end, "N3", zone=ZoneInfo("Europe/Berlin"))
    assert "STARTTIME=230701120000&ENDTIME=230701123000&KIND=N3&CAM=2" in berlin.query


INVALID: list[Callable[[], object]] = [
    lambda: urls.playback_video(0),
    lambda: urls.playback_video(129),
    lambda: urls.playback_video(True),  # type: ignore[arg-type]
    lambda: urls.playback_audio("1"),  # type: ignore[arg-type]
    lambda: urls.pan_tilt_zoom(1, pan=17),
    lambda: urls.pan_tilt_zoom(1, tilt=-17),
    lambda: urls.pan_tilt_zoom(1, pan=257, steps=urls.PtzSteps.STEPS_256),
    lambda: urls.pan_tilt_zoom(1, zoom=5),
    lambda: urls.pan_tilt_zoom(1),
    lambda: urls.pan_tilt_zoom(1, pan=1, steps=100),  # type: ignore[arg-type]
    lambda: urls.pan_tilt_zoom(1, pan=1.5),  # type: ignore[arg-type]
    lambda: urls.center_on(1, 33, 0),
    lambda: urls.center_on(1, 0, -1),
    lambda: urls.focus(1, "SIDEWAYS"),
    lambda: urls.iris(1, "FAR"),
    lambda: urls.store_preset(1, 0),
    lambda: urls.go_to_preset(1, 257),
    lambda: urls.aux(1, 0, "OPEN"),
    lambda: urls.aux(1, 9, "OPEN"),
    lambda: urls.aux(1, 1, "RESET"),
    lambda: urls.live_start(1, "MPEG2"),
    lambda: urls.live_start(1, "JPEG", rtp_port=5004),  # JPEG is HTTP only (spec 1.2)
    lambda: urls.live_start(1, "H264", rtp_port=0),
    lambda: urls.live_stop(1, "H264", rtp_port=65536),
    lambda: urls.playback_channels([], channel_count=16),
    lambda: urls.playback_channels([17], channel_count=16),
    lambda: urls.playback_channels([1], channel_count=129),
    lambda: urls.go_to_date(datetime(2022, 12, 1, 9, 20)),  # noqa: DTZ001 - naive on purpose
    lambda: urls.pause(_at(2100, 1, 1)),
    lambda: urls.fast_forward("221201103000"),  # type: ignore[arg-type]
    lambda: urls.download(1, _at(2023, 1, 1, 0, 0), _at(2023, 1, 1, 1, 1), "MP4", zone=JST),
    lambda: urls.download(1, _at(2023, 1, 1, 1, 0), _at(2023, 1, 1, 1, 0), "MP4", zone=JST),
    lambda: urls.download(1, _at(2023, 1, 1, 1, 0), _at(2023, 1, 1, 0, 0), "MP4", zone=JST),
    lambda: urls.download(1, _at(2023, 1, 1, 0, 0, 30), _at(2023, 1, 1, 0, 30), "MP4", zone=JST),
    lambda: urls.download(1, _at(2023, 1, 1, 0, 0), _at(2023, 1, 1, 0, 30), "AVI", zone=JST),
    lambda: urls.download(
        1,
        datetime(2023, 1, 1),  # noqa: DTZ001 - naive on purpose
        _at(2023, 1, 1, 0, 30),
        "MP4",
        zone=JST,
    ),
    # The recorder's clock jumps at the change to summer time: 30 real minutes are
    # 90 local ones, more than the hour a download may span.
    lambda: urls.download(
        1,
        _at(2023, 3, 26, 0, 45),
        _at(2023, 3, 26, 1, 15),
        "MP4",
        zone=ZoneInfo("Europe/Berlin"),
    ),
]


@pytest.mark.parametrize("build", INVALID)
def test_invalid_arguments_are_rejected(build: Callable[[], object]) -> None:
    """Out-of-range or mistyped arguments raise InvalidArgumentError (also a ValueError)."""
    with pytest.raises(InvalidArgumentError):
        build()
    with pytest.raises(ValueError, match=r"."):
        build()
