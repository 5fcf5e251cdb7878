"""The rebalance view the batch loop gets from Faust (streams.kafka.faust_compat)."""

from __future__ import annotations

import asyncio
import inspect
import time
import weakref
from types import SimpleNamespace
from typing import Any

from streams.kafka.faust_compat import (
    StreamRevocation,
    commit_before_revocation,
    committing_first,
)


class FlowControl:
    def __init__(self) -> None:
        self.active = True

    def is_active(self) -> bool:
        return self.active


class Message:
    def __init__(self, generation_id: int, partition: int = 0, offset: int = 0) -> None:
        self.generation_id = generation_id
        self.partition = partition
        self.offset = offset


def event(generation_id: int, partition: int = 0, offset: int = 0) -> Any:
    return SimpleNamespace(message=Message(generation_id, partition, offset))


def app(generation: int = 3) -> Any:
    consumer = SimpleNamespace(_unacked_messages=weakref.WeakSet(), _waiting_for_ack=None)
    return SimpleNamespace(flow_control=FlowControl(), consumer_generation_id=generation,
                           consumer=consumer)


def test_an_event_is_stale_while_a_revocation_suspends_the_flow() -> None:
    faust_app = app()
    revocation = StreamRevocation(faust_app)
    current = event(3)
    assert not revocation.stale(current)
    faust_app.flow_control.active = False  # App._on_partitions_revoked: flow_control.suspend()
    assert revocation.stale(current)


def test_an_event_of_an_earlier_generation_is_stale() -> None:
    assert StreamRevocation(app(generation=4)).stale(event(3))


def test_released_events_are_no_longer_waited_for_and_the_waiter_is_woken() -> None:
    async def main() -> None:
        faust_app = app()
        consumer = faust_app.consumer
        released, kept = event(3), event(3)
        consumer._unacked_messages.update({released.message, kept.message})
        consumer._waiting_for_ack = asyncio.get_running_loop().create_future()
        StreamRevocation(faust_app).release([released])
        assert set(consumer._unacked_messages) == {kept.message}
        assert consumer._waiting_for_ack.done()  # Consumer.wait_empty looks again at once

    asyncio.run(main())


def test_released_events_are_described_by_partition_and_offsets() -> None:
    events = [event(3, 2, offset) for offset in (7, 5, 6)] + [event(3, 0, 40)]
    assert StreamRevocation(app()).describe(events) == "partition 0: 40; partition 2: 5-7"


def test_release_does_nothing_when_faust_renames_its_unacked_set() -> None:
    faust_app = app()
    del faust_app.consumer._unacked_messages
    StreamRevocation(faust_app).release([event(3)])  # no error: revocations wait as before


def assert_installed_once(install: Any, owner: type, name: str, mark: str) -> None:
    """``install()`` twice leaves one wrapper on ``owner.name``, and it carries ``mark``."""
    install()
    patched = getattr(owner, name)
    install()
    assert getattr(owner, name) is patched
    assert getattr(patched, mark, False)


class RevokingConsumer:
    """What ``committing_first`` calls on Faust's consumer, recording the order."""

    def __init__(self, commits: list[bool], running: int = 0) -> None:
        self.calls: list[str] = []
        self._commits = commits  # what each commit returns: True when it sent offsets
        self._running = running  # periodic commits under way, one after the other

    async def maybe_wait_for_commit_to_finish(self) -> bool:
        if self._running:
            self._running -= 1
            self.calls.append("waited")
            return True
        return False

    async def commit(self, topics: set[str]) -> bool:
        self.calls.append(f"commit {sorted(topics)}")
        return self._commits.pop(0)


def test_acknowledged_offsets_are_committed_before_faust_forgets_the_revoked_partitions(
) -> None:
    # faust-streaming drops its acknowledgements of revoked partitions before its app commits.
    async def revoke(consumer: RevokingConsumer, revoked: set[str]) -> None:
        consumer.calls.append(f"forgotten {sorted(revoked)}")

    patched = committing_first(revoke)
    consumer = RevokingConsumer([True, True, False], running=1)
    asyncio.run(patched(consumer, {"raw-0", "raw-1"}))
    assert consumer.calls == [
        "waited", "commit ['raw-0', 'raw-1']",  # after the periodic commit under way
        "commit ['raw-0', 'raw-1']",  # what was acknowledged during the first
        "commit ['raw-0', 'raw-1']",  # nothing new: Faust may forget them now
        "forgotten ['raw-0', 'raw-1']",
    ]
    assert getattr(patched, "_commits_first", False)


