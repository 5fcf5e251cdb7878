"""The stories of the window: centroids, candidate lookup, assignment, merges and expiry.

An article joins the best-scoring story when

    score = cos(article, centroid) * exp(-gap / time_scale) >= threshold

where ``gap`` is the distance of its event time from the story's span of event times (and
stories more than ``max_gap`` away are never considered), and, when both sides name
entities, the entity part of that cosine reaches ``entity_threshold``: two events of one
kind share their vocabulary but not their names. Otherwise it opens a story whose id is the
article's id. Ties break by the story's founding ``(event time, id)``.

A story is named after its earliest article by ``(event time, id)``: when an article earlier
than every member joins a story, the story takes the article's id and founding time in place
(its centroid rescaled to the new founding time by one constant factor, so no score changes)
and the change is published as an update (``reason="rename"``), as merges are. So the name
is a function of the members, whatever order they were decided in or by which worker.

A centroid is the sum of its members' published summaries (their heaviest terms with TF
weights), each scaled by ``2**((t - t_founder) / half_life)`` (later members weigh more: a
story drifts with its news), truncated to ``centroid_terms`` terms. IDF is applied when a
centroid is scored, with the document frequencies of that moment: the words of a template
(a daily report's boilerplate, a league's vocabulary) grow common as its issues arrive, and
fade from every story, so what is left to match is what differs between issues. When an
article matches two stories and their centroids are close (``merge_threshold``), the
later-founded story is merged into the earlier one and a :class:`StoryUpdate` says so.

Replicas stay identical because they apply the same records: an article's note (story and
vector) and merge updates; sums and unions commute, so the order records arrive in does not
matter (except at the truncation margin).
"""

from __future__ import annotations

import functools
import heapq
import math
import struct
import sys
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from operator import mul
from typing import Any

import numpy as np

from streams.core.stories.config import StoryConfig
from streams.core.stories.model import Assignment, StoryNote, StoryUpdate, Summary
from streams.core.stories.postings import Postings
from streams.core.stories.terms import ENTITY, KIND_MASK, StoryTerms
from streams.core.stories.vector import DocumentFrequencies, Vector

_MAX_EXPONENT = 60.0  # 2**60: far beyond any window, keeps floats finite
_HEAD_SHARE = 0.5
# Stories besides the chosen one that an article may bridge into it: the next best two.
_MERGE_CANDIDATES = 2
# Unpacked centroids of the stories scored last, kept for the next articles' scores.
_SCORED_CACHE = 1024
# Norms of a centroid are recomputed in full (with today's IDF) at least this often.
_REFRESH_EVERY = 8
# A templated article joins a story that holds one of its this many heaviest names.
SUBJECT_NAMES = 1


@dataclass(slots=True)
class Story:
    """One story of the window."""

    id: str
    time_ms: int  # founding article's event time
    first_ms: int  # span of its members' event times
    last_ms: int
    # The centroid (TF sums by term key; IDF applies when scored), packed: its weights as
    # little-endian float64 then its keys as uint32, in the order the terms joined. 12 bytes
    # a term where a dict took ~75 (entry, float, its share of the int keys): story state was
    # ~4.9 KB of a worker's memory per story on real news (README, State size).
    packed: bytes = b""
    # Norms of the centroid with IDF applied (as of its last change): all terms, entities
    # alone, numbers alone.
    norm: float = 0.0
    entity_norm: float = 0.0
    stale: int = 0  # joins since the norms were last computed in full
    size: int = 0  # kept articles
    seen_ms: int = 0  # wall clock of the latest member; the story expires a window later

    @property
    def key(self) -> tuple[int, str]:
        return (self.time_ms, self.id)

    @property
    def centroid(self) -> Vector:
        """The centroid as a dict in the order its terms joined (so sums over it are the
        same float operations as before it was packed): a new dict on every read; assign it
        back to keep a change."""
        packed = self.packed
        if not packed:
            return {}
        n = len(packed) // 12
        values = _packing(n).unpack(packed)
        return dict(zip(values[n:], values[:n], strict=True))

    @centroid.setter
    def centroid(self, centroid: Vector) -> None:
        n = len(centroid)
        self.packed = _packing(n).pack(*centroid.values(), *centroid) if n else b""


