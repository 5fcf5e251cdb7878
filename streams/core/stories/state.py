"""The stories of the window: centroids, candidate lookup, assignment, merges and expiry.

An article joins the best-scoring story when

    score = cos(article, centroid) * exp(-gap / time_scale) >= threshold

where ``gap`` is the distance of its event time from the story's span of event times (and
stories more than ``max_gap`` away are never considered), and, when both sides name
entities, the entity part of that cosine reaches ``entity_threshold``: two events of one
kind share their vocabulary but not their names. Otherwise it opens a story whose id is the
article's id. Ties break by the story's founding ``(event time, id)``.

A centroid is the sum of its members' published summaries, each scaled by
``2**((t - t_founder) / half_life)`` (later members weigh more: a story drifts with its
news), truncated to ``centroid_terms`` terms. When an article matches two stories and their
centroids are close (``merge_threshold``), the later-founded story is merged into the
earlier one and a :class:`StoryUpdate` says so.

Replicas stay identical because they apply the same records: an article's note (story and
vector) and merge updates; sums and unions commute, so the order records arrive in does not
matter (except at the truncation margin).
"""

from __future__ import annotations

import heapq
import math
import sys
from collections import deque
from dataclasses import dataclass, field

from streams.core.stories.codec import quantize
from streams.core.stories.config import StoryConfig
from streams.core.stories.model import Assignment, StoryNote, StoryUpdate, Summary
from streams.core.stories.terms import ENTITY, KIND_MASK, StoryTerms
from streams.core.stories.vector import DocumentFrequencies, Vector

_MAX_EXPONENT = 60.0  # 2**60: far beyond any window, keeps floats finite


@dataclass(slots=True)
class Story:
    """One story of the window."""

    id: str
    time_ms: int  # founding article's event time
    first_ms: int  # span of its members' event times
    last_ms: int
    centroid: Vector = field(default_factory=dict)
    norm: float = 0.0
    has_entities: bool = False
    size: int = 0  # kept articles
    seen_ms: int = 0  # wall clock of the latest member; the story expires a window later

    @property
    def key(self) -> tuple[int, str]:
        return (self.time_ms, self.id)


@dataclass(frozen=True, slots=True)
class StoryStats:
    stories: int
    members: int
    approx_bytes: int


