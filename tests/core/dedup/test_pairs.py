"""The band tables' multimap (streams.core.dedup.pairs) against a plain model: a dict of sets."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.dedup.pairs import (
    _DIRECTORY_MIN,
    _WINDOW,
    PairTable,
    _level,
    _lookup_level,
    drop_dead,
    merge_sorted,
    pack,
)

ROWS = 64


def lookup(table: PairTable, keys: list[int]) -> list[tuple[int, int]]:
    """(key, row) pairs a lookup returns, sorted."""
    positions, rows = table.lookup(np.array(keys, dtype=np.uint32))
    return sorted((keys[p], int(r)) for p, r in zip(positions.tolist(), rows.tolist(),
                                                     strict=True))


# One operation: ("add", keys) maps them to the next row; ("kill", row); ("flush",);
# ("compact",).
_OPS = st.lists(st.one_of(
    st.tuples(st.just("add"), st.lists(st.integers(0, 20), min_size=1, max_size=6)),
    st.tuples(st.just("kill"), st.integers(0, ROWS - 1)),
    st.tuples(st.just("flush")),
    st.tuples(st.just("compact")),
), max_size=60)


@settings(max_examples=150, deadline=None)
@given(_OPS, st.integers(2, 9), st.integers(2, 4))
def test_lookups_return_every_live_pair_and_only_pairs_once_added(
    ops: list[tuple[Any, ...]], buffer_pairs: int, ratio: int
) -> None:
    table = PairTable(buffer_pairs, ratio)
    alive = np.ones(ROWS, dtype=np.uint8)
    added: set[tuple[int, int]] = set()
    row = 0
    for op in ops:
        if op[0] == "add" and row < ROWS:
            keys = list(dict.fromkeys(op[1]))
            table.add(np.array(keys, dtype=np.uint32), row, alive)
            added.update((key, row) for key in keys)
            row += 1
        elif op[0] == "kill":
            alive[op[1]] = 0
        elif op[0] == "flush":
            table.flush(alive)
        elif op[0] == "compact":
            table.compact(alive)
            # a compaction leaves no dead row's pair anywhere
            assert all(alive[r] for _, r in lookup(table, list(range(21))))
        found = lookup(table, list(range(21)))
        assert len(found) == len(set(found))  # a pair is held once
        assert set(found) <= added
        assert {(k, r) for k, r in added if alive[r]} <= set(found)
        assert len(table) >= len({(k, r) for k, r in added if alive[r]})
    exported = table.export().tolist()
    assert exported == sorted(exported)
    assert {(p >> 32, p & 0xFFFFFFFF) for p in exported} == set(lookup(table, list(range(21))))


def test_a_level_large_enough_for_a_directory_and_a_key_past_the_window() -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 2**32, size=_DIRECTORY_MIN * 2, dtype=np.uint64)
    keys[: _WINDOW * 3] = 12345  # one key held by 72 rows: past the gathered window
    rows = np.arange(keys.size, dtype=np.uint64)
    alive = np.ones(keys.size, dtype=np.uint8)
    table = PairTable.from_sorted(np.sort(pack(keys, rows)), alive)
    assert table.levels[0].directory is not None
    found = lookup(table, [12345, int(keys[-1]), 7])
    expected = {(12345, r) for r in range(_WINDOW * 3)}
    expected |= {(int(keys[-1]), r) for r in np.flatnonzero(keys == keys[-1]).tolist()}
    expected |= {(7, r) for r in np.flatnonzero(keys == 7).tolist()}
    assert set(found) == expected and len(found) == len(expected)
    alive[: _WINDOW] = 0
    table.compact(alive)
    assert set(lookup(table, [12345])) == {(12345, r) for r in range(_WINDOW, _WINDOW * 3)}


def one_key_a_row(rows: int) -> tuple[PairTable, np.ndarray]:  # type: ignore[type-arg]
    """A table of two-pair buffers and ratio 2 after ``rows`` rows of one key each (the key
    is the row number), and its rows' liveness (all alive)."""
    table = PairTable(buffer_pairs=2, ratio=2)
    alive = np.ones(32, dtype=np.uint8)
    for row in range(rows):
        table.add(np.array([row], dtype=np.uint32), row, alive)
    return table, alive


def test_levels_grow_by_the_ratio_and_each_rewrite_advances_the_epoch() -> None:
    table, alive = one_key_a_row(12)
    # capacities 4, 8, 16: the sixth flush carries 6 + 6 pairs past the second level
    assert [level.size for level in table.levels] == [0, 0, 12]
    assert len(table) == 12 and table.nbytes == 12 * 8
    before = table.clean_since()
    alive[0] = 0
    table.compact(alive)
    assert table.clean_since() > before
    assert len(table) == 11
    assert table.export().tolist() == sorted((r << 32) | r for r in range(1, 12))


