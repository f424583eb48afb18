"""Size-capped LRU caches of playable recording clips on disk.

Each clip is one fast-start MP4 file in its cache's directory, named by its
key. A clip is made by a *producer* (download from the recorder, then remux)
into a private work directory; only a complete file is moved (atomically)
into place, so a failed or cancelled production leaves nothing behind. While
it is made, the producer also writes it as a fragmented MP4 into a
:class:`GrowingClip`, which viewers read as it grows.

Requests for a clip that is being made share that one production; it is
cancelled when every request waiting for it is gone while the recorder is
still sending (once everything has arrived, the clip is finished anyway).
After each new clip the least recently used ones are removed until the
cache is within its size cap (the newest clip is always kept); lowering the
cap evicts at once.

Every cached clip's video codec is known (probed with PyAV when the clip is
made, and when the directory is scanned after a restart), so that a clip the
browser may not decode (H.265) can say so before it is played.

:class:`ClipCaches` holds one :class:`ClipCache` per key (a recorder's config
entry) under one root directory, each in a directory of its own, so that a
recorder's clips can be capped and removed on their own.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import contextlib
from dataclasses import dataclass
from functools import partial
import os
from pathlib import Path
import re
import shutil
import tempfile
from typing import Any, Final

CLIP_SUFFIX: Final = ".mp4"
_WORK_PREFIX: Final = ".work-"
# FFmpeg's names of the video codecs a recorder's MP4 holds.
CODEC_H264: Final = "h264"
CODEC_H265: Final = "hevc"

# fMP4 that a browser plays while it is written: the index first, a fragment per keyframe.
FRAGMENTED_MOVFLAGS: Final = "frag_keyframe+empty_moov+default_base_moof"
# Readers of a growing clip hear of new bytes in steps of this much (and at
# every pause of the writer): a wake-up per write of the muxer would cost.
_ANNOUNCE_STEP: Final = 256 * 1024

# Makes the clip: given a private work directory and the clip to write as it
# goes (a fragmented MP4, see GrowingClip), returns the finished file to
# cache (in the work directory).
type ClipProducer = Callable[[Path, GrowingClip], Awaitable[Path]]


class ClipStoppedError(RuntimeError):
    """The clip's production stopped before it was finished (cancelled, or the entry went)."""


@dataclass(frozen=True, slots=True)
class CachedClip:
    """What the cache knows of a clip: its size and video codec (FFmpeg name, None: unknown)."""

    size: int
    codec: str | None


