"""The ``ipro_nvr.*`` camera-control actions, targeting this integration's camera entities.

Registered once in ``async_setup`` (not per config entry), as Home Assistant
asks of integrations, so automations referring to them validate even while a
recorder is offline. Arguments are checked here by their schemas; what the
schemas cannot check (a pan speed beyond the chosen 16-step scale) is checked
before anything is sent, as a translated :class:`ServiceValidationError`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from homeassistant.const import Platform
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.entity import Entity
import voluptuous as vol

from .api import AuxAction, FocusAction, IrisAction, PtzSteps
from .api.spec import (
    AUX_OUTPUTS,
    CENTERING_GRID,
    PAN_TILT_RANGE_256,
    PRESET_RANGE,
    ZOOM_RANGE,
)
from .const import DOMAIN
from .control.camera_control import CameraControlEntity
from .recordings.recording_download import DOWNLOAD_SCHEMA, async_download_recording

ATTR_PAN: Final = "pan"
ATTR_TILT: Final = "tilt"
ATTR_ZOOM: Final = "zoom"
ATTR_SPEED_SCALE: Final = "speed_scale"
ATTR_DURATION: Final = "duration"
ATTR_X: Final = "x"
ATTR_Y: Final = "y"
ATTR_COMMAND: Final = "command"
ATTR_PRESET: Final = "preset"
ATTR_OUTPUT: Final = "output"

# A timed move blocks its caller for this long at most; a longer hold is a
# script's loop, not one action.
MAX_DURATION: Final = 300.0


def _whole(value: Any) -> int:
    """An integer, also from "3" or 3.0 (UI and templates), never silently from 1.5."""
    number = vol.Coerce(float)(value)
    if not number.is_integer():
        raise vol.Invalid(f"expected a whole number, got {value}")
    return int(number)


def _int_range(low: int, high: int) -> vol.All:
    return vol.All(_whole, vol.Range(min=low, max=high))


def _lower(choices: type[FocusAction | IrisAction | AuxAction]) -> vol.All:
    """The enum's values, written in lower case in actions, as Home Assistant does."""
    return vol.All(vol.Lower, vol.In([choice.value.lower() for choice in choices]))


PTZ_MOVE_SCHEMA: Final = vol.All(
    cv.make_entity_service_schema(
        {
            vol.Optional(ATTR_PAN): _int_range(-PAN_TILT_RANGE_256, PAN_TILT_RANGE_256),
            vol.Optional(ATTR_TILT): _int_range(-PAN_TILT_RANGE_256, PAN_TILT_RANGE_256),
            vol.Optional(ATTR_ZOOM): _int_range(-ZOOM_RANGE, ZOOM_RANGE),
            vol.Optional(ATTR_SPEED_SCALE, default=int(PtzSteps.STEPS_16)): vol.All(
                _whole, vol.In([int(steps) for steps in PtzSteps])
            ),
            vol.Optional(ATTR_DURATION): vol.All(
                vol.Coerce(float), vol.Range(min=0.1, max=MAX_DURATION)
            ),
        }
    ),
    cv.has_at_least_one_key(ATTR_PAN, ATTR_TILT, ATTR_ZOOM),
)
PTZ_CENTER_SCHEMA: Final = {
    vol.Required(ATTR_X): _int_range(0, CENTERING_GRID),
    vol.Required(ATTR_Y): _int_range(0, CENTERING_GRID),
}
FOCUS_SCHEMA: Final = {vol.Required(ATTR_COMMAND): _lower(FocusAction)}
IRIS_SCHEMA: Final = {vol.Required(ATTR_COMMAND): _lower(IrisAction)}
PRESET_SCHEMA: Final = {vol.Required(ATTR_PRESET): _int_range(1, PRESET_RANGE)}
AUX_SCHEMA: Final = {
    vol.Required(ATTR_OUTPUT): _int_range(1, AUX_OUTPUTS),
    vol.Required(ATTR_COMMAND): _lower(AuxAction),
}


