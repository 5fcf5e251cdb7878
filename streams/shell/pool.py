"""The stateless step in worker processes, so one worker uses every core of its host.

Each child process loads the heavy resources once (trafilatura, the language model) and then
prepares chunks of a batch, sending back one result per message, in order. The agent reads
the results of a batch in offset order while later chunks are still being prepared, and
decides and publishes in its own event loop, so commit semantics do not change.

Nothing is lost: a message that overruns its CPU budget is a ``processing_timeout``
rejection (enforced in the child); a child stuck in C code past the wall-clock deadline is
killed and replaced, its message rejected the same way and the rest of its chunk retried
on the new child; a child that dies is replaced and the message retried once, then rejected
as ``internal_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from streams.core.config import CoreConfig
from streams.core.dedup.minhash import fingerprint as minhash_fingerprint
from streams.core.errors import InternalError, ProcessingTimeoutError
from streams.core.prepare import Fingerprinter, Prepared, Rejected
from streams.core.records import RawMessage
from streams.kafka.process import die_with_parent
from streams.shell.budget import prepare_within
from streams.shell.collector import collect_less_often, freeze_what_lives

log = logging.getLogger(__name__)

Result = Prepared | Rejected
# A child stuck in C code ignores its CPU budget; it is replaced after this many times the
# budget of wall-clock time (wall time runs faster than CPU time on a loaded host).
WALL_DEADLINE_FACTOR = 3.0
# Chunks per child and batch: small enough that the first results come back while later
# chunks are still prepared, large enough that pipe round trips stay cheap.
CHUNKS_PER_CHILD = 4
# Without the pool, the stateless step runs in the event loop: it gives the other tasks (the
# replica, the producer) a turn this often.
YIELD_EVERY_S = 0.05


def _warm_up(config: CoreConfig, fingerprinter: Fingerprinter, budget_s: float) -> None:
    """Load trafilatura, the language model and compile regexes once, before the first batch."""
    sample = (b'{"id": "warm-up", "body": "<html><body><article><p>Warm up the language '
              b'model and the extractor once per process.</p></article></body></html>"}')
    prepare_within(RawMessage("warm-up", 0, 0, None, sample, 0), config, 0, fingerprinter)


def child_main(
    conn: Connection, config: CoreConfig, fingerprinter: Fingerprinter, budget_s: float,
    parent: int,
) -> None:
    """A pool process: prepare each received chunk, one result per message, in order."""
    die_with_parent(signal.SIGKILL, parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    collect_less_often()
    _warm_up(config, fingerprinter, budget_s)
    freeze_what_lives()  # trafilatura, the language model: alive until exit
    try:
        conn.send("ready")
        while (chunk := conn.recv()) is not None:
            for raw in chunk:
                conn.send(_slim(prepare_within(raw, config, budget_s, fingerprinter)))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return  # the parent closed the pipe: it is stopping, or gave up on this process


# What a child puts in place of the raw message it sends back: the parent has the message.
_SENT_BACK = RawMessage("", 0, 0, None, None, 0)


def _slim(result: Result) -> Result:
    """A result as a child sends it back: without the raw message, which the parent holds,
    and without the envelope's body, which only the stateless step reads. Half the bytes to
    pickle, pipe and unpickle on a page (the body and the raw value are each the page)."""
    if isinstance(result, Prepared):
        envelope = dataclasses.replace(result.envelope, body="")
        return dataclasses.replace(result, raw=_SENT_BACK, envelope=envelope)
    return dataclasses.replace(result, raw=_SENT_BACK)


def _restored(result: Result, raw: RawMessage) -> Result:
    """A child's result with the parent's raw message back in place."""
    return dataclasses.replace(result, raw=raw)


@contextlib.contextmanager
def _sigint_ignored_by_children() -> Iterator[None]:
    """Processes started within the block ignore SIGINT from their first instruction.

    child_main ignores it too, but only after the child has imported its modules (about a
    second): a Ctrl-C at a terminal, which reaches the whole process group, printed a
    KeyboardInterrupt traceback from each child still importing. An ignored signal stays
    ignored through exec, and Python keeps it so. This process ignores SIGINT for the few
    milliseconds of the fork and exec too (a Ctrl-C just then is lost); only the main thread
    may change handlers, so elsewhere the block changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


