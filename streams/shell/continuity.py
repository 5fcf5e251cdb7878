"""The agent's check that each partition's messages arrive without a hole
(:mod:`streams.core.continuity`): a hole is logged as an ERROR and counted, never silent; a
gap of one offset, which may be a transaction's marker, is counted."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import faust

from streams.core.continuity import Continuity
from streams.kafka.faust_compat import committed_offset
from streams.shell.metrics import Metrics

log = logging.getLogger(__name__)


class ContinuityWatch:
    """Checks the events of every batch the agent takes, in the order taken."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.continuity = Continuity()

    def check(self, events: Sequence[faust.EventT[Any]]) -> None:
        for event in events:
            message = event.message
            generation = message.generation_id or 0
            committed = committed_offset(self.app, message.tp)
            if (committed is None and message.offset > 0
                    and self.continuity.first_in_assignment(generation, message.partition)):
                log.warning(
                    "%s/%d has no committed offset and this worker starts it at offset %d: "
                    "if the partition holds messages before it (retention aside), no worker "
                    "decided them (see README, Guarantees)",
                    message.topic, message.partition, message.offset,
                    extra={"topic": message.topic, "partition": message.partition,
                           "offset": message.offset, "code": "no_committed_offset"},
                )
            hole = self.continuity.observe(generation, message.partition, message.offset,
                                           committed)
            if hole is None:
                continue
            if hole.may_be_marker:
                self.metrics.one_offset_gaps.inc()
                log.debug("%s/%d: offset %d skipped (a transaction's marker, or one message "
                          "lost)", message.topic, hole.partition, hole.first)
                continue
            self.metrics.skipped_offsets.inc(hole.size)
            log.error(
                "%s/%d: offsets %d-%d (%d message(s)) were never delivered to this worker, "
                "which got offset %d next: they are not decided, and a commit past them loses "
                "them. Re-publish them from the raw topic (see README, Guarantees).",
                message.topic, hole.partition, hole.first, hole.last, hole.size,
                message.offset,
                extra={"topic": message.topic, "partition": hole.partition,
                       "offset": hole.first, "code": "skipped_offsets"},
            )
