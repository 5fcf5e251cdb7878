"""The ingest agent under Faust's ``test_context()``: no broker, the real core and publisher.

Only the producer is replaced, by a recorder: the agent's job is to move messages between
the raw topic, the core and the output topics, which is what these tests check.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from streams.core.fingerprint_log import decode_record
from streams.core.guard import DeadLetterGuard
from streams.core.pipeline import Deduplicator
from streams.settings import load
from streams.shell.agents import Publisher, register_agent
from streams.shell.app import create_app
from streams.shell.config import core_config
from streams.shell.metrics import Metrics
from streams.shell.pool import PreparePool
from streams.shell.topics import declare_topics
from tests.harness import SAMPLES, envelope


class RecordingProducer:
    """Stands in for Faust's producer: records sends, acknowledges them at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic: str, key: bytes, value: bytes, *args: Any) -> asyncio.Future[Any]:
        self.sent.append((topic, key, value))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class ReadyReplica:
    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.ready.set()
        self.catch_ups_begun = 0
        self.catch_ups_awaited = 0

    def begin_catch_up(self) -> None:
        self.catch_ups_begun += 1

    async def caught_up(self) -> None:
        self.catch_ups_awaited += 1

    def applied_positions(self) -> tuple[tuple[int, int], ...]:
        return ((0, 3), (1, 0))


def wire(on_fatal: Any = None, decide: Any = None, replica: ReadyReplica | None = None
         ) -> tuple[Any, RecordingProducer]:
    """The ingest agent on a test app, its producer replaced by a recorder; ``decide``
    replaces the stateful step when given."""
    settings = load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "INGEST_BATCH_WINDOW_S": "0.01",
                     "INGEST_WORKER_ID": "w1"})
    app = create_app(settings)
    topics = declare_topics(app, settings)
    producer = RecordingProducer()
    dedup = Deduplicator(core_config(settings), worker="w1")
    if decide is not None:
        dedup.decide = decide  # type: ignore[method-assign]

    register_agent(
        app=app, topics=topics, settings=settings, dedup=dedup,
        pool=PreparePool(dedup.config, 0, budget_s=5), replica=replica or ReadyReplica(),  # type: ignore[arg-type]
        publisher=Publisher(topics, Metrics.create(CollectorRegistry()), producer,
                            on_fatal=on_fatal),
        guard=DeadLetterGuard(0.5, 200),
    )
    return app.agents["ingest"], producer


@pytest.fixture
def wired() -> tuple[Any, RecordingProducer]:
    return wire()


async def run_agent(agent: Any, producer: RecordingProducer, values: list[bytes],
                    expected_sends: int, timestamps: list[float] | None = None,
                    ) -> list[tuple[str, bytes, bytes]]:
    """``timestamps``: each message's Kafka timestamp in seconds (Faust's unit)."""
    async with agent.test_context() as context:
        for value, timestamp in zip(values, timestamps or [None] * len(values), strict=True):
            await context.put(value, timestamp=timestamp)
        for _ in range(500):
            if len(producer.sent) >= expected_sends:
                break
            await asyncio.sleep(0.01)
    return producer.sent


def test_samples_are_enriched_deduplicated_and_logged(wired: tuple[Any, RecordingProducer]) -> None:
    agent, producer = wired
    # 5 outputs + 5 fingerprint-log records
    sent = asyncio.run(run_agent(agent, producer, [envelope(p) for p in SAMPLES], 10))
    outputs = [(t, k.decode(), orjson.loads(v)) for t, k, v in sent if t != "ingest.fingerprints"]
    assert [(t, k) for t, k, _ in outputs] == [
        ("articles.enriched", p.stem) for p in SAMPLES[:4]] + [
        ("articles.duplicates", SAMPLES[4].stem)]
    assert outputs[4][2]["duplicate_of"] == SAMPLES[1].stem
    logged = [decode_record(v) for t, _, v in sent if t == "ingest.fingerprints"]
    assert [r.entry.id for r in logged] == [p.stem for p in SAMPLES]
    assert {r.worker for r in logged} == {"w1"}
    # each decision's records carry what the replica had applied (race_window)
    assert {r.applied for r in logged} == {((0, 3), (1, 0))}


