"""``/readyz`` stays 503 until the index replica has caught up, shown with a slow replica.

The replica is slow for a real reason: the fingerprint log already holds tens of thousands
of entries (another worker's history) when the worker starts, and it must apply them all
before it may decide anything. The test polls the page from the moment it answers and
checks the sequence of states, not a duration.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import orjson
import pytest

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.fingerprint_log import encode_record
from streams.kafka.broker import EmbeddedBroker
from streams.kafka.clients import make_producer
from tests.conftest import broker_settings
from tests.harness import Worker, wait_for

pytestmark = pytest.mark.broker
HISTORY = 40_000  # log records before the worker starts: seconds of catch-up


def fill_fingerprint_log(settings: object, count: int) -> None:
    rng = np.random.default_rng(5)
    now_ms = int(time.time() * 1000)  # recent: housekeeping must not expire them
    producer = make_producer(settings, linger_ms=50, batch_size=1 << 20)  # type: ignore[arg-type]
    topic = settings.topic_fingerprints  # type: ignore[attr-defined]
    signatures = rng.integers(0, 2**32, size=(count, 128), dtype=np.uint32)
    for i in range(count):
        entry = IndexEntry(f"old-{i}", now_ms - i, Fingerprint(f"{i:032x}", signatures[i], 300),
                           root=f"old-{i}", seen_at_ms=now_ms)
        producer.send(topic, key=entry.id.encode(), value=encode_record(entry, (), "gone"),
                      partition=i % 4)
    producer.flush(timeout=120)
    producer.close(timeout=10)


def test_readyz_is_503_until_the_replica_has_caught_up(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = broker_settings(broker, partitions=4)
    fill_fingerprint_log(settings, HISTORY)
    worker = Worker(settings, tmp_path / "w", name="slow").start(wait=False)
    states: list[tuple[int, bool | None]] = []
    try:
        def observe() -> bool:
            status, body = worker.get("/readyz")
            if status in (200, 503):  # before that, no answer or Faust's own 404
                caught_up = orjson.loads(body)["replica_caught_up"]
                if not states or states[-1] != (status, caught_up):
                    states.append((status, caught_up))
            return status == 200

        wait_for(observe, "/readyz to turn 200", timeout_s=120)
        # Generous: a contended host (the whole suite beside other jobs on two cores) once
        # took over the default minute between ready and the next housekeeping round.
        wait_for(lambda: worker.metric("ingest_index_entries") == HISTORY,
                 "the index gauge to show the whole history", timeout_s=120)
        assert worker.metric("ingest_ready") == 1
    finally:
        worker.stop()
    # Not ready while catching up, then ready: never the other way round.
    assert states[0] == (503, False), states
    assert states[-1] == (200, True), states
    assert (200, False) not in states, states
