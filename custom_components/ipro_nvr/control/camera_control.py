"""What every camera-control entity shares: when it is available, and its error messages.

The camera entity (the target of the ``ipro_nvr.*`` actions), the PTZ buttons,
the preset select and the AUX switches all send their commands through
:meth:`CameraControlEntity.async_control`, so a failure reads the same
everywhere: a translated :class:`HomeAssistantError`, or a
:class:`ServiceValidationError` when the user's input was wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.dispatcher import async_dispatcher_send

from custom_components.ipro_nvr.api import (
    AuthenticationError,
    AuxAction,
    CannotConnectError,
    ChannelState,
    InvalidArgumentError,
    NotSupportedError,
    NvrClient,
    NvrError,
    RecorderBusyError,
    UidError,
)
from custom_components.ipro_nvr.const import DOMAIN
from custom_components.ipro_nvr.entity import NvrChannelEntity

_NOT_SUPPORTED = frozenset({404, 501})

# One camera-control command: the client and the channel it is for.
type ControlAction = Callable[[NvrClient, int], Awaitable[None]]


def aux_signal(entry_id: str, channel: int) -> str:
    """Dispatcher signal of a channel's AUX outputs: ``(output, action)`` after a command."""
    return f"{DOMAIN}_{entry_id}_{channel}_aux"


def control_error(err: NvrError, channel: int) -> HomeAssistantError:
    """The translated error a person sees when a camera-control command failed."""
    placeholders = {"channel": str(channel), "error": str(err)}
    if isinstance(err, InvalidArgumentError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_argument",
            translation_placeholders=placeholders,
        )
    key = "command_failed"
    if isinstance(err, RecorderBusyError):
        key = "recorder_busy"
    elif isinstance(err, NotSupportedError) or (
        # A refused UID command was retried on a fresh UID before this error
        # was raised: a 404/501 then means the recorder lacks the CGI.
        isinstance(err, UidError) and err.status in _NOT_SUPPORTED
    ):
        key = "not_supported"
    elif isinstance(err, AuthenticationError):
        key = "invalid_auth"
    elif isinstance(err, CannotConnectError):
        key = "cannot_connect"
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


class CameraControlEntity(NvrChannelEntity):
    """An entity that steers the camera of one channel through the recorder."""

    @property
    def available(self) -> bool:
        """Available while the recorder reaches the camera: it only relays commands."""
        return super().available and self.channel_state is ChannelState.NORMAL

    async def async_control(self, action: ControlAction) -> None:
        """Run ``action`` for this channel; raise a translated error when it fails."""
        # Home Assistant already skips unavailable entities when it runs an
        # action; this keeps the reason explicit for any other caller.
        if self.channel_state is not ChannelState.NORMAL:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="camera_disconnected",
                translation_placeholders={"channel": str(self.channel)},
            )
        try:
            await action(self.coordinator.client, self.channel)
        except NvrError as err:
            raise control_error(err, self.channel) from err

    async def async_aux(self, output: int, action: AuxAction) -> None:
        """Open or close AUX ``output``; the channel's AUX switches learn of it."""
        await self.async_control(lambda client, channel: client.aux(channel, output, action))
        # The recorder cannot report AUX states: the switches show the last
        # command, whether it came from a switch or from the ipro_nvr.aux action.
        async_dispatcher_send(
            self.hass,
            aux_signal(self.coordinator.config_entry.entry_id, self.channel),
            output,
            action,
        )
