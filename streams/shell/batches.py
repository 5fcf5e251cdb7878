"""The agent's batch loop: the next batch is prepared while this one is decided and published.

A batch goes through three steps: the stateless step (the prepare pool's processes), the
decisions (this event loop, in order), then the hold, its outputs and the producer's flush
(:mod:`streams.shell.agents`). Batch by batch, the pool's processes idled through the last
two and this loop through the first: one worker kept its two cores 1.6 busy. So when the
next batch is already waiting (a backlog) it is handed to the pool before this batch's
outputs are published, and its decisions start as soon as they are out.

In a backlog (this batch is full) the next batch is read once this one is decided, not while
it is: Faust's ``take`` hands over whatever it holds when its window (``within_s``) runs out,
and its stream moves one event into it per turn of the event loop. A decision gives the loop a
turn only now and then, so a take begun with the decisions ran out of window holding a
handful of events: every other batch had 3 of 256 events, and with two workers each of them
held its outputs for the full hold (``streams.core.hold``) with nothing to prepare meanwhile,
idle a fifth of the time. Begun after the decisions, while this batch's outputs are held and
flushed (the loop is then free to fill it), the take is full within milliseconds and is
submitted before this batch's publish ends. A live stream (this batch not full) reads the next
batch while this one is decided, as before, and its outputs do not wait for it.

Nothing else changes. Decisions stay in batch order, one batch at a time, in this event
loop; the stateless step reads no state, so preparing a batch early cannot change a verdict.
Offsets are acknowledged by hand (Faust's ``noack_take``), each batch's once its outputs are
published and flushed, exactly as ``take_events`` did after the batch returned: a batch read
ahead is not acknowledged until it is published in its turn, so a crash loses nothing. At
most two batches are unacknowledged (one before: a rebalance or a stop waits for them). A
live stream (no batch waiting) is not held back: the next batch is then not waited for
before this one's outputs leave. When the loop ends on an error, the stream acknowledges
nothing more (the agent then stops the worker: see ``register_agent``).

A rebalance does not wait for whole batches. Faust's revocation waits until every message its
stream handed out is acknowledged (``Consumer.wait_empty``); with whole pages (30-60 ms of CPU
each) two batches of 256 were many seconds, and the group with them (a worker joining during a
backlog got partitions 18 s later, and Faust logged "Task timed out"). So once a rebalance has
begun (``Revocation.stale``: what Faust's own stream skips), the batch being decided stops
before its next message, the messages it decided are published and acknowledged as usual
(per partition, only an unbroken run of offsets: ``streams.core.acks``), and every message read
and not decided (the rest of that batch, the batch read ahead, a take ending meanwhile) is
released (``Revocation.release``): never acknowledged, so never committed, and delivered again
after the rebalance, to whichever worker then holds its partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import faust

from streams.shell.gate import StateGate

log = logging.getLogger(__name__)

Events = Sequence[faust.EventT[Any]]
B = TypeVar("B")  # a submitted batch
H = TypeVar("H")  # a decided batch
# How long a full batch's successor may take to fill, in batch windows: Faust's take ends at
# its own window, so this only bounds a take that the loop has not resumed by then.
FILL_WAIT_WINDOWS = 2


class _Ahead(Generic[B]):
    """The batch read ahead: its events and what ``submit`` made of them."""

    def __init__(self, events: Events, batch: B) -> None:
        self.events = events
        self.batch = batch


class BatchSteps(Protocol[B, H]):
    """What is done with a batch, step by step."""

    def submit(self, events: Events) -> B:
        """Start the stateless step of a batch (returns at once)."""

    async def decide(self, batch: B, stop: Callable[[], bool]) -> H:
        """Decide a submitted batch, in order; before each message, stop when ``stop()``."""

    async def publish(self, decided: H) -> None:
        """Publish a decided batch; return once the broker has it all."""

    def cancel(self, batch: B) -> None:
        """Release a submitted batch that will not be decided (the loop stopped)."""

    def unfinished(self, decided: H, events: Events) -> Events:
        """The events of a batch (``decided`` came from them) that must not be acknowledged:
        those not decided and, in their partition, every one after them."""


class Revocation(Protocol):
    """What the loop knows of a rebalance taking the worker's partitions (Faust's view)."""

    def stale(self, event: faust.EventT[Any]) -> bool:
        """A rebalance began after ``event`` was read: it is not to be decided now."""

    def release(self, events: Events) -> None:
        """Stop waiting for ``events`` to be acknowledged: they will be delivered again."""

    def describe(self, events: Events) -> str:
        """Where ``events`` are (partitions and offsets), for a log line."""


async def run_batches(  # noqa: PLR0912, PLR0915  # one loop, its steps in order, kept whole
    stream: faust.StreamT[Any], steps: BatchSteps[B, H], gate: StateGate, *, size: int,
    within_s: float, revocation: Revocation | None = None,
    caught_up: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Until the stream stops: take up to ``size`` events (waiting at most ``within_s`` for
    more), submit them, decide them, publish that, acknowledge the events.

    ``decide`` and ``publish`` of one batch run under ``gate`` (a snapshot never sees half a
    batch). Once ``decide`` returns, the batch is published while the next one is read (after a
    full batch, waiting up to ``FILL_WAIT_WINDOWS`` windows for it); when it is there, it is
    submitted before the publish ends.

    Once ``revocation`` says a rebalance has begun, no more messages are decided: see the
    module docstring. ``caught_up`` is awaited before each batch is decided, outside the
    gate (a snapshot waiting for it would hold up what it waits for): the replica's
    catch-up after an assignment (:meth:`streams.shell.replica.IndexReplica.caught_up`).
    """

    def stale(events: Events) -> bool:
        return revocation is not None and any(map(revocation.stale, events))

    def release(events: Events, why: str) -> None:
        assert revocation is not None  # only stale or undecided events are released
        log.info("rebalance: %d message(s) %s left unacknowledged (%s), to be delivered again",
                 len(events), why, revocation.describe(events))
        revocation.release(events)

    batches: AsyncIterator[Events] = aiter(
        stream.noack_take(size, within=within_s)  # type: ignore[attr-defined]  # not on StreamT
    )
    upcoming: asyncio.Future[Events] | None = None
    current: _Ahead[B] | None = None
    ahead: _Ahead[B] | None = None
    try:
        while True:
            if ahead is None:
                upcoming = upcoming or asyncio.ensure_future(anext(batches))
                try:
                    events = await upcoming
                except StopAsyncIteration:
                    return
                upcoming = None
                if stale(events):
                    release(events, "read as a rebalance began")
                    continue
                ahead = _Ahead(events, steps.submit(events))
            current, ahead = ahead, None
            backlog = len(current.events) >= size
            if not backlog:  # live: the next batch is read while this one is decided
                upcoming = upcoming or asyncio.ensure_future(anext(batches))
            if caught_up is not None:
                await caught_up()
            async with gate.shared():
                decided = await steps.decide(current.batch, _stop(revocation, current.events))
                # At most two batches unacknowledged; in a backlog the next one is read only
                # now (see the module docstring).
                upcoming = upcoming or asyncio.ensure_future(anext(batches))
                # Published meanwhile: the next batch fills during the hold and the flush.
                publishing = asyncio.ensure_future(steps.publish(decided))
                try:
                    if backlog:  # the next batch is waiting: it fills at once
                        await asyncio.wait({upcoming}, timeout=FILL_WAIT_WINDOWS * within_s)
                    if _ready(upcoming):  # the pool prepares it while this one is out
                        events, upcoming = upcoming.result(), None
                        if stale(events):
                            release(events, "read as a rebalance began")
                        else:
                            ahead = _Ahead(events, steps.submit(events))
                    await publishing
                except BaseException:
                    await _cancel(publishing)
                    raise
            unfinished = steps.unfinished(decided, current.events)
            left = {id(event) for event in unfinished}
            for event in current.events:
                if id(event) not in left:
                    await stream.ack(event)
            if unfinished:
                release(unfinished, f"of a batch of {len(current.events)} cut short")
            current = None
            if ahead is not None and stale(ahead.events):
                steps.cancel(ahead.batch)
                release(ahead.events, "read ahead")
                ahead = None
    finally:
        if upcoming is not None:
            await _cancel(upcoming)
        for unread in (current, ahead):
            if unread is not None:
                steps.cancel(unread.batch)
        # Closing the generator turns the stream's automatic acks back on; turned off again,
        # so that nothing read from it from now on is acknowledged without being published.
        with contextlib.suppress(BaseException):
            await batches.aclose()  # type: ignore[attr-defined]  # an async generator
        stream.enable_acks = False


async def _cancel(future: asyncio.Future[Any]) -> None:
    """Cancel ``future`` and wait until it has stopped, whatever it ends with."""
    future.cancel()
    with contextlib.suppress(BaseException):
        await future


def _stop(revocation: Revocation | None, events: Events) -> Callable[[], bool]:
    """When to stop deciding ``events``: once a rebalance began (a batch is read in one
    generation, so its first event stands for all)."""
    if revocation is None:
        return lambda: False
    first = events[0]
    return lambda: revocation.stale(first)


def _ready(future: asyncio.Future[Events]) -> bool:
    """Done with a batch (not the stream's end, nor a failure: those are met at the top)."""
    return future.done() and not future.cancelled() and future.exception() is None
