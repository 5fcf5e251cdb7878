"""A compact multimap from 32-bit keys to 32-bit row numbers: the band tables of the index.

Each (key, row) pair is one uint64, ``key << 32 | row``, kept in sorted numpy arrays of
geometrically growing sizes (a leveled log-structured merge tree) behind a small dict of the
most recent pairs. A lookup costs one dict probe per key plus, per level, a directory read
and one fixed-width window gather: O(levels) numpy calls whatever the size, and two or
three cache lines per key instead of a binary search's ~25 (measured on this machine: a
32-key ``searchsorted`` into 32 M pairs takes 230 us, 27x the cost on 1,000).

Pairs are never deleted one by one. The owner marks rows dead (``alive[row] == 0``) and
callers validate what a lookup returns against the row's current content; merges drop the
pairs of dead rows. A dead row may be reused once every structure that could still hold one
of its pairs has been rewritten since it died (:meth:`PairTable.clean_since`), so a stale
pair can never point at a reused row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

_ROW_MASK = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
_BLOCK = 1 << 20  # pairs moved per numpy call in merges: bounds temporaries at ~8-16 MB
_BUCKET_TARGET = 8  # mean pairs per directory bucket (0.5 B of directory per pair)
_WINDOW = 24  # pairs gathered per key and level; Poisson(8) exceeds 24 with p ~ 1e-6
_DIRECTORY_MIN = 4096  # smaller levels are binary-searched: they stay in cache
BUFFER_PAIRS = 65_536  # pairs held in the dict before they become a sorted level
LEVEL_RATIO = 8  # each level holds up to 8x the one above


@dataclass(slots=True)
class Level:
    """One sorted run of packed pairs with its bucket directory."""

    pairs: U64
    written_at: int  # epoch of the merge that wrote it
    directory: U32 | None = None
    bucket_shift: int = 64

    @property
    def size(self) -> int:
        return int(self.pairs.size)


def pack(keys: U32 | U64, rows: U32 | U64 | I64) -> U64:
    return (keys.astype(np.uint64) << _SHIFT) | rows.astype(np.uint64)


class PairTable:
    """Multimap of uint32 keys to uint32 rows; see the module docstring."""

    def __init__(self, buffer_pairs: int = BUFFER_PAIRS, ratio: int = LEVEL_RATIO) -> None:
        self.buffer_pairs = buffer_pairs
        self.ratio = ratio
        self.epoch = 0  # counts rewrites; the buffer is rewritten at every flush
        self.buffer_written_at = 0
        self._buffer: dict[int, int | list[int]] = {}  # for lookups
        self._keys: list[int] = []  # the same pairs in arrival order, for the flush
        self._key_rows: list[int] = []
        self._buffered = 0
        self.levels: list[Level] = []  # smallest first

    def __len__(self) -> int:
        return self._buffered + sum(level.size for level in self.levels)

    @property
    def nbytes(self) -> int:
        """Bytes of the sorted levels and their directories (the dict buffer excluded)."""
        return sum(
            level.pairs.nbytes + (level.directory.nbytes if level.directory is not None else 0)
            for level in self.levels
        )

    def add(self, keys: U32, row: int, alive: U8) -> None:
        """Map every key in ``keys`` to ``row``."""
        buffer = self._buffer
        listed = keys.tolist()
        self._keys.extend(listed)
        self._key_rows.extend([row] * len(listed))
        if buffer.keys().isdisjoint(listed) and len(set(listed)) == len(listed):
            buffer.update(dict.fromkeys(listed, row))
        else:
            for key in listed:
                bucket = buffer.get(key)
                if bucket is None:
                    buffer[key] = row
                elif isinstance(bucket, int):
                    buffer[key] = [bucket, row]
                else:
                    bucket.append(row)
        self._buffered += len(listed)
        if self._buffered >= self.buffer_pairs:
            self.flush(alive)

    def lookup(self, keys: U32) -> tuple[I64, U32]:
        """``(positions, rows)``: ``rows[i]`` is mapped from ``keys[positions[i]]``.

        May include rows since marked dead or reused: callers validate.
        """
        positions: list[int] = []
        rows: list[int] = []
        for position, key in enumerate(keys.tolist()):
            bucket = self._buffer.get(key)
            if bucket is None:
                continue
            if isinstance(bucket, int):
                positions.append(position)
                rows.append(bucket)
            else:
                positions.extend([position] * len(bucket))
                rows.extend(bucket)
        found_positions = [np.array(positions, dtype=np.int64)]
        found_rows = [np.array(rows, dtype=np.uint32)]
        if self.levels:
            wanted = keys.astype(np.uint64) << _SHIFT
            for level in self.levels:
                level_positions, level_rows = _lookup_level(level, wanted)
                found_positions.append(level_positions)
                found_rows.append(level_rows)
        if len(found_positions) == 1:
            return found_positions[0], found_rows[0]
        return np.concatenate(found_positions), np.concatenate(found_rows)

    def flush(self, alive: U8) -> None:
        """Turn the dict buffer into a sorted level, merging levels that overflow."""
        if not self._buffered:
            self.buffer_written_at = self.epoch = self.epoch + 1
            return
        carry = np.sort(pack(np.array(self._keys, dtype=np.uint64),
                             np.array(self._key_rows, dtype=np.uint64)))
        self._buffer = {}
        self._keys, self._key_rows = [], []
        self._buffered = 0
        self.epoch += 1
        self.buffer_written_at = self.epoch
        self.insert_sorted(carry, alive)

    def insert_sorted(self, carry: U64, alive: U8) -> None:
        """Merge sorted packed pairs into the levels (bulk loads and flushes)."""
        carry = drop_dead(carry, alive)
        depth = 0
        capacity = self.buffer_pairs * self.ratio
        while True:
            self.epoch += 1
            if depth == len(self.levels):
                self.levels.append(_level(carry, self.epoch))
                return
            level = self.levels[depth]
            merged = merge_sorted(drop_dead(level.pairs, alive), carry)
            level.pairs = np.empty(0, dtype=np.uint64)
            if merged.size <= capacity:
                self.levels[depth] = _level(merged, self.epoch)
                return
            self.levels[depth] = _level(np.empty(0, dtype=np.uint64), self.epoch)
            carry = merged
            depth += 1
            capacity *= self.ratio

    def compact(self, alive: U8) -> None:
        """Drop dead rows' pairs everywhere (buffer included): every structure is rewritten."""
        self.flush(alive)
        for index, level in enumerate(self.levels):
            self.epoch += 1
            pairs, level.pairs = level.pairs, np.empty(0, dtype=np.uint64)
            self.levels[index] = _level(drop_dead(pairs, alive), self.epoch)

    def clean_since(self) -> int:
        """Every pair of a row that died before this epoch has been dropped."""
        oldest = self.buffer_written_at
        for level in self.levels:
            oldest = min(oldest, level.written_at)
        return oldest

    # -- snapshots ----------------------------------------------------------------------
    def export(self) -> U64:
        """All pairs, sorted, buffer included (duplicates impossible: rows are never re-added)."""
        parts = [level.pairs for level in self.levels if level.size]
        if self._buffered:
            parts.append(np.sort(pack(np.array(self._keys, dtype=np.uint64),
                                      np.array(self._key_rows, dtype=np.uint64))))
        result = np.empty(0, dtype=np.uint64)
        for part in sorted(parts, key=lambda p: p.size):
            result = merge_sorted(result, part) if result.size else part.copy()
        return result

    @classmethod
    def from_sorted(cls, pairs: U64, alive: U8, buffer_pairs: int = BUFFER_PAIRS) -> PairTable:
        table = cls(buffer_pairs)
        if pairs.size:
            table.epoch = 1
            table.levels.append(_level(drop_dead(pairs, alive), table.epoch))
        table.buffer_written_at = table.epoch
        return table


