"""Config flow for i-PRO NVR: user, reauth, reconfigure and options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import callback
from homeassistant.helpers import selector
import voluptuous as vol

from .api import AuthenticationError, CannotConnectError, NvrError, RecorderBusyError
from .client_factory import create_client, hand_over
from .const import (
    CAMERA_LIVE_CODECS,
    CONF_CAMERA_LIVE_CODECS,
    CONF_CHANNELS,
    CONF_CLIP_CACHE_SIZE,
    CONF_EVENT_SCAN_INTERVAL,
    CONF_LIVE_AUDIO,
    CONF_LIVE_CODEC,
    CONF_LIVE_TRANSPORT,
    CONF_PER_CAMERA_CODECS,
    CONF_PRESET_COUNT,
    CONF_PRESET_NAMES,
    CONF_SCAN_INTERVAL,
    CONF_UDP_PORT_MAX,
    CONF_UDP_PORT_MIN,
    CONF_USE_HTTPS,
    CONF_VERIFY_SSL,
    DEFAULT_CLIP_CACHE_SIZE_MB,
    DEFAULT_EVENT_SCAN_INTERVAL,
    DEFAULT_LIVE_AUDIO,
    DEFAULT_LIVE_CODEC,
    DEFAULT_LIVE_TRANSPORT,
    DEFAULT_PORT_HTTP,
    DEFAULT_PORT_HTTPS,
    DEFAULT_PRESET_COUNT,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_UDP_PORT_MAX,
    DEFAULT_UDP_PORT_MIN,
    DOMAIN,
    LIVE_CODECS,
    LIVE_TRANSPORTS,
    LOGGER,
    MAX_CLIP_CACHE_SIZE_MB,
    MAX_PRESET_COUNT,
    MAX_SCAN_INTERVAL,
    MAX_UDP_PORT,
    MIN_CLIP_CACHE_SIZE_MB,
    MIN_SCAN_INTERVAL,
    MIN_UDP_PORT,
)
from .data import IproNvrConfigEntry
from .entity import registered_channels
from .live.camera_codecs import camera_overrides

_TEXT = selector.TextSelector()
_PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
_PORT = selector.NumberSelector(
    selector.NumberSelectorConfig(min=1, max=65535, step=1, mode=selector.NumberSelectorMode.BOX)
)
_BOOL = selector.BooleanSelector()
_PRESET_COUNT = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=1, max=MAX_PRESET_COUNT, step=1, mode=selector.NumberSelectorMode.BOX
    )
)
_MULTILINE = selector.TextSelector(selector.TextSelectorConfig(multiline=True))
_LIVE_CODEC = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=list(LIVE_CODECS),
        translation_key=CONF_LIVE_CODEC,
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
)
_LIVE_TRANSPORT = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=list(LIVE_TRANSPORTS),
        translation_key=CONF_LIVE_TRANSPORT,
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
)
_UDP_PORT = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=MIN_UDP_PORT, max=MAX_UDP_PORT, step=1, mode=selector.NumberSelectorMode.BOX
    )
)
_CLIP_CACHE_SIZE = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=MIN_CLIP_CACHE_SIZE_MB,
        max=MAX_CLIP_CACHE_SIZE_MB,
        step=1,
        unit_of_measurement="MiB",
        mode=selector.NumberSelectorMode.BOX,
    )
)


def _connection_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    """Host, port and TLS fields, pre-filled from ``defaults``."""
    port_default = defaults.get(CONF_PORT)
    port_key = (
        vol.Optional(CONF_PORT, description={"suggested_value": port_default})
        if port_default is not None
        else vol.Optional(CONF_PORT)
    )
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)): _TEXT,
            port_key: _PORT,
            vol.Required(CONF_USE_HTTPS, default=defaults.get(CONF_USE_HTTPS, False)): _BOOL,
            vol.Required(CONF_VERIFY_SSL, default=defaults.get(CONF_VERIFY_SSL, False)): _BOOL,
        }
    )


def _credentials_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_USERNAME, default=defaults.get(CONF_USERNAME, vol.UNDEFINED)): _TEXT,
            vol.Required(CONF_PASSWORD): _PASSWORD,
        }
    )


def _normalise(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Strip the host and fill in the protocol's default port."""
    data = dict(user_input)
    data[CONF_HOST] = str(data[CONF_HOST]).strip()
    use_https = bool(data.get(CONF_USE_HTTPS, False))
    port = data.get(CONF_PORT)
    data[CONF_PORT] = (
        int(port) if port else (DEFAULT_PORT_HTTPS if use_https else DEFAULT_PORT_HTTP)
    )
    return data


