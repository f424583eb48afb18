"""Start ``scripts/develop`` (simulator + Home Assistant) on free ports and stop it again.

The demo runs exactly as a person starts it, with a fresh configuration folder and
free ports, in a process group of its own so that stopping it ends the simulator
and Home Assistant too, and nothing it started outlives it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import secrets
import signal
import socket
import subprocess
import time
from typing import IO, Self
import urllib.error
import urllib.request

REPO = Path(__file__).resolve().parent.parent
SIM_HOST = "127.0.0.1"
SIM_USER = "admin"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Demo:
    """One running ``scripts/develop``: its ports, credentials, folder and log."""

    config_dir: Path
    hass_port: int = field(default_factory=free_port)
    sim_port: int = field(default_factory=free_port)
    sim_password: str = field(default_factory=lambda: "demo-" + secrets.token_hex(4))
    cameras: int = 8
    hass_debug: bool = False
    hass_args: tuple[str, ...] = ()
    _process: subprocess.Popen[bytes] | None = None
    _output: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Home Assistant's base URL."""
        return f"http://127.0.0.1:{self.hass_port}"

    @property
    def output_path(self) -> Path:
        """Where scripts/develop's output (simulator and Home Assistant) goes."""
        return self.config_dir / "develop.out"

    @property
    def hass_log_path(self) -> Path:
        """Home Assistant's own log file."""
        return self.config_dir / "home-assistant.log"

    def start(self) -> None:
        """Start scripts/develop in a process group of its own."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "HASS_CONFIG": str(self.config_dir),
            "HASS_PORT": str(self.hass_port),
            "SIM_PORT": str(self.sim_port),
            "SIM_PASSWORD": self.sim_password,
            "SIM_CAMERAS": str(self.cameras),
            "HASS_DEBUG": "1" if self.hass_debug else "0",
        }
        self._output = self.output_path.open("wb")
        self._process = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            [str(REPO / "scripts" / "develop"), *self.hass_args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_up(self, timeout: float) -> float:
        """Wait until Home Assistant answers and its frontend is set up; return the seconds."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"scripts/develop exited with {self._process.returncode}:\n{self.tail()}"
                )
            if self._answers(f"{self.url}/api/onboarding"):
                return time.monotonic() - started
            time.sleep(0.5)
        raise TimeoutError(f"Home Assistant did not answer within {timeout:.0f} s:\n{self.tail()}")

    @staticmethod
    def _answers(url: str) -> bool:
        """Return whether a GET of the URL answers 200."""
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - http only
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def tail(self, lines: int = 40) -> str:
        """Return the last lines of scripts/develop's output."""
        try:
            text = self.output_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 30) -> float:
        """Stop the demo (SIGTERM, then SIGKILL after ``timeout``); return the seconds it took."""
        started = time.monotonic()
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout)
            # scripts/develop waits for its children, but make sure none is left.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if self._output is not None:
            self._output.close()
            self._output = None
        return time.monotonic() - started

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