async def run_to_completion[T](func: Callable[..., T], *args: Any) -> T:
    """Run blocking ``func`` in a thread; if cancelled, let it finish before re-raising.

    So that the caller's clean-up never races a thread still reading or
    writing files.
    """
    future = asyncio.get_running_loop().run_in_executor(None, func, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await asyncio.wait([future])
            future.exception()  # retrieved: the caller is gone
        raise


class GrowingClip:
    """A clip being made, readable while it grows.

    A worker thread appends the clip's bytes (a fragmented MP4) through
    :meth:`writer`; any number of readers in the event loop read them
    (:meth:`reading`) as they arrive, until :meth:`finish` (all written) or
    :meth:`fail`. Readers share one read-only file descriptor (``pread``), so
    they keep reading even after the work directory is deleted; it is closed
    once the production is over and the last reader released it.

    ``downloaded`` is set once the recorder sent everything: from then on the
    clip is made to the end even when nobody watches any more.
    """

    def __init__(self) -> None:
        """Initialise, empty: nothing readable before :meth:`writer` is called."""
        self._loop = asyncio.get_running_loop()
        self._fd: int | None = None
        self._size = 0
        self._finished = False
        self._error: BaseException | None = None
        self._changed = asyncio.Event()
        self._readers = 0
        self._over = False  # the production ended (however)
        self.downloaded = False

    @property
    def size(self) -> int:
        """Bytes readable so far."""
        return self._size

    @property
    def finished(self) -> bool:
        """Whether every byte of the clip is written."""
        return self._finished

    def writer(self, path: Path) -> GrowingWriter:
        """Create ``path`` and return its appending writer (blocking: call in a thread)."""
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError:
            os.close(out)
            raise
        return GrowingWriter(out, self)

    def _grow(self, size: int) -> None:  # from the writer thread
        self._loop.call_soon_threadsafe(self._set_size, size)

    def _set_size(self, size: int) -> None:
        self._size = max(self._size, size)
        self._notify()

    def finish(self, size: int) -> None:
        """Every byte is written: ``size`` in all (the writer's total, after it closed).

        The size is given here, not left to the writer's last announcement: that
        one comes through the event loop's queue, and a reader looking in
        between would take the clip for finished without its last fragment.
        """
        self._size = max(self._size, size)
        self._finished = True
        self._notify()

    def fail(self, error: BaseException) -> None:
        """The production failed or was cancelled: readers get ``error``."""
        if not self._finished and self._error is None:
            if isinstance(error, asyncio.CancelledError):
                # Readers are other tasks: they get an error, not a cancellation.
                error = ClipStoppedError("the clip's production was stopped")
            self._error = error
            self._notify()

    def end(self) -> None:
        """The production is over: close the descriptor once no reader holds it."""
        self._over = True
        if self._error is None and not self._finished:
            self._error = ClipStoppedError("the clip was not finished")
        self._notify()
        self._close_if_unused()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _close_if_unused(self) -> None:
        if self._over and not self._readers and self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)

    async def wait_started(self) -> None:
        """Wait for the first bytes; raise the production's error if it failed before."""
        while not self._size and not self._finished:
            if self._error is not None:
                raise self._error
            await self._changed.wait()

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[Callable[[int, int], Awaitable[bytes]]]:
        """Hold the clip open; yields ``read(offset, limit)``.

        ``read`` waits until there are bytes at ``offset`` and returns up to
        ``limit`` of them, ``b""`` at the end of a finished clip; it raises
        the production's error when it failed before those bytes.
        """
        self._readers += 1
        try:
            yield self._read
        finally:
            self._readers -= 1
            self._close_if_unused()

    async def _read(self, offset: int, limit: int) -> bytes:
        while offset >= self._size:
            if self._finished:
                return b""
            if self._error is not None:
                raise self._error
            await self._changed.wait()
        fd = self._fd
        if fd is None:
            raise RuntimeError("the clip is closed")
        return await asyncio.to_thread(os.pread, fd, min(limit, self._size - offset), offset)


class GrowingWriter:
    """Appends to a :class:`GrowingClip` (a worker thread writes; no seek, on purpose)."""

    def __init__(self, fd: int, clip: GrowingClip) -> None:
        self._fd: int | None = fd
        self._clip = clip
        self._written = 0
        self._announced = 0  # readers are woken in steps: each wake costs the loop
        self._abandoned = False

    @property
    def written(self) -> int:
        """Bytes written so far (announced or not)."""
        return self._written

    def abandon(self) -> None:
        """Make the next write fail: the muxer stops early (the clip is not wanted)."""
        self._abandoned = True

    def write(self, data: bytes) -> int:
        """Append ``data`` (called by the muxer, in its thread)."""
        if self._fd is None or self._abandoned:
            raise OSError("the clip is no longer written")
        view = memoryview(data)
        while view:
            done = os.write(self._fd, view)
            view = view[done:]
        self._written += len(data)
        if not self._announced or self._written - self._announced >= _ANNOUNCE_STEP:
            self.flush()
        return len(data)

    def flush(self) -> None:
        """Tell the readers about every byte written (the muxer waits for input next)."""
        if self._written != self._announced:
            self._announced = self._written
            self._clip._grow(self._written)  # noqa: SLF001 - its own writer

    def close(self) -> None:
        """Close the file (once the muxer is done with it); every byte is announced."""
        self.flush()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


