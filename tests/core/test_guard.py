from __future__ import annotations

from streams.core.guard import DeadLetterGuard, Trip


def feed(guard: DeadLetterGuard, partition: int, outcomes: list[bool], now_ms: int = 0
         ) -> list[Trip]:
    trips = [guard.record(partition, dead, now_ms) for dead in outcomes]
    return [t for t in trips if t is not None]


def test_does_not_judge_before_the_window_is_full() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=10)
    assert feed(guard, 0, [True] * 9) == []
    assert guard.ratio(0) == 1.0 and guard.paused == []


def test_trips_the_partition_when_its_full_window_is_over_the_ratio() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=10, pause_ms=60_000)
    assert feed(guard, 3, [False, True] * 5, now_ms=1_000) == []  # exactly 50%: allowed
    trip = guard.record(3, True, 1_000)  # the oldest (False) slides out: 6/10 dead
    assert trip == Trip(partition=3, dead=6, window=10, until_ms=61_000)
    assert guard.paused == [3]


def test_other_partitions_keep_flowing() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=4)
    assert len(feed(guard, 0, [True] * 4)) == 1
    assert feed(guard, 1, [False, True, False, False] * 3) == []
    assert guard.paused == [0]


def test_a_paused_partition_resumes_after_the_pause_on_a_fresh_window() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=4, pause_ms=1_000)
    feed(guard, 0, [True] * 4, now_ms=0)
    assert guard.record(0, True, 500) is None  # fetched before the pause: no second trip
    assert guard.due(999) == []
    assert guard.due(1_000) == [0]
    assert guard.paused == [] and guard.ratio(0) == 0.0
    assert feed(guard, 0, [True] * 3, now_ms=1_001) == []  # a new window must fill first


def test_good_traffic_recovers_the_ratio() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=4)
    assert feed(guard, 0, [True, True, False, False, False, False]) == []
    assert guard.ratio(0) == 0.0


def test_revoked_partitions_are_forgotten() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=2)
    feed(guard, 0, [True, True])
    guard.forget({0})
    assert guard.paused == [] and guard.ratio(0) == 0.0


def test_at_an_assignment_only_the_assigned_partitions_are_kept() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=2)
    for partition in (0, 1, 2):
        feed(guard, partition, [True, True])
    feed(guard, 3, [True])
    guard.keep_only({1, 3, 7})
    assert guard.paused == [1]
    assert [guard.ratio(p) for p in (0, 1, 2, 3)] == [0.0, 1.0, 0.0, 1.0]
