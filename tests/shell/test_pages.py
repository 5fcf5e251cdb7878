from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, NamedTuple

import pytest
from faust.exceptions import ConsumerNotStarted

from streams.settings import load
from streams.shell.pages import is_ready, readiness

SETTINGS = load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "INGEST_WORKER_ID": "w1"})


class TP(NamedTuple):
    topic: str
    partition: int


def app(rebalancing: bool) -> Any:
    assignment = [TP("articles.raw", 2), TP("articles.raw", 0), TP("ingest.fingerprints", 1)]
    return SimpleNamespace(rebalancing=rebalancing,
                           consumer=SimpleNamespace(assignment=lambda: assignment))


def replica(caught_up: bool, failure: str | None = None) -> Any:
    ready = asyncio.Event()
    if caught_up:
        ready.set()
    return SimpleNamespace(ready=ready, failure=failure, alive=caught_up and failure is None)


def pool(started: bool = True) -> Any:
    return SimpleNamespace(started=started)


@pytest.mark.parametrize(
    ("started", "caught_up", "rebalancing", "ready"),
    [(True, True, False, True), (True, False, False, False), (True, True, True, False),
     (True, False, True, False), (False, True, False, False)],
)
def test_ready_iff_pool_started_replica_caught_up_and_no_rebalance(
    started: bool, caught_up: bool, rebalancing: bool, ready: bool
) -> None:
    assert is_ready(app(rebalancing), replica(caught_up), pool(started)) is ready


def test_readiness_body_lists_assigned_raw_partitions() -> None:
    assert readiness(app(False), replica(False), pool(False), SETTINGS) == {
        "ready": False, "prepare_pool_started": False, "replica_caught_up": False,
        "replica_error": None,
        "rebalancing": False, "assigned_partitions": [0, 2], "worker": "w1",
    }


def test_a_replica_that_stopped_makes_the_worker_not_ready_and_says_why() -> None:
    stopped = replica(True, failure="ValueError: boom")
    assert is_ready(app(False), stopped, pool()) is False
    body = readiness(app(False), stopped, pool(), SETTINGS)
    assert (body["ready"], body["replica_error"]) == (False, "ValueError: boom")


def test_before_the_consumer_thread_starts_the_worker_is_not_ready_and_no_error_escapes() -> None:
    """Until 2026-12-06 /readyz raised Faust's ConsumerNotStarted there: a 500 and a
    traceback in the worker's log (seen once in a full run, in the Ctrl-C test)."""
    def not_started() -> Any:
        raise ConsumerNotStarted("Consumer thread not yet started")

    unstarted = SimpleNamespace(rebalancing=False,
                                consumer=SimpleNamespace(assignment=not_started))
    assert readiness(unstarted, replica(True), pool(True), SETTINGS) == {
        "ready": False, "prepare_pool_started": True, "replica_caught_up": True,
        "replica_error": None, "rebalancing": False, "assigned_partitions": [],
        "worker": "w1",
    }
