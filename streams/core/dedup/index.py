"""The fingerprint index: its protocol, and the in-memory backend.

The decision code only sees :class:`Index`, so a snapshot-backed or shared-store backend (or
the benchmark's datasketch variant) plugs in without touching it.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from streams.core.dedup.config import LSHConfig
from streams.core.dedup.lsh import band_keys
from streams.core.dedup.model import Fingerprint, IndexEntry, Profile

K = TypeVar("K", bound=Hashable)
# A bucket holds a bare id until a second id arrives: nearly every band key has one article,
# and a str value instead of a one-element list saves ~60 bytes per band per entry.
Bucket = str | list[str]


class CandidateRows(NamedTuple):
    """What a :data:`CandidateFilter` sees of k candidates, before their entries are built."""

    signatures: npt.NDArray[np.uint32]  # (k, num_perm)
    shingle_counts: npt.NDArray[np.int64]  # (k,)
    # (k,): the entry is a kept article that keeps no exact shingles (:func:`estimate_only`),
    # so its similarity to anything is the MinHash estimate from these columns; False where
    # the backend does not know. A filter drops only these rows, and past its limit on
    # candidates the least similar others (``DedupConfig.max_verified_candidates``).
    estimate_only: npt.NDArray[np.bool_]


# Which candidates to return (a boolean mask over the rows): the index applies it before it
# builds entries, which is where a lookup spends its time when many entries share a band.
# The rows come by ``order_key`` (event time, id): a filter that must choose among equals
# chooses the same in every backend, live or restored from a snapshot.
CandidateFilter = Callable[[CandidateRows], npt.NDArray[np.bool_]]


def estimate_only(entry: IndexEntry) -> bool:
    """Kept, and without exact shingles (:meth:`Profile.for_index`)."""
    return entry.is_kept and (entry.profile is None or entry.profile.shingles is None)


def filter_entries(
    entries: list[IndexEntry], keep: CandidateFilter | None
) -> list[IndexEntry]:
    """``entries`` that ``keep`` keeps, by ``order_key`` (a filter breaks ties in the order
    it is shown the rows): for backends that hold built entries anyway."""
    if keep is None or not entries:
        return entries
    entries = sorted(entries, key=lambda e: e.order_key)
    signatures = [np.asarray(e.fingerprint.signature) for e in entries]
    if len({s.shape for s in signatures}) > 1:
        return entries  # not one matrix: nothing to judge them by together
    rows = CandidateRows(
        np.stack(signatures),
        np.array([e.fingerprint.shingle_count for e in entries], dtype=np.int64),
        np.array([estimate_only(e) for e in entries], dtype=np.bool_),
    )
    mask = keep(rows)
    return [e for e, kept in zip(entries, mask.tolist(), strict=True) if kept]


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Approximate memory held by the index (``sys.getsizeof`` of its containers and values)."""

    entries: int
    band_keys: int
    approx_bytes: int
    profile_bytes: int = 0  # of approx_bytes: verification profiles (streams.core.dedup.profile)
    spilled_bytes: int = 0  # not in approx_bytes: held in a spill (streams.core.dedup.spill)
    spill_errors: int = 0  # spill writes that failed; those rows stayed on the heap

    @property
    def bytes_per_entry(self) -> float:
        return self.approx_bytes / self.entries if self.entries else 0.0


class Index(Protocol):
    """What the decision and the state maintenance need from an index of the dedup window."""

    def __len__(self) -> int: ...
    def __contains__(self, article_id: object) -> bool: ...
    def get(self, article_id: str) -> IndexEntry | None:
        """The entry of ``article_id``, if indexed."""
    def content_hash(self, article_id: str) -> str | None:
        """``get(article_id).fingerprint.content_hash``, without building the entry."""
    def add(self, entry: IndexEntry) -> None:
        """Index ``entry``, replacing any entry with the same id."""
    def remove(self, article_id: str) -> IndexEntry | None:
        """Drop ``article_id``; returns its entry if it was indexed."""
    def by_content_hash(self, content_hash: str) -> list[IndexEntry]:
        """Searchable entries (``IndexEntry.is_looked_up``) with exactly this content hash,
        with or without their learned boilerplate (``IndexEntry.exact_hashes``)."""
    def candidates(
        self, fingerprint: Fingerprint, keep: CandidateFilter | None = None
    ) -> list[IndexEntry]:
        """Searchable near-duplicate candidates of ``fingerprint`` that ``keep`` (if given)
        keeps, by ``order_key``."""
    def lookup(
        self, fingerprint: Fingerprint, keep: CandidateFilter | None = None
    ) -> tuple[list[IndexEntry], list[IndexEntry]]:
        """``(by_content_hash(fingerprint.content_hash), candidates(fingerprint, keep))``,
        which an index may answer in one pass over its tables."""
    def members(self, root: str) -> list[IndexEntry]:
        """Duplicates whose root is ``root`` (the root itself excluded), by ``order_key``:
        its direct members (a superseded article keeps its own: see
        :func:`streams.core.dedup.decide.group_members`)."""
    def expire(self, now_ms: int, window_ms: int) -> list[str]:
        """Remove entries seen before ``now_ms - window_ms``; returns their ids."""
    def stats(self) -> IndexStats:
        """Entry count and approximate memory."""


def _bucket_add(buckets: dict[K, Bucket], key: K, article_id: str) -> None:
    bucket = buckets.get(key)
    if bucket is None:
        buckets[key] = article_id
    elif isinstance(bucket, str):
        if bucket != article_id:
            buckets[key] = [bucket, article_id]
    elif article_id not in bucket:
        bucket.append(article_id)


