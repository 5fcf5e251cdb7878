"""The dead-letter guard: pause a partition whose recent input mostly dead-letters.

A bad deploy or a broken producer would otherwise drain the input into the dead-letter
topic. Judged per partition of the raw topic over a sliding window of its last ``window``
messages, and only once that window is full, so a handful of bad messages never trips it.
A tripped partition is paused for ``pause_ms`` (nothing is skipped: its messages wait in
Kafka) and then judged afresh; clean partitions keep flowing. It never stops the worker:
a producer sending junk cannot halt ingestion, and a bad deploy that dead-letters
everything pauses every partition and alerts instead of draining the input.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


class DeadLetterWindow:
    """Dead-letter ratio over the last ``window`` outcomes."""

    def __init__(self, window: int) -> None:
        self._outcomes: deque[bool] = deque(maxlen=window)
        self._dead = 0

    def record(self, dead_lettered: bool) -> None:
        if len(self._outcomes) == self._outcomes.maxlen and self._outcomes[0]:
            self._dead -= 1
        self._outcomes.append(dead_lettered)
        self._dead += dead_lettered

    @property
    def full(self) -> bool:
        return len(self._outcomes) == self._outcomes.maxlen

    @property
    def dead(self) -> int:
        return self._dead

    @property
    def ratio(self) -> float:
        return self._dead / len(self._outcomes) if self._outcomes else 0.0


@dataclass(frozen=True, slots=True)
class Trip:
    """A partition the guard paused, and why."""

    partition: int
    dead: int
    window: int
    until_ms: int


@dataclass
class DeadLetterGuard:
    """Per-partition windows; :meth:`record` says when a partition must be paused."""

    max_ratio: float
    window: int
    pause_ms: int = 60_000
    _windows: dict[int, DeadLetterWindow] = field(default_factory=dict)
    _paused_until: dict[int, int] = field(default_factory=dict)

    def record(self, partition: int, dead_lettered: bool, now_ms: int) -> Trip | None:
        """Record one outcome; a :class:`Trip` when ``partition`` must pause now."""
        if partition in self._paused_until:
            return None  # already paused: messages fetched before the pause still count once
        window = self._windows.setdefault(partition, DeadLetterWindow(self.window))
        window.record(dead_lettered)
        if not (window.full and window.ratio > self.max_ratio):
            return None
        until = now_ms + self.pause_ms
        self._paused_until[partition] = until
        return Trip(partition, window.dead, self.window, until)

    def due(self, now_ms: int) -> list[int]:
        """Partitions whose pause is over: resumed, judged afresh on a new window."""
        over = sorted(p for p, until in self._paused_until.items() if until <= now_ms)
        for partition in over:
            del self._paused_until[partition]
            self._windows.pop(partition, None)
        return over

    def forget(self, partitions: set[int]) -> None:
        """Partitions no longer assigned to this worker (after a rebalance)."""
        for partition in partitions:
            self._paused_until.pop(partition, None)
            self._windows.pop(partition, None)

    def keep_only(self, assigned: set[int]) -> None:
        """Forget every partition but ``assigned`` (at an assignment): one handed to
        another worker is judged afresh there, and is no longer paused here."""
        self.forget((set(self._windows) | set(self._paused_until)) - assigned)

    @property
    def paused(self) -> list[int]:
        return sorted(self._paused_until)

    def ratio(self, partition: int) -> float:
        window = self._windows.get(partition)
        return window.ratio if window is not None else 0.0