@dataclass(slots=True)
class _Production:
    task: asyncio.Task[Path]
    clip: GrowingClip
    waiters: int = 0


class ClipCache:
    """Clips under ``directory``, at most ``max_bytes`` in total (LRU eviction)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        """Initialise; the directory is scanned on first use."""
        self.directory = directory
        self.max_bytes = max_bytes
        # name -> clip, least recently used first
        self._entries: OrderedDict[str, CachedClip] = OrderedDict()
        self._loaded = False
        self._load_lock = asyncio.Lock()
        self._pending: dict[str, _Production] = {}
        self._stopping: set[asyncio.Task[Path]] = set()  # cancelled, not ended yet
        self.productions = 0  # clips made (not served from the cache)

    @property
    def total_bytes(self) -> int:
        """Bytes the cached clips take."""
        return sum(clip.size for clip in self._entries.values())

    def __len__(self) -> int:
        """How many clips are cached."""
        return len(self._entries)

    def cached(self, name: str) -> Path | None:
        """The file of a cached clip (no I/O, no LRU update), None when not cached."""
        return self.directory / name if name in self._entries else None

    def info(self, name: str) -> CachedClip | None:
        """Size and codec of a cached clip (no I/O, no LRU update), None when not cached."""
        return self._entries.get(name)

    async def async_load(self) -> None:
        """Scan the directory (once): clips left from before are known again."""
        async with self._load_lock:
            if not self._loaded:
                found = await asyncio.to_thread(self._scan)
                self._entries = OrderedDict(found)
                self._loaded = True
        await self._async_evict()

    def _scan(self) -> list[tuple[str, CachedClip]]:
        """Create the directory, drop leftover work directories, list clips by age."""
        self.directory.mkdir(parents=True, exist_ok=True)
        clips: list[tuple[float, str, CachedClip]] = []
        for path in self.directory.iterdir():
            if path.name.startswith(_WORK_PREFIX):
                shutil.rmtree(path, ignore_errors=True)
            elif path.suffix == CLIP_SUFFIX and path.is_file():
                stat = path.stat()
                clip = CachedClip(stat.st_size, probe_video_codec(path))
                clips.append((stat.st_mtime, path.name, clip))
        return [(name, clip) for _, name, clip in sorted(clips, key=lambda c: (c[0], c[1]))]

    async def async_set_max_bytes(self, max_bytes: int) -> None:
        """Change the cap; clips beyond a lower cap are removed at once."""
        self.max_bytes = max_bytes
        if self._loaded:
            await self._async_evict()

    @contextlib.asynccontextmanager
    async def async_open(
        self, name: str, producer: ClipProducer
    ) -> AsyncIterator[Path | GrowingClip]:
        """The clip ``name`` (a safe base name ending in ``.mp4``): its file, or the clip in making.

        A cached clip is its :class:`Path`. Otherwise the clip's production is
        started, or joined when it runs already, and its :class:`GrowingClip`
        is yielded to be read while it is made. Leaving the context while the
        recorder still sends the clip, as the last one to wait for it, stops
        its production (nothing of it is kept).
        """
        if os.sep in name or not name.endswith(CLIP_SUFFIX) or name.startswith("."):
            raise ValueError(f"not a clip name: {name!r}")
        await self.async_load()
        if name in self._entries:
            self._entries.move_to_end(name)
            path = self.directory / name
            await asyncio.to_thread(_touch, path)
            yield path
            return
        production = self._pending.get(name)
        if production is None:
            clip = GrowingClip()
            task = asyncio.create_task(self._produce(name, producer, clip), name=f"clip {name}")
            task.add_done_callback(_retrieve)
            production = self._pending[name] = _Production(task, clip)
        production.waiters += 1
        try:
            yield production.clip
        finally:
            production.waiters -= 1
            task = production.task
            if not production.waiters and not production.clip.downloaded and not task.done():
                # Nobody wants it any more: stop the download, and wait
                # until its work directory is gone.
                # A viewer who comes now starts afresh, not on this one.
                if self._pending.get(name) is production:
                    del self._pending[name]
                self._stopping.add(task)
                task.add_done_callback(self._stopping.discard)
                task.cancel()
                await asyncio.wait([task])

    async def async_get(self, name: str, producer: ClipProducer) -> Path:
        """The file of the clip ``name`` in the cache, making it first if needed."""
        async with self.async_open(name, producer) as clip:
            if isinstance(clip, Path):
                return clip
            production = self._pending.get(name)
            if production is None or production.clip is not clip:
                raise RuntimeError(f"clip {name} is not being made")
            return await asyncio.shield(production.task)

    async def _produce(self, name: str, producer: ClipProducer, clip: GrowingClip) -> Path:
        try:
            work = Path(
                await asyncio.to_thread(tempfile.mkdtemp, prefix=_WORK_PREFIX, dir=self.directory)
            )
            try:
                made = await producer(work, clip)
                codec = await run_to_completion(probe_video_codec, made)
                target = self.directory / name
                # No await between the rename and the bookkeeping (cancellation).
                size = _commit(made, target)
            finally:
                # In a thread (it scans the directory), and finished even while
                # the task is being cancelled: nothing half-written stays behind.
                await run_to_completion(partial(shutil.rmtree, work, ignore_errors=True))
            self.productions += 1
            self._entries[name] = CachedClip(size, codec)
            self._entries.move_to_end(name)
            await self._async_evict()
        except BaseException as err:
            clip.fail(err)
            raise
        else:
            return target
        finally:
            clip.end()
            production = self._pending.get(name)
            if production is not None and production.clip is clip:
                del self._pending[name]

    async def _async_evict(self) -> None:
        victims: list[Path] = []
        total = self.total_bytes
        while total > self.max_bytes and len(self._entries) > 1:
            old, clip = self._entries.popitem(last=False)
            total -= clip.size
            victims.append(self.directory / old)
        if victims:
            await asyncio.to_thread(_unlink_all, victims)

    async def async_idle(self) -> None:
        """Wait until no clip is being made (each ends cached, failed or cancelled)."""
        while self._pending or self._stopping:
            tasks = [production.task for production in self._pending.values()]
            await asyncio.wait([*tasks, *self._stopping])

    async def async_clear(self) -> None:
        """Cancel productions in progress (their work is removed)."""
        tasks = [production.task for production in self._pending.values()]
        tasks += self._stopping
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    async def async_remove_all(self) -> None:
        """Cancel productions, then delete the directory with every clip in it."""
        await self.async_clear()
        self._entries.clear()
        await asyncio.to_thread(shutil.rmtree, self.directory, ignore_errors=True)


class ClipCaches:
    """One :class:`ClipCache` per key, each in ``root/<key>`` (key made file-name safe)."""

    def __init__(self, root: Path) -> None:
        """Initialise; nothing is read or created before a cache is used."""
        self.root = root
        self._caches: dict[str, ClipCache] = {}

    def directory(self, key: str) -> Path:
        """The directory of ``key``'s clips."""
        return self.root / re.sub(r"[^A-Za-z0-9_-]", "_", key)

    def peek(self, key: str) -> ClipCache | None:
        """``key``'s cache if it was used since start, else None (no I/O)."""
        return self._caches.get(key)

    async def async_cache(self, key: str, max_bytes: int) -> ClipCache:
        """``key``'s cache, loaded; ``max_bytes`` is its cap if it is new.

        The cap of a cache in use changes through
        :meth:`ClipCache.async_set_max_bytes`.
        """
        cache = self._caches.get(key)
        if cache is None:
            cache = self._caches[key] = ClipCache(self.directory(key), max_bytes)
        await cache.async_load()
        return cache

    async def async_remove(self, key: str) -> None:
        """Delete ``key``'s clips (also those of a cache not used since start)."""
        cache = self._caches.pop(key, None)
        if cache is not None:
            await cache.async_remove_all()
        await asyncio.to_thread(shutil.rmtree, self.directory(key), ignore_errors=True)

    async def async_clear(self) -> None:
        """Cancel every production in progress."""
        for cache in list(self._caches.values()):
            await cache.async_clear()


