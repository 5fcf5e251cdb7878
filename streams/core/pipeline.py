"""The functional core of the worker: one raw message in, outputs and index records out.

``prepare`` is pure (no state). ``Deduplicator`` owns the mutable state, passed in at
construction: the fingerprint index replica and the learned-boilerplate statistics. The
Faust agent only moves messages between Kafka and :meth:`Deduplicator.process`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from streams.core.dedup.config import DedupConfig
from streams.core.dedup.decide import apply_decision, decide
from streams.core.dedup.index import FingerprintIndex
from streams.core.dedup.minhash import fingerprint as compute_fingerprint
from streams.core.dedup.model import Decision, Fingerprint, IndexEntry
from streams.core.envelope import Envelope, parse_envelope
from streams.core.errors import ExtractionError, IngestError, InputError, InternalError
from streams.core.fingerprint_log import LogRecord, logged_paragraph_keys
from streams.core.record_budget import DEFAULT_MAX_RECORD_BYTES, fit_outputs
from streams.core.records import (
    Output,
    RawMessage,
    correction_record,
    deadletter_record,
    duplicate_record,
    enriched_record,
    parse_origin,
)
from streams.core.text.article import DEFAULT_TEXT_CONFIG, TextConfig, normalize_article
from streams.core.text.learned import (
    LearnedBoilerplateConfig,
    ParagraphStats,
    fingerprint_paragraphs,
)
from streams.core.text.model import NormalizedArticle
from streams.core.text.normalize import fingerprint_text, fingerprint_tokens, form_key

log = logging.getLogger(__name__)

Verdict = Literal["enriched", "duplicate", "deadletter"]
BoilerplateLookup = Callable[[str | None, tuple[int, ...]], frozenset[int]]


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """Everything the pure core needs to know; built by the shell from the settings."""

    # Raw values over this are dead-lettered ``too_large`` (INGEST_MAX_BODY_BYTES).
    max_body_bytes: int = 1024 * 1024 - 64 * 1024
    # Every output record (key and value) fits this: the topic limit minus Kafka's framing.
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    window_ms: int = 14 * 86_400_000
    text: TextConfig = DEFAULT_TEXT_CONFIG
    dedup: DedupConfig = field(default_factory=DedupConfig)
    learned: LearnedBoilerplateConfig = field(default_factory=LearnedBoilerplateConfig)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message parsed, normalized and fingerprinted; no state consulted except boilerplate."""

    raw: RawMessage
    id: str
    envelope: Envelope
    article: NormalizedArticle
    paragraph_keys: tuple[int, ...]  # distinct, as logged (fingerprint_log.logged_paragraph_keys)
    learned_removed: int
    fingerprint: Fingerprint

    @property
    def event_time_ms(self) -> int:
        return self.raw.timestamp_ms


def prepare(
    raw: RawMessage,
    config: CoreConfig,
    learned: BoilerplateLookup,
    timings: dict[str, float] | None = None,
) -> Prepared:
    """Parse, normalize and fingerprint one message. Raises an :class:`InputError`.

    ``timings``, when given, receives seconds spent per stage (parse, normalize, fingerprint).
    """
    clock = time.perf_counter
    started = clock()
    envelope = parse_envelope(raw.value, max_bytes=config.max_body_bytes)
    parsed = clock()
    article = normalize_article(
        envelope.body, content_type=envelope.content_type, config=config.text
    )
    normalized = clock()
    # The fingerprint form of the whole is the forms of its paragraphs joined by a space, so
    # each paragraph is simplified once, for its boilerplate key and for the fingerprint.
    forms = [fingerprint_text((p,)) for p in article.paragraphs]
    keys = tuple(form_key(form) for form in forms)
    boilerplate = learned(envelope.source, keys)
    kept = fingerprint_paragraphs(forms, boilerplate, keys) if boilerplate else forms
    fp_text = " ".join(form for form in kept if form)
    tokens = fingerprint_tokens(fp_text, article.language)
    fingerprint = compute_fingerprint(tokens, fp_text, config.dedup.minhash)
    if timings is not None:
        timings.update(parse=parsed - started, normalize=normalized - parsed,
                       fingerprint=clock() - normalized)
    return Prepared(
        raw=raw,
        id=envelope.id or raw.derived_id(),
        envelope=envelope,
        article=article,
        paragraph_keys=logged_paragraph_keys(keys),
        learned_removed=len(article.paragraphs) - len(kept),
        fingerprint=fingerprint,
    )


