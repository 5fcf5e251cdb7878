from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from pathlib import Path

import pytest

from streams.core.clock import TestClock
from streams.core.errors import BrokerUnavailableError, ConfigError
from streams.kafka import broker as broker_mod
from streams.kafka.broker import (
    EmbeddedBroker,
    ensure_topics,
    new_raw_topic_note,
    unwritten_raw_topic_note,
    wait_for_broker,
)
from streams.kafka.clients import make_producer
from streams.settings import load
from tests.conftest import broker_settings
from tests.harness import wait_exited


class Probe:
    """Answers ``False`` until the ``up_at``-th call; records the servers it was asked about."""

    def __init__(self, up_at: int | None) -> None:
        self.up_at = up_at
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, servers: Sequence[str]) -> bool:
        self.calls.append(tuple(servers))
        return self.up_at is not None and len(self.calls) >= self.up_at


def test_waits_with_exponential_backoff_until_the_broker_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, probe = TestClock(), Probe(up_at=4)
    settings = load({"KAFKA_BOOTSTRAP_SERVERS": "k1:9092, k2:9092"})
    with caplog.at_level(logging.WARNING, "streams.kafka.broker"):
        wait_for_broker(settings, clock=clock, probe=probe)
    assert clock.slept == [0.5, 1.0, 2.0]
    assert probe.calls == [("k1:9092", "k2:9092")] * 4
    assert [r.getMessage() for r in caplog.records] == [
        f"broker k1:9092, k2:9092 unreachable (attempt {n}); retrying in {d} s"
        for n, d in ((1, "0.5"), (2, "1.0"), (3, "2.0"))
    ]


def test_backoff_is_capped_and_the_last_sleep_ends_at_the_deadline() -> None:
    clock = TestClock()
    settings = load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "INGEST_BROKER_WAIT_S": "30"})
    with pytest.raises(BrokerUnavailableError) as raised:
        wait_for_broker(settings, clock=clock, probe=Probe(up_at=None))
    assert clock.slept == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 6.5]
    assert clock.monotonic() == 30.0
    assert raised.value.detail == (
        "no Kafka broker reachable at k:9092 after 30 s (8 attempts); check "
        "KAFKA_BOOTSTRAP_SERVERS and that the broker is up"
    )


