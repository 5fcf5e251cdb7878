"""The dead-letter guard: stop the worker when too much of the recent input dead-letters.

A bad deploy or a broken producer would otherwise drain the whole input into the
dead-letter topic. Judged over a sliding window of the last ``window`` messages, and only
once the window is full, so a handful of bad messages at start-up never trips it.
"""

from __future__ import annotations

from collections import deque

from streams.core.errors import DeadLetterRateExceededError


class DeadLetterGuard:
    def __init__(self, max_ratio: float, window: int) -> None:
        self.max_ratio = max_ratio
        self._outcomes: deque[bool] = deque(maxlen=window)
        self._dead = 0

    def record(self, dead_lettered: bool) -> None:
        """Record one outcome; raise :class:`DeadLetterRateExceededError` when over the limit."""
        if len(self._outcomes) == self._outcomes.maxlen and self._outcomes[0]:
            self._dead -= 1
        self._outcomes.append(dead_lettered)
        self._dead += dead_lettered
        if len(self._outcomes) == self._outcomes.maxlen and self.ratio > self.max_ratio:
            raise DeadLetterRateExceededError(
                f"{self._dead} of the last {len(self._outcomes)} messages were dead-lettered "
                f"(limit {self.max_ratio:.0%}); stopping instead of dead-lettering everything. "
                "Check the producer or the last deploy, then restart."
            )

    @property
    def ratio(self) -> float:
        return self._dead / len(self._outcomes) if self._outcomes else 0.0
