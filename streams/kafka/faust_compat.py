"""Every patch we apply to faust-streaming and every private attribute we read, in one place."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Mapping
from time import monotonic
from typing import Any

from aiokafka.errors import IllegalStateError
from aiokafka.structs import TopicPartition
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from mode.utils.futures import notify

from streams.core.acks import offset_ranges

# Faust hard-codes fetch_max_wait_ms=1500 for the worker's consumer and Tansu holds every
# fetch that long, so a record waited ~575 ms (p50) before the agent saw it (bench/).
FETCH_MAX_WAIT_MS = 100


def _install_once(
    owner: type, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]], mark: str
) -> None:
    """Replace ``owner.name`` by ``wrap`` of it, unless it is already a wrapper that carries
    the attribute ``mark`` (each patch is applied once, whatever calls it)."""
    original = getattr(owner, name)
    if not getattr(original, mark, False):
        setattr(owner, name, wrap(original))


def shorten_fetch_wait() -> None:
    """Make Faust's worker consumer wait at most ``FETCH_MAX_WAIT_MS`` for a fetch.

    aiokafka hands ``_fetch_max_wait_ms`` to its fetcher at ``start()``, so setting it on the
    freshly created consumer is enough. Applied once, to faust-streaming's aiokafka driver.
    """
    _install_once(AIOKafkaConsumerThread, "_create_worker_consumer", with_short_fetch_wait,
                  "_short_fetch_wait")


def with_short_fetch_wait(create: Callable[..., Any]) -> Callable[..., Any]:
    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer

    create_worker_consumer._short_fetch_wait = True  # type: ignore[attr-defined]
    return create_worker_consumer


def commit_before_revocation() -> None:
    """Commit what was acknowledged on a revoked partition before Faust forgets it.

    faust-streaming's ``Consumer.on_partitions_revoked`` drops its record of the revoked
    partitions' acknowledged offsets (``_acked``) before the app's handler commits: whatever
    was acknowledged since the last periodic commit (every ``commit_interval``, 2.8 s) was
    never committed, and after the rebalance the partition's next owner, this worker too when
    it keeps the partition, started again from the older offset and published those records
    a second time (a new-user trial, 2026-12-05: 22 records after one of two workers stopped
    cleanly; 10-160 in 3,000-message runs). Applied once.
    """
    _install_once(Consumer, "on_partitions_revoked", committing_first, "_commits_first")


def committing_first(revoke: Callable[..., Any]) -> Callable[..., Any]:
    async def on_partitions_revoked(self: Any, revoked: set[Any]) -> None:
        # Until a commit finds nothing new: messages acknowledged while one was under way
        # (a periodic one, or the last of these) are in the next. The last commit, with
        # nothing to send, does not suspend, so none comes in before Faust forgets them.
        while True:
            while await self.maybe_wait_for_commit_to_finish():
                pass
            if not await self.commit(revoked):
                break
        await revoke(self, revoked)

    on_partitions_revoked._commits_first = True  # type: ignore[attr-defined]
    return on_partitions_revoked


def rewind_uncommitted_partitions() -> None:
    """Put a partition with no committed offset back at its beginning whenever Faust seeks.

    ``Consumer.getmany`` drops what a fetch returns once its flow is stopped, and seeks every
    assigned partition to its committed offset to read it again. aiokafka's
    ``seek_to_committed`` moves only partitions with a committed offset above 0 (``if offset
    and offset > 0``): one with none stays where the dropped records took it, and Faust,
    holding no committed offset for it, commits the first acknowledged run after them. The
    fetch can hold a partition the worker was just given: it waits in aiokafka's
    ``fetched_records`` for the assignment with Faust's active-partition set, which Faust
    updates in place. At the assignment Faust pauses every partition by emptying that set
    (aiokafka is not told, and reads an empty set as "every partition"), and its recovery
    refills it before it resumes the flow: all along, the waiting fetch may return the new
    partitions' records, and ``getmany`` drops them. (``getmany`` drops records without a
    seek too, when the flow stops or the generation changes as it hands them out: the
    rebalance that follows gives every partition a fresh position.)
    A kill trial (``bench.kill_trials``, seed 60, 2026-12-06) lost 95 messages so: the
    partition's first owner was killed before its first commit; its next owner read offsets
    0-123 in that window, dropped them, sought (the partition stayed at 124) and committed
    130. Another (seed 14, not instrumented) lost 167 in a run of the same pattern. With this
    patch disabled, seed 106 met the race and lost 74; with it, seed 96 met it and read the
    partition from offset 0 (README, Guarantees).
    With nothing committed, the beginning is where ``auto_offset_reset="earliest"`` starts,
    so those partitions are sought to offset 0 (the seek Faust's ``Consumer._seek`` makes).
    Applied once.
    """
    _install_once(AIOKafkaConsumerThread, "seek_to_committed", rewinding_uncommitted,
                  "_rewinds_uncommitted")


def rewinding_uncommitted(seek: Callable[..., Any]) -> Callable[..., Any]:
    """Faust's ``seek_to_committed`` (one line: aiokafka's, run in the consumer's thread by
    ``call_thread``), with the rewind run right after it in the same call, so aiokafka's
    state is only ever changed from its own thread."""

    @functools.wraps(seek)
    async def seek_to_committed(self: Any) -> Mapping[Any, int | None]:
        consumer = self._ensure_consumer()

        async def seek_and_rewind() -> Mapping[Any, int | None]:
            committed: Mapping[Any, int | None] = await consumer.seek_to_committed()
            rewind_uncommitted(consumer, committed)
            return committed

        result: Mapping[Any, int | None] = await self.call_thread(seek_and_rewind)
        return result

    seek_to_committed._rewinds_uncommitted = True  # type: ignore[attr-defined]
    return seek_to_committed


def rewind_uncommitted(consumer: Any, committed: Mapping[Any, int | None]) -> None:
    """Seek the aiokafka ``consumer``'s partitions with no committed offset (None or 0) to 0.

    Offset 0 rather than a ListOffsets round trip: where retention removed it, the fetch is
    out of range and aiokafka resets to the earliest. A partition revoked since is no longer
    ours to position (``IllegalStateError``), nor is any when the consumer is stopping
    (aiokafka asserts a subscription).
    """
    on_each_assigned((tp for tp, offset in committed.items() if not offset),
                     lambda tp: consumer.seek(tp, 0))


def on_each_assigned(partitions: Iterable[Any], act: Callable[[Any], object]) -> None:
    """``act`` on each of ``partitions`` still assigned to an aiokafka consumer: one revoked
    meanwhile (aiokafka's ``IllegalStateError``), or every one when the consumer is stopping
    (it asserts a subscription), is left alone. Call in the consumer's thread."""
    for tp in partitions:
        with contextlib.suppress(IllegalStateError, AssertionError):
            act(tp)


async def pause_fetching(app: Any, tps: Iterable[Any]) -> None:
    """Stop fetching the partitions ``tps`` (the dead-letter guard's pause): in aiokafka.

    Not Faust's ``Consumer.pause_partitions``, which only takes them out of its
    active-partition set: a fetch reads that set live (it waits in aiokafka's
    ``fetched_records`` with it), ``Consumer.getmany`` drops what it returns for a partition
    no longer in it, without a seek, and the position is past them: never decided, and the
    next commit covers them. When the pause empties the set, aiokafka reads it as "every
    partition" and returns the paused partition's records, to be dropped so. Two workers on
    two partitions, junk on both (2026-12-06, on Tansu): the worker without Faust's leader
    partition had its one partition paused while a fetch waited, offset 48 of it was dropped
    and committed past (``bench/faust_trace``: ``dropped-inactive``).
    aiokafka's pause discards what it fetched and has not returned without moving the
    position, and fetches nothing more of them until :func:`resume_fetching`; what it returned
    before is decided as usual. aiokafka forgets pauses at each assignment: the caller pauses
    again what is still due (a partition not assigned is skipped). Run in the consumer's
    thread: aiokafka's pause makes a future on its loop.
    """
    await _on_each_assigned(app, tps, "pause")


async def resume_fetching(app: Any, tps: Iterable[Any]) -> None:
    """Fetch again the partitions :func:`pause_fetching` paused, from their positions."""
    await _on_each_assigned(app, tps, "resume")


async def _on_each_assigned(app: Any, tps: Iterable[Any], method: str) -> None:
    """Call the aiokafka consumer's ``method`` (``pause``/``resume``) on each partition of
    ``tps`` still assigned (:func:`on_each_assigned`), in the consumer's thread."""
    partitions = [TopicPartition(tp.topic, tp.partition) for tp in tps]
    if not partitions:
        return
    thread = app.consumer._thread
    act = getattr(thread._ensure_consumer(), method)

    async def on_each() -> None:
        on_each_assigned(partitions, act)

    await thread.call_thread(on_each)


def time_checks_from_assignment() -> None:
    """Count Faust's "since start" livelock checks from the latest assignment, not the start.

    Every 7 s (``Consumer._commit_livelock_detector``) and outside rebalances, Faust's aiokafka
    driver checks each assigned partition (``AIOKafkaConsumerThread.verify_event_path``); one
    that aiokafka has no fetch response for yet (``TopicPartitionState.timestamp`` is None) is
    logged as an ERROR, ``Aiokafka has not sent fetch request for TP ... since start``, once
    the consumer started more than ``stream_processing_timeout`` (300 s) ago
    (``time_started``, set once in ``on_start``). But aiokafka gives every partition a new
    state at each assignment, and its first fetch response comes 0.1-0.3 s after Faust ends
    the rebalance: a check in that gap, on a worker up for 5 min, logged it for every
    partition (2026-12-05, on Tansu, a second worker joining and leaving every 15 s: 1 of 16
    rebalances, the next check 7 s later found every partition fetched; with the check run
    every 50 ms, after each of 10 rebalances, and none with this patch in 11). The other
    "since start" checks (no highwater, a stream idle since start, no commit at all) read the
    same clock and meet partitions as fresh after a rebalance. So an assignment restarts
    that clock, and the driver's record of when it last committed each partition
    (``tp_last_committed_at``, read by the "Has not committed" check only): at an assignment
    this worker owes no commit (Faust forgot what it acknowledged on the revoked partitions,
    ``commit_before_revocation`` committed it, and reads again from the committed offsets),
    and a partition it last committed 10 min ago was otherwise reported as not committed for
    10 min as soon as its stream took a message. Applied once.
    """
    _install_once(AIOKafkaConsumerThread, "on_partitions_assigned", restarting_clock,
                  "_restarts_clock")


def restarting_clock(assign: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(assign)
    async def on_partitions_assigned(self: Any, assigned: set[Any],
                                     generation_id: int = 0) -> None:
        self.time_started = now = monotonic()
        last_committed_at = getattr(self, "tp_last_committed_at", None)
        if last_committed_at is not None:
            last_committed_at.clear()
            last_committed_at.update(dict.fromkeys(assigned, now))
        await assign(self, assigned, generation_id)

    on_partitions_assigned._restarts_clock = True  # type: ignore[attr-defined]
    return on_partitions_assigned


def time_commit_check_from_pending_work() -> None:
    """Count Faust's "Has not committed" check from when there was something to commit.

    Faust's aiokafka driver logs ``Has not committed TP (last commit ...)`` (or ``... at all
    since worker start``) when a partition has records it has not read (highwater past the
    position), its stream handled an event in the last 5 min, and the driver's own record of
    its last commit of that partition (``tp_last_committed_at``) is older than
    ``broker_commit_livelock_soft_timeout`` (300 s). A commit is sent only when something was
    acknowledged, so after 5 min with nothing to consume the first check after new messages
    arrive, before the first commit (up to ``commit_interval``, 2.8 s, after the first batch
    is acknowledged), logged it although everything consumed had been committed (2026-12-05,
    on Tansu: 6,000 messages after 5 min idle, one line for each of the 4 partitions 1.1 s
    after they arrived, the next check found them committed; with the check run every 50 ms,
    118 lines, none with this patch; a partition given back to a worker that last committed
    it long ago is the same, see ``time_checks_from_assignment``). So each check first marks
    a partition with nothing owed, none of its messages unacknowledged or acknowledged and not
    committed (the private ``_unacked_messages`` and ``_acked``), as committed now: the clock
    runs only while there is something to commit, and a commit that stalls while messages
    wait is still reported after 5 min. ``tp_last_committed_at`` is read by that check only.
    A Faust release that renames those attributes leaves the check as it was. Applied once.
    """
    _install_once(AIOKafkaConsumerThread, "verify_event_path", clocking_owed_work,
                  "_owed_work_clock")


def clocking_owed_work(verify: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(verify)
    def verify_event_path(self: Any, now: float, tp: Any) -> None:
        if nothing_owed(self.consumer, tp):
            last_committed_at = getattr(self, "tp_last_committed_at", None)
            if last_committed_at is not None:
                last_committed_at[tp] = now
        verify(self, now, tp)

    verify_event_path._owed_work_clock = True  # type: ignore[attr-defined]
    return verify_event_path


def nothing_owed(consumer: Any, tp: Any) -> bool:
    """Whether Faust's consumer holds no message of ``tp`` that is unacknowledged, or
    acknowledged and not yet committed (False when a Faust release renames those sets)."""
    acked = getattr(consumer, "_acked", None)
    unacked = getattr(consumer, "_unacked_messages", None)
    if acked is None or unacked is None:
        return False
    return not acked.get(tp) and not any(message.tp == tp for message in list(unacked))


def committed_offsets(consumer: Any) -> Mapping[Any, int | None]:
    """Faust's record of the offsets its consumer last committed, by topic-partition.

    Faust keeps it in the private ``_committed_offset``; public API would mean a broker
    round trip per scrape. Read only here, and an empty mapping when a Faust release renames
    it (the lag gauges then read all-unprocessed rather than crash housekeeping).
    """
    committed: Mapping[Any, int | None] = getattr(consumer, "_committed_offset", {})
    return committed


class StreamRevocation:
    """A rebalance as the ingest agent's batch loop sees it (``streams.shell.batches``).

    ``stale`` is the test Faust's own stream applies before it hands out an event
    (``Stream.__aiter__``): its flow control is suspended from the start of a revocation
    (``App._on_partitions_revoked``) until the new assignment is recovered, and an event read
    in an earlier generation is skipped. ``release`` takes events out of the consumer's
    private ``_unacked_messages``, the set ``Consumer.wait_empty`` waits on during a
    revocation, and wakes it (``_waiting_for_ack``, else it looks again only a second later).
    They are never acknowledged, so no offset is committed at or past them: the broker
    delivers them again after the rebalance. A Faust release that renames those attributes
    makes ``release`` do nothing: revocations then wait for the batch as before.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def stale(self, event: Any) -> bool:
        app = self.app
        return (not app.flow_control.is_active()
                or event.message.generation_id != app.consumer_generation_id)

    def describe(self, events: Iterable[Any]) -> str:
        return offset_ranges((event.message.partition, event.message.offset)
                             for event in events)

    def release(self, events: Iterable[Any]) -> None:
        consumer = self.app.consumer
        unacked = getattr(consumer, "_unacked_messages", None)
        if unacked is None:
            return
        for event in events:
            unacked.discard(event.message)
        notify(getattr(consumer, "_waiting_for_ack", None))


def committed_offset(app: Any, tp: Any) -> int | None:
    """The committed offset Faust holds for an assigned partition (set when it seeks at an
    assignment, and at each commit); None when it holds none. Faust's private
    ``Consumer._committed_offset``: a release that renames it makes this None, and the
    continuity check (``streams.core.continuity``) then starts at the first message."""
    offset = committed_offsets(getattr(app, "consumer", None)).get(tp)
    return offset if isinstance(offset, int) else None