@functools.lru_cache(maxsize=512)
def _packing(terms: int) -> struct.Struct:
    """The layout of a packed centroid of ``terms`` terms (``Story.packed``)."""
    return struct.Struct(f"<{terms}d{terms}I")


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
        # Term key -> the stories holding it in their centroid (the candidate lookup).
        self._postings = Postings()
        self._member_expiry: list[tuple[int, str]] = []
        self._story_expiry: list[tuple[int, str]] = []
        self._parent_expiry: list[tuple[int, str]] = []
        self._opened: deque[str] = deque(maxlen=self.RECENT_LIMIT)
        # Story id -> (the packed centroid it was unpacked from, the dict): read only.
        self._unpacked: OrderedDict[str, tuple[bytes, Vector]] = OrderedDict()
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
        worker: str, templated: bool = False,
    ) -> Assignment:
        """Assign a kept article (a replay repeats its story) and return what to publish.

        A ``templated`` article (:mod:`.template`) joins only a story that holds its subject.
        """
        replayed = self._members.get(article_id)
        story = self.stories.get(self.find(replayed[0])) if replayed is not None else None
        # A new article counts towards the document frequencies (after it is weighed).
        weighted = self.df.weigh(terms, observe=story is None, top=self.config.doc_terms)
        summary = weighted.summary(self.config.summary_terms)
        head = self.config.query_terms
        named = _subjects(weighted.keys[:head])
        subjects = named if templated else frozenset()
        if story is not None:
            note = StoryNote(story.id, story.time_ms, summary, subjects=tuple(sorted(subjects)),
                             terms=weighted.packed_keys, repeats=tuple(sorted(terms.repeats)))
            return Assignment(story.id, story.id == article_id, story.size, note,
                              subjects=named)
        # The article's id may name a story here already: another worker decided a message
        # with this id (one text sent twice: a bare text's id is its content's), and its
        # opening, rename or merge reached this worker first. The article is in that story;
        # it neither opens nor renames one (the name would come to resolve to itself).
        own = self.stories.get(self.find(article_id)) if self._names(article_id) else None
        query = _Query.of(weighted.keys, weighted.weights, weighted.idf, event_time_ms, head,
                          subjects=subjects)
        # The IDF of the summary's terms (the heaviest ones), for the centroid's norms.
        idf = dict(zip([k for k, _ in summary], weighted.idf[: len(summary)].tolist(),
                       strict=True))
        scored = self._scored(query, exclude=None)
        updates = []
        renamed = None
        if own is not None:
            best, opened = own, False
        elif not scored:
            best = self._open(article_id, event_time_ms, now_ms)
            self._remember_opened(article_id)
            opened = True
        else:
            best, opened = scored[0][1], False
            if (event_time_ms, article_id) < best.key:
                # Earlier than every member: the story takes this article's name. This
                # worker answers for the renamed story in races, as if it had opened it.
                renamed = (best.id, best.time_ms)
                updates.append(self._rename(best, article_id, event_time_ms, now_ms, worker))
                self._remember_opened(article_id)
        self._join(best, article_id, event_time_ms, summary, now_ms=now_ms, idf=idf)
        others = [story for _, story in scored if story is not best][:_MERGE_CANDIDATES]
        for other in others:
            if other.id not in self.stories or best.id not in self.stories:
                continue
            if self._cosine(best, other) >= self.config.merge_threshold:
                updates.append(self._merge(best, other, now_ms, worker, "bridge"))
                best = self.stories[self.find(best.id)]
        note = StoryNote(best.id, best.time_ms, summary, renamed, tuple(sorted(subjects)),
                         weighted.packed_keys, tuple(sorted(terms.repeats)))
        return Assignment(best.id, opened, best.size, note, tuple(updates), named)

    def _scored(self, query: _Query, exclude: str | None) -> list[tuple[float, Story]]:
        """Candidate stories that the article may join, best first (ties by founding key).

        Candidates are the stories holding one of the article's heaviest terms, ranked by
        how many of those terms they hold (ties by id); only the first ``max_candidates``
        are scored.
        The lookup reads at most ``lookup_budget`` story ids, the postings of the head terms
        held by the fewest stories first: a rare shared term says more than a common one,
        and the cost of an article stays bounded when common terms are in many stories
        (a small vocabulary, a long window), instead of growing with the window.
        """
        hits = self._postings.holders([key for key, _ in query.head], self.config.lookup_budget)
        hits.pop(exclude or "", None)
        if not hits:
            return []
        stories = self.stories
        # A story holding less than half as many of the article's head terms as the best one
        # does not reach the threshold in practice: it is not scored. Filtered before the
        # sort: common head terms give many hits, few of them near the best.
        floor = max(hits.values()) * _HEAD_SHARE
        ids = [story_id for story_id, n in hits.items() if n >= floor]
        limit = self.config.max_candidates
        if len(ids) > limit:
            # Most hits first, ties by story id: two sorts in C (a stable sort keeps the id
            # order among equal counts, ``reverse`` included), no Python key per candidate.
            ids.sort()
            ids.sort(key=hits.__getitem__, reverse=True)
        scored = []
        for story_id in ids[:limit]:
            story = stories[story_id]
            score = self._score(query, story)
            if score >= self.config.threshold:
                scored.append((score, story))
        scored.sort(key=lambda item: (-item[0], item[1].key))
        return scored

    def _score(self, query: _Query, story: Story) -> float:
        """Cosine with the centroid, decayed by the time gap; 0 when their names differ, or
        when the article is a templated report and the story does not name its subject."""
        gap = max(0, story.first_ms - query.time_ms, query.time_ms - story.last_ms)
        if gap > self.config.max_gap_ms or story.norm == 0.0:
            return 0.0
        terms, centroid = query.terms, self._scored_centroid(story)
        if query.subjects and query.subjects.isdisjoint(centroid):
            return 0.0  # a templated report on another subject
        shared = centroid.keys() & terms.keys()
        if not shared:
            return 0.0
        # C-level loops over the shared terms: a candidate shares ~10-40 of ~100.
        weight, held = terms.__getitem__, centroid.__getitem__
        dot: float = sum(map(mul, map(weight, shared), map(held, shared)))
        if query.entity_norm and story.entity_norm:
            names = shared & query.entity_keys
            entities: float = sum(map(mul, map(weight, names), map(held, names)))
            if entities / (query.entity_norm * story.entity_norm) < self.config.entity_threshold:
                return 0.0
        return dot / story.norm * math.exp(-gap / self.config.time_scale_ms)

    def _scored_centroid(self, story: Story) -> Vector:
        """``story.centroid``, from the last ``_SCORED_CACHE`` stories scored while their
        centroid is unchanged (a candidate of one article is often one of the next): packed
        centroids cost ~1 % more CPU per article unpacked on every score."""
        cache = self._unpacked
        found = cache.get(story.id)
        if found is not None and found[0] is story.packed:
            cache.move_to_end(story.id)
            return found[1]
        centroid = story.centroid
        cache[story.id] = (story.packed, centroid)
        if len(cache) > _SCORED_CACHE:
            cache.popitem(last=False)
        return centroid

    # -- applying the log ----------------------------------------------------------------------
    def apply_note(
        self, article_id: str, event_time_ms: int, note: StoryNote, seen_at_ms: int,
        *, ours: bool = False,
    ) -> Story | None:
        """Another worker's (or, at start-up, any) kept article; returns the story it joined.
        ``ours``: decided by this worker (read while catching up), which answers in races
        for the story the article opened or renamed, as when it decided it."""
        if article_id in self._members:
            return None
        if ours and note.story == article_id:
            self._remember_opened(article_id)
        if note.renamed is not None:  # renamed first, as by the deciding worker
            self._apply_rename(*note.renamed, note.story, note.story_time_ms, seen_at_ms)
        story = self.stories.get(self.find(note.story))
        if story is None:
            story = self._open(note.story, note.story_time_ms, seen_at_ms)
        keys = [k for k, _ in note.vector]
        idf: dict[int, float] = {}
        if note.terms:  # counted, and its vector's IDF as its worker weighed it
            self.df.fade(seen_at_ms)  # a log replayed at start fades as it was written
            keys_of_terms = np.frombuffer(note.terms, dtype="<u4")
            weighed = dict(zip(keys_of_terms.tolist(),
                               self.df.observe(keys_of_terms, note.repeats).tolist(),
                               strict=True))
            idf = {k: weighed[k] for k in keys if k in weighed}
        if len(idf) < len(keys):  # no terms, or a foreign note: its vector's own terms
            idf = dict(zip(keys, self.df.idf(keys), strict=True))
        self._join(story, article_id, event_time_ms, note.vector, now_ms=seen_at_ms, idf=idf)
        return story

    def apply_update(self, update: StoryUpdate) -> None:
        """A merge published by a worker (ours, read back, or another's)."""
        if update.reason == "rename":
            self._apply_rename(update.story, update.story_time_ms, update.into,
                               update.into_time_ms, update.at_ms)
            return
        a, b = self.find(update.story), self.find(update.into)
        if a == b:
            return
        left = self.stories.get(a) or self._open(a, update.story_time_ms, update.at_ms)
        right = self.stories.get(b) or self._open(b, update.into_time_ms, update.at_ms)
        self._merge(left, right, update.at_ms, update.worker, update.reason)

    def race_merges(
        self, article_id: str, event_time_ms: int, note: StoryNote, *, now_ms: int, worker: str,
        among: Set[str] | None = None, apart: Callable[[str], bool] | None = None,
    ) -> list[StoryUpdate]:
        """Merges owed after another worker opened a story this worker would have joined.

        Two workers deciding articles of one event at the same moment both open a story. The
        worker that opened the later-founded one merges it into the earlier one when the
        earlier opening reaches it, as corrections of duplicate verdicts do. ``among``: the
        only stories of ours that can have raced with it (those whose opening the other
        worker had not applied: streams.core.dedup.race_window); None: any. ``apart``: our
        stories the article is an issue of a template of on another subject (the caller
        knows their founders).
        """
        if note.story != article_id:
            return []
        if among is not None and not among & self._opened_set:
            return []  # it knew every story we opened, and did not join one
        theirs = self.stories.get(self.find(note.story))
        if theirs is None:
            return []
        # Would it have joined one of our stories? Scored as the deciding worker scored it,
        # the subject rule of a templated report included.
        query = self._summary_query(note.vector, event_time_ms, note.subjects)
        updates = []
        for _, mine in self._scored(query, exclude=theirs.id):
            if mine.id not in self._opened_set or mine.key < theirs.key:
                continue
            if among is not None and mine.id not in among:
                continue
            if apart is not None and apart(mine.id):
                continue
            if mine.id in self.stories and theirs.id in self.stories:
                updates.append(self._merge(theirs, mine, now_ms, worker, "race"))
                theirs = self.stories[self.find(theirs.id)]
        return updates

    def shared_article_merge(
        self, article_id: str, note: StoryNote, *, now_ms: int, worker: str
    ) -> list[StoryUpdate]:
        """The merge owed when another worker put an article of ours in another story.

        One article id decided by two workers (one text sent twice at once: a bare text's id
        is its content's, or a producer's retry) can join two stories, one on each worker;
        its second note is not applied (the article is a member already), so the workers
        would hold the two stories apart, and differently. One article makes them one
        story: the worker whose own story of the article was founded later merges it into
        the other (opened here from the note if unknown), as for a race.
        """
        member = self._members.get(article_id)
        mine = self.stories.get(self.find(member[0])) if member is not None else None
        target = self.find(note.story)
        if mine is None or target == mine.id:
            return []
        theirs = self.stories.get(target)
        if mine.key < (theirs.key if theirs is not None else (note.story_time_ms, note.story)):
            return []  # the other worker merges its story into ours
        if theirs is None:
            theirs = self._open(note.story, note.story_time_ms, now_ms)
        return [self._merge(theirs, mine, now_ms, worker, "race")]

    def owed_merge(self, story_id: str, other_id: str, *, now_ms: int, worker: str
                   ) -> list[StoryUpdate]:
        """The race merge another worker owed and did not publish: the later-founded of two
        stories into the other (``streams.core.pipeline.Deduplicator.owed_corrections``)."""
        first, second = self.stories.get(self.find(story_id)), self.stories.get(self.find(other_id))
        if first is None or second is None or first.id == second.id:
            return []
        return [self._merge(first, second, now_ms, worker, "race")]

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
                self._clear(story)
                del self.stories[story_id]
                removed += 1
        self.df.fade(now_ms)
        return removed

    def stats(self) -> StoryStats:
        size = sys.getsizeof
        total = self.df.nbytes + size(self.stories) + size(self._members)
        total += self._postings.nbytes()
        for story in self.stories.values():
            total += size(story) + size(story.packed)
        total += len(self._members) * (size(("", 0)) + 60)
        return StoryStats(len(self.stories), len(self._members), total)

    # -- snapshots ------------------------------------------------------------------------------
    def export_state(self) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, Any]]:
        """The whole state as numpy arrays and plain (JSON) data, for an index snapshot.

        Dict orders are kept (a centroid's norm is summed in its key order), so a state
        rebuilt by :meth:`from_state` scores, assigns and expires exactly as this one. The
        postings and expiry heaps are derived, and rebuilt on import.
        """
        stories = list(self.stories.values())
        centroids = [story.centroid for story in stories]
        keys = [k for centroid in centroids for k in centroid]
        weights = [w for centroid in centroids for w in centroid.values()]
        df_counts, df_meta = self.df.export_state()
        arrays = {
            "df_counts": df_counts,
            "centroid_keys": np.array(keys, dtype=np.uint32),
            "centroid_weights": np.array(weights, dtype=np.float64),
            "centroid_sizes": np.array([len(c) for c in centroids], dtype=np.int64),
        }
        meta = {
            "df": df_meta,
            "stories": [[s.id, s.time_ms, s.first_ms, s.last_ms, s.norm, s.entity_norm,
                         s.stale, s.size, s.seen_ms] for s in stories],
            "members": [[a, story, seen] for a, (story, seen) in self._members.items()],
            "parents": [[story, into, at] for story, (into, at) in self._parent.items()],
            "opened": list(self._opened),
        }
        return arrays, meta

    @classmethod
    def from_state(
        cls, config: StoryConfig | None, arrays: dict[str, np.ndarray[Any, Any]],
        meta: dict[str, Any], *, window_ms: int,
    ) -> StoryState:
        """The state :meth:`export_state` captured; ``ValueError``/``KeyError``/``TypeError``
        when the data does not fit together (the caller falls back to the log)."""
        state = cls(config, window_ms=window_ms)
        state.df.import_state(arrays["df_counts"], meta["df"])
        sizes = arrays["centroid_sizes"].tolist()
        keys = arrays["centroid_keys"].tolist()
        weights = arrays["centroid_weights"].tolist()
        rows = meta["stories"]
        if len(sizes) != len(rows) or sum(sizes) != len(keys) or len(keys) != len(weights):
            raise ValueError("story centroids and stories differ in length")
        start = 0
        held = []
        for row, size in zip(rows, sizes, strict=True):
            story_id, time_ms, first_ms, last_ms, norm, entity_norm, stale, members, seen = row
            story = Story(str(story_id), int(time_ms), int(first_ms), int(last_ms), b"",
                          float(norm), float(entity_norm), int(stale), int(members), int(seen))
            centroid = dict(zip(keys[start : start + size], weights[start : start + size],
                                strict=True))
            story.centroid = centroid
            start += size
            state.stories[story.id] = story
            state._story_expiry.append((story.seen_ms, story.id))
            held.append((story.id, centroid))
        state._postings = Postings.of(held)
        for article_id, story_id, seen in meta["members"]:
            state._members[str(article_id)] = (str(story_id), int(seen))
            state._member_expiry.append((int(seen), str(article_id)))
        for story_id, into, at in meta["parents"]:
            state._parent[str(story_id)] = (str(into), int(at))
            state._parent_expiry.append((int(at), str(story_id)))
        if (problem := state._names_problem()) is not None:
            raise ValueError(problem)
        for expiry in (state._story_expiry, state._member_expiry, state._parent_expiry):
            heapq.heapify(expiry)
        for story_id in meta["opened"]:
            state._remember_opened(str(story_id))
        return state

    def _names_problem(self) -> str | None:
        """What breaks the rules of story names, if anything: a held story's name linked to
        another, or links that loop (a snapshot taken before names were kept acyclic, or
        damaged)."""
        for name in self._parent.keys() & self.stories.keys():
            return f"story {name!r} is held and merged into {self._parent[name][0]!r}"
        checked: set[str] = set()
        for start in self._parent:
            path: set[str] = set()
            name = start
            while name in self._parent and name not in checked:
                if name in path:
                    return f"story names loop through {name!r}"
                path.add(name)
                name = self._parent[name][0]
            checked |= path
        return None

    # -- internals ------------------------------------------------------------------------------
    def _names(self, story_id: str) -> bool:
        """Whether ``story_id`` names a story here (its own, or one it was merged into)."""
        return story_id in self.stories or story_id in self._parent

    def _open(self, story_id: str, time_ms: int, now_ms: int) -> Story:
        """A new story; ``story_id`` names no story held here (a name that resolved to one
        gone from the window names the new one)."""
        self._parent.pop(story_id, None)
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
        self, story: Story, article_id: str, event_time_ms: int, vector: Summary, *,
        now_ms: int, idf: Vector | None = None,
    ) -> None:
        self._add(story, vector, self._scale(event_time_ms, story.time_ms), idf)
        story.size += 1
        story.first_ms = min(story.first_ms, event_time_ms)
        story.last_ms = max(story.last_ms, event_time_ms)
        if now_ms > story.seen_ms:
            story.seen_ms = now_ms
            heapq.heappush(self._story_expiry, (now_ms, story.id))
        self._members[article_id] = (story.id, now_ms)
        heapq.heappush(self._member_expiry, (now_ms, article_id))

    def _rename(
        self, story: Story, new_id: str, new_time_ms: int, now_ms: int, worker: str
    ) -> StoryUpdate:
        """Name a story after an earlier article, in place: the same centroid in the units
        of the new founding time (a constant factor, so every cosine is unchanged), postings
        moved, the old id resolving to the new one as after a merge."""
        old_id, old_time_ms = story.id, story.time_ms
        # ``new_id`` names no story held here (callers check). So every link goes to a story
        # held at that moment, which links nowhere, from another name: names cannot loop.
        self._parent.pop(new_id, None)
        factor = self._scale(old_time_ms, new_time_ms)
        story.centroid = {k: w * factor for k, w in story.centroid.items()}
        story.norm *= factor
        story.entity_norm *= factor
        story.id, story.time_ms = new_id, new_time_ms
        del self.stories[old_id]
        self.stories[new_id] = story
        self._postings.rename(old_id, new_id)
        heapq.heappush(self._story_expiry, (story.seen_ms, new_id))
        self._parent[old_id] = (new_id, now_ms)
        heapq.heappush(self._parent_expiry, (now_ms, old_id))
        return StoryUpdate(old_id, old_time_ms, new_id, new_time_ms, now_ms, worker, "rename")

    def _apply_rename(
        self, old_id: str, old_time_ms: int, new_id: str, new_time_ms: int, at_ms: int
    ) -> None:
        """Another worker's rename (from its note or its update record, whichever is first)."""
        current, target = self.find(old_id), self.find(new_id)
        story = self.stories.get(current)
        if story is None or target == current:
            return  # unknown here (the note opens the new one), or done already
        into = self.stories.get(target)
        if into is not None:
            # Both known apart (a concurrent change, or the new name's article sent twice and
            # merged away here): join them.
            self._merge(story, into, at_ms, "", "rename")
        elif (new_time_ms, new_id) < story.key:
            self._rename(story, new_id, new_time_ms, at_ms, "")
        else:  # the story has an earlier name here already: the new name resolves to it
            self._parent[new_id] = (current, at_ms)
            heapq.heappush(self._parent_expiry, (at_ms, new_id))

    def _merge(
        self, a: Story, b: Story, now_ms: int, worker: str, reason: str
    ) -> StoryUpdate:
        """Merge the later-founded of two stories into the other."""
        winner, loser = (a, b) if a.key < b.key else (b, a)
        centroid = loser.centroid
        self._clear(loser, centroid)
        vector = tuple(centroid.items())
        self._add(winner, vector, self._scale(loser.time_ms, winner.time_ms))
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

    def _add(
        self, story: Story, vector: Summary, scale: float, idf: Vector | None = None
    ) -> None:
        """Add a scaled vector to a story's centroid, keep its heaviest terms, update norms.

        With the IDF of the vector's terms at hand (an article just weighed) the norms are
        updated for those terms only; every ``_REFRESH_EVERY`` joins, or when the centroid
        outgrows its bound by half, they are recomputed with today's IDF and it is truncated.
        """
        centroid = story.centroid
        limit = self.config.centroid_terms
        if idf is not None and story.stale < _REFRESH_EVERY and (
            len(centroid) + len(vector) <= limit + limit // 2
        ):
            norm_sq, entity_sq = story.norm * story.norm, story.entity_norm * story.entity_norm
            posted = []
            for key, weight in vector:
                old = centroid.get(key)
                if old is None:
                    old = 0.0
                    posted.append(key)
                new = old + weight * scale
                centroid[key] = new
                factor = idf[key] * idf[key]
                delta = (new * new - old * old) * factor
                norm_sq += delta
                if key & KIND_MASK == ENTITY:
                    entity_sq += delta
            story.norm, story.entity_norm = math.sqrt(norm_sq), math.sqrt(max(0.0, entity_sq))
            story.stale += 1
            story.centroid = centroid
            self._postings.add(posted, story.id)
            return
        posted = []
        for key, weight in vector:
            old = centroid.get(key)
            if old is None:
                centroid[key] = weight * scale
                posted.append(key)
            else:
                centroid[key] = old + weight * scale
        n = len(centroid)
        keys = np.fromiter(centroid, dtype=np.uint32, count=n)
        weights = np.fromiter(centroid.values(), dtype=np.float64, count=n)
        weights *= self.df.idf_of(keys)
        dropped: list[int] = []
        if n > limit:
            # Keep the heaviest TF-IDF terms, ties by key.
            ranked = np.lexsort((keys, -weights))
            dropped = keys[ranked[limit:]].tolist()
            for key in dropped:
                del centroid[key]
            keep = ranked[:limit]
            keys, weights = keys[keep], weights[keep]
        names = weights[(keys & KIND_MASK) == ENTITY]
        story.norm = math.sqrt(float(weights @ weights))
        story.entity_norm = math.sqrt(float(names @ names))
        story.stale = 0
        story.centroid = centroid
        if dropped:  # terms of this vector dropped at once were never posted
            gone, fresh = set(dropped), set(posted)
            posted = [key for key in posted if key not in gone]
            self._postings.remove([key for key in dropped if key not in fresh], story.id)
        self._postings.add(posted, story.id)

    def _clear(self, story: Story, centroid: Vector | None = None) -> None:
        """Empty a story's centroid (``centroid``: it, unpacked already)."""
        self._postings.drop(story.id, story.centroid if centroid is None else centroid)
        story.centroid = {}
        story.norm = story.entity_norm = 0.0

    def _summary_query(
        self, vector: Summary, event_time_ms: int, subjects: Iterable[int] = ()
    ) -> _Query:
        """A published summary weighed with today's IDF, to score it like an article (a
        templated one with the deciding worker's ``subjects``)."""
        keys = np.array([k for k, _ in vector], dtype=np.uint32)
        idf = self.df.idf_of(keys)
        weights = np.array([w for _, w in vector], dtype=np.float64) * idf
        norm = math.sqrt(float(weights @ weights)) or 1.0
        order = np.lexsort((keys, -weights))
        return _Query.of(keys[order], weights[order] / norm, idf[order], event_time_ms,
                         self.config.query_terms, subjects=frozenset(subjects))

    def _cosine(self, a: Story, b: Story) -> float:
        """Cosine of two centroids with today's IDF."""
        first, second = a.centroid, b.centroid  # each read unpacks it: once
        if not first or not second:
            return 0.0
        shared = first.keys() & second.keys()
        if not shared:
            return 0.0
        keys = sorted(shared)
        dot = sum(first[k] * second[k] * i * i
                  for k, i in zip(keys, self.df.idf(keys), strict=True))
        return dot / (a.norm * b.norm) if a.norm and b.norm else 0.0

    def _scale(self, time_ms: int, founder_ms: int) -> float:
        exponent = (time_ms - founder_ms) / self.config.half_life_ms
        return float(2.0 ** max(-_MAX_EXPONENT, min(_MAX_EXPONENT, exponent)))


