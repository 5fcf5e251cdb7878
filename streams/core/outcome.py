"""What one message (or one log record) produced: records to publish and index records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from streams.core.errors import IngestError, RecordTooLargeError
from streams.core.fingerprint_log import LogRecord
from streams.core.record_budget import DEFAULT_MAX_RECORD_BYTES, fit_outputs
from streams.core.records import Output, RawMessage, deadletter_record
from streams.core.stories.model import Assignment, StoryUpdate

if TYPE_CHECKING:
    from streams.core.prepare import Prepared

Verdict = Literal["enriched", "duplicate", "deadletter"]


@dataclass(slots=True)
class Outcome:
    """Records to publish and index records to append, with what the metrics need."""

    verdict: Verdict
    outputs: list[Output]
    log_records: list[LogRecord] = field(default_factory=list)
    match: str | None = None
    error_code: str | None = None
    corrections: int = 0  # kept verdicts this outcome overturns ("supersedes": "kept")
    root_changes: int = 0  # duplicates moved to another root ("supersedes": "duplicate_of")
    rules_removed: int = 0
    learned_removed: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # A verdict decided with ``hold=True``: its outputs wait for
    # :meth:`streams.core.pipeline.Deduplicator.release`, which needs the prepared article.
    held: Prepared | None = None
    # Stories (streams.core.stories): the decided article's story, and merges to append to
    # the fingerprint log (their public records are in ``outputs``).
    story: Assignment | None = None
    story_updates: list[StoryUpdate] = field(default_factory=list)


def deadletter_outcome(
    raw: RawMessage, error: IngestError, now_ms: int, max_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Outcome:
    record = deadletter_record(raw, error, now_ms, max_bytes=max_bytes)
    return Outcome(
        verdict="deadletter",
        outputs=[Output("deadletter", record["id"], record)],
        error_code=error.code,
    )


def fit_or_deadletter(
    outcome: Outcome, raw: RawMessage, now_ms: int, max_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Outcome:
    """``outcome`` with every output cut to fit ``max_bytes``; an output that cannot fit is
    replaced by a small ``record_too_large`` dead letter of ``raw`` (once), so the stateful
    step stays total. Log records are kept: the verdict stands in the index; only its public
    record could not be written. When the article's own record (the first) is the one that
    could not fit, the outcome becomes a dead letter."""
    fitted: list[Output] = []
    error: RecordTooLargeError | None = None
    for position, output in enumerate(outcome.outputs):
        try:
            fitted.extend(fit_outputs([output], max_bytes))
        except RecordTooLargeError as too_large:
            if error is None:
                error = too_large
                fitted.extend(deadletter_outcome(raw, too_large, now_ms, max_bytes).outputs)
            if position == 0:
                outcome.verdict, outcome.error_code, outcome.match = "deadletter", error.code, None
    outcome.outputs = fitted
    return outcome
