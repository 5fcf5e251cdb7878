"""True end offsets of the raw topic's partitions, for the consumer-lag metrics.

Lag is ``end - committed``. Kafka's ListOffsets("latest") gives ``end``, but Tansu 0.6.0
answers with the first offset of the newest record batch + 1, so lag would read low by up
to a batch. The probe reads the batch at ``reported_end - 1`` and takes its last offset + 1:
on Kafka that is the reported end itself; on Tansu it is the true end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.kafka.connection import KafkaConnection
from streams.settings import Settings

log = logging.getLogger(__name__)


def true_end(reported_end: int, fetched_offsets: Iterable[int]) -> int:
    """The end offset given the broker's answer and the offsets of the batch read before it."""
    return max([reported_end, *(offset + 1 for offset in fetched_offsets)])


class EndOffsetProbe:
    """A group-less consumer that measures true end offsets of one topic on demand."""

    def __init__(
        self, settings: Settings, topic: str, connection: KafkaConnection | None = None
    ) -> None:
        self.settings = settings
        self.topic = topic
        self._options = (connection or KafkaConnection.from_settings(settings)).aiokafka_options()
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
            client_id=f"{self.settings.app_id}-lag-{self.settings.worker_id}",
            **self._options,
        )
        await self._consumer.start()

    async def end_offsets(self, partitions: Iterable[int]) -> dict[int, int]:
        if self._consumer is None:
            return {}
        async with self._lock:
            tps = [TopicPartition(self.topic, p) for p in partitions]
            if not tps:
                return {}
            consumer = self._consumer
            reported: dict[TopicPartition, int] = await consumer.end_offsets(tps)
            consumer.assign(tps)  # a fresh assignment: its partitions start unpaused
            ends = {}
            try:
                for tp in tps:
                    end = reported[tp]
                    fetched: list[int] = []
                    if end > 0:
                        consumer.seek(tp, end - 1)
                        batch = await consumer.getmany(tp, timeout_ms=500, max_records=10_000)
                        fetched = [record.offset for record in batch.get(tp, [])]
                    ends[tp.partition] = true_end(end, fetched)
            finally:
                # Assigned partitions are fetched in the background until paused: without
                # this the probe kept polling the raw topic between probes (every 50 ms).
                consumer.pause(*tps)
            return ends

    async def stop(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.stop()