def test_dead_rows_are_dropped_in_place_and_merges_keep_order() -> None:
    pairs = np.array([(1 << 32) | 0, (1 << 32) | 1, (2 << 32) | 2], dtype=np.uint64)
    alive = np.array([1, 0, 1], dtype=np.uint8)
    assert drop_dead(pairs.copy(), alive).tolist() == [(1 << 32) | 0, (2 << 32) | 2]
    assert drop_dead(pairs.copy(), np.ones(3, dtype=np.uint8)).tolist() == pairs.tolist()
    def big() -> np.ndarray:  # type: ignore[type-arg]
        return np.array([1, 4, 9], dtype=np.uint64)  # merges grow it in place

    assert merge_sorted(big(), np.array([0, 4, 10], dtype=np.uint64)).tolist() == [
        0, 1, 4, 4, 9, 10]
    assert merge_sorted(np.empty(0, dtype=np.uint64), big()).tolist() == [1, 4, 9]
    kept = big()
    assert merge_sorted(kept, np.empty(0, dtype=np.uint64)) is kept


def test_every_rewrite_is_an_epoch_and_clean_since_is_the_oldest_rewrite() -> None:
    table = PairTable(buffer_pairs=2, ratio=2)
    alive = np.ones(32, dtype=np.uint8)
    assert (table.epoch, table.buffer_written_at, table.clean_since()) == (0, 0, 0)
    table.flush(alive)  # an empty buffer is rewritten too
    assert (table.epoch, table.clean_since()) == (1, 1)
    states = []
    for row in range(6):
        table.add(np.array([row], dtype=np.uint32), row, alive)
        states.append((table.epoch, table.buffer_written_at, table.clean_since(),
                       [(level.size, level.written_at) for level in table.levels]))
    assert states == [
        (1, 1, 1, []), (3, 2, 2, [(2, 3)]), (3, 2, 2, [(2, 3)]), (5, 4, 4, [(4, 5)]),
        (5, 4, 4, [(4, 5)]), (8, 6, 6, [(0, 7), (6, 8)])]
    table.compact(alive)
    assert (table.epoch, table.buffer_written_at, table.clean_since()) == (11, 9, 9)
    assert [(level.size, level.written_at) for level in table.levels] == [(0, 10), (6, 11)]
    loaded = PairTable.from_sorted(np.array([5, 9], dtype=np.uint64), alive, buffer_pairs=3)
    assert (loaded.epoch, loaded.buffer_written_at, loaded.buffer_pairs) == (1, 1, 3)
    assert [(level.size, level.written_at) for level in loaded.levels] == [(2, 1)]


def test_lookups_are_positions_as_int64_and_rows_as_uint32_wherever_the_pairs_are() -> None:
    alive = np.ones(10_000, dtype=np.uint8)
    empty = PairTable()
    keys = np.array([3, 4], dtype=np.uint32)
    buffered = PairTable(buffer_pairs=100)
    buffered.add(keys, 1, alive)
    levelled = PairTable(buffer_pairs=2)
    levelled.add(keys, 1, alive)
    big = np.sort(pack(np.arange(5_000, dtype=np.uint64) % 300, np.arange(5_000)))
    directory = PairTable.from_sorted(big, alive)
    for table in (empty, buffered, levelled, directory):
        positions, rows = table.lookup(keys)
        assert (positions.dtype, rows.dtype) == (np.int64, np.uint32)
    assert directory.lookup(np.array([299], dtype=np.uint32))[1].tolist() == list(
        range(299, 5_000, 300))
    assert levelled.export().dtype == np.uint64 and buffered.export().tolist() == [
        (3 << 32) | 1, (4 << 32) | 1]


@pytest.mark.parametrize("size", [_DIRECTORY_MIN - 1, _DIRECTORY_MIN])
def test_a_directory_from_its_size_on_with_a_bucket_per_eight_pairs(size: int) -> None:
    keys = np.arange(size, dtype=np.uint64) * 7  # small keys: the top buckets stay empty
    level = PairTable.from_sorted(np.sort(pack(keys, np.arange(size))),
                                  np.ones(size, dtype=np.uint8)).levels[0]
    if size < _DIRECTORY_MIN:
        assert level.directory is None
        return
    assert level.directory is not None and level.directory.dtype == np.uint32
    assert level.bucket_shift == 64 - 9 and level.directory.size == 2**9 + 1  # 4096 / 8
    assert level.directory[-1] == size


def test_merges_and_drops_of_arrays_that_do_not_own_their_data() -> None:
    owner = np.array([0, 1, 4, 9, 99], dtype=np.uint64)
    view = owner[1:4]
    assert merge_sorted(view, np.array([2, 10], dtype=np.uint64)).tolist() == [1, 2, 4, 9, 10]
    assert owner.tolist() == [0, 1, 4, 9, 99]  # the view's owner is left alone
    pairs = np.array([(1 << 32) | 0, (1 << 32) | 1, (1 << 32) | 2, 7], dtype=np.uint64)[:3]
    assert drop_dead(pairs, np.array([1, 0, 1], dtype=np.uint8)).tolist() == [
        (1 << 32) | 0, (1 << 32) | 2]