def test_the_revocation_patch_is_applied_once() -> None:
    from faust.transport.consumer import Consumer

    assert_installed_once(commit_before_revocation, Consumer, "on_partitions_revoked",
                          "_commits_first")


class Errors:
    """Faust's logger as its livelock checks use it: what they logged as errors."""

    def __init__(self) -> None:
        self.logged: list[str] = []

    def error(self, message: str, *args: Any) -> None:
        self.logged.append((message % args).split("\n")[0].rstrip())


class Tracked:
    """A message Faust's consumer tracks (``_unacked_messages`` is a WeakSet)."""

    def __init__(self, tp: Any) -> None:
        self.tp = tp


def faust_check() -> Any:
    """Faust's own ``verify_event_path``, without our patch (``create_app`` installs it)."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    return inspect.unwrap(AIOKafkaConsumerThread.verify_event_path)


def checked_thread(started: float, state: Any) -> Any:
    """Faust's aiokafka consumer thread with what its livelock checks read, nothing else."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    assignment = SimpleNamespace(active=True, state_value=lambda tp: state)
    conf = SimpleNamespace(broker_commit_livelock_soft_timeout=300.0,
                           stream_processing_timeout=300.0)
    app = SimpleNamespace(conf=conf, topics=SimpleNamespace(acks_enabled_for=lambda t: True),
                          monitor=SimpleNamespace(stream_inbound_time={}))
    thread: Any = object.__new__(AIOKafkaConsumerThread)
    thread.log = Errors()
    thread.consumer = SimpleNamespace(app=app, _acked={}, _unacked_messages=weakref.WeakSet())
    thread._consumer = SimpleNamespace(_fetcher=SimpleNamespace(_subscriptions=SimpleNamespace(
        subscription=SimpleNamespace(assignment=assignment))))
    thread.time_started = started
    thread.tp_last_committed_at = {}
    for name in ("fetch_request", "fetch_response", "stream", "commit"):
        setattr(thread, f"tp_{name}_timeout_secs", 300.0)
    return thread


def test_no_commit_is_reported_when_messages_arrive_after_an_idle_spell() -> None:
    # Reproduced on Tansu: 5 min idle, everything committed, then a burst; the check that
    # came before the first commit logged "Has not committed TP (last commit 5.x minutes ago)".
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
    from faust.types import TP

    from streams.kafka.faust_compat import clocking_owed_work, time_commit_check_from_pending_work

    raw = TP("articles.raw", 2)
    state = SimpleNamespace(highwater=598, position=598, timestamp=time.time() * 1000)
    thread = checked_thread(started=0.0, state=state)
    verify = clocking_owed_work(faust_check())
    thread.tp_last_committed_at[raw] = 10.0  # the last message was committed at 10 s
    for now in range(17, 400, 7):  # idle: the livelock check every 7 s
        verify(thread, float(now), raw)
    # the burst: 6,000 messages, the first batch of 256 being decided, nothing committed yet
    state.highwater, state.position = 6598, 1110
    pending = [Tracked(raw) for _ in range(256)]
    thread.consumer._unacked_messages.update(pending)
    thread.consumer.app.monitor.stream_inbound_time[raw] = 401.0
    verify(thread, 402.0, raw)
    assert thread.log.logged == []
    # unpatched, that check reports a commit livelock: the false alarm
    unpatched = checked_thread(started=0.0, state=state)
    unpatched.consumer = thread.consumer
    unpatched.tp_last_committed_at[raw] = 10.0
    faust_check()(unpatched, 402.0, raw)
    assert unpatched.log.logged == [f"Has not committed {raw!r} (last commit 6.53 minutes ago)."]
    # a commit that really stalls while messages wait is still reported after 5 min
    for now in range(409, 700, 7):  # the last at 696 s
        thread.consumer.app.monitor.stream_inbound_time[raw] = now - 1.0
        verify(thread, float(now), raw)
    assert thread.log.logged == [f"Has not committed {raw!r} (last commit 5.02 minutes ago)."]
    # once acknowledged, the messages are owed until committed
    thread.consumer._unacked_messages.clear()
    thread.consumer._acked[raw] = [1110]
    verify(thread, 720.0, raw)
    assert thread.tp_last_committed_at[raw] == 395.0
    thread.consumer._acked[raw] = []
    verify(thread, 727.0, raw)
    assert thread.tp_last_committed_at[raw] == 727.0

    assert_installed_once(time_commit_check_from_pending_work, AIOKafkaConsumerThread,
                          "verify_event_path", "_owed_work_clock")


