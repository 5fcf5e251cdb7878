"""The prepare pool: order, equality with in-process preparation, and nothing lost."""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from streams.core.config import CoreConfig
from streams.core.dedup.config import MinHashConfig
from streams.core.dedup.minhash import fingerprint as minhash_fingerprint
from streams.core.dedup.model import Fingerprint
from streams.core.prepare import Prepared, Rejected
from streams.core.records import RawMessage
from streams.shell import pool as pool_module
from streams.shell.pool import PreparePool
from tests.harness import SAMPLES, envelope

CONFIG = CoreConfig()


def hostile_fingerprint(tokens: Sequence[str], fp_text: str, config: MinHashConfig) -> Fingerprint:
    """Misbehaves on marker words: spins (CPU), blocks (no CPU) or kills its process."""
    if "spinforever" in fp_text:
        while True:
            pass
    if "blockforever" in fp_text:
        time.sleep(3600)
    if "crashprocess" in fp_text:
        os._exit(1)
    if "waitforfile" in fp_text:  # blocks until the test creates the file named in the text
        path = fp_text.split("waitforfile ")[1].split(maxsplit=1)[0]
        while not os.path.exists(f"/tmp/{path}"):
            time.sleep(0.01)
    return minhash_fingerprint(tokens, fp_text, config)


def raws(values: list[bytes]) -> list[RawMessage]:
    return [RawMessage("articles.raw", 0, i, None, v, 1_000 + i) for i, v in enumerate(values)]


def text(word: str, offset: int) -> bytes:
    return f"Article {offset} says {word} and then some more words to make a body.".encode()


def summary(result: Prepared | Rejected) -> tuple[int, str]:
    if isinstance(result, Rejected):
        return (result.raw.offset, result.error.code)
    return (result.raw.offset, result.fingerprint.content_hash)


async def collect(pool: PreparePool, messages: list[RawMessage]) -> list[Prepared | Rejected]:
    assert not pool.started  # /readyz waits for this: the children load for seconds
    await pool.start()
    assert pool.started
    try:
        return [result async for result in pool.prepare(messages)]
    finally:
        await pool.stop()


def test_results_come_back_in_order_and_equal_in_process_ones() -> None:
    messages = raws([envelope(p) for p in SAMPLES] * 4 + [b"{\"id\": \"x\"}"])
    pooled = asyncio.run(collect(PreparePool(CONFIG, 2, budget_s=30), messages))
    inline = asyncio.run(collect(PreparePool(CONFIG, 0, budget_s=30), messages))
    assert [summary(r) for r in pooled] == [summary(r) for r in inline]
    assert [r.raw.offset for r in pooled] == list(range(21))
    assert isinstance(pooled[-1], Rejected)
    # A child sends neither the raw message (the parent's own is put back) nor the body.
    assert all(p.raw is m for p, m in zip(pooled, messages, strict=True))
    for p, i in zip(pooled, inline, strict=True):
        if isinstance(p, Prepared):
            assert isinstance(i, Prepared)
            assert p.envelope == dataclasses.replace(i.envelope, body="")
            assert (p.id, p.article, p.metadata, p.forms, p.profile, p.story_terms) == (
                i.id, i.article, i.metadata, i.forms, i.profile, i.story_terms)


@pytest.mark.parametrize("processes", [0, 1])
def test_a_message_over_its_cpu_budget_is_dead_lettered_and_the_rest_flow(
    processes: int,
) -> None:
    messages = raws([text("fine", 0), text("spinforever", 1), text("fine", 2)])
    pool = PreparePool(CONFIG, processes, budget_s=0.3, fingerprinter=hostile_fingerprint)
    results = asyncio.run(collect(pool, messages))
    assert [summary(r)[1] == "processing_timeout" for r in results] == [False, True, False]
    assert pool.replaced == 0  # the budget was enough: no process had to be killed


def test_a_process_stuck_past_the_wall_deadline_is_replaced() -> None:
    messages = raws([text("blockforever", 0), text("fine", 1), text("fine", 2)])
    pool = PreparePool(CONFIG, 1, budget_s=0.3, fingerprinter=hostile_fingerprint,
                       wall_deadline_s=1.0)
    results = asyncio.run(collect(pool, messages))
    assert [summary(r)[1] == "processing_timeout" for r in results] == [True, False, False]
    assert pool.replaced == 1