def _unique_id(data: Mapping[str, Any]) -> str:
    # The CGI interface reports no serial number or MAC address, so the only
    # stable identity we can read is where the recorder answers.
    return f"{str(data[CONF_HOST]).lower()}:{data[CONF_PORT]}"


async def _async_validate(flow: ConfigFlow, data: Mapping[str, Any]) -> dict[str, str]:
    """Log in and read the camera status; map failures to form errors.

    On success the client stays logged in and is handed over to the entry
    this flow creates or reloads (see ``client_factory.hand_over``), with the
    camera status it read; on failure it is closed.
    """
    client = create_client(flow.hass, data)
    try:
        status = await client.validate()
    except AuthenticationError:
        errors = {"base": "invalid_auth"}
    except RecorderBusyError:
        errors = {"base": "busy"}
    except CannotConnectError:
        errors = {"base": "cannot_connect"}
    except NvrError:
        LOGGER.exception("Unexpected answer from the recorder at %s", data[CONF_HOST])
        errors = {"base": "unknown"}
    except BaseException:
        await client.close()
        raise
    else:
        hand_over(flow.hass, data, client, status)
        return {}
    await client.close()
    return errors


class IproNvrConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for an i-PRO recorder."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the recorder's address and credentials."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _normalise(user_input)
            await self.async_set_unique_id(_unique_id(data))
            self._abort_if_unique_id_configured()
            errors = await _async_validate(self, data)
            if not errors:
                return self.async_create_entry(title=f"i-PRO NVR ({data[CONF_HOST]})", data=data)
        schema = _connection_schema(user_input or {}).extend(
            _credentials_schema(user_input or {}).schema
        )
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start reauthentication after the recorder refused our credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for new credentials."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            errors = await _async_validate(self, data)
            if not errors:
                return self.async_update_reload_and_abort(entry, data_updates=user_input)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=_credentials_schema(user_input or entry.data),
            errors=errors,
            description_placeholders={CONF_HOST: entry.data[CONF_HOST]},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the recorder's address or TLS settings."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _normalise({**entry.data, **user_input})
            unique_id = _unique_id(data)
            if unique_id != entry.unique_id:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
            errors = await _async_validate(self, data)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, unique_id=unique_id, data_updates=data
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_connection_schema(user_input or entry.data),
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: IproNvrConfigEntry) -> IproNvrOptionsFlow:
        """Return the options flow."""
        return IproNvrOptionsFlow()


def _interval_selector() -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=MIN_SCAN_INTERVAL,
            max=MAX_SCAN_INTERVAL,
            step=1,
            unit_of_measurement="s",
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def _codec_field(codec: str) -> str:
    """The per-camera step's field listing the cameras that use ``codec``."""
    return f"{codec}_channels"