def test_no_missing_fetch_is_reported_for_partitions_assigned_a_moment_ago() -> None:
    # Reproduced on Tansu: a second worker left; 16 ms after the first worker's rebalance
    # ended, the check found no fetch response yet for its new partition states and logged
    # "Aiokafka has not sent fetch request for TP ... since start (started 10.85 minutes ago)".
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
    from faust.types import TP

    from streams.kafka.faust_compat import restarting_clock, time_checks_from_assignment

    raw = TP("articles.raw", 3)
    fresh = SimpleNamespace(highwater=None, position=92, timestamp=None)  # no fetch yet
    started = time.monotonic() - 651.0
    unpatched = checked_thread(started=started, state=fresh)
    faust_check()(unpatched, time.monotonic(), raw)
    assert unpatched.log.logged == [
        f"Aiokafka has not sent fetch request for {raw!r} since start "
        "(started 10.85 minutes ago)"]

    assigned: list[set[Any]] = []

    async def assign(thread: Any, tps: set[Any], generation_id: int = 0) -> None:
        assigned.append(tps)

    thread = checked_thread(started=started, state=fresh)
    revoked = TP("articles.raw", 1)
    thread.tp_last_committed_at.update({raw: started, revoked: started})
    asyncio.run(restarting_clock(assign)(thread, {raw}, 15))
    assert assigned == [{raw}]
    faust_check()(thread, time.monotonic() + 0.016, raw)
    assert thread.log.logged == []
    assert thread.tp_last_committed_at == {raw: thread.time_started}  # nothing owed yet
    # a partition still not fetched 5 min after its assignment is reported
    faust_check()(thread, thread.time_started + 301.0, raw)
    assert thread.log.logged == [
        f"Aiokafka has not sent fetch request for {raw!r} since start "
        "(started 5.02 minutes ago)"]

    # a partition this worker last committed 10 min ago comes back with a backlog: its
    # stream takes messages at once, the first commit follows within seconds
    fetched = SimpleNamespace(highwater=4000, position=600, timestamp=time.time() * 1000)
    for checked, last_commit in ((thread, None), (unpatched, started + 10.0)):
        checked._consumer._fetcher._subscriptions.subscription.assignment.state_value = (
            lambda tp, state=fetched: state)
        if last_commit is not None:
            checked.tp_last_committed_at[raw] = last_commit
        checked.consumer.app.monitor.stream_inbound_time[raw] = thread.time_started + 0.5
        checked.log.logged.clear()
        faust_check()(checked, thread.time_started + 1.0, raw)
    assert thread.log.logged == []
    assert unpatched.log.logged == [f"Has not committed {raw!r} (last commit 10.70 minutes ago)."]

    assert_installed_once(time_checks_from_assignment, AIOKafkaConsumerThread,
                          "on_partitions_assigned", "_restarts_clock")


def raw_group_consumer(settings: Any, group_id: str, **options: Any) -> Any:
    """An aiokafka group consumer of the raw topic, as Faust's worker consumer reads it
    (from the earliest offset, committing only when told)."""
    from aiokafka import AIOKafkaConsumer

    from streams.kafka.connection import KafkaConnection

    return AIOKafkaConsumer(settings.topic_raw, group_id=group_id,
                            auto_offset_reset="earliest", enable_auto_commit=False, **options,
                            **KafkaConnection.from_settings(settings).aiokafka_options())


