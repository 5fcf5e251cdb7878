"""The stateful step: decides prepared articles against the shared index and keeps it current.

The stateless step (:mod:`streams.core.prepare`) parses, normalizes and fingerprints; it may
run in another process. :class:`Deduplicator` owns the state, passed in at construction: the
fingerprint index (any :class:`streams.core.dedup.index.Index`) and the learned-boilerplate
statistics. It also handles the records other workers append to the fingerprint log
(:meth:`Deduplicator.on_log_record`), including the correction of a race it lost (and of
one another worker lost and did not correct: :meth:`Deduplicator.owed_corrections`), and the
holding of verdicts (:meth:`Deduplicator.decide` with ``hold=True``, then
:meth:`Deduplicator.release`; see :mod:`streams.core.hold`). The Faust agent only moves
messages between Kafka and these methods.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Collection, Iterable
from typing import overload

from streams.core.config import CoreConfig
from streams.core.dedup.decide import (
    apply_decision,
    decide,
    group_members,
    may_match,
    moved_members,
    resolve_root,
)
from streams.core.dedup.index import FingerprintIndex, Index
from streams.core.dedup.match import Candidate
from streams.core.dedup.minhash import fingerprint as minhash_fingerprint
from streams.core.dedup.model import Decision, Fingerprint, IndexEntry, MatchKind, Profile
from streams.core.dedup.race_window import RaceWindow
from streams.core.dedup.revision import Revision, next_revision, redelivered, remembering
from streams.core.errors import InternalError
from streams.core.fingerprint_log import (
    MAX_LOG_ID_CHARS,
    MAX_LOGGED_CORRECTED_CHARS,
    LogRecord,
    logged_paragraph_keys,
)
from streams.core.hold import HoldPolicy
from streams.core.outcome import Outcome, Verdict, deadletter_outcome, fit_or_deadletter
from streams.core.own_records import InFlight, Named
from streams.core.prepare import (
    Fingerprinter,
    Prepared,
    Rejected,
    fingerprint_and_profile,
    prepare_total,
)
from streams.core.records import (
    Output,
    RawMessage,
    Supersedes,
    correction_record,
    duplicate_record,
    enriched_record,
    parse_origin,
)
from streams.core.stories.attach import attach_story, race_outcome, stamp_story
from streams.core.stories.model import StoryUpdate
from streams.core.stories.state import StoryState
from streams.core.stories.template import Founders, Lede, is_templated, keyed_lede
from streams.core.text.learned import ParagraphStats, fingerprint_paragraphs

__all__ = ["CoreConfig", "Deduplicator", "Outcome", "Prepared", "Rejected", "Verdict"]

# An index entry's verification profile may take this share of a record's size at most: it
# goes whole into the entry's fingerprint-log record (base64: 4/3 of it), beside at most
# ~90 KB of paragraph keys and a few KB of the rest (``streams.core.fingerprint_log``), and
# the smallest message size the settings accept leaves room for all of it.
PROFILE_SHARE = 4


@dataclasses.dataclass(slots=True)
class RemoteChecks:
    """Other workers' new kept articles: re-decided here, or skipped because none of our
    kept articles they had not applied could race with them
    (:mod:`streams.core.dedup.race_window`)."""

    decided: int = 0
    skipped: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class _Owed:
    """A correction another worker owes: its kept article is later than ``ours``, which it
    had not applied when it decided; it corrects it when our record reaches it."""

    due_ms: int
    ours: tuple[tuple[str, str], ...]  # (id, content hash when noted), by order key


class Deduplicator:
    """Decides each article against the shared index and keeps the state current."""

    # Ids this process decided recently: it corrects its own verdicts when a race with
    # another worker surfaces through the log (see README, "Near duplicates").
    RECENT_LIMIT = 100_000
    # Corrections other workers owe, watched at once (the oldest is dropped past this).
    OWED_LIMIT = 10_000
    # Articles with records of ours in flight, tracked at once (the oldest is dropped past
    # this; a few batches' worth are in flight in a running worker).
    UNREAD_LIMIT = 65_536
    # Our newest duplicates records remembered (the oldest is forgotten past this): the
    # articles they name may stop being kept in a race (:meth:`_repointed`).
    NAMED_LIMIT = 16_384
    # Founders of our latest stories remembered for the race check of templated reports
    # (as many as the stories StoryState answers for in races).
    FOUNDER_LIMIT = StoryState.RECENT_LIMIT

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
        self.hold = HoldPolicy(worker, config.hold)
        self._recent: deque[str] = deque(maxlen=self.RECENT_LIMIT)
        self._recent_set: set[str] = set()
        # Ids decided with hold=True whose outputs are not published yet: a correction for
        # one of them is not published, its held verdict is rewritten on release instead.
        self._held: set[str] = set()
        # Our kept articles another worker may not have applied when it decided (README,
        # "Tie-break and races"): most of its kept articles need no re-decision here.
        self.race_window = RaceWindow(config.dedup.lsh)
        self.remote_checks = RemoteChecks()
        # Races other workers lost, by their article's id, in the order they are due.
        self._owed: dict[str, _Owed] = {}
        # Other workers' duplicates that named an article no longer kept here, by id: (due,
        # the article named). Their worker follows them up (:meth:`_repointed`) unless it
        # stopped; then :meth:`owed_corrections` does.
        self._owed_repoints: dict[str, tuple[int, str]] = {}
        # Story merges other workers owe: one article in a story of ours and in a later-founded
        # one of theirs (:meth:`_watch_shared_article`), by article id: (due, ours, theirs).
        self._owed_story_merges: dict[str, tuple[int, str, str]] = {}
        # Our records not read back yet (:meth:`read_back`), and what our newest duplicates
        # records named (:meth:`_repointed`).
        self._in_flight = InFlight(self.UNREAD_LIMIT)
        self._named = Named(self.NAMED_LIMIT)
        self.stories = stories if stories is not None else StoryState(
            config.stories, window_ms=config.window_ms
        )
        # The articles that opened our latest stories, for the race check of templated reports.
        self.founders = Founders(self.FOUNDER_LIMIT)

    # -- the hot path -------------------------------------------------------------------
    def process(self, raw: RawMessage, now_ms: int, *, hold: bool = False) -> Outcome:
        """Both steps in this process. Total: a failure is a dead-letter outcome."""
        return self.decide(prepare_total(raw, self.config, self.fingerprinter), now_ms, hold=hold)

    def decide(self, item: Prepared | Rejected, now_ms: int, *, hold: bool = False) -> Outcome:
        """The stateful step for one prepared (or rejected) message. Total.

        With ``hold``, the outcome's log records are final but its outputs are provisional:
        publish the log records now and the outputs of :meth:`release` later.
        """
        if isinstance(item, Rejected):
            return deadletter_outcome(item.raw, item.error, now_ms, self.config.max_record_bytes)
        started = time.perf_counter()
        previous = self.index.get(item.scoped_id)
        outcome = (self._redelivered(item, previous, now_ms)
                   or self._decide(item, previous, now_ms))
        try:
            outcome = fit_or_deadletter(outcome, item.raw, now_ms, self.config.max_record_bytes)
        except (TypeError, ValueError, OverflowError) as exc:
            outcome = _unwritable(outcome, item, exc, now_ms, self.config.max_record_bytes)
        outcome.timings = dict(item.timings)
        outcome.timings["decide"] = time.perf_counter() - started
        if hold:
            outcome.held = item
            self._held.add(item.scoped_id)
        return self._with_repoints(
            outcome, [record.entry.id for record in outcome.log_records], now_ms
        )

    def release(self, outcomes: list[Outcome], now_ms: int) -> list[Outcome]:
        """The held outcomes with their verdicts brought up to date with the index.

        A kept verdict that a copy decided meanwhile (here or by another worker) overturned is
        published as that duplicate, not as kept then corrected; a duplicate whose root has
        become another article's duplicate names the group's kept article.
        """
        released = []
        for outcome in outcomes:
            fresh = self._released(outcome, now_ms)
            if outcome.held is not None:
                self._held.discard(outcome.held.scoped_id)
            outcome.held = fresh.held = None
            # Its records name articles as they were when it was decided: any of them no
            # longer kept is followed by the record naming its kept article now.
            named = [kept for o in fresh.outputs if o.kind == "duplicates"
                     and (kept := o.value.get("duplicate_of_scoped_id")) is not None]
            released.append(self._with_repoints(fresh, named, now_ms))
        return released

    def _released(self, outcome: Outcome, now_ms: int) -> Outcome:
        prepared = outcome.held
        if prepared is None:
            return outcome
        key = prepared.scoped_id
        entry = self.index.get(key)
        if entry is None or outcome.verdict == "deadletter":
            return outcome
        # No log record: a redelivered earlier revision (:meth:`_redelivered`). Another
        # revision: a newer one was decided meanwhile, and its own outcome rules.
        if not outcome.log_records or outcome.log_records[0].entry.revision != entry.revision:
            return outcome
        root = resolve_root(self.index, entry.root)
        first = outcome.outputs[0]
        if root == key:
            # Kept now. A held duplicate can be: another worker's copy of this id (a resend),
            # earlier and kept, took its entry meanwhile. Kept, as a resend decided alone is
            # (until 2026-12-05 released as "x duplicate_of x": kept nowhere, and its copies
            # named it: a new-user trial with three workers).
            if outcome.verdict == "enriched":
                return outcome
        elif (outcome.verdict == "duplicate"
              and first.value.get("duplicate_of_scoped_id") == root):
            return outcome
        revision = Revision(entry.revision, entry.previous_hash)
        verdict, match, output = self._verdict_now(
            prepared, entry, root, revision=revision,
            content_hash=entry.fingerprint.content_hash, now_ms=now_ms,
        )
        if "story_id" in first.value:  # the story of the group's kept article
            output.value["story_id"] = self.stories.story_of(root) or first.value["story_id"]
        released = dataclasses.replace(
            outcome, verdict=verdict, match=match, outputs=[output, *outcome.outputs[1:]]
        )
        return fit_or_deadletter(released, prepared.raw, now_ms, self.config.max_record_bytes)

    def _verdict_now(
        self, prepared: Prepared, entry: IndexEntry, root: str, *, revision: Revision,
        content_hash: str, now_ms: int,
    ) -> tuple[Verdict, MatchKind | None, Output]:
        """The record of an indexed article as the index has it now: kept when ``root`` is its
        own id, else a duplicate of ``root`` with the match its entry keeps."""
        key = prepared.scoped_id
        if root == key:
            value = enriched_record(
                article_id=prepared.id, raw=prepared.raw, envelope=prepared.envelope,
                article=prepared.article, metadata=prepared.metadata,
                content_hash=content_hash, now_ms=now_ms, scoped=key, revision=revision,
            )
            return "enriched", None, Output("enriched", key, value)
        decision = Decision(
            kept=False, duplicate_of=root, match=entry.match or "near",
            similarity=entry.similarity if entry.similarity is not None else 1.0,
        )
        value = duplicate_record(
            article_id=prepared.id, raw=prepared.raw, envelope=prepared.envelope,
            metadata=prepared.metadata, decision=decision, content_hash=content_hash,
            now_ms=now_ms, scoped=key, revision=revision,
        )
        return "duplicate", decision.match, Output("duplicates", key, value)

    def _redelivered(
        self, prepared: Prepared, entry: IndexEntry | None, now_ms: int
    ) -> Outcome | None:
        """The outcome of a redelivered message of an earlier revision of the article indexed
        as ``entry`` (None: the message is not one): its revision repeated with the article's
        verdict now, the index untouched (its newest revision stays: a replay in offset order
        decides that one next)."""
        earlier = redelivered(entry, prepared.raw.origin_str, prepared.fingerprint.content_hash)
        if entry is None or earlier is None:
            return None
        root = resolve_root(self.index, entry.root)
        verdict, match, output = self._verdict_now(
            prepared, entry, root, revision=earlier.revision,
            content_hash=earlier.content_hash, now_ms=now_ms,
        )
        outcome = Outcome(verdict=verdict, outputs=[output], log_records=[], match=match,
                          rules_removed=prepared.article.boilerplate_removed)
        if self.config.stories.enabled:
            story = self.stories.story_of(root)
            if story is not None:
                stamp_story(outcome, story)
        return outcome

    def _decide(
        self, prepared: Prepared, previous: IndexEntry | None, now_ms: int
    ) -> Outcome:
        """The stateful step for a message whose id is indexed as ``previous`` (None: not)."""
        fingerprint, profile, learned_removed = self._without_learned_boilerplate(
            prepared, now_ms
        )
        # Story terms keep learned boilerplate: read without it, a statement carried in
        # paragraphs by one source and in one block by another has other terms in each (FOMC
        # copy pairs in one story 0.994 -> 0.962).
        full = None
        if learned_removed:
            full = Candidate(prepared.fingerprint, prepared.event_time_ms, prepared.profile)
        key = prepared.scoped_id
        revision = next_revision(previous, prepared.fingerprint.content_hash,
                                 prepared.raw.origin_str)
        # An article keeps its place in the order, ``(event time, id)``, across revisions.
        event_time_ms = prepared.event_time_ms
        if previous is not None:  # a revision, or a resend of the same content
            event_time_ms = previous.event_time_ms
        decision = decide(
            fingerprint, event_time_ms, key, self.index, self.config.dedup,
            profile=profile, full=full,
        )
        is_new = previous is None
        # Judged once, when the article is new: a replay or revision finds its own skeletons
        # and words learned (it keeps its story anyway).
        terms = prepared.story_terms
        lede = keyed_lede(terms.skeletons, prepared.paragraph_keys)
        templated = is_new and self._templated(prepared.metadata.source, lede,
                                               terms.lede_chars, now_ms)
        changed = apply_decision(
            self.index, fingerprint, event_time_ms, key, decision,
            now_ms=now_ms, source=prepared.metadata.source, origin=prepared.raw.origin_str,
            profile=profile.for_index(self.config.dedup.verify.exact_below_shingles,
                                      self.config.max_record_bytes // PROFILE_SHARE),
            revision=revision, full_hash=prepared.fingerprint.content_hash,
        )
        own = changed[0]
        # A replay overturning its kept verdict (decide: a race nobody corrected).
        overturned = (previous is not None and previous.is_kept and not revision.is_new
                      and not decision.kept)
        learn = logged_paragraph_keys(self._learning_keys(prepared, own, decision))
        if is_new:
            self._observe(own, learn)
        records = [LogRecord(own, learn, self.worker)]
        records += [LogRecord(entry, (), self.worker) for entry in changed[1:]]
        content_hash = fingerprint.content_hash
        if decision.kept:
            value = enriched_record(
                article_id=prepared.id, raw=prepared.raw, envelope=prepared.envelope,
                article=prepared.article, metadata=prepared.metadata, content_hash=content_hash,
                now_ms=now_ms, scoped=key, revision=revision,
            )
            outputs = [Output("enriched", key, value)]
            verdict: Verdict = "enriched"
        else:
            value = duplicate_record(
                article_id=prepared.id, raw=prepared.raw, envelope=prepared.envelope,
                metadata=prepared.metadata, decision=decision,
                content_hash=content_hash, now_ms=now_ms, scoped=key, revision=revision,
            )
            if overturned:
                value["supersedes"] = "kept"
            outputs = [Output("duplicates", key, value)]
            verdict = "duplicate"
        kept_fixed, moved = self._corrections(decision, key, now_ms)
        if kept_fixed or moved:  # other workers' replicas leave these corrections to us
            corrected = tuple(o.key for o in kept_fixed + moved)
            records[0] = dataclasses.replace(records[0], corrected=corrected)
        self._remember(key)
        if decision.kept:
            self.race_window.kept(key, event_time_ms, fingerprint, own.exact_hashes)
        else:
            self.race_window.duplicate(key, event_time_ms, fingerprint, own.exact_hashes)
        outcome = Outcome(
            verdict=verdict,
            outputs=outputs + kept_fixed + moved,
            log_records=records,
            match=decision.match,
            corrections=len(kept_fixed) + overturned,
            root_changes=len(moved),
            rules_removed=prepared.article.boilerplate_removed,
            learned_removed=learned_removed,
        )
        if self.config.stories.enabled:
            self._assign_story(outcome, prepared, decision, lede, templated=templated,
                               overturned=overturned, now_ms=now_ms)
        self._in_flight.sent(outcome.log_records)
        return outcome

    def _assign_story(
        self, outcome: Outcome, prepared: Prepared, decision: Decision, lede: Lede, *,
        templated: bool, overturned: bool, now_ms: int,
    ) -> None:
        """The decided article's story on its outcome (:func:`attach_story`), and the
        merges it owes: the stories of the kept articles it supersedes, or, when its replay
        overturned its own kept verdict, its own story, into its kept article's."""
        key, terms = prepared.scoped_id, prepared.story_terms
        attach_story(
            outcome, self.stories, article_id=key, event_time_ms=prepared.event_time_ms,
            root=decision.root_for(key), terms=terms, now_ms=now_ms, worker=self.worker,
            templated=templated,
        )
        if outcome.story is not None and outcome.story.story == key:
            self.founders.remember(key, outcome.story.subjects, lede, terms.lede_chars)
        self.race_window.updates_sent(len(outcome.story_updates))
        superseded = (key,) if overturned else decision.supersedes
        if superseded and outcome.story is not None:
            self._superseded_stories_merged(outcome, outcome.story.story, superseded, now_ms)

    def _superseded_stories_merged(
        self, outcome: Outcome, story: str, superseded: Iterable[str], now_ms: int
    ) -> None:
        """The stories of the kept articles an earlier copy superseded, merged into the
        copy's, ``story`` (``reason: race``), as the owed-race path merges them
        (:meth:`_owed_story_merge`): one article's versions are one event, even where the
        copy did not join their story (the subject rule of templated reports, or a story too
        far in time)."""
        updates: list[StoryUpdate] = []
        for article_id in superseded:
            theirs = self.stories.story_of(article_id)
            if theirs is not None:
                updates += self.stories.owed_merge(story, theirs, now_ms=now_ms,
                                                   worker=self.worker)
        if updates:
            self._with_merges(outcome, updates)

    def _without_learned_boilerplate(
        self, prepared: Prepared, now_ms: int
    ) -> tuple[Fingerprint, Profile, int]:
        """The fingerprint and profile without the learned boilerplate of the article's source
        (or of articles without one), and how many paragraphs that removed; the stateless
        step's when there is none (the common case)."""
        keys = prepared.paragraph_keys
        boilerplate = self.stats.boilerplate_keys(prepared.metadata.source, keys, now_ms)
        if not boilerplate:
            return prepared.fingerprint, prepared.profile, 0
        kept = fingerprint_paragraphs(prepared.forms, boilerplate, keys)
        language = prepared.article.language
        fingerprint, profile = fingerprint_and_profile(
            kept, language, self.config, self.fingerprinter
        )
        return fingerprint, profile, len(prepared.forms) - len(kept)

    def _templated(self, source: str | None, lede: Lede, lede_chars: int, now_ms: int) -> bool:
        """Whether the article's lede is much in paragraphs whose skeleton another article of
        its source had, in other words: a templated report
        (:mod:`streams.core.stories.template`)."""
        if not lede:
            return False
        known = self.stats.boilerplate_keys(
            source, (key for key, _, _ in lede), now_ms, min_articles=1
        )
        if not known:
            return False
        repeated = self.stats.boilerplate_keys(
            source, (key for _, key, _ in lede), now_ms, min_articles=1
        )
        return is_templated(lede, known, repeated, lede_chars)

    def _learning_keys(
        self, prepared: Prepared, own: IndexEntry, decision: Decision
    ) -> tuple[int, ...]:
        """The paragraphs this article adds to the learned-boilerplate counts.

        Learned boilerplate is a paragraph found in several *different* articles, so each
        group of copies counts a paragraph once: an article counts the paragraphs its kept
        article and the kept articles it supersedes do not have. An original counts all of
        its paragraphs; a copy only what its publisher added (a footer, a pitch); a story
        never becomes boilerplate because its copies arrived out of order and were each kept
        for a while. (The superseded articles' own duplicates are not looked at: they were
        not before issue 14 either, when they had already been moved away by the time this
        ran, and looking at them would change what is learned, hence verdicts.)
        """
        related = [self.index.get(resolve_root(self.index, own.root))] if not own.is_kept else []
        related.extend(self.index.get(superseded) for superseded in decision.supersedes)
        known: set[int] = set()
        for entry in related:
            if entry is not None and entry.id != own.id and entry.profile is not None:
                known.update(entry.profile.key_array().tolist())
        if not own.is_kept and not known:
            return ()  # its kept article's paragraphs are unknown (a version-1 record)
        keys = tuple(k for k in prepared.paragraph_keys if k not in known)
        if not related:
            # An original also counts its lede's skeletons (templated reports), once per
            # group of copies: a copy or an earlier version of a kept article adds none.
            keys += tuple(key for key, _, _ in prepared.story_terms.skeletons)
        return keys

    def _corrections(
        self, decision: Decision, winner: str, now_ms: int
    ) -> tuple[list[Output], list[Output]]:
        """Corrections this (earlier) article causes: for the kept articles it supersedes, and
        for the duplicates that moved with them to its group's kept article (one output each,
        but no log record: they follow the superseded article's entry). None for verdicts
        still held here: those are rewritten on release. A replay repeats them."""
        root = winner if decision.kept else (decision.duplicate_of or winner)
        kept_fixed = []
        matches = dict(zip(decision.supersedes, decision.superseded_matches, strict=False))
        for loser_id in decision.supersedes:
            if loser_id in self._held:
                continue
            kind, similarity = matches.get(loser_id, ("near", decision.similarity or 1.0))
            kept_fixed.append(
                self._correction(loser_id, root, kind, similarity, now_ms, supersedes="kept")
            )
        moved: list[Output] = []
        for member in moved_members(self.index, root, winner, decision.supersedes):
            if member.id in self._held or member.id in decision.supersedes:
                continue
            moved.append(self._moved(member, root, now_ms))
        return kept_fixed, moved

    def _moved(self, member: IndexEntry, root: str, now_ms: int) -> Output:
        """The correction of a duplicate that moved with its article to ``root``."""
        similarity = member.similarity if member.similarity is not None else 1.0
        return self._correction(member.id, root, member.match, similarity, now_ms,
                                supersedes="duplicate_of", entry=member)

    def _correction(
        self, article_id: str, root: str, match: str | None, similarity: float, now_ms: int,
        *, supersedes: Supersedes, entry: IndexEntry | None = None,
    ) -> Output:
        """``entry``: the corrected article's entry when the caller holds it already."""
        if entry is None:
            entry = self.index.get(article_id)
        origin = parse_origin(entry.origin if entry is not None else "")
        value = correction_record(
            article_id, origin, root, similarity, now_ms, match=match, supersedes=supersedes,
            revision=entry.revision if entry is not None else None,
        )
        return Output("duplicates", article_id, value)

    # -- state maintenance ----------------------------------------------------------------
    def apply(self, record: LogRecord) -> None:
        """Apply one log record (our own or another worker's) to the local state.

        A record of an older revision than the indexed one is stale (a worker re-rooted the
        article before its new revision reached it; one id's records share a partition, so
        every replica meets them in this order) and is skipped: it would bring back the old
        content, and its lower revision would make the next record of the new one look new.
        Its message is remembered (:func:`remembering`), as are the messages our entry knew
        when another worker's record replaces it.
        """
        current = self.index.get(record.entry.id)
        if current is not None and current.revision > record.entry.revision:
            remembers = remembering(current, record.entry)
            if remembers is not None:  # its message, redelivered, repeats its revision
                self.index.add(remembers)
            return
        entry = record.entry
        if current is None:
            self._observe(entry, record.paragraph_keys)
        else:  # the messages of the article that ours knew and the record's worker did not
            entry = remembering(entry, current) or entry
        self.index.add(entry)
        if record.story is not None:
            entry = record.entry
            self.stories.apply_note(entry.id, entry.event_time_ms, record.story, entry.seen_at_ms,
                                    ours=record.worker == self.worker)

    def _observe(self, entry: IndexEntry, paragraph_keys: tuple[int, ...]) -> None:
        """Count a newly indexed article's paragraphs towards learned boilerplate (the keys
        its record carries: see :meth:`_learning_keys`)."""
        if paragraph_keys:
            self.stats.observe(entry.source, paragraph_keys, entry.seen_at_ms)

    def apply_remote(self, record: LogRecord, now_ms: int) -> Outcome | None:
        """Apply another worker's record; if it reveals a race we lost, correct our verdict.

        Two copies decided at the same time by different workers are both kept, because
        neither was in the other's index yet. The worker that decided the later one (by
        ``(event_time_ms, id)``) publishes the correction when the earlier one arrives here,
        unless the record says that its worker published that correction itself (its replica
        already held the copy): one is enough. The copy's entry changes here all the same.
        """
        entry = record.entry
        previous = self.index.get(entry.id)
        # A new article, or a new revision of one (decided afresh by its worker), or another
        # message of an id we hold (a resend) that ends the log: each can have raced with
        # ours. Other records re-root or repeat what is indexed.
        is_new = (previous is None or previous.revision < entry.revision
                  or self._resend_ends_the_log(entry, previous))
        self.apply(record)
        if record.worker == self.worker:
            return None
        if not entry.is_kept:  # a new duplicate, or a correction: what does it name?
            self._watch_named(entry, now_ms)
        if not is_new:
            return None
        applied = _positions(record)
        if entry.is_kept:
            self._watch_owed(entry, applied, now_ms)
        # A duplicate races too: it supersedes our later kept copies it matches (near copies
        # are not transitive: ours may not match its kept article), as when one worker
        # decides both.
        if not self.race_window.may_race(entry.fingerprint, entry.order_key, applied,
                                         held=self._held, hashes=entry.exact_hashes) \
                and not self._announces_ours(record):
            self.remote_checks.skipped += 1
            return None
        self.remote_checks.decided += 1
        return self._redecided(entry, self._recent_set, now_ms, announced=record.corrected)

    def _resend_ends_the_log(self, entry: IndexEntry, previous: IndexEntry) -> bool:
        """Whether another worker's kept ``entry`` is its decision of another message of an
        id we hold as ``previous`` (a resend) that the log orders after every record of ours
        of the id. One id's records share a log partition: with none of ours in flight,
        the log ends with it, and the article is kept there as a new one is. With one of
        ours in flight, ours ends the log, and re-rooting our articles under the resend
        looped the group (x -> y -> x); its worker corrects what it owes then. Until
        2026-12-05 a resend was never re-decided here, so in the first order our near copy
        of it stayed kept until INGEST_RACE_FALLBACK_S (a new-user trial, three workers)."""
        return (entry.is_kept and entry.origin != previous.origin
                and entry.revision == previous.revision and entry.id not in self._in_flight)

    def _redecided(
        self, entry: IndexEntry, losers: Collection[str], now_ms: int,
        *, announced: tuple[str, ...] = (),
    ) -> Outcome | None:
        """Decide the indexed article ``entry`` again; the corrections of the articles among
        ``losers`` it supersedes (they join its group), but those ``announced`` as published
        by its worker. The index keeps ``entry`` as it was (its worker's origin and
        timestamps)."""
        decision = decide(entry.fingerprint, entry.event_time_ms, entry.id, self.index,
                          self.config.dedup, profile=entry.profile, full=_full(entry))
        # A duplicate's re-decision leaves alone what its worker announced it corrected: that
        # worker's records give those articles their roots (taking them here moved them into
        # the group of an article that had itself lost a race; found by a review).
        mine = [i for i, loser in enumerate(decision.supersedes) if loser in losers
                and (decision.kept or loser not in announced)]
        if not mine:
            return None
        decision = dataclasses.replace(
            decision,
            supersedes=tuple(decision.supersedes[i] for i in mine),
            superseded_matches=tuple(decision.superseded_matches[i] for i in mine),
        )
        changed = apply_decision(
            self.index, entry.fingerprint, entry.event_time_ms, entry.id, decision,
            now_ms=entry.seen_at_ms, source=entry.source, profile=entry.profile,
        )
        self.index.add(entry)  # keep the origin and timestamps its own worker gave it
        kept_fixed, moved = self._corrections(decision, entry.id, now_ms)
        if announced:  # published by the record's worker (README, "Tie-break and races")
            kept_fixed = [o for o in kept_fixed if o.key not in announced]
            moved = [o for o in moved if o.key not in announced]
            if not kept_fixed and not moved and all(e.id in announced for e in changed[1:]):
                return None  # nothing left to publish
        return Outcome(
            verdict="duplicate",
            outputs=kept_fixed + moved,
            log_records=self._in_flight.sent([LogRecord(e, (), self.worker)
                                              for e in changed[1:]]),
            corrections=len(kept_fixed),
            root_changes=len(moved),
        )

    def _watch_owed(
        self, entry: IndexEntry, applied: dict[int, int] | None, now_ms: int
    ) -> None:
        """Note a race another worker lost to one of our kept articles: its worker corrects
        it when our record reaches it (:meth:`apply_remote` there), unless it stops first
        with the copy's offset committed, so nothing replays it; then
        :meth:`owed_corrections` corrects it here."""
        if not self.config.race_fallback_ms:
            return
        ours = self.race_window.may_have_lost(entry.fingerprint, entry.order_key, applied,
                                              hashes=entry.exact_hashes)
        if not ours:
            return
        noted = tuple((i, content_hash) for i in ours
                      if (content_hash := self.index.content_hash(i)) is not None)
        if not noted:
            return
        if len(self._owed) >= self.OWED_LIMIT:
            del self._owed[next(iter(self._owed))]
        self._owed[entry.id] = _Owed(now_ms + self.config.race_fallback_ms, noted)

    def _watch_named(self, entry: IndexEntry, now_ms: int) -> None:
        """Note another worker's duplicate whose record names an article that is no longer
        kept here: its worker publishes the record naming the kept article when it learns
        of that (:meth:`_repointed`), unless it stops first; then
        :meth:`owed_corrections` publishes it."""
        named = self.index.get(entry.root)
        if not self.config.race_fallback_ms or named is None or named.is_kept:
            return
        if len(self._owed_repoints) >= self.OWED_LIMIT:
            del self._owed_repoints[next(iter(self._owed_repoints))]
        self._owed_repoints[entry.id] = (now_ms + self.config.race_fallback_ms, entry.root)

    def owed_corrections(self, now_ms: int) -> Outcome | None:
        """The corrections other workers owed for more than ``race_fallback_ms`` and did not
        publish (their article is still kept here): this worker publishes them, as the
        owing worker would have (the same records; both publishing one is harmless, the
        final verdict is the same). Due when that worker stopped after committing its
        copy's offset: nothing replays the copy, so only this worker can correct it. Also
        the story merges of one article in two stories that the other worker owed
        (:meth:`_watch_shared_article`)."""
        outcome: Outcome | None = None
        while self._owed:
            later_id, owed = next(iter(self._owed.items()))
            if owed.due_ms > now_ms:
                break
            del self._owed[later_id]
            found = self._owed_correction(later_id, owed, now_ms)
            if found is not None:
                found = self._with_repoints(
                    found, [record.entry.id for record in found.log_records], now_ms
                )
                outcome = found if outcome is None else _joined(outcome, found)
        merges: list[StoryUpdate] = []
        while self._owed_story_merges:
            article_id, (due_ms, mine, theirs) = next(iter(self._owed_story_merges.items()))
            if due_ms > now_ms:
                break
            del self._owed_story_merges[article_id]
            merges += self.stories.owed_merge(mine, theirs, now_ms=now_ms, worker=self.worker)
        if merges:
            outcome = self._with_merges(outcome, merges)
        repoints: list[Output] = []
        while self._owed_repoints:
            article_id, (due_ms, named) = next(iter(self._owed_repoints.items()))
            if due_ms > now_ms:
                break
            del self._owed_repoints[article_id]
            if (entry := self.index.get(article_id)) is not None and entry.root == named:
                # Still as its worker's record left it (a later record of it re-rooted it).
                repoint = self._repoint(article_id, named, now_ms)
                if repoint is not None:
                    repoints.append(repoint)
        return self._with_moves(outcome, repoints)

    def _owed_correction(self, later_id: str, owed: _Owed, now_ms: int) -> Outcome | None:
        """What the other worker would have published: our article's re-decision superseding
        its copy (ours may have become a duplicate since: it still supersedes the copy, into
        its own group). When none of ours matches the copy any more (gone, or revised to
        other content), the copy is decided again as a replay of it would be: a duplicate of
        its earliest match's group, if one is indexed."""
        later = self.index.get(later_id)
        if later is None or not later.is_kept:
            return None  # corrected (by its worker, or another earlier article), or expired
        judged = False
        for our_id, content_hash in owed.ours:
            ours = self.index.get(our_id)
            if ours is None or ours.fingerprint.content_hash != content_hash:
                continue  # gone, or revised to other content
            if not may_match(Candidate(ours.fingerprint, ours.event_time_ms, ours.profile),
                             _full(ours), later, self.config.dedup):
                # It cannot supersede the copy: no whole re-decision (reports that differ
                # only in figures left two workers ~1,000 such watches each, and re-deciding
                # them all stopped both for minutes: a hostile trial, 2026-12-06).
                judged = True
                continue
            found = self._redecided(ours, (later_id,), now_ms)
            if found is not None:
                if self.config.stories.enabled:
                    self._owed_story_merge(found, later_id, now_ms)
                return found
            judged = True
        if judged:
            # Ours is still what was noted and does not supersede the copy: the deciding
            # worker's judgement stands (a band in common, not a race; it verified with the
            # full profile, a re-decision here with the indexed one).
            return None
        found = self._overturned(later, now_ms)
        if found is not None and self.config.stories.enabled:
            self._owed_story_merge(found, later_id, now_ms)
        return found

    def _overturned(self, later: IndexEntry, now_ms: int) -> Outcome | None:
        """The kept article ``later`` decided again against the index: if an earlier match is
        indexed, its correction (and its duplicates', which move with it)."""
        decision = decide(later.fingerprint, later.event_time_ms, later.id, self.index,
                          self.config.dedup, profile=later.profile, full=_full(later))
        if decision.kept or decision.duplicate_of is None:
            return None
        root = decision.duplicate_of
        decision = dataclasses.replace(decision, supersedes=(), superseded_matches=())
        # Re-dated, as a superseded article is: its duplicates resolve through it.
        [entry] = apply_decision(
            self.index, later.fingerprint, later.event_time_ms, later.id, decision,
            now_ms=max(later.seen_at_ms, now_ms), source=later.source, origin=later.origin,
            profile=later.profile, full_hash=later.full_hash or later.fingerprint.content_hash,
        )
        similarity = decision.similarity if decision.similarity is not None else 1.0
        outputs = [self._correction(later.id, root, decision.match, similarity, now_ms,
                                    supersedes="kept", entry=entry)]
        moved = [member for member in group_members(self.index, later.id)
                 if member.id not in self._held]
        outputs += [self._moved(member, root, now_ms) for member in moved]
        return Outcome(verdict="duplicate", outputs=outputs,
                       log_records=self._in_flight.sent([LogRecord(entry, (), self.worker)]),
                       corrections=1,
                       root_changes=len(moved))

    def _owed_story_merge(self, outcome: Outcome, later_id: str, now_ms: int) -> None:
        """The corrections name the story of the copy's new kept article, and the story the
        copy opened is merged into it, as the other worker's race merge would have (the copy
        was kept there, so it opened or joined a story of its own)."""
        story = self.stories.story_of(resolve_root(self.index, later_id))
        if story is None:
            return
        stamp_story(outcome, story)
        self._superseded_stories_merged(outcome, story, (later_id,), now_ms)

    @property
    def owed(self) -> int:
        """Corrections other workers owe that this worker watches."""
        return len(self._owed)

    def _announces_ours(self, record: LogRecord) -> bool:
        """Whether ``record``'s worker superseded one of our recent kept articles (it
        announces them: ``corrected``), or its announcement may have been cut short
        (``MAX_LOGGED_CORRECTED_CHARS``). Such a record is decided again as before: the
        re-decision re-roots our article here at once (the other worker's record of it
        follows, maybe much later, on another partition) and moves duplicates of it that
        the other worker did not know."""
        if not record.corrected:
            return False
        if sum(map(len, record.corrected)) > MAX_LOGGED_CORRECTED_CHARS - MAX_LOG_ID_CHARS:
            return True
        return any(article_id in self._recent_set for article_id in record.corrected)

    def logged(self, article_id: str | None, partition: int, offset: int) -> None:
        """The broker acknowledged the record of our kept article ``article_id`` (None: one
        of our story merge records) at ``offset`` of the fingerprint log's ``partition``."""
        if article_id is None:
            self.race_window.update_logged(partition, offset)
        else:
            self.race_window.logged(article_id, partition, offset)

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
        outcome = self._after_article_record(record, catching_up=catching_up, now_ms=now_ms)
        if catching_up or record.worker == self.worker:
            return outcome
        changed = [record.entry.id]
        if outcome is not None:
            changed += [r.entry.id for r in outcome.log_records]
        return self._with_repoints(outcome, changed, now_ms)

    def _after_article_record(
        self, record: LogRecord, *, catching_up: bool, now_ms: int
    ) -> Outcome | None:
        outcome = self._on_article_record(record, catching_up=catching_up, now_ms=now_ms)
        if catching_up or record.worker == self.worker or not self.config.stories.enabled:
            return outcome
        entry = record.entry
        if outcome is not None:  # our corrections: their new root is this article's
            # The story of the group's kept article: the record's article may be a duplicate
            # (its record has no note: until 2026-12-05 such corrections named no story),
            # or a kept article superseded since.
            root = resolve_root(self.index, entry.id)
            its_story = self.stories.story_of(root) or (
                record.story.story if record.story is not None else None)
            if its_story is not None:
                stamp_story(outcome, its_story)
                # Our kept articles it superseded: their stories join its (since 2026-12-05;
                # a kill trial's copies kept in a race named two stories for good).
                self._superseded_stories_merged(
                    outcome, its_story, [o.key for o in outcome.outputs
                                         if o.kind == "duplicates"
                                         and o.value.get("supersedes") == "kept"], now_ms)
        if record.story is None:
            return outcome
        among = None
        if record.story.story == entry.id:  # it opened a story: which of ours could race?
            applied = _positions(record)
            unapplied = self.race_window.unapplied(applied)
            if self.race_window.updates_unapplied(applied):
                unapplied = None  # a merge of ours it may not know: any story of ours
            if unapplied is not None:  # the stories our articles it had not applied joined
                among = {story for article_id in unapplied
                         if (story := self.stories.story_of(article_id)) is not None}
        updates = self.stories.race_merges(
            entry.id, entry.event_time_ms, record.story, now_ms=now_ms, worker=self.worker,
            among=among,
            apart=self.founders.apart(record.paragraph_keys, (k for k, _ in record.story.vector)),
        )
        updates += self.stories.shared_article_merge(entry.id, record.story, now_ms=now_ms,
                                                     worker=self.worker)
        self._watch_shared_article(entry.id, record.story.story, now_ms)
        if not updates:
            return outcome
        return self._with_merges(outcome, updates)

    def _watch_shared_article(self, article_id: str, theirs: str, now_ms: int) -> None:
        """Note a merge another worker owes: its record put an article of ours in its own
        story, founded later than ours (``StoryState.shared_article_merge``). If that worker
        stops before it reads our record (and a restarted one catches up without merging),
        :meth:`owed_corrections` publishes the merge (a kill trial with three workers left
        one article in two stories)."""
        mine = self.stories.story_of(article_id)
        if (not self.config.race_fallback_ms or mine is None
                or mine == self.stories.find(theirs)):
            return
        if len(self._owed_story_merges) >= self.OWED_LIMIT:
            del self._owed_story_merges[next(iter(self._owed_story_merges))]
        self._owed_story_merges[article_id] = (now_ms + self.config.race_fallback_ms, mine,
                                               theirs)

    def _with_merges(self, outcome: Outcome | None, updates: list[StoryUpdate]) -> Outcome:
        """``outcome`` (or a new one) with story merge records ``updates`` added, which the
        race window counts as sent."""
        self.race_window.updates_sent(len(updates))
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
            self.read_back(record.entry.id)
            return None
        self.hold.observe(record.worker, now_ms)
        self._in_flight.overtaken(record.entry.id)
        return self.apply_remote(record, now_ms)

    @overload
    def _with_repoints(
        self, outcome: Outcome, changed: Iterable[str], now_ms: int
    ) -> Outcome: ...

    @overload
    def _with_repoints(
        self, outcome: Outcome | None, changed: Iterable[str], now_ms: int
    ) -> Outcome | None: ...

    def _with_repoints(
        self, outcome: Outcome | None, changed: Iterable[str], now_ms: int
    ) -> Outcome | None:
        """``outcome`` (or a new one) with :meth:`_repointed`'s corrections for the articles
        ``changed``; what it publishes is noted first (a held outcome's at its release)."""
        if outcome is not None and outcome.held is None:
            self._named.published(outcome.outputs)
        return self._with_moves(outcome, self._repointed(changed, now_ms))

    def _with_moves(self, outcome: Outcome | None, moves: list[Output]) -> Outcome | None:
        """``outcome`` (or a new one) with the records ``moves`` (duplicates named with their
        kept article now), which :class:`Named` notes."""
        if not moves:
            return outcome
        self._named.published(moves)
        if outcome is None:
            outcome = Outcome(verdict="duplicate", outputs=[])
        outcome.outputs += moves
        outcome.root_changes += len(moves)
        return outcome

    def _repointed(self, changed: Iterable[str], now_ms: int) -> list[Output]:
        """Corrections of our newest duplicates records that name an article of ``changed``
        that is no longer kept here: each names its article's kept article now
        (:class:`streams.core.own_records.Named`; 35 of 160 random two- and three-worker
        runs ended with our newest record naming a duplicate until 2026-12-05)."""
        outputs: list[Output] = []
        for kept_id in changed:
            for article_id in self._named.naming(kept_id):
                output = self._repoint(article_id, kept_id, now_ms)
                if output is not None:
                    outputs.append(output)
        return outputs

    def _repoint(self, article_id: str, named: str, now_ms: int) -> Output | None:
        """The record naming the kept article of ``article_id``, whose newest record named
        ``named``, an article no longer kept; None when there is none to publish."""
        named_entry = self.index.get(named)
        if named_entry is None or named_entry.is_kept or article_id in self._held:
            return None
        member = self.index.get(article_id)
        if member is None:
            return None
        root = resolve_root(self.index, article_id)
        if root in (article_id, named):
            return None
        output = self._moved(member, root, now_ms)
        if self.config.stories.enabled:
            story = self.stories.story_of(root)
            if story is not None:
                output.value["story_id"] = story
        return output

    def read_back(self, article_id: str) -> None:
        """The replica read one of our own records of ``article_id`` (key alone: the shell
        does not decode our records). When another worker's record of the article was
        applied while ours were in flight, ours is applied again now, so this replica ends
        with the entry a replay of the log gives (:class:`streams.core.own_records.InFlight`;
        until 2026-12-05 two workers re-rooting one article at once each kept the other's
        root until a restart)."""
        again = self._in_flight.read_back(article_id)
        if again is not None:
            self.apply(again)

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


