"""Typed runtime data of a config entry."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .api import NvrClient
from .coordinator import NvrLogCoordinator, NvrStatusCoordinator
from .live.relay import StreamRelay

type IproNvrConfigEntry = ConfigEntry[IproNvrRuntimeData]


@dataclass(slots=True)
class IproNvrRuntimeData:
    """What a loaded config entry owns; unload closes all of it."""

    client: NvrClient
    coordinator: NvrStatusCoordinator
    log_coordinator: NvrLogCoordinator
    relay: StreamRelay
