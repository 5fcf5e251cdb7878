"""The agent's batch loop (streams.shell.batches): the next batch is submitted before this one
is published when it is already there, and every batch is acknowledged only once published."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from streams.shell.batches import run_batches
from streams.shell.gate import StateGate


class FakeStream:
    """What ``run_batches`` uses of a Faust stream: ``noack_take`` and ``ack``.

    Batches are put on a queue by the test; ``None`` ends the stream.
    """

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.batches: asyncio.Queue[list[str] | None] = asyncio.Queue()
        self.takes: list[tuple[int, float]] = []
        self.enable_acks = True

    async def noack_take(self, size: int, within: float) -> AsyncIterator[list[str]]:
        self.takes.append((size, within))
        self.enable_acks = False  # as Faust's: acks are the caller's while it is read
        try:
            while (batch := await self.batches.get()) is not None:
                self.log.append(f"read {'+'.join(batch)}")
                yield batch
        finally:
            self.enable_acks = True

    async def ack(self, event: str) -> bool:
        self.log.append(f"ack {event}")
        return True


class RecordingSteps:
    """Submits, decides and publishes batches of event names, logging each step."""

    def __init__(self, log: list[str], stream: FakeStream,
                 during_decide: dict[str, list[str] | None] | None = None) -> None:
        self.log = log
        self.stream = stream
        # batches the stream receives while the batch named by the key is being decided
        self.during_decide = during_decide or {}

    def submit(self, events: list[str]) -> str:
        name = "+".join(events)
        self.log.append(f"submit {name}")
        return name

    async def decide(self, batch: str, stop: Any = None) -> str:
        self.log.append(f"decide {batch}")
        if batch in self.during_decide:
            await self.stream.batches.put(self.during_decide[batch])
            for _ in range(5):  # let the reader take it
                await asyncio.sleep(0)
        return batch

    async def publish(self, decided: str) -> None:
        self.log.append(f"publish {decided}")
        for _ in range(3):  # the broker's answer takes a few turns
            await asyncio.sleep(0)
        self.log.append(f"published {decided}")

    def cancel(self, batch: str) -> None:
        self.log.append(f"cancel {batch}")

    def unfinished(self, decided: str, events: list[str]) -> list[str]:
        return [event for event in events if event not in decided.split("+")]


def batch_loop(stream: Any, steps: Any, gate: StateGate | None = None, *, size: int = 256,
               within_s: float = 0.5, revocation: Any = None) -> Any:
    """``run_batches`` over the fakes, batches of at most ``size`` within ``within_s``."""
    gate = gate if gate is not None else StateGate()
    return run_batches(stream, steps, gate, size=size, within_s=within_s,
                       revocation=revocation)


def run(steps_for: Any, first: list[list[str] | None], size: int = 256) -> list[str]:
    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)
        steps = steps_for(log, stream)
        for batch in first:
            await stream.batches.put(batch)
        await asyncio.wait_for(batch_loop(stream, steps, size=size), timeout=5)
        assert stream.takes == [(size, 0.5)]

    asyncio.run(main())
    return log


def test_a_waiting_batch_is_submitted_before_this_one_is_published() -> None:
    # the first batch is full and the second arrives while it is decided: a backlog
    log = run(lambda log, stream: RecordingSteps(log, stream, {"a+b": ["c"], "c": None}),
              [["a", "b"]], size=2)
    assert log == [
        "read a+b", "submit a+b", "decide a+b", "read c", "publish a+b",
        "submit c",  # read ahead: prepared while a+b is published
        "published a+b", "ack a", "ack b",
        "decide c", "publish c", "published c", "ack c",  # acknowledged only once published
    ]


def test_a_live_stream_reads_the_next_batch_while_this_one_is_decided() -> None:
    # the first batch is not full (live): its successor is read during its decisions
    log = run(lambda log, stream: RecordingSteps(log, stream, {"a+b": ["c"], "c": None}),
              [["a", "b"]], size=3)
    assert log == [
        "read a+b", "submit a+b", "decide a+b", "read c", "submit c", "publish a+b",
        "published a+b", "ack a", "ack b", "decide c", "publish c", "published c", "ack c",
    ]


def test_no_third_batch_is_read_while_two_are_unacknowledged() -> None:
    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)

        class Backlog(RecordingSteps):
            async def decide(self, batch: str, stop: Any = None) -> str:
                self.log.append(f"decide {batch}")
                for _ in range(5):  # the next batch is read meanwhile
                    await asyncio.sleep(0)
                return batch

            async def publish(self, decided: str) -> None:
                for _ in range(20):  # ample time to read more, were it asked to
                    await asyncio.sleep(0)
                await super().publish(decided)

        for batch in (["a"], ["b"], ["c"], ["d"], None):
            await stream.batches.put(batch)
        steps = Backlog(log, stream)
        await asyncio.wait_for(batch_loop(stream, steps, size=1), timeout=5)

    asyncio.run(main())
    # "read c" only after "ack a": while a is published, only b (read ahead) is unacknowledged
    assert log[:11] == ["read a", "submit a", "decide a", "read b", "submit b", "publish a",
                        "published a", "ack a", "decide b", "read c", "submit c"]
    assert [line for line in log if line.startswith("ack")] == ["ack a", "ack b", "ack c",
                                                                 "ack d"]


def test_live_stream_does_not_hold_back_the_outputs() -> None:
    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)
        steps = RecordingSteps(log, stream)
        loop = asyncio.create_task(
            batch_loop(stream, steps))
        await stream.batches.put(["a"])
        for _ in range(20):
            await asyncio.sleep(0)
        # published and acknowledged while the stream has nothing more
        assert log == ["read a", "submit a", "decide a", "publish a", "published a", "ack a"]
        await stream.batches.put(None)
        await asyncio.wait_for(loop, timeout=5)

    asyncio.run(main())


def test_a_failed_publish_acknowledges_nothing_and_releases_the_batch_read_ahead() -> None:
    class FailingPublish(RecordingSteps):
        async def publish(self, decided: str) -> None:
            await super().publish(decided)
            raise RuntimeError("broker refused")

    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)
        steps = FailingPublish(log, stream, {"a": ["b"]})
        await stream.batches.put(["a"])
        with pytest.raises(RuntimeError, match="broker refused"):
            await asyncio.wait_for(batch_loop(stream, steps, size=1), timeout=5)

    asyncio.run(main())
    assert log == ["read a", "submit a", "decide a", "read b", "publish a", "submit b",
                   "published a", "cancel a", "cancel b"]


def test_after_a_failure_the_stream_acknowledges_nothing_more() -> None:
    """Faust would run the agent again on the same stream; until then nothing it reads may be
    acknowledged unpublished (closing ``noack_take`` turns its automatic acks back on)."""

    class FailingDecide(RecordingSteps):
        async def decide(self, batch: str, stop: Any = None) -> str:
            raise RuntimeError("bug")

    log: list[str] = []

    async def main() -> FakeStream:
        stream = FakeStream(log)
        await stream.batches.put(["a"])
        with pytest.raises(RuntimeError, match="bug"):
            await asyncio.wait_for(
                batch_loop(stream, FailingDecide(log, stream)), timeout=5)
        return stream

    stream = asyncio.run(main())
    assert stream.enable_acks is False
    assert log == ["read a", "submit a", "cancel a"]


def test_a_batch_waiting_for_the_gate_is_released_when_the_loop_is_stopped() -> None:
    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)
        gate = StateGate()
        await stream.batches.put(["a"])
        async with gate.exclusive():  # a snapshot is being written
            loop = asyncio.create_task(
                batch_loop(stream, RecordingSteps(log, stream), gate))
            for _ in range(20):
                await asyncio.sleep(0)
            loop.cancel()
            with pytest.raises(asyncio.CancelledError):
                await loop

    asyncio.run(main())
    assert log == ["read a", "submit a", "cancel a"]


def test_a_snapshot_waits_for_the_batch_being_published() -> None:
    """decide and publish of a batch hold the state gate together (shared)."""
    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)
        gate = StateGate()

        class Snapshotting(RecordingSteps):
            async def decide(self, batch: str, stop: Any = None) -> str:
                snapshot = asyncio.create_task(self.snapshot())
                for _ in range(5):
                    await asyncio.sleep(0)
                assert not snapshot.done()
                self.pending = snapshot
                return await super().decide(batch, stop)

            async def snapshot(self) -> None:
                async with gate.exclusive():
                    log.append("snapshot")

        steps = Snapshotting(log, stream)
        await stream.batches.put(["a"])
        await stream.batches.put(None)
        await asyncio.wait_for(batch_loop(stream, steps, gate),
                               timeout=5)
        await steps.pending

    asyncio.run(main())
    assert log.index("snapshot") > log.index("publish a")


def test_a_full_batch_is_published_when_no_next_batch_comes() -> None:
    """After a full batch the loop waits for the next one at most a couple of windows."""
    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)
        loop = asyncio.create_task(batch_loop(stream, RecordingSteps(log, stream), size=1,
                                              within_s=0.01))
        await stream.batches.put(["a"])
        await asyncio.wait_for(_until(lambda: "ack a" in log), timeout=5)
        await stream.batches.put(None)
        await asyncio.wait_for(loop, timeout=5)

    asyncio.run(main())
    assert log == ["read a", "submit a", "decide a", "publish a", "published a", "ack a"]


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.001)


class TurnByTurnStream(FakeStream):
    """Faust's ``noack_take`` as it behaves: the stream moves one waiting event into the take's
    buffer per turn of the event loop, and the take hands over its buffer once it holds
    ``size`` events or its window has passed since it was asked for the next batch."""

    def __init__(self, log: list[str], waiting: list[str]) -> None:
        super().__init__(log)
        self.waiting = waiting

    async def noack_take(self, size: int, within: float) -> AsyncIterator[list[str]]:
        loop = asyncio.get_running_loop()
        buffer: list[str] = []

        async def drain() -> None:
            while self.waiting:
                if len(buffer) < size:
                    buffer.append(self.waiting.pop(0))
                await asyncio.sleep(0)

        drainer = asyncio.create_task(drain())
        try:
            while self.waiting or buffer:
                deadline = loop.time() + within
                while len(buffer) < size and self.waiting and loop.time() < deadline:
                    await asyncio.sleep(0)
                batch, buffer[:] = list(buffer), []
                self.log.append(f"read {len(batch)}")
                yield batch
        finally:
            drainer.cancel()


def test_in_a_backlog_every_batch_is_full() -> None:
    """Deciding a batch gives the event loop few turns (CPU work): a take begun with the
    decisions ran out of its window with a few events (every other batch had 3 of 256)."""
    log: list[str] = []

    class Busy(RecordingSteps):
        async def decide(self, batch: str, stop: Any = None) -> str:
            await asyncio.sleep(0)  # one turn, then CPU work longer than the window
            time.sleep(0.03)
            await asyncio.sleep(0)
            return await super().decide(batch, stop)

    async def main() -> None:
        stream = TurnByTurnStream(log, [f"e{i}" for i in range(32)])
        await asyncio.wait_for(batch_loop(stream, Busy(log, stream), size=8, within_s=0.01),
                               timeout=5)

    asyncio.run(main())
    assert [line for line in log if line.startswith("read")] == ["read 8"] * 4


def test_a_loop_stopped_while_a_batch_is_published_stops_the_publish() -> None:
    """The publish runs beside the wait for the next batch; a stop ends both."""
    log: list[str] = []

    class Stuck(RecordingSteps):
        async def publish(self, decided: str) -> None:
            self.log.append(f"publish {decided}")
            try:
                await asyncio.Event().wait()  # the broker never answers
            except asyncio.CancelledError:
                self.log.append(f"publish {decided} stopped")
                raise

    async def main() -> None:
        stream = FakeStream(log)
        await stream.batches.put(["a"])
        loop = asyncio.create_task(batch_loop(stream, Stuck(log, stream), size=1))
        await asyncio.wait_for(_until(lambda: "publish a" in log), timeout=5)
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(loop, timeout=5)

    asyncio.run(main())
    assert log == ["read a", "submit a", "decide a", "publish a", "publish a stopped", "cancel a"]


class Rebalance:
    """The loop's view of a rebalance (``Revocation``): events read before ``begin`` are
    stale once it is called; released events are logged."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.begun = False

    def begin(self) -> None:
        self.log.append("rebalance")
        self.begun = True

    def stale(self, event: str) -> bool:
        return self.begun

    def release(self, events: list[str]) -> None:
        self.log.append(f"release {'+'.join(events)}")

    def describe(self, events: list[str]) -> str:
        return "+".join(events)


