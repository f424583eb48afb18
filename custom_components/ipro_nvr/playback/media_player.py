"""The playback media player of a camera: transport controls and the recorder's state.

One ``media_player`` per camera channel, on the channel's device, so the stock
media-control card works: play, pause, stop, seek (a GOTODATE), next/previous
track (one picture forwards/backwards), browse media (the camera's events:
choosing one jumps there). Its state is what the recorder reports with each
GOP (status TLV, spec 7.1.2): playing (forwards, reverse, fast), paused
(pause, frame steps), idle (no playback: stopped, or stopped by itself when
nobody watched). The position is the shown picture's recorded time as seconds
since midnight of its day in Home Assistant's time zone (the "track" is that
day, 24 h long), so the seek bar moves through a day; the artwork is the
picture shown. Reverse and fast modes, the speed step and the exact recorded
time are in the attributes; fast forward/rewind and multi-picture steps are
actions (``ipro_nvr.playback_*``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import datetime as dt
from http import HTTPStatus
from typing import Any, Final

from homeassistant.components.media_player import MediaPlayerEntity
from homeassistant.components.media_player.browse_media import BrowseMedia
from homeassistant.components.media_player.const import (
    MediaClass,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from custom_components.ipro_nvr.api import (
    ChannelState,
    InvalidArgumentError,
    MediaFormatError,
    NotSupportedError,
    NvrError,
    PlaybackMode,
    PlaybackSession,
    RecorderStatus,
    UidBudgetExhaustedError,
    UidError,
    classify_log_text,
)
from custom_components.ipro_nvr.compat import entity_id_changed
from custom_components.ipro_nvr.const import DOMAIN
from custom_components.ipro_nvr.control.camera_control import control_error
from custom_components.ipro_nvr.coordinator import NvrStatusCoordinator
from custom_components.ipro_nvr.entity import NvrChannelEntity

from .manager import PlaybackManager

# media_content_id of a moment to play: "ipro_nvr_playback:<ISO 8601 time>".
CONTENT_PREFIX: Final = f"{DOMAIN}_playback:"
CONTENT_TYPE_TIME: Final = "ipro_nvr_time"
DAY_SECONDS: Final = 86_400
EVENTS_SHOWN: Final = 100

_MOVING: Final = frozenset(
    {
        RecorderStatus.PLAYBACK,
        RecorderStatus.REVERSE_PLAYBACK,
        RecorderStatus.FAST_FORWARD,
        RecorderStatus.FAST_REVERSE,
    }
)
_STILL: Final = frozenset(
    {RecorderStatus.PAUSE, RecorderStatus.NEXT_IMAGE, RecorderStatus.PREVIOUS_IMAGE}
)
_STATUS_NAMES: Final = {
    RecorderStatus.PLAYBACK: "play",
    RecorderStatus.REVERSE_PLAYBACK: "reverse",
    RecorderStatus.FAST_FORWARD: "fast_forward",
    RecorderStatus.FAST_REVERSE: "fast_reverse",
    RecorderStatus.PAUSE: "pause",
    RecorderStatus.NEXT_IMAGE: "next_picture",
    RecorderStatus.PREVIOUS_IMAGE: "previous_picture",
}


def _no_recording(err: NvrError) -> bool:
    """A 404 to a playback request: the recorder has nothing recorded of this camera there
    (a refused UID request was retried on a fresh UID before it was raised)."""
    status = err.status if isinstance(err, UidError) else None
    return isinstance(err, NotSupportedError) or status == HTTPStatus.NOT_FOUND


def content_id_for(moment: dt.datetime) -> str:
    """The media_content_id that makes the playback jump to ``moment``."""
    return f"{CONTENT_PREFIX}{moment.astimezone(dt.UTC).isoformat()}"


class NvrPlaybackPlayer(NvrChannelEntity, MediaPlayerEntity):
    """Recorder playback of one camera channel."""

    _attr_translation_key = "playback"
    _attr_media_content_type = MediaType.VIDEO
    _attr_media_image_remotely_accessible = False
    _attr_supported_features = (
        MediaPlayerEntityFeature.PLAY
        | MediaPlayerEntityFeature.PAUSE
        | MediaPlayerEntityFeature.STOP
        | MediaPlayerEntityFeature.SEEK
        | MediaPlayerEntityFeature.NEXT_TRACK
        | MediaPlayerEntityFeature.PREVIOUS_TRACK
        | MediaPlayerEntityFeature.PLAY_MEDIA
        | MediaPlayerEntityFeature.BROWSE_MEDIA
    )

    def __init__(
        self, coordinator: NvrStatusCoordinator, channel: int, manager: PlaybackManager
    ) -> None:
        """Initialise for ``channel``; the session starts with the first control."""
        super().__init__(coordinator, channel, "playback")
        self._manager = manager
        self._session: PlaybackSession = manager.session(channel)
        self._sync()

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Renamed in place (2026.11+): nothing here is keyed on the entity ID."""
        entity_id_changed(super(), old_entity_id)

    async def async_added_to_hass(self) -> None:
        """Follow the session's changes."""
        await super().async_added_to_hass()
        self.async_on_remove(self._manager.listen(self.channel, self._session_changed))

    @callback
    def _session_changed(self) -> None:
        self._sync()
        if self.hass is not None and self.entity_id:
            self.async_write_ha_state()

    def _sync(self) -> None:
        """Copy the recorder's reported state into the entity's attributes."""
        session = self._session
        state = session.recorder_state
        shown = session.shown
        if not session.running:
            self._attr_state = MediaPlayerState.IDLE
        elif state is not None and state.status in _MOVING:
            self._attr_state = MediaPlayerState.PLAYING
        elif state is not None and state.status in _STILL:
            self._attr_state = MediaPlayerState.PAUSED
        else:
            self._attr_state = MediaPlayerState.BUFFERING
        if shown is None:
            self._attr_media_position = None
            self._attr_media_duration = None
            self._attr_media_title = None
            self._attr_media_image_hash = None
            return
        local = dt_util.as_local(shown.time)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        self._attr_media_position = int((local - midnight).total_seconds())
        self._attr_media_position_updated_at = dt_util.utcnow()
        self._attr_media_duration = DAY_SECONDS
        self._attr_media_title = f"{local:%Y-%m-%d %H:%M:%S}"
        self._attr_media_content_id = content_id_for(shown.time)
        self._attr_media_image_hash = f"{shown.gop_serial}-{shown.index}"

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The recorder's own words: exact recorded time, operation, speed step."""
        session = self._session
        state = session.recorder_state
        status = state.status if state is not None else None
        return {
            "recorded_time": (
                session.position.isoformat(timespec="milliseconds")
                if session.position is not None
                else None
            ),
            "operation": (
                _STATUS_NAMES.get(RecorderStatus(status), "stopped")
                if isinstance(status, RecorderStatus) and session.running
                else "stopped"
            ),
            "speed_step": state.speed if state is not None and session.running else None,
        }

    async def async_get_media_image(self) -> tuple[bytes | None, str | None]:
        """The picture shown, as JPEG (decoded only when asked for)."""
        shown = self._session.shown
        if shown is None:
            return None, None
        jpeg = await self._manager.renderer(self.channel).jpeg(shown)
        return (jpeg, "image/jpeg") if jpeg is not None else (None, None)

    # -- controls --------------------------------------------------------------------

    async def async_media_play(self) -> None:
        """Play forwards at normal speed."""
        await self._run(self._session.play)

    async def async_media_pause(self) -> None:
        """Stay on the picture shown."""
        await self._run(self._session.pause)

    async def async_media_stop(self) -> None:
        """End the playback; its recorder session (UID) goes back."""
        await self._run(self._session.stop)

    async def async_media_next_track(self) -> None:
        """One picture forwards."""
        await self.async_step(1)

    async def async_media_previous_track(self) -> None:
        """One picture backwards."""
        await self.async_step(-1)

    async def async_media_seek(self, position: float) -> None:
        """Go to ``position`` seconds into the day shown (today before any picture)."""
        shown = self._session.shown
        base = dt_util.as_local(shown.time) if shown is not None else dt_util.now()
        midnight = base.replace(hour=0, minute=0, second=0, microsecond=0)
        await self.async_goto(
            midnight + dt.timedelta(seconds=position),
            paused=self._session.mode is PlaybackMode.PAUSE,
        )

    async def async_play_media(self, media_type: str, media_id: str, **kwargs: Any) -> None:
        """Jump to a moment: an event chosen in the browser, or ``ipro_nvr_playback:<time>``."""
        moment = None
        if media_id.startswith(CONTENT_PREFIX):
            moment = dt_util.parse_datetime(media_id.removeprefix(CONTENT_PREFIX))
        if moment is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_argument",
                translation_placeholders={"error": f"not a playback moment: {media_id}"},
            )
        await self.async_goto(moment)

    async def async_browse_media(
        self, media_content_type: str | None = None, media_content_id: str | None = None
    ) -> BrowseMedia:
        """The camera's events, newest first: choosing one jumps the playback there."""
        if media_content_id not in (None, "", "events"):
            raise BrowseError(
                translation_domain=DOMAIN,
                translation_key="media_not_found",
                translation_placeholders={"identifier": str(media_content_id)},
            )
        logs = self.coordinator.config_entry.runtime_data.log_coordinator.data
        entries = sorted(
            (
                entry
                for entry in (logs.event_log if logs is not None else ())
                if classify_log_text(entry.text).channel == self.channel
            ),
            key=lambda entry: entry.time,
            reverse=True,
        )[:EVENTS_SHOWN]
        children = []
        for entry in entries:
            kind = classify_log_text(entry.text).type.value.replace("_", " ").capitalize()
            children.append(
                BrowseMedia(
                    media_class=MediaClass.VIDEO,
                    media_content_id=content_id_for(entry.time),
                    media_content_type=CONTENT_TYPE_TIME,
                    title=f"{entry.time:%H:%M:%S} {kind}, {entry.time:%Y-%m-%d}",
                    can_play=True,
                    can_expand=False,
                )
            )
        return BrowseMedia(
            media_class=MediaClass.DIRECTORY,
            media_content_id="events",
            media_content_type="",
            title="Events",
            can_play=False,
            can_expand=True,
            children=children,
            children_media_class=MediaClass.VIDEO,
        )

    # -- the actions' entry points ------------------------------------------------------

    async def async_goto(self, moment: dt.datetime, *, paused: bool = False) -> None:
        """Show the picture recorded at ``moment`` and play on (or stay, ``paused``)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
        await self._run(lambda: self._session.goto(moment, paused=paused))

    async def async_reverse(self) -> None:
        """Play backwards at normal speed."""
        await self._run(self._session.reverse)

    async def async_step(self, count: int) -> None:
        """``count`` pictures forwards (negative: backwards), then stay."""
        await self._run(lambda: self._session.step(count))

    async def async_speed(self, forward: bool) -> None:
        """Fast forward (or rewind); each call raises the speed step, up to 8."""
        await self._run(self._session.fast_forward if forward else self._session.fast_reverse)

    async def _run(self, operation: Callable[[], Awaitable[object]]) -> None:
        if self.channel_state is ChannelState.NOT_REGISTERED:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="camera_disconnected",
                translation_placeholders={"channel": str(self.channel)},
            )
        try:
            await operation()
        except UidBudgetExhaustedError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="playback_no_session",
                translation_placeholders={"channel": str(self.channel)},
            ) from err
        except InvalidArgumentError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="playback_invalid",
                translation_placeholders={"channel": str(self.channel), "error": str(err)},
            ) from err
        except NvrError as err:
            if _no_recording(err):
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="no_recording",
                    translation_placeholders={"channel": str(self.channel)},
                ) from err
            raise control_error(err, self.channel) from err
        except MediaFormatError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={"channel": str(self.channel), "error": str(err)},
            ) from err
        finally:
            self._session_changed()
