"""Which of this worker's kept articles another worker could not have known when it decided.

Two workers deciding copies of one story at the same moment both keep theirs; the worker
whose copy is later (by ``(event_time_ms, id)``) corrects its verdict when the other's
record reaches its replica (:meth:`streams.core.pipeline.Deduplicator.apply_remote`). That
check re-decides every kept article of every other worker against the whole index, which
made up a third of the replica's cost with two workers.

A record now says which part of the fingerprint log its worker had applied when it decided
(``LogRecord.applied``: the next offset per partition). Every record of ours below those
offsets was in that worker's index, so its decision already took our article into account
(it superseded it itself if it had to, and logged that). Only our kept articles that it had
not applied can have raced with it: the ones whose records are at or past its offsets, or
whose records are not acknowledged yet. :meth:`RaceWindow.may_race` says whether one of
those could be superseded by the record's article: a later ``order_key`` and the same content
hash or one LSH band in common, the only ways the index's lookup finds a candidate. When
none could, the re-decision is skipped; when the answer is not certain (a record without
offsets, an article we no longer track), it is not.

The window holds the last ``limit`` kept articles (event time, hash and bands); one that
leaves it raises a per-partition floor, and a record whose offsets are below a floor is
re-decided. An
article whose record was never acknowledged (the broker refused it) that leaves the window
makes every later check answer "maybe": the re-decision then runs for every record, as it did
before this window existed.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping

import numpy as np

from streams.core.dedup.config import LSHConfig
from streams.core.dedup.model import Fingerprint

# Kept articles tracked: at ~150 kept articles a second a worker, half a minute. A worker whose
# replica lags further behind than that only costs the other worker full re-decisions.
DEFAULT_LIMIT = 4096
# Past this many unapplied articles (a worker far behind), the index's own lookup is cheaper.
MAX_CHECKED = 256


class RaceWindow:
    """This worker's recent kept articles and where their log records landed.

    Each tracked article has a slot in fixed arrays (its event time, the first 64 bits of its
    content hash, its signature's bands), so one check compares every unapplied article at
    once.
    """

    def __init__(self, lsh: LSHConfig, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("limit must be positive")
        self._lsh = lsh
        self._limit = limit
        self._slots: dict[str, int] = {}  # insertion order: oldest first
        self._free = list(range(limit - 1, -1, -1))
        self._event = np.zeros(limit, dtype=np.int64)
        self._ids: list[str] = [""] * limit
        self._hash = np.zeros(limit, dtype=np.uint64)
        self._bands = np.zeros((limit, lsh.bands, lsh.rows), dtype=np.uint32)
        self._unlogged: set[str] = set()
        self._where: dict[str, tuple[int, int]] = {}
        self._by_partition: dict[int, list[tuple[int, str]]] = {}  # by offset
        self._floor: dict[int, int] = {}  # per partition: offsets below left the window
        self._blind = False

    def __len__(self) -> int:
        return len(self._slots)

    @property
    def blind(self) -> bool:
        """An article whose record was never acknowledged left the window: every check
        answers "maybe" from now on."""
        return self._blind

    def kept(self, article_id: str, event_time_ms: int, fingerprint: Fingerprint) -> None:
        """This worker indexed ``article_id`` as a kept article; its record is not logged yet."""
        self._forget(article_id)
        if not self._free:
            self._leave(next(iter(self._slots)))
        slot = self._free.pop()
        self._slots[article_id] = slot
        self._ids[slot] = article_id
        self._event[slot] = event_time_ms
        self._hash[slot] = _hash64(fingerprint.content_hash)
        self._bands[slot] = self._bands_of(fingerprint)
        self._unlogged.add(article_id)

    def logged(self, article_id: str, partition: int, offset: int) -> None:
        """The broker acknowledged ``article_id``'s record at ``offset`` of ``partition``."""
        if article_id not in self._unlogged:
            return  # left the window, kept again since, or not a kept article's record
        self._unlogged.discard(article_id)
        self._where[article_id] = (partition, offset)
        bisect.insort(self._by_partition.setdefault(partition, []), (offset, article_id))

    def may_race(
        self, fingerprint: Fingerprint, order_key: tuple[int, str],
        applied: Mapping[int, int] | None,
    ) -> bool:
        """Whether an article of ours that the deciding worker had not applied (``applied``:
        its next offset per log partition; None: not known) could be superseded by the
        article of ``fingerprint`` and ``order_key``. False only when certain.

        Could be: a later ``order_key`` and the same content hash or all values of one band
        in common, what the index's lookup needs to find it (a superset of what the
        re-decision then supersedes)."""
        if applied is None or self._blind:
            return True
        if any(applied.get(p, 0) < floor for p, floor in self._floor.items()):
            return True  # an article we no longer track may not have been applied
        unapplied = [self._slots[i] for i in self._unlogged]
        for partition, records in self._by_partition.items():
            start = applied.get(partition, 0)
            for offset, article_id in reversed(records):
                if offset < start:
                    break
                unapplied.append(self._slots[article_id])
            if len(unapplied) > MAX_CHECKED:
                return True
        if not unapplied:
            return False
        slots = np.array(unapplied, dtype=np.intp)
        event_time_ms, article_id = order_key
        later = self._event[slots] >= event_time_ms  # ties are settled by id below
        slots = slots[later]
        if not slots.size:
            return False
        same = (self._hash[slots] == _hash64(fingerprint.content_hash)) | (
            self._bands[slots] == self._bands_of(fingerprint)
        ).all(axis=2).any(axis=1)
        return any((int(self._event[s]), self._ids[s]) > order_key for s in slots[same])

    def _bands_of(self, fingerprint: Fingerprint) -> np.ndarray:
        used = self._lsh.bands * self._lsh.rows
        values = np.asarray(fingerprint.signature)[:used].astype("<u4")
        return values.reshape(self._lsh.bands, self._lsh.rows)

    def _leave(self, article_id: str) -> None:
        """``article_id`` leaves the window: what it covered becomes a floor."""
        where = self._where.get(article_id)
        if where is not None:
            partition, offset = where
            self._floor[partition] = max(self._floor.get(partition, 0), offset + 1)
        elif article_id in self._unlogged:
            self._blind = True
        self._forget(article_id)
        for partition, floor in self._floor.items():
            records = self._by_partition.get(partition)
            if records and records[0][0] < floor:
                del records[:bisect.bisect_left(records, (floor, ""))]

    def _forget(self, article_id: str) -> None:
        slot = self._slots.pop(article_id, None)
        if slot is None:
            return
        self._free.append(slot)
        self._unlogged.discard(article_id)
        where = self._where.pop(article_id, None)
        if where is not None:
            records = self._by_partition[where[0]]
            at = bisect.bisect_left(records, (where[1], article_id))
            if at < len(records) and records[at] == (where[1], article_id):
                del records[at]


def _hash64(content_hash: str) -> int:
    """The first 64 bits of a content hash: equal hashes have equal prefixes."""
    return int(content_hash[:16], 16)
