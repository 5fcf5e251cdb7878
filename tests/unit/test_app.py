from __future__ import annotations

import faust

from streams.app import aiokafka_security, broker_credentials, create_app
from streams.settings import load

SASL = {"KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "ingester",
        "KAFKA_SASL_PASSWORD": "pw"}


def test_plaintext_has_no_credentials() -> None:
    assert broker_credentials(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"})) is None


def test_sasl_ssl_reaches_faust_and_the_plain_clients() -> None:
    settings = load(SASL)
    credentials = broker_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("ingester", "pw")
    assert str(credentials.mechanism.value) == "SCRAM-SHA-512"
    assert credentials.ssl_context is not None
    options = aiokafka_security(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_plain_password"] == "pw"
    assert settings.kafka_python_security()["sasl_mechanism"] == "SCRAM-SHA-512"


def test_app_settings_for_kafka_and_tansu() -> None:
    kafka = create_app(load(SASL)).conf
    assert kafka.web_tables_enabled is False
    assert (kafka.broker_session_timeout, kafka.broker_rebalance_timeout) == (10.0, 60.0)
    assert [str(u) for u in kafka.broker] == ["kafka://k1:9093", "kafka://k2:9093"]
    tansu = create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                             "INGEST_BROKER_PROFILE": "tansu"})).conf
    assert (tansu.broker_session_timeout, tansu.broker_heartbeat_interval,
            tansu.broker_rebalance_timeout) == (2.0, 0.5, 4.0)


def test_worker_consumer_fetch_wait_is_short() -> None:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    from streams.app import FETCH_MAX_WAIT_MS, with_short_fetch_wait

    class StubConsumer:
        _fetch_max_wait_ms = 1500  # what Faust hard-codes

    wrapped = with_short_fetch_wait(lambda thread, transport: StubConsumer())
    assert wrapped(None, None)._fetch_max_wait_ms == FETCH_MAX_WAIT_MS == 100
    create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"}))
    patched = AIOKafkaConsumerThread._create_worker_consumer
    create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"}))
    assert AIOKafkaConsumerThread._create_worker_consumer is patched  # wrapped once only
    assert getattr(patched, "_short_fetch_wait", False)


def test_worker_help_needs_no_broker() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "worker", "--help"],
        env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--web-port" in result.stdout
    assert "unreachable" not in result.stderr