class StoryState:
    """Stories of the dedup window, as every worker holds them."""

    # Stories this worker opened recently: when another worker's concurrent opening of the
    # same event arrives, the worker that opened the later one publishes the merge.
    RECENT_LIMIT = 10_000

    def __init__(self, config: StoryConfig | None = None, *, window_ms: int) -> None:
        self.config = config or StoryConfig()
        self.window_ms = window_ms
        self.df = DocumentFrequencies(self.config.df_bits, max(1, window_ms // 2))
        self.stories: dict[str, Story] = {}
        self._members: dict[str, tuple[str, int]] = {}  # article id -> (story joined, seen)
        self._parent: dict[str, tuple[str, int]] = {}  # merged story -> (into, merged at)
        self._postings: dict[int, set[str]] = {}  # term key -> stories with it in the centroid
        self._member_expiry: list[tuple[int, str]] = []
        self._story_expiry: list[tuple[int, str]] = []
        self._parent_expiry: list[tuple[int, str]] = []
        self._opened: deque[str] = deque(maxlen=self.RECENT_LIMIT)
        self._opened_set: set[str] = set()

    # -- reading -------------------------------------------------------------------------------
    def find(self, story_id: str) -> str:
        """The story ``story_id`` is now part of (itself unless merged)."""
        root = story_id
        while root in self._parent:
            root = self._parent[root][0]
        return root

    def story_of(self, article_id: str) -> str | None:
        """The current story of a kept article of the window, if known."""
        member = self._members.get(article_id)
        return self.find(member[0]) if member is not None else None

    def size_of(self, story_id: str) -> int:
        story = self.stories.get(self.find(story_id))
        return story.size if story is not None else 0

    def __len__(self) -> int:
        return len(self.stories)

    # -- deciding ------------------------------------------------------------------------------
    def assign(
        self, article_id: str, event_time_ms: int, terms: StoryTerms, *, now_ms: int,
        worker: str,
    ) -> Assignment:
        """Assign a kept article (a replay repeats its story) and return what to publish."""
        replayed = self._members.get(article_id)
        weighted = self.df.weigh(terms)
        summary = quantize(weighted.top(self.config.summary_terms))
        if replayed is not None:
            story = self.stories.get(self.find(replayed[0]))
            if story is not None:
                note = StoryNote(story.id, story.time_ms, summary)
                return Assignment(story.id, story.id == article_id, story.size, note)
        self.df.observe(terms)
        doc = weighted.as_dict()
        query = weighted.keys[: self.config.query_terms].tolist()
        scored = self._scored(doc, query, event_time_ms, exclude=None)
        best = scored[0][1] if scored else None
        if best is None:
            best = self._open(article_id, event_time_ms, now_ms)
            self._remember_opened(article_id)
            opened = True
        else:
            opened = False
        self._join(best, article_id, event_time_ms, summary, now_ms)
        updates = []
        for _, other in scored[1:]:
            if other.id not in self.stories or best.id not in self.stories:
                continue
            if _cosine(best, other) >= self.config.merge_threshold:
                updates.append(self._merge(best, other, now_ms, worker, "bridge"))
                best = self.stories[self.find(best.id)]
        note = StoryNote(best.id, best.time_ms, summary)
        return Assignment(best.id, opened, best.size, note, tuple(updates))

    def _scored(
        self, doc: Vector, query: list[int], event_time_ms: int, exclude: str | None
    ) -> list[tuple[float, Story]]:
        """Candidate stories that the article may join, best first (ties by founding key)."""
        hits: dict[str, float] = {}
        for key in query:
            posting = self._postings.get(key)
            if posting is None or len(posting) > self.config.max_postings:
                continue
            weight = doc[key]
            for story_id in posting:
                hits[story_id] = hits.get(story_id, 0.0) + weight
        if not hits:
            return []
        ranked = sorted(hits.items(), key=lambda kv: (-kv[1], self.stories[kv[0]].key))
        doc_entities = any(key & KIND_MASK == ENTITY for key in doc)
        scored = []
        for story_id, _ in ranked[: self.config.max_candidates]:
            if story_id == exclude:
                continue
            story = self.stories[story_id]
            score = self._score(doc, doc_entities, story, event_time_ms)
            if score >= self.config.threshold:
                scored.append((score, story))
        scored.sort(key=lambda item: (-item[0], item[1].key))
        return scored

    def _score(self, doc: Vector, doc_entities: bool, story: Story, event_time_ms: int) -> float:
        gap = max(0, story.first_ms - event_time_ms, event_time_ms - story.last_ms)
        if gap > self.config.max_gap_ms or story.norm == 0.0:
            return 0.0
        dot = entities = 0.0
        for key, weight in story.centroid.items():
            value = doc.get(key)
            if value is not None:
                dot += value * weight
                if key & KIND_MASK == ENTITY:
                    entities += value * weight
        if doc_entities and story.has_entities and entities / story.norm < (
            self.config.entity_threshold
        ):
            return 0.0
        return dot / story.norm * math.exp(-gap / self.config.time_scale_ms)

    # -- applying the log ----------------------------------------------------------------------
    def apply_note(
        self, article_id: str, event_time_ms: int, note: StoryNote, seen_at_ms: int
    ) -> Story | None:
        """Another worker's (or, at start-up, any) kept article; returns the story it joined."""
        if article_id in self._members:
            return None
        story = self.stories.get(self.find(note.story))
        if story is None:
            story = self._open(note.story, note.story_time_ms, seen_at_ms)
        self._join(story, article_id, event_time_ms, note.vector, seen_at_ms)
        return story

    def apply_update(self, update: StoryUpdate) -> None:
        """A merge published by a worker (ours, read back, or another's)."""
        a, b = self.find(update.story), self.find(update.into)
        if a == b:
            return
        left = self.stories.get(a) or self._open(a, update.story_time_ms, update.at_ms)
        right = self.stories.get(b) or self._open(b, update.into_time_ms, update.at_ms)
        self._merge(left, right, update.at_ms, update.worker, update.reason)

    def race_merges(
        self, article_id: str, event_time_ms: int, note: StoryNote, *, now_ms: int, worker: str
    ) -> list[StoryUpdate]:
        """Merges owed after another worker opened a story this worker would have joined.

        Two workers deciding articles of one event at the same moment both open a story. The
        worker that opened the later-founded one merges it into the earlier one when the
        earlier opening reaches it, as corrections of duplicate verdicts do.
        """
        if note.story != article_id:
            return []
        theirs = self.stories.get(self.find(note.story))
        if theirs is None:
            return []
        doc = dict(note.vector)
        query = [k for k, _ in note.vector[: self.config.query_terms]]
        updates = []
        for _, mine in self._scored(doc, query, event_time_ms, exclude=theirs.id):
            if mine.id not in self._opened_set or mine.key < theirs.key:
                continue
            if mine.id in self.stories and theirs.id in self.stories:
                updates.append(self._merge(theirs, mine, now_ms, worker, "race"))
                theirs = self.stories[self.find(theirs.id)]
        return updates

    # -- maintenance ---------------------------------------------------------------------------
    def expire(self, now_ms: int) -> int:
        """Forget what the window no longer holds; returns the stories removed."""
        cutoff = now_ms - self.window_ms
        while self._member_expiry and self._member_expiry[0][0] < cutoff:
            seen, article_id = heapq.heappop(self._member_expiry)
            member = self._members.get(article_id)
            if member is not None and member[1] == seen:
                del self._members[article_id]
        while self._parent_expiry and self._parent_expiry[0][0] < cutoff:
            at, story_id = heapq.heappop(self._parent_expiry)
            parent = self._parent.get(story_id)
            if parent is not None and parent[1] == at:
                del self._parent[story_id]
        removed = 0
        while self._story_expiry and self._story_expiry[0][0] < cutoff:
            seen, story_id = heapq.heappop(self._story_expiry)
            story = self.stories.get(story_id)
            if story is not None and story.seen_ms == seen:
                self._set_centroid(story, {})
                del self.stories[story_id]
                removed += 1
        self.df.fade(now_ms)
        return removed

    def stats(self) -> StoryStats:
        size = sys.getsizeof
        total = self.df.nbytes + size(self.stories) + size(self._members) + size(self._postings)
        for story in self.stories.values():
            total += size(story) + size(story.centroid) + 2 * 32 * len(story.centroid)
        total += len(self._members) * (size(("", 0)) + 60)
        total += sum(size(p) for p in self._postings.values())
        return StoryStats(len(self.stories), len(self._members), total)

    # -- internals ------------------------------------------------------------------------------
    def _open(self, story_id: str, time_ms: int, now_ms: int) -> Story:
        story = Story(story_id, time_ms, time_ms, time_ms, seen_ms=now_ms)
        self.stories[story_id] = story
        heapq.heappush(self._story_expiry, (now_ms, story_id))
        return story

    def _remember_opened(self, story_id: str) -> None:
        if len(self._opened) == self._opened.maxlen:
            self._opened_set.discard(self._opened[0])
        self._opened.append(story_id)
        self._opened_set.add(story_id)

    def _join(
        self, story: Story, article_id: str, event_time_ms: int, vector: Summary, now_ms: int
    ) -> None:
        scale = self._scale(event_time_ms, story.time_ms)
        centroid = dict(story.centroid)
        for key, weight in vector:
            centroid[key] = centroid.get(key, 0.0) + weight * scale
        self._set_centroid(story, centroid)
        story.size += 1
        story.first_ms = min(story.first_ms, event_time_ms)
        story.last_ms = max(story.last_ms, event_time_ms)
        if now_ms > story.seen_ms:
            story.seen_ms = now_ms
            heapq.heappush(self._story_expiry, (now_ms, story.id))
        self._members[article_id] = (story.id, now_ms)
        heapq.heappush(self._member_expiry, (now_ms, article_id))

    def _merge(
        self, a: Story, b: Story, now_ms: int, worker: str, reason: str
    ) -> StoryUpdate:
        """Merge the later-founded of two stories into the other."""
        winner, loser = (a, b) if a.key < b.key else (b, a)
        scale = self._scale(loser.time_ms, winner.time_ms)
        centroid = dict(winner.centroid)
        for key, weight in loser.centroid.items():
            centroid[key] = centroid.get(key, 0.0) + weight * scale
        self._set_centroid(loser, {})
        self._set_centroid(winner, centroid)
        winner.size += loser.size
        winner.first_ms = min(winner.first_ms, loser.first_ms)
        winner.last_ms = max(winner.last_ms, loser.last_ms)
        if loser.seen_ms > winner.seen_ms:
            winner.seen_ms = loser.seen_ms
            heapq.heappush(self._story_expiry, (winner.seen_ms, winner.id))
        del self.stories[loser.id]
        self._parent[loser.id] = (winner.id, now_ms)
        heapq.heappush(self._parent_expiry, (now_ms, loser.id))
        return StoryUpdate(loser.id, loser.time_ms, winner.id, winner.time_ms, now_ms, worker,
                           reason)

    def _set_centroid(self, story: Story, centroid: Vector) -> None:
        """Replace a story's centroid, truncated to its heaviest terms, and its postings."""
        limit = self.config.centroid_terms
        if len(centroid) > limit:
            top = sorted(centroid.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
            centroid = dict(top)
        for key in story.centroid.keys() - centroid.keys():
            posting = self._postings.get(key)
            if posting is not None:
                posting.discard(story.id)
                if not posting:
                    del self._postings[key]
        for key in centroid.keys() - story.centroid.keys():
            self._postings.setdefault(key, set()).add(story.id)
        story.centroid = centroid
        story.norm = math.sqrt(sum(w * w for w in centroid.values()))
        story.has_entities = any(key & KIND_MASK == ENTITY for key in centroid)

    def _scale(self, time_ms: int, founder_ms: int) -> float:
        exponent = (time_ms - founder_ms) / self.config.half_life_ms
        return float(2.0 ** max(-_MAX_EXPONENT, min(_MAX_EXPONENT, exponent)))


def _cosine(a: Story, b: Story) -> float:
    if a.norm == 0.0 or b.norm == 0.0:
        return 0.0
    small, large = (a.centroid, b.centroid) if len(a.centroid) <= len(b.centroid) else (
        b.centroid, a.centroid)
    dot = sum(w * large[k] for k, w in small.items() if k in large)
    return dot / (a.norm * b.norm)
