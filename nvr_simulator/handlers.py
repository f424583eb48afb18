"""Handlers of the CGIs simulated so far: sessions (6.1, 6.2), recorder
information (chapter 5) and camera control (chapter 4).

Parameters are checked as strictly as the spec writes them, so that a client
bug shows up as a 400 in a test rather than as a puzzled recorder in the field.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from custom_components.ipro_nvr.api.spec import (
    AUX_OUTPUTS,
    CENTERING_GRID,
    PC_AS60,
    PRESET_RANGE,
    ZOOM_RANGE,
    Cgi,
)

from .query import BadRequestError
from .responses import text_response
from .texts import (
    ACK_BODY,
    LogKind,
    getinfo_body,
    loglist_body,
    recordedtime_body,
    uid_body,
)

if TYPE_CHECKING:
    from aiohttp import web

    from .context import CgiContext
    from .ptz import PtzState
    from .simulator import Simulator

# Shown by ``python -m nvr_simulator`` even without --verbose, so the demo
# console shows the simulated cameras follow the integration's commands.
CAMERA_CONTROL_LOGGER = logging.getLogger("nvr_simulator.camera_control")

_AUX_CMD = re.compile(r"AUX([1-9][0-9]*)")
_FOCUS_CTRLS = frozenset({"FAR", "NEAR", "AUTO"})
_IRIS_CTRLS = frozenset({"OPEN", "CLOSE", "RESET"})
_AUX_CTRLS = frozenset({"OPEN", "CLOSE"})


def register_default_handlers(simulator: Simulator) -> None:
    """Register every CGI implemented here; the others answer 501 until a later feature."""
    simulator.register(Cgi.LOGIN, login, needs_uid=False)
    simulator.register(Cgi.LOGOUT, logout)
    simulator.register(Cgi.STATUS, keep_alive)
    simulator.register(Cgi.GETINFO, camera_connection_info, needs_uid=False)
    simulator.register(Cgi.RECORDEDTIME, recorded_time, needs_uid=False)
    simulator.register(Cgi.LOGLIST, log_list)
    simulator.register(Cgi.DIRECTCTRL, direct_control)
    simulator.register(Cgi.CAMCTL, camera_control)


# -- sessions (spec 6.1, 6.2) -------------------------------------------------


async def login(ctx: CgiContext) -> web.StreamResponse:
    """``dlogin.cgi?UID=-1``: issue a UID."""
    ctx.query.require_fixed("UID", "-1")
    return text_response(uid_body(ctx.simulator.uids.issue(ctx.now)))


async def logout(ctx: CgiContext) -> web.StreamResponse:
    """``logout.cgi?UID=n``: release the (already checked) UID."""
    if ctx.uid is not None:  # always: needs_uid let only a live UID through
        ctx.simulator.uids.release(ctx.uid, ctx.now)
    return text_response(ACK_BODY)


async def keep_alive(ctx: CgiContext) -> web.StreamResponse:
    """``status.cgi?UID=n&PC=AS60``: the UID was refreshed on the way in."""
    ctx.query.require_fixed("PC", PC_AS60)
    return text_response(ACK_BODY)


# -- recorder information (spec 5) ------------------------------------------


async def camera_connection_info(ctx: CgiContext) -> web.StreamResponse:
    """``as_getinfo.cgi?FILE=2`` (no UID)."""
    ctx.query.require_fixed("FILE", "2")
    sim = ctx.simulator
    body = getinfo_body(
        sim.channel_state_list(),
        max_uids=sim.config.max_uids,
        used_uids=sim.uids.active_count(ctx.now),
    )
    return text_response(body)


async def recorded_time(ctx: CgiContext) -> web.StreamResponse:
    """``recordedtime.cgi`` (no parameters, no UID); text/plain as in the spec's example."""
    config = ctx.simulator.config
    body = recordedtime_body(
        ctx.simulator.disks,
        now=config.wall_clock(),
        utc_offset=config.utc_offset,
        summer_time=config.summer_time,
    )
    return text_response(body, content_type="text/plain")


