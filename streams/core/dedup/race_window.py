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
offsets, an article we no longer track), it is not. The same list (:meth:`RaceWindow.unapplied`)
gates the story race merges: only our stories whose opening that worker had not applied
can have raced with the story it opened, unless one of our story merge records may not
have been applied by it either.

The same window answers the mirror question (:meth:`RaceWindow.may_have_lost`): which of
our kept articles another worker's new kept article lost a race to. That worker corrects it
when our record reaches it; if it stops first, with its copy's offset committed, this
worker does (:meth:`streams.core.pipeline.Deduplicator.owed_corrections`).

The window also keeps its articles by band key and content hash, so a check passes over
the fewer of two lists: the unapplied articles (asking each whether it is later and shares
a band or the hash), or the articles sharing a band or the hash with the record's (asking
each whether it is later and unapplied). With two workers a check met ~100-250 unapplied
articles, a fifth of a remote record's cost; a replica close behind meets a few, and on a
corpus of shared vocabulary a band can hold many articles.

The window holds the last ``limit`` kept articles (order key, hash and bands); one that
leaves it raises a per-partition floor, and a record whose offsets are below a floor is
re-decided. An article is logged once every record of it kept so far is acknowledged (a
revision or a replay kept again sends another: the position is the last one's), so an
acknowledgement of an older record is never taken for the newer one's. One that leaves the
window unlogged (the broker refused its record, or answers slower than ``limit`` decisions)
stays in every check until its acknowledgement comes; past ``NEVER_LOGGED_LIMIT`` of those
every check answers "maybe", as before this window existed.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TypeVar

from streams.core.dedup.config import LSHConfig
from streams.core.dedup.lsh import band_keys
from streams.core.dedup.model import Fingerprint

# Kept articles tracked: at ~150 kept articles a second a worker, half a minute. A worker whose
# replica lags further behind than that only costs the other worker full re-decisions.
DEFAULT_LIMIT = 4096
# Past this many unapplied articles (a worker far behind), every remote article is decided
# again (the index's lookup). In a backlog a replica is a batch or two behind (hundreds of
# articles): at 256, 2,788 of 3,000 remote records were decided again with replicas 600
# messages behind, at 1,024 1,072, same outputs, 0.67-0.76x the CPU a remote record
# (`python -m bench.replica --lag 600`); equal at 200, 1,000 and 1,400 messages behind.
MAX_CHECKED = 1024
# Articles that left the window before their records were acknowledged, kept in every check.
NEVER_LOGGED_LIMIT = 1024

_Key = TypeVar("_Key", int, str)


@dataclass(frozen=True, slots=True)
class _Kept:
    order_key: tuple[int, str]
    hashes: tuple[str, ...]  # the content hash, and the one over every paragraph if other
    bands: frozenset[int]  # the signature's band keys


@dataclass(slots=True)
class _Duplicate:
    order_key: tuple[int, str]
    hashes: tuple[str, ...]
    fingerprint: Fingerprint
    bands: frozenset[int] | None = None  # computed once, when filed


class RaceWindow:
    """This worker's recent kept articles and where their log records landed."""

    def __init__(self, lsh: LSHConfig, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("limit must be positive")
        self._lsh = lsh
        self._limit = limit
        self._kept: dict[str, _Kept] = {}  # insertion order: oldest first
        # Kept records sent and not acknowledged yet, per article, and the highest offset
        # acknowledged meanwhile (all of an article's records go to one partition).
        self._awaiting: dict[str, int] = {}
        self._acked: dict[str, tuple[int, int]] = {}
        self._where: dict[str, tuple[int, int]] = {}
        self._by_partition: dict[int, list[tuple[int, str]]] = {}  # by offset
        self._floor: dict[int, int] = {}  # per partition: offsets below left the window
        self._never_logged: dict[str, _Kept] = {}  # left the window awaiting records
        # Every article of _kept and _never_logged by its band keys and its content hash: an
        # id alone, or a set of them when several share the key (most keys have one: a
        # string is neither an allocation per key nor an object for the garbage collector).
        self._by_band: dict[int, str | set[str]] = {}
        self._by_hash: dict[str, str | set[str]] = {}
        # Our recent duplicates, for may_have_lost only (they supersede nothing of another
        # worker's that may_race asks about): near copies are not transitive, so a duplicate
        # of ours may be the earlier match of another worker's kept copy. Their bands are
        # computed when filed.
        self._duplicates: dict[str, _Duplicate] = {}
        self._dup_by_band: dict[int, str | set[str]] = {}
        self._dup_by_hash: dict[str, str | set[str]] = {}
        # Filled at the first check: a worker alone never checks, and pays nothing for them.
        self._filed = False
        self._blind = False
        # Our story merge records (bridges, renames, races): sent and not acknowledged yet,
        # and the highest offset acknowledged per partition.
        self._updates_awaiting = 0
        self._update_max: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def blind(self) -> bool:
        """More than ``NEVER_LOGGED_LIMIT`` articles left the window unlogged: every check
        answers "maybe" from now on."""
        return self._blind

    def kept(self, article_id: str, event_time_ms: int, fingerprint: Fingerprint,
             hashes: tuple[str, ...] = ()) -> None:
        """This worker indexed ``article_id`` as a kept article and sends its record.
        ``hashes``: its exact hashes (``IndexEntry.exact_hashes``), when not only the
        fingerprint's."""
        if article_id in self._kept:  # kept again: a newer record decides its position
            self._unplace(article_id)
            self._unfile(article_id, self._kept.pop(article_id))
        else:
            gone = self._never_logged.pop(article_id, None)  # tracked again, still awaiting
            if gone is not None:
                self._unfile(article_id, gone)
            if len(self._kept) >= self._limit:
                self._leave(next(iter(self._kept)))
        kept = _Kept((event_time_ms, article_id), hashes or (fingerprint.content_hash,),
                     self._bands_of(fingerprint))
        self._kept[article_id] = kept
        self._file(article_id, kept)
        self._awaiting[article_id] = self._awaiting.get(article_id, 0) + 1

    def duplicate(self, article_id: str, event_time_ms: int, fingerprint: Fingerprint,
                  hashes: tuple[str, ...] = ()) -> None:
        """This worker indexed ``article_id`` as a duplicate (the last ``limit`` are kept)."""
        old = self._duplicates.pop(article_id, None)
        if old is not None:
            self._unfile_duplicate(article_id, old)
        elif len(self._duplicates) >= self._limit:
            oldest = next(iter(self._duplicates))
            self._unfile_duplicate(oldest, self._duplicates.pop(oldest))
        entry = _Duplicate((event_time_ms, article_id), hashes or (fingerprint.content_hash,),
                           fingerprint)
        self._duplicates[article_id] = entry
        if self._filed:
            self._file_duplicate(article_id, entry)

    def logged(self, article_id: str, partition: int, offset: int) -> None:
        """The broker acknowledged a kept record of ``article_id`` at ``offset`` of
        ``partition``."""
        waiting = self._awaiting.get(article_id)
        if waiting is None:
            return  # not a record this window waits for (it left, or the process restarted)
        last = self._acked.get(article_id)
        if last is None or offset > last[1]:
            self._acked[article_id] = last = (partition, offset)
        if waiting > 1:
            self._awaiting[article_id] = waiting - 1
            return
        del self._awaiting[article_id]
        del self._acked[article_id]
        gone = self._never_logged.pop(article_id, None)
        if gone is not None:
            self._unfile(article_id, gone)
            self._raise_floor(*last)  # out of the window: its offset becomes a floor
            return
        self._where[article_id] = last
        bisect.insort(self._by_partition.setdefault(last[0], []), (last[1], article_id))

    def updates_sent(self, count: int) -> None:
        """This worker sends ``count`` story merge records."""
        self._updates_awaiting += count

    def update_logged(self, partition: int, offset: int) -> None:
        """The broker acknowledged one of our story merge records."""
        self._updates_awaiting = max(0, self._updates_awaiting - 1)
        self._update_max[partition] = max(self._update_max.get(partition, -1), offset)

    def updates_unapplied(self, applied: Mapping[int, int] | None) -> bool:
        """Whether a story merge record of ours may not have been applied by the deciding
        worker: its view of our stories may then be older than the articles say."""
        if applied is None or self._updates_awaiting:
            return True
        return any(applied.get(p, 0) <= offset for p, offset in self._update_max.items())

    def may_race(
        self, fingerprint: Fingerprint, order_key: tuple[int, str],
        applied: Mapping[int, int] | None, *, held: Collection[str] = (),
        hashes: tuple[str, ...] = (),
    ) -> bool:
        """Whether an article of ours that the deciding worker had not applied (``applied``:
        its next offset per log partition; None: not known) could be superseded by the
        article of ``fingerprint`` and ``order_key``. False only when certain.

        Could be: a later ``order_key`` and the same content hash or all values of one band
        in common, what the index's lookup needs to find it (a superset of what the
        re-decision then supersedes; ``hashes``: the article's exact hashes, when not only
        the fingerprint's: two workers that had learned different boilerplate fingerprint one
        text differently). ``held``: articles whose verdicts are still held here
        (:mod:`streams.core.hold`), checked whatever the positions say: the other worker's
        view of them may be newer than ours, and only a re-decision rewrites them before
        their release."""
        if applied is None:
            return True
        count = self._unapplied_count(applied)
        if count is None:
            return True
        self._file_all()
        bands = self._bands_of(fingerprint)
        hashes = hashes or (fingerprint.content_hash,)
        sharing = [_ids(ids) for key in bands if (ids := self._by_band.get(key)) is not None]
        sharing += [_ids(same) for h in hashes if (same := self._by_hash.get(h)) is not None]
        if sum(map(len, sharing)) <= count + len(held):
            return self._race_among(set().union(*sharing), order_key, applied, held)
        return self._race_in_pass(hashes, bands, order_key, applied, held)

    def _file_all(self) -> None:
        """File every tracked article by band and hash, at the first check."""
        if not self._filed:
            self._filed = True
            for article_id, kept in (*self._kept.items(), *self._never_logged.items()):
                self._file(article_id, kept)
            for article_id, entry in self._duplicates.items():
                self._file_duplicate(article_id, entry)

    def _file_duplicate(self, article_id: str, entry: _Duplicate) -> None:
        if entry.bands is None:
            entry.bands = self._bands_of(entry.fingerprint)
        _file_under(self._dup_by_band, self._dup_by_hash, article_id, entry.hashes,
                    entry.bands)

    def _unfile_duplicate(self, article_id: str, entry: _Duplicate) -> None:
        if entry.bands is not None:  # filed
            _unfile_under(self._dup_by_band, self._dup_by_hash, article_id, entry.hashes,
                          entry.bands)

    def _race_among(self, sharing: set[str], order_key: tuple[int, str],
                    applied: Mapping[int, int], held: Collection[str]) -> bool:
        """:meth:`may_race` by the articles sharing a band or the hash: whether one is later
        and unapplied (or held)."""
        for article_id in sharing:
            kept = self._kept.get(article_id)
            if kept is None:  # left the window awaiting its records: unapplied
                if self._never_logged[article_id].order_key > order_key:
                    return True
            elif kept.order_key > order_key and (
                article_id in self._awaiting or article_id in held
                or self._where[article_id][1] >= applied.get(self._where[article_id][0], 0)
            ):
                return True
        return False

    def _race_in_pass(self, hashes: tuple[str, ...], bands: frozenset[int],
                      order_key: tuple[int, str], applied: Mapping[int, int],
                      held: Collection[str]) -> bool:
        """:meth:`may_race` by a pass over the unapplied (and held) articles: whether one is
        later and shares a band or the hash."""
        unapplied = self._unapplied_list(applied)
        unapplied += [k for i in held if (k := self._kept.get(i)) is not None]
        wanted = frozenset(hashes)  # once, not a set per article
        return any(k.order_key > order_key
                   and (not wanted.isdisjoint(k.hashes) or not k.bands.isdisjoint(bands))
                   for k in unapplied)

    def may_have_lost(
        self, fingerprint: Fingerprint, order_key: tuple[int, str],
        applied: Mapping[int, int] | None, *, hashes: tuple[str, ...] = (),
    ) -> list[str]:
        """Our articles that could supersede the article of ``fingerprint`` and
        ``order_key``, kept by a worker that had not applied them: an earlier ``order_key``,
        a content hash or a band in common, and for our kept articles a record at or past
        ``applied`` (or not acknowledged; any of them when the positions are not certain);
        our recent duplicates whatever the positions (where their records landed is not
        tracked). By ``order_key``. The mirror of :meth:`may_race`: the race the other worker
        lost, which it corrects when our record reaches it, unless it stopped first
        (:meth:`streams.core.pipeline.Deduplicator.owed_corrections`)."""
        self._file_all()
        bands = self._bands_of(fingerprint)
        hashes = hashes or (fingerprint.content_hash,)
        if applied is not None and self._unapplied_count(applied) is None:
            applied = None  # not certain: any of them
        found = set()
        for article_id in _sharing(self._by_band, self._by_hash, bands, hashes):
            kept = self._kept.get(article_id) or self._never_logged[article_id]
            if kept.order_key >= order_key:
                continue
            where = self._where.get(article_id)
            if (applied is None or where is None or article_id in self._awaiting
                    or where[1] >= applied.get(where[0], 0)):
                found.add(kept.order_key)
        for article_id in _sharing(self._dup_by_band, self._dup_by_hash, bands, hashes):
            key = self._duplicates[article_id].order_key
            if key < order_key:
                found.add(key)
        return [article_id for _, article_id in sorted(found)]

    def unapplied(self, applied: Mapping[int, int] | None) -> list[str] | None:
        """Our kept articles the deciding worker had not applied; None when that is not
        certain (no positions, an untracked article may be among them, or too many)."""
        unapplied = self._unapplied(applied)
        return None if unapplied is None else [k.order_key[1] for k in unapplied]

    def _unapplied_count(self, applied: Mapping[int, int]) -> int | None:
        """How many of our articles the deciding worker had not applied; None unless they
        are all tracked here and at most ``MAX_CHECKED``."""
        if self._blind:
            return None
        if any(applied.get(p, 0) < floor for p, floor in self._floor.items()):
            return None  # an article we no longer track may not have been applied
        count = len(self._awaiting)
        for partition, records in self._by_partition.items():
            count += len(records) - bisect.bisect_left(records, (applied.get(partition, 0), ""))
        return count if count <= MAX_CHECKED else None

    def _unapplied(self, applied: Mapping[int, int] | None) -> list[_Kept] | None:
        if applied is None or self._unapplied_count(applied) is None:
            return None
        return self._unapplied_list(applied)

    def _unapplied_list(self, applied: Mapping[int, int]) -> list[_Kept]:
        """The unapplied articles, once :meth:`_unapplied_count` has said they are known."""
        unapplied = [self._kept.get(i) or self._never_logged[i] for i in self._awaiting]
        for partition, records in self._by_partition.items():
            start = bisect.bisect_left(records, (applied.get(partition, 0), ""))
            unapplied += (self._kept[article_id] for _, article_id in records[start:])
        return unapplied

    def _bands_of(self, fingerprint: Fingerprint) -> frozenset[int]:
        """The signature's band keys, as the index's lookup uses them (a collision of two
        keys only adds a "maybe")."""
        return frozenset(band_keys(fingerprint.signature, self._lsh))

    def _leave(self, article_id: str) -> None:
        """The oldest article leaves the window: what it covered becomes a floor, or, still
        awaiting a record, it stays in every check until that record is acknowledged."""
        kept = self._kept.pop(article_id)
        if article_id in self._awaiting:
            self._never_logged[article_id] = kept  # still filed: checked until logged
            if len(self._never_logged) > NEVER_LOGGED_LIMIT:
                self._blind = True
            return
        self._unfile(article_id, kept)
        where = self._unplace(article_id)
        if where is not None:
            self._raise_floor(*where)

    def _file(self, article_id: str, kept: _Kept) -> None:
        if self._filed:
            _file_under(self._by_band, self._by_hash, article_id, kept.hashes, kept.bands)

    def _unfile(self, article_id: str, kept: _Kept) -> None:
        if self._filed:
            _unfile_under(self._by_band, self._by_hash, article_id, kept.hashes, kept.bands)

    def _raise_floor(self, partition: int, offset: int) -> None:
        floor = self._floor[partition] = max(self._floor.get(partition, 0), offset + 1)
        records = self._by_partition.get(partition)
        if records and records[0][0] < floor:  # the floor answers for them now
            del records[:bisect.bisect_left(records, (floor, ""))]

    def _unplace(self, article_id: str) -> tuple[int, int] | None:
        """Forget where ``article_id``'s record landed; returns it."""
        where = self._where.pop(article_id, None)
        if where is not None:
            records = self._by_partition[where[0]]
            at = bisect.bisect_left(records, (where[1], article_id))
            if at < len(records) and records[at] == (where[1], article_id):
                del records[at]
        return where


def _sharing(by_band: Mapping[int, str | set[str]], by_hash: Mapping[str, str | set[str]],
             bands: Collection[int], hashes: Collection[str]) -> set[str]:
    """The ids filed under one of ``bands`` or ``hashes``."""
    found: set[str] = set()
    for key in bands:
        if (ids := by_band.get(key)) is not None:
            found.update(_ids(ids))
    for content_hash in hashes:
        if (same := by_hash.get(content_hash)) is not None:
            found.update(_ids(same))
    return found


def _file_under(by_band: dict[int, str | set[str]], by_hash: dict[str, str | set[str]],
                article_id: str, hashes: tuple[str, ...], bands: frozenset[int]) -> None:
    for content_hash in hashes:
        _add(by_hash, content_hash, article_id)
    for key in bands:
        _add(by_band, key, article_id)


def _unfile_under(by_band: dict[int, str | set[str]], by_hash: dict[str, str | set[str]],
                  article_id: str, hashes: tuple[str, ...], bands: frozenset[int]) -> None:
    for content_hash in hashes:
        _discard(by_hash, content_hash, article_id)
    for key in bands:
        _discard(by_band, key, article_id)


def _ids(ids: str | set[str]) -> set[str] | tuple[str]:
    return (ids,) if isinstance(ids, str) else ids


def _add(table: dict[_Key, str | set[str]], key: _Key, article_id: str) -> None:
    ids = table.get(key)
    if ids is None:
        table[key] = article_id
    elif isinstance(ids, str):
        if ids != article_id:
            table[key] = {ids, article_id}
    else:
        ids.add(article_id)


def _discard(table: dict[_Key, str | set[str]], key: _Key, article_id: str) -> None:
    ids = table[key]
    if isinstance(ids, str):
        if ids == article_id:
            del table[key]
        return
    ids.discard(article_id)
    if len(ids) == 1:
        table[key] = next(iter(ids))
