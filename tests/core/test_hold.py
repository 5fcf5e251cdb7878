"""Decision order and the hold policy (streams.core.hold)."""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.hold import HoldConfig, HoldPolicy, decision_order
from streams.core.records import RawMessage


@dataclass(frozen=True)
class Item:
    raw: RawMessage


def item(ts: int, partition: int, offset: int) -> Item:
    return Item(RawMessage("articles.raw", partition, offset, None, b"x", ts))


def test_decision_order_is_event_time_then_partition_and_offset() -> None:
    items = [item(5, 0, 0), item(1, 1, 7), item(1, 0, 9), item(3, 0, 1)]
    ordered = decision_order(items)
    assert [(i.raw.timestamp_ms, i.raw.partition, i.raw.offset) for i in ordered] == [
        (1, 0, 9), (1, 1, 7), (3, 0, 1), (5, 0, 0)]


def test_a_lone_worker_never_holds() -> None:
    policy = HoldPolicy("a", HoldConfig(hold_ms=250, live_ms=10_000))
    assert policy.release_at(decided_ms=1_000, now_ms=1_000) == 1_000
    policy.observe("a", 1_000)  # its own records do not count
    assert policy.release_at(1_000, 1_000) == 1_000


def test_outputs_wait_while_another_worker_is_live() -> None:
    policy = HoldPolicy("a", HoldConfig(hold_ms=250, live_ms=10_000))
    policy.observe("b", now_ms=1_000)
    assert policy.live_workers(1_000) == ["b"]
    assert policy.release_at(decided_ms=1_100, now_ms=1_100) == 1_350
    assert policy.live_workers(11_000) == ["b"]  # heard exactly live_ms ago: still live
    # b silent for longer than live_ms: stopped or idle, nothing to wait for
    assert policy.live_workers(11_001) == []
    assert policy.release_at(11_001, 11_001) == 11_001


def test_a_zero_hold_turns_holding_off() -> None:
    policy = HoldPolicy("a", HoldConfig(hold_ms=0))
    policy.observe("b", 1_000)
    assert policy.release_at(1_000, 1_000) == 1_000
    one = HoldPolicy("a", HoldConfig(hold_ms=1))
    one.observe("b", 1_000)
    assert one.release_at(1_000, 1_000) == 1_001


def test_a_batch_that_keeps_up_is_not_held() -> None:
    policy = HoldPolicy("a", HoldConfig(hold_ms=250, behind_ms=1_000))
    policy.observe("b", 10_000)
    # decided 200 ms after its oldest message arrived: live traffic, released at once
    assert policy.release_at(10_200, 10_200, oldest_event_ms=10_000) == 10_200
    # a backlog: its oldest message waited 5 s
    assert policy.release_at(15_000, 15_000, oldest_event_ms=10_000) == 15_250
    # waited exactly behind_ms: behind
    assert policy.release_at(11_000, 11_000, oldest_event_ms=10_000) == 11_250
