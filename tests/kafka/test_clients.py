from __future__ import annotations

import logging

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from streams.core.errors import BrokerUnavailableError
from streams.kafka.clients import kafka_errors_as_unavailable, kafka_python_config
from streams.settings import load

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
