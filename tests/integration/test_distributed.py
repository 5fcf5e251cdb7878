"""Near duplicates across partitions and workers, and verdicts independent of the topology."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bench.corpus import Message, arrival_order, generate
from streams.core.pipeline import CoreConfig, Deduplicator
from streams.core.records import RawMessage
from streams.kafka.broker import EmbeddedBroker
from tests.conftest import broker_settings
from tests.harness import Worker, collect, final_kept, produce_placed, schema_errors

pytestmark = pytest.mark.broker
BASE_MS = 1_700_000_000_000


def corpus() -> list[Message]:
    return arrival_order(generate(seed=7, stories=8, per_story=2), seed=11)


def as_value(message: Message) -> bytes:
    envelope = {"id": message.id, "body": message.body}
    if message.content_type:
        envelope["content_type"] = message.content_type
    return orjson.dumps(envelope)


def kept_by_pure_core(messages: list[Message]) -> set[str]:
    dedup = Deduplicator(CoreConfig(), worker="reference")
    kept: set[str] = set()
    for offset, m in enumerate(messages):
        outcome = dedup.process(
            RawMessage("articles.raw", 0, offset, None, as_value(m), BASE_MS + m.event_time_ms),
            now_ms=BASE_MS,
        )
        for output in outcome.outputs:
            if output.kind == "enriched":
                kept.add(output.key)
            elif output.value.get("supersedes"):
                kept.discard(output.key)
    return kept


def run_topology(broker: EmbeddedBroker, tmp_path: Path, partitions: int, workers: int,
                 messages: list[Message]) -> tuple[set[str], int]:
    settings = broker_settings(broker, partitions=partitions)
    running = [Worker(settings, tmp_path / f"p{partitions}w{i}", name=f"p{partitions}-w{i}")
               for i in range(workers)]
    for worker in running:
        worker.start(wait=False)
    try:
        for worker in running:
            worker.wait_ready()
        placed = produce_placed(settings, [
            (as_value(m), i % partitions, BASE_MS + m.event_time_ms)
            for i, m in enumerate(messages)
        ])
        got = collect(settings, lambda c: set(placed) <= c.verdicts().keys(),
                      timeout_s=120, settle_s=3.0)
    finally:
        for worker in running:
            worker.stop()
    for topic, record in got.records:
        assert schema_errors(topic, record) == []
    corrections = sum(1 for v in got.by_topic("articles.duplicates") if v.get("supersedes"))
    return final_kept(got), corrections


def test_near_duplicates_on_different_partitions_and_workers_are_caught(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = broker_settings(broker, partitions=4)
    a = Worker(settings, tmp_path / "a", name="wa").start(wait=False)
    b = Worker(settings, tmp_path / "b", name="wb").start(wait=False)
    try:
        a.wait_ready()
        b.wait_ready()
        assigned = {w.name: orjson.loads(w.get("/readyz")[1])["assigned_partitions"]
                    for w in (a, b)}
        assert sorted(assigned["wa"] + assigned["wb"]) == [0, 1, 2, 3], assigned
        pa, pb = assigned["wa"][0], assigned["wb"][0]
        messages = [m for m in generate(seed=3, stories=3, per_story=1)
                    if m.kind in ("original", "copyedit", "truncated", "drop_paragraph",
                                  "chrome", "html")]
        originals = [m for m in messages if m.kind == "original"]
        variants = [m for m in messages if m.kind != "original"]
        assert variants
        # Originals on worker A's partition first, then their variants on worker B's.
        first = produce_placed(settings, [(as_value(m), pa, BASE_MS + i)
                                          for i, m in enumerate(originals)])
        # The originals are in worker B's index before their variants arrive: no race here.
        b.wait_metric("ingest_index_entries", len(originals))
        second = produce_placed(settings, [(as_value(m), pb, BASE_MS + 1000 + i)
                                           for i, m in enumerate(variants)])
        expected = set(first) | set(second)
        got = collect(settings, lambda c: expected <= c.verdicts().keys(), timeout_s=90)
    finally:
        a.stop()
        b.stop()
    verdicts = got.verdicts()
    corrections = [v for v in got.by_topic("articles.duplicates") if v.get("supersedes")]
    for (partition, offset), m in zip(second, variants, strict=True):
        topic, record = verdicts[(partition, offset)]
        assert topic == "articles.duplicates", (m.kind, record, corrections)
        assert record["duplicate_of"] == m.original_id
        assert record["match"] in ("near", "exact")
    assert {verdicts[p][1]["id"] for p in first} == {m.id for m in originals}


def test_kept_set_does_not_depend_on_partitions_or_workers(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    messages = corpus()
    reference = kept_by_pure_core(messages)
    single, _ = run_topology(broker, tmp_path, partitions=1, workers=1, messages=messages)
    # A fresh topic set for the second topology: another app id and topic names.
    assert single == reference
    broker.stop()
    broker.start()
    spread, corrections = run_topology(broker, tmp_path, partitions=4, workers=2,
                                       messages=messages)
    assert spread == single, (sorted(spread - single), sorted(single - spread), corrections)