def _unwritable(
    outcome: Outcome, item: Prepared, exc: Exception, now_ms: int, max_bytes: int
) -> Outcome:
    """An outcome whose records orjson cannot write, as an ``internal_error`` dead letter.

    The envelope refuses what is known to be unwritable (pass-through fields nested too
    deep); this is the net behind it. Raised from the stateful step, such an error stopped
    the worker, and the redelivered message stopped it again. The decision stands in the
    index and its log records still go out, so every replica agrees.
    """
    error = InternalError(f"an output record cannot be written: {type(exc).__name__}: {exc}")
    failed = deadletter_outcome(item.raw, error, now_ms, max_bytes)
    # Story merges stay: applied here, their log records must reach the other replicas.
    return dataclasses.replace(outcome, verdict="deadletter", outputs=failed.outputs,
                               error_code=error.code, match=None, corrections=0,
                               root_changes=0)


def _full(entry: IndexEntry) -> Candidate | None:
    """An indexed article with its hash over every paragraph, when that is not its content
    hash: another worker's copy may have been decided with less boilerplate learned (a log
    record carries that hash, not those paragraphs)."""
    if entry.full_hash is None:
        return None
    whole = dataclasses.replace(entry.fingerprint, content_hash=entry.full_hash)
    return Candidate(whole, entry.event_time_ms, entry.profile)


def _joined(first: Outcome, second: Outcome) -> Outcome:
    """Two outcomes of corrections as one."""
    return dataclasses.replace(
        first, outputs=first.outputs + second.outputs,
        log_records=first.log_records + second.log_records,
        corrections=first.corrections + second.corrections,
        root_changes=first.root_changes + second.root_changes,
        story_updates=first.story_updates + second.story_updates,
    )


def _positions(record: LogRecord) -> dict[int, int] | None:
    """The log positions its worker had applied, by partition; None: not known."""
    return None if record.applied is None else dict(record.applied)
