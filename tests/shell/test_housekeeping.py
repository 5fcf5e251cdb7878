"""Housekeeping without Faust or a broker: expiry driven by a test clock, gauges by fakes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import NamedTuple

import pytest
from prometheus_client import CollectorRegistry

from streams.core.clock import TestClock, now_ms
from streams.core.idle_trim import IdleTrim
from streams.core.outcome import Outcome
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage
from streams.settings import load
from streams.shell.config import core_config
from streams.shell.housekeeping import Housekeeping
from streams.shell.metrics import Metrics, counted
from tests.harness import SAMPLES, envelope

DAY_S = 86_400.0
RAW = "articles.raw"


class TP(NamedTuple):
    topic: str
    partition: int


class Replica:
    async def lag(self) -> int:
        return 7


class Probe:
    def __init__(self, ends: dict[int, int]) -> None:
        self.ends = ends
        self.asked: list[list[int]] = []

    async def end_offsets(self, partitions: Iterable[int]) -> dict[int, int]:
        asked = list(partitions)
        self.asked.append(asked)
        return {p: self.ends[p] for p in asked if p in self.ends}


class Fixture(NamedTuple):
    housekeeping: Housekeeping
    dedup: Deduplicator
    registry: CollectorRegistry
    clock: TestClock
    assigned: list[TP]


@pytest.fixture
def fixture() -> Fixture:
    settings = load({"INGEST_DEDUP_WINDOW_DAYS": "14"})
    dedup = Deduplicator(core_config(settings), worker="w1")
    registry = CollectorRegistry()
    clock = TestClock()
    assigned = [TP(RAW, 0), TP(RAW, 1), TP("other", 0)]
    committed = {TP(RAW, 0): 40, TP(RAW, 1): None}
    housekeeping = Housekeeping(
        dedup=dedup, metrics=Metrics.create(registry), replica=Replica(),
        probe=Probe({0: 50, 1: 12}), raw_topic=lambda: RAW,
        assignment=lambda: assigned, committed=lambda: committed, ready=lambda: True,
        clock=clock,
    )
    return Fixture(housekeeping, dedup, registry, clock, assigned)


def decide_sample(f: Fixture) -> None:
    raw = RawMessage(RAW, 0, 0, None, envelope(SAMPLES[0]), now_ms(f.clock))
    assert f.dedup.process(raw, now_ms(f.clock)).verdict == "enriched"


def gauge(f: Fixture, name: str, **labels: str) -> float | None:
    return f.registry.get_sample_value(name, labels)


def test_entries_expire_exactly_when_the_clock_passes_the_window(fixture: Fixture) -> None:
    decide_sample(fixture)
    fixture.clock.advance(14 * DAY_S)
    asyncio.run(fixture.housekeeping.run_once())
    assert len(fixture.dedup.index) == 1  # exactly 14 days old: still inside the window
    assert gauge(fixture, "ingest_index_entries") == 1
    fixture.clock.advance(0.001)
    asyncio.run(fixture.housekeeping.run_once())
    assert len(fixture.dedup.index) == 0
    assert gauge(fixture, "ingest_index_entries") == 0


def test_the_ready_gauge_follows_readiness_without_waiting_for_a_round() -> None:
    registry = CollectorRegistry()
    state = {"ready": False}
    Housekeeping(
        dedup=Deduplicator(core_config(load({})), worker="w1"),
        metrics=Metrics.create(registry), replica=Replica(), probe=Probe({}),
        raw_topic=lambda: RAW, assignment=list, committed=dict,
        ready=lambda: state["ready"], clock=TestClock(),
    )
    assert registry.get_sample_value("ingest_ready") == 0
    state["ready"] = True  # /readyz turns 200: the next scrape says so, no round in between
    assert registry.get_sample_value("ingest_ready") == 1
    state["ready"] = False
    assert registry.get_sample_value("ingest_ready") == 0


def test_gauges_for_assigned_raw_partitions(fixture: Fixture) -> None:
    asyncio.run(fixture.housekeeping.run_once())
    assert gauge(fixture, "ingest_replica_lag_messages") == 7
    assert gauge(fixture, "ingest_ready") == 1
    p0, p1 = {"topic": RAW, "partition": "0"}, {"topic": RAW, "partition": "1"}
    assert gauge(fixture, "ingest_partition_committed_offset", **p0) == 40
    assert gauge(fixture, "ingest_partition_end_offset", **p0) == 50
    assert gauge(fixture, "ingest_consumer_lag_messages", **p0) == 10
    # Nothing committed yet on partition 1: all of it is lag.
    assert gauge(fixture, "ingest_partition_committed_offset", **p1) == 0
    assert gauge(fixture, "ingest_consumer_lag_messages", **p1) == 12
    assert gauge(fixture, "ingest_partition_end_offset", topic="other", partition="0") is None


def test_gauges_of_a_partition_taken_over_by_another_worker_are_removed(
    fixture: Fixture,
) -> None:
    asyncio.run(fixture.housekeeping.run_once())
    fixture.assigned.remove(TP(RAW, 1))
    asyncio.run(fixture.housekeeping.run_once())
    p1 = {"topic": RAW, "partition": "1"}
    for name in ("ingest_partition_committed_offset", "ingest_partition_end_offset",
                 "ingest_consumer_lag_messages"):
        assert gauge(fixture, name, **p1) is None
    assert gauge(fixture, "ingest_consumer_lag_messages", topic=RAW, partition="0") == 10


def test_a_failed_round_is_logged_and_does_not_raise(
    fixture: Fixture, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> list[TP]:
        raise RuntimeError("consumer gone")

    fixture.housekeeping.assignment = broken
    asyncio.run(fixture.housekeeping.run())
    assert "housekeeping failed; will retry in 5 s" in caplog.text
    assert "consumer gone" in caplog.text


def test_a_round_publishes_the_corrections_another_worker_owes_once_they_are_due() -> None:
    """Worker w2 kept a copy of w1's earlier article and stopped before correcting it: the
    round after INGEST_RACE_FALLBACK_S publishes the correction, once."""
    from tests.core.test_races import deliver

    config = core_config(load({"INGEST_RACE_FALLBACK_S": "30"}))
    clock = TestClock()
    w1, w2 = Deduplicator(config, worker="w1"), Deduplicator(config, worker="w2")
    published: list[Outcome] = []

    async def publish(outcome: Outcome) -> None:
        published.append(outcome)

    registry = CollectorRegistry()
    housekeeping = Housekeeping(
        dedup=w1, metrics=Metrics.create(registry), replica=Replica(),
        probe=Probe({}), raw_topic=lambda: RAW, assignment=list, committed=dict,
        ready=lambda: True, clock=clock, publish_owed=publish,
    )
    at = now_ms(clock)
    w1.process(RawMessage(RAW, 0, 0, None, envelope(SAMPLES[1]), at), at)
    copy = w2.process(RawMessage(RAW, 1, 0, None, envelope(SAMPLES[4]), at + 1), at)
    deliver(copy, w1, now_ms=at)
    clock.advance(29.999)
    asyncio.run(housekeeping.run_once())
    assert published == []
    assert registry.get_sample_value("ingest_owed_corrections_watched") == 1
    clock.advance(0.001)
    asyncio.run(housekeeping.run_once())
    asyncio.run(housekeeping.run_once())
    assert registry.get_sample_value("ingest_owed_corrections_watched") == 0
    [outcome] = published
    assert [(o.kind, o.key, o.value.get("supersedes")) for o in outcome.outputs] == [
        ("duplicates", SAMPLES[4].stem, "kept"), ("stories", SAMPLES[4].stem, None)]


def test_a_rebalance_that_hides_the_committed_offsets_does_not_read_as_lag() -> None:
    # Soak trial 2026-12-05: a second worker joined, Faust dropped the committed offsets of
    # the revoked partitions, and a round in that window put the whole partition in the lag
    # gauge (3,144 for ~110), then the true value again once Faust had sought.
    registry = CollectorRegistry()
    assigned = [TP(RAW, 0), TP(RAW, 1)]
    committed: dict[TP, int | None] = {TP(RAW, 0): 40, TP(RAW, 1): 3}
    probe = Probe({0: 50, 1: 12})
    housekeeping = Housekeeping(
        dedup=Deduplicator(core_config(load({})), worker="w1"),
        metrics=Metrics.create(registry), replica=Replica(), probe=probe,
        raw_topic=lambda: RAW, assignment=lambda: assigned, committed=lambda: committed,
        ready=lambda: True, clock=TestClock(),
    )

    def lag(partition: int) -> float | None:
        return registry.get_sample_value("ingest_consumer_lag_messages",
                                         {"topic": RAW, "partition": str(partition)})

    asyncio.run(housekeeping.run_once())
    assert (lag(0), lag(1)) == (10, 9)
    committed.clear()  # revoked: Faust popped them; the broker's end moved on meanwhile
    probe.ends = {0: 55, 1: 20}
    asyncio.run(housekeeping.run_once())
    assert (lag(0), lag(1)) == (15, 17)
    assert registry.get_sample_value("ingest_partition_committed_offset",
                                     {"topic": RAW, "partition": "0"}) == 40
    assigned.remove(TP(RAW, 1))  # partition 1 went to another worker, then comes back
    asyncio.run(housekeeping.run_once())
    assert lag(1) is None
    assigned.append(TP(RAW, 1))
    asyncio.run(housekeeping.run_once())
    assert lag(1) == 17  # from the last offset seen committed, not from 0
    committed.update({TP(RAW, 0): 52, TP(RAW, 1): 18})  # sought / committed again
    asyncio.run(housekeeping.run_once())
    assert (lag(0), lag(1)) == (3, 2)


def test_freed_heap_is_returned_once_the_worker_idles_after_consuming() -> None:
    registry = CollectorRegistry()
    metrics = Metrics.create(registry)
    trims: list[float] = []
    now = {"s": 0.0}
    housekeeping = Housekeeping(
        dedup=Deduplicator(core_config(load({})), worker="w1"), metrics=metrics,
        replica=Replica(), probe=Probe({}), raw_topic=lambda: RAW, assignment=list,
        committed=dict, ready=lambda: True, clock=TestClock(),
        trim=lambda: bool(trims.append(now["s"])) or True,
        idle_trim=IdleTrim(idle_s=10, min_interval_s=60), monotonic=lambda: now["s"],
    )
    for consumed in (0, 256, 512, 512, 512, 512):  # a backlog, then nothing for 15 s
        metrics.consumed.inc(consumed - counted(metrics.consumed))
        asyncio.run(housekeeping.run_once())
        now["s"] += 5
    assert trims == [20.0]  # 10 s after the count stopped at 512 (at 10 s)
