from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from streams.kafka.broker import EmbeddedBroker
from streams.kafka.connection import KafkaConnection
from streams.kafka.lag import EndOffsetProbe, true_end
from tests.conftest import broker_settings


def test_true_end_is_the_reported_end_on_kafka() -> None:
    # Kafka: "latest" is 13 and the batch read at 12 holds offset 12 only.
    assert true_end(13, [12]) == 13


def test_true_end_corrects_tansus_newest_batch_answer() -> None:
    # Tansu: "latest" is 11 (first offset of the newest batch + 1); that batch holds 10-12.
    assert true_end(11, [10, 11, 12]) == 13


def test_empty_partition() -> None:
    assert true_end(0, []) == 0


@pytest.mark.broker
def test_the_probe_reads_true_ends_and_then_stops_fetching(broker: EmbeddedBroker) -> None:
    """Between probes the probe's consumer is paused: assigned partitions are otherwise
    fetched in the background, an empty fetch every 50 ms on an idle topic (measured: an
    idle worker's broker at 51-66 CPU ms/s with it, 24-26 without)."""
    settings = broker_settings(broker, partitions=2)
    options = KafkaConnection.from_settings(settings).aiokafka_options()
    topic = settings.topic_raw

    async def main() -> tuple[dict[int, int], dict[int, int], set[TopicPartition]]:
        producer = AIOKafkaProducer(linger_ms=20, **options)  # batches of several records
        probe = EndOffsetProbe(settings, topic)
        await producer.start()
        await probe.start()
        try:
            await asyncio.gather(*[await producer.send(topic, b"v", partition=i % 2)
                                   for i in range(7)])
            first = await probe.end_offsets([0, 1])
            await asyncio.gather(*[await producer.send(topic, b"v", partition=1)
                                   for _ in range(5)])
            second = await probe.end_offsets([0, 1])
            assert probe._consumer is not None
            return first, second, probe._consumer.paused()
        finally:
            await probe.stop()
            await producer.stop()

    first, second, paused = asyncio.run(asyncio.wait_for(main(), 60))
    assert first == {0: 4, 1: 3}
    assert second == {0: 4, 1: 8}
    assert paused == {TopicPartition(topic, 0), TopicPartition(topic, 1)}
