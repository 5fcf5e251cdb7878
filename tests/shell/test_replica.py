"""The index replica without a broker: invalid records are skipped and counted, and a
replica whose task died is not ready."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import SimpleNamespace

import numpy as np
import pytest
from aiokafka import TopicPartition

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.errors import InvalidLogRecordError, LogRewoundError
from streams.core.fingerprint_log import WORKER_HEADER, LogRecord, encode_record
from streams.core.stories.model import StoryUpdate
from streams.settings import load
from streams.shell.lifecycle import FATAL_EXIT_CODES
from streams.shell.replica import IndexReplica
from streams.shell.worker import is_ready

STARTED = SimpleNamespace(started=True)  # a prepare pool that has loaded

_VALID = encode_record(
    IndexEntry("a1", 1, Fingerprint("0" * 32, np.zeros(128, dtype=np.uint32), 3), "a1"), (), "w"
)
_LONG_SIGNATURE = _VALID.replace(b'"s":"', b'"s":"AAAA', 1)


def test_invalid_records_are_skipped_and_counted_and_the_rest_applied() -> None:
    applied: list[LogRecord] = []
    invalid: list[InvalidLogRecordError] = []

    async def on_record(record: LogRecord, catching_up: bool) -> None:
        applied.append(record)

    replica = IndexReplica(load({}), on_record, on_invalid=invalid.append)

    async def feed() -> None:
        for value in (b"not json", _LONG_SIGNATURE, _VALID, b'{"id": "a2"}'):
            await replica._apply(b"k", value, catching_up=False)

    asyncio.run(feed())
    assert [r.entry.id for r in applied] == ["a1"]
    assert (replica.applied, replica.skipped) == (1, 3)
    assert [e.code for e in invalid] == ["invalid_log_record"] * 3
    assert "not a 128-permutation signature" in invalid[1].detail


def test_our_own_records_read_back_are_told_by_key_and_not_decoded() -> None:
    """The core applies our records when it decides; reading one back it only counts it off
    (``Deduplicator.read_back``), by the record's key. A story merge (its key starts with a
    NUL) and another worker's record are not ours to count."""
    applied: list[LogRecord] = []
    own: list[str] = []

    async def on_record(record: LogRecord, catching_up: bool) -> None:
        applied.append(record)

    replica = IndexReplica(load({}, worker_id="me"), on_record, on_own=own.append)
    ours = [(WORKER_HEADER, b"me")]

    async def feed() -> None:
        await replica._apply(b"a1", b"not even json", catching_up=False, headers=ours)
        await replica._apply(b"\x00story:a1>a0", b"{}", catching_up=False, headers=ours)
        await replica._apply(b"a1", _VALID, catching_up=False,
                             headers=[(WORKER_HEADER, b"other")])

    asyncio.run(feed())
    assert own == ["a1"]
    assert [r.entry.id for r in applied] == ["a1"]
    assert replica.own_skipped == 2


def test_a_replica_whose_task_died_is_not_ready_and_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def on_record(record: LogRecord, catching_up: bool) -> None:
        pass

    replica = IndexReplica(load({}), on_record)
    app = SimpleNamespace(rebalancing=False)

    async def die() -> None:
        replica.ready.set()
        assert replica.alive and is_ready(app, replica, STARTED)  # type: ignore[arg-type]

        async def run() -> None:
            raise RuntimeError("fetch failed for good")

        task = asyncio.create_task(run())
        task.add_done_callback(replica._on_task_done)
        with contextlib.suppress(RuntimeError):
            await task
        await asyncio.sleep(0)  # done callbacks run on the next loop iteration

    with caplog.at_level(logging.ERROR, logger="streams.shell.replica"):
        asyncio.run(die())
    assert replica.failure == "RuntimeError: fetch failed for good"
    assert not replica.alive
    assert not is_ready(app, replica, STARTED)  # type: ignore[arg-type]
    assert "index replica stopped; the worker is not ready: RuntimeError: fetch failed" in (
        caplog.text
    )


def test_a_cancelled_replica_task_is_a_stop_not_a_failure() -> None:
    async def on_record(record: LogRecord, catching_up: bool) -> None:
        pass

    replica = IndexReplica(load({}), on_record)

    async def cancel() -> None:
        task = asyncio.create_task(asyncio.sleep(10))
        task.add_done_callback(replica._on_task_done)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)

    asyncio.run(cancel())
    assert replica.failure is None


def test_positions_follow_the_applied_records_and_stop_before_an_invalid_one() -> None:
    async def on_record(record: LogRecord, catching_up: bool) -> None:
        pass

    replica = IndexReplica(load({}), on_record)
    replica.ready.set()

    def message(offset: int, value: bytes) -> SimpleNamespace:
        return SimpleNamespace(key=b"k", value=value, offset=offset, headers=[])

    async def feed() -> None:
        assert replica.applied_positions() == ()
        await replica._take(0, message(4, _VALID))
        await replica._take(1, message(0, _VALID))
        assert replica.applied_positions() == ((0, 5), (1, 1))
        await replica._take(0, message(5, _LONG_SIGNATURE))  # a record it cannot read
        await replica._take(0, message(6, _VALID))
        await replica._take(1, message(1, _VALID))
        assert replica.applied_positions() == ((0, 5), (1, 2))

    asyncio.run(feed())
    assert replica._next == {0: 7, 1: 2}  # the replica itself reads on


