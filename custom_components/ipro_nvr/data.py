"""Typed runtime data of a config entry."""

from __future__ import annotations

from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry

from .api import NvrClient
from .coordinator import NvrLogCoordinator, NvrStatusCoordinator
from .live.relay import StreamRelay
from .playback import PlaybackManager

type IproNvrConfigEntry = ConfigEntry[IproNvrRuntimeData]


@dataclass(slots=True)
class IproNvrRuntimeData:
    """What a loaded config entry owns; unload closes all of it."""

    client: NvrClient
    coordinator: NvrStatusCoordinator
    log_coordinator: NvrLogCoordinator
    relay: StreamRelay
    playback: PlaybackManager
    # Channels whose MP4 download the recorder refused with status 2 (the
    # camera records JPEG): the media browser offers no clip of them.
    jpeg_recording: set[int] = field(default_factory=set)