def _camera(entity: Entity) -> CameraControlEntity:
    # The actions are registered for this integration's camera platform only,
    # so anything else here is a bug.
    if not isinstance(entity, CameraControlEntity):
        raise TypeError(f"{entity.entity_id} is not an i-PRO NVR camera")
    return entity


async def _ptz_move(entity: Entity, call: ServiceCall) -> None:
    camera = _camera(entity)
    data = call.data
    pan, tilt, zoom = data.get(ATTR_PAN), data.get(ATTR_TILT), data.get(ATTR_ZOOM)
    steps = PtzSteps(data[ATTR_SPEED_SCALE])
    for field, speed in ((ATTR_PAN, pan), (ATTR_TILT, tilt)):
        if speed is not None and abs(speed) > steps.value:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="speed_out_of_range",
                translation_placeholders={
                    "field": field,
                    "value": str(speed),
                    "scale": str(steps.value),
                },
            )
    duration: float | None = data.get(ATTR_DURATION)
    await camera.async_control(
        lambda client, channel: client.ptz_move(
            channel, pan=pan, tilt=tilt, zoom=zoom, steps=steps, duration=duration
        )
    )


async def _ptz_stop(entity: Entity, call: ServiceCall) -> None:
    await _camera(entity).async_control(lambda client, channel: client.ptz_stop(channel))


async def _ptz_center(entity: Entity, call: ServiceCall) -> None:
    x, y = call.data[ATTR_X], call.data[ATTR_Y]
    await _camera(entity).async_control(lambda client, channel: client.center_on(channel, x, y))


async def _focus(entity: Entity, call: ServiceCall) -> None:
    action = FocusAction(call.data[ATTR_COMMAND].upper())
    await _camera(entity).async_control(lambda client, channel: client.focus(channel, action))


async def _iris(entity: Entity, call: ServiceCall) -> None:
    action = IrisAction(call.data[ATTR_COMMAND].upper())
    await _camera(entity).async_control(lambda client, channel: client.iris(channel, action))


async def _preset_goto(entity: Entity, call: ServiceCall) -> None:
    number = call.data[ATTR_PRESET]
    await _camera(entity).async_control(
        lambda client, channel: client.go_to_preset(channel, number)
    )


async def _preset_store(entity: Entity, call: ServiceCall) -> None:
    number = call.data[ATTR_PRESET]
    await _camera(entity).async_control(
        lambda client, channel: client.store_preset(channel, number)
    )


async def _aux(entity: Entity, call: ServiceCall) -> None:
    action = AuxAction(call.data[ATTR_COMMAND].upper())
    await _camera(entity).async_aux(call.data[ATTR_OUTPUT], action)


async def _download_recording(entity: Entity, call: ServiceCall) -> ServiceResponse:
    return await async_download_recording(_camera(entity), call)


type _Handler = Callable[[Entity, ServiceCall], Awaitable[ServiceResponse]]

SERVICES: Final[dict[str, tuple[Any, _Handler]]] = {
    "ptz_move": (PTZ_MOVE_SCHEMA, _ptz_move),
    "ptz_stop": ({}, _ptz_stop),
    "ptz_center": (PTZ_CENTER_SCHEMA, _ptz_center),
    "focus": (FOCUS_SCHEMA, _focus),
    "iris": (IRIS_SCHEMA, _iris),
    "preset_goto": (PRESET_SCHEMA, _preset_goto),
    "preset_store": (PRESET_SCHEMA, _preset_store),
    "aux": (AUX_SCHEMA, _aux),
    "download_recording": (DOWNLOAD_SCHEMA, _download_recording),
}
# Actions that answer with response data.
RESPONDING: Final = frozenset({"download_recording"})


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every action (camera control, downloads) for the integration's camera entities."""
    for name, (schema, func) in SERVICES.items():
        service.async_register_platform_entity_service(
            hass,
            DOMAIN,
            name,
            entity_domain=Platform.CAMERA,
            schema=schema,
            func=func,
            supports_response=(
                SupportsResponse.OPTIONAL if name in RESPONDING else SupportsResponse.NONE
            ),
        )
