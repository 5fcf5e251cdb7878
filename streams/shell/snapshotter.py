"""When and how a worker snapshots its state: on the housekeeping timer, and at a clean stop.

The state is captured with the gate held exclusively (no batch half applied, so the
replica's next offsets are exactly what the state covers) and written by a thread, so the
event loop keeps answering heartbeats and health checks; the agent and the replica wait
for the write (about a second per 500,000 entries on this machine, see BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from streams.core.clock import Clock, now_ms
from streams.core.dedup.compact_index import CompactIndex
from streams.core.fingerprint_log import LogMark
from streams.core.pipeline import Deduplicator
from streams.shell.gate import StateGate
from streams.shell.snapshot import SnapshotStore

log = logging.getLogger(__name__)

CoveredOffsets = Callable[[], Awaitable[dict[int, int] | None]]
LastRecords = Callable[[], dict[int, LogMark]]


class Snapshotter:
    """Writes a snapshot when one is due; ``covered`` gives the replica's next offsets."""

    def __init__(self, *, store: SnapshotStore, dedup: Deduplicator, gate: StateGate,
                 covered: CoveredOffsets, interval_s: float, clock: Clock,
                 last_records: LastRecords | None = None) -> None:
        self.store = store
        self.dedup = dedup
        self.gate = gate
        self.covered = covered
        # The last record applied on each partition, taken with the offsets (Snapshot.marks).
        self.last_records = last_records
        self.interval_ms = int(interval_s * 1000)
        self.clock = clock
        self.last_ms = now_ms(clock)
        self.written = 0
        # The offsets the last snapshot written covers: one covering the same is not written
        # again (an idle worker rewrote its whole ~165 MB snapshot every interval: a soak).
        self.last_offsets: dict[int, int] | None = None

    @property
    def enabled(self) -> bool:
        # The story state is in the snapshot with the index (streams.shell.snapshot).
        return self.interval_ms > 0 and isinstance(self.dedup.index, CompactIndex)

    async def maybe_snapshot(self) -> None:
        if self.enabled and now_ms(self.clock) - self.last_ms >= self.interval_ms:
            await self.snapshot()

    async def snapshot(self) -> bool:
        """Write one snapshot now; False when the replica has not caught up yet."""
        if not self.enabled:
            return False
        async with self.gate.exclusive():
            offsets = await self.covered()
            if offsets is None:
                return False
            if offsets == self.last_offsets:
                # Nothing applied since: the snapshot on disk and the log after its offsets
                # give this state (what changed meanwhile is expiry by time, which a start
                # redoes, and our own decisions, whose records lie past those offsets).
                self.last_ms = now_ms(self.clock)
                log.debug("index snapshot not written: nothing applied since the last one "
                          "(fingerprint-log offsets %s)", offsets)
                return True
            index = self.dedup.index
            assert isinstance(index, CompactIndex)
            started = time.monotonic()
            created = now_ms(self.clock)
            stories = self.dedup.stories if self.dedup.config.stories.enabled else None
            marks = self.last_records() if self.last_records is not None else None
            saving = asyncio.ensure_future(asyncio.to_thread(
                self.store.save, index, self.dedup.stats, offsets, created, stories,
                marks=marks))
            try:
                path = await asyncio.shield(saving)
            except asyncio.CancelledError:
                # The thread still reads the index (and its spill): hold the gate until it
                # is done, so nothing changes the state under it, then stop.
                await asyncio.wait([saving])
                raise
        self.last_ms = created
        self.last_offsets = dict(offsets)
        self.written += 1
        log.info("index snapshot %s written: %d entries, %d stories in %.1f s, covering "
                 "fingerprint-log offsets %s", path.name, len(index), len(self.dedup.stories),
                 time.monotonic() - started, offsets)
        return True
