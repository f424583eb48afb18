"""The README's coverage table of the CGI interface cannot drift from the code.

Each row names the client's URL builders and parsers, the simulator's handler
and where Home Assistant uses it. Checked here: every CGI and every URL builder
of ``api/urls.py`` has a row; every name in the *Client* and *Simulator*
columns exists (rows marked *planned* excepted); the simulator serves each CGI
with the handler its rows name; the parameters listed for a CGI are exactly
those its builders send; and every test file named exists and mentions the
row's CGI or one of its client names.
"""

from __future__ import annotations

from collections.abc import Callable
import datetime as dt
import importlib
import inspect
import re
from types import ModuleType
from typing import Any

import pytest

from custom_components.ipro_nvr.api import urls
from custom_components.ipro_nvr.api.spec import Cgi
from nvr_simulator import SimulatorConfig
from nvr_simulator.simulator import Simulator
from tests.validation.conftest import REPO_ROOT

CLIENT_PACKAGE = "custom_components.ipro_nvr.api"
SIMULATOR_PACKAGE = "nvr_simulator"
_HEADING = "## Coverage of the CGI interface"
_CODE = re.compile(r"`([^`]+)`")
_AT = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)

# One or more calls of every URL builder, covering each of its forms.
SAMPLES: dict[str, list[Callable[[], urls.Request]]] = {
    "login": [urls.login],
    "logout": [urls.logout],
    "keep_alive": [urls.keep_alive],
    "live_setup": [urls.live_setup],
    "live_start": [
        lambda: urls.live_start(1, "H264"),
        lambda: urls.live_start(1, "H265", rtp_port=50000),
    ],
    "live_stop": [
        lambda: urls.live_stop(1, "JPEG"),
        lambda: urls.live_stop(1, "H264", rtp_port=50000),
    ],
    "playback_channels": [lambda: urls.playback_channels([1], channel_count=16)],
    "play": [urls.play],
    "reverse_play": [lambda: urls.reverse_play(_AT)],
    "pause": [lambda: urls.pause(_AT)],
    "next_frame": [lambda: urls.next_frame(_AT)],
    "previous_frame": [lambda: urls.previous_frame(_AT)],
    "go_to_date": [lambda: urls.go_to_date(_AT)],
    "fast_forward": [lambda: urls.fast_forward(_AT)],
    "fast_reverse": [lambda: urls.fast_reverse(_AT)],
    "stop_playback": [lambda: urls.stop_playback(_AT)],
    "playback_video": [lambda: urls.playback_video(1)],
    "playback_audio": [lambda: urls.playback_audio(1)],
    "pan_tilt_zoom": [lambda: urls.pan_tilt_zoom(1, pan=1, tilt=1, zoom=1)],
    "center_on": [lambda: urls.center_on(1, 16, 16)],
    "focus": [lambda: urls.focus(1, "AUTO")],
    "iris": [lambda: urls.iris(1, "RESET")],
    "store_preset": [lambda: urls.store_preset(1, 1)],
    "go_to_preset": [lambda: urls.go_to_preset(1, 1)],
    "aux": [lambda: urls.aux(1, 1, "OPEN")],
    "log_list": [lambda: urls.log_list(urls.LogKind.ERROR)],
    "error_log": [urls.error_log],
    "event_log": [urls.event_log],
    "recorded_time": [urls.recorded_time],
    "camera_connection_info": [urls.camera_connection_info],
    "download": [
        lambda: urls.download(
            1, _AT, _AT + dt.timedelta(minutes=1), "N3", zone=dt.timedelta(hours=9)
        )
    ],
}


