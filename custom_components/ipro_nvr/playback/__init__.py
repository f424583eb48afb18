"""Recorder playback in Home Assistant (spec chapter 3).

Per camera channel: a ``media_player`` (transport controls, the recorder's
state; :mod:`.media_player`), a playback camera showing the pictures
(:mod:`.camera`, disabled by default), and the ``ipro_nvr.playback_*``
actions (:mod:`.services`). The client's :class:`~..api.playback.PlaybackSession`
does the work; :class:`.manager.PlaybackManager` owns one per channel, and
:class:`.renderer.PlaybackRenderer` turns pictures into JPEG when someone looks.
"""

from __future__ import annotations

from .manager import PlaybackManager

__all__ = ["PlaybackManager"]
