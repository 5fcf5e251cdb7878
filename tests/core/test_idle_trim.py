"""When the worker hands freed heap back (streams.core.idle_trim)."""

from __future__ import annotations

from streams.core.idle_trim import IdleTrim


def rounds(trim: IdleTrim, counts: list[tuple[int, float]]) -> list[float]:
    """The instants at which ``trim`` says to trim, told ``(consumed, now_s)`` in order."""
    return [now for consumed, now in counts if trim.due(consumed, now)]


def test_a_worker_that_never_consumed_is_never_trimmed() -> None:
    assert rounds(IdleTrim(idle_s=10), [(0, t) for t in range(0, 100, 5)]) == []


def test_trimmed_once_idle_for_idle_s_after_consuming() -> None:
    counts = [(0, 0), (50, 5), (120, 10), (120, 15), (120, 20), (120, 25), (120, 30)]
    # the count last moved at 10 s: idle for 10 s at 20 s; once only while nothing more comes
    assert rounds(IdleTrim(idle_s=10, min_interval_s=60), counts) == [20]


def test_a_worker_still_consuming_is_not_trimmed() -> None:
    counts = [(n * 10, n * 5.0) for n in range(1, 30)]
    assert rounds(IdleTrim(idle_s=10), counts) == []


def test_trims_are_at_least_min_interval_s_apart() -> None:
    counts = [(10, 0), (10, 10),  # trimmed at 10
              (20, 15), (20, 25),  # busy again and idle, but only 15 s later
              (20, 70),  # 60 s after the last trim
              (30, 75), (30, 90), (30, 130)]  # busy, idle at 85+, spaced only at 130
    assert rounds(IdleTrim(idle_s=10, min_interval_s=60), counts) == [10, 70, 130]