class _Child:
    """One pool process and its pipe."""

    def __init__(self, ctx: Any, config: CoreConfig, fingerprinter: Fingerprinter,
                 budget_s: float) -> None:
        self.conn, child_conn = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(
            target=child_main, args=(child_conn, config, fingerprinter, budget_s, os.getpid()),
            name="ingest-prepare", daemon=True,
        )
        with _sigint_ignored_by_children():
            self.process.start()
        child_conn.close()

    async def recv(self, timeout_s: float | None) -> Any:
        """The next object from the child; ``TimeoutError`` or ``EOFError`` if none comes."""
        loop = asyncio.get_running_loop()
        if not self.conn.poll():
            readable: asyncio.Future[None] = loop.create_future()
            fd = self.conn.fileno()

            def on_readable() -> None:
                if not readable.done():
                    readable.set_result(None)

            loop.add_reader(fd, on_readable)
            try:
                await asyncio.wait_for(readable, timeout_s)
            finally:
                loop.remove_reader(fd)
        return self.conn.recv()

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(5)
        self.conn.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
        self.conn.close()


def _settle(future: asyncio.Future[Result], result: Result) -> None:
    """Set a message's result, unless its reader gave up on it: a batch cut short by a
    rebalance is read no further, and awaiting a result cancels it when the reader is
    cancelled. (Setting it anyway raised ``InvalidStateError``, which killed the child
    preparing the chunk and logged "Task exception was never retrieved": a new-user trial
    scaling 1 -> 2 -> 3 workers.)"""
    if not future.done():
        future.set_result(result)


def _fail_unset(futures: Sequence[asyncio.Future[Result]], exc: BaseException) -> None:
    """Pass ``exc`` to every result not set yet (cancelled, if the preparing was)."""
    for future in futures:
        if not future.done():
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)


class SubmittedBatch:
    """A batch handed to :meth:`PreparePool.submit`: its results, in order, by ``async for``
    (once); :meth:`cancel` stops what is left of it (always call it, read or not)."""

    def __init__(self, slots: list[list[asyncio.Future[Result]]],
                 tasks: list[asyncio.Task[None]]) -> None:
        self._slots = slots
        self._tasks = tasks

    async def __aiter__(self) -> AsyncIterator[Result]:
        for slot in self._slots:
            for future in slot:
                yield await future

    def cancel(self) -> None:
        for task in self._tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: it also reached the chunk's results
            task.cancel()
        for slot in self._slots:  # a failed chunk's error reached its first unread result
            for future in slot:
                if future.done() and not future.cancelled():
                    future.exception()
                future.cancel()


