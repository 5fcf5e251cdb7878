"""The agent's continuity check logs and counts a hole in a partition's offsets."""

from __future__ import annotations

import logging
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP
from prometheus_client import CollectorRegistry

from streams.shell.continuity import ContinuityWatch
from streams.shell.metrics import Metrics

RAW = "articles.raw"


def event(partition: int, offset: int, generation: int = 1) -> Any:
    tp = TP(RAW, partition)
    return SimpleNamespace(message=SimpleNamespace(
        topic=RAW, partition=partition, offset=offset, tp=tp, generation_id=generation))


def test_a_hole_after_the_committed_offset_is_an_error_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    committed: defaultdict[TP, int | None] = defaultdict(lambda: None)
    committed[TP(RAW, 2)] = 72
    app = SimpleNamespace(consumer=SimpleNamespace(_committed_offset=committed))
    metrics = Metrics.create(CollectorRegistry())
    watch = ContinuityWatch(app, metrics)
    watch.check([event(3, 0), event(3, 1)])  # no committed offset known: starts at the first
    assert metrics.skipped_offsets._value.get() == 0  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="streams.shell.continuity"):
        watch.check([event(2, 239), event(2, 240), event(3, 2)])
    assert metrics.skipped_offsets._value.get() == 167  # type: ignore[attr-defined]
    assert [r.getMessage() for r in caplog.records] == [
        "articles.raw/2: offsets 72-238 (167 message(s)) were never delivered to this worker, "
        "which got offset 239 next: they are not decided, and a commit past them loses them. "
        "Re-publish them from the raw topic (see README, Guarantees)."]
    assert TP(RAW, 3) not in committed  # read without adding to Faust's defaultdict


def test_without_faust_s_committed_offsets_the_check_starts_at_the_first_message() -> None:
    metrics = Metrics.create(CollectorRegistry())
    watch = ContinuityWatch(SimpleNamespace(consumer=SimpleNamespace()), metrics)
    watch.check([event(0, 500), event(0, 501), event(0, 510)])
    assert metrics.skipped_offsets._value.get() == 8  # type: ignore[attr-defined]


def test_a_partition_without_a_committed_offset_started_past_zero_is_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The second loss of the kill trials: no committed offset, the next owner at 124."""
    metrics = Metrics.create(CollectorRegistry())
    watch = ContinuityWatch(SimpleNamespace(consumer=SimpleNamespace()), metrics)
    with caplog.at_level(logging.WARNING, logger="streams.shell.continuity"):
        watch.check([event(2, 124), event(2, 125), event(1, 0), event(1, 1)])
        watch.check([event(2, 130, generation=2)])
    assert [r.getMessage() for r in caplog.records] == [
        f"articles.raw/2 has no committed offset and this worker starts it at offset {offset}: "
        "if the partition holds messages before it (retention aside), no worker decided them "
        "(see README, Guarantees)" for offset in (124, 130)]
    assert metrics.skipped_offsets._value.get() == 0  # type: ignore[attr-defined]


def test_a_gap_of_one_offset_is_counted_apart_and_is_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The dead-letter guard's loss under Faust's pause: offset 48 of partition 0."""
    metrics = Metrics.create(CollectorRegistry())
    consumer = SimpleNamespace(_committed_offset={TP(RAW, 0): 46})
    watch = ContinuityWatch(SimpleNamespace(consumer=consumer), metrics)
    with caplog.at_level(logging.WARNING, logger="streams.shell.continuity"):
        watch.check([event(0, 46), event(0, 47), event(0, 49), event(0, 50), event(0, 52)])
    assert metrics.one_offset_gaps._value.get() == 2  # type: ignore[attr-defined]
    assert metrics.skipped_offsets._value.get() == 0  # type: ignore[attr-defined]
    assert caplog.records == []
