"""The ``ipro_nvr.playback_*`` actions, targeting this integration's playback media players.

Registered once in ``async_setup``, like the camera-control actions. Each waits
until the recorder accepted its command: commands are at least 3 s apart
(spec 1.3), so an action may take a few seconds when others are queued.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.entity import Entity
import voluptuous as vol

from custom_components.ipro_nvr.const import DOMAIN

from .media_player import NvrPlaybackPlayer

ATTR_TIME: Final = "time"
ATTR_PAUSE: Final = "pause"
ATTR_DIRECTION: Final = "direction"
ATTR_COUNT: Final = "count"
FORWARD: Final = "forward"
BACKWARD: Final = "backward"
# One action steps at most this many pictures (a minute of a 30 fps camera).
MAX_STEPS: Final = 1800

GOTO_SCHEMA: Final = {
    vol.Required(ATTR_TIME): cv.datetime,
    vol.Optional(ATTR_PAUSE, default=False): cv.boolean,
}
STEP_SCHEMA: Final = {
    vol.Optional(ATTR_DIRECTION, default=FORWARD): vol.All(vol.Lower, vol.In([FORWARD, BACKWARD])),
    vol.Optional(ATTR_COUNT, default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_STEPS)),
}
SPEED_SCHEMA: Final = {
    vol.Optional(ATTR_DIRECTION, default=FORWARD): vol.All(vol.Lower, vol.In([FORWARD, BACKWARD])),
}


def _player(entity: Entity) -> NvrPlaybackPlayer:
    # Registered for this integration's media_player platform only.
    if not isinstance(entity, NvrPlaybackPlayer):
        raise TypeError(f"{entity.entity_id} is not an i-PRO NVR playback")
    return entity


async def _goto(entity: Entity, call: ServiceCall) -> None:
    await _player(entity).async_goto(call.data[ATTR_TIME], paused=call.data[ATTR_PAUSE])


async def _play(entity: Entity, call: ServiceCall) -> None:
    await _player(entity).async_media_play()


async def _reverse(entity: Entity, call: ServiceCall) -> None:
    await _player(entity).async_reverse()


async def _pause(entity: Entity, call: ServiceCall) -> None:
    await _player(entity).async_media_pause()


async def _step(entity: Entity, call: ServiceCall) -> None:
    count = call.data[ATTR_COUNT]
    await _player(entity).async_step(count if call.data[ATTR_DIRECTION] == FORWARD else -count)


async def _speed(entity: Entity, call: ServiceCall) -> None:
    await _player(entity).async_speed(call.data[ATTR_DIRECTION] == FORWARD)


async def _stop(entity: Entity, call: ServiceCall) -> None:
    await _player(entity).async_media_stop()


PLAYBACK_SERVICES: Final[
    dict[str, tuple[Any, Callable[[Entity, ServiceCall], Awaitable[None]]]]
] = {
    "playback_goto": (GOTO_SCHEMA, _goto),
    "playback_play": ({}, _play),
    "playback_reverse": ({}, _reverse),
    "playback_pause": ({}, _pause),
    "playback_step": (STEP_SCHEMA, _step),
    "playback_speed": (SPEED_SCHEMA, _speed),
    "playback_stop": ({}, _stop),
}


@callback
def async_setup_playback_services(hass: HomeAssistant) -> None:
    """Register the playback actions for the integration's media players."""
    for name, (schema, func) in PLAYBACK_SERVICES.items():
        service.async_register_platform_entity_service(
            hass, DOMAIN, name, entity_domain=Platform.MEDIA_PLAYER, schema=schema, func=func
        )
