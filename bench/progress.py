"""Progress lines on stderr for evaluations that take minutes: "wcxb_dev: 300/1497 pages
(20 %), 54 s", at most one every ``every_s`` seconds and one at the end."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    def __init__(
        self, label: str, total: int, *, unit: str = "pages", every_s: float = 10.0,
        stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.every_s = every_s
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.started = self.last = clock()
        self.done = 0
        self.shown = -1

    def step(self, count: int = 1) -> None:
        """``count`` more done; prints a line when ``every_s`` has passed since the last."""
        self.done += count
        now = self.clock()
        if now - self.last >= self.every_s:
            self.last = now
            self._line(now)

    def finish(self) -> None:
        """The last line, unless the last one already said it."""
        if self.shown != self.done:
            self._line(self.clock())

    def _line(self, now: float) -> None:
        self.shown = self.done
        share = f" ({100 * self.done // self.total} %)" if self.total else ""
        print(f"{self.label}: {self.done}/{self.total} {self.unit}{share}, "
              f"{now - self.started:.0f} s", file=self.stream, flush=True)
