"""The stateful step: decides prepared articles against the shared index and keeps it current.

The stateless step (:mod:`streams.core.prepare`) parses, normalizes and fingerprints; it may
run in another process. :class:`Deduplicator` owns the state, passed in at construction: the
fingerprint index (any :class:`streams.core.dedup.index.Index`) and the learned-boilerplate
statistics. It also handles the records other workers append to the fingerprint log
(:meth:`Deduplicator.on_log_record`), including the correction of a race it lost. The Faust
agent only moves messages between Kafka and these methods.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque

from streams.core.config import CoreConfig
from streams.core.dedup.decide import apply_decision, decide
from streams.core.dedup.index import FingerprintIndex, Index
from streams.core.dedup.minhash import fingerprint as minhash_fingerprint
from streams.core.dedup.model import Decision, Fingerprint, IndexEntry
from streams.core.fingerprint_log import LogRecord, logged_paragraph_keys
from streams.core.outcome import Outcome, Verdict, deadletter_outcome
from streams.core.prepare import Fingerprinter, Prepared, Rejected, fingerprint_forms, prepare_total
from streams.core.record_budget import fit_outputs
from streams.core.records import (
    Output,
    RawMessage,
    correction_record,
    duplicate_record,
    enriched_record,
    parse_origin,
)
from streams.core.stories.attach import attach_story, race_outcome, stamp_story
from streams.core.stories.model import StoryUpdate
from streams.core.stories.state import StoryState
from streams.core.text.learned import ParagraphStats, fingerprint_paragraphs

__all__ = ["CoreConfig", "Deduplicator", "Outcome", "Prepared", "Rejected", "Verdict"]


class Deduplicator:
    """Decides each article against the shared index and keeps the state current."""

    # Ids this process decided recently: it corrects its own verdicts when a race with
    # another worker surfaces through the log (see README, "Near duplicates").
    RECENT_LIMIT = 100_000

    def __init__(
        self,
        config: CoreConfig,
        *,
        worker: str,
        index: Index | None = None,
        stats: ParagraphStats | None = None,
        fingerprinter: Fingerprinter = minhash_fingerprint,
        stories: StoryState | None = None,
    ) -> None:
        self.config = config
        self.worker = worker
        self.fingerprinter = fingerprinter
        self.index: Index = index if index is not None else FingerprintIndex(config.dedup.lsh)
        self.stats = stats if stats is not None else ParagraphStats(config.learned)
        self._recent: deque[str] = deque(maxlen=self.RECENT_LIMIT)
        self._recent_set: set[str] = set()
        self.stories = stories if stories is not None else StoryState(
            config.stories, window_ms=config.window_ms
        )

    # -- the hot path -------------------------------------------------------------------
    def process(self, raw: RawMessage, now_ms: int) -> Outcome:
        """Both steps in this process. Total: a failure is a dead-letter outcome."""
        return self.decide(prepare_total(raw, self.config, self.fingerprinter), now_ms)

    def decide(self, item: Prepared | Rejected, now_ms: int) -> Outcome:
        """The stateful step for one prepared (or rejected) message. Total."""
        if isinstance(item, Rejected):
            return deadletter_outcome(item.raw, item.error, now_ms, self.config.max_record_bytes)
        started = time.perf_counter()
        outcome = self._decide(item, now_ms)
        outcome.outputs = fit_outputs(outcome.outputs, self.config.max_record_bytes)
        outcome.timings = dict(item.timings)
        outcome.timings["decide"] = time.perf_counter() - started
        return outcome

    def _decide(self, prepared: Prepared, now_ms: int) -> Outcome:
        fingerprint, learned_removed = self._without_learned_boilerplate(prepared, now_ms)
        decision = decide(
            fingerprint, prepared.event_time_ms, prepared.id, self.index, self.config.dedup
        )
        is_new = prepared.id not in self.index
        changed = apply_decision(
            self.index, fingerprint, prepared.event_time_ms, prepared.id, decision,
            now_ms=now_ms, source=prepared.metadata.source, origin=prepared.raw.origin_str,
        )
        own = changed[0]
        logged_keys = logged_paragraph_keys(prepared.paragraph_keys)
        if is_new:
            self._observe(own, logged_keys)
        records = [LogRecord(own, logged_keys, self.worker)]
        records += [LogRecord(entry, (), self.worker) for entry in changed[1:]]
        content_hash = fingerprint.content_hash
        if decision.kept:
            value = enriched_record(
                article_id=prepared.id, raw=prepared.raw, envelope=prepared.envelope,
                article=prepared.article, metadata=prepared.metadata, content_hash=content_hash,
                now_ms=now_ms,
            )
            outputs = [Output("enriched", prepared.id, value)]
            verdict: Verdict = "enriched"
        else:
            value = duplicate_record(
                article_id=prepared.id, raw=prepared.raw, envelope=prepared.envelope,
                metadata=prepared.metadata, decision=decision,
                content_hash=content_hash, now_ms=now_ms,
            )
            outputs = [Output("duplicates", prepared.id, value)]
            verdict = "duplicate"
        outputs += self._corrections(decision, prepared.id, now_ms)
        self._remember(prepared.id)
        outcome = Outcome(
            verdict=verdict,
            outputs=outputs,
            log_records=records,
            match=decision.match,
            corrections=len(outputs) - 1,
            rules_removed=prepared.article.boilerplate_removed,
            learned_removed=learned_removed,
        )
        if self.config.stories.enabled:
            attach_story(
                outcome, self.stories, article_id=prepared.id,
                event_time_ms=prepared.event_time_ms, root=decision.root_for(prepared.id),
                terms=prepared.story_terms, now_ms=now_ms, worker=self.worker,
            )
        return outcome

    def _without_learned_boilerplate(
        self, prepared: Prepared, now_ms: int
    ) -> tuple[Fingerprint, int]:
        """The fingerprint without this source's learned boilerplate, and how many paragraphs
        that removed; the stateless step's fingerprint when there is none (the common case)."""
        keys = prepared.paragraph_keys
        boilerplate = self.stats.boilerplate_keys(prepared.metadata.source, keys, now_ms)
        if not boilerplate:
            return prepared.fingerprint, 0
        kept = fingerprint_paragraphs(prepared.forms, boilerplate, keys)
        fingerprint = fingerprint_forms(
            kept, prepared.article.language, self.config, self.fingerprinter
        )
        return fingerprint, len(prepared.forms) - len(kept)

    def _corrections(self, decision: Decision, winner: str, now_ms: int) -> list[Output]:
        """Corrections for the kept articles this (earlier) article supersedes."""
        root = winner if decision.kept else (decision.duplicate_of or winner)
        outputs = []
        for loser_id in decision.supersedes:
            loser = self.index.get(loser_id)
            origin = parse_origin(loser.origin if loser is not None else "")
            value = correction_record(loser_id, origin, root, decision.similarity or 1.0, now_ms)
            outputs.append(Output("duplicates", loser_id, value))
        return outputs

    # -- state maintenance ----------------------------------------------------------------
    def apply(self, record: LogRecord) -> None:
        """Apply one log record (our own or another worker's) to the local state."""
        if record.entry.id not in self.index:
            self._observe(record.entry, record.paragraph_keys)
        self.index.add(record.entry)
        if record.story is not None:
            entry = record.entry
            self.stories.apply_note(entry.id, entry.event_time_ms, record.story, entry.seen_at_ms)

    def _observe(self, entry: IndexEntry, paragraph_keys: tuple[int, ...]) -> None:
        """Count a newly indexed kept article's paragraphs towards learned boilerplate."""
        if entry.is_kept and paragraph_keys:
            self.stats.observe(entry.source, paragraph_keys, entry.seen_at_ms)

    def apply_remote(self, record: LogRecord, now_ms: int) -> Outcome | None:
        """Apply another worker's record; if it reveals a race we lost, correct our verdict.

        Two copies decided at the same time by different workers are both kept, because
        neither was in the other's index yet. The worker that decided the later one (by
        ``(event_time_ms, id)``) publishes the correction when the earlier one arrives here.
        """
        entry = record.entry
        is_new = entry.id not in self.index
        self.apply(record)
        if not is_new or not entry.is_kept or record.worker == self.worker:
            return None
        decision = decide(entry.fingerprint, entry.event_time_ms, entry.id, self.index,
                          self.config.dedup)
        mine = tuple(i for i in decision.supersedes if i in self._recent_set)
        if not decision.kept or not mine:
            return None
        decision = dataclasses.replace(decision, supersedes=mine)
        changed = apply_decision(
            self.index, entry.fingerprint, entry.event_time_ms, entry.id, decision,
            now_ms=entry.seen_at_ms, source=entry.source,
        )
        self.index.add(entry)  # keep the origin and timestamps its own worker gave it
        outputs = self._corrections(decision, entry.id, now_ms)
        return Outcome(
            verdict="duplicate",
            outputs=outputs,
            log_records=[LogRecord(e, (), self.worker) for e in changed[1:]],
            corrections=len(outputs),
        )

    def on_log_record(
        self, record: LogRecord | StoryUpdate, *, catching_up: bool, now_ms: int
    ) -> Outcome | None:
        """One record of the fingerprint log, ours or another worker's, read by the replica.

        While catching up (start-up) every record is applied as it is. Afterwards our own
        records are skipped (applied when we decided them) and another worker's may reveal a
        race we lost: the outcome then holds the corrections (or story merges) to publish.
        """
        if isinstance(record, StoryUpdate):  # merges only join: applying one twice is a no-op
            self.stories.apply_update(record)
            return None
        outcome = self._on_article_record(record, catching_up=catching_up, now_ms=now_ms)
        if catching_up or record.worker == self.worker or record.story is None:
            return outcome
        entry = record.entry
        if outcome is not None:  # our corrections: their new root is this article
            stamp_story(outcome, self.stories.story_of(entry.id) or record.story.story)
        updates = self.stories.race_merges(
            entry.id, entry.event_time_ms, record.story, now_ms=now_ms, worker=self.worker
        )
        if not updates:
            return outcome
        merges = race_outcome(updates)
        if outcome is None:
            return merges
        outcome.outputs += merges.outputs
        outcome.story_updates += merges.story_updates
        return outcome

    def _on_article_record(
        self, record: LogRecord, *, catching_up: bool, now_ms: int
    ) -> Outcome | None:
        if catching_up:
            self.apply(record)
            return None
        if record.worker == self.worker:
            return None
        return self.apply_remote(record, now_ms)

    def expire(self, now_ms: int) -> int:
        removed = self.index.expire(now_ms, self.config.window_ms)
        self.stats.expire(now_ms)
        self.stories.expire(now_ms)
        return len(removed)

    def _remember(self, article_id: str) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(article_id)
        self._recent_set.add(article_id)
