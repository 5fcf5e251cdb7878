"""How long the broker has been unreachable, and whether that is long enough to give up.

The worker probes its broker once a second; this object turns the probes into what the
worker should do: nothing, log the start or the end of an outage, or exit so that a
supervisor restarts it. Time comes from an injected clock, so the rule is tested without
waiting for an outage.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from streams.core.clock import Clock


class Outage(enum.Enum):
    UP = "up"  # reachable, and was reachable before
    RECOVERED = "recovered"  # reachable again after an outage
    STARTED = "started"  # first failed probe of an outage
    ONGOING = "ongoing"  # still unreachable, within the limit
    LOST = "lost"  # unreachable for longer than the limit: give up


@dataclass(frozen=True, slots=True)
class OutageReport:
    state: Outage
    down_for_s: float = 0.0  # since the first failed probe; for RECOVERED, the whole outage


class OutageTracker:
    """Declares the broker lost once it has been unreachable for more than ``limit_s``.

    The outage is timed from the first failed probe; any successful probe ends it.
    """

    def __init__(self, limit_s: float, clock: Clock) -> None:
        self.limit_s = limit_s
        self._clock = clock
        self._down_since: float | None = None

    def observe(self, reachable: bool) -> OutageReport:
        now = self._clock.monotonic()
        if reachable:
            if self._down_since is None:
                return OutageReport(Outage.UP)
            down_for = now - self._down_since
            self._down_since = None
            return OutageReport(Outage.RECOVERED, down_for)
        if self._down_since is None:
            self._down_since = now
            return OutageReport(Outage.STARTED)
        down_for = now - self._down_since
        state = Outage.LOST if down_for > self.limit_s else Outage.ONGOING
        return OutageReport(state, down_for)
