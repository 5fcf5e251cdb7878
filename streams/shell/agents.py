"""The Faust agent: wires the raw topic, the pure core and the output topics together."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import faust
import orjson
from faust.types import TP

from streams.core.acks import not_to_acknowledge
from streams.core.errors import DeadLetterRateExceededError, InternalError, PublishFailedError
from streams.core.fingerprint_log import WORKER_HEADER, LogRecord, encode_log_record
from streams.core.guard import DeadLetterGuard
from streams.core.hold import event_order
from streams.core.identity import sent_id
from streams.core.pipeline import Deduplicator, Outcome
from streams.core.records import (
    Output,
    RawMessage,
    clamp_timestamp_ms,
    parse_origin,
    publish_failed_record,
)
from streams.core.stories.model import StoryUpdate
from streams.kafka.faust_compat import StreamRevocation, pause_fetching, resume_fetching
from streams.settings import Settings
from streams.shell.batches import run_batches
from streams.shell.collector import freeze_what_lives
from streams.shell.continuity import ContinuityWatch
from streams.shell.gate import StateGate
from streams.shell.lifecycle import FatalHandler
from streams.shell.metrics import Metrics, count_stories
from streams.shell.pool import PreparePool, SubmittedBatch
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
        timestamp_ms=clamp_timestamp_ms(int((message.timestamp or time.time()) * 1000)),
    )


@dataclass(frozen=True, slots=True)
class Send:
    """One record to send, with what a dead letter standing for it would say."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]] | None = None
    article_id: str = ""
    origin: dict[str, Any] | None = None
    logged_id: str | None = None  # a kept article's log record: its offset is reported
    logged_update: bool = False  # one of our story merge records: its offset is reported


Sleep = Callable[[float], Awaitable[None]]
# Told where the broker put the log record of one of our kept articles, (id, partition,
# offset), or of one of our story merges (None, partition, offset).
OnLogged = Callable[[str | None, int, int], None]


