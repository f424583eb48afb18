"""A playback session: one camera's recordings through the recorder's own playback engine.

Spec chapter 3. A :class:`PlaybackSession` plays one channel on a UID of its
own (an exclusive playback lease: never the live UID, spec 1.3, and never a
UID shared with another playback, whose PLAYCMDs would act on it too):

* the sequence of spec 3.1: ``hdrctl MASK`` (one digit per channel the
  recorder reports, spec 3.2.3) once per login, then a ``PLAYCMD``, then
  ``camera.cgi`` answering one GOP (one JPEG) per request, spec 3.2.1;
* every PLAYCMD: PLAY, BPLAY, PAUSE, NEXTFRAME, PREVFRAME, GOTODATE, FF, REW,
  STOP, with ``TIMEF`` in UTC (the URL builders of :mod:`.urls` fix the 10 ms
  field at ``00`` for BPLAY, GOTODATE and STOP, and send the displayed
  picture's 10 ms for PAUSE, NEXTFRAME, PREVFRAME, FF and REW);
* ``hdrctl SCREEN=16X`` (the live setup, spec 2.2.1) is never sent on a
  playback UID: after STOP the UID is logged out, not reused for live video as
  spec 3.1.7 allows (the live path keeps UIDs of its own, set up ahead);
* every ``hdrctl`` goes through the recorder's one pacing queue (at least 3 s
  between commands, spec 1.3) at :attr:`Priority.USER`: a person (or an
  automation acting for one) waits for it. ``camera.cgi`` is a stream request
  and is not paced, so playing on costs no command.

The session shows pictures itself: it fetches a GOP, hands out its pictures
one by one at the recorded frame rate (forwards, or backwards for reverse
playback: spec 3.2.7 asks the client to reorder), and fetches the next GOP
meanwhile. A viewer reads :meth:`PlaybackSession.frames`; each
:class:`PlaybackFrame` names the GOP and the picture's index in it, so a
decoder can start at the GOP's first picture and a step back inside a GOP
needs no command's answer to be shown.

Frame steps (spec 3.1.4): inside the GOP at hand the picture is shown at
once and one NEXTFRAME/PREVFRAME (with the time of the picture shown before the
step, as the spec's sequence sends it) tells the recorder; a step over the
GOP's edge waits for its command, then for the recorder's next (or previous) GOP.

The state is the recorder's: the status TLV (0x000D: operation and speed step)
and the picture times of every GOP (:class:`~.media.PlaybackState`).

Nobody watching and no command for ``idle_timeout`` seconds stops the
playback (``PLAYCMD=STOP``) and gives the UID back; any command starts it again
where it was (MASK, GOTODATE). A refused ``camera.cgi`` (the UID evicted or
expired, or the recorder forgot the playback) sets the playback up again
once (MASK, GOTODATE at the shown picture, the mode's command) before it fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import contextlib
from dataclasses import dataclass, replace
import datetime as dt
from enum import StrEnum
import logging
from typing import TYPE_CHECKING, Final

import aiohttp

from . import urls
from .errors import InvalidArgumentError, NvrError, UidError
from .media import MediaFormatError, PlaybackGop, PlaybackPicture, PlaybackState
from .media.playback_container import parse_playback_video
from .media.tlv import playback_state
from .scheduler import Priority
from .session import Lease, UidPurpose
from .urls import Request

if TYPE_CHECKING:
    from .client import NvrClient

_LOGGER = logging.getLogger(__name__)

# Nobody watching and no command for this long: STOP, and the UID goes back.
DEFAULT_IDLE_TIMEOUT: Final = 120.0
# How long a start waits for a playback UID while the budget is spent.
DEFAULT_UID_WAIT: Final = 10.0
# A GOP answer that sends nothing for this long is dead.
READ_TIMEOUT: Final = 10.0
# A GOP larger than this is no GOP (a 4K camera's is a few MB).
MAX_GOP_BYTES: Final = 64 * 1024 * 1024
# Bodies larger than this are parsed in a worker thread.
_INLINE_PARSE: Final = 512 * 1024
# Pictures per second shown when neither the frame-rate TLV nor the times tell.
_FALLBACK_FPS: Final = 10.0
# At the end (or start) of the recordings the recorder repeats its last GOP:
# ask again after this many GOP durations (new recordings arrive in real time).
_EDGE_RETRY_GOPS: Final = 1.0
# GOPs fetched while looking for the picture after (before) the shown one.
_MAX_SEARCH: Final = 4
# Speed steps of FF/REW (spec 7.1.2, status TLV: 1-8).
MAX_SPEED: Final = 8


class PlaybackMode(StrEnum):
    """What the session asked the recorder to do."""

    STOPPED = "stopped"
    PLAY = "play"
    REVERSE = "reverse"
    PAUSE = "pause"
    FAST_FORWARD = "fast_forward"
    FAST_REVERSE = "fast_reverse"


_MOVING: Final = frozenset(
    {PlaybackMode.PLAY, PlaybackMode.REVERSE, PlaybackMode.FAST_FORWARD, PlaybackMode.FAST_REVERSE}
)
_BACKWARDS: Final = frozenset({PlaybackMode.REVERSE, PlaybackMode.FAST_REVERSE})


def picture_time(picture: PlaybackPicture) -> dt.datetime:
    """The recorded time of a playback picture (the parser always sets it)."""
    info = picture.info
    if info is None or info.time is None:  # pragma: no cover - the parser sets it
        raise MediaFormatError("playback picture without a recorded time")
    return info.time


@dataclass(frozen=True, slots=True)
class PlaybackFrame:
    """The picture shown: ``gop.pictures[index]``.

    ``gop_serial`` names the GOP (one per ``camera.cgi`` answer), so a decoder
    can keep what it decoded of it; ``sequence`` grows with every picture shown.
    """

    gop: PlaybackGop
    gop_serial: int
    index: int
    sequence: int

    @property
    def picture(self) -> PlaybackPicture:
        """The picture itself (an access unit, or a JPEG frame)."""
        return self.gop.pictures[self.index]

    @property
    def time(self) -> dt.datetime:
        """Its recorded time (UTC)."""
        return picture_time(self.picture)


@dataclass(slots=True)
class PlaybackStats:
    """Counters for diagnostics, tests and benchmarks."""

    starts: int = 0
    commands: int = 0
    gops: int = 0
    pictures_shown: int = 0
    recoveries: int = 0
    bad_gops: int = 0


class PlaybackSession:
    """The playback of one camera channel; see the module docstring."""

    def __init__(
        self,
        client: NvrClient,
        channel: int,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        uid_wait: float = DEFAULT_UID_WAIT,
        priority: Priority = Priority.USER,
    ) -> None:
        """Prepare the session; nothing is sent before the first command."""
        self.client = client
        self.channel = channel
        self.stats = PlaybackStats()
        self._idle_timeout = idle_timeout
        self._uid_wait = uid_wait
        self._priority = priority
        self._lease: Lease | None = None
        self._mask_generation = -1  # the lease generation the MASK was sent on
        self._mode = PlaybackMode.STOPPED
        self._speed = 0  # FF/REW presses in a row (the recorder reports its own)
        self._recorder: PlaybackState | None = None
        self._shown: PlaybackFrame | None = None
        self._gop_serial = 0
        self._sequence = 0
        self._pump: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one operation at a time (they share the UID)
        self._viewers = 0
        self._idle_handle: asyncio.TimerHandle | None = None
        self._idle_task: asyncio.Task[None] | None = None
        self._shown_event = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []
        self._closed = False
        self._releases: set[asyncio.Task[None]] = set()  # logouts under way
        self.last_error: Exception | None = None

    # -- state ---------------------------------------------------------------------

    @property
    def mode(self) -> PlaybackMode:
        """What the session asked the recorder to do last."""
        return self._mode

    @property
    def running(self) -> bool:
        """Whether the session holds a UID (a playback is set up on the recorder)."""
        return self._lease is not None

    @property
    def recorder_state(self) -> PlaybackState | None:
        """What the recorder reported with the latest GOP: status, speed step, time.

        ``time`` is the shown picture's recorded time (the GOP's own time is its start).
        """
        if self._recorder is None:
            return None
        if self._shown is None:
            return self._recorder
        return replace(self._recorder, time=self._shown.time)

    @property
    def shown(self) -> PlaybackFrame | None:
        """The picture shown now (kept after a stop: a restart resumes there)."""
        return self._shown

    @property
    def position(self) -> dt.datetime | None:
        """The recorded time (UTC) of the picture shown."""
        return self._shown.time if self._shown is not None else None

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when the mode, the recorder's state or the GOP shown changes,
        and at each step (a picture moved to by hand)."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    # -- viewers -------------------------------------------------------------------

    async def frames(self) -> AsyncGenerator[PlaybackFrame]:
        """Yield every picture shown, starting with the current one, until closed.

        A viewer slower than the playback skips pictures (it always gets the
        newest). Reading keeps a *playing* session from stopping as idle (a
        paused one stops after the idle time anyway: its picture stays, its UID
        goes back); it does not start a playback: a command does.
        """
        self._viewers += 1
        try:
            seen = -1
            while not self._closed:
                frame = self._shown
                if frame is not None and frame.sequence != seen:
                    seen = frame.sequence
                    yield frame
                    continue
                event = self._shown_event
                await event.wait()
        finally:
            self._viewers -= 1
            self._touch()

    async def wait_for_frame(self, after: int = 0) -> PlaybackFrame | None:
        """The first picture shown with a sequence above ``after`` (None: closed)."""
        while not self._closed:
            frame = self._shown
            if frame is not None and frame.sequence > after:
                return frame
            await self._shown_event.wait()
        return None

    # -- commands ------------------------------------------------------------------

    async def goto(self, at: dt.datetime, *, paused: bool = False) -> PlaybackFrame:
        """Show the picture recorded at ``at`` (the latest at or before it) and play on.

        GOTODATE (spec 3.2.8) takes whole seconds: the session then skips the
        GOP's pictures before ``at`` itself. ``paused``: stay on that picture
        (a PAUSE follows, one command later).
        """
        if at.tzinfo is None:
            raise InvalidArgumentError("a playback time must be timezone-aware")
        async with self._operation():
            await self._start_at(at)
            shown = self._require_shown()
            if paused:
                await self._send(urls.pause(shown.time))
                self._mode = PlaybackMode.PAUSE
                await self._refresh_state()
                return self._require_shown()  # the same picture, from the recorder's answer
            self._start_pump()
            return shown

    async def play(self) -> None:
        """Play forwards at normal speed (PLAY, spec 3.2.4), from the picture shown."""
        async with self._operation():
            if await self._resume_if_stopped():
                self._start_pump()
                return
            await self._send(urls.play())
            self._mode, self._speed = PlaybackMode.PLAY, 0
            self._start_pump()

    async def reverse(self) -> None:
        """Play backwards (BPLAY, spec 3.2.5) from the picture shown."""
        async with self._operation():
            await self._resume_if_stopped()
            shown = self._require_shown()
            await self._send(urls.reverse_play(shown.time))
            self._mode, self._speed = PlaybackMode.REVERSE, 0
            self._start_pump()

    async def pause(self) -> None:
        """Stay on the picture shown (PAUSE with its time, spec 3.2.6)."""
        async with self._operation():
            await self._resume_if_stopped()
            shown = self._require_shown()
            await self._send(urls.pause(shown.time))
            self._mode, self._speed = PlaybackMode.PAUSE, 0
            await self._refresh_state()

    async def fast_forward(self) -> None:
        """Fast forward; each call raises the speed step, up to 8 (FF, spec 3.2.9)."""
        await self._fast(PlaybackMode.FAST_FORWARD)

    async def fast_reverse(self) -> None:
        """Fast reverse; each call raises the speed step, up to 8 (REW, spec 3.2.9)."""
        await self._fast(PlaybackMode.FAST_REVERSE)

    async def step(self, count: int = 1) -> PlaybackFrame:
        """Move ``count`` pictures forwards (negative: backwards) and stay there (spec 3.1.4).

        Inside the GOP at hand the picture is shown at once, then one command
        tells the recorder; over the GOP's edge the recorder's next GOP is
        fetched (NEXTFRAME/PREVFRAME, then ``camera.cgi``). Stops early at
        the end (start) of the recordings.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count == 0:
            raise InvalidArgumentError("step count must be a non-zero integer")
        async with self._operation():
            await self._resume_if_stopped()
            self._mode, self._speed = PlaybackMode.PAUSE, 0
            forward = count > 0
            remaining = abs(count)
            fetched = False
            while remaining:
                moved, fetched = await self._step_once(forward, remaining)
                if not moved:
                    break
                remaining -= moved
            if not fetched:
                # The recorder's status after the step comes with its GOP.
                await self._refresh_state()
            return self._require_shown()

    async def stop(self) -> None:
        """End the playback (STOP, spec 3.2.10) and give the UID back; the picture stays."""
        async with self._operation(touch=False):
            await self._stop()

    async def close(self, *, stop: bool = True) -> None:
        """End every viewer; the session is unusable afterwards.

        ``stop``: send STOP and log the UID out first (paced commands). Without
        it, the client's own close logs the UID out, which ends the playback
        too (Home Assistant stopping: no time for the queue).
        """
        self._cancel_idle()
        if stop:
            with contextlib.suppress(NvrError, aiohttp.ClientError, TimeoutError):
                await self.stop()
        else:
            await self._stop_pump()
        self._closed = True
        # A viewer that left while STOP was under way restarted the countdown.
        self._cancel_idle()
        self._wake_viewers()
        if self._releases and stop:
            await asyncio.gather(*self._releases, return_exceptions=True)

    async def wait_released(self) -> None:
        """Return once the logouts of stopped playbacks are done (their UIDs are free)."""
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)

    # -- operations ----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _operation(self, *, touch: bool = True) -> AsyncGenerator[None]:
        if self._closed:
            raise InvalidArgumentError("the playback session is closed")
        self._cancel_idle()
        async with self._lock:
            await self._stop_pump()
            try:
                yield
            except BaseException as err:
                if isinstance(err, Exception):
                    self.last_error = err
                raise
            finally:
                self._notify()
                if touch:
                    self._touch()

    async def _fast(self, mode: PlaybackMode) -> None:
        async with self._operation():
            await self._resume_if_stopped()
            shown = self._require_shown()
            build = urls.fast_forward if mode is PlaybackMode.FAST_FORWARD else urls.fast_reverse
            await self._send(build(shown.time))
            self._speed = min(self._speed + 1, MAX_SPEED) if self._mode is mode else 1
            self._mode = mode
            self._start_pump()

    def _require_shown(self) -> PlaybackFrame:
        if self._shown is None:
            raise InvalidArgumentError("no picture shown yet: go to a time first")
        return self._shown

    async def _resume_if_stopped(self) -> bool:
        """Set the playback up again where it was, after an idle stop or a STOP."""
        if self._lease is not None:
            return False
        if self._shown is None:
            await self._setup()
            await self._send(urls.play())
            self._mode = PlaybackMode.PLAY
            await self._show_first(forward=True, target=None)
            return True
        await self._start_at(self._shown.time)
        return True

    async def _start_at(self, at: dt.datetime) -> None:
        """GOTODATE ``at`` and show the latest picture recorded at or before it.

        A playback that shows nothing (no recording there, a broken answer) does
        not keep its UID: it is logged out (which ends the playback too).
        """
        fresh = self._lease is None
        try:
            await self._setup()
            await self._send(urls.go_to_date(at))
            self._mode, self._speed = PlaybackMode.PLAY, 0
            await self._show_first(forward=True, target=at)
        except (NvrError, MediaFormatError, aiohttp.ClientError, TimeoutError):
            if fresh:
                await self._abandon()
            raise

    async def _abandon(self) -> None:
        """Give the UID back without a STOP (its logout ends the playback)."""
        lease, self._lease = self._lease, None
        self._mode, self._speed = PlaybackMode.STOPPED, 0
        if lease is not None:
            release = asyncio.get_running_loop().create_task(self.client.release(lease))
            self._releases.add(release)
            release.add_done_callback(self._releases.discard)

    async def _setup(self) -> Lease:
        """A UID of our own with the MASK sent on its current login (spec 3.2.3)."""
        lease = self._lease
        if lease is None:
            lease = await self.client.acquire(
                UidPurpose.PLAYBACK,
                channel=self.channel,
                priority=self._priority,
                wait=self._uid_wait,
                exclusive=True,
            )
            self._lease = lease
            self._mask_generation = -1
            self.stats.starts += 1
        if self._mask_generation != lease.generation:
            count = self.client.channel_count
            if count is None:
                count = (await self.client.get_camera_status(priority=self._priority)).channel_count
            await self.client.send_on(
                lease,
                urls.playback_channels([self.channel], channel_count=count),
                priority=self._priority,
            )
            self.stats.commands += 1
            # A re-login during the MASK itself sent it on the new UID.
            self._mask_generation = lease.generation
        return lease

    async def _send(self, request: Request) -> None:
        """A PLAYCMD on our UID; a refusal (UID renewed, MASK lost) sets it up once more."""
        lease = await self._setup()
        generation = lease.generation
        try:
            await self.client.send_on(lease, request, priority=self._priority)
        except UidError:
            if lease.generation == generation and self._mask_generation == generation:
                # Same UID, refused: the recorder forgot the MASK (or the UID is gone).
                self._mask_generation = -1
            await self._setup()
            await self.client.send_on(lease, request, priority=self._priority)
        self.stats.commands += 1
        if lease.generation != self._mask_generation:
            # The session logged in again for the command: that UID has no MASK.
            await self._setup()
            await self.client.send_on(lease, request, priority=self._priority)
            self.stats.commands += 1

    async def _stop(self) -> None:
        lease = self._lease
        self._mode, self._speed = PlaybackMode.STOPPED, 0
        if lease is None:
            return
        try:
            shown = self._shown.time if self._shown is not None else dt.datetime.now(dt.UTC)
            with contextlib.suppress(UidError):  # a UID gone has no playback to stop
                await self.client.send_on(
                    lease, urls.stop_playback(shown), priority=Priority.NORMAL
                )
                self.stats.commands += 1
        finally:
            self._lease = None
            # The logout waits for its own turn in the background: nobody waits for it.
            release = asyncio.get_running_loop().create_task(self.client.release(lease))
            self._releases.add(release)
            release.add_done_callback(self._releases.discard)

    # -- GOPs ----------------------------------------------------------------------

    async def _fetch(self) -> PlaybackGop:
        """One ``camera.cgi`` answer, parsed; a refused one sets the playback up again once."""
        lease = await self._setup()
        try:
            gop = await self._fetch_on(lease)
        except UidError as err:
            _LOGGER.info(
                "Playback of camera %d was dropped by the recorder (%s); setting it up again",
                self.channel,
                err,
            )
            self.stats.recoveries += 1
            await self._recover()
            gop = await self._fetch_on(await self._setup())
        self.stats.gops += 1
        if gop.info is not None:
            state = playback_state(gop.info)
            previous = self._recorder
            self._recorder = state
            if previous is None or (previous.status, previous.speed) != (state.status, state.speed):
                self._notify()  # the recorder's word on what it does changed
        return gop

    async def _fetch_on(self, lease: Lease) -> PlaybackGop:
        async with self.client.stream(
            urls.playback_video(self.channel),
            lease=lease,
            priority=self._priority,
            read_timeout=READ_TIMEOUT,
            renew_refused=False,
        ) as response:
            body = bytearray()
            async for chunk in response.content.iter_any():
                body += chunk
                if len(body) > MAX_GOP_BYTES:
                    raise MediaFormatError(f"playback video: GOP over {MAX_GOP_BYTES} bytes")
        try:
            if len(body) > _INLINE_PARSE:
                return await asyncio.to_thread(parse_playback_video, bytes(body))
            return parse_playback_video(body)
        except MediaFormatError:
            self.stats.bad_gops += 1
            raise

    async def _recover(self) -> None:
        """MASK again (a dead UID is renewed by the session), GOTODATE, the mode's command."""
        self._mask_generation = -1
        mode, speed = self._mode, self._speed
        at = self._shown.time if self._shown is not None else None
        await self._setup()
        if at is None:
            await self._send(urls.play())
            return
        await self._send(urls.go_to_date(at))
        if mode is PlaybackMode.REVERSE:
            await self._send(urls.reverse_play(at))
        elif mode is PlaybackMode.PAUSE:
            await self._send(urls.pause(at))
        elif mode in (PlaybackMode.FAST_FORWARD, PlaybackMode.FAST_REVERSE):
            build = urls.fast_forward if mode is PlaybackMode.FAST_FORWARD else urls.fast_reverse
            for _ in range(max(speed, 1)):
                await self._send(build(at))

    async def _refresh_state(self) -> None:
        """Read the recorder's state after a still command: it answers the GOP held."""
        gop = await self._fetch()
        shown = self._shown
        if shown is None:
            self._show(gop, 0)
            return
        # The same picture, in the recorder's fresh GOP when it is there.
        for index, picture in enumerate(gop.pictures):
            if picture_time(picture) == shown.time:
                self._show(gop, index)
                return

    async def _show_first(self, *, forward: bool, target: dt.datetime | None) -> None:
        """Fetch and show the first picture of a (new) playback: at ``target``, or the first."""
        gop = await self._fetch()
        if target is None:
            self._show(gop, 0 if forward else len(gop.pictures) - 1)
            return
        for _ in range(_MAX_SEARCH):
            times = [picture_time(p) for p in gop.pictures]
            if times[-1] + _frame_duration(gop) <= target:
                # The GOP ends before the target: the next one holds it.
                self._show(gop, len(times) - 1)
                following = await self._fetch()
                if picture_time(following.pictures[-1]) <= times[-1]:
                    return  # the end of the recordings
                gop = following
                continue
            at_or_before = [index for index, time in enumerate(times) if time <= target]
            self._show(gop, at_or_before[-1] if at_or_before else 0)
            return

    async def _step_once(self, forward: bool, wanted: int) -> tuple[int, bool]:
        """One stretch of a step: inside the GOP, or over its edge.

        Returns the pictures moved, and whether a GOP came after the command.
        """
        shown = self._require_shown()
        pictures = shown.gop.pictures
        last = len(pictures) - 1
        target = min(shown.index + wanted, last) if forward else max(shown.index - wanted, 0)
        if target != shown.index:
            self._show(shown.gop, target)
            # The position follows the picture now, not once the command had its
            # turn (up to 3 s later; the shown GOP is the same, so _show is quiet).
            self._notify()
            moved = abs(target - shown.index)
            if moved < wanted:
                # The step goes on over the GOP's edge, whose command tells the
                # recorder where it stands: none for this stretch (3 s saved).
                return moved, True
            # The spec's sequence sends the time of the picture shown before the step:
            # the recorder then stands on the picture shown now.
            before = pictures[target - 1] if forward else pictures[target + 1]
            build = urls.next_frame if forward else urls.previous_frame
            await self._send(build(picture_time(before)))
            return moved, False
        build = urls.next_frame if forward else urls.previous_frame
        await self._send(build(shown.time))
        for _ in range(_MAX_SEARCH):
            gop = await self._fetch()
            times = [picture_time(p) for p in gop.pictures]
            if forward:
                later = [index for index, time in enumerate(times) if time > shown.time]
                if later:
                    self._show(gop, later[0])
                    return 1, True
            else:
                earlier = [index for index, time in enumerate(times) if time < shown.time]
                if earlier:
                    self._show(gop, earlier[-1])
                    return 1, True
            if times[0] <= shown.time <= times[-1]:
                return 0, True  # nothing beyond: the end (start) of the recordings
        return 0, True

    def _show(self, gop: PlaybackGop, index: int) -> None:
        shown = self._shown
        if shown is None or shown.gop is not gop:
            self._gop_serial += 1
            serial = self._gop_serial
        else:
            serial = shown.gop_serial
        self._sequence += 1
        self._shown = PlaybackFrame(gop, serial, index, self._sequence)
        self.stats.pictures_shown += 1
        self._wake_viewers()
        if shown is None or shown.gop is not gop:
            self._notify()

    # -- playing on ------------------------------------------------------------------

    def _start_pump(self) -> None:
        if self._mode in _MOVING and not self._closed:
            self._pump = asyncio.get_running_loop().create_task(
                self._play_on(), name=f"ipro_nvr playback {self.channel}"
            )

    async def _stop_pump(self) -> None:
        task, self._pump = self._pump, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _play_on(self) -> None:
        """Show GOP after GOP at the frame rate, fetching the next GOP meanwhile."""
        backwards = self._mode in _BACKWARDS
        failures = 0
        while not self._closed:
            shown = self._shown
            if shown is None:
                return
            ahead = asyncio.get_running_loop().create_task(self._fetch())
            try:
                await self._show_rest(shown, backwards)
                gop = await ahead
                failures = 0
            except asyncio.CancelledError:
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead
                raise
            except (NvrError, MediaFormatError, aiohttp.ClientError, TimeoutError) as err:
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead
                failures += 1
                self.last_error = err
                _LOGGER.warning("Playback of camera %d interrupted: %s", self.channel, err)
                if failures >= 3:
                    self._mode = PlaybackMode.PAUSE
                    self._notify()
                    return
                await asyncio.sleep(_frame_duration(shown.gop).total_seconds() * 10)
                continue
            # Right after a command the recorder may answer the GOP at hand once
            # more (it stands on the picture shown): the next answer moves on.
            for _ in range(_MAX_SEARCH):
                if self._continue_with(gop, backwards):
                    break
                gop = await self._fetch()
            else:
                # Nothing new: the end (or start) of the recordings. Wait for more.
                gop_seconds = _frame_duration(gop).total_seconds() * len(gop.pictures)
                await asyncio.sleep(gop_seconds * _EDGE_RETRY_GOPS)

    async def _show_rest(self, shown: PlaybackFrame, backwards: bool) -> None:
        """Show the pictures after (before) ``shown`` in its GOP, paced by the frame rate."""
        interval = _frame_duration(shown.gop).total_seconds()
        indexes = (
            range(shown.index - 1, -1, -1)
            if backwards
            else range(shown.index + 1, len(shown.gop.pictures))
        )
        for index in indexes:
            await asyncio.sleep(interval)
            self._show(shown.gop, index)
        await asyncio.sleep(interval)

    def _continue_with(self, gop: PlaybackGop, backwards: bool) -> bool:
        """Show the first picture of ``gop`` that comes after the one shown (in play order)."""
        shown = self._require_shown()
        times = [picture_time(p) for p in gop.pictures]
        if backwards:
            earlier = [index for index, time in enumerate(times) if time < shown.time]
            if earlier:
                self._show(gop, earlier[-1])
                return True
        else:
            later = [index for index, time in enumerate(times) if time > shown.time]
            if later:
                self._show(gop, later[0])
                return True
        return False

    # -- idle ------------------------------------------------------------------------

    def _touch(self) -> None:
        """Start the idle countdown (a command, or a viewer leaving, restarts it)."""
        self._cancel_idle()
        if self._closed or self._lease is None:
            return
        loop = asyncio.get_running_loop()
        self._idle_handle = loop.call_later(self._idle_timeout, self._idle)

    def _cancel_idle(self) -> None:
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None

    def _idle(self) -> None:
        self._idle_handle = None
        self._idle_task = asyncio.get_running_loop().create_task(self._stop_if_idle())

    async def _stop_if_idle(self) -> None:
        if self._closed:
            return
        if self._lock.locked() or (self._viewers and self._mode in _MOVING):
            # Someone watches it play (or a command runs): look again later.
            self._touch()
            return
        _LOGGER.debug("Playback of camera %d idle: stopping it", self.channel)
        with contextlib.suppress(NvrError, aiohttp.ClientError, TimeoutError):
            await self.stop()

    # -- notifications -----------------------------------------------------------------

    def _wake_viewers(self) -> None:
        event, self._shown_event = self._shown_event, asyncio.Event()
        event.set()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                _LOGGER.exception("Playback listener failed")


def _frame_duration(gop: PlaybackGop) -> dt.timedelta:
    """Time between two pictures of ``gop``: the frame-rate TLV, else the recorded times."""
    rate = gop.info.frame_rate if gop.info is not None else None
    if rate:
        return dt.timedelta(seconds=1 / rate)
    if len(gop.pictures) > 1:
        span = picture_time(gop.pictures[-1]) - picture_time(gop.pictures[0])
        if span > dt.timedelta(0):
            return span / (len(gop.pictures) - 1)
    return dt.timedelta(seconds=1 / _FALLBACK_FPS)


__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "MAX_SPEED",
    "PlaybackFrame",
    "PlaybackMode",
    "PlaybackSession",
    "PlaybackStats",
    "picture_time",
]
