from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest

from streams.core.clock import TestClock
from streams.core.errors import (
    BrokerUnavailableError,
    DeadLetterRateExceededError,
    IngestError,
)
from streams.settings import load
from streams.shell.lifecycle import (
    FATAL_EXIT_GRACE_S,
    BrokerWatchdog,
    FatalState,
    fatal_handler,
)
from tests.harness import Worker, wait_exited, wait_for_child

SETTINGS = load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "INGEST_BROKER_LOST_S": "30"})


class Probe:
    def __init__(self) -> None:
        self.reachable = True
        self.asked: list[tuple[str, ...]] = []

    async def __call__(self, servers: Sequence[str]) -> bool:
        self.asked.append(tuple(servers))
        return self.reachable


class Fatal:
    def __init__(self) -> None:
        self.errors: list[IngestError] = []

    async def __call__(self, exc: IngestError) -> None:
        self.errors.append(exc)


def watchdog() -> tuple[BrokerWatchdog, Probe, Fatal, TestClock]:
    probe, fatal, clock = Probe(), Fatal(), TestClock()
    dog = BrokerWatchdog(SETTINGS, fatal, probe=probe, servers=("k:9092",), clock=clock)
    return dog, probe, fatal, clock


def test_watchdog_gives_up_once_the_broker_is_away_longer_than_broker_lost_s(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dog, probe, fatal, clock = watchdog()
    probe.reachable = False
    with caplog.at_level(logging.WARNING, "streams.shell.lifecycle"):
        asyncio.run(dog.check())
        clock.advance(30.0)
        asyncio.run(dog.check())
        assert fatal.errors == []  # exactly the limit: not yet
        clock.advance(1.0)
        asyncio.run(dog.check())
    [error] = fatal.errors
    assert isinstance(error, BrokerUnavailableError)
    assert error.detail == ("broker k:9092 unreachable for 30 s; exiting so the supervisor "
                            "can restart the worker")
    assert [r.getMessage() for r in caplog.records] == [
        "broker k:9092 unreachable; exiting if it stays away for 30 s"
    ]
    assert probe.asked == [("k:9092",)] * 3


def test_watchdog_forgives_an_outage_that_ends_in_time(caplog: pytest.LogCaptureFixture) -> None:
    dog, probe, fatal, clock = watchdog()
    probe.reachable = False
    with caplog.at_level(logging.WARNING, "streams.shell.lifecycle"):
        asyncio.run(dog.check())
        clock.advance(29.0)
        probe.reachable = True
        asyncio.run(dog.check())
        probe.reachable = False
        clock.advance(29.0)
        asyncio.run(dog.check())  # a new outage: counted from here
        clock.advance(29.0)
        asyncio.run(dog.check())
    assert fatal.errors == []
    assert [r.getMessage() for r in caplog.records][1] == "broker reachable again after 29 s"


def test_fatal_handler_logs_once_forces_the_exit_code_and_asks_for_a_graceful_stop() -> None:
    state = FatalState()
    stops: list[bool] = []
    forced: list[tuple[float, int]] = []
    on_fatal = fatal_handler(state, stop=lambda: stops.append(True),
                             force_exit=lambda s, c: forced.append((s, c)))
    first = BrokerUnavailableError("gone")
    asyncio.run(on_fatal(first))
    asyncio.run(on_fatal(DeadLetterRateExceededError("later")))  # already stopping: ignored
    assert state.error is first
    assert (state.exit_code, stops, forced) == (3, [True], [(FATAL_EXIT_GRACE_S, 3)])


@pytest.mark.parametrize(
    ("error", "code"),
    [(None, None), (BrokerUnavailableError("x"), 3), (DeadLetterRateExceededError("x"), 4),
     (IngestError("x"), 1)],
)
def test_exit_codes(error: IngestError | None, code: int | None) -> None:
    assert FatalState(error).exit_code == code


@pytest.mark.broker
def test_sigkilled_worker_takes_its_embedded_broker_down(tmp_path: Path) -> None:
    embedded = load({})  # no KAFKA_BOOTSTRAP_SERVERS: the worker starts Tansu itself
    worker = Worker(embedded, tmp_path / "w", name="embedded").start(wait=False)
    assert worker.process is not None
    try:
        tansu = wait_for_child(worker.process.pid, "tansu", timeout_s=60)
        os.kill(worker.process.pid, signal.SIGKILL)  # the worker alone, no cleanup possible
        worker.process.wait(timeout=10)
        assert wait_exited(tansu, 10), "Tansu outlived the SIGKILLed worker"
    finally:
        worker.kill()


@pytest.mark.broker
def test_sigterm_stops_a_worker_and_then_its_embedded_broker(tmp_path: Path) -> None:
    worker = Worker(load({}), tmp_path / "w", name="embedded").start()  # ready: Faust runs
    assert worker.process is not None
    try:
        tansu = wait_for_child(worker.process.pid, "tansu")
        assert worker.stop() == 0
        assert wait_exited(tansu, 0), "Tansu still running after the worker exited"
    finally:
        worker.kill()