class PreparePool:
    """Runs :func:`streams.core.prepare.prepare_total` in ``processes`` child processes.

    ``processes == 0`` prepares in this process (the pool off), under the same CPU budget.
    """

    def __init__(
        self,
        config: CoreConfig,
        processes: int,
        budget_s: float,
        fingerprinter: Fingerprinter = minhash_fingerprint,
        wall_deadline_s: float | None = None,
    ) -> None:
        self.config = config
        self.processes = processes
        self.budget_s = budget_s
        self.wall_deadline_s = (
            wall_deadline_s if wall_deadline_s is not None
            else budget_s * WALL_DEADLINE_FACTOR + 5.0
        )
        self.fingerprinter = fingerprinter
        self.replaced = 0  # children replaced after a timeout or a crash
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Child] = asyncio.Queue()
        self._children: list[_Child] = []
        self._respawning: list[asyncio.Task[None]] = []
        self.started = False  # every child has loaded its resources (readiness)

    async def start(self) -> None:
        """Start the children and wait until each has loaded its resources."""
        for _ in range(self.processes):
            child = await self._spawn()
            self._children.append(child)
            self._idle.put_nowait(child)
        if self.processes:
            log.info("prepare pool: %d processes", self.processes)
        self.started = True

    async def stop(self) -> None:
        for task in self._respawning:
            task.cancel()
        for child in self._children:
            await asyncio.to_thread(child.close)
        self._children.clear()

    async def prepare(self, raws: Sequence[RawMessage]) -> AsyncIterator[Result]:
        """Results for ``raws``, in their order, as soon as each is ready."""
        batch = self.submit(raws)
        try:
            async for result in batch:
                yield result
        finally:
            batch.cancel()

    def submit(self, raws: Sequence[RawMessage]) -> SubmittedBatch:
        """Start preparing ``raws`` now; read the results, in order, from the returned batch.

        With the pool, the batch's chunks wait for idle children behind every chunk submitted
        before them, so a batch submitted while another is read is prepared right after it.
        Without it, a task of this event loop prepares the batch, giving the other tasks a
        turn every ``YIELD_EVERY_S``.
        """
        loop = asyncio.get_running_loop()
        if not self.processes:
            # In this event loop, as a task: it prepares while the batch before this one waits
            # for its hold and its flush, and while this one is decided.
            slot = [loop.create_future() for _ in raws]
            return SubmittedBatch([slot], [asyncio.create_task(self._inline(raws, slot))])
        size = max(1, -(-len(raws) // (self.processes * CHUNKS_PER_CHILD)))
        chunks = [list(raws[i:i + size]) for i in range(0, len(raws), size)]
        # One future per message, set as its result arrives: the agent decides the first
        # message of a batch as soon as it is prepared, not when its whole chunk is.
        slots = [[loop.create_future() for _ in chunk] for chunk in chunks]
        tasks = [asyncio.create_task(self._on_idle_child(chunk, slot))
                 for chunk, slot in zip(chunks, slots, strict=True)]
        return SubmittedBatch(slots, tasks)

    async def _inline(self, raws: Sequence[RawMessage], slot: list[asyncio.Future[Result]]) -> None:
        paused = time.monotonic()
        try:
            for raw, future in zip(raws, slot, strict=True):
                _settle(future, prepare_within(raw, self.config, self.budget_s,
                                               self.fingerprinter))
                # Let the replica apply what arrived now and then: a batch decided without a
                # pause leaves it a whole batch behind, and the window in which two workers
                # race (and re-decide each other's articles) that much wider. Not after every
                # message: each pause also lets the producer send a smaller batch.
                if time.monotonic() - paused >= YIELD_EVERY_S:
                    await asyncio.sleep(0)
                    paused = time.monotonic()
        except BaseException as exc:  # the reader meets it at the first result not prepared
            _fail_unset(slot, exc)
            raise

    async def _on_idle_child(
        self, chunk: list[RawMessage], slots: list[asyncio.Future[Result]]
    ) -> None:
        child = await self._idle.get()
        try:
            child = await self._run_chunk(child, chunk, slots)
        except BaseException as exc:
            # Interrupted mid-chunk (cancelled, or the pipe failed): the child may still send
            # results of this chunk, so it is never reused.
            child.kill()
            self._children = [c for c in self._children if c is not child]
            self._respawning.append(asyncio.create_task(self._respawn()))
            _fail_unset(slots, exc)
            raise
        self._idle.put_nowait(child)

    async def _respawn(self) -> None:
        child = await self._spawn()
        self._children.append(child)
        self._idle.put_nowait(child)

    async def _run_chunk(
        self, child: _Child, chunk: list[RawMessage], slots: list[asyncio.Future[Result]]
    ) -> _Child:
        """Prepare ``chunk`` on ``child``, each result into its slot; returns the child that
        finished the chunk (a replacement when the first one had to go)."""
        done = 0
        retried: set[int] = set()
        child.conn.send(chunk)
        while done < len(chunk):
            raw = chunk[done]
            try:
                _settle(slots[done], _restored(await child.recv(self.wall_deadline_s), raw))
                done += 1
                continue
            except TimeoutError:
                log.error("message %s overran its wall-clock deadline; replacing the process",
                          raw.origin_str)
                _settle(slots[done], Rejected(raw, ProcessingTimeoutError(
                    f"processing exceeded {self.wall_deadline_s:g} s of wall-clock time")))
                done += 1
            except (EOFError, OSError):
                if done in retried:
                    log.error("message %s crashed a prepare process twice", raw.origin_str)
                    _settle(slots[done], Rejected(raw, InternalError(
                        "the process preparing this message died (twice)")))
                    done += 1
                else:
                    log.warning("a prepare process died on %s; retrying", raw.origin_str)
                    retried.add(done)
            child = await self._replace(child)
            rest = chunk[done:]
            if rest:
                child.conn.send(rest)
        return child

    async def _replace(self, child: _Child) -> _Child:
        await asyncio.to_thread(child.kill)
        self.replaced += 1
        new = await self._spawn()
        self._children = [new if c is child else c for c in self._children]
        return new

    async def _spawn(self) -> _Child:
        child = _Child(self._ctx, self.config, self.fingerprinter, self.budget_s)
        try:
            ready = await child.recv(timeout_s=120.0)
        except BaseException:
            # Not in the pool yet, so stop() would not end it: a worker stopped while its
            # children load (right after /readyz turned 200) left them to find a closed pipe.
            child.kill()
            raise
        if ready != "ready":
            child.kill()
            raise RuntimeError(f"prepare process failed to start: {ready!r}")
        return child