def test_the_highest_row_number_is_found_in_a_level_and_past_a_window() -> None:
    last = 0xFFFFFFFF
    pairs = np.sort(pack(np.array([5, 5, 6], dtype=np.uint64),
                         np.array([1, last, 2], dtype=np.uint64)))
    table = PairTable(buffer_pairs=100)
    table.levels.append(_level(pairs, 1))
    assert lookup(table, [5, 6]) == [(5, 1), (5, last), (6, 2)]
    # a directory bucket holding another key first, then more than a window of this one
    keys = np.concatenate([np.full(10, 7), np.full(_WINDOW + 10, 8),
                           np.arange(100, 100 + _DIRECTORY_MIN)]).astype(np.uint64)
    rows = np.arange(keys.size, dtype=np.uint64)
    rows[10 + _WINDOW + 9] = last
    big = PairTable(buffer_pairs=100)
    big.levels.append(_level(np.sort(pack(keys, rows)), 1))
    assert big.levels[0].directory is not None
    found = lookup(big, [8])
    assert len(found) == _WINDOW + 10 and (8, last) in found


def test_a_merge_of_views_keeps_every_bit_of_the_pairs() -> None:
    owner = pack(np.array([1, 2, 3, 4], dtype=np.uint64) << np.uint64(20),
                 np.array([7, 8, 9, 10], dtype=np.uint64))
    merged = merge_sorted(owner[1:3], np.array([owner[0] + 1], dtype=np.uint64))
    assert merged.tolist() == [int(owner[0]) + 1, int(owner[1]), int(owner[2])]


def test_drops_and_merges_of_more_than_a_block() -> None:
    size = (1 << 20) + 5  # a block of numpy work and five more pairs
    pairs = np.arange(size, dtype=np.uint64) * 2  # row = the even number's low bits
    alive = np.zeros(2 * size, dtype=np.uint8)
    alive[[0, 2, 2 * (size - 1)]] = 1  # rows in the first block and in the last
    assert drop_dead(pairs.copy(), alive).tolist() == [0, 2, 2 * (size - 1)]
    merged = merge_sorted(pairs.copy(), np.array([1, 2 * size + 1], dtype=np.uint64))
    assert merged.size == size + 2 and merged[1] == 1 and merged[-1] == 2 * size + 1
    assert bool(np.all(merged[:-1] <= merged[1:]))


def test_a_key_given_twice_maps_to_its_row_twice_in_the_buffer_and_after() -> None:
    table = PairTable(buffer_pairs=100)
    alive = np.ones(4, dtype=np.uint8)
    table.add(np.array([5, 5], dtype=np.uint32), 1, alive)
    assert lookup(table, [5]) == [(5, 1), (5, 1)]
    table.flush(alive)
    assert lookup(table, [5]) == [(5, 1), (5, 1)]


def test_a_carry_stops_at_the_first_level_with_room() -> None:
    table, _ = one_key_a_row(18)
    # after [0, 0, 12], three more flushes: 6 pairs carried into the empty second level (8)
    assert [level.size for level in table.levels] == [0, 6, 12]
    # an empty level and a level without the key answer nothing, in the answer's types
    for level in table.levels[:2]:
        positions, rows = _lookup_level(level, np.array([100 << 32], dtype=np.uint64))
        assert (positions.tolist(), rows.tolist()) == ([], [])
        assert (positions.dtype, rows.dtype) == (np.int64, np.uint32)
    positions, rows = table.lookup(np.array([100, 13], dtype=np.uint32))
    assert (positions.tolist(), rows.tolist()) == ([1], [13])
    assert (positions.dtype, rows.dtype) == (np.int64, np.uint32)


def test_a_bucket_past_the_window_with_another_key_first() -> None:
    """The window covers the other key's pairs only; the rest of the bucket is searched."""
    keys = np.concatenate([np.full(30, 7), np.full(5, 8),
                           np.arange(1_000, 1_000 + _DIRECTORY_MIN)]).astype(np.uint64)
    keys[-1] = 0xFFFFFFFF  # the last directory bucket's key
    table = PairTable(buffer_pairs=100)
    table.levels.append(_level(np.sort(pack(keys, np.arange(keys.size))), 1))
    positions, rows = table.lookup(np.array([3, 8], dtype=np.uint32))
    assert (positions.tolist(), rows.tolist()) == ([1] * 5, list(range(30, 35)))
    assert (positions.dtype, rows.dtype) == (np.int64, np.uint32)
    assert lookup(table, [0xFFFFFFFF]) == [(0xFFFFFFFF, keys.size - 1)]


def test_a_level_of_more_than_a_block_has_every_pair_in_its_directory() -> None:
    size = (1 << 20) + 100
    keys = np.arange(size, dtype=np.uint64) * 4000  # spread over the directory's buckets
    table = PairTable.from_sorted(pack(keys, np.arange(size)), np.ones(size, dtype=np.uint8))
    assert lookup(table, [0, 4000 * 5, 4000 * (size - 1)]) == [
        (0, 0), (4000 * 5, 5), (4000 * (size - 1), size - 1)]
