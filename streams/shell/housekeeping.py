"""Periodic upkeep of a worker: expire old index entries, publish the race corrections another
worker owed and did not publish (:meth:`streams.core.pipeline.Deduplicator.owed_corrections`),
refresh the state and lag gauges, write an index snapshot when one is due
(``INGEST_SNAPSHOT_INTERVAL_S``), give freed heap back to the system once the worker is idle
after a busy spell (``streams.core.idle_trim``).

Runs every :data:`HOUSEKEEPING_INTERVAL_S` on a Faust timer. Expiry takes "now" from the
injected clock, so the window is tested by moving a test clock instead of waiting 14 days.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

from streams.core.clock import Clock, now_ms
from streams.core.idle_trim import IdleTrim
from streams.core.outcome import Outcome
from streams.core.pipeline import Deduplicator
from streams.shell.gate import StateGate
from streams.shell.metrics import Metrics, counted
from streams.shell.snapshotter import Snapshotter

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_S = 5.0


class ReplicaView(Protocol):
    async def lag(self) -> int: ...


class EndOffsets(Protocol):
    async def end_offsets(self, partitions: Iterable[int]) -> dict[int, int]: ...


class Housekeeping:
    """One round of upkeep per :meth:`run`; a failed round is logged and retried next time.

    ``assignment``, ``committed`` and ``ready`` read the live Faust app (its assigned raw
    partitions, its committed offsets, readiness); they are functions so this runs without
    one in tests. ``ingest_ready`` is read from ``ready`` when /metrics is scraped, not copied
    every round: a copy lagged /readyz by up to a round, so a scrape could see the whole index
    loaded and the worker not ready. ``publish_owed`` publishes owed corrections; without it
    none are looked for (they would be applied to the index and never published).
    """

    def __init__(
        self,
        *,
        dedup: Deduplicator,
        metrics: Metrics,
        replica: ReplicaView,
        probe: EndOffsets,
        raw_topic: Callable[[], str],
        assignment: Callable[[], Iterable[Any]],
        committed: Callable[[], Mapping[Any, int | None]],
        ready: Callable[[], bool],
        clock: Clock,
        gate: StateGate | None = None,
        snapshotter: Snapshotter | None = None,
        publish_owed: Callable[[Outcome], Awaitable[None]] | None = None,
        trim: Callable[[], bool | None] | None = None,
        idle_trim: IdleTrim | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        resident: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.dedup = dedup
        self.metrics = metrics
        self.replica = replica
        self.probe = probe
        self.raw_topic = raw_topic
        self.assignment = assignment
        self.committed = committed
        self.ready = ready
        metrics.ready.set_function(lambda: 1.0 if self.ready() else 0.0)
        self.clock = clock
        self.gate = gate or StateGate()
        self.snapshotter = snapshotter
        self.publish_owed = publish_owed
        self.trim = trim
        self.idle_trim = idle_trim or IdleTrim()
        self.monotonic = monotonic
        self.resident = resident
        self._reported: set[int] = set()
        # The last committed offset Faust reported for each raw partition (see update_gauges).
        self._last_committed: dict[int, int] = {}

    async def run(self) -> None:
        # Must never take the worker down: a Faust timer that raises crashes the whole app.
        try:
            await self.run_once()
        except Exception:
            log.exception("housekeeping failed; will retry in %.0f s", HOUSEKEEPING_INTERVAL_S)

    async def run_once(self) -> None:
        async with self.gate.shared():
            now = now_ms(self.clock)
            self.dedup.expire(now)
            if self.publish_owed is not None:
                # Published under the gate, as the replica's corrections are: a snapshot
                # must not hold the corrected index before the correction is published.
                owed = self.dedup.owed_corrections(now)
                if owed is not None:
                    await self.publish_owed(owed)
        await self.update_gauges()
        if self.snapshotter is not None:
            await self.snapshotter.maybe_snapshot()
        await self.maybe_trim()

    async def maybe_trim(self) -> None:
        """Hand freed heap back when the worker has gone idle after consuming (in a thread:
        walking a large heap takes a while, and the event loop keeps answering heartbeats)."""
        if self.trim is None or not self.idle_trim.due(counted(self.metrics.consumed),
                                                       self.monotonic()):
            return
        started, before = self.monotonic(), self.resident()
        released = await asyncio.to_thread(self.trim)
        log.info("idle after consuming: freed heap %s to the system (malloc_trim, %.0f ms)%s",
                 "returned" if released else "checked, none returned",
                 (self.monotonic() - started) * 1000, _rss_change(before, self.resident()))

    async def update_gauges(self) -> None:
        m = self.metrics
        m.index_entries.set(len(self.dedup.index))
        stats = self.dedup.index.stats()
        m.index_bytes.set(stats.approx_bytes)
        m.index_spill_bytes.set(stats.spilled_bytes)
        m.index_spill_errors.set(stats.spill_errors)
        m.replica_lag.set(await self.replica.lag())
        m.owed_watched.set(self.dedup.owed)
        raw_topic = self.raw_topic()
        assigned = [tp for tp in self.assignment() if tp.topic == raw_topic]
        # Partitions another worker took over: their gauges would freeze at old values.
        for partition in self._reported - {tp.partition for tp in assigned}:
            for gauge in (m.partition_committed, m.partition_end, m.partition_lag):
                with contextlib.suppress(KeyError):
                    gauge.remove(raw_topic, str(partition))
        self._reported = {tp.partition for tp in assigned}
        committed = self.committed()
        ends = await self.probe.end_offsets(tp.partition for tp in assigned)
        for tp in assigned:
            labels = {"topic": tp.topic, "partition": str(tp.partition)}
            end = ends.get(tp.partition)
            # Faust forgets a partition's committed offset when a rebalance revokes it and
            # learns it again only when it seeks or commits: in between (seconds on Tansu) it
            # is absent, as it is for a partition nothing was ever committed on. The last one
            # seen is a lower bound of the true one (offsets only move on), so it is used
            # until then; a partition never seen committed is all lag. Until 2026-12-05 every
            # rebalance read as the whole partition being lag (12,349 messages for ~440).
            known = committed.get(tp)
            if known:
                self._last_committed[tp.partition] = known
            done = self._last_committed.get(tp.partition, 0)
            m.partition_committed.labels(**labels).set(done)
            if end is not None:
                m.partition_end.labels(**labels).set(end)
                m.partition_lag.labels(**labels).set(max(0, end - done))


def _rss_change(before: int | None, after: int | None) -> str:
    if before is None or after is None:
        return ""
    return f": RSS {before / 2**20:.0f} -> {after / 2**20:.0f} MB"


def register_housekeeping(app: Any, housekeeping: Housekeeping) -> None:
    """Run ``housekeeping`` on the app's timer."""

    @app.timer(HOUSEKEEPING_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def housekeeping_round() -> None:
        await housekeeping.run()
