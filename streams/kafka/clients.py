"""kafka-python clients for the CLI side (producer, group-less readers).

Readers use manual ``assign()``: kafka-python consumer groups never finish joining on Tansu
0.6.0, and a reader of output topics needs no group anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.kafka.connection import KafkaConnection
from streams.settings import Settings


def make_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    options: dict[str, Any] = {
        "client_id": f"{settings.app_id}-cli",
        "acks": "all",
        "linger_ms": 5,
        # The topics' limit: a larger message would be refused by the broker anyway.
        "max_request_size": settings.max_message_bytes,
        **KafkaConnection.from_settings(settings).kafka_python_options(),
    }
    options.update(overrides)
    return KafkaProducer(**options)


def make_reader(settings: Settings, topics: list[str], *, from_beginning: bool) -> KafkaConsumer:
    """A consumer assigned to every partition of ``topics``, positioned at start or end."""
    consumer = KafkaConsumer(
        client_id=f"{settings.app_id}-reader",
        group_id=None,
        enable_auto_commit=False,
        **KafkaConnection.from_settings(settings).kafka_python_options(),
    )
    partitions: list[TopicPartition] = []
    for topic in topics:
        ids = consumer.partitions_for_topic(topic) or set()
        partitions.extend(TopicPartition(topic, p) for p in sorted(ids))
    consumer.assign(partitions)
    if from_beginning:
        consumer.seek_to_beginning(*partitions)
    else:
        consumer.seek_to_end(*partitions)
    return consumer


def poll_records(consumer: KafkaConsumer, timeout_ms: int = 200) -> Iterator[Any]:
    for records in consumer.poll(timeout_ms=timeout_ms).values():
        yield from records
