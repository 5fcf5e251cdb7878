"""Time as a dependency, so behaviour driven by time is tested without sleeping.

The shape of arroyo's ``utils/clock.py``: wall time for timestamps, monotonic time for
durations, and sleep. Workers use :data:`SYSTEM_CLOCK`; tests pass a :class:`TestClock` and
move it forward by hand.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the epoch (timestamps, expiry)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (durations, deadlines)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


class TestClock:
    """A clock that moves only when told to: by :meth:`advance` or by :meth:`sleep`.

    ``sleep`` returns at once and records how long it was asked to sleep in ``slept``.
    """

    __test__ = False  # a helper, not a pytest test class

    def __init__(self, epoch_s: float = 1_700_000_000.0, monotonic_s: float = 0.0) -> None:
        self._time = epoch_s
        self._monotonic = monotonic_s
        self.slept: list[float] = []

    def time(self) -> float:
        return self._time

    def monotonic(self) -> float:
        return self._monotonic

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock does not go back ({seconds} s)")
        self._time += seconds
        self._monotonic += seconds


def now_ms(clock: Clock) -> int:
    """The clock's wall time in whole milliseconds (the unit of every record timestamp)."""
    return int(clock.time() * 1000)