def test_a_catch_up_ended_by_stop_releases_its_waiters_and_a_waiter_can_be_cancelled() -> None:
    async def on_record(record: LogRecord, catching_up: bool) -> None:
        pass

    replica = IndexReplica(load({}), on_record)

    async def main() -> tuple[object, bool]:
        await replica.caught_up()  # none begun: at once
        replica._catch_up = asyncio.get_running_loop().create_future()  # one under way
        waiter = asyncio.create_task(replica.caught_up())
        cancelled = asyncio.create_task(replica.caught_up())
        await asyncio.sleep(0)
        cancelled.cancel()  # the agent stopped while it waited: its cancellation stands
        await asyncio.sleep(0)
        await replica.stop()  # cancels the catch-up: the waiter returns, nothing to wait for
        return await asyncio.wait_for(waiter, timeout=1), cancelled.cancelled()

    assert asyncio.run(main()) == (None, True)


def watched_replica() -> tuple[IndexReplica, list[LogRecord | StoryUpdate],
                                list[LogRewoundError]]:
    """A caught-up replica, with the records it applies and the rewound-log errors it
    tells, each in a list."""
    applied: list[LogRecord | StoryUpdate] = []
    told: list[LogRewoundError] = []

    async def on_record(record: LogRecord | StoryUpdate, catching_up: bool) -> None:
        applied.append(record)

    async def on_rewound(error: LogRewoundError) -> None:
        told.append(error)

    replica = IndexReplica(load({}), on_record, on_rewound=on_rewound)
    replica.ready.set()
    return replica, applied, told


def test_a_record_at_an_offset_read_past_stops_the_replica_through_the_fatal_handler() -> None:
    """The log was recreated or emptied under the worker (Tansu restarted in place): until
    2026-12-06 its new records were applied on top of the old log's, silently."""
    replica, applied, told = watched_replica()

    def message(offset: int) -> SimpleNamespace:
        return SimpleNamespace(key=b"k", value=_VALID, offset=offset, headers=[])

    async def feed() -> None:
        await replica._take(0, message(2999))
        await replica._take(1, message(0))  # another partition's own start: fine
        with pytest.raises(LogRewoundError):
            await replica._take(0, message(0))

    asyncio.run(feed())
    assert len(applied) == 2
    assert [e.detail for e in told] == [
        "the fingerprint log's partition 0 holds a record at offset 0, which this worker read "
        "past (to 3000): the topic was recreated or emptied under it, so its index no longer "
        "follows the log; stopping, and a restart replays the log"]
    assert FATAL_EXIT_CODES[told[0].code] == 6


def test_a_fence_appended_before_the_offset_read_to_stops_the_replica() -> None:
    """Tansu answers a fetch past a partition's end with nothing (no "out of range"), so a
    broker restarted in place showed no record at an old offset: the catch-up's own fences,
    appended at the new log's end, are what tell (a verification trial, 2026-12-06)."""
    replica, _, told = watched_replica()
    topic = replica.settings.topic_fingerprints
    fences = {TopicPartition(topic, 0): 40, TopicPartition(topic, 1): 3}

    async def run() -> None:
        async def fences_at() -> dict[TopicPartition, int]:
            return fences

        replica.append_fences = fences_at  # type: ignore[method-assign]
        assert replica._rewound(fences, {0: 12, 1: 3}) is None  # the fences are past them
        replica._next = {0: 12, 1: 30}  # partition 1 was read to 30: its log went back
        replica.begin_catch_up()
        await replica.caught_up()

    asyncio.run(run())
    assert [e.detail for e in told] == [
        "the fingerprint log's partition 1 ends at offset 3, before the offset this worker "
        "read to (30): the topic was recreated or emptied under it, so its index no longer "
        "follows the log; stopping, and a restart replays the log"]
    assert replica.failure == told[0].detail and not replica.alive


def test_records_read_while_the_fences_are_sent_are_no_rewound_log() -> None:
    """The replica reads on while a catch-up sends its fences: the fence itself and other
    workers' records after it can be applied before ``append_fences`` returns. The first
    cut compared the fences with that later position and stopped workers on a normal
    catch-up (a review, 2026-12-06)."""
    replica, _, told = watched_replica()
    topic = replica.settings.topic_fingerprints
    fence = {TopicPartition(topic, 0): 101}

    async def run() -> None:
        async def fences_read_meanwhile() -> dict[TopicPartition, int]:
            replica._next = {0: 105}  # the fence and three records after it, applied
            return fence

        def read_past(fences: dict[TopicPartition, int]) -> asyncio.Future[None]:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)  # the read loop has passed the fence
            return done

        replica.append_fences = fences_read_meanwhile  # type: ignore[method-assign]
        replica._read_past = read_past  # type: ignore[method-assign]
        replica._next = {0: 101}
        await replica._fence_and_read()

    asyncio.run(run())
    assert told == [] and replica.failure is None