@dataclass(slots=True)
class Outcome:
    """What one message produced: records to publish and index records to append."""

    verdict: Verdict
    outputs: list[Output]
    log_records: list[LogRecord] = field(default_factory=list)
    match: str | None = None
    error_code: str | None = None
    corrections: int = 0
    rules_removed: int = 0
    learned_removed: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


def deadletter_outcome(
    raw: RawMessage, error: IngestError, now_ms: int, max_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Outcome:
    record = deadletter_record(raw, error, now_ms, max_bytes=max_bytes)
    return Outcome(
        verdict="deadletter",
        outputs=[Output("deadletter", record["id"], record)],
        error_code=error.code,
    )


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
        index: FingerprintIndex | None = None,
        stats: ParagraphStats | None = None,
    ) -> None:
        self.config = config
        self.worker = worker
        self.index = index if index is not None else FingerprintIndex(config.dedup.lsh)
        self.stats = stats if stats is not None else ParagraphStats(config.learned)
        self._recent: deque[str] = deque(maxlen=self.RECENT_LIMIT)
        self._recent_set: set[str] = set()

    # -- the hot path -------------------------------------------------------------------
    def process(self, raw: RawMessage, now_ms: int) -> Outcome:
        """Total: any failure becomes a dead-letter outcome, never an exception."""
        timings: dict[str, float] = {}
        try:
            prepared = prepare(raw, self.config, self._learned_lookup(now_ms), timings)
            started = time.perf_counter()
            outcome = self._decide(prepared, now_ms)
            outcome.outputs = fit_outputs(outcome.outputs, self.config.max_record_bytes)
            timings["decide"] = time.perf_counter() - started
            outcome.timings = timings
            return outcome
        except InputError as exc:
            return deadletter_outcome(raw, exc, now_ms, self.config.max_record_bytes)
        except RecursionError:
            # Deeply nested markup exhausts a parser's recursion.
            return deadletter_outcome(
                raw, ExtractionError("input nests too deeply to process"), now_ms,
                self.config.max_record_bytes,
            )
        except Exception as exc:
            log.exception(
                "internal error processing %s", raw.origin_str,
                extra={"topic": raw.topic, "partition": raw.partition, "offset": raw.offset,
                       "code": InternalError.code},
            )
            return deadletter_outcome(
                raw, InternalError(f"{type(exc).__name__}: {exc}"), now_ms,
                self.config.max_record_bytes,
            )

    def _learned_lookup(self, now_ms: int) -> BoilerplateLookup:
        def lookup(source: str | None, keys: tuple[int, ...]) -> frozenset[int]:
            return self.stats.boilerplate_keys(source, keys, now_ms)

        return lookup

    def _decide(self, prepared: Prepared, now_ms: int) -> Outcome:
        decision = decide(
            prepared.fingerprint, prepared.event_time_ms, prepared.id, self.index,
            self.config.dedup,
        )
        is_new = prepared.id not in self.index
        changed = apply_decision(
            self.index, prepared.fingerprint, prepared.event_time_ms, prepared.id, decision,
            now_ms=now_ms, source=prepared.envelope.source, origin=prepared.raw.origin_str,
        )
        own = changed[0]
        if is_new:
            self._observe(own, prepared.paragraph_keys)
        records = [LogRecord(own, prepared.paragraph_keys, self.worker)]
        records += [LogRecord(entry, (), self.worker) for entry in changed[1:]]
        content_hash = prepared.fingerprint.content_hash
        if decision.kept:
            value = enriched_record(
                article_id=prepared.id, raw=prepared.raw, envelope=prepared.envelope,
                article=prepared.article, content_hash=content_hash, now_ms=now_ms,
            )
            outputs = [Output("enriched", prepared.id, value)]
            verdict: Verdict = "enriched"
        else:
            value = duplicate_record(
                article_id=prepared.id, raw=prepared.raw, envelope=prepared.envelope,
                title=prepared.envelope.title or prepared.article.title, decision=decision,
                content_hash=content_hash, now_ms=now_ms,
            )
            outputs = [Output("duplicates", prepared.id, value)]
            verdict = "duplicate"
        outputs += self._corrections(decision, prepared.id, now_ms)
        self._remember(prepared.id)
        return Outcome(
            verdict=verdict,
            outputs=outputs,
            log_records=records,
            match=decision.match,
            corrections=len(outputs) - 1,
            rules_removed=prepared.article.boilerplate_removed,
            learned_removed=prepared.learned_removed,
        )

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

    def expire(self, now_ms: int) -> int:
        removed = self.index.expire(now_ms, self.config.window_ms)
        self.stats.expire(now_ms)
        return len(removed)

    def _remember(self, article_id: str) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(article_id)
        self._recent_set.add(article_id)
