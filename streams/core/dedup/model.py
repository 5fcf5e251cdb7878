"""Plain data of the dedup core: what the index stores per article and what a decision says."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

Signature = npt.NDArray[np.uint32]
MatchKind = Literal["exact", "near"]
# A message of an indexed article decided before: its revision, its "topic/partition/offset",
# the revision's key (IndexEntry.revision_key) and content hash (streams.core.dedup.revision).
Delivered = tuple[int, str, str, str]
_KEY = np.dtype("<u8")
_COUNT = np.dtype("<u2")
_HASH = np.dtype("<u4")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What is computed from one article's fingerprint input, before any state is consulted."""

    content_hash: str  # xxh3_128 hex of the fingerprint input
    signature: Signature  # MinHash, shape (num_perm,)
    shingle_count: int  # distinct shingles; lets containment be estimated from Jaccard


@dataclass(frozen=True, slots=True)
class Profile:
    """What verification needs beyond the signature, packed small (bytes, not Python ints).

    ``keys`` and ``starts`` describe the fingerprinted paragraphs in order: the paragraph key
    (xxh3-64 of its fingerprint form, :func:`streams.core.text.normalize.form_key`) and how
    many distinct shingles first start in it (they add up to the shingle count). They let the
    shared-block rule set aside the paragraphs two articles share verbatim and size what
    remains (:mod:`streams.core.dedup.blocks`). ``figures`` are its runs of number tokens
    with their context (:mod:`streams.core.dedup.figures`).
    ``shingles`` are the low 32 bits of each distinct shingle's xxh3-64, in order of first
    occurrence, and ``hashes`` the full 64-bit hashes (sorted) that the MinHash signature
    summarizes. The article being decided has both; the index keeps ``shingles`` for short
    articles only (:meth:`for_index`), so a pair with a short indexed article is verified on
    exact sets, and ``hashes`` never.
    """

    keys: bytes  # uint64 LE per paragraph
    starts: bytes  # uint16 LE per paragraph
    figures: bytes = b""  # per run of number tokens: see streams.core.dedup.figures
    shingles: bytes | None = None  # uint32 LE per distinct shingle
    hashes: bytes | None = None  # uint64 LE, sorted distinct

    def for_index(self, exact_below: int, max_bytes: int = sys.maxsize) -> Profile | None:
        """What the index keeps: no 64-bit hashes; the shingles of short articles only; none
        of it when that is over ``max_bytes`` (no limit by default).

        The index entry's profile goes into its fingerprint-log record whole, so it must
        leave room in the log topic's message size. Only an article of many thousands of
        paragraphs or figures is over (a news article's profile is ~1 KB; a hostile trial's
        body of 40,000 one-line paragraphs, 700 KB, made 789 KB, and a log record Kafka
        refused until 2026-12-06: the article was published and dead-lettered, and a copy of
        it was kept again after a replay of the log). Such an entry is verified on its
        MinHash estimate alone, as one of a version-1 record is, live and replayed alike.
        """
        short = self.shingles is not None and len(self.shingles) < 4 * exact_below
        shingles = self.shingles if short else None
        size = len(self.keys) + len(self.starts) + len(self.figures) + len(shingles or b"")
        if size > max_bytes:
            return None
        return Profile(self.keys, self.starts, self.figures, shingles)

    def hash_array(self) -> npt.NDArray[np.uint64] | None:
        if self.hashes is None:
            return None
        return np.frombuffer(self.hashes, dtype=_KEY).astype(np.uint64)

    def key_array(self) -> npt.NDArray[np.uint64]:
        return np.frombuffer(self.keys, dtype=_KEY).astype(np.uint64)

    def start_array(self) -> npt.NDArray[np.int64]:
        return np.frombuffer(self.starts, dtype=_COUNT).astype(np.int64)

    def shingle_array(self) -> npt.NDArray[np.uint32] | None:
        if self.shingles is None:
            return None
        return np.frombuffer(self.shingles, dtype=_HASH).astype(np.uint32)


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One article as the shared fingerprint index knows it.

    Ordering key for every tie-break is ``(event_time_ms, id)``: the earlier article is kept.
    ``root`` is the id of the kept article this one belongs to (its own id when kept).
    """

    id: str
    event_time_ms: int
    fingerprint: Fingerprint
    root: str
    source: str | None = None
    seen_at_ms: int = 0  # wall-clock ms when indexed; drives expiry after the window
    # Id of the earlier article that turned this once-kept article into a duplicate; lets a
    # replay of that earlier article repeat its ``supersedes`` exactly.
    superseded_by: str | None = None
    origin: str = ""  # "topic/partition/offset" of the raw message; tells a replay from a re-send
    profile: Profile | None = None  # None for entries logged before profiles existed (v1)
    # The verdict as published, so a replay repeats it: the match kind and similarity of a
    # duplicate (None for a kept article).
    match: MatchKind | None = None
    similarity: float | None = None
    # Id of the article whose arrival moved this duplicate to another root; lets a replay of
    # that article repeat the root-change corrections it published.
    moved_by: str | None = None
    # Revisions (streams.core.dedup.revision): which version of the article this entry is,
    # the content_hash of the version it follows, and the hash of every paragraph when
    # learned boilerplate was left out of ``fingerprint`` (None when it is the same hash).
    revision: int = 1
    previous_hash: str | None = None
    full_hash: str | None = None
    # Whether lookups (content hash, LSH) return this entry; always for a kept article. A
    # duplicate is not searchable when its group already had ``searchable_copies`` copies
    # found with it (streams.core.dedup.config): it stays indexed by id and as a member of
    # its group, so a story copied thousands of times costs each copy the same.
    searchable: bool = True
    # The latest message of each revision on each partition besides ``origin``, oldest
    # first (at most MAX_DELIVERED): a redelivered message of an earlier revision repeats
    # its number instead of becoming a new one.
    delivered: tuple[Delivered, ...] = ()

    @property
    def revision_key(self) -> str:
        """What revisions are told apart by: the content hash over every paragraph."""
        return self.full_hash if self.full_hash is not None else self.fingerprint.content_hash

    @property
    def exact_hashes(self) -> tuple[str, ...]:
        """The content hashes an exact copy of this article may have: without its learned
        boilerplate and, when some was left out, with it. What a source has learned changes
        between an article and its copy, so one text can be fingerprinted both ways (and the
        copy may lose more: its hash over every paragraph is looked up too). A new revision
        also answers for the one it follows (``previous_hash``): a copy of the version it
        replaced, syndicated before the correction, is a copy of this article (a soak trial
        found one kept: a short article's one-word correction left the two versions below
        the near-duplicate threshold, and the old version's hash was no longer indexed)."""
        content_hash = self.fingerprint.content_hash
        full, previous = self.full_hash, self.previous_hash
        if (full is None or full == content_hash) and previous is None:
            return (content_hash,)
        hashes = [content_hash]
        if full is not None and full != content_hash:
            hashes.append(full)
        if previous is not None and previous not in hashes:
            hashes.append(previous)
        return tuple(hashes)

    @property
    def order_key(self) -> tuple[int, str]:
        return (self.event_time_ms, self.id)

    @property
    def is_kept(self) -> bool:
        return self.root == self.id

    @property
    def is_looked_up(self) -> bool:
        """Whether content-hash and LSH lookups return this entry."""
        return self.searchable or self.is_kept


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one article against the index.

    ``supersedes`` lists ids of articles already published as kept that this (earlier)
    article now makes duplicates; the shell publishes a correction for each.
    """

    kept: bool
    duplicate_of: str | None = None
    match: MatchKind | None = None
    similarity: float | None = None
    supersedes: tuple[str, ...] = field(default=())
    # (match kind, similarity) of each superseded article against this one, aligned with
    # ``supersedes``: what its correction record says.
    superseded_matches: tuple[tuple[MatchKind, float], ...] = field(default=(), compare=False)
    # Whether the decided article's entry is searchable (IndexEntry.searchable).
    searchable: bool = field(default=True, compare=False)

    def root_for(self, article_id: str) -> str:
        """Root of the decided article, and the new root of every superseded article."""
        return article_id if self.kept or self.duplicate_of is None else self.duplicate_of
