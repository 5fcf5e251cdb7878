"""The bad-input corpus through a real Tansu broker and one worker process.

The topics are created with ``max.message.bytes`` = ``INGEST_MAX_MESSAGE_BYTES`` (1 MiB), and
the CLI producer refuses larger messages; Tansu 0.6.0 does not enforce the topic limit, so
this test's producer raises its own limit to send the multi-megabyte cases too: they stand
for a raw topic created elsewhere with a larger limit. Every output must still fit 1 MiB.
Cases that need a non-default ``max_body_bytes`` are left out (one worker runs with one
limit)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from streams.core.record_budget import DEFAULT_MAX_RECORD_BYTES, encoded_size
from streams.kafka.broker import EmbeddedBroker
from streams.kafka.clients import make_producer
from streams.settings import Settings
from tests.conftest import broker_settings
from tests.harness import SAMPLES, Collected, Worker, collect, envelope, schema_errors
from tests.robustness.corpus import CASES, Case

pytestmark = pytest.mark.broker

BROKER_CASES = [case for case in CASES if case.max_body_bytes is None]


def produce_keyed(
    settings: Settings, messages: list[tuple[bytes | None, bytes | None]]
) -> list[tuple[int, int]]:
    """Produce (key, value) pairs in order on partition 0; (partition, offset) of each."""
    producer = make_producer(settings, max_request_size=16 * 1024 * 1024)
    placed = []
    for key, value in messages:
        meta = producer.send(settings.topic_raw, key=key, value=value, partition=0).get(
            timeout=30
        )
        placed.append((meta.partition, meta.offset))
    producer.close(timeout=10)
    return placed


def _mismatch(case: Case, topic: str, record: dict[str, object]) -> str | None:
    for expected in case.accepted():
        if topic == expected.topic and not expected.failures(record):
            return None
    return (f"{case.name}: got {topic} {record.get('error') or ''} {record.get('detail') or ''}; "
            f"expected {case.expected}")


def test_whole_corpus_lands_in_the_expected_topics_and_the_worker_survives(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = broker_settings(broker, partitions=1)
    # The corpus is mostly bad input: keep the dead-letter guard out of the way (its own
    # test is below).
    worker = Worker(settings, tmp_path / "w1", extra_env={"INGEST_DEADLETTER_WINDOW": "100000"})
    worker.start()
    try:
        placed = produce_keyed(settings, [(case.key, case.value) for case in BROKER_CASES])
        got = collect(settings, lambda c: set(placed) <= c.verdicts().keys(), timeout_s=90)
        assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
        after = produce_keyed(settings, [(None, envelope(SAMPLES[0]))])
        later = collect(settings, lambda c: set(after) <= c.verdicts().keys(), timeout_s=30)
        assert worker.process.poll() is None, worker.log_tail()
    finally:
        worker.stop()

    verdicts = got.verdicts()
    mismatches = [
        problem
        for case, origin in zip(BROKER_CASES, placed, strict=True)
        if (problem := _mismatch(case, *verdicts[origin])) is not None
    ]
    assert mismatches == []
    _assert_one_valid_record_per_message(got, placed)
    assert later.verdicts()[after[0]][0] == "articles.enriched"


def _assert_one_valid_record_per_message(got: Collected, placed: list[tuple[int, int]]) -> None:
    origins = []
    for topic, record in got.records:
        assert schema_errors(topic, record) == [], (topic, record.get("id"))
        assert encoded_size(record["id"], record) <= DEFAULT_MAX_RECORD_BYTES, record["id"]
        origins.append((record["origin"]["partition"], record["origin"]["offset"]))
    assert sorted(origins) == sorted(placed)


@dataclass(frozen=True)
class GuardRun:
    """How a worker with a 20-message dead-letter window ended after 30 bad messages."""

    exit_code: int | None
    seconds: float
    log: str

    def ratio_lines(self) -> list[str]:
        return [line for line in self.log.splitlines() if RATIO_MESSAGE in line]


RATIO_MESSAGE = "of the last 20 messages were dead-lettered"
GUARD_EXIT_BOUND_S = 45.0


@pytest.fixture(scope="module")
def guard_run(tmp_path_factory: pytest.TempPathFactory) -> GuardRun:
    tmp_path = tmp_path_factory.mktemp("guard")
    with EmbeddedBroker(log_path=tmp_path / "broker.log") as broker:
        settings = broker_settings(broker, partitions=1)
        worker = Worker(settings, tmp_path / "w1", extra_env={"INGEST_DEADLETTER_WINDOW": "20"})
        worker.start()
        try:
            started = time.monotonic()
            produce_keyed(settings, [(None, b"caf\xe9 %d \xc3\x28" % i) for i in range(30)])
            assert worker.process is not None
            while worker.process.poll() is None and time.monotonic() - started < GUARD_EXIT_BOUND_S:
                time.sleep(0.2)
            return GuardRun(worker.process.poll(), time.monotonic() - started,
                            worker.log_tail(1_000_000))
        finally:
            worker.kill()


def test_dead_letter_guard_stops_the_worker(guard_run: GuardRun) -> None:
    assert guard_run.exit_code is not None, (
        f"worker still running {GUARD_EXIT_BOUND_S:.0f} s after 30 bad messages:\n"
        + guard_run.log[-4000:]
    )
    assert guard_run.exit_code != 0
    ours = [line for line in guard_run.ratio_lines() if "[ERROR]" in line and "Crashed" not in line]
    assert len(ours) == 1, guard_run.ratio_lines()
    assert "20 of the last 20 messages were dead-lettered (limit 50%)" in ours[0]


def test_dead_letter_guard_exit_is_code_4_with_one_line_and_no_traceback(
    guard_run: GuardRun,
) -> None:
    assert guard_run.exit_code == 4
    assert len(guard_run.ratio_lines()) == 1, guard_run.ratio_lines()
    assert "Traceback" not in guard_run.log
