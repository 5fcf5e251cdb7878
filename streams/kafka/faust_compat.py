"""Every patch we apply to faust-streaming and every private attribute we read, in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from mode.utils.futures import notify

# Faust hard-codes fetch_max_wait_ms=1500 for the worker's consumer and Tansu holds every
# fetch that long, so a record waited ~575 ms (p50) before the agent saw it (bench/).
FETCH_MAX_WAIT_MS = 100


def shorten_fetch_wait() -> None:
    """Make Faust's worker consumer wait at most ``FETCH_MAX_WAIT_MS`` for a fetch.

    aiokafka hands ``_fetch_max_wait_ms`` to its fetcher at ``start()``, so setting it on the
    freshly created consumer is enough. Applied once, to faust-streaming's aiokafka driver.
    """
    original = AIOKafkaConsumerThread._create_worker_consumer
    if not getattr(original, "_short_fetch_wait", False):
        AIOKafkaConsumerThread._create_worker_consumer = (  # type: ignore[method-assign]
            with_short_fetch_wait(original)
        )


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
    original = Consumer.on_partitions_revoked
    if not getattr(original, "_commits_first", False):
        Consumer.on_partitions_revoked = (  # type: ignore[method-assign]
            committing_first(original)
        )


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

    def release(self, events: Iterable[Any]) -> None:
        consumer = self.app.consumer
        unacked = getattr(consumer, "_unacked_messages", None)
        if unacked is None:
            return
        for event in events:
            unacked.discard(event.message)
        notify(getattr(consumer, "_waiting_for_ack", None))