def test_a_crashing_message_is_retried_once_then_an_internal_error() -> None:
    messages = raws([text("fine", 0), text("crashprocess", 1), text("fine", 2)])
    pool = PreparePool(CONFIG, 1, budget_s=5, fingerprinter=hostile_fingerprint)
    results = asyncio.run(collect(pool, messages))
    assert [summary(r)[1] for r in results][1] == "internal_error"
    assert isinstance(results[0], Prepared) and isinstance(results[2], Prepared)
    assert pool.replaced == 2


def test_a_result_comes_back_before_the_rest_of_its_chunk_is_prepared() -> None:
    # One process; 8 messages make chunks of 2, and the second message of the first chunk
    # blocks until the first result has been read.
    name = f"pooltest{os.getpid()}x{time.monotonic_ns()}"  # a single fingerprint token
    messages = raws([text("fine", 0), text(f"waitforfile {name} ", 1),
                     *(text("fine", i) for i in range(2, 8))])
    pool = PreparePool(CONFIG, 1, budget_s=30, fingerprinter=hostile_fingerprint)

    async def first_then_release() -> list[Prepared | Rejected]:
        await pool.start()
        try:
            results = pool.prepare(messages)
            first = await asyncio.wait_for(anext(results), 20)
            Path(f"/tmp/{name}").touch()
            return [first] + [r async for r in results]
        finally:
            Path(f"/tmp/{name}").unlink(missing_ok=True)
            await pool.stop()

    results = asyncio.run(first_then_release())
    assert [r.raw.offset for r in results] == list(range(8))
    assert all(isinstance(r, Prepared) for r in results)


def test_without_processes_the_event_loop_gets_a_turn_between_slow_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Inline, the stateless step gives other tasks (the replica) a turn once
    ``YIELD_EVERY_S`` has passed, not only when the batch is done."""
    monkeypatch.setattr(pool_module, "YIELD_EVERY_S", 0.0)
    turns: list[int] = []

    async def main() -> list[int]:
        pool = PreparePool(CONFIG, 0, budget_s=30)
        prepared = 0

        async def other_task() -> None:
            while True:
                turns.append(prepared)
                await asyncio.sleep(0)

        task = asyncio.create_task(other_task())
        await asyncio.sleep(0)
        async for _ in pool.prepare(raws([text("x", i) for i in range(3)])):
            prepared += 1
        task.cancel()
        return sorted(set(turns))

    # a turn before each message is prepared (the batch is prepared by a task of the loop)
    assert asyncio.run(main()) == [0, 1, 2]
    monkeypatch.setattr(pool_module, "YIELD_EVERY_S", 3600.0)
    turns.clear()
    assert asyncio.run(main()) == [0]  # not during the batch


@pytest.mark.parametrize("processes", [0, 1])
def test_a_batch_submitted_while_another_is_read_is_prepared_meanwhile(processes: int) -> None:
    """The agent submits the next batch before publishing this one (streams.shell.batches):
    it is prepared in the background, and both come back whole and in order."""

    async def main() -> tuple[list[bytes], list[bytes], bool]:
        pool = PreparePool(CONFIG, processes, budget_s=30)
        await pool.start()
        try:
            first = pool.submit(raws([text("first", i) for i in range(4)]))
            second = pool.submit(raws([text("second", i) for i in range(4, 8)]))
            read_first = [r.raw.value async for r in first]
            for _ in range(200):  # the second batch needs no reader to be prepared
                if all(f.done() for slot in second._slots for f in slot):
                    break
                await asyncio.sleep(0.01)
            ready = all(f.done() for slot in second._slots for f in slot)
            read_second = [r.raw.value async for r in second]
            first.cancel()
            second.cancel()
            return read_first, read_second, ready
        finally:
            await pool.stop()

    assert asyncio.run(main()) == ([text("first", i) for i in range(4)],
                                   [text("second", i) for i in range(4, 8)], True)


def test_without_processes_a_failure_reaches_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure outside ``prepare_total`` (which catches everything else) is raised to the
    reader at the first result it cost, not left as a result that never comes."""
    real = pool_module.prepare_within

    def failing(raw: RawMessage, *args: Any) -> Any:
        if raw.offset == 1:
            raise MemoryError
        return real(raw, *args)

    monkeypatch.setattr(pool_module, "prepare_within", failing)

    async def main() -> list[int]:
        batch = PreparePool(CONFIG, 0, budget_s=30).submit(raws([text("x", i) for i in range(3)]))
        read: list[int] = []
        try:
            async for result in batch:
                read.append(result.raw.offset)
        finally:
            batch.cancel()
        return read

    with pytest.raises(MemoryError):
        asyncio.run(asyncio.wait_for(main(), timeout=10))


