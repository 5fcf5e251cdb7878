"""kafka-python clients for the CLI side (producer, group-less readers, admin).

Readers use manual ``assign()``: kafka-python consumer groups never finish joining on Tansu
0.6.0, and a reader of output topics needs no group anyway.

Every client gets the same start-up budget as the TCP wait, ``INGEST_BROKER_WAIT_S``, for
its Kafka handshake, and a failed handshake is one :class:`BrokerUnavailableError` line.
Measured before: kafka-python's own 30 s bootstrap timeout, five lines of its logs and a
traceback with exit 1, whether nothing listened or a non-Kafka server did.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from streams.core.errors import BrokerUnavailableError
from streams.kafka.connection import KafkaConnection
from streams.kafka.lag import true_end
from streams.settings import Settings


def kafka_python_config(settings: Settings) -> dict[str, Any]:
    """Connection options plus the start-up budget, for every kafka-python client."""
    return {
        **KafkaConnection.from_settings(settings).kafka_python_options(),
        "bootstrap_timeout_ms": int(settings.broker_wait_s * 1000),
    }


@contextlib.contextmanager
def kafka_errors_as_unavailable(settings: Settings) -> Iterator[None]:
    """Turn a failed Kafka handshake into one clear :class:`BrokerUnavailableError`.

    kafka-python logs every failed bootstrap attempt at WARNING and ERROR; the error below
    says the same once, so its logs are held back here unless the log level is DEBUG.
    """
    try:
        with kafka_logs_held_back():
            yield
    except KafkaError as exc:
        raise BrokerUnavailableError(
            f"no Kafka broker answered at {settings.kafka_bootstrap_servers} within "
            f"{settings.broker_wait_s:g} s ({type(exc).__name__}: {_reason(exc)}); check "
            "KAFKA_BOOTSTRAP_SERVERS, the security settings and that the broker is up"
        ) from exc


@contextlib.contextmanager
def kafka_logs_held_back() -> Iterator[None]:
    """kafka-python's logs below CRITICAL are dropped meanwhile, unless the log level is DEBUG."""
    kafka_log = logging.getLogger("kafka")
    previous = kafka_log.level
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        kafka_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        kafka_log.setLevel(previous)


def close_quietly(consumer: KafkaConsumer) -> None:
    """Close a reader without kafka-python's ERROR about the request the close cancels.

    Closing while a metadata refresh is in flight (one is every 5 min, and on demand) logs
    ``kafka.cluster: Metadata refresh: failed Cancelled``: `ingest tail` printed it at a
    normal exit.
    """
    with kafka_logs_held_back():
        consumer.close()


def _reason(exc: KafkaError) -> str:
    # kafka-python renders errors as "ClassName: detail", or the bare class name.
    name = type(exc).__name__
    text = str(exc).removeprefix(f"{name}: ")
    return "no detail" if text in ("", name) else text


def make_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    options: dict[str, Any] = {
        "client_id": f"{settings.app_id}-cli",
        "acks": "all",
        "linger_ms": 5,
        # The topics' limit: a larger message would be refused by the broker anyway.
        "max_request_size": settings.max_message_bytes,
        **kafka_python_config(settings),
    }
    options.update(overrides)
    with kafka_errors_as_unavailable(settings):
        return KafkaProducer(**options)


def make_reader(settings: Settings, topics: list[str], *, from_beginning: bool) -> KafkaConsumer:
    """A consumer assigned to every partition of ``topics``, positioned at start or end."""
    with kafka_errors_as_unavailable(settings):
        consumer = KafkaConsumer(
            client_id=f"{settings.app_id}-reader",
            group_id=None,
            enable_auto_commit=False,
            **kafka_python_config(settings),
        )
    partitions: list[TopicPartition] = []
    try:
        with kafka_errors_as_unavailable(settings):
            for topic in topics:
                ids = consumer.partitions_for_topic(topic) or set()
                partitions.extend(TopicPartition(topic, p) for p in sorted(ids))
    except BaseException:
        close_quietly(consumer)
        raise
    consumer.assign(partitions)
    if from_beginning:
        if partitions:  # none when no topic exists: kafka-python refuses to seek nothing
            consumer.seek_to_beginning(*partitions)
        return consumer
    try:
        with kafka_errors_as_unavailable(settings):
            ends = true_end_offsets(consumer, partitions)
    except BaseException:
        close_quietly(consumer)
        raise
    for tp, end in ends.items():
        consumer.seek(tp, end)
    return consumer


def true_end_offsets(
    consumer: KafkaConsumer, partitions: Iterable[TopicPartition], timeout_s: float = 10.0
) -> dict[TopicPartition, int]:
    """End offsets that are exact on Tansu too; ``consumer`` is left assigned to ``partitions``.

    Tansu 0.6.0 answers ListOffsets("latest") with the first offset of the newest record
    batch + 1, so ``seek_to_end`` left a reader inside that batch: ``ingest tail`` printed
    records written long before it started. As ``streams.kafka.lag`` does, the batch at
    "latest" - 1 is read and its last offset + 1 taken: on Kafka that is "latest" itself.
    A partition whose batch does not arrive within ``timeout_s`` keeps the broker's answer.
    """
    tps = list(partitions)
    reported: dict[TopicPartition, int] = consumer.end_offsets(tps)
    ends = dict(reported)
    consumer.assign(tps)
    pending = {tp for tp in tps if reported[tp] > 0}
    for tp in tps:
        consumer.seek(tp, max(reported[tp] - 1, 0))
    consumer.pause(*(tp for tp in tps if tp not in pending))
    deadline = time.monotonic() + timeout_s
    try:
        while pending and time.monotonic() < deadline:
            # max_records unbounded in practice: the whole batch at "latest" - 1 in one poll.
            for tp, records in consumer.poll(timeout_ms=200, max_records=1_000_000).items():
                if tp in pending:
                    ends[tp] = true_end(reported[tp], (r.offset for r in records))
                    pending.discard(tp)
                    consumer.pause(tp)
    finally:
        consumer.resume(*tps)
    return ends


def poll_records(consumer: KafkaConsumer, timeout_ms: int = 200) -> Iterator[Any]:
    for records in consumer.poll(timeout_ms=timeout_ms).values():
        yield from records
