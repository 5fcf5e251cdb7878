"""The Faust agent: wires the raw topic, the pure core and the output topics together."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Any

import faust
import orjson
from faust.types import TP

from streams.core.errors import DeadLetterRateExceededError
from streams.core.fingerprint_log import WORKER_HEADER, LogRecord, encode_log_record
from streams.core.guard import DeadLetterGuard
from streams.core.hold import event_order
from streams.core.pipeline import Deduplicator, Outcome
from streams.core.records import RawMessage
from streams.core.stories.model import StoryUpdate
from streams.settings import Settings
from streams.shell.gate import StateGate
from streams.shell.metrics import Metrics, count_stories
from streams.shell.pool import PreparePool
from streams.shell.replica import IndexReplica
from streams.shell.topics import Topics

log = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


def raw_message(event: faust.EventT[Any]) -> RawMessage:
    message = event.message
    return RawMessage(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        timestamp_ms=int((message.timestamp or time.time()) * 1000),
    )


class Publisher:
    """Sends outcomes to their topics and records what happened in the metrics.

    Sends go straight to the producer and are awaited once per batch (:meth:`flush`), not one
    by one: the batch's offsets are acknowledged only after the agent's loop body returns, so
    every output of a batch is delivered before its offsets can be committed.
    """

    def __init__(self, topics: Topics, metrics: Metrics, producer: Any) -> None:
        self.topics = topics
        self.metrics = metrics
        self.producer = producer
        self._pending: list[Awaitable[Any]] = []

    async def publish(self, outcome: Outcome) -> None:
        await self.publish_outputs(outcome)
        await self.publish_log_records(outcome)

    async def publish_log_records(self, outcome: Outcome) -> None:
        for record in outcome.log_records:
            await self.publish_log_record(record)
        for update in outcome.story_updates:  # story merges, for every worker's state
            await self.publish_log_record(update)

    async def publish_outputs(self, outcome: Outcome) -> None:
        for output in outcome.outputs:
            await self._send(self.topics.for_output(output.kind).get_topic_name(),
                             output.key.encode("utf-8"), orjson.dumps(output.value))

    async def publish_log_record(self, record: LogRecord | StoryUpdate) -> None:
        key, value = encode_log_record(record)
        await self._send(self.topics.fingerprints.get_topic_name(), key, value,
                         headers=[(WORKER_HEADER, record.worker.encode("utf-8"))])

    async def _send(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        self._pending.append(await self.producer.send(topic, key, value, None, None, headers))

    async def flush(self) -> None:
        """Wait until everything sent so far is acknowledged by the broker."""
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)

    def count(self, outcome: Outcome, raw: RawMessage, published_ms: int) -> None:
        m = self.metrics
        if outcome.verdict == "enriched":
            m.enriched.inc()
        elif outcome.verdict == "duplicate":
            m.duplicates.labels(match=outcome.match or "exact").inc()
        else:
            m.deadletters.labels(code=outcome.error_code or "unknown").inc()
        if outcome.corrections:
            m.corrections.inc(outcome.corrections)
        if outcome.rules_removed:
            m.boilerplate_removed.labels(layer="rules").inc(outcome.rules_removed)
        if outcome.learned_removed:
            m.boilerplate_removed.labels(layer="learned").inc(outcome.learned_removed)
        m.end_to_end_seconds.observe(max(0.0, (published_ms - raw.timestamp_ms) / 1000))
        count_stories(m, outcome)


async def wait_for_release(dedup: Deduplicator, raws: Sequence[RawMessage]) -> None:
    """Sleep until the batch's held outputs may leave (streams.core.hold): the replica keeps
    applying other workers' records meanwhile."""
    last_ms = now_ms()
    oldest = min((raw.timestamp_ms for raw in raws), default=last_ms)
    delay_ms = dedup.hold.release_at(last_ms, last_ms, oldest) - last_ms
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)