class OneByOne(RecordingSteps):
    """Decides a batch event by event, asking ``stop`` before each; the rebalance begins
    after the event named ``rebalance_after``."""

    def __init__(self, log: list[str], stream: FakeStream, rebalance: Rebalance,
                 rebalance_after: str, during_decide: dict[str, list[str] | None]) -> None:
        super().__init__(log, stream, during_decide)
        self.rebalance = rebalance
        self.rebalance_after = rebalance_after

    async def decide(self, batch: str, stop: Any = None) -> str:
        decided = []
        for event in batch.split("+"):
            if stop():
                break
            self.log.append(f"decide {event}")
            decided.append(event)
            if batch in self.during_decide:  # the next batch arrives during the first event
                await self.stream.batches.put(self.during_decide.pop(batch))
                for _ in range(5):
                    await asyncio.sleep(0)
            if event == self.rebalance_after:
                self.rebalance.begin()
        return "+".join(decided)


def test_a_rebalance_stops_the_batch_and_releases_what_it_did_not_decide() -> None:
    """Faust's revocation waits for every event read to be acknowledged: the batch stops
    before its next event, what it decided is published and acknowledged, the rest of it and
    the batch read meanwhile are released (delivered again after the rebalance), not acked."""
    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)
        rebalance = Rebalance(log)
        steps = OneByOne(log, stream, rebalance, "b", {"a+b+c+d": ["e", "f"]})
        await stream.batches.put(["a", "b", "c", "d"])
        loop = asyncio.create_task(batch_loop(stream, steps, size=2, revocation=rebalance))
        await asyncio.wait_for(_until(lambda: "release c+d" in log), timeout=5)
        await stream.batches.put(None)
        await asyncio.wait_for(loop, timeout=5)

    asyncio.run(main())
    assert log == [
        "read a+b+c+d", "submit a+b+c+d", "decide a", "decide b", "rebalance",
        "read e+f", "publish a+b", "release e+f",  # read after the batch's decisions (backlog)
        "published a+b", "ack a", "ack b", "release c+d",
    ]


