"""A size-capped LRU cache of playable recording clips on disk.

Each clip is one fast-start MP4 file in the cache directory, named by its
key. A clip is made by a *producer* (download from the recorder, then remux)
into a private work directory; only a complete file is moved (atomically)
into place, so a failed or cancelled production leaves nothing behind.

Requests for a clip that is being made share that one production (a dict of
tasks); it is cancelled only when every request waiting for it is gone.
After each new clip the least recently used ones are removed until the
cache is within its size cap (the newest clip is always kept).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
import contextlib
import os
from pathlib import Path
import shutil
import tempfile
from typing import Any, Final

CLIP_SUFFIX: Final = ".mp4"
_WORK_PREFIX: Final = ".work-"

# Makes the clip: given a private work directory, returns the finished file in it.
type ClipProducer = Callable[[Path], Awaitable[Path]]


class ClipCache:
    """Clips under ``directory``, at most ``max_bytes`` in total (LRU eviction)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        """Initialise; the directory is scanned on first use."""
        self.directory = directory
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, int] = OrderedDict()  # name -> size, oldest first
        self._loaded = False
        self._load_lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Task[Path]] = {}
        self._waiters: dict[str, int] = {}
        self.productions = 0  # clips made (not served from the cache)

    @property
    def total_bytes(self) -> int:
        """Bytes the cached clips take."""
        return sum(self._entries.values())

    def cached(self, name: str) -> Path | None:
        """The file of a cached clip (no I/O, no LRU update), None when not cached."""
        return self.directory / name if name in self._entries else None

    async def _async_load(self) -> None:
        async with self._load_lock:
            if not self._loaded:
                found = await asyncio.to_thread(self._scan)
                self._entries = OrderedDict(found)
                self._loaded = True

    def _scan(self) -> list[tuple[str, int]]:
        """Create the directory, drop leftover work directories, list clips by age."""
        self.directory.mkdir(parents=True, exist_ok=True)
        clips: list[tuple[float, str, int]] = []
        for path in self.directory.iterdir():
            if path.name.startswith(_WORK_PREFIX):
                shutil.rmtree(path, ignore_errors=True)
            elif path.suffix == CLIP_SUFFIX and path.is_file():
                stat = path.stat()
                clips.append((stat.st_mtime, path.name, stat.st_size))
        return [(name, size) for _, name, size in sorted(clips)]

    async def async_get(self, name: str, producer: ClipProducer) -> Path:
        """Return the clip ``name`` (a safe base name ending in ``.mp4``), making it if needed."""
        if os.sep in name or not name.endswith(CLIP_SUFFIX) or name.startswith("."):
            raise ValueError(f"not a clip name: {name!r}")
        await self._async_load()
        if name in self._entries:
            self._entries.move_to_end(name)
            path = self.directory / name
            await asyncio.to_thread(_touch, path)
            return path
        task = self._pending.get(name)
        if task is None:
            task = asyncio.create_task(self._produce(name, producer), name=f"clip {name}")
            self._pending[name] = task
            self._waiters[name] = 0
        self._waiters[name] += 1
        try:
            return await asyncio.shield(task)
        finally:
            self._waiters[name] -= 1
            if not self._waiters[name]:
                del self._waiters[name]
                if not task.done():
                    # Nobody wants it any more: stop the download, and wait
                    # until its work directory is gone.
                    task.cancel()
                    await asyncio.wait([task])

    async def _produce(self, name: str, producer: ClipProducer) -> Path:
        try:
            work = Path(
                await asyncio.to_thread(tempfile.mkdtemp, prefix=_WORK_PREFIX, dir=self.directory)
            )
            try:
                made = await producer(work)
                target = self.directory / name
                # No await between the rename and the bookkeeping (cancellation).
                size = _commit(made, target)
            finally:
                # Synchronous: must finish even while the task is being cancelled.
                shutil.rmtree(work, ignore_errors=True)
            self.productions += 1
            self._entries[name] = size
            self._entries.move_to_end(name)
            await self._async_evict()
            return target
        finally:
            self._pending.pop(name, None)

    async def _async_evict(self) -> None:
        victims: list[Path] = []
        total = self.total_bytes
        while total > self.max_bytes and len(self._entries) > 1:
            old, size = self._entries.popitem(last=False)
            total -= size
            victims.append(self.directory / old)
        if victims:
            await asyncio.to_thread(_unlink_all, victims)

    async def async_clear(self) -> None:
        """Cancel productions in progress (their work is removed)."""
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


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


def remux_faststart(inputs: list[Path], output: Path) -> None:
    """Concatenate the MP4 files ``inputs`` into one fast-start MP4 ``output`` (blocking).

    Stream copy (no re-encoding): the recorder's files keep their index at
    the end, which a browser cannot play progressively; ``+faststart`` moves
    it to the front. The files of one split download have the same streams;
    each file's timestamps continue where the previous file ended.
    """
    import av

    if not inputs:
        raise ValueError("nothing to remux")
    with av.open(str(output), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        targets: dict[int, Any] = {}
        offsets: dict[int, int] = {}
        for number, source in enumerate(inputs):
            with av.open(str(source)) as container:
                streams = [s for s in container.streams if s.type in ("video", "audio")]
                if number == 0:
                    for stream in streams:
                        targets[stream.index] = out.add_stream_from_template(stream)
                        offsets[stream.index] = 0
                ends: dict[int, int] = {}
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