def _retrieve(task: asyncio.Task[Path]) -> None:
    # Waiters get the error through the GrowingClip; nobody may await the task.
    if not task.cancelled():
        task.exception()


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def _commit(made: Path, target: Path) -> int:
    made.replace(target)
    return target.stat().st_size


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def probe_video_codec(path: Path) -> str | None:
    """The FFmpeg name of the first video stream's codec (``h264``, ``hevc``), blocking.

    None when the file cannot be read or has no video. A fast-start MP4 has
    its index at the front, so this reads only the first part of the file.
    """
    import av

    try:
        with av.open(str(path)) as container:
            for stream in container.streams.video:
                return str(stream.codec_context.name)
    except (av.FFmpegError, OSError):
        return None
    return None


def remux_faststart(inputs: list[Path], output: Path) -> None:
    """Concatenate the MP4 files ``inputs`` into one fast-start MP4 ``output`` (blocking).

    Stream copy (no re-encoding): the recorder's files keep their index at
    the end, which a browser cannot play progressively; ``+faststart`` moves
    it to the front. The files of one split download have the same streams;
    each file's timestamps continue where the previous file ended. HEVC is
    tagged ``hvc1`` (FFmpeg writes Annex-B input as ``hev1``): Safari plays
    H.265 in MP4 only with that tag, and other browsers take both.
    """
    import av

    if not inputs:
        raise ValueError("nothing to remux")
    with av.open(str(output), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        _concatenate(iter(inputs), out)


def remux_fragmented(next_input: Callable[[], Path | None], output: Any) -> None:
    """Concatenate MP4 files into a fragmented MP4 written to ``output`` as it goes (blocking).

    ``next_input`` gives the next complete file, blocking until there is one,
    and None after the last; ``output`` has ``write(bytes)`` and ``flush()``
    (called before waiting for a file) and no ``seek``: the muxer never seeks
    back, so every byte written is final. The index
    comes first (``empty_moov``) and a fragment follows every video keyframe:
    a browser plays the bytes while they are written. Same stream copy and
    ``hvc1`` tag as :func:`remux_faststart`.
    """
    import av

    def flushed_next_input() -> Path | None:
        # What is written so far is announced before waiting for the next file.
        output.flush()
        return next_input()

    inputs = iter(flushed_next_input, None)
    with av.open(output, "w", format="mp4", options={"movflags": FRAGMENTED_MOVFLAGS}) as out:
        if not _concatenate(inputs, out):
            raise ValueError("nothing to remux")


def _concatenate(inputs: Iterator[Path], out: Any) -> int:
    """Mux the packets of every file of ``inputs`` into ``out``; return how many files."""
    import av

    targets: dict[int, Any] = {}
    offsets: dict[int, int] = {}
    count = 0
    for number, source in enumerate(inputs):
        count += 1
        with av.open(str(source)) as container:
            streams = [s for s in container.streams if s.type in ("video", "audio")]
            if number == 0:
                for stream in streams:
                    target = out.add_stream_from_template(stream)
                    if stream.codec_context.name == CODEC_H265:
                        target.codec_context.codec_tag = "hvc1"
                    targets[stream.index] = target
                    offsets[stream.index] = 0
            ends: dict[int, int] = {}
            packet: av.Packet
            for packet in container.demux(*streams):
                index = packet.stream.index
                if packet.dts is None or index not in targets:
                    continue
                shift = offsets[index]
                end = packet.dts + (packet.duration or 0)
                ends[index] = max(ends.get(index, end), end)
                packet.dts += shift
                if packet.pts is not None:
                    packet.pts += shift
                packet.stream = targets[index]
                out.mux(packet)
            for index, end in ends.items():
                offsets[index] += end
    return count
