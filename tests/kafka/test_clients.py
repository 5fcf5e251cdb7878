from __future__ import annotations

import logging
import time

import pytest
from kafka import TopicPartition
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from streams.core.errors import BrokerUnavailableError
from streams.kafka.broker import EmbeddedBroker
from streams.kafka.clients import (
    close_quietly,
    kafka_errors_as_unavailable,
    kafka_python_config,
    make_producer,
    make_reader,
    poll_records,
    true_end_offsets,
)
from streams.settings import load
from tests.conftest import broker_settings

SETTINGS = load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "INGEST_BROKER_WAIT_S": "1.5"})


def test_every_kafka_python_client_gets_the_broker_wait_as_its_bootstrap_budget() -> None:
    config = kafka_python_config(SETTINGS)
    assert config["bootstrap_timeout_ms"] == 1500
    assert config["bootstrap_servers"] == ["k:9092"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (KafkaTimeoutError("Unable to bootstrap from ['k:9092']"),
         "KafkaTimeoutError: Unable to bootstrap from ['k:9092']"),
        # kafka-python 2.x raised NoBrokersAvailable here; 3.x has none: any KafkaError maps.
        (KafkaConnectionError(), "KafkaConnectionError: no detail"),
    ],
)
def test_a_failed_handshake_is_one_broker_unavailable_error(
    error: Exception, reason: str
) -> None:
    with pytest.raises(BrokerUnavailableError) as raised, kafka_errors_as_unavailable(SETTINGS):
        raise error
    assert raised.value.detail == (
        f"no Kafka broker answered at k:9092 within 1.5 s ({reason}); check "
        "KAFKA_BOOTSTRAP_SERVERS, the security settings and that the broker is up"
    )


def test_kafka_python_logs_are_held_back_during_the_handshake_then_restored() -> None:
    kafka_log = logging.getLogger("kafka")
    kafka_log.setLevel(logging.WARNING)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    try:
        with kafka_errors_as_unavailable(SETTINGS):
            assert not kafka_log.isEnabledFor(logging.ERROR)
        assert kafka_log.level == logging.WARNING
        root.setLevel(logging.DEBUG)  # debugging a connection: show everything
        with kafka_errors_as_unavailable(SETTINGS):
            assert kafka_log.isEnabledFor(logging.WARNING)
    finally:
        root.setLevel(level)
        kafka_log.setLevel(logging.NOTSET)


def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError, match="not Kafka"), kafka_errors_as_unavailable(SETTINGS):
        raise ValueError("not Kafka")


@pytest.mark.broker
def test_a_reader_from_the_end_skips_the_whole_newest_batch_on_tansu(
    broker: EmbeddedBroker,
) -> None:
    settings = broker_settings(broker, partitions=1)
    tp = TopicPartition(settings.topic_enriched, 0)
    producer = make_producer(settings, linger_ms=200)  # the 5 old records: one batch
    for i in range(5):
        producer.send(tp.topic, b"old-%d" % i, partition=0)
    producer.flush()
    probe = make_reader(settings, [tp.topic], from_beginning=True)
    try:
        # The quirk itself: "latest" is the batch's first offset + 1, not 5.
        assert probe.end_offsets([tp])[tp] == 1
    finally:
        probe.close()
    reader = make_reader(settings, [tp.topic], from_beginning=False)
    try:
        assert reader.position(tp) == 5
        for i in range(3):
            producer.send(tp.topic, b"new-%d" % i, partition=0)
        producer.flush()
        got: list[bytes] = []
        deadline = time.monotonic() + 20
        while len(got) < 3 and time.monotonic() < deadline:
            got.extend(record.value for record in poll_records(reader))
        assert got == [b"new-0", b"new-1", b"new-2"]
    finally:
        reader.close()
        producer.close()


@pytest.mark.broker
def test_true_end_offsets_of_empty_and_filled_partitions(broker: EmbeddedBroker) -> None:
    settings = broker_settings(broker, partitions=2)
    filled, empty = (TopicPartition(settings.topic_enriched, p) for p in (0, 1))
    producer = make_producer(settings, linger_ms=200)
    for i in range(4):
        producer.send(filled.topic, b"%d" % i, partition=0)
    producer.flush()
    producer.close()
    reader = make_reader(settings, [filled.topic], from_beginning=True)
    try:
        assert true_end_offsets(reader, [filled, empty]) == {filled: 4, empty: 0}
        assert reader.assignment() == {filled, empty}
        assert reader.paused() == set()
    finally:
        reader.close()


@pytest.mark.broker
def test_a_reader_closed_mid_metadata_refresh_logs_no_error(
    broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture,
) -> None:
    settings = broker_settings(broker, partitions=1)
    caplog.set_level(logging.WARNING)
    for close in (lambda reader: reader.close(), close_quietly):
        reader = make_reader(settings, [settings.topic_enriched], from_beginning=False)
        reader.poll(timeout_ms=100)
        reader._client.cluster.request_update()  # as every 5 min (metadata_max_age_ms)
        close(reader)
    # kafka-python's own close logs the cancelled refresh; ingest tail printed it on exit.
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("kafka.cluster", "ERROR", "Metadata refresh: failed Cancelled")]
    assert logging.getLogger("kafka").level == logging.NOTSET