def test_a_batch_read_ahead_is_released_when_a_rebalance_begins_during_the_publish() -> None:
    log: list[str] = []
    rebalance = Rebalance(log)

    class RebalancedWhilePublished(RecordingSteps):
        async def publish(self, decided: str) -> None:
            if decided == "a":
                rebalance.begin()
            await super().publish(decided)

    async def main() -> None:
        stream = FakeStream(log)
        steps = RebalancedWhilePublished(log, stream, {"a": ["b"]})
        await stream.batches.put(["a"])
        loop = asyncio.create_task(batch_loop(stream, steps, size=2, revocation=rebalance))
        await asyncio.wait_for(_until(lambda: "release b" in log), timeout=5)
        await stream.batches.put(None)
        await asyncio.wait_for(loop, timeout=5)

    asyncio.run(main())
    assert log == ["read a", "submit a", "decide a", "read b", "submit b", "rebalance",
                   "publish a", "published a", "ack a", "cancel b", "release b"]


def test_a_batch_read_once_a_rebalance_began_is_released_unsubmitted() -> None:
    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)
        rebalance = Rebalance(log)
        rebalance.begin()
        await stream.batches.put(["a", "b"])
        await stream.batches.put(None)
        await asyncio.wait_for(
            batch_loop(stream, RecordingSteps(log, stream), revocation=rebalance), timeout=5)

    asyncio.run(main())
    assert log == ["rebalance", "read a+b", "release a+b"]


