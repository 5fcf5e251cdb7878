"""Publishing what the worker finds off the agent's path: the corrections (and story merges)
that another worker's fingerprint-log records reveal, and those another worker owed and
housekeeping finds overdue (:meth:`streams.core.pipeline.Deduplicator.owed_corrections`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from streams.core.outcome import Outcome
from streams.shell.agents import Publisher
from streams.shell.metrics import Metrics, count_stories

log = logging.getLogger("streams.shell.worker")

# Races are part of running several workers (a backlog gives hundreds a minute, and each was
# one WARNING line): one INFO line sums up those of at most this many seconds, the metrics
# count every one, and each is logged at DEBUG.
RACE_LOG_INTERVAL_S = 10.0


class Corrections:
    """Publishes outcomes of the replica and of housekeeping with their own publisher (its
    own pending sends: a flush of them must not take the agent's batch's sends out of that
    batch's own flush)."""

    def __init__(self, publisher: Publisher, metrics: Metrics,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.publisher = publisher
        self.metrics = metrics
        self._clock = clock
        self._logged_at = clock()
        # Since the last summary line: races, verdicts corrected, duplicates moved, merges.
        self._races = [0, 0, 0, 0]

    async def after_log_record(self, outcome: Outcome) -> None:
        """What applying another worker's record gave: corrections and merges, or only the
        log records of a re-decision whose outputs wait for a held verdict's release (they
        re-root our copy on every other worker: without them, the worker that won the race
        would find it still kept and correct it again).

        Flushed at once, not with the replica's fetch: until the broker says where our merge
        records landed, every story of ours is a race candidate for the other worker's next
        records (``streams.core.dedup.race_window``); acknowledged once per fetch, two
        workers on a core each ran at 0.78x (8,000 generated articles, A B A B, 2026-12-05)."""
        if outcome.outputs:
            self._count_race(outcome)
        elif not outcome.log_records and not outcome.story_updates:
            return
        await self._publish(outcome)
        if self._races[0] and self._clock() - self._logged_at >= RACE_LOG_INTERVAL_S:
            self.log_races()

    def log_races(self) -> None:
        """The summary line of the races since the last one (if any)."""
        races, corrected, moved, merges = self._races
        if races:
            log.info("races with other workers in the last %.0f s: %d (%d verdict(s) "
                     "corrected, %d duplicate(s) moved to another kept article, %d story "
                     "merge(s))", self._clock() - self._logged_at, races, corrected, moved,
                     merges)
        self._races = [0, 0, 0, 0]
        self._logged_at = self._clock()

    async def owed(self, outcome: Outcome) -> None:
        log.warning("published %d correction(s) of races other workers lost, %d "
                    "duplicate(s) moved to the kept article and %d story merge(s), which "
                    "they did not publish within INGEST_RACE_FALLBACK_S (did they stop?)",
                    outcome.corrections, outcome.root_changes, len(outcome.story_updates))
        self.metrics.owed_corrections.inc(outcome.corrections)
        await self._publish(outcome)

    async def _publish(self, outcome: Outcome) -> None:
        await self.publisher.publish(outcome)
        await self.publisher.flush()
        self.metrics.corrections.inc(outcome.corrections)
        count_stories(self.metrics, outcome)

    def _count_race(self, outcome: Outcome) -> None:
        log.debug("race with another worker: %d verdict(s) corrected, %d duplicate(s) moved to "
                  "another kept article, %d story merge(s)", outcome.corrections,
                  outcome.root_changes, len(outcome.story_updates))
        for i, n in enumerate((1, outcome.corrections, outcome.root_changes,
                               len(outcome.story_updates))):
            self._races[i] += n
