"""Creates the Faust app from settings, and nothing else."""

from __future__ import annotations

import faust

from streams.kafka.connection import KafkaConnection
from streams.kafka.faust_compat import (
    commit_before_revocation,
    rewind_uncommitted_partitions,
    shorten_fetch_wait,
    time_checks_from_assignment,
    time_commit_check_from_pending_work,
)
from streams.settings import Settings
from streams.shell.logs import faust_logging_config

# Producer batching: linger a little and allow 1 MB batches; measured in bench/ (issue 7).
PRODUCER_LINGER_MS = 5
PRODUCER_MAX_BATCH_BYTES = 1024 * 1024
# Raw messages Faust may hold ahead of the agent, in batches: beyond the two batches the
# agent works on (shell/batches.py), more buffered messages only cost memory. Faust's
# default, 4096 messages, held every page of a backlog: 783 MB of RSS with 1,500 pages of
# 441 KB waiting, 1,450 MB with 3,000; 582 and 601 MB now (README, Settings, batch size).
BUFFERED_BATCHES = 2


# How long a client waits for a broker's answer (Faust's default: 90 s).
REQUEST_TIMEOUT_S = 40.0


def request_timeout_s(settings: Settings) -> float:
    """The request timeout: :data:`REQUEST_TIMEOUT_S`, or the session timeout when that is
    longer (Faust requires session <= request)."""
    return max(REQUEST_TIMEOUT_S, settings.session_timeout_s)


def create_app(
    settings: Settings,
    connection: KafkaConnection | None = None,
    *,
    worker: type[faust.Worker] | None = None,
) -> faust.App:
    """The app; ``worker`` replaces Faust's worker class (None: Faust's own)."""
    connection = connection or KafkaConnection.from_settings(settings)
    shorten_fetch_wait()
    commit_before_revocation()
    rewind_uncommitted_partitions()
    time_checks_from_assignment()
    time_commit_check_from_pending_work()
    return faust.App(
        settings.app_id,
        # Faust would otherwise read its own variables (APP_WEB_ROUTER_ENABLED, WEB_HOST, ...)
        # and let them override the arguments below: Settings is the only reader.
        env={},
        broker=connection.faust_broker(),
        broker_credentials=connection.faust_credentials(),
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        # Tansu answers ListOffsets/metadata slowly under load; be patient before giving up.
        # Faust refuses a session timeout above the request timeout: a longer session (a
        # cluster's choice) lengthens the request timeout with it.
        broker_request_timeout=request_timeout_s(settings),
        # We keep no Faust tables (the fingerprint index is a replicated log, see README),
        # so no RocksDB store is needed.
        store="memory://",
        # Nor standbys of them. Faust's assignor keeps each worker's partitions up to
        # ceil(partitions / workers) when it must place standbys (default 1) and down to the
        # floor only without: a third worker joining two on 4 partitions got none (on Tansu,
        # 2026-12-06: not ready 60 s later, in 3 of 3 tries).
        table_standby_replicas=0,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger_ms=PRODUCER_LINGER_MS,
        # A batch is one message to the broker's max.message.bytes check, like a record.
        producer_max_batch_size=min(PRODUCER_MAX_BATCH_BYTES, settings.max_message_bytes),
        # Every output is cut to fit the topics' limit (core.record_budget): a larger request
        # is a bug, better refused here than by the broker after the offset moved on.
        producer_max_request_size=settings.max_message_bytes,
        # One message up to the limit must fit a fetch (the consumer would stall on it).
        consumer_max_fetch_size=max(1024 * 1024, settings.max_message_bytes),
        stream_buffer_maxsize=BUFFERED_BATCHES * settings.batch_size,
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        # Table views would expose state over HTTP: off.
        web_tables_enabled=False,
        # Faust's /router view is off; its / (``{"status": "OK"}``) stays (README, Security).
        web_router_enabled=False,
        web_in_thread=False,
        autodiscover=False,
        logging_config=faust_logging_config(settings),
        Worker=worker,
    )
