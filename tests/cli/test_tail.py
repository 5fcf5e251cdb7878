"""``ingest tail`` as a user runs it, against the embedded Tansu broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from streams.kafka.broker import EmbeddedBroker
from streams.kafka.clients import make_producer
from tests.conftest import broker_settings

pytestmark = pytest.mark.broker

# How long a tail started as a process takes to be positioned, with room to spare: it waits
# for the broker, reads metadata and the newest batch of each partition (~1 s measured).
TAIL_START_S = 5.0


def start_tail(broker: EmbeddedBroker, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli.main", "tail", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap},
    )


def test_tail_prints_only_records_produced_after_it_started(broker: EmbeddedBroker) -> None:
    settings = broker_settings(broker, partitions=2)
    producer = make_producer(settings, linger_ms=200)  # old records in one batch a partition
    for i in range(6):
        producer.send(settings.topic_enriched, b'{"old": %d}' % i, partition=i % 2)
    producer.flush()
    tail = start_tail(broker, "enriched", "-n", "3", "--idle-timeout", "30")
    try:
        time.sleep(TAIL_START_S)
        for i in range(3):
            producer.send(settings.topic_enriched, b'{"new": %d}' % i, partition=0)
        producer.flush()
        out, err = tail.communicate(timeout=60)
    finally:
        producer.close()
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    # Before, Tansu's early "latest" left tail inside the newest batch: old 2 and old 4
    # (partition 0) and old 3 and old 5 (partition 1) came first.
    assert (tail.returncode, out, err) == (0, b'{"new": 0}\n{"new": 1}\n{"new": 2}\n', b"")


def test_tail_whose_reader_went_away_stops_quietly_with_141(broker: EmbeddedBroker) -> None:
    settings = broker_settings(broker, partitions=1)
    producer = make_producer(settings)
    producer.send(settings.topic_enriched, b'{"n": 0}')
    producer.flush()
    tail = start_tail(broker, "enriched", "--from-beginning")
    try:
        assert tail.stdout is not None
        assert tail.stdout.readline() == b'{"n": 0}\n'
        tail.stdout.close()  # what `head -1` does after its line
        producer.send(settings.topic_enriched, b'{"n": 1}')  # the write that finds no reader
        producer.flush()
        assert tail.wait(timeout=30) == 141
        assert tail.stderr is not None
        # Before: a BrokenPipeError traceback and exit 1.
        assert tail.stderr.read() == b""
    finally:
        producer.close()
        if tail.poll() is None:
            tail.kill()
            tail.wait()
