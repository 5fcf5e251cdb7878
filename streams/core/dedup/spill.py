"""Spill: the cold part of the compact index's rows, kept off the heap.

A row's verification profile and verdict fields (its pickled "rare" fields,
:mod:`streams.core.dedup.rows`) are read only when the row is decoded: a candidate of a
lookup that survives the candidate filter, a member of a group being re-rooted, an entry
fetched by id. On real news that is 0-0.25 rows per article decided, yet those bytes are
most of a row (paragraph keys and figures: ~520 B of the bench corpus's ~1.55 KB per entry,
~1.1 KB of 3.1 KB on real news texts). The compact index hands them to a :class:`Spill`:
they live in segments of a :class:`SegmentStorage`, unlinked temporary files in the
worker's data directory in production (``streams.shell.spill_files``), memory in tests.

Bytes are appended to fixed-size segments. A released range only counts as dead; a segment
whose bytes are all dead is dropped. Expiry frees rows in the order they were seen, so old
segments empty whole; rows freed out of order (revisions, re-rooted groups) leave dead bytes
behind, and once they outweigh the live ones the index moves the live rows of the emptiest
segment (:meth:`Spill.sparse_segment`) to the end, one segment at a time.

Offsets are virtual, ``segment * segment_bytes + position``: an offset names its segment.
A dropped segment's number is used again, so offsets stay below the bytes held at once.
Nothing here survives a restart or needs to: snapshots carry the bytes in full.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Protocol

SEGMENT_BYTES = 16 * 1024 * 1024


class SegmentStorage(Protocol):
    """Numbered byte segments: written once at increasing positions, read at random."""

    def create(self, segment: int) -> None: ...

    def write(self, segment: int, position: int, data: bytes) -> None: ...

    def read(self, segment: int, position: int, size: int) -> bytes: ...

    def drop(self, segment: int) -> None: ...

    def close(self) -> None: ...


class MemorySegments:
    """Segments as ``bytearray``: the storage of tests and of the benchmarks' variants."""

    def __init__(self) -> None:
        self.segments: dict[int, bytearray] = {}

    def create(self, segment: int) -> None:
        self.segments[segment] = bytearray()

    def write(self, segment: int, position: int, data: bytes) -> None:
        buffer = self.segments[segment]
        if position != len(buffer):
            raise ValueError(f"segment {segment}: write at {position}, end is {len(buffer)}")
        buffer += data

    def read(self, segment: int, position: int, size: int) -> bytes:
        return bytes(self.segments[segment][position:position + size])

    def drop(self, segment: int) -> None:
        del self.segments[segment]

    def close(self) -> None:
        self.segments.clear()


class Spill:
    """Byte ranges appended to segments of ``storage``; see the module docstring."""

    def __init__(self, storage: SegmentStorage, segment_bytes: int = SEGMENT_BYTES) -> None:
        if segment_bytes <= 0:
            raise ValueError(f"segment_bytes must be positive, got {segment_bytes}")
        self.storage = storage
        self.segment_bytes = segment_bytes
        self._live: dict[int, int] = {}  # segment -> bytes not yet released
        self._written: dict[int, int] = {}  # segment -> bytes appended
        self._active = -1
        self.live_bytes = 0
        self.held_bytes = 0  # written to segments that still exist

    @property
    def max_bytes(self) -> int:
        """The largest range one append takes (a row with more keeps its bytes on the heap)."""
        return self.segment_bytes

    def append(self, data: bytes) -> int:
        """Store ``data``; returns its offset. ``OSError`` from the storage leaves the spill
        as it was (a range is counted only once written)."""
        return self.append_many([data])[0]

    def append_many(self, chunks: Sequence[bytes]) -> list[int]:
        """Store each of ``chunks``; their offsets. One storage write per segment filled:
        a snapshot's rows are spilled in one call. On ``OSError`` the chunks of the
        segments written before it stay stored and counted: the caller has lost only
        their offsets, and those bytes count as live until :meth:`close`."""
        offsets: list[int] = []
        pending: list[bytes] = []
        start = self._written.get(self._active, self.segment_bytes)
        position = start
        for data in chunks:
            size = len(data)
            if not 0 < size <= self.segment_bytes:
                raise ValueError(f"a spilled range is 1 to {self.segment_bytes} bytes, "
                                 f"got {size}")
            if position + size > self.segment_bytes:
                self._write(pending, start)
                pending = []
                self._next_segment()
                start = position = 0
            offsets.append(self._active * self.segment_bytes + position)
            pending.append(data)
            position += size
        self._write(pending, start)
        return offsets

    def _next_segment(self) -> None:
        self._retire_if_dead(self._active)
        number = next(n for n in itertools.count() if n not in self._live)
        self.storage.create(number)
        self._active = number
        self._live[number] = self._written[number] = 0

    def _write(self, pending: list[bytes], position: int) -> None:
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        self.storage.write(self._active, position, data)
        size = len(data)
        self._live[self._active] += size
        self._written[self._active] += size
        self.live_bytes += size
        self.held_bytes += size

    def read(self, offset: int, size: int) -> bytes:
        segment, position = divmod(offset, self.segment_bytes)
        data = self.storage.read(segment, position, size)
        if len(data) != size:
            raise OSError(f"spill segment {segment}: read {len(data)} of {size} bytes at "
                          f"{position}")
        return data

    def read_segment(self, segment: int) -> bytes:
        """Every byte written to ``segment`` (a snapshot reads the spill segment by segment)."""
        return self.read(segment * self.segment_bytes, self._written[segment])

    def release(self, offset: int, size: int) -> None:
        """The range at ``offset`` is no longer needed."""
        segment = offset // self.segment_bytes
        self._live[segment] -= size
        self.live_bytes -= size
        if segment != self._active:
            self._retire_if_dead(segment)

    def sparse_segment(self) -> int | None:
        """The segment whose live rows to move, once dead bytes outweigh the live ones (and
        two segments): the one with the fewest live bytes, never the one being written."""
        dead = self.held_bytes - self.live_bytes
        if dead <= max(self.live_bytes, 2 * self.segment_bytes):
            return None
        closed = [s for s in self._live if s != self._active]
        return min(closed, key=lambda s: (self._live[s], s)) if closed else None

    def close(self) -> None:
        """Give every segment back (an index that is replaced; its files close at once
        instead of when the garbage collector finds the index's reference cycles)."""
        self.storage.close()
        self._live.clear()
        self._written.clear()
        self._active = -1
        self.live_bytes = self.held_bytes = 0

    def _retire_if_dead(self, segment: int) -> None:
        if segment in self._live and self._live[segment] == 0:
            self.storage.drop(segment)
            self.held_bytes -= self._written.pop(segment)
            del self._live[segment]


# A fresh spill for each index (a worker builds one at start, and again when it starts over).
SpillFactory = Callable[[], Spill]
