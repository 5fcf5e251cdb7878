"""When a worker hands its freed heap back to the system: once idle after a busy spell.

A backlog of whole pages grows the worker's heap (a soak trial: 105 MB idle, 600-760 MB with
~4,000 pages behind), and glibc keeps most of what is freed in its arenas: the worker stayed at
451 MB after the backlog drained, 212 MB after a restart. ``malloc_trim`` returns those free
pages (``streams.kafka.process.return_freed_memory``), at the price of walking the heap and of
later allocations faulting pages in again, so it runs only when nothing was consumed for a
while after something was, and at most once per ``min_interval_s``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class IdleTrim:
    """Told the consumed count now and then (:meth:`due`), says when to trim."""

    idle_s: float = 10.0  # nothing consumed for this long: the backlog has drained
    min_interval_s: float = 60.0
    _consumed: int = 0  # the count last seen, and since when
    _since_s: float = 0.0
    _trimmed_at_count: int = 0  # the count at the last trim
    _trimmed_at_s: float | None = None

    def due(self, consumed: int, now_s: float) -> bool:
        """Whether to trim now, given the messages consumed so far at ``now_s``; a True is
        taken as a trim done."""
        if consumed != self._consumed:
            self._consumed, self._since_s = consumed, now_s
            return False
        busy_since_trim = consumed != self._trimmed_at_count
        idle = now_s - self._since_s >= self.idle_s
        spaced = self._trimmed_at_s is None or now_s - self._trimmed_at_s >= self.min_interval_s
        if busy_since_trim and idle and spaced:
            self._trimmed_at_count, self._trimmed_at_s = consumed, now_s
            return True
        return False
