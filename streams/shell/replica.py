"""This worker's replica of the shared fingerprint index, fed by the fingerprint log.

Every worker reads every partition of ``ingest.fingerprints`` with a group-less consumer
(manual ``assign``), so any two articles meet in every worker's index whatever partition or
worker decided them (design (b) of the README's "Near duplicates across workers").

Catching up must not trust the broker's end offsets: Tansu 0.6.0 can answer ListOffsets
"latest" with the first offset of the newest batch + 1, which would end recovery early and
silently drop the last entries of a partition. Instead, the replica appends a *fence* record
to each partition and reads until it has passed its own fences. The produce response gives
the fence's exact offset, so this is correct on any Kafka-protocol broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.core.fingerprint_log import FENCE_PREFIX, LogRecord, decode_log_value, is_fence
from streams.core.stories.model import StoryUpdate
from streams.settings import Settings

log = logging.getLogger(__name__)

RecordHandler = Callable[[LogRecord | StoryUpdate, bool], Awaitable[None]]


class IndexReplica:
    """Reads the fingerprint log into the local index; ``ready`` is set once caught up."""

    def __init__(
        self,
        settings: Settings,
        on_record: RecordHandler,
        *,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.on_record = on_record
        self.ready = asyncio.Event()
        self.applied = 0
        self.skipped = 0
        self._options = client_options or {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._partitions: list[TopicPartition] = []

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Replication latency bounds the race window between workers: poll eagerly.
            fetch_max_wait_ms=50,
            client_id=f"{self.settings.app_id}-replica-{self.settings.worker_id}",
            **self._options,
        )
        await self._consumer.start()
        topic = self.settings.topic_fingerprints
        partitions = await self._partitions_of(topic)
        self._partitions = [TopicPartition(topic, p) for p in sorted(partitions)]
        self._consumer.assign(self._partitions)
        await self._consumer.seek_to_beginning(*self._partitions)
        self._task = asyncio.create_task(self._run(), name="index-replica")

    async def _partitions_of(self, topic: str) -> set[int]:
        assert self._consumer is not None
        for _ in range(100):
            partitions = self._consumer.partitions_for_topic(topic)
            if partitions:
                return set(partitions)
            await self._consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"topic {topic!r} has no partitions; was it created?")

    async def append_fences(self) -> dict[TopicPartition, int]:
        """Append one fence per partition and return each fence's offset."""
        producer = AIOKafkaProducer(
            client_id=f"{self.settings.app_id}-fence-{self.settings.worker_id}",
            acks="all",
            **self._options,
        )
        await producer.start()
        try:
            key = FENCE_PREFIX + uuid.uuid4().hex.encode()
            offsets = {}
            for tp in self._partitions:
                meta = await producer.send_and_wait(tp.topic, key=key, value=None,
                                                    partition=tp.partition)
                offsets[tp] = meta.offset
            return offsets
        finally:
            await producer.stop()

    async def _run(self) -> None:
        assert self._consumer is not None
        started = time.monotonic()
        fences = await self.append_fences()
        pending = dict(fences)
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, messages in batches.items():
                for message in messages:
                    await self._apply(
                        message.key, message.value, catching_up=not self.ready.is_set()
                    )
                    if tp in pending and message.offset >= pending[tp]:
                        del pending[tp]
            if pending and not batches:
                for tp in list(pending):
                    if await self._consumer.position(tp) > pending[tp]:
                        del pending[tp]
            if not pending and not self.ready.is_set():
                self.ready.set()
                log.info(
                    "index replica caught up: %d entries from %d partitions in %.1f s "
                    "(read to fences at %s)",
                    self.applied, len(fences), time.monotonic() - started,
                    {tp.partition: off for tp, off in fences.items()},
                )

    async def _apply(
        self, key: bytes | None, value: bytes | None, *, catching_up: bool
    ) -> None:
        if is_fence(key) or value is None:
            return
        try:
            record = decode_log_value(value)  # an article's record, or a story merge
        except Exception as exc:  # a foreign or corrupt record must not stop the replica
            self.skipped += 1
            log.warning("skipping unreadable fingerprint-log record: %s", exc)
            return
        self.applied += 1
        await self.on_record(record, catching_up)

    async def lag(self) -> int:
        """Records not yet applied, from the highwater marks seen in fetch responses.

        On Tansu the highwater can read low (see module docstring), so this is a lower bound.
        """
        if self._consumer is None:
            return 0
        total = 0
        for tp in self._partitions:
            high = self._consumer.highwater(tp)
            if high is not None:
                total += max(0, high - await self._consumer.position(tp))
        return total

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
