"""The Faust agent: wires the raw topic, the pure core and the output topics together."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
import orjson

from streams.core.errors import DeadLetterRateExceededError, IngestError
from streams.core.fingerprint_log import LogRecord, encode_log_record
from streams.core.guard import DeadLetterGuard
from streams.core.pipeline import Deduplicator, Outcome
from streams.core.records import RawMessage
from streams.core.stories.model import StoryUpdate
from streams.settings import Settings
from streams.shell.metrics import Metrics, count_stories
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
    """Sends outcomes to their topics and records what happened in the metrics."""

    def __init__(self, topics: Topics, metrics: Metrics) -> None:
        self.topics = topics
        self.metrics = metrics

    async def publish(self, outcome: Outcome) -> None:
        for output in outcome.outputs:
            await self.topics.for_output(output.kind).send(
                key=output.key.encode("utf-8"), value=orjson.dumps(output.value)
            )
        for record in outcome.log_records:
            await self.publish_log_record(record)
        for update in outcome.story_updates:  # story merges, for every worker's state
            await self.publish_log_record(update)

    async def publish_log_record(self, record: LogRecord | StoryUpdate) -> None:
        key, value = encode_log_record(record)
        await self.topics.fingerprints.send(key=key, value=value)

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


def register_agent(
    *,
    app: faust.App,
    topics: Topics,
    settings: Settings,
    dedup: Deduplicator,
    replica: IndexReplica,
    publisher: Publisher,
    guard: DeadLetterGuard,
    on_fatal: Callable[[IngestError], Awaitable[None]],
) -> None:
    metrics = publisher.metrics
    stage = metrics.stage_seconds

    async def handle(events: Sequence[faust.EventT[Any]]) -> None:
        for event in events:
            raw = raw_message(event)
            metrics.consumed.inc()
            metrics.article_bytes.observe(len(raw.value or b""))
            started = time.perf_counter()
            outcome = dedup.process(raw, now_ms())
            decided = time.perf_counter()
            stage.labels(stage="process").observe(decided - started)
            for name, seconds in outcome.timings.items():
                stage.labels(stage=name).observe(seconds)
            if outcome.verdict == "deadletter":
                log.warning(
                    "dead-lettered %s: %s (%s)", raw.origin_str, outcome.error_code,
                    outcome.outputs[0].value["detail"],
                    extra={"topic": raw.topic, "partition": raw.partition,
                           "offset": raw.offset, "code": outcome.error_code},
                )
            await publisher.publish(outcome)
            stage.labels(stage="publish").observe(time.perf_counter() - decided)
            publisher.count(outcome, raw, now_ms())
            guard.record(outcome.verdict == "deadletter")

    @app.agent(topics.raw, name="ingest", concurrency=1)
    async def ingest(stream: faust.StreamT[bytes]) -> None:
        # Decisions need the whole shared index: wait until the replica has caught up.
        await replica.ready.wait()
        batches = stream.take_events(  # type: ignore[attr-defined]  # not on StreamT
            settings.batch_size, within=settings.batch_window_s
        )
        async for events in batches:
            try:
                await handle(events)
            except DeadLetterRateExceededError as exc:
                await on_fatal(exc)
                return
