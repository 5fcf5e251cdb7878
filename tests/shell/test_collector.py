"""The worker's garbage-collector settings (streams.shell.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from streams.shell import collector


@pytest.fixture(autouse=True)
def restore_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_young_collections_run_every_ten_thousand_allocations() -> None:
    collector.collect_less_often()
    assert gc.get_threshold() == (10_000, 10, 10)


def test_what_lives_at_the_freeze_is_left_alone_and_later_garbage_is_still_collected() -> None:
    alive = [object()]
    frozen = collector.freeze_what_lives()
    assert frozen == gc.get_freeze_count() > 0
    assert not any(obj is alive for obj in gc.get_objects())  # out of every generation

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle made after the freeze: reference counting cannot free it
    del a, b
    assert gc.collect() >= 2
    assert gc.get_freeze_count() == frozen  # a collection does not thaw the frozen