@dataclass(frozen=True, slots=True)
class _Query:
    """An article (or a published summary) ready to be scored against centroids."""

    terms: Vector  # key -> unit TF-IDF weight x IDF: times a centroid's TF, the dot product
    head: tuple[tuple[int, float], ...]  # heaviest terms (key, TF-IDF): the candidate lookup
    entity_keys: frozenset[int]  # the entity terms
    entity_norm: float  # of the TF-IDF entity terms
    time_ms: int
    # The heaviest entity terms, one of which a story must hold to be joined (templated
    # reports).
    subjects: frozenset[int] = frozenset()

    @classmethod
    def of(
        cls, keys: np.ndarray[Any, Any], weights: np.ndarray[Any, Any],
        idf: np.ndarray[Any, Any], time_ms: int, head: int, *,
        subjects: frozenset[int] = frozenset(),
    ) -> _Query:
        """From keys sorted heaviest first with their unit TF-IDF weights and IDF (arrays)."""
        key_list = keys.tolist()
        names = (keys & KIND_MASK) == ENTITY
        entity_weights = weights[names]
        return cls(
            terms=dict(zip(key_list, (weights * idf).tolist(), strict=True)),
            head=tuple(zip(key_list[:head], weights[:head].tolist(), strict=True)),
            entity_keys=frozenset(keys[names].tolist()),
            entity_norm=math.sqrt(float(entity_weights @ entity_weights)),
            time_ms=time_ms,
            subjects=subjects,
        )


def _subjects(head: np.ndarray[Any, Any]) -> frozenset[int]:
    """The heaviest :data:`SUBJECT_NAMES` entities among the head terms; none when no name is
    among them (common names, as in every statement of one committee, say nothing)."""
    names = head[(head & KIND_MASK) == ENTITY][:SUBJECT_NAMES]
    return frozenset(names.tolist())