def register_agent(
    *,
    app: faust.App,
    topics: Topics,
    settings: Settings,
    dedup: Deduplicator,
    pool: PreparePool,
    replica: IndexReplica,
    publisher: Publisher,
    guard: DeadLetterGuard,
    gate: StateGate | None = None,
) -> None:
    metrics = publisher.metrics
    state_gate = gate or StateGate()
    stage = metrics.stage_seconds

    def judge(raw: RawMessage, outcome: Outcome) -> None:
        trip = guard.record(raw.partition, outcome.verdict == "deadletter", now_ms())
        if trip is None:
            return
        app.consumer.pause_partitions([TP(raw.topic, trip.partition)])
        metrics.guard_trips.inc()
        metrics.paused_partitions.set(len(guard.paused))
        log.error(
            "%d of the last %d messages of %s/%d were dead-lettered (limit %.0f%%): partition "
            "paused for %.0f s; nothing is skipped. Check the producer or the last deploy.",
            trip.dead, trip.window, raw.topic, trip.partition, guard.max_ratio * 100,
            guard.pause_ms / 1000,
            extra={"topic": raw.topic, "partition": trip.partition,
                   "code": DeadLetterRateExceededError.code},
        )

    async def handle(events: Sequence[faust.EventT[Any]]) -> None:
        # Decided in event-time order, outputs held until the other workers' decisions of the
        # same moment have reached the index (streams.core.hold): fewer corrections.
        raws = sorted((raw_message(event) for event in events), key=event_order)
        held: list[tuple[RawMessage, Outcome]] = []
        try:
            async for item in pool.prepare(raws):
                raw = item.raw
                # Counted as each message is decided, so the counter follows real progress.
                metrics.consumed.inc()
                metrics.article_bytes.observe(len(raw.value or b""))
                started = time.perf_counter()
                outcome = dedup.decide(item, now_ms(), hold=True)
                decided = time.perf_counter()
                for name, seconds in outcome.timings.items():
                    stage.labels(stage=name).observe(seconds)
                stage.labels(stage="process").observe(decided - started)
                if outcome.verdict == "deadletter":
                    log.warning(
                        "dead-lettered %s: %s (%s)", raw.origin_str, outcome.error_code,
                        outcome.outputs[0].value["detail"],
                        extra={"topic": raw.topic, "partition": raw.partition,
                               "offset": raw.offset, "code": outcome.error_code},
                    )
                await publisher.publish_log_records(outcome)
                held.append((raw, outcome))
            await wait_for_release(dedup, [raw for raw, _ in held])
        finally:
            # Always: a batch that failed half-way must not leave verdicts marked held.
            released = dedup.release([outcome for _, outcome in held], now_ms())
        for (raw, _), outcome in zip(held, released, strict=True):
            started = time.perf_counter()
            await publisher.publish_outputs(outcome)
            stage.labels(stage="publish").observe(time.perf_counter() - started)
            publisher.count(outcome, raw, now_ms())
            judge(raw, outcome)
        await publisher.flush()

    @app.timer(1.0)  # type: ignore[untyped-decorator]
    async def resume_paused_partitions() -> None:
        due = guard.due(now_ms())
        if due:
            app.consumer.resume_partitions([TP(topics.raw.get_topic_name(), p) for p in due])
            metrics.paused_partitions.set(len(guard.paused))
            log.warning("dead-letter guard: resumed partition(s) %s", due)

    @app.agent(topics.raw, name="ingest", concurrency=1)
    async def ingest(stream: faust.StreamT[bytes]) -> None:
        # Decisions need the whole shared index: wait until the replica has caught up.
        await replica.ready.wait()
        batches = stream.take_events(  # type: ignore[attr-defined]  # not on StreamT
            settings.batch_size, within=settings.batch_window_s
        )
        async for events in batches:
            async with state_gate.shared():  # a snapshot never sees half a batch
                await handle(events)
