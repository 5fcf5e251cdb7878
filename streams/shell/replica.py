"""This worker's replica of the shared fingerprint index, fed by the fingerprint log.

Every worker reads every partition of ``ingest.fingerprints`` with a group-less consumer
(manual ``assign``), so any two articles meet in every worker's index whatever partition or
worker decided them (design (b) of the README's "Near duplicates across workers").

Catching up must not trust the broker's end offsets: Tansu 0.6.0 can answer ListOffsets
"latest" with the first offset of the newest batch + 1, which would end recovery early and
silently drop the last entries of a partition. Instead, the replica appends a *fence* record
to each partition and reads until it has passed its own fences. The produce response gives
the fence's exact offset, so this is correct on any Kafka-protocol broker.

A worker restored from a snapshot (:mod:`streams.shell.snapshot`) starts each partition at
the snapshot's offsets instead of the beginning and catches up to fences the same way.
The snapshot is not used (``on_fallback`` resets the state, and the replica reads from the
beginning) when the log no longer holds those offsets: a partition's start is past them
(retention deleted records the snapshot never saw), they lie beyond its fence (the topic
was recreated), or the partitions differ.

Partitions added to the log later are read from their beginning once the consumer's
metadata shows them (:meth:`IndexReplica._read_added_partitions`).

After every assignment of raw partitions the worker catches up the same way before it decides
again (:meth:`IndexReplica.begin_catch_up`): partitions taken over from another worker (one
that stopped, or a rebalance) replay the messages it decided and did not commit, and with its
records applied first a replay repeats its verdict and story. Read behind, the replay was
decided afresh: in a kill trial (three workers, one SIGKILLed) an article's replay joined
another story than its first decision, and nothing merged the two until the race fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.core.errors import InvalidLogRecordError, LogRewoundError
from streams.core.fingerprint_log import (
    FENCE_PREFIX,
    WORKER_HEADER,
    LogMark,
    LogRecord,
    decode_log_value,
    is_fence,
)
from streams.core.stories.model import StoryUpdate
from streams.kafka.connection import KafkaConnection
from streams.settings import Settings
from streams.shell.gate import StateGate

log = logging.getLogger(__name__)

RecordHandler = Callable[[LogRecord | StoryUpdate, bool], Awaitable[None]]
# How often the read loop looks for partitions added to the log (in the consumer's cached
# metadata: no request).
PARTITION_CHECK_S = 1.0
# Log only the first invalid records, then one line per this many: a flood of foreign
# records must not flood the log (the metric counts every one).
_INVALID_LOG_EVERY = 1000


# How long a start waits for the record a snapshot marked before it replays the whole log.
MARK_READ_S = 10.0

# A fetch answers once this much is there, or after fetch_max_wait_ms.
REPLICA_FETCH_MIN_BYTES = 32 * 1024


# What a LogRewoundError says after where it saw the log go back.
_REWOUND = (": the topic was recreated or emptied under it, so its index no longer follows "
            "the log; stopping, and a restart replays the log")


class IndexReplica:
    """Reads the fingerprint log into the local index; ``ready`` is set once caught up."""

    def __init__(
        self,
        settings: Settings,
        on_record: RecordHandler,
        *,
        on_invalid: Callable[[InvalidLogRecordError], None] | None = None,
        gate: StateGate | None = None,
        on_fallback: Callable[[str], None] | None = None,
        connection: KafkaConnection | None = None,
        on_own: Callable[[str], None] | None = None,
        on_rewound: Callable[[LogRewoundError], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        # The worker's one connection object; built from settings at start when not given.
        self.connection = connection
        self.on_record = on_record
        self.on_invalid = on_invalid
        self.gate = gate or StateGate()
        self.on_fallback = on_fallback
        # Told the key of each of our own article records read back (not decoded).
        self.on_own = on_own
        # Told when the log holds a record where the replica has read past (the worker's
        # fatal handler: the index no longer follows the log).
        self.on_rewound = on_rewound
        # Next offset per partition of a restored snapshot, and the last record it applied
        # on each (Snapshot.marks); set before start().
        self.start_offsets: dict[int, int] | None = None
        self.start_marks: dict[int, LogMark] = {}
        # partition -> the last record applied (a snapshot marks its place with it): the
        # record as fetched (no allocation per record), or a restored snapshot's mark
        self._last: dict[int, Any] = {}
        self._last_restored: dict[int, LogMark] = {}
        self.started_from_snapshot = False
        self._next: dict[int, int] = {}  # partition -> next offset not yet applied
        # partition -> offset of the first record skipped as invalid: positions stop there
        self._invalid_at: dict[int, int] = {}
        self.ready = asyncio.Event()
        self.applied = 0
        self.skipped = 0
        self.own_skipped = 0
        self._own_id = settings.worker_id.encode("utf-8")
        # Why the replica stopped, when it did: the index no longer follows the log, so the
        # worker is not ready (pages.is_ready) and /readyz says this.
        self.failure: str | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._partitions: list[TopicPartition] = []
        self._catch_up: asyncio.Future[None] | None = None  # the latest (begin_catch_up)
        # Fences someone waits to see read past, each with the future that says so.
        self._fence_waits: list[tuple[dict[TopicPartition, int], asyncio.Future[None]]] = []

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Replication latency bounds the race window between workers: at most 50 ms.
            fetch_max_wait_ms=50,
            # ...but not a fetch per record: with two workers each replica fetched every few
            # records the other produced. Waiting for ~25 records (or the 50 ms) costs ~5 ms
            # more latency and 5-10 % less worker CPU per article (README, Running on Tansu).
            fetch_min_bytes=REPLICA_FETCH_MIN_BYTES,
            client_id=f"{self.settings.app_id}-replica-{self.settings.worker_id}",
            **self._kafka_options(),
        )
        await self._consumer.start()
        topic = self.settings.topic_fingerprints
        partitions = await self._partitions_of(topic)
        self._partitions = [TopicPartition(topic, p) for p in sorted(partitions)]
        self._consumer.assign(self._partitions)
        self._task = asyncio.create_task(self._run(), name="index-replica")
        self._task.add_done_callback(self._on_task_done)

    def _kafka_options(self) -> dict[str, Any]:
        if self.connection is None:
            self.connection = KafkaConnection.from_settings(self.settings)
        return self.connection.aiokafka_options()

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        self.failure = f"{type(exc).__name__}: {exc}" if exc else "stopped reading the log"
        self._end_fence_waits()  # nothing more will be read: a catch-up waits no longer
        log.error("index replica stopped; the worker is not ready: %s", self.failure,
                  exc_info=None if isinstance(exc, LogRewoundError) else exc)

    @property
    def alive(self) -> bool:
        """Caught up and still following the log."""
        return self.ready.is_set() and self.failure is None

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
            **self._kafka_options(),
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

    def begin_catch_up(self) -> None:
        """Start applying every record the log holds now (fences appended now, read past);
        :meth:`caught_up` waits for it. Called on every assignment of raw partitions."""
        self._catch_up = asyncio.ensure_future(self._fence_and_read())

    async def caught_up(self) -> None:
        """Once the latest :meth:`begin_catch_up` is done (at once when there was none)."""
        while (catch_up := self._catch_up) is not None and not catch_up.done():
            try:
                await asyncio.shield(catch_up)  # a newer one may have begun meanwhile
            except asyncio.CancelledError:
                if not catch_up.cancelled():
                    raise  # the waiter's own cancellation
                return  # the replica stopped (stop): nothing left to wait for

    async def _fence_and_read(self) -> None:
        """Append fences and wait until the replica has read past them. A failure to append
        them (the broker away) is logged and waited for no longer: the decisions go on as
        without it, races corrected as between two live workers."""
        await self.ready.wait()  # at start, the first assignment may come before that
        started, applied = time.monotonic(), self.applied
        # Where the replica has read to before the fences go out: it reads on while they are
        # sent, the fences themselves and other workers' records after them included, so
        # its position then may lie past a fence on a log that never went back (a review).
        read_before = dict(self._next)
        try:
            fences = await self.append_fences()
        except Exception as exc:  # any failure: go on without it
            log.warning("could not catch up with the fingerprint log after an assignment "
                        "(%s: %s); deciding without waiting", type(exc).__name__, exc)
            return
        if (error := self._rewound(fences, read_before)) is not None:
            await self._stop_rewound(error)
            return
        await self._read_past(fences)
        log.info("caught up with the fingerprint log after an assignment: %d records in "
                 "%.0f ms", self.applied - applied, (time.monotonic() - started) * 1000)

    def _rewound(
        self, fences: dict[TopicPartition, int], read_before: dict[int, int]
    ) -> LogRewoundError | None:
        """A fence appended below where the replica had read to before appending it
        (``read_before``, partition -> next offset): the log's end went back.

        A fence is appended after every record the replica had read, so its offset is never
        below that position but when the log was recreated or emptied. On
        Tansu that is the only sign: a fetch past a partition's end answers nothing, where
        Kafka answers "out of range" and the consumer resets (a verification trial,
        2026-12-06: a broker restarted in place under two workers went unseen)."""
        for tp, fence in fences.items():
            if fence < (read_past := read_before.get(tp.partition, 0)):
                return LogRewoundError(
                    f"the fingerprint log's partition {tp.partition} ends at offset {fence}, "
                    f"before the offset this worker read to ({read_past}){_REWOUND}")
        return None

    async def _stop_rewound(self, error: LogRewoundError) -> None:
        """Stop applying records and tell ``on_rewound`` (the worker stops, exit 6)."""
        self.failure = error.detail
        if self._task is not None:
            self._task.cancel()
        self._end_fence_waits()
        log.error("index replica stopped; the worker is not ready: %s", error.detail)
        if self.on_rewound is not None:
            await self.on_rewound(error)

    def _read_past(self, fences: dict[TopicPartition, int]) -> asyncio.Future[None]:
        """Done once the replica has applied every record up to ``fences`` (at once when it
        has stopped reading). Checked by the read loop between fetches only: within one, the
        consumer's position is past records not applied yet."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._fence_waits.append((fences, done))
        if self._task is not None and self._task.done():
            self._end_fence_waits()
        return done

    async def _release_fence_waits(self) -> None:
        """Settle the waits whose fences are read past; call when every record fetched so far
        is applied."""
        assert self._consumer is not None
        waits, self._fence_waits = self._fence_waits, []
        for fences, done in waits:
            for tp, fence in fences.items():
                if (self._next.get(tp.partition, -1) <= fence
                        and await self._consumer.position(tp) <= fence):
                    self._fence_waits.append((fences, done))
                    break
            else:
                if not done.done():
                    done.set_result(None)

    def _end_fence_waits(self) -> None:
        waits, self._fence_waits = self._fence_waits, []
        for _, done in waits:
            if not done.done():
                done.set_result(None)

    async def _run(self) -> None:
        assert self._consumer is not None
        started = time.monotonic()
        fences = await self.append_fences()
        await self._position(fences)
        read_to_fences = self._read_past(fences)
        next_partition_check = started + PARTITION_CHECK_S
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            async with self.gate.shared():
                for tp, messages in batches.items():
                    for message in messages:
                        await self._take(tp.partition, message)
            await self._release_fence_waits()  # all fetched is applied: positions settled
            if time.monotonic() >= next_partition_check:
                next_partition_check = time.monotonic() + PARTITION_CHECK_S
                await self._read_added_partitions()
            if read_to_fences.done() and not self.ready.is_set():
                self.ready.set()
                log.info(
                    "index replica caught up: %d records from %d partitions in %.1f s "
                    "(read %s to fences at %s)",
                    self.applied, len(fences), time.monotonic() - started,
                    "from the snapshot's offsets" if self.started_from_snapshot
                    else "from the beginning",
                    {tp.partition: off for tp, off in fences.items()},
                )

    async def _read_added_partitions(self) -> None:
        """Read partitions added to the log since the replica started from their beginning.

        Seen in the consumer's metadata, which aiokafka refreshes every
        ``metadata_max_age_ms`` (5 min): records other workers wrote there meanwhile are
        applied late, as a race's are. ``assign`` resets every position, so the partitions
        read so far are sought back to theirs (all they fetched is applied by then).
        """
        assert self._consumer is not None
        topic = self.settings.topic_fingerprints
        known = {tp.partition for tp in self._partitions}
        added = sorted(set(self._consumer.partitions_for_topic(topic) or ()) - known)
        if not added:
            return
        async with self.gate.shared():  # a snapshot (exclusive) sees before or after
            positions = {tp: await self._consumer.position(tp) for tp in self._partitions}
            self._partitions = sorted([*self._partitions,
                                       *(TopicPartition(topic, p) for p in added)])
            self._consumer.assign(self._partitions)
            for tp, offset in positions.items():
                self._consumer.seek(tp, offset)
            for partition in added:
                self._consumer.seek(TopicPartition(topic, partition), 0)
        log.warning("the fingerprint log has new partitions %s: reading them from their start",
                    added, extra={"partitions": added})

    async def _position(self, fences: dict[TopicPartition, int]) -> None:
        """Seek to the snapshot's offsets when the log still holds them, else the beginning."""
        assert self._consumer is not None
        if self.start_offsets is not None:
            problem = await self._snapshot_problem(self.start_offsets, fences)
            if problem is None:
                for tp in self._partitions:
                    self._consumer.seek(tp, self.start_offsets[tp.partition])
                self.started_from_snapshot = True
                return
            log.warning("index snapshot not used (%s): replaying the whole fingerprint log",
                        problem)
            if self.on_fallback is not None:
                self.on_fallback(problem)
        # Offset 0, not ListOffsets "earliest" (which Tansu answers by the storage's wall
        # clock, Running on Tansu): where retention removed it, the fetch is out of range
        # and the consumer resets to the earliest offset (auto_offset_reset).
        for tp in self._partitions:
            self._consumer.seek(tp, 0)

    async def _snapshot_problem(
        self, offsets: dict[int, int], fences: dict[TopicPartition, int]
    ) -> str | None:
        problem = await self._offsets_problem(offsets, fences)
        if problem is not None:
            return problem
        verified = {}
        for tp in self._partitions:
            mark = self.start_marks.get(tp.partition)
            if mark is not None and mark.offset == offsets[tp.partition] - 1:
                if (problem := await self._mark_problem(tp, mark)) is not None:
                    return problem
                verified[tp.partition] = mark
        self._last_restored = verified
        return None

    async def _offsets_problem(
        self, offsets: dict[int, int], fences: dict[TopicPartition, int]
    ) -> str | None:
        assert self._consumer is not None
        if set(offsets) != {tp.partition for tp in self._partitions}:
            return (f"it covers partitions {sorted(offsets)}, the log has "
                    f"{sorted(tp.partition for tp in self._partitions)}")
        starts = await self._consumer.beginning_offsets(self._partitions)
        for tp in self._partitions:
            offset = offsets[tp.partition]
            if starts[tp] > offset:
                return (f"stale: partition {tp.partition} starts at offset {starts[tp]}, the "
                        f"snapshot needs {offset} (deleted by retention)")
            if offset > fences[tp]:
                return (f"partition {tp.partition} ends at {fences[tp]}, before the "
                        f"snapshot's offset {offset} (topic recreated?)")
        return None

    async def _mark_problem(self, tp: TopicPartition, mark: LogMark) -> str | None:
        """Whether the log holds another record where the snapshot's last one on ``tp`` was.
        None when it holds that one, or none there any more (compacted or deleted: nothing to
        compare). A record the broker does not send within MARK_READ_S is a problem too: the
        whole log is then replayed, which is slower, never wrong."""
        assert self._consumer is not None
        self._consumer.seek(tp, mark.offset)
        deadline = time.monotonic() + MARK_READ_S
        while (left := deadline - time.monotonic()) > 0:
            fetched = await self._consumer.getmany(tp, timeout_ms=int(left * 1000) + 1,
                                                   max_records=1)
            for record in fetched.get(tp, ()):
                if mark.differs(record.offset, record.timestamp, record.key):
                    return (f"partition {tp.partition} holds another record at offset "
                            f"{mark.offset} than the one the snapshot applied there "
                            "(topic recreated?)")
                return None
        return (f"the record at offset {mark.offset} of partition {tp.partition}, the "
                f"snapshot's last there, was not read within {MARK_READ_S:g} s")

    def covered_marks(self) -> dict[int, LogMark]:
        """The last record applied on each partition that has one; call with the gate held
        exclusively, with :meth:`covered_offsets` (each mark is the record right before its
        partition's covered offset)."""
        marks = dict(self._last_restored)
        marks.update((partition, LogMark(record.offset, record.timestamp, record.key))
                     for partition, record in self._last.items())
        return marks

    def applied_positions(self) -> tuple[tuple[int, int], ...]:
        """(partition, next offset) of every record applied to the index so far: what a
        decision taken now knows of the log (``LogRecord.applied``). A partition not read
        yet is left out: read as "nothing applied", which only costs re-decisions. A record
        skipped as invalid (say, from a newer worker during an upgrade) was not applied: a
        partition's position stops before the first one."""
        invalid = self._invalid_at
        return tuple((p, min(o, invalid.get(p, o))) for p, o in self._next.items())

    async def covered_offsets(self) -> dict[int, int] | None:
        """Next offset to apply per partition; call with the gate held exclusively.

        None until caught up: a snapshot of a half-read log would be stale by design.
        """
        if self._consumer is None or not self.ready.is_set():
            return None
        covered = {}
        for tp in self._partitions:
            known = self._next.get(tp.partition)
            covered[tp.partition] = (known if known is not None
                                     else await self._consumer.position(tp))
        return covered

    async def _take(self, partition: int, message: Any) -> None:
        """Apply one fetched record and move the partition's position past it; a record at
        an offset already read past means the log was recreated or emptied under us: nothing
        more is applied (LogRewoundError, to ``on_rewound``)."""
        if message.offset < (read_past := self._next.get(partition, 0)):
            # Until 2026-12-06 such records were applied on top of the old log's: a broker
            # restarted in place (Tansu keeps topics in memory) left running workers with an
            # index a new worker would not have (an operator trial).
            error = LogRewoundError(
                f"the fingerprint log's partition {partition} holds a record at offset "
                f"{message.offset}, which this worker read past (to {read_past}){_REWOUND}")
            if self.on_rewound is not None:
                await self.on_rewound(error)
            raise error
        valid = await self._apply(message.key, message.value,
                                  catching_up=not self.ready.is_set(), headers=message.headers)
        if not valid:
            self._invalid_at.setdefault(partition, message.offset)
        self._next[partition] = message.offset + 1
        self._last[partition] = message

    async def _apply(
        self, key: bytes | None, value: bytes | None, *, catching_up: bool,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> bool:
        """Apply one record; False when it was skipped as invalid."""
        if is_fence(key) or value is None:
            return True
        if not catching_up and (WORKER_HEADER, self._own_id) in headers:
            self.own_skipped += 1  # applied when we decided it: not even decoded
            if self.on_own is not None and key is not None and not key.startswith(b"\x00"):
                self.on_own(key.decode("utf-8", "replace"))  # "\x00story:...": a merge
            return True
        try:
            record = decode_log_value(value)  # an article's record, or a story merge
        except InvalidLogRecordError as exc:  # foreign or corrupt: must not stop the replica
            self.skipped += 1
            if self.on_invalid is not None:
                self.on_invalid(exc)
            if self.skipped <= 10 or self.skipped % _INVALID_LOG_EVERY == 0:
                log.warning("skipping invalid fingerprint-log record (%d so far): %s",
                            self.skipped, exc.detail, extra={"code": exc.code})
            return False
        self.applied += 1
        await self.on_record(record, catching_up)
        return True

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
        if self._catch_up is not None:
            self._catch_up.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