def drop_dead(pairs: U64, alive: U8) -> U64:
    """``pairs`` without those whose row is dead, compacted in place (no full-size copy)."""
    write = 0
    block = pairs[:0]
    for start in range(0, pairs.size, _BLOCK):
        block = pairs[start:start + _BLOCK]
        keep = alive[(block & _ROW_MASK).astype(np.intp)].astype(bool)
        kept = block[keep]
        pairs[write:write + kept.size] = kept
        write += kept.size
    del block  # no view may outlive a resize
    if write == pairs.size:
        return pairs
    return _resized(pairs, write)


def merge_sorted(big: U64, small: U64) -> U64:
    """Merge two sorted arrays, growing ``big`` in place (it must own its data).

    The elements of ``big`` move right by the number of ``small`` elements that sort before
    them; moving blocks from the end never overwrites an element not yet moved, so the only
    temporaries are one block and ``small``'s positions.
    """
    if small.size == 0:
        return big
    if big.size == 0:
        return small.copy()
    n, k = big.size, small.size
    inserted_at = np.searchsorted(big, small, side="right")
    big = _resized(big, n + k)
    end = n
    while end > 0:
        start = max(0, end - _BLOCK)
        sources = np.arange(start, end, dtype=np.int64)
        shift = np.searchsorted(inserted_at, sources, side="right")
        big[sources + shift] = big[start:end].copy()
        end = start
    big[inserted_at + np.arange(k, dtype=np.int64)] = small
    return big


