"""The compact index backend: the same answers as :class:`FingerprintIndex` in < 1 KB per entry.

Where the bytes go, per entry (128 permutations, 32 bands; ``bench/growth.py`` measures RSS):

* the signature, 512 B, one row of a uint32 matrix (every value is needed: verification
  compares all of them, and re-rooted entries are logged with their signature);
* 33-34 packed (key, row) pairs of 8 B in a :class:`~streams.core.dedup.pairs.PairTable`:
  one per LSH band, one for the content hash, one for the root of a duplicate (a duplicate
  that is not searchable, ``IndexEntry.searchable``, has the root's pair only);
* numpy columns: content hash (16 B), event time and seen-at (8 B each), shingle count,
  source (interned), id hash (4 B each), state (1 B);
* one ``bytes`` with the id, root, origin, ``superseded_by`` and any rare field
  (:mod:`streams.core.dedup.rows`); ~10 B of id table (:mod:`streams.core.dedup.idtable`).

Band keys are a numpy mix of the band's values, not :func:`streams.core.dedup.lsh.band_keys`:
the pair table holds 26 bits of it and every hit is checked against the band's values in
the signature matrix, so the candidates are exactly the entries sharing all values of some
band, as with the 64-bit xxh3 keys (which could differ only on a 64-bit collision).

An entry is never changed in place: adding an id again writes a new row and frees the old
one, so pairs never go stale on a live row; rows are reused only once no pair can point at
them (see :mod:`streams.core.dedup.pairs`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from typing import Any

import numpy as np
import numpy.typing as npt
import xxhash

from streams.core.dedup.config import LSHConfig
from streams.core.dedup.idtable import IdTable, id_hash
from streams.core.dedup.index import (
    CandidateFilter,
    CandidateRows,
    IndexStats,
    estimate_only,
)
from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.dedup.pairs import PairTable
from streams.core.dedup.rows import (
    EXTRA_FIELDS,
    MIN_PACKED_BYTES,
    blob_id,
    pack_rare,
    pack_strings,
    split_rare,
    unpack_rare,
    unpack_strings,
)
from streams.core.dedup.spill import Spill

log = logging.getLogger(__name__)

_M2 = np.uint64(0x94D049BB133111EB)
_S31 = np.uint64(31)
_S29 = np.uint64(29)
_MULTIPLIERS = np.array(
    [(0x9E3779B97F4A7C15 * (2 * i + 1)) & 0xFFFFFFFFFFFFFFFF | 1 for i in range(64)],
    dtype=np.uint64,
)
_INT64 = (-(2**63), 2**63 - 1)
_INITIAL_ROWS = 1024
# Free rows wait until no pair can point at them; when too many wait, every level is
# rewritten at once rather than letting dead signatures hold memory.
_QUARANTINE_SHARE = 16
# Decoded entries kept (~1.5 KB each): decoding a row (its packed strings and pickled rare
# fields) costs ~20 us, and a story copied many times has its kept article and searchable
# copies looked up by every copy (bench/copies.py measures the cost per copy).
DECODED_CACHE_ENTRIES = 1024

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

# ``_cold`` of a row whose rare fields are spilled: offset << _COLD_SIZE_BITS | size (0: none)
_COLD_SIZE_BITS = 24
_COLD_SIZE_MASK = (1 << _COLD_SIZE_BITS) - 1


def _pack_cold(offset: int, size: int) -> int:
    return offset << _COLD_SIZE_BITS | size


def _unpack_cold(cold: int) -> tuple[int, int]:
    """``(offset, size)`` of a ``_cold`` value."""
    return cold >> _COLD_SIZE_BITS, cold & _COLD_SIZE_MASK


def band_mix(values: U32) -> U64:
    """64-bit mix of each band's values: ``values`` is ``(..., bands, rows)``.

    A multiply-add of the values by fixed odd constants, then splitmix64's finalizer: five
    numpy calls for a whole signature (xxh3 per band costs one Python call per band).
    """
    h = values.astype(np.uint64) @ _MULTIPLIERS[: values.shape[-1]]
    h ^= h >> _S31
    h *= _M2
    h ^= h >> _S29
    return np.asarray(h, dtype=np.uint64)


_LIVE_ESTIMATE_ONLY = 2  # ``_state`` of a live row: see :func:`index.estimate_only`

class CompactIndex:
    """Articles of the dedup window in numpy arrays; implements :class:`Index`."""

    def __init__(self, lsh: LSHConfig, *, buffer_pairs: int | None = None,
                 spill: Spill | None = None) -> None:
        # Where the rows' rare fields go (streams.core.dedup.spill); None: on the heap.
        self._spill = spill
        self.spill_errors = 0  # spill writes that failed (their rows stayed on the heap)
        self._last_band_keys: tuple[bytes, U32] | None = None  # see _band_keys
        self._bands = lsh.bands
        self._band_width = lsh.rows
        self._hash_space = lsh.bands
        self._member_space = lsh.bands + 1
        self._key_bits = 32 - max(1, (lsh.bands + 1).bit_length())
        self._pairs = PairTable() if buffer_pairs is None else PairTable(buffer_pairs)
        self._width = 0  # signature length, set by the first entry
        self._capacity = 0
        self._rows = 0  # high-water mark of used rows
        self._live = 0
        self._sig: U32 = np.empty((0, 0), dtype=np.uint32)
        self._hash_hi: U64 = np.empty(0, dtype=np.uint64)
        self._hash_lo: U64 = np.empty(0, dtype=np.uint64)
        self._event: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._seen: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._shingles: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._source: U32 = np.empty(0, dtype=np.uint32)
        self._idh: U32 = np.empty(0, dtype=np.uint32)
        # 0 free; live rows: 1, or _LIVE_ESTIMATE_ONLY for a kept entry without exact shingles
        # (what a candidate filter may rely on; a snapshot written before the value existed
        # has 1 everywhere, which only makes filters keep more)
        self._state: npt.NDArray[np.uint8] = np.empty(0, dtype=np.uint8)
        self._cold: U64 = np.empty(0, dtype=np.uint64)
        self._blobs: list[bytes | None] = []
        self._blob_bytes = 0
        self._sources: list[str | None] = [None]
        self._source_ids: dict[str, int] = {}
        self._free: list[int] = []
        self._quarantine: deque[tuple[int, int]] = deque()  # (pair epoch at death, row)
        self._min_seen = _INT64[1]
        self._ids = IdTable(self._id_of)
        self._decoded: OrderedDict[int, IndexEntry] = OrderedDict()  # row -> entry, LRU

    # -- the Index protocol ---------------------------------------------------------------
    def __len__(self) -> int:
        return self._live

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._row_of(article_id)[1] >= 0

    def get(self, article_id: str) -> IndexEntry | None:
        row = self._row_of(article_id)[1]
        return None if row < 0 else self._entry(row)

    def content_hash(self, article_id: str) -> str | None:
        """From the hash columns: no decoding (nor reading of spilled fields)."""
        row = self._row_of(article_id)[1]
        if row < 0:
            return None
        high, low = int(self._hash_hi[row]), int(self._hash_lo[row])
        if high or low:
            return f"{high:016x}{low:016x}"
        return self._entry(row).fingerprint.content_hash  # (0, 0): maybe not a hex digest

    def add(self, entry: IndexEntry) -> None:
        """Index ``entry``, replacing any entry with the same id."""
        hashed = id_hash(entry.id)
        slot, old = self._ids.find(entry.id, hashed, self._idh)
        if old >= 0:
            self._free_row(old, slot)
        row = self._alloc_row(entry.fingerprint.signature)
        self._write_row(row, entry, hashed)
        self._ids.insert(entry.id, hashed, row, self._idh, self._state)
        self._pairs.add(self._keys(row, entry), row, self._state)
        self._compact_spill()

    def remove(self, article_id: str) -> IndexEntry | None:
        slot, row = self._row_of(article_id)
        if row < 0:
            return None
        entry = self._entry(row)
        self._free_row(row, slot)
        self._compact_spill()
        return entry

    def by_content_hash(self, content_hash: str) -> list[IndexEntry]:
        rows = self._lookup_one(self._string_key(self._hash_space, content_hash))
        return self._same_hash(rows, content_hash)

    def candidates(
        self, fingerprint: Fingerprint, keep: CandidateFilter | None = None
    ) -> list[IndexEntry]:
        """Entries sharing all values of at least one band with ``fingerprint`` that ``keep``
        keeps (judged on the columns: only the rows it keeps are decoded)."""
        if not self._rows:
            return []
        bands = self._band_values(fingerprint.signature)
        positions, rows = self._pairs.lookup(self._band_keys(bands))
        return self._banded(bands, positions, rows, keep)

    def lookup(
        self, fingerprint: Fingerprint, keep: CandidateFilter | None = None
    ) -> tuple[list[IndexEntry], list[IndexEntry]]:
        """:meth:`by_content_hash` and :meth:`candidates` from one lookup of the pair table:
        the hash's key goes with the band keys, so each level of the table is read once."""
        if not self._rows:
            return [], []
        bands = self._band_values(fingerprint.signature)
        hash_key = self._string_key(self._hash_space, fingerprint.content_hash)
        keys = np.append(self._band_keys(bands), np.uint32(hash_key))
        positions, rows = self._pairs.lookup(keys)
        is_hash = positions == self._bands  # the hash key's position: after every band's
        exact = self._same_hash(self._live_rows(rows[is_hash]), fingerprint.content_hash)
        is_band = ~is_hash
        return exact, self._banded(bands, positions[is_band], rows[is_band], keep)

    def _same_hash(self, rows: list[int], content_hash: str) -> list[IndexEntry]:
        entries = [self._entry(r) for r in rows]
        return sorted((e for e in entries if content_hash in e.exact_hashes),
                      key=lambda e: e.order_key)

    def _banded(self, bands: U32, positions: I64, rows: U32,
                keep: CandidateFilter | None) -> list[IndexEntry]:
        """The rows of a band-key lookup whose band values are all ``bands``' (not only the
        band's key), live, and kept by ``keep``; decoded, by ``order_key``."""
        if rows.size == 0:
            return []
        rows_i = rows.astype(np.intp)
        columns = positions[:, None] * self._band_width + np.arange(self._band_width)
        same = (self._sig[rows_i[:, None], columns] == bands[positions]).all(axis=1)
        same &= self._state[rows_i] != 0
        found = np.unique(rows_i[same])
        if keep is not None and found.size:
            found = self._by_order_key(found)
            found = found[keep(CandidateRows(
                self._sig[found], self._shingles[found],
                self._state[found] == _LIVE_ESTIMATE_ONLY,
            ))]
        return sorted((self._entry(int(r)) for r in found), key=lambda e: e.order_key)

    def _by_order_key(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """``rows`` by their entries' ``(event time, id)``, as a filter is to see them; row
        numbers follow allocation, which a restore from a snapshot does not repeat (a review:
        past the candidate limit, ties taken by row gave a restarted worker another
        verdict). Ids are read only where event times tie."""
        events = self._event[rows]
        order = np.argsort(events, kind="stable")
        rows, events = rows[order], events[order]
        if rows.size > 1 and bool((events[1:] == events[:-1]).any()):
            rows = np.array(sorted(rows.tolist(),
                                   key=lambda r: (int(self._event[r]), self._id_of(r))),
                            dtype=rows.dtype)
        return rows

    def members(self, root: str) -> list[IndexEntry]:
        """Duplicates whose root is ``root`` (the root itself excluded), by ``order_key``."""
        rows = self._lookup_one(self._string_key(self._member_space, root))
        entries = [self._entry(r) for r in rows]
        return sorted((e for e in entries if e.root == root and not e.is_kept),
                      key=lambda e: e.order_key)

    def expire(self, now_ms: int, window_ms: int) -> list[str]:
        """Remove entries seen before ``now_ms - window_ms``; returns their ids."""
        cutoff = now_ms - window_ms
        if not self._live or cutoff <= self._min_seen:
            return []
        n = self._rows
        live = self._state[:n] != 0
        rows = np.nonzero(live & (self._seen[:n] < cutoff))[0]
        doomed = sorted((int(self._seen[r]), self._id_of(int(r))) for r in rows)
        for _, article_id in doomed:  # not remove(): no need to decode what expires
            slot, row = self._row_of(article_id)
            self._free_row(row, slot)
            self._compact_spill()
        live = self._state[:n] != 0
        self._min_seen = int(self._seen[:n][live].min()) if live.any() else _INT64[1]
        return [article_id for _, article_id in doomed]

    def stats(self) -> IndexStats:
        """Entries, pairs, and the bytes held by arrays and packed rows (not the allocator's);
        ``spilled_bytes``: those in the spill's segments, not counted in ``approx_bytes``."""
        columns = (self._sig, self._hash_hi, self._hash_lo, self._event, self._seen,
                   self._shingles, self._source, self._idh, self._state, self._cold)
        used = sum(c.nbytes // max(1, self._capacity) * self._rows for c in columns)
        total = used + self._pairs.nbytes + self._ids.nbytes + self._blob_bytes
        total += 8 * len(self._blobs) + 100 * len(self._pairs.levels)
        total += 120 * (len(self._pairs) - sum(level.size for level in self._pairs.levels))
        spilled = self._spill.held_bytes if self._spill is not None else 0
        return IndexStats(self._live, len(self._pairs), total, spilled_bytes=spilled,
                          spill_errors=self.spill_errors)

    # -- rows -----------------------------------------------------------------------------
    def _id_of(self, row: int) -> str:
        blob = self._blobs[row]
        if blob is None:
            raise KeyError(row)
        return blob_id(blob)

    def _row_of(self, article_id: str) -> tuple[int, int]:
        return self._ids.find(article_id, id_hash(article_id), self._idh)

    def _alloc_row(self, signature: Any) -> int:
        if self._width == 0:
            self._width = int(np.asarray(signature).size)
            if self._width < self._bands * self._band_width:
                raise ValueError(f"signatures of {self._width} values are shorter than "
                                 f"{self._bands} bands x {self._band_width} rows")
            self._grow(_INITIAL_ROWS)
        if not self._free:
            self._release_quarantine()
        if self._free:
            return self._free.pop()
        if self._rows == self._capacity:
            self._grow(max(_INITIAL_ROWS, self._capacity * 2))
        self._rows += 1
        return self._rows - 1

    def _release_quarantine(self) -> None:
        quarantine = self._quarantine
        if len(quarantine) * _QUARANTINE_SHARE > max(self._rows, 1024 * _QUARANTINE_SHARE):
            self._pairs.compact(self._state)
        clean = self._pairs.clean_since()
        while quarantine and quarantine[0][0] < clean:
            self._free.append(quarantine.popleft()[1])

    def _grow(self, capacity: int) -> None:
        """Grow every column into fresh zeroed arrays, copying the rows in use.

        Not ``ndarray.resize``: it zero-fills the new capacity, so every page of it became
        resident at once and a doubled column cost its full size in RSS before a row was
        written (at 10 M entries the 16.7 M-row capacity: 1,380 B of RSS per entry for 974 B
        of data). ``np.zeros`` maps untouched pages lazily, so only the rows written count.
        """
        def grown(array: Any, shape: tuple[int, ...]) -> Any:
            fresh = np.zeros(shape, dtype=array.dtype)
            if array.size:
                fresh[: array.shape[0]] = array
            return fresh

        self._sig = grown(self._sig, (capacity, self._width))
        self._hash_hi = grown(self._hash_hi, (capacity,))
        self._hash_lo = grown(self._hash_lo, (capacity,))
        self._event = grown(self._event, (capacity,))
        self._seen = grown(self._seen, (capacity,))
        self._shingles = grown(self._shingles, (capacity,))
        self._source = grown(self._source, (capacity,))
        self._idh = grown(self._idh, (capacity,))
        self._state = grown(self._state, (capacity,))
        self._cold = grown(self._cold, (capacity,))
        self._blobs.extend([None] * (capacity - len(self._blobs)))
        self._capacity = capacity

    def _write_row(self, row: int, entry: IndexEntry, hashed: int) -> None:
        fp = entry.fingerprint
        overrides: dict[str, Any] = {}
        signature = fp.signature
        if not (isinstance(signature, np.ndarray) and signature.dtype == np.uint32
                and signature.shape == (self._width,)):
            if np.asarray(signature).size != self._width:
                raise ValueError(f"signature of {np.asarray(signature).size} values; this "
                                 f"index holds {self._width}")
            overrides["signature"] = signature
        self._sig[row] = np.asarray(signature).astype("<u4", copy=False)
        parsed = _parse_hash(fp.content_hash)
        if parsed is None:
            overrides["content_hash"] = fp.content_hash
            parsed = (0, 0)
        self._hash_hi[row], self._hash_lo[row] = parsed
        self._event[row] = _int64(entry.event_time_ms, "event_time_ms", overrides)
        self._seen[row] = _int64(entry.seen_at_ms, "seen_at_ms", overrides)
        self._shingles[row] = _int64(fp.shingle_count, "shingle_count", overrides)
        self._source[row] = self._intern(entry.source)
        self._idh[row] = hashed
        self._state[row] = _LIVE_ESTIMATE_ONLY if estimate_only(entry) else 1
        extras = tuple(getattr(entry, name) for name in EXTRA_FIELDS)
        rare = pack_rare(extras, overrides)
        self._cold[row] = 0
        if rare and self._spill is not None and len(rare) <= _spillable(self._spill):
            try:
                self._cold[row] = _pack_cold(self._spill.append(rare), len(rare))
                rare = b""
            except OSError as exc:
                self._spill_failed(exc)
        blob = pack_strings(entry.id, entry.root, entry.origin, entry.superseded_by, rare)
        self._blobs[row] = blob
        self._blob_bytes += len(blob) + 33
        self._live += 1
        self._min_seen = min(self._min_seen, int(self._seen[row]))

    def _free_row(self, row: int, slot: int) -> None:
        self._ids.delete(slot, self._idh)
        self._state[row] = 0
        self._release_cold(row)
        blob = self._blobs[row]
        self._blob_bytes -= len(blob) + 33 if blob is not None else 0
        self._blobs[row] = None
        self._decoded.pop(row, None)
        self._live -= 1
        self._quarantine.append((self._pairs.epoch, row))

    def _entry(self, row: int) -> IndexEntry:
        """The entry of a live row (frozen: a cached one is shared by every caller)."""
        decoded = self._decoded
        entry = decoded.get(row)
        if entry is not None:
            decoded.move_to_end(row)
            return entry
        entry = self._decode(row)
        decoded[row] = entry
        if len(decoded) > DECODED_CACHE_ENTRIES:
            decoded.popitem(last=False)
        return entry

    def _decode(self, row: int) -> IndexEntry:
        blob = self._blobs[row]
        if blob is None:
            raise KeyError(row)
        article_id, root, origin, superseded_by, rare = unpack_strings(blob)
        cold = int(self._cold[row])
        if cold:
            rare = self._spill_read(cold)
        extras, overrides = unpack_rare(rare)
        content_hash = overrides.get("content_hash")
        if content_hash is None:
            content_hash = f"{int(self._hash_hi[row]):016x}{int(self._hash_lo[row]):016x}"
        signature = overrides.get("signature")
        if signature is None:
            signature = self._sig[row].copy()
        fingerprint = Fingerprint(
            content_hash=content_hash,
            signature=signature,
            shingle_count=overrides.get("shingle_count", int(self._shingles[row])),
        )
        return IndexEntry(
            id=article_id,
            event_time_ms=overrides.get("event_time_ms", int(self._event[row])),
            fingerprint=fingerprint,
            root=root,
            source=self._sources[int(self._source[row])],
            seen_at_ms=overrides.get("seen_at_ms", int(self._seen[row])),
            superseded_by=superseded_by,
            origin=origin,
            **dict(zip(EXTRA_FIELDS, extras, strict=True)),
        )

    # -- the spill ----------------------------------------------------------------------
    def _load_blobs(self, lengths: list[int], data: bytes) -> None:
        """The packed rows of a snapshot (``-1``: a free row), their rare fields spilled."""
        spill = self._spill
        self._cold = np.zeros(len(lengths), dtype=np.uint64)
        blobs: list[bytes | None] = []
        at = 0
        spilled_rows: list[int] = []
        rares: list[bytes] = []
        for row, length in enumerate(lengths):
            if length < 0:
                blobs.append(None)
                continue
            blob = data[at:at + length]
            at += length
            if spill is not None:
                strings, rare = split_rare(blob)
                if rare and len(rare) <= _spillable(spill):
                    blob = strings
                    spilled_rows.append(row)
                    rares.append(rare)
            blobs.append(blob)
        if rares:
            assert spill is not None
            try:
                offsets = spill.append_many(rares)
            except OSError as exc:  # all of them back on the heap
                self._spill_failed(exc)
                for row, rare in zip(spilled_rows, rares, strict=True):
                    blobs[row] = blobs[row] + rare  # type: ignore[operator]
            else:
                self._cold[spilled_rows] = (np.array(offsets, dtype=np.uint64)
                                            << np.uint64(_COLD_SIZE_BITS)
                                            | np.array([len(r) for r in rares],
                                                       dtype=np.uint64))
        self._blobs = blobs
        self._blob_bytes = sum(len(b) + 33 for b in blobs if b is not None)

    def _spill_read(self, cold: int) -> bytes:
        assert self._spill is not None
        return self._spill.read(*_unpack_cold(cold))

    def _whole_rows(self, blobs: list[bytes | None]) -> list[bytes | None]:
        """``blobs`` (rows ``0..``) with their spilled bytes appended: each segment read once."""
        assert self._spill is not None
        spill = self._spill
        cold = self._cold[: len(blobs)]
        rows = np.nonzero(cold)[0]
        offsets = cold[rows] >> np.uint64(_COLD_SIZE_BITS)
        sizes = (cold[rows] & np.uint64(_COLD_SIZE_MASK)).astype(np.int64)
        segments = (offsets // np.uint64(spill.segment_bytes)).astype(np.int64)
        positions = (offsets % np.uint64(spill.segment_bytes)).astype(np.int64)
        whole = list(blobs)
        order = np.argsort(segments, kind="stable")
        for segment in np.unique(segments).tolist():
            data = spill.read_segment(segment)
            chosen = order[np.searchsorted(segments[order], segment, side="left"):
                           np.searchsorted(segments[order], segment, side="right")]
            for row, at, size in zip(rows[chosen].tolist(), positions[chosen].tolist(),
                                     sizes[chosen].tolist(), strict=True):
                whole[row] = whole[row] + data[at:at + size]
        return whole

    def _release_cold(self, row: int) -> None:
        cold = int(self._cold[row])
        if cold:
            assert self._spill is not None
            self._spill.release(*_unpack_cold(cold))
            self._cold[row] = 0

    def _compact_spill(self) -> None:
        """Move the live rows of the spill's emptiest segment to its end, when it asks."""
        spill = self._spill
        if spill is None:
            return
        segment = spill.sparse_segment()
        if segment is None:
            return
        cold = self._cold[: self._rows]
        offsets = cold >> np.uint64(_COLD_SIZE_BITS)
        rows = np.nonzero((cold != 0)
                          & (offsets // np.uint64(spill.segment_bytes) == segment))[0]
        for row in rows.tolist():
            offset, size = _unpack_cold(int(cold[row]))
            try:
                moved = spill.append(spill.read(offset, size))
            except OSError as exc:  # every move so far is complete; the rest can wait
                self._spill_failed(exc)
                return
            spill.release(offset, size)
            self._cold[row] = _pack_cold(moved, size)

    def _spill_failed(self, exc: OSError) -> None:
        if not self.spill_errors:
            log.warning("index spill write failed (%s): rows stay on the heap until it works "
                        "again (ingest_index_spill_errors counts the failures)", exc)
        self.spill_errors += 1

    def close(self) -> None:
        """Close the spill's segments now: an index being replaced (its rows are unreadable
        afterwards)."""
        if self._spill is not None:
            self._spill.close()

    def _intern(self, source: str | None) -> int:
        if source is None:
            return 0
        sid = self._source_ids.get(source)
        if sid is None:
            sid = len(self._sources)
            self._sources.append(source)
            self._source_ids[source] = sid
        return sid

    # -- keys -----------------------------------------------------------------------------
    def _band_values(self, signature: Any) -> U32:
        used = self._bands * self._band_width
        values = np.asarray(signature)[:used].astype("<u4", copy=False)
        return values.reshape(self._bands, self._band_width)

    def _band_keys(self, bands: U32) -> U32:
        # An article's band keys are asked for twice in a row: by its lookup, then by the add
        # of its entry. The last answer is kept, keyed by the band values themselves.
        values = bands.tobytes()
        if self._last_band_keys is not None and self._last_band_keys[0] == values:
            return self._last_band_keys[1].copy()
        shift = np.uint64(64 - self._key_bits)
        low = (band_mix(bands) >> shift).astype(np.uint32)
        spaces = np.arange(self._bands, dtype=np.uint32) << np.uint32(self._key_bits)
        keys = spaces | low
        self._last_band_keys = (values, keys.copy())
        return keys

    def _string_key(self, space: int, text: str) -> int:
        mixed = xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"))
        return (space << self._key_bits) | (mixed >> (64 - self._key_bits))

    def _keys(self, row: int, entry: IndexEntry) -> U32:
        keys = []
        if entry.root != entry.id:
            keys.append(self._string_key(self._member_space, entry.root))
        if not entry.is_looked_up:  # found by id and as a member only
            return np.array(keys, dtype=np.uint32)
        keys.extend(self._string_key(self._hash_space, h) for h in entry.exact_hashes)
        bands = self._band_keys(self._sig[row, : self._bands * self._band_width]
                                .reshape(self._bands, self._band_width))
        return np.concatenate([bands, np.array(keys, dtype=np.uint32)])

    def _lookup_one(self, key: int) -> list[int]:
        _, rows = self._pairs.lookup(np.array([key], dtype=np.uint32))
        return self._live_rows(rows)

    def _live_rows(self, rows: U32) -> list[int]:
        """Distinct rows of a pair-table answer that are still live, ascending (a lookup may
        return pairs of rows since freed)."""
        return sorted({int(r) for r in rows.tolist() if self._state[r] != 0})

    # -- snapshots ----------------------------------------------------------------------
    def export_state(self) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
        """Arrays and plain metadata that :meth:`from_state` turns back into this index.

        The arrays are copies where the index keeps mutating them (the pairs) and views of
        the columns otherwise: write them before the index changes again.
        """
        n = self._rows
        blobs = self._blobs[:n]
        if self._spill is not None:
            blobs = self._whole_rows(blobs)
        lengths = np.fromiter((-1 if b is None else len(b) for b in blobs), dtype=np.int64,
                              count=n)
        data = np.frombuffer(b"".join(b for b in blobs if b is not None), dtype=np.uint8)
        arrays: dict[str, npt.NDArray[Any]] = {
            "signatures": self._sig[:n], "hash_hi": self._hash_hi[:n],
            "hash_lo": self._hash_lo[:n], "event_ms": self._event[:n], "seen_ms": self._seen[:n],
            "shingles": self._shingles[:n], "source": self._source[:n], "id_hash": self._idh[:n],
            "state": self._state[:n], "pairs": self._pairs.export(), "blob_lengths": lengths,
            "blob_data": data,
        }
        meta = {"rows": n, "live": self._live, "width": self._width,
                "sources": self._sources[1:], "bands": self._bands, "band_rows": self._band_width}
        return arrays, meta

    @classmethod
    def from_state(cls, lsh: LSHConfig, arrays: dict[str, npt.NDArray[Any]],
                   meta: dict[str, Any], *, spill: Spill | None = None) -> CompactIndex:
        """The index :meth:`export_state` described; ValueError when the parts disagree.

        With ``spill``, the rows' rare fields move there as they are read.
        """
        if (meta["bands"], meta["band_rows"]) != (lsh.bands, lsh.rows):
            raise ValueError("snapshot of another LSH banding")
        index = cls(lsh, spill=spill)
        n = int(meta["rows"])
        lengths = arrays["blob_lengths"]
        state = np.ascontiguousarray(arrays["state"], dtype=np.uint8)
        if lengths.size != n or state.size != n or arrays["signatures"].shape[0] != n:
            raise ValueError("snapshot arrays of inconsistent lengths")
        if not np.array_equal(lengths >= 0, state != 0):
            raise ValueError("snapshot rows and their packed strings disagree")
        if (lengths[state != 0] < MIN_PACKED_BYTES).any():
            raise ValueError("snapshot rows shorter than a packed row")
        data = arrays["blob_data"].tobytes()
        if int(lengths[lengths > 0].sum()) != len(data):
            raise ValueError("snapshot packed strings of the wrong total length")
        index._width = int(meta["width"])
        index._capacity = n
        index._rows = n
        index._sig = np.ascontiguousarray(arrays["signatures"], dtype=np.uint32)
        index._hash_hi = np.ascontiguousarray(arrays["hash_hi"], dtype=np.uint64)
        index._hash_lo = np.ascontiguousarray(arrays["hash_lo"], dtype=np.uint64)
        index._event = np.ascontiguousarray(arrays["event_ms"], dtype=np.int64)
        index._seen = np.ascontiguousarray(arrays["seen_ms"], dtype=np.int64)
        index._shingles = np.ascontiguousarray(arrays["shingles"], dtype=np.int64)
        index._source = np.ascontiguousarray(arrays["source"], dtype=np.uint32)
        index._idh = np.ascontiguousarray(arrays["id_hash"], dtype=np.uint32)
        index._state = state
        index._load_blobs(lengths.tolist(), data)
        index._sources = [None, *meta["sources"]]
        index._source_ids = {source: i for i, source in enumerate(index._sources)
                             if source is not None}
        if int(index._source.max(initial=0)) >= len(index._sources):
            raise ValueError("snapshot rows name unknown sources")
        index._live = int((state != 0).sum())
        if index._live != int(meta["live"]):
            raise ValueError("snapshot live-row count disagrees with its rows")
        index._pairs = PairTable.from_sorted(np.ascontiguousarray(arrays["pairs"],
                                                                  dtype=np.uint64), state)
        # Every dead row's pairs were just dropped: all of them may be reused.
        index._free = np.nonzero(state == 0)[0].tolist()[::-1]
        live = state != 0
        index._min_seen = int(index._seen[live].min()) if index._live else _INT64[1]
        index._ids.rebuild(index._idh, state)
        return index


def _spillable(spill: Spill) -> int:
    """The largest rare fields a row spills (more stay on the heap)."""
    return min(spill.max_bytes, _COLD_SIZE_MASK)


def _parse_hash(content_hash: str) -> tuple[int, int] | None:
    """The two 64-bit halves of a canonical xxh3-128 hex digest; None for anything else."""
    if len(content_hash) != 32:
        return None
    try:
        value = int(content_hash, 16)
    except ValueError:
        return None
    if f"{value:032x}" != content_hash:
        return None
    return value >> 64, value & 0xFFFFFFFFFFFFFFFF


def _int64(value: int, name: str, overrides: dict[str, Any]) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]:
        return value
    overrides[name] = value
    return 0
