"""Parsers of the recorder's text answers: one module per format.

Each parser is a pure function from the body's bytes to a model. Whatever the
input, the only exception that leaves a parser is
:class:`~..errors.MalformedResponseError`.
"""

from __future__ import annotations

from .getinfo import parse_camera_status
from .login import check_acknowledgement, parse_login
from .loglist import parse_log_list
from .recordedtime import parse_recorded_time

__all__ = [
    "check_acknowledgement",
    "parse_camera_status",
    "parse_log_list",
    "parse_login",
    "parse_recorded_time",
]