def test_bad_input_is_dead_lettered_and_the_agent_keeps_going(
    wired: tuple[Any, RecordingProducer],
) -> None:
    agent, producer = wired
    sent = asyncio.run(run_agent(agent, producer, [b"", envelope(SAMPLES[0])], 3))
    topics = [t for t, _, _ in sent]
    # a batch's fingerprint-log records go first, its outputs after the hold (core.hold)
    assert topics == ["ingest.fingerprints", "articles.deadletter", "articles.enriched"]
    assert orjson.loads(sent[1][2])["error"] == "empty_body"


def test_timestamps_no_record_can_show_are_clamped_to_its_ends_and_the_agent_goes_on(
    wired: tuple[Any, RecordingProducer],
) -> None:
    """A producer's timestamp past year 9999 (2**63 - 1 ms, a hostile trial's 10**16 ms): until
    2026-12-06 it stopped the worker at every start. One before 1970 is written as it is."""
    agent, producer = wired
    stamps = [(2**63 - 1) / 1000, 10**13, -5.0, 1_764_000_000.123]
    sent = asyncio.run(run_agent(agent, producer, [envelope(p) for p in SAMPLES[:4]], 8,
                                 timestamps=stamps))
    received = {r["id"]: r["received_at"]
                for r in (orjson.loads(v) for t, _, v in sent if t == "articles.enriched")}
    assert [received.get(p.stem) for p in SAMPLES[:4]] == [
        "9999-12-31T23:59:59.999+00:00", "9999-12-31T23:59:59.999+00:00",
        "1969-12-31T23:59:55.000+00:00", "2025-11-24T16:00:00.123+00:00"]


def test_a_failing_batch_stops_the_worker_instead_of_skipping_it() -> None:
    """Faust would start a failed agent again on the same stream, past the batch it did not
    publish; the agent reports the failure as fatal instead (the worker stops, exit code 1,
    and starts again from the committed offsets)."""
    fatal: list[tuple[str, str]] = []

    async def on_fatal(error: Any) -> None:
        fatal.append((error.code, error.detail))

    def broken_decide(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the stateful step")

    agent, producer = wire(on_fatal=on_fatal, decide=broken_decide)

    async def main() -> None:
        async with agent.test_context() as context:
            await context.put(envelope(SAMPLES[0]))
            for _ in range(200):
                if fatal:
                    break
                await asyncio.sleep(0.01)

    asyncio.run(main())
    assert fatal == [("internal_error", "the ingest agent failed (RuntimeError: a bug in the "
                      "stateful step): stopping without committing past its batch")]
    assert producer.sent == []  # nothing published for it


def test_a_batch_cut_short_leaves_each_partition_unacknowledged_from_its_first_undecided() -> None:
    from types import SimpleNamespace

    from streams.core.records import RawMessage
    from streams.shell.agents import IngestSteps

    def event(partition: int, offset: int) -> Any:
        return SimpleNamespace(message=SimpleNamespace(partition=partition, offset=offset))

    def raw(partition: int, offset: int) -> RawMessage:
        return RawMessage("articles.raw", partition, offset, None, b"", 0)

    events = [event(0, 10), event(1, 4), event(0, 12), event(0, 11), event(1, 5)]
    steps = IngestSteps.__new__(IngestSteps)  # unfinished reads no state
    held: Any = [(raw(0, 10), None), (raw(1, 4), None), (raw(0, 12), None)]
    left = steps.unfinished(held, events)
    assert [(e.message.partition, e.message.offset) for e in left] == [(0, 12), (0, 11), (1, 5)]
    assert steps.unfinished([*held, (raw(0, 11), None), (raw(1, 5), None)], events) == []


def test_an_assignment_begins_a_catch_up_that_each_batch_awaits() -> None:
    replica = ReadyReplica()
    agent, producer = wire(replica=replica)

    async def main() -> None:
        await agent.app.on_partitions_assigned.send(set())
        await run_agent(agent, producer, [envelope(SAMPLES[0])], expected_sends=2)

    asyncio.run(main())
    assert replica.catch_ups_begun == 1
    assert replica.catch_ups_awaited >= 1