def _bucket_remove(buckets: dict[K, Bucket], key: K, article_id: str) -> None:
    bucket = buckets.get(key)
    if bucket is None:
        return
    if isinstance(bucket, str):
        if bucket == article_id:
            del buckets[key]
        return
    if article_id in bucket:
        bucket.remove(article_id)
    if len(bucket) == 1:
        buckets[key] = bucket[0]


def _bucket_ids(bucket: Bucket | None) -> list[str]:
    if bucket is None:
        return []
    return [bucket] if isinstance(bucket, str) else list(bucket)


def _profile_bytes(profile: Profile | None) -> int:
    """Memory of a verification profile: the object and its packed byte strings."""
    if profile is None:
        return 0
    size = sys.getsizeof
    parts = (profile.keys, profile.starts, profile.figures, profile.shingles)
    return size(profile) + sum(size(p) for p in parts if p is not None)


class FingerprintIndex:
    """Articles of the dedup window; adding an existing id replaces that entry (the index
    holds an article's current revision; the entry counts revisions, see :mod:`.revision`)."""

    def __init__(self, lsh: LSHConfig) -> None:
        self._lsh = lsh
        self._entries: dict[str, IndexEntry] = {}
        self._bands: dict[int, Bucket] = {}
        self._hashes: dict[str, Bucket] = {}
        self._members: dict[str, set[str]] = {}  # root -> ids of duplicates with that root
        self._expiry: list[tuple[int, str]] = []  # (seen_at_ms, id) heap; stale items skipped

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._entries

    def get(self, article_id: str) -> IndexEntry | None:
        return self._entries.get(article_id)

    def add(self, entry: IndexEntry) -> None:
        """Index ``entry``, replacing any entry with the same id."""
        old = self._entries.get(entry.id)
        if old is not None:
            self._unlink(old)
        self._entries[entry.id] = entry
        if entry.is_looked_up:
            for key in self._band_keys(entry.fingerprint):
                _bucket_add(self._bands, key, entry.id)
            for content_hash in entry.exact_hashes:
                _bucket_add(self._hashes, content_hash, entry.id)
        if not entry.is_kept:
            self._members.setdefault(entry.root, set()).add(entry.id)
        if old is None or old.seen_at_ms != entry.seen_at_ms:
            heapq.heappush(self._expiry, (entry.seen_at_ms, entry.id))

    def remove(self, article_id: str) -> IndexEntry | None:
        entry = self._entries.pop(article_id, None)
        if entry is not None:
            self._unlink(entry)
        return entry

    def content_hash(self, article_id: str) -> str | None:
        entry = self._entries.get(article_id)
        return None if entry is None else entry.fingerprint.content_hash

    def by_content_hash(self, content_hash: str) -> list[IndexEntry]:
        return [self._entries[i] for i in _bucket_ids(self._hashes.get(content_hash))]

    def candidates(
        self, fingerprint: Fingerprint, keep: CandidateFilter | None = None
    ) -> list[IndexEntry]:
        """Entries sharing at least one band key with ``fingerprint`` that ``keep`` keeps, by
        ``order_key``."""
        ids: set[str] = set()
        for key in self._band_keys(fingerprint):
            bucket = self._bands.get(key)
            if bucket is not None:
                ids.update(_bucket_ids(bucket))
        entries = sorted((self._entries[i] for i in ids), key=lambda e: e.order_key)
        return filter_entries(entries, keep)

    def lookup(
        self, fingerprint: Fingerprint, keep: CandidateFilter | None = None
    ) -> tuple[list[IndexEntry], list[IndexEntry]]:
        return self.by_content_hash(fingerprint.content_hash), self.candidates(fingerprint, keep)

    def members(self, root: str) -> list[IndexEntry]:
        """Duplicates whose root is ``root`` (the root itself excluded), by ``order_key``."""
        ids = self._members.get(root, set())
        return sorted((self._entries[i] for i in ids), key=lambda e: e.order_key)

    def expire(self, now_ms: int, window_ms: int) -> list[str]:
        """Remove entries seen before ``now_ms - window_ms``; returns their ids."""
        cutoff = now_ms - window_ms
        removed: list[str] = []
        while self._expiry and self._expiry[0][0] < cutoff:
            seen_at_ms, article_id = heapq.heappop(self._expiry)
            entry = self._entries.get(article_id)
            if entry is not None and entry.seen_at_ms == seen_at_ms:
                self.remove(article_id)
                removed.append(article_id)
        return removed

    def stats(self) -> IndexStats:
        size = sys.getsizeof
        total = size(self._entries) + size(self._bands) + size(self._hashes) + size(self._members)
        total += size(self._expiry) + len(self._expiry) * (size((0, "")) + size(0))
        profiles = 0
        for entry in self._entries.values():
            fp = entry.fingerprint
            total += size(entry) + size(entry.id) + size(fp) + size(fp.content_hash)
            total += size(fp.signature)  # includes the data buffer of an owning array
            profiles += _profile_bytes(entry.profile)
        total += profiles
        for key, bucket in self._bands.items():
            total += size(key) + (0 if isinstance(bucket, str) else size(bucket))
        for ids in self._members.values():
            total += size(ids)
        return IndexStats(len(self._entries), len(self._bands), total, profiles)

    def _band_keys(self, fingerprint: Fingerprint) -> list[int]:
        return band_keys(fingerprint.signature, self._lsh)

    def _unlink(self, entry: IndexEntry) -> None:
        if entry.is_looked_up:
            for key in self._band_keys(entry.fingerprint):
                _bucket_remove(self._bands, key, entry.id)
            for content_hash in entry.exact_hashes:
                _bucket_remove(self._hashes, content_hash, entry.id)
        if not entry.is_kept:
            group = self._members.get(entry.root)
            if group is not None:
                group.discard(entry.id)
                if not group:
                    del self._members[entry.root]