def test_a_start_stopped_while_a_child_loads_leaves_no_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[pool_module._Child] = []

    class Recorded(pool_module._Child):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            started.append(self)

    monkeypatch.setattr(pool_module, "_Child", Recorded)

    async def stop_while_loading() -> None:
        start = asyncio.create_task(PreparePool(CONFIG, 1, 5.0).start())
        while not started:
            await asyncio.sleep(0.01)
        start.cancel()
        with pytest.raises(asyncio.CancelledError):
            await start

    asyncio.run(stop_while_loading())
    # Before, it went on loading and then met the closed pipe: a BrokenPipeError traceback
    # in the worker's log after a Ctrl-C right after /readyz turned 200.
    assert not started[0].process.is_alive()


def test_a_child_whose_parent_closed_the_pipe_exits_quietly(
    capfd: pytest.CaptureFixture[str],
) -> None:
    ctx = multiprocessing.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    process = ctx.Process(target=pool_module.child_main,
                          args=(child_end, CONFIG, minhash_fingerprint, 5.0, os.getpid()))
    process.start()
    child_end.close()
    parent_end.close()  # before the child is ready: its "ready" meets a closed pipe
    process.join(60)
    assert process.exitcode == 0
    assert "Traceback" not in capfd.readouterr().err


def _send_sigint_handler(conn: Any) -> None:
    conn.send(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)


def test_children_ignore_sigint_from_their_start_and_the_parent_keeps_its_handler() -> None:
    ctx = multiprocessing.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    before = signal.getsignal(signal.SIGINT)
    with pool_module._sigint_ignored_by_children():
        process = ctx.Process(target=_send_sigint_handler, args=(child_end,))
        process.start()
    assert signal.getsignal(signal.SIGINT) is before
    assert parent_end.recv() is True
    process.join(30)


@pytest.mark.parametrize("processes", [0, 1])
def test_a_result_whose_reader_gave_up_is_dropped_and_the_rest_prepared(
    processes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader cancelled while it awaits a result (a batch cut short by a rebalance) cancels
    that result. Setting it when it arrived raised ``InvalidStateError``: the child was
    killed and "Task exception was never retrieved" logged (a new-user trial scaling
    1 -> 2 -> 3 workers)."""
    monkeypatch.setattr(pool_module, "YIELD_EVERY_S", 0.0)
    name = f"pooltest{os.getpid()}x{time.monotonic_ns()}"
    # Inline, the batch is prepared by a task of this loop: the second result is given up
    # between two messages; with a process, the first while the child prepares it.
    given_up = 1 if processes == 0 else 0
    first = text("fine", 0) if processes == 0 else text(f"waitforfile {name} ", 0)

    async def main() -> tuple[list[str], BaseException | None, int]:
        pool = PreparePool(CONFIG, processes, budget_s=30, fingerprinter=hostile_fingerprint)
        await pool.start()
        try:
            batch = pool.submit(raws([first, *(text("fine", i) for i in range(1, 4))]))
            if processes == 0:
                await batch._slots[0][0]
            else:
                await asyncio.sleep(0.05)
            batch._slots[0][given_up].cancel()  # what a cancelled reader's await does
            Path(f"/tmp/{name}").touch()
            await asyncio.wait_for(asyncio.gather(*batch._tasks, return_exceptions=True), 30)
            states = ["cancelled" if f.cancelled() else type(f.result()).__name__
                      for slot in batch._slots for f in slot]
            failures = [t.exception() for t in batch._tasks if not t.cancelled()]
            return states, next((f for f in failures if f is not None), None), pool.replaced
        finally:
            Path(f"/tmp/{name}").unlink(missing_ok=True)
            await pool.stop()

    states, failure, replaced = asyncio.run(main())
    expected = ["Prepared"] * 4
    expected[given_up] = "cancelled"
    assert (states, failure, replaced) == (expected, None, 0)
