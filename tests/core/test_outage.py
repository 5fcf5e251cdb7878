from __future__ import annotations

from streams.core.clock import TestClock
from streams.core.outage import Outage, OutageReport, OutageTracker


def test_reachable_broker_is_up() -> None:
    tracker = OutageTracker(30.0, TestClock())
    assert tracker.observe(True) == OutageReport(Outage.UP)


def test_lost_only_after_more_than_the_limit_since_the_first_failed_probe() -> None:
    clock = TestClock()
    tracker = OutageTracker(30.0, clock)
    assert tracker.observe(False) == OutageReport(Outage.STARTED)
    clock.advance(29.0)
    assert tracker.observe(False) == OutageReport(Outage.ONGOING, 29.0)
    clock.advance(1.0)
    assert tracker.observe(False) == OutageReport(Outage.ONGOING, 30.0)  # not yet: "more than"
    clock.advance(0.5)
    assert tracker.observe(False) == OutageReport(Outage.LOST, 30.5)


def test_a_successful_probe_ends_the_outage_and_restarts_the_count() -> None:
    clock = TestClock()
    tracker = OutageTracker(30.0, clock)
    tracker.observe(False)
    clock.advance(25.0)
    assert tracker.observe(True) == OutageReport(Outage.RECOVERED, 25.0)
    assert tracker.observe(True) == OutageReport(Outage.UP)
    clock.advance(100.0)
    assert tracker.observe(False) == OutageReport(Outage.STARTED)  # a new outage
    clock.advance(25.0)
    assert tracker.observe(False) == OutageReport(Outage.ONGOING, 25.0)