def test_a_batch_is_decided_once_the_replica_has_caught_up_and_outside_the_gate() -> None:
    # After an assignment the replica catches up with the log (streams.shell.replica): the
    # batch waits for it, and not inside the gate, where a snapshot waiting for the gate
    # would hold up the replica the batch waits for.
    log: list[str] = []

    async def main() -> None:
        stream = FakeStream(log)
        gate = StateGate()
        caught_up = asyncio.Event()

        async def wait_for_replica() -> None:
            log.append("wait for the replica")
            await caught_up.wait()

        async def snapshot_then_replica() -> None:
            await asyncio.sleep(0.01)  # the batch is waiting for the replica by now
            async with gate.exclusive():  # not held up by the waiting batch
                log.append("snapshot")
            async with gate.shared():  # the replica applies the log, then has caught up
                caught_up.set()

        await stream.batches.put(["a"])
        await stream.batches.put(None)
        helper = asyncio.create_task(snapshot_then_replica())
        await asyncio.wait_for(run_batches(stream, RecordingSteps(log, stream), gate, size=2,
                                           within_s=0.5, caught_up=wait_for_replica),
                               timeout=5)
        await helper

    asyncio.run(main())
    assert log[:5] == ["read a", "submit a", "wait for the replica", "snapshot", "decide a"]