class Row:
    """One row of the table."""

    def __init__(self, cells: list[str]) -> None:
        self.spec, self.what, params, client, simulator, self.home_assistant, tests = cells
        self.parameters = {name.split("=")[0] for name in _CODE.findall(params)}
        self.client = _CODE.findall(client)
        self.simulator = _CODE.findall(simulator)
        self.tests = _CODE.findall(tests)
        self.actions = [n for n in _CODE.findall(self.home_assistant) if n.startswith("ipro_nvr.")]
        cgis = [name for name in _CODE.findall(self.what) if name.endswith(".cgi")]
        self.cgi = Cgi(cgis[0]) if cgis else None
        self.planned = self.home_assistant.lower().startswith("planned")

    @property
    def builders(self) -> list[str]:
        """The URL builders the row names (``urls.x``)."""
        return [name.removeprefix("urls.") for name in self.client if name.startswith("urls.")]

    def __repr__(self) -> str:
        return f"Row({self.spec} {self.what})"


def _table() -> list[Row]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(_HEADING, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    rows = []
    for line in lines[2:]:  # after the header and its rule
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 7, line
        rows.append(Row(cells))
    return rows


ROWS = _table()


def _resolve(package: str, dotted: str) -> Any:
    """The object ``package.dotted`` names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: ModuleType | Any = importlib.import_module(".".join([package, *parts[:split]]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise AttributeError(f"{package}.{dotted} does not exist")


def _parameters(request: urls.Request) -> set[str]:
    names = {pair.split("=")[0] for pair in request.query.split("&") if pair}
    return names | {"UID"} if request.needs_uid else names


def _public_builders() -> set[str]:
    return {
        name
        for name, function in inspect.getmembers(urls, inspect.isfunction)
        if not name.startswith("_")
        and function.__module__ == urls.__name__
        and inspect.signature(function).return_annotation in ("Request", urls.Request)
    }


def test_every_cgi_and_every_builder_has_a_row() -> None:
    assert {row.cgi for row in ROWS if row.cgi is not None} == set(Cgi)
    named = {builder for row in ROWS for builder in row.builders}
    assert _public_builders() - named == set()
    assert set(SAMPLES) == _public_builders()
    for row in ROWS:
        assert row.spec
        assert row.client, row
        assert row.simulator, row
        assert row.home_assistant.strip(" —-"), row


@pytest.mark.parametrize("row", [row for row in ROWS if not row.planned], ids=repr)
def test_every_name_exists(row: Row) -> None:
    for name in row.client:
        _resolve(CLIENT_PACKAGE, name)
    for name in row.simulator:
        _resolve(SIMULATOR_PACKAGE, name)


@pytest.mark.parametrize("row", [row for row in ROWS if not row.planned], ids=repr)
def test_every_row_names_tests_that_exercise_it(row: Row) -> None:
    assert row.tests, row
    # The client's names, the actions the row names, and the CGI by file name or enum.
    words = {name.rsplit(".", 1)[-1] for name in [*row.client, *row.actions]}
    if row.cgi is not None:
        words |= {row.cgi.value, f"Cgi.{row.cgi.name}"}
    for path in row.tests:
        text = (REPO_ROOT / path).read_text(encoding="utf-8")
        assert any(word in text for word in words), f"{path} mentions none of {sorted(words)}"


@pytest.mark.parametrize("row", [row for row in ROWS if row.cgi is not None], ids=repr)
def test_the_simulator_serves_the_cgi_with_the_named_handler(row: Row) -> None:
    assert row.cgi is not None
    served = Simulator(SimulatorConfig()).handler(row.cgi)
    assert served is not None, f"the simulator does not serve {row.cgi}"
    named = [_resolve(SIMULATOR_PACKAGE, name) for name in row.simulator]
    assert served in named, f"{row.cgi} is served by {served.__qualname__}"


@pytest.mark.parametrize("cgi", list(Cgi))
def test_the_parameters_are_those_the_builders_send(cgi: Cgi) -> None:
    rows = [row for row in ROWS if row.cgi is cgi]
    listed = set().union(*(row.parameters for row in rows))
    sent: set[str] = set()
    for builder in {builder for row in rows for builder in row.builders}:
        for sample in SAMPLES[builder]:
            request = sample()
            if request.cgi is not cgi:
                continue
            parameters = _parameters(request)
            in_rows = set().union(*(row.parameters for row in rows if builder in row.builders))
            assert parameters <= in_rows, f"urls.{builder} sends {parameters - in_rows} unlisted"
            sent |= parameters
    assert listed == sent