def _resized(array: U64, size: int) -> U64:
    """``array`` with ``size`` elements; realloc (mremap for large blocks) instead of a copy."""
    if array.base is None and array.flags.owndata:
        array.resize(size, refcheck=False)
        return array
    resized = np.empty(size, dtype=array.dtype)
    keep = min(size, array.size)
    resized[:keep] = array[:keep]
    return resized


def _level(pairs: U64, written_at: int) -> Level:
    level = Level(pairs, written_at)
    if pairs.size >= _DIRECTORY_MIN:
        bits = max(1, int(np.ceil(np.log2(pairs.size / _BUCKET_TARGET))))
        level.bucket_shift = 64 - bits
        counts = np.zeros(1 << bits, dtype=np.int64)
        shift = np.uint64(level.bucket_shift)
        for start in range(0, pairs.size, _BLOCK):
            buckets = (pairs[start:start + _BLOCK] >> shift).astype(np.intp)
            counts += np.bincount(buckets, minlength=1 << bits)
        directory = np.zeros((1 << bits) + 1, dtype=np.uint32)
        np.cumsum(counts, out=directory[1:], dtype=np.uint32)
        level.directory = directory
    return level


def _lookup_level(level: Level, wanted: U64) -> tuple[I64, U32]:
    """Positions of ``wanted`` (keys shifted left 32) and the rows they map to in ``level``."""
    pairs = level.pairs
    if pairs.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
    if level.directory is None:
        starts = np.searchsorted(pairs, wanted, side="left")
        ends = np.searchsorted(pairs, wanted | _ROW_MASK, side="right")
    else:
        buckets = (wanted >> np.uint64(level.bucket_shift)).astype(np.intp)
        starts = level.directory[buckets].astype(np.int64)
        ends = level.directory[buckets + 1].astype(np.int64)
    spans = ends - starts
    if not spans.any():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
    width = min(_WINDOW, int(spans.max()))
    index = starts[:, None] + np.arange(width, dtype=np.int64)
    inside = index < ends[:, None]
    values = pairs[np.minimum(index, pairs.size - 1)]
    hit = inside & ((values & ~_ROW_MASK) == wanted[:, None])
    positions = np.nonzero(hit)[0]
    rows = (values[hit] & _ROW_MASK).astype(np.uint32)
    overflow = np.nonzero(spans > width)[0]
    if overflow.size == 0:
        return positions.astype(np.int64), rows
    # A bucket longer than the window: a key shared by many rows (copies of one story).
    extra_positions = [positions.astype(np.int64)]
    extra_rows = [rows]
    for position in overflow.tolist():
        start, end = int(starts[position]) + width, int(ends[position])
        segment = pairs[start:end]
        lo = np.searchsorted(segment, wanted[position], side="left")
        hi = np.searchsorted(segment, wanted[position] | _ROW_MASK, side="right")
        extra_rows.append((segment[lo:hi] & _ROW_MASK).astype(np.uint32))
        extra_positions.append(np.full(hi - lo, position, dtype=np.int64))
    return np.concatenate(extra_positions), np.concatenate(extra_rows)
