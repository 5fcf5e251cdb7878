"""The rebalance view the batch loop gets from Faust (streams.kafka.faust_compat)."""

from __future__ import annotations

import asyncio
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
    def __init__(self, generation_id: int) -> None:
        self.generation_id = generation_id


def event(generation_id: int) -> Any:
    return SimpleNamespace(message=Message(generation_id))


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


def test_release_does_nothing_when_faust_renames_its_unacked_set() -> None:
    faust_app = app()
    del faust_app.consumer._unacked_messages
    StreamRevocation(faust_app).release([event(3)])  # no error: revocations wait as before


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

    commit_before_revocation()
    patched = Consumer.on_partitions_revoked
    commit_before_revocation()
    assert Consumer.on_partitions_revoked is patched
    assert getattr(patched, "_commits_first", False)
