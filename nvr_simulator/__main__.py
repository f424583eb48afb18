"""Run a simulated recorder until Ctrl-C (or SIGTERM).

    python -m nvr_simulator --host 127.0.0.1 --port 8080 --cameras 8 \\
        --username admin --password secret [--model 1] [--https] [--event-interval 20] \\
        [--audio-codec G726] [--recording-codec 7=JPEG] [--camera-clock-offset 6=-600]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import signal

from .config import SimulatorConfig
from .recordings import RECORDING_CODECS
from .server import run_simulator
from .video import AUDIO_CODECS


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    defaults = SimulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m nvr_simulator",
        description="Serve a simulated i-PRO network video recorder (CGI interface v1.5R1).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    parser.add_argument("--cameras", type=int, default=defaults.cameras, help="registered cameras")
    parser.add_argument(
        "--max-channels", type=int, default=defaults.max_channels, help="channels reported"
    )
    parser.add_argument("--username", default=defaults.username, help="Digest user name")
    parser.add_argument("--password", default=defaults.password, help="Digest password")
    parser.add_argument("--model", type=int, choices=(1, 2, 3), default=defaults.model)
    parser.add_argument("--https", action="store_true", help="serve HTTPS (self-signed)")
    parser.add_argument(
        "--event-interval",
        type=float,
        default=defaults.event_interval,
        help="seconds between spontaneous event-log entries (0: none)",
    )
    parser.add_argument(
        "--audio-codec",
        choices=sorted(AUDIO_CODECS),
        default=defaults.live_audio_codec,
        help="live audio of every camera (G711: mu-law, G711A: A-law, G726: 32 kbit/s)",
    )
    parser.add_argument(
        "--recording-codec",
        action="append",
        default=[],
        metavar="CHANNEL=CODEC",
        type=_recording_codec,
        help="how a camera records: H264 (default), H265 or JPEG (no MP4; N3 downloads)",
    )
    parser.add_argument(
        "--camera-clock-offset",
        action="append",
        default=[],
        metavar="CHANNEL=SECONDS",
        type=_clock_offset,
        help="how far a camera's own clock (live time stamps, spec 7.1) is from the recorder's",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the history")
    parser.add_argument(
        "--pacing-scale",
        type=float,
        default=1.0,
        help="multiply the spec's pacing intervals (journal only; answers are never refused)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def _channel_pair(text: str) -> tuple[int, str]:
    channel, sep, value = text.partition("=")
    if not sep or not channel.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected CHANNEL=VALUE")
    return int(channel), value.strip()


def _recording_codec(text: str) -> tuple[int, str]:
    channel, codec = _channel_pair(text)
    codec = codec.upper()
    if codec not in RECORDING_CODECS:
        raise argparse.ArgumentTypeError(f"{codec!r}: expected one of {sorted(RECORDING_CODECS)}")
    return channel, codec


def _clock_offset(text: str) -> tuple[int, dt.timedelta]:
    channel, seconds = _channel_pair(text)
    try:
        return channel, dt.timedelta(seconds=float(seconds))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{seconds!r} is not a number of seconds") from err


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """Return the simulator configuration the parsed arguments describe."""
    defaults = SimulatorConfig()
    return SimulatorConfig(
        username=args.username,
        password=args.password,
        model=args.model,
        cameras=args.cameras,
        max_channels=args.max_channels,
        https=args.https,
        event_interval=args.event_interval,
        live_audio_codec=args.audio_codec,
        recording_codecs=dict(args.recording_codec),
        camera_clock_offsets=dict(args.camera_clock_offset),
        seed=args.seed,
        pacing=defaults.pacing.scaled(args.pacing_scale),
    )


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(signum, stop.set)
    async with run_simulator(
        config_from_args(args), host=args.host, port=args.port, log_requests=args.verbose
    ) as running:
        print(
            f"i-PRO NVR simulator on {running.url} (model {args.model}, {args.cameras} cameras)"
            f" - username {args.username!r}, password {args.password!r}",
            flush=True,
        )
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m nvr_simulator``."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Camera-control commands are few and show the simulated cameras moving.
    logging.getLogger("nvr_simulator.camera_control").setLevel(logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