class Publisher:
    """Sends outcomes to their topics and records what happened in the metrics.

    Sends go straight to the producer and are awaited once per batch (:meth:`flush`), not one
    by one: the batch's offsets are acknowledged only after the agent's loop body returns, so
    every output of a batch is delivered before its offsets can be committed.

    A send the broker refuses (a record too large for the topic, a broker error) is sent again
    ``retries`` times with doubling backoff, then replaced by a small ``publish_failed`` dead
    letter (key, topic, origin; not the value) and counted. If even that dead letter is
    refused, :meth:`flush` reports the fatal error and raises: the batch is never acknowledged
    and the worker stops (exit code 5), so no offset is committed past a lost output.
    """

    def __init__(
        self, topics: Topics, metrics: Metrics, producer: Any, *, retries: int = 3,
        backoff_s: float = 0.2, sleep: Sleep = asyncio.sleep, on_fatal: FatalHandler | None = None,
        on_logged: OnLogged | None = None,
    ) -> None:
        self.topics = topics
        self.metrics = metrics
        self.producer = producer
        self.retries = retries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.on_fatal = on_fatal
        self.on_logged = on_logged
        self._pending: list[tuple[Send, Awaitable[Any] | Exception]] = []
        # One series per topic from the start, at 0: a rate over it is 0, not absent.
        for topic in (topics.enriched, topics.duplicates, topics.deadletter,
                      topics.fingerprints, topics.stories):
            metrics.publish_failures.labels(topic=topic.get_topic_name())

    async def publish(self, outcome: Outcome) -> None:
        await self.publish_outputs(outcome)
        await self.publish_log_records(outcome)

    async def publish_log_records(
        self, outcome: Outcome, applied: tuple[tuple[int, int], ...] | None = None
    ) -> None:
        """The outcome's fingerprint-log records, and its story merges both to the log and to
        ``articles.stories``. ``applied``: the log positions the replica had applied when the
        outcome was decided, carried by its records (``LogRecord.applied``).

        A merge's ``articles.stories`` record goes out with its log record, not with the
        verdicts after the hold (:meth:`publish_outputs` leaves it out): every worker applies
        the merge from the log, so a worker that replays the message after this one died
        finds the stories merged and owes no merge; published after the hold, the record was
        lost with the worker (kill trials on ECB+, 2026-12-06: articles named two stories
        that no update joined)."""
        for record in outcome.log_records:
            await self.publish_log_record(
                record if applied is None else dataclasses.replace(record, applied=applied)
            )
        for update in outcome.story_updates:  # story merges, for every worker's state
            await self.publish_log_record(update)
        for output in outcome.outputs:
            if output.kind == "stories":
                await self._publish_output(output)

    async def publish_outputs(self, outcome: Outcome) -> None:
        """The outcome's verdicts and corrections (its story merges go out with its log
        records: :meth:`publish_log_records`)."""
        for output in outcome.outputs:
            if output.kind != "stories":
                await self._publish_output(output)

    async def _publish_output(self, output: Output) -> None:
        origin = output.value.get("origin")
        await self._send(Send(
            self.topics.for_output(output.kind).get_topic_name(),
            output.key.encode("utf-8"), orjson.dumps(output.value),
            article_id=str(output.value.get("id") or sent_id(output.key)),
            origin=origin if isinstance(origin, dict) else None,
        ))

    async def publish_log_record(self, record: LogRecord | StoryUpdate) -> None:
        key, value = encode_log_record(record)
        logged_id = None
        logged_update = isinstance(record, StoryUpdate)
        if isinstance(record, StoryUpdate):
            article_id, origin = record.story, None
        else:
            article_id, origin = record.entry.id, parse_origin(record.entry.origin)
            if record.entry.is_kept:
                logged_id = record.entry.id
        await self._send(Send(
            self.topics.fingerprints.get_topic_name(), key, value,
            headers=[(WORKER_HEADER, record.worker.encode("utf-8"))],
            article_id=sent_id(article_id), origin=origin, logged_id=logged_id,
            logged_update=logged_update,
        ))

    async def _send(self, send: Send) -> None:
        try:
            sent = await self._produce(send)
        except Exception as exc:  # refused before sending (too large, producer closed)
            self._pending.append((send, exc))
            return
        if (send.logged_id is not None or send.logged_update) and isinstance(sent,
                                                                            asyncio.Future):
            # As soon as the broker answers, not at the batch's flush: the other workers'
            # replicas read the record meanwhile, and what we know of where it landed decides
            # how many of their articles we decide again (race_window).
            sent.add_done_callback(lambda done: self._report_logged(
                send, None if done.cancelled() or done.exception() else done.result()))
        self._pending.append((send, sent))

    async def _produce(self, send: Send) -> Awaitable[Any]:
        result: Awaitable[Any] = await self.producer.send(
            send.topic, send.key, send.value, None, None, send.headers
        )
        return result

    async def flush(self) -> None:
        """Wait until everything sent so far is acknowledged by the broker, or dead-lettered.

        Raises :class:`PublishFailedError` when a refused record's dead letter is refused too.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return
        futures = [sent for _, sent in pending if not isinstance(sent, Exception)]
        results = iter(await asyncio.gather(*futures, return_exceptions=True))
        for send, sent in pending:
            outcome = sent if isinstance(sent, Exception) else next(results)
            if isinstance(outcome, Exception):
                self._report_logged(send, await self._recover(send, outcome))
            elif isinstance(outcome, BaseException):
                raise outcome  # cancellation: not the broker's answer

    def _report_logged(self, send: Send, metadata: Any) -> None:
        """Where a kept article's or a story merge's record landed (aiokafka's
        ``RecordMetadata``)."""
        if (send.logged_id is None and not send.logged_update) or self.on_logged is None:
            return
        partition, offset = getattr(metadata, "partition", None), getattr(metadata, "offset", None)
        if isinstance(partition, int) and isinstance(offset, int) and offset >= 0:
            self.on_logged(send.logged_id, partition, offset)

    async def _deliver(self, send: Send, error: Exception | None) -> tuple[Any, Exception | None]:
        """Send ``send`` until the broker takes it, at most ``retries`` more times after
        ``error`` (None: not tried yet): the broker's answer, or the last error when it never
        takes it."""
        delay = self.backoff_s
        for _ in range(self.retries + (error is None)):
            if error is not None:
                await self.sleep(delay)
                delay *= 2
            try:
                metadata = await (await self._produce(send))
            except Exception as exc:  # every refusal is retried alike
                error = exc
            else:
                return metadata, None
        return None, error

    async def _recover(self, send: Send, error: Exception) -> Any:
        """The broker's answer to a retried send, or None once it is dead-lettered."""
        metadata, last = await self._deliver(send, error)
        if last is None:
            log.warning("%s accepted a record for %s after a retry (first refusal: %s)",
                        send.topic, send.article_id, _describe(error))
            return metadata
        detail = (f"{send.topic} refused the record for {send.article_id!r} "
                  f"({len(send.value)} bytes) {self.retries + 1} times: {_describe(last)}")
        self.metrics.publish_failures.labels(topic=send.topic).inc()
        origin = send.origin or {}
        log.error("%s; dead-lettered publish_failed", detail,
                  extra={"topic": origin.get("topic"), "partition": origin.get("partition"),
                         "offset": origin.get("offset"), "code": PublishFailedError.code})
        value = publish_failed_record(article_id=send.article_id, key=send.key,
                                      topic=send.topic, origin=send.origin, detail=detail,
                                      now_ms=now_ms())
        letter = Send(self.topics.deadletter.get_topic_name(), send.key, orjson.dumps(value),
                      article_id=send.article_id, origin=send.origin)
        _, failed = await self._deliver(letter, None)
        if failed is None:
            return None
        fatal = PublishFailedError(
            f"{detail}; its publish_failed dead letter was refused too ({_describe(failed)}): "
            "stopping without committing past it"
        )
        if self.on_fatal is not None:
            await self.on_fatal(fatal)
        raise fatal from failed

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


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


