from __future__ import annotations

import time

import pytest

from streams.core.clock import SYSTEM_CLOCK, Clock, SystemClock, TestClock, now_ms


def test_test_clock_moves_only_when_told() -> None:
    clock = TestClock(epoch_s=1_000.0, monotonic_s=5.0)
    assert (clock.time(), clock.monotonic()) == (1_000.0, 5.0)
    clock.advance(2.5)
    assert (clock.time(), clock.monotonic()) == (1_002.5, 7.5)


def test_test_clock_sleep_returns_at_once_and_records_the_request() -> None:
    clock = TestClock(epoch_s=0.0)
    clock.sleep(0.5)
    clock.sleep(1.0)
    assert clock.slept == [0.5, 1.0]
    assert (clock.time(), clock.monotonic()) == (1.5, 1.5)


def test_test_clock_never_goes_back() -> None:
    with pytest.raises(ValueError, match="does not go back"):
        TestClock().advance(-0.001)


def test_now_ms_truncates_to_whole_milliseconds() -> None:
    assert now_ms(TestClock(epoch_s=1_700_000_000.1239)) == 1_700_000_000_123


def test_system_clock_reads_the_real_clocks() -> None:
    clock: Clock = SYSTEM_CLOCK
    assert isinstance(clock, SystemClock)
    before, now, after = time.time(), clock.time(), time.time()
    assert before <= now <= after
    before, now, after = time.monotonic(), clock.monotonic(), time.monotonic()
    assert before <= now <= after