class SeekingThread:
    """Faust's aiokafka consumer thread as its seeks use it, around a real aiokafka consumer
    (``call_thread`` runs the call on this loop instead of the consumer's thread)."""

    def __init__(self, consumer: Any, seek_to_committed: Any) -> None:
        self._consumer = consumer
        self._seek_to_committed = seek_to_committed

    def _ensure_consumer(self) -> Any:
        return self._consumer

    async def call_thread(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    async def seek_to_committed(self) -> Any:
        return await self._seek_to_committed(self)


def test_a_partition_with_no_committed_offset_is_read_again_from_its_beginning_after_a_seek(
    broker: Any,
) -> None:
    # Faust drops a fetch that returns while its flow is stopped and seeks to the committed
    # offsets to read it again; a partition with none stayed past the dropped records (two
    # kill trials lost 95 and 167 messages so).
    from aiokafka import TopicPartition
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    from streams.kafka.faust_compat import rewind_uncommitted_partitions, rewinding_uncommitted
    from tests.conftest import broker_settings
    from tests.harness import produce_placed

    settings = broker_settings(broker, partitions=2)
    produce_placed(settings, [(b"m%d" % i, 1, 1_000 + i) for i in range(30)])
    committed_tp = TopicPartition(settings.topic_raw, 0)
    produce_placed(settings, [(b"c%d" % i, 0, 1_000 + i) for i in range(10)])
    faust_seek = inspect.unwrap(AIOKafkaConsumerThread.seek_to_committed)

    async def positions_after_a_dropped_fetch(seek: Any) -> tuple[Any, dict[int, int]]:
        consumer = raw_group_consumer(settings, f"g-{id(seek)}")
        await consumer.start()
        try:
            fetched: dict[int, int] = {0: 0, 1: 0}
            deadline = time.monotonic() + 30
            while (fetched[0] < 10 or fetched[1] < 30) and time.monotonic() < deadline:
                for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                    fetched[tp.partition] += len(records)
            assert fetched == {0: 10, 1: 30}
            await consumer.commit({committed_tp: 4})  # partition 1 has no committed offset
            thread = SeekingThread(consumer, seek)
            committed = await thread.seek_to_committed()
            return committed, {tp.partition: await consumer.position(tp)
                               for tp in sorted(consumer.assignment())}
        finally:
            await consumer.stop()

    committed, positions = asyncio.run(positions_after_a_dropped_fetch(faust_seek))
    uncommitted_tp = TopicPartition(settings.topic_raw, 1)
    assert committed == {committed_tp: 4, uncommitted_tp: None}
    assert positions == {0: 4, 1: 30}  # Faust's seek: partition 1 stays past its 30 records

    _, positions = asyncio.run(positions_after_a_dropped_fetch(rewinding_uncommitted(faust_seek)))
    assert positions == {0: 4, 1: 0}

    assert_installed_once(rewind_uncommitted_partitions, AIOKafkaConsumerThread,
                          "seek_to_committed", "_rewinds_uncommitted")


def test_a_partition_revoked_before_its_rewind_is_left_alone() -> None:
    from aiokafka.errors import IllegalStateError

    from streams.kafka.faust_compat import rewinding_uncommitted

    sought: list[tuple[str, int]] = []
    threads: list[str] = []

    class Consumer:  # aiokafka's, as the rewind uses it
        async def seek_to_committed(self) -> dict[str, int | None]:
            return {"raw-0": None, "raw-1": None, "raw-2": 17, "raw-3": 0, "raw-4": None}

        def seek(self, tp: str, offset: int) -> None:
            if tp == "raw-1":  # revoked: "No current assignment for partition"
                raise IllegalStateError(tp)
            if tp == "raw-4":  # the consumer is stopping: no subscription
                raise AssertionError
            sought.append((tp, offset))

    class Thread:
        consumer = Consumer()

        def _ensure_consumer(self) -> Consumer:
            return self.consumer

        async def call_thread(self, method: Any) -> Any:
            threads.append("consumer thread")
            return await method()

    async def faust_seek(thread: Any) -> None:
        raise AssertionError("replaced: its one call is made in the consumer's thread")

    committed = asyncio.run(rewinding_uncommitted(faust_seek)(Thread()))
    assert committed == {"raw-0": None, "raw-1": None, "raw-2": 17, "raw-3": 0, "raw-4": None}
    assert sought == [("raw-0", 0), ("raw-3", 0)]
    assert threads == ["consumer thread"]  # the seek and the rewind: one call there


def test_a_paused_partition_is_not_fetched_and_is_read_on_from_its_position_once_resumed(
    broker: Any,
) -> None:
    # The dead-letter guard's pause. Faust's own takes the partition out of its live
    # active-partition set, which aiokafka reads as "every partition" once it is empty:
    # Faust's getmany then dropped the records without a seek (a worker lost offset 48 so).
    from aiokafka import TopicPartition
    from faust.types import TP

    from streams.kafka.faust_compat import pause_fetching, resume_fetching
    from tests.conftest import broker_settings
    from tests.harness import produce_placed

    settings = broker_settings(broker, partitions=1)
    produce_placed(settings, [(b"m%d" % i, 0, 1_000 + i) for i in range(10)])
    tp = TopicPartition(settings.topic_raw, 0)

    async def read_pause_resume() -> tuple[list[int], int, dict[Any, Any], list[int], int]:
        consumer = raw_group_consumer(settings, "g-pause", max_poll_records=4)
        await consumer.start()
        faust_app = SimpleNamespace(consumer=SimpleNamespace(_thread=SeekingThread(consumer,
                                                                                   None)))
        try:
            first: list[int] = []
            while not first:
                first = [r.offset for r in (await consumer.getmany(timeout_ms=500)).get(tp, [])]
            await pause_fetching(faust_app, [TP(settings.topic_raw, 0)])
            produce_placed(settings, [(b"n%d" % i, 0, 2_000 + i) for i in range(10)])
            # What Faust's waiting fetch does with an emptied active set: nothing of it now.
            while_paused = await consumer._fetcher.fetched_records(set(), timeout=1.5)
            paused_at = await consumer.position(tp)
            await resume_fetching(faust_app, [TP(settings.topic_raw, 0)])
            rest: list[int] = []
            deadline = time.monotonic() + 30
            while len(first) + len(rest) < 20 and time.monotonic() < deadline:
                rest += [r.offset for r in (await consumer.getmany(timeout_ms=500)).get(tp, [])]
            return first, paused_at, while_paused, rest, len(consumer.paused())
        finally:
            await consumer.stop()

    first, paused_at, while_paused, rest, still_paused = asyncio.run(read_pause_resume())
    assert first == [0, 1, 2, 3]
    assert while_paused == {}
    assert paused_at == 4  # what was fetched and not returned is fetched again
    assert rest == list(range(4, 20))
    assert still_paused == 0


def test_pausing_a_partition_no_longer_assigned_is_left_alone() -> None:
    from aiokafka.errors import IllegalStateError
    from faust.types import TP

    from streams.kafka.faust_compat import pause_fetching, resume_fetching

    calls: list[tuple[str, int]] = []

    class Consumer:  # aiokafka's, as the pause uses it
        def pause(self, tp: Any) -> None:
            if tp.partition == 1:  # revoked: "No current assignment for partition"
                raise IllegalStateError(tp)
            if tp.partition == 2:  # the consumer is stopping: no subscription
                raise AssertionError
            calls.append(("pause", tp.partition))

        def resume(self, tp: Any) -> None:
            calls.append(("resume", tp.partition))

    faust_app = SimpleNamespace(consumer=SimpleNamespace(_thread=SeekingThread(Consumer(), None)))
    tps = [TP("raw", p) for p in (0, 1, 2, 3)]
    asyncio.run(pause_fetching(faust_app, tps))
    asyncio.run(resume_fetching(faust_app, [TP("raw", 3)]))
    asyncio.run(pause_fetching(faust_app, []))
    assert calls == [("pause", 0), ("pause", 3), ("resume", 3)]