class IproNvrOptionsFlow(OptionsFlowWithReload):
    """Poll intervals, channels, presets, live codec, audio and transport, the clip cache.

    With *Live codec per camera* on, a second step chooses, per codec, the
    cameras that use it instead of the recorder-wide codec.
    """

    _options: dict[str, Any]

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options."""
        errors: dict[str, str] = {}
        if user_input is not None and int(user_input.get(CONF_UDP_PORT_MIN, 0)) > int(
            user_input.get(CONF_UDP_PORT_MAX, MAX_UDP_PORT)
        ):
            errors = {"base": "udp_port_range"}
        elif user_input is not None:
            options = dict(user_input)
            per_camera = bool(options.pop(CONF_PER_CAMERA_CODECS, False))
            for key in (CONF_UDP_PORT_MIN, CONF_UDP_PORT_MAX):
                if key in options:
                    options[key] = int(options[key])
            for key in (CONF_SCAN_INTERVAL, CONF_EVENT_SCAN_INTERVAL):
                options[key] = int(options[key])
            options[CONF_CHANNELS] = sorted(int(ch) for ch in options.get(CONF_CHANNELS, []))
            options[CONF_PRESET_COUNT] = int(options[CONF_PRESET_COUNT])
            # Only trailing blanks go: line N names preset N, so leading empty
            # lines are meaningful.
            names = str(options.pop(CONF_PRESET_NAMES, "") or "").rstrip()
            if names:
                options[CONF_PRESET_NAMES] = names
            # Left empty: the default size (the option is not stored).
            cache_size = options.pop(CONF_CLIP_CACHE_SIZE, None)
            if cache_size is not None:
                options[CONF_CLIP_CACHE_SIZE] = int(cache_size)
            self._options = options
            if per_camera:
                return await self.async_step_camera_codecs()
            return self.async_create_entry(data=options)

        current = self.config_entry.options
        if self.config_entry.state is ConfigEntryState.LOADED:
            registered = registered_channels(self.config_entry.runtime_data.coordinator.data.status)
        else:
            # Not connected right now: offer the channels chosen before.
            registered = list(current.get(CONF_CHANNELS, []))
        channel_options = [
            selector.SelectOptionDict(value=str(ch), label=f"Camera {ch}") for ch in registered
        ]
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SCAN_INTERVAL,
                    default=current.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                ): _interval_selector(),
                vol.Required(
                    CONF_EVENT_SCAN_INTERVAL,
                    default=current.get(CONF_EVENT_SCAN_INTERVAL, DEFAULT_EVENT_SCAN_INTERVAL),
                ): _interval_selector(),
                vol.Optional(
                    CONF_CHANNELS,
                    default=[str(ch) for ch in current.get(CONF_CHANNELS, registered)],
                ): selector.SelectSelector(
                    selector.SelectSelectorConfig(options=channel_options, multiple=True)
                ),
                vol.Required(
                    CONF_PRESET_COUNT,
                    default=current.get(CONF_PRESET_COUNT, DEFAULT_PRESET_COUNT),
                ): _PRESET_COUNT,
                vol.Optional(
                    CONF_PRESET_NAMES,
                    description={"suggested_value": current.get(CONF_PRESET_NAMES)},
                ): _MULTILINE,
                vol.Required(
                    CONF_LIVE_CODEC, default=current.get(CONF_LIVE_CODEC, DEFAULT_LIVE_CODEC)
                ): _LIVE_CODEC,
                vol.Required(
                    CONF_PER_CAMERA_CODECS, default=bool(camera_overrides(current))
                ): _BOOL,
                vol.Required(
                    CONF_LIVE_AUDIO, default=current.get(CONF_LIVE_AUDIO, DEFAULT_LIVE_AUDIO)
                ): _BOOL,
                vol.Optional(
                    CONF_CLIP_CACHE_SIZE,
                    description={
                        "suggested_value": current.get(
                            CONF_CLIP_CACHE_SIZE, DEFAULT_CLIP_CACHE_SIZE_MB
                        )
                    },
                ): _CLIP_CACHE_SIZE,
                vol.Required(
                    CONF_LIVE_TRANSPORT,
                    default=current.get(CONF_LIVE_TRANSPORT, DEFAULT_LIVE_TRANSPORT),
                ): _LIVE_TRANSPORT,
                vol.Required(
                    CONF_UDP_PORT_MIN, default=current.get(CONF_UDP_PORT_MIN, DEFAULT_UDP_PORT_MIN)
                ): _UDP_PORT,
                vol.Required(
                    CONF_UDP_PORT_MAX, default=current.get(CONF_UDP_PORT_MAX, DEFAULT_UDP_PORT_MAX)
                ): _UDP_PORT,
            }
        )
        if user_input is not None:
            schema = self.add_suggested_values_to_schema(schema, user_input)
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)

    async def async_step_camera_codecs(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the cameras whose live codec differs from the recorder-wide one."""
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen: dict[str, str] = {}
            for codec in CAMERA_LIVE_CODECS:
                for channel in user_input.get(_codec_field(codec), []):
                    if chosen.setdefault(str(int(channel)), codec) != codec:
                        errors = {"base": "camera_in_two_codecs"}
            if not errors:
                options = {**self._options, CONF_CAMERA_LIVE_CODECS: chosen}
                return self.async_create_entry(data=options)
        overrides = camera_overrides(self.config_entry.options)
        channels = self._options.get(CONF_CHANNELS) or sorted(overrides)
        channel_options = [
            selector.SelectOptionDict(value=str(ch), label=f"Camera {ch}") for ch in channels
        ]
        multi = selector.SelectSelector(
            selector.SelectSelectorConfig(options=channel_options, multiple=True)
        )
        schema = vol.Schema(
            {
                vol.Optional(
                    _codec_field(codec),
                    default=[
                        str(ch) for ch, c in overrides.items() if c == codec and ch in channels
                    ],
                ): multi
                for codec in CAMERA_LIVE_CODECS
            }
        )
        return self.async_show_form(step_id="camera_codecs", data_schema=schema, errors=errors)
