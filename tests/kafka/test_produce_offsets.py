"""The offsets a produce response gives are where the records are (on the real broker).

A worker learns where its kept articles' fingerprint-log records landed from the producer's
acknowledgements (``RecordMetadata``), and another worker skips a re-decision when its
replica had read past them (streams.core.dedup.race_window). An offset that read low would
skip a race that must be settled: records batched by the producer must get their own
offsets, as they do on Kafka.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.kafka.broker import EmbeddedBroker
from streams.kafka.connection import KafkaConnection
from tests.conftest import broker_settings


def test_batched_records_are_acknowledged_at_the_offsets_they_are_read_from(
    broker: EmbeddedBroker,
) -> None:
    settings = broker_settings(broker)
    options = KafkaConnection.from_settings(settings).aiokafka_options()
    topic = settings.topic_fingerprints

    async def main() -> tuple[dict[bytes, tuple[int, int]], dict[bytes, tuple[int, int]]]:
        producer = AIOKafkaProducer(linger_ms=50, **options)  # several records a batch
        await producer.start()
        try:
            futures = {f"a{i}".encode(): await producer.send(topic, b"v", key=f"a{i}".encode())
                       for i in range(120)}
            acked = {key: (meta.partition, meta.offset)
                     for key, meta in zip(futures, await asyncio.gather(*futures.values()),
                                          strict=True)}
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, group_id=None, auto_offset_reset="earliest",
                                    **options)
        await consumer.start()
        read: dict[bytes, tuple[int, int]] = {}
        try:
            while len(read) < len(acked):
                for tp, messages in (await consumer.getmany(timeout_ms=1000)).items():
                    read.update({m.key: (tp.partition, m.offset) for m in messages if m.key})
        finally:
            await consumer.stop()
        return acked, read

    acked, read = asyncio.run(asyncio.wait_for(main(), 60))
    assert len({p for p, _ in acked.values()}) > 1
    assert max(sum(1 for p, _ in acked.values() if p == q) for q in range(4)) > 1
    assert acked == read
