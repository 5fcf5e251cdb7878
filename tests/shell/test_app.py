from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
import pytest

from streams.core.errors import ConfigError
from streams.kafka.broker import check_topic_limits
from streams.settings import load
from streams.shell.app import create_app

SASL = {"KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "ingester",
        "KAFKA_SASL_PASSWORD": "pw"}


def test_app_settings_for_kafka_and_tansu() -> None:
    kafka = create_app(load(SASL)).conf
    assert kafka.web_tables_enabled is False
    assert kafka.web_router_enabled is False
    assert (kafka.broker_session_timeout, kafka.broker_rebalance_timeout) == (10.0, 60.0)
    assert [str(u) for u in kafka.broker] == ["kafka://k1:9093", "kafka://k2:9093"]
    tansu = create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                             "INGEST_BROKER_PROFILE": "tansu"})).conf
    assert (tansu.broker_session_timeout, tansu.broker_heartbeat_interval,
            tansu.broker_rebalance_timeout) == (2.0, 0.5, 4.0)


def test_a_session_timeout_above_the_request_timeout_lengthens_it() -> None:
    # Trial 2026-12-05: INGEST_BROKER_SESSION_TIMEOUT_S=60 crashed the worker's consumer
    # thread at start (Faust: "broker_session_timeout=60.0 cannot be greater than
    # broker_request_timeout=40.0").
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    for session, request in ((30, 40.0), (60, 60.0)):
        app = create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092",
                               "INGEST_BROKER_SESSION_TIMEOUT_S": str(session)}))
        assert (app.conf.broker_session_timeout, app.conf.broker_request_timeout) == (
            session, request)

        async def create(app: faust.App = app) -> Any:  # aiokafka wants a running loop
            thread = AIOKafkaConsumerThread(app.consumer)
            return thread._create_worker_consumer(app.transport)  # Faust's check passes

        assert asyncio.run(create())._session_timeout_ms == session * 1000


def test_faust_buffers_two_batches_of_raw_messages_not_4096() -> None:
    # Soak trial 2026-12-05: in a backlog of whole pages Faust's default buffer (4,096
    # messages) held every waiting page: worker RSS 105 MB idle, 600-760 MB with ~4,000
    # pages behind, and a backlog of 1 MB messages would have held ~4 GB.
    conf = create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"})).conf
    assert conf.stream_buffer_maxsize == 2 * 256
    small = create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "INGEST_BATCH_SIZE": "10"}))
    assert small.conf.stream_buffer_maxsize == 20


def test_fausts_own_environment_variables_cannot_override_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {"APP_WEB_ROUTER_ENABLED": "1", "APP_WEB_TABLES_ENABLED": "1",
                        "APP_WEB_STATS_ENABLED": "1", "WEB_HOST": "0.0.0.0",
                        "WEB_BIND": "0.0.0.0", "WEB_PORT": "1"}.items():
        monkeypatch.setenv(name, value)
    conf = create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"})).conf
    assert (conf.web_router_enabled, conf.web_tables_enabled, conf.web_stats_enabled) == (
        False, False, False)
    assert (conf.web_host, conf.web_bind, conf.web_port) == ("127.0.0.1", "127.0.0.1", 6066)


def test_worker_consumer_fetch_wait_is_short() -> None:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    from streams.kafka.faust_compat import FETCH_MAX_WAIT_MS, with_short_fetch_wait

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
        [sys.executable, "-m", "streams.cli.main", "worker", "--help"],
        env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--web-port" in result.stdout
    assert "unreachable" not in result.stderr


def test_producer_and_consumer_sizes_follow_the_topic_limit() -> None:
    conf = create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"})).conf
    assert (conf.producer_max_request_size, conf.producer_max_batch_size,
            conf.consumer_max_fetch_size) == (1_048_576, 1_048_576, 1_048_576)
    raised = create_app(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092",
                              "INGEST_MAX_MESSAGE_BYTES": "4194304"})).conf
    assert (raised.producer_max_request_size, raised.producer_max_batch_size,
            raised.consumer_max_fetch_size) == (4_194_304, 1_048_576, 4_194_304)


def test_topics_are_created_with_the_message_limit() -> None:
    from streams.kafka.broker import topic_specs

    settings = load({"INGEST_MAX_MESSAGE_BYTES": "2097152"})
    specs = topic_specs(settings)
    assert {name: spec["max.message.bytes"] for name, spec in specs.items()} == dict.fromkeys(
        (settings.topic_raw, *settings.output_topics, settings.topic_stories,
         settings.topic_fingerprints), "2097152"
    )
    assert specs[settings.topic_fingerprints]["cleanup.policy"] == "compact,delete"
    # Verdict order cannot be forged: only the raw topic's timestamps are the broker's.
    assert {name for name, spec in specs.items()
            if spec.get("message.timestamp.type") == "LogAppendTime"} == {settings.topic_raw}


def test_core_config_follows_the_settings() -> None:
    from streams.shell.config import core_config

    config = core_config(load({"INGEST_MAX_MESSAGE_BYTES": "2097152",
                               "INGEST_MAX_BODY_BYTES": "2000000",
                               "INGEST_BOILERPLATE_MAX_BYTES": "10485760"}))
    assert (config.max_body_bytes, config.max_record_bytes) == (2_000_000, 2_097_152 - 4096)
    assert config.text.max_text_chars == 2_000_000
    assert config.learned.max_bytes == 10_485_760


class _DescribingAdmin:
    """Answers DescribeConfigs as kafka-python shapes it: {type: {name: {key: {value}}}}."""

    def __init__(self, limits: dict[str, str]) -> None:
        self.limits = limits

    def describe_configs(self, resources: list[object], config_filter: str) -> object:
        # Every config, no key named: Tansu closes the connection on a request naming keys.
        assert [getattr(resource, "configs", "?") for resource in resources] == [None] * len(
            resources)
        assert config_filter == "all"
        return {"topic": {name: {"max.message.bytes": {"value": value}}
                          for name, value in self.limits.items()}}


def test_existing_output_topics_with_a_smaller_limit_refuse_the_start() -> None:
    settings = load({})
    admin = _DescribingAdmin({"articles.enriched": "500000", "articles.raw": "2000000"})
    with pytest.raises(ConfigError, match=r"articles.enriched \(max.message.bytes=500000\)"):
        check_topic_limits(admin, settings, {"articles.enriched", "articles.raw"})
    check_topic_limits(_DescribingAdmin({"articles.enriched": "1048576"}), settings,
                       {"articles.enriched"})
    check_topic_limits(_DescribingAdmin({}), settings, {"articles.enriched"})  # Tansu: none


def test_a_raw_topic_with_a_smaller_limit_is_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="streams.kafka.broker"):
        check_topic_limits(_DescribingAdmin({"articles.raw": "500000"}), load({}),
                           {"articles.raw"})
    assert "less than INGEST_MAX_BODY_BYTES (983040)" in caplog.text