async def log_list(ctx: CgiContext) -> web.StreamResponse:
    """``loglist.cgi?UID&KIND=ERR|EVENT&HTML=as_errorlog.html|as_eventlog.html``.

    As in the spec's examples, the error log lists the oldest entry first and
    the event log the newest first; numbers are positions in the list.
    """
    kind_value = ctx.query.require("KIND")
    try:
        kind = LogKind(kind_value)
    except ValueError:
        raise BadRequestError(f"KIND={kind_value!r}, expected ERR or EVENT") from None
    ctx.query.require_fixed("HTML", kind.html)
    sim = ctx.simulator
    entries = sim.errors.entries if kind is LogKind.ERR else sim.events.entries[::-1]
    body = loglist_body(
        kind,
        entries,
        utc_offset=sim.config.utc_offset,
        wrap_width=sim.config.log_wrap_width,
        cut=sim.faults.log_list_cut,
        first_number=1 + sim.faults.log_number_offset,
    )
    return text_response(body)


# -- camera control (spec 4) -------------------------------------------------


def _channel(ctx: CgiContext) -> int:
    channel = ctx.query.integer("CH", 1, ctx.simulator.config.max_channels)
    if ctx.simulator.channel_state(channel) == 0:
        raise BadRequestError(f"CH={channel} has no registered camera")
    return channel


async def direct_control(ctx: CgiContext) -> web.StreamResponse:
    """``directctrl.cgi?UID&CH&PAN&TILT&ZOOM&PC=AS60``; omitted axes are allowed."""
    query = ctx.query
    query.require_fixed("PC", PC_AS60)
    channel = _channel(ctx)
    limit = ctx.simulator.config.pan_tilt_range
    pan = query.optional_integer("PAN", -limit, limit)
    tilt = query.optional_integer("TILT", -limit, limit)
    zoom = query.optional_integer("ZOOM", -ZOOM_RANGE, ZOOM_RANGE)
    state = ctx.simulator.ptz_state(channel)
    state.move(pan, tilt, zoom)
    _log_control(ctx, channel, state)
    return text_response(ACK_BODY)


def _log_control(ctx: CgiContext, channel: int, state: PtzState) -> None:
    if CAMERA_CONTROL_LOGGER.isEnabledFor(logging.INFO):
        command = "&".join(
            f"{key}={value}" for key, value in ctx.query.pairs if key not in {"UID", "CH", "PC"}
        )
        CAMERA_CONTROL_LOGGER.info("camera %d %s: %s", channel, command, state.describe())


def _ctrl_pair(ctx: CgiContext, allowed: frozenset[str]) -> str:
    """Check ``CTRL=<value>&CTRL=START`` (both, in this order) and return the value."""
    ctrls = ctx.query.getall("CTRL")
    if len(ctrls) != 2 or ctrls[0] not in allowed or ctrls[1] != "START":
        choices = "|".join(sorted(allowed))
        raise BadRequestError(f"CTRL={ctrls!r}, expected CTRL={choices}&CTRL=START")
    return ctrls[0]


async def camera_control(ctx: CgiContext) -> web.StreamResponse:
    """``camctl.cgi``: CENTERING, FOCUS, IRIS, PRESETPRG, PRESET, AUX1..AUX8."""
    query = ctx.query
    query.require_fixed("PC", PC_AS60)
    channel = _channel(ctx)
    state = ctx.simulator.ptz_state(channel)
    command = query.require("CMD")
    if command == "CENTERING":
        if query.getall("CTRL") != ["START"]:
            raise BadRequestError("CENTERING needs CTRL=START")
        x = query.integer("X", 0, CENTERING_GRID)
        y = query.integer("Y", 0, CENTERING_GRID)
        state.center_on(x, y)
    elif command == "FOCUS":
        state.focus = _ctrl_pair(ctx, _FOCUS_CTRLS)
        state.commands += 1
    elif command == "IRIS":
        state.iris = _ctrl_pair(ctx, _IRIS_CTRLS)
        state.commands += 1
    elif command == "PRESETPRG":
        state.store_preset(query.integer("NO", 1, PRESET_RANGE))
    elif command == "PRESET":
        state.go_to_preset(query.integer("NO", 1, PRESET_RANGE))
    elif (match := _AUX_CMD.fullmatch(command)) and 1 <= int(match[1]) <= AUX_OUTPUTS:
        ctrl = query.require("CTRL")
        if ctrl not in _AUX_CTRLS:
            raise BadRequestError(f"CTRL={ctrl!r}, expected OPEN or CLOSE")
        state.aux[int(match[1])] = ctrl == "OPEN"
        state.commands += 1
    else:
        raise BadRequestError(f"CMD={command!r} is not a camera control command")
    _log_control(ctx, channel, state)
    return text_response(ACK_BODY)