def test_a_reachable_broker_costs_no_sleep() -> None:
    clock = TestClock()
    wait_for_broker(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"}), clock=clock, probe=Probe(1))
    assert clock.slept == []


@pytest.mark.parametrize("listening", [True, False])
def test_embedded_broker_on_a_taken_port_is_refused_before_tansu_starts(
    listening: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(broker_mod, "tansu_binary", _never_started)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        if listening:
            taken.listen()  # before, it answered for Tansu, which exited: "listening"
        port = taken.getsockname()[1]
        broker = EmbeddedBroker(port)
        with pytest.raises(ConfigError) as raised:
            broker.start(timeout_s=60)
    assert raised.value.detail == f"port {port} on 127.0.0.1 is in use"
    assert not broker.running


def _never_started() -> Path:
    raise AssertionError("Tansu started on a taken port")


def test_embedded_broker_that_exits_before_listening_says_so_with_its_last_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = tmp_path / "tansu"
    fake.write_text("#!/bin/sh\necho 'tansu broker 0.6.0'\n"
                    "printf '\\033[31mERROR\\033[0m cannot start\\n\\n'\n"
                    "echo 'thread panicked' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(broker_mod, "tansu_binary", lambda: fake)
    broker = EmbeddedBroker()
    with pytest.raises(BrokerUnavailableError) as raised:
        broker.start(timeout_s=60)
    assert raised.value.detail == (
        f"the embedded Tansu broker exited with code 3 before listening on {broker.bootstrap}; "
        "its last output:\n  tansu broker 0.6.0\n  ERROR cannot start\n  thread panicked")
    assert not broker.running


@pytest.mark.broker
def test_embedded_broker_stop_ends_tansu() -> None:
    broker = EmbeddedBroker().start()
    pid = broker.pid
    assert pid is not None and not wait_exited(pid, 0)
    broker.stop()
    assert wait_exited(pid, 0)
    assert broker.pid is None


@pytest.mark.broker
def test_topic_limits_are_read_back_from_tansu_without_connection_errors(
    broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture,
) -> None:
    """Tansu closes the connection on a DescribeConfigs that names keys; the read-back asks
    for every config, so a start with existing topics logs no kafka-python errors and
    really reads the limits the topics were created with."""
    settings = broker_settings(broker)  # creates the topics at 1 MiB
    with caplog.at_level(logging.INFO):
        ensure_topics(settings)  # they exist now: their limits are read back
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "could not read topic limits" not in caplog.text
    larger = load({"INGEST_MAX_MESSAGE_BYTES": str(2 * 1024 * 1024)},
                  kafka_bootstrap_servers=broker.bootstrap, partitions=4)
    with pytest.raises(ConfigError, match=r"articles\.deadletter \(max\.message\.bytes=1048576\)"):
        ensure_topics(larger)


def test_a_raw_topic_that_never_held_a_message_beside_written_outputs_is_named_again(
    broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture,
) -> None:
    """Until 2026-12-06 only the start that created the misspelt raw topic said so; a restart
    with the same typo was silent (the topic existed by then)."""
    settings = broker_settings(broker)
    producer = make_producer(settings)
    producer.send(settings.topic_raw, b'{"body": "x"}').get(timeout=30)
    producer.send(settings.topic_enriched, b"{}").get(timeout=30)
    producer.close(timeout=10)
    typo = load({"INGEST_TOPIC_RAW": "artcles.raw"}, kafka_bootstrap_servers=broker.bootstrap,
                partitions=4)
    warnings = []
    for _ in range(2):  # the start that creates it, then a restart
        caplog.clear()
        with caplog.at_level(logging.WARNING, "streams.kafka.broker"):
            ensure_topics(typo, worker=True)
        warnings.append([r.getMessage() for r in caplog.records])
    assert warnings == [
        ["raw topic artcles.raw did not exist and was created, on a broker that holds this "
         "ingester's output topics (other topics there: articles.raw): check "
         "INGEST_TOPIC_RAW; the workers read only this topic"],
        ["raw topic artcles.raw has never held a message, while this ingester's output "
         "topics hold records (other topics there: articles.raw): check INGEST_TOPIC_RAW; "
         "the workers read only this topic"]]
    caplog.clear()
    with caplog.at_level(logging.WARNING, "streams.kafka.broker"):
        ensure_topics(settings, worker=True)  # the real raw topic: it has held a message
    assert caplog.records == []


def test_an_unwritten_raw_topic_is_named_only_beside_written_outputs() -> None:
    settings = load({})
    existing = {"articles.raw", "articles.enriched", "ingest.fingerprints"}
    assert unwritten_raw_topic_note(settings, existing, set()) is None  # a new deployment
    assert unwritten_raw_topic_note(settings, existing, None) is None  # the broker did not say
    assert unwritten_raw_topic_note(settings, existing, {"articles.raw",
                                                         "articles.enriched"}) is None
    assert unwritten_raw_topic_note(settings, existing, {"ingest.fingerprints"}) == (
        "raw topic articles.raw has never held a message, while this ingester's output topics "
        "hold records: check INGEST_TOPIC_RAW; the workers read only this topic")


def test_a_raw_topic_created_beside_existing_output_topics_is_named_as_a_likely_typo() -> None:
    """Until 2026-12-06 a worker with INGEST_TOPIC_RAW=artcles.raw created that topic, read
    it and answered /readyz, silently (an operator trial)."""
    settings = load({"INGEST_TOPIC_RAW": "artcles.raw"})
    outputs = {"articles.enriched", "articles.duplicates", "articles.deadletter",
               "articles.stories", "ingest.fingerprints"}
    faust = {"__consumer_offsets", "article-ingester-__assignor-__leader"}
    assert new_raw_topic_note(settings, outputs | {"articles.raw", *faust}) == (
        "raw topic artcles.raw did not exist and was created, on a broker that holds this "
        "ingester's output topics (other topics there: articles.raw): check "
        "INGEST_TOPIC_RAW; the workers read only this topic")
    assert new_raw_topic_note(settings, set()) is None  # a new broker: every topic is new
    assert new_raw_topic_note(settings, outputs | {"artcles.raw"}) is None  # it was there
