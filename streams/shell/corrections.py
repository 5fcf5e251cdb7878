"""Publishing what the worker finds off the agent's path: the corrections (and story merges)
that another worker's fingerprint-log records reveal, and those another worker owed and
housekeeping finds overdue (:meth:`streams.core.pipeline.Deduplicator.owed_corrections`).
"""

from __future__ import annotations

import logging

from streams.core.outcome import Outcome
from streams.shell.agents import Publisher
from streams.shell.metrics import Metrics, count_stories

log = logging.getLogger("streams.shell.worker")


class Corrections:
    """Publishes outcomes of the replica and of housekeeping with their own publisher (its
    own pending sends: a flush of them must not take the agent's batch's sends out of that
    batch's own flush)."""

    def __init__(self, publisher: Publisher, metrics: Metrics) -> None:
        self.publisher = publisher
        self.metrics = metrics

    async def after_log_record(self, outcome: Outcome) -> None:
        """What applying another worker's record gave: corrections and merges, or only the
        log records of a re-decision whose outputs wait for a held verdict's release (they
        re-root our copy on every other worker: without them, the worker that won the race
        would find it still kept and correct it again)."""
        if outcome.outputs:
            log.warning("race with another worker: %d verdict(s) corrected, %d duplicate(s) "
                        "moved to another kept article, %d story merge(s)",
                        outcome.corrections, outcome.root_changes, len(outcome.story_updates))
        elif not outcome.log_records and not outcome.story_updates:
            return
        await self._publish(outcome)

    async def owed(self, outcome: Outcome) -> None:
        log.warning("published %d correction(s) of races other workers lost and %d "
                    "duplicate(s) moved to the kept article, which they did not publish "
                    "within INGEST_RACE_FALLBACK_S (did they stop?)",
                    outcome.corrections, outcome.root_changes)
        self.metrics.owed_corrections.inc(outcome.corrections)
        await self._publish(outcome)

    async def _publish(self, outcome: Outcome) -> None:
        await self.publisher.publish(outcome)
        await self.publisher.flush()
        self.metrics.corrections.inc(outcome.corrections)
        count_stories(self.metrics, outcome)
