"""``python -m nvr_simulator``: the command line used by scripts/develop."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nvr_simulator", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "--cameras", "--username", "--password", "--model"):
        assert option in result.stdout
    assert "--https" in result.stdout
    assert "--event-interval" in result.stdout
    assert "--audio-codec {AAC,G711,G711A,G726}" in result.stdout


def test_audio_codec_option() -> None:
    from nvr_simulator.__main__ import build_parser, config_from_args

    parser = build_parser()
    assert config_from_args(parser.parse_args([])).live_audio_codec == "AAC"
    config = config_from_args(parser.parse_args(["--audio-codec", "G726"]))
    assert config.live_audio_codec == "G726"


def test_recording_codec_and_camera_clock_options() -> None:
    from nvr_simulator.__main__ import build_parser, config_from_args

    parser = build_parser()
    config = config_from_args(
        parser.parse_args(
            [
                *("--recording-codec", "7=jpeg", "--recording-codec", "5=H265"),
                *("--camera-clock-offset", "6=-600"),
            ]
        )
    )
    assert config.recording_codecs == {7: "JPEG", 5: "H265"}
    assert config.camera_clock_offsets == {6: dt.timedelta(minutes=-10)}
    for bad in (["--recording-codec", "7=MPEG2"], ["--camera-clock-offset", "x=1"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


def test_serves_until_sigterm(socket_enabled: None) -> None:
    command = [
        sys.executable,
        "-m",
        "nvr_simulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--cameras",
        "3",
        "--username",
        "operator",
        "--password",
        "pw-from-cli",
        "--event-interval",
        "20",
    ]
    with subprocess.Popen(  # noqa: S603 - a fixed argv running our own module
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            assert match is not None, line
            assert "operator" in line
            assert "pw-from-cli" in line
            # Python's own Digest client, a second implementation to interoperate with.
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            passwords.add_password(None, match[1], "operator", "pw-from-cli")
            opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords))
            with opener.open(f"{match[1]}/cgi-bin/as_getinfo.cgi?FILE=2", timeout=10) as answer:
                body = answer.read().decode("ascii")
            assert "\r\nCAM_CONNECT_03CH=1\r\nCAM_CONNECT_04CH=0\r\n" in body
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
