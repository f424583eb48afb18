"""The playbacks of one recorder: a session and a renderer per camera, made on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict

from homeassistant.core import HomeAssistant

from custom_components.ipro_nvr.api import NvrClient, PlaybackSession

from .renderer import PlaybackRenderer

# Nobody watching and no command for this long: the playback stops and its UID
# goes back to the recorder (another playback, a clip download or another
# client may need it). The media player then shows "idle"; any control starts
# the playback again where it was.
IDLE_TIMEOUT = 120.0


class PlaybackManager:
    """Owns every playback session of a config entry; closing ends them all."""

    def __init__(self, hass: HomeAssistant, client: NvrClient) -> None:
        """Nothing is sent to the recorder until a session gets a command."""
        self._hass = hass
        self._client = client
        self._sessions: dict[int, PlaybackSession] = {}
        self._renderers: dict[int, PlaybackRenderer] = {}

    def session(self, channel: int) -> PlaybackSession:
        """The playback session of ``channel`` (created, idle, on first use)."""
        session = self._sessions.get(channel)
        if session is None:
            session = PlaybackSession(self._client, channel, idle_timeout=IDLE_TIMEOUT)
            self._sessions[channel] = session
        return session

    def renderer(self, channel: int) -> PlaybackRenderer:
        """The JPEG renderer of ``channel``'s playback pictures."""
        renderer = self._renderers.get(channel)
        if renderer is None:
            renderer = self._renderers[channel] = PlaybackRenderer(self._hass)
        return renderer

    def listen(self, channel: int, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` on every change of ``channel``'s playback; returns the remover."""
        return self.session(channel).add_listener(listener)

    def diagnostics(self) -> dict[str, object]:
        """Each playback's mode, recorder state and counters: no UID, no picture."""
        out: dict[str, object] = {}
        for channel, session in sorted(self._sessions.items()):
            state = session.recorder_state
            error = session.last_error
            out[str(channel)] = {
                "mode": session.mode.value,
                "running": session.running,
                "recorder_status": None if state is None else str(state.status),
                "speed_step": None if state is None else state.speed,
                "position": None if session.position is None else session.position.isoformat(),
                "stats": asdict(session.stats),
                "last_error": None if error is None else type(error).__name__,
            }
        return out

    async def async_close(self) -> None:
        """End every playback's viewers; the client's close then logs their UIDs out
        (which ends the playbacks on the recorder: no STOP waits in the queue)."""
        sessions = list(self._sessions.values())
        if sessions:
            await asyncio.gather(*(session.close(stop=False) for session in sessions))