async def wait_for_release(dedup: Deduplicator, raws: Sequence[RawMessage]) -> None:
    """Sleep until the batch's held outputs may leave (streams.core.hold): the replica keeps
    applying other workers' records meanwhile."""
    last_ms = now_ms()
    oldest = min((raw.timestamp_ms for raw in raws), default=last_ms)
    delay_ms = dedup.hold.release_at(last_ms, last_ms, oldest) - last_ms
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)


Decided = list[tuple[RawMessage, Outcome]]


def _position(event: faust.EventT[Any]) -> tuple[int, int]:
    return event.message.partition, event.message.offset


class IngestSteps:
    """What the agent does with a batch (:func:`streams.shell.batches.run_batches`)."""

    def __init__(self, dedup: Deduplicator, pool: PreparePool, replica: IndexReplica,
                 publisher: Publisher,
                 judge: Callable[[RawMessage, Outcome], Awaitable[None]], *,
                 watch: ContinuityWatch | None = None) -> None:
        self.dedup = dedup
        self.pool = pool
        self.replica = replica
        self.publisher = publisher
        self.judge = judge
        self.watch = watch

    def submit(self, events: Sequence[faust.EventT[Any]]) -> SubmittedBatch:
        """Hand a batch to the stateless step, in event-time order (streams.core.hold),
        once the events are checked for a hole in their partitions' offsets (in the order
        taken: streams.core.continuity)."""
        if self.watch is not None:
            self.watch.check(events)
        return self.pool.submit(sorted(map(raw_message, events), key=event_order))

    def cancel(self, batch: SubmittedBatch) -> None:
        batch.cancel()

    def unfinished(self, held: Decided, events: Sequence[faust.EventT[Any]]
                   ) -> list[faust.EventT[Any]]:
        """The events of a batch not to acknowledge: :func:`streams.core.acks.not_to_acknowledge`
        (none when it was decided whole)."""
        if len(held) == len(events):
            return []
        left = not_to_acknowledge(map(_position, events),
                                  {(raw.partition, raw.offset) for raw, _ in held})
        return [event for event in events if _position(event) in left]

    async def decide(self, batch: SubmittedBatch, stop: Callable[[], bool] = lambda: False
                     ) -> Decided:
        """Decide a batch as its messages are prepared, until ``stop()`` (a rebalance began:
        checked before each message); their log records go out at once, their outputs are
        held (:meth:`publish`)."""
        metrics, dedup = self.publisher.metrics, self.dedup
        stage = metrics.stage_seconds
        held: Decided = []
        try:
            async for item in batch:
                if stop():
                    break
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
                # Taken before any await: exactly what the index held at the decision.
                await self.publisher.publish_log_records(outcome, self.replica.applied_positions())
                held.append((raw, outcome))
        except BaseException:
            # A batch that failed half-way must not leave verdicts marked held.
            dedup.release([outcome for _, outcome in held], now_ms())
            raise
        finally:
            batch.cancel()
        return held

    async def publish(self, held: Decided) -> None:
        """After the hold (streams.core.hold), the batch's outputs; then wait until the
        broker has every record of the batch."""
        dedup, publisher = self.dedup, self.publisher
        try:
            await wait_for_release(dedup, [raw for raw, _ in held])
        finally:
            # Always: a batch that failed half-way must not leave verdicts marked held.
            released = dedup.release([outcome for _, outcome in held], now_ms())
        stage = publisher.metrics.stage_seconds
        for (raw, _), outcome in zip(held, released, strict=True):
            started = time.perf_counter()
            await publisher.publish_outputs(outcome)
            stage.labels(stage="publish").observe(time.perf_counter() - started)
            publisher.count(outcome, raw, now_ms())
            await self.judge(raw, outcome)
        await publisher.flush()


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

    def raw_partitions(partitions: Iterable[int]) -> list[TP]:
        return [TP(topics.raw.get_topic_name(), p) for p in partitions]

    async def judge(raw: RawMessage, outcome: Outcome) -> None:
        trip = guard.record(raw.partition, outcome.verdict == "deadletter", now_ms())
        if trip is None:
            return
        await pause_fetching(app, raw_partitions([trip.partition]))
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

    steps = IngestSteps(dedup, pool, replica, publisher, judge,
                        watch=ContinuityWatch(app, metrics))

    @app.timer(1.0)  # type: ignore[untyped-decorator]
    async def resume_paused_partitions() -> None:
        due = guard.due(now_ms())
        if due:
            await resume_fetching(app, raw_partitions(due))
            metrics.paused_partitions.set(len(guard.paused))
            log.warning("dead-letter guard: resumed partition(s) %s", due)

    async def catch_up_after_assignment(sender: Any, /, *args: Any, **kwargs: Any) -> None:
        # Messages of partitions taken over are decided again once the replica has applied
        # what their previous owner published (streams.shell.replica): begun here, awaited by
        # the batch loop; not here, which would hold up the rebalance.
        replica.begin_catch_up()

    async def keep_due_pauses(sender: Any, /, assigned: Iterable[TP] = (), *args: Any,
                              **kwargs: Any) -> None:
        # aiokafka forgets its pauses at an assignment: the guard's that are still due hold,
        # on the partitions this worker keeps.
        raw = topics.raw.get_topic_name()
        guard.keep_only({tp.partition for tp in assigned if tp.topic == raw})
        metrics.paused_partitions.set(len(guard.paused))
        await pause_fetching(app, raw_partitions(guard.paused))

    app.on_partitions_assigned.connect(catch_up_after_assignment)
    app.on_partitions_assigned.connect(keep_due_pauses)

    @app.agent(topics.raw, name="ingest", concurrency=1)
    async def ingest(stream: faust.StreamT[bytes]) -> None:
        # Decisions need the whole shared index: wait until the replica has caught up.
        await replica.ready.wait()
        # Started and caught up: what lives now lives for good (streams.shell.collector).
        log.info("froze %d objects out of the garbage collector's reach", freeze_what_lives())
        try:
            await run_batches(stream, steps, state_gate, size=settings.batch_size,
                              within_s=settings.batch_window_s,
                              revocation=StreamRevocation(app), caught_up=replica.caught_up)
        except Exception as exc:
            # Faust would start the agent again on the same stream, past a batch it may not
            # have published: stop instead, and start again from the committed offsets.
            log.exception("the ingest agent failed")
            if publisher.on_fatal is not None:
                await publisher.on_fatal(InternalError(
                    f"the ingest agent failed ({_describe(exc)}): stopping without committing "
                    "past its batch"))
            raise
