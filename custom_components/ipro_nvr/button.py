"""PTZ, focus and iris buttons per camera channel, disabled by default.

The recorder cannot tell which cameras can pan, tilt or zoom, so these start
disabled; enabling them is one click. A press sends one command: an i-PRO
camera then moves for about 2 s, and pressing again extends the motion. For a
longer, continuous move use the ``ipro_nvr.ptz_move`` action with a duration.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import FocusAction, IrisAction
from .const import BUTTON_PAN_TILT_SPEED as SPEED, BUTTON_ZOOM_SPEED as ZOOM
from .control.camera_control import CameraControlEntity, ControlAction
from .coordinator import NvrStatusCoordinator
from .data import IproNvrConfigEntry
from .entity import async_add_channel_entities

# Commands are paced by the client's scheduler, not by Home Assistant.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class NvrButtonDescription(ButtonEntityDescription):
    """A camera-control button: what a press sends."""

    press: ControlAction
    entity_registry_enabled_default: bool = False


def _move(pan: int, tilt: int, zoom: int) -> ControlAction:
    # Every axis is sent, as in the spec's examples: a press replaces the
    # previous motion instead of adding to whatever axis was still moving.
    return lambda client, channel: client.ptz_move(channel, pan=pan, tilt=tilt, zoom=zoom)


BUTTONS: tuple[NvrButtonDescription, ...] = (
    # TILT is positive downwards, PAN positive to the right, ZOOM positive to tele.
    NvrButtonDescription(key="ptz_up", translation_key="ptz_up", press=_move(0, -SPEED, 0)),
    NvrButtonDescription(key="ptz_down", translation_key="ptz_down", press=_move(0, SPEED, 0)),
    NvrButtonDescription(key="ptz_left", translation_key="ptz_left", press=_move(-SPEED, 0, 0)),
    NvrButtonDescription(key="ptz_right", translation_key="ptz_right", press=_move(SPEED, 0, 0)),
    NvrButtonDescription(key="zoom_in", translation_key="zoom_in", press=_move(0, 0, ZOOM)),
    NvrButtonDescription(key="zoom_out", translation_key="zoom_out", press=_move(0, 0, -ZOOM)),
    NvrButtonDescription(
        key="ptz_stop", translation_key="ptz_stop", press=lambda c, ch: c.ptz_stop(ch)
    ),
    NvrButtonDescription(
        key="focus_auto",
        translation_key="focus_auto",
        press=lambda c, ch: c.focus(ch, FocusAction.AUTO),
    ),
    NvrButtonDescription(
        key="iris_reset",
        translation_key="iris_reset",
        press=lambda c, ch: c.iris(ch, IrisAction.RESET),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the camera-control buttons of every selected channel."""
    coordinator = entry.runtime_data.coordinator
    async_add_channel_entities(
        entry,
        async_add_entities,
        lambda channel: [CameraControlButton(coordinator, channel, d) for d in BUTTONS],
    )


class CameraControlButton(CameraControlEntity, ButtonEntity):
    """Sends one camera-control command per press."""

    entity_description: NvrButtonDescription

    def __init__(
        self, coordinator: NvrStatusCoordinator, channel: int, description: NvrButtonDescription
    ) -> None:
        """Initialise ``description``'s button for ``channel``."""
        super().__init__(coordinator, channel, description.key)
        self.entity_description = description

    async def async_press(self) -> None:
        """Send the command."""
        await self.async_control(self.entity_description.press)
