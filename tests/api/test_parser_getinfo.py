"""as_getinfo.cgi?FILE=2: camera connection states and UID counts."""

from __future__ import annotations

import pytest

from custom_components.ipro_nvr.api import ChannelState, MalformedResponseError
from custom_components.ipro_nvr.api.parsers import parse_camera_status

from .spec_examples import GETINFO


def test_spec_example() -> None:
    """The spec's example, elision lines included, gives every listed channel."""
    status = parse_camera_status(GETINFO)
    assert status.channels[1] is ChannelState.NORMAL
    assert status.channels[3] is ChannelState.CONNECTION_ERROR
    assert status.channels[5] is ChannelState.NOT_REGISTERED
    assert set(status.channels) == {1, 2, 3, 4, 5, 99, 100, 128}
    assert status.max_uid == 16
    assert status.used_uid == 1
    assert status.registered == (1, 2, 3, 4)
    assert status.connected == (1, 2)
    assert status.channel_count == 128


def test_tolerates_lf_spaces_missing_frame_and_unknown_keys() -> None:
    """No HTML frame, LF only, spaces, lower case and keys of a newer firmware."""
    body = b"  cam_connect_01ch = 2 \nNEW_KEY=whatever\n\nCAM_CONNECT_2CH=1\nUSEDUID= 3\n"
    status = parse_camera_status(body)
    assert dict(status.channels) == {1: ChannelState.CONNECTION_ERROR, 2: ChannelState.NORMAL}
    assert status.used_uid == 3
    assert status.max_uid is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<HTML>\r\n</HTML>\r\n",
        b"CAM_CONNECT_01CH=3\r\n",  # a state the spec does not define
        b"CAM_CONNECT_01CH=one\r\n",
        b"CAM_CONNECT_00CH=1\r\n",
        b"MAXUID=-1\r\n",
        b"CAM_CONNECT_01CH=1\x00\r\n",  # not text
        b"\xff\xfe<!-- simulated garbage -->\x00\x01#@!%\r\nUID\r\nCAM_CONN",
        # Cut short: the cameras not listed would be taken for unregistered.
        b"<HTML>\r\nCAM_CONNECT_01CH=1\r\nCAM_CONNECT_02CH=1\r\nCAM_CONN",
        b"<HTML>\r\nCAM_CONNECT_01CH=1\r\n",
    ],
)
def test_rejects_what_is_not_camera_info(body: bytes) -> None:
    """Anything else is a MalformedResponseError with a short printable snippet."""
    with pytest.raises(MalformedResponseError) as caught:
        parse_camera_status(body)
    assert len(caught.value.snippet) <= 200
    assert caught.value.snippet.isprintable()
