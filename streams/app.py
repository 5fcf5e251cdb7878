"""Creates the Faust app from settings, and nothing else."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import faust
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams.logs import faust_logging_config
from streams.settings import Settings

# Producer batching: linger a little and allow 1 MB batches; measured in bench/ (issue 7).
PRODUCER_LINGER_MS = 5
PRODUCER_MAX_BATCH_BYTES = 1024 * 1024


def broker_credentials(settings: Settings) -> Any:
    """Faust credentials for SASL/TLS, or None for PLAINTEXT."""
    protocol = settings.kafka_security_protocol.upper()
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.reveal(),
            mechanism=settings.kafka_sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


# Faust hard-codes fetch_max_wait_ms=1500 for the worker's consumer and Tansu holds every
# fetch that long, so a record waited ~575 ms (p50) before the agent saw it (bench/).
FETCH_MAX_WAIT_MS = 100


def _shorten_fetch_wait() -> None:
    """Make Faust's worker consumer wait at most ``FETCH_MAX_WAIT_MS`` for a fetch.

    aiokafka hands ``_fetch_max_wait_ms`` to its fetcher at ``start()``, so setting it on the
    freshly created consumer is enough. Applied once, to faust-streaming's aiokafka driver.
    """
    original = AIOKafkaConsumerThread._create_worker_consumer
    if not getattr(original, "_short_fetch_wait", False):
        AIOKafkaConsumerThread._create_worker_consumer = (  # type: ignore[method-assign]
            with_short_fetch_wait(original)
        )


def with_short_fetch_wait(create: Callable[..., Any]) -> Callable[..., Any]:
    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer

    create_worker_consumer._short_fetch_wait = True  # type: ignore[attr-defined]
    return create_worker_consumer


def create_app(settings: Settings) -> faust.App:
    servers = settings.kafka_bootstrap_servers.split(",")
    _shorten_fetch_wait()
    return faust.App(
        settings.app_id,
        broker=[f"kafka://{server.strip()}" for server in servers],
        broker_credentials=broker_credentials(settings),
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        # Tansu answers ListOffsets/metadata slowly under load; be patient before giving up.
        broker_request_timeout=40.0,
        # We keep no Faust tables (the fingerprint index is a replicated log, see README),
        # so no RocksDB store is needed.
        store="memory://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger_ms=PRODUCER_LINGER_MS,
        producer_max_batch_size=PRODUCER_MAX_BATCH_BYTES,
        producer_max_request_size=max(PRODUCER_MAX_BATCH_BYTES, settings.max_body_bytes * 2),
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        # Table views would expose state over HTTP: off.
        web_tables_enabled=False,
        web_in_thread=False,
        autodiscover=False,
        logging_config=faust_logging_config(settings),
    )


def aiokafka_security(settings: Settings) -> dict[str, Any]:
    """Security options for plain aiokafka clients (the index replica)."""
    protocol = settings.kafka_security_protocol.upper()
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl.create_default_context(
            cafile=settings.kafka_ssl_cafile or None
        )
    if protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism or "PLAIN",
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password.reveal(),
        )
    return options
