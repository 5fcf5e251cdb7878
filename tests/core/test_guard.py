from __future__ import annotations

import pytest

from streams.core.errors import DeadLetterRateExceededError
from streams.core.guard import DeadLetterGuard


def test_does_not_judge_before_the_window_is_full() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=10)
    for _ in range(9):
        guard.record(True)
    assert guard.ratio == 1.0


def test_trips_when_the_full_window_is_over_the_ratio() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=10)
    for outcome in [False, True] * 5:
        guard.record(outcome)  # exactly 50%: allowed
    with pytest.raises(DeadLetterRateExceededError, match="6 of the last 10"):
        guard.record(True)  # the oldest (False) slides out: 6/10 dead


def test_good_traffic_recovers_the_ratio() -> None:
    guard = DeadLetterGuard(max_ratio=0.5, window=4)
    for outcome in [True, True, False, False, False, False]:
        guard.record(outcome)
    assert guard.ratio == 0.0
