"""The spill keeps the compact index's cold bytes off the heap; answers never change."""

from __future__ import annotations

import dataclasses
import errno
import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.index import FingerprintIndex
from streams.core.dedup.model import IndexEntry
from streams.core.dedup.rows import pack_strings, split_rare
from streams.core.dedup.spill import MemorySegments, Spill
from tests.core.dedup.helpers import CONFIG
from tests.core.dedup.test_compact_index import (
    entry,
    random_operations,
    round_trip,
    sample_outcomes,
    wire,
)


def test_appended_ranges_read_back_and_fill_segments_in_order() -> None:
    storage = MemorySegments()
    spill = Spill(storage, segment_bytes=10)
    offsets = [spill.append(data) for data in (b"abcd", b"efgh", b"ij", b"klmnopqrst")]
    # the third fills segment 0 to its end; the fourth does not fit there: segment 1
    assert offsets == [0, 4, 8, 10]
    assert [spill.read(o, n) for o, n in zip(offsets, (4, 4, 2, 10), strict=True)] == [
        b"abcd", b"efgh", b"ij", b"klmnopqrst"]
    assert (spill.live_bytes, spill.held_bytes) == (20, 20)
    assert sorted(storage.segments) == [0, 1]


def test_a_segment_is_dropped_once_all_its_bytes_are_released_and_its_number_reused() -> None:
    storage = MemorySegments()
    spill = Spill(storage, segment_bytes=8)
    a, b, c = spill.append(b"aaaa"), spill.append(b"bbbb"), spill.append(b"cccc")
    spill.release(a, 4)
    assert sorted(storage.segments) == [0, 1]  # half of segment 0 still live
    spill.release(b, 4)
    assert sorted(storage.segments) == [1]
    assert (spill.live_bytes, spill.held_bytes) == (4, 4)
    spill.release(c, 4)
    assert sorted(storage.segments) == [1]  # the segment being written stays
    d = spill.append(b"dddd")
    assert d == 12
    spill.release(d, 4)
    assert spill.append(b"eeeeeeee") == 0  # segment 1 is full and dead: dropped, 0 reused
    assert sorted(storage.segments) == [0]
    assert spill.read(0, 8) == b"eeeeeeee"


def test_the_sparse_segment_is_named_only_when_dead_bytes_outweigh_live_ones() -> None:
    spill = Spill(MemorySegments(), segment_bytes=4)
    offsets = [spill.append(b"xxxx") for _ in range(8)]  # segments 0..7, 7 being written
    for offset in offsets[:5]:
        spill.release(offset, 4)
    # segments 0..4 dropped: nothing dead is held
    assert (spill.live_bytes, spill.held_bytes, spill.sparse_segment()) == (12, 12, None)
    spill = Spill(MemorySegments(), segment_bytes=8)
    halves = [spill.append(b"yyyy") for _ in range(16)]  # segments 0..7, two ranges each
    for offset in halves[0:14:2]:  # one range of each closed segment
        spill.release(offset, 4)
    # dead 28 <= max(live 36, 2 segments 16): not yet
    assert spill.sparse_segment() is None
    spill.release(halves[15], 4)
    spill.release(halves[14], 4)  # segment 7 is dead but being written: kept
    spill.release(halves[13], 4)  # segment 6 empties and is dropped
    spill.release(halves[11], 4)  # segment 5 too
    # live 20 (segments 0-4, 4 B each); dead 28 (4 B of each, and segment 7) > max(20, 16)
    assert (spill.live_bytes, spill.held_bytes - spill.live_bytes) == (20, 28)
    assert spill.sparse_segment() == 0  # closed ones all hold 4 live bytes: the lowest


def test_the_threshold_and_the_choice_of_the_sparse_segment() -> None:
    spill = Spill(MemorySegments(), segment_bytes=4)
    offsets = [spill.append(b"x") for _ in range(13)]  # segments 0-2 full, 3 being written
    for offset in offsets[0:2] + offsets[4:7] + offsets[8:11]:
        spill.release(offset, 1)
    # live 2 + 1 + 1 + 1 = 5, dead 8: not more than max(live, two segments) = 8
    assert (spill.live_bytes, spill.held_bytes - spill.live_bytes) == (5, 8)
    assert spill.sparse_segment() is None
    spill.release(offsets[12], 1)  # the segment being written is dead, but it stays
    # dead 9 > max(4, 8): the emptiest closed segment (1 and 2 hold 1 B; the lower number)
    assert (spill.live_bytes, spill.held_bytes - spill.live_bytes) == (4, 9)
    assert spill.sparse_segment() == 1


def test_a_segment_of_one_byte_is_allowed() -> None:
    spill = Spill(MemorySegments(), segment_bytes=1)
    assert [spill.append(b"a"), spill.append(b"b")] == [0, 1]
    assert spill.read(1, 1) == b"b"


def test_memory_segments_refuse_a_write_that_is_not_at_their_end() -> None:
    segments = MemorySegments()
    segments.create(0)
    with pytest.raises(ValueError, match=r"^segment 0: write at 5, end is 0$"):
        segments.write(0, 5, b"x")


def test_ranges_outside_one_segment_are_refused() -> None:
    spill = Spill(MemorySegments(), segment_bytes=8)
    with pytest.raises(ValueError, match="1 to 8 bytes"):
        spill.append(b"")
    with pytest.raises(ValueError, match="1 to 8 bytes"):
        spill.append(b"123456789")
    with pytest.raises(ValueError, match="positive"):
        Spill(MemorySegments(), segment_bytes=0)


def test_a_short_read_is_an_error_not_a_wrong_row() -> None:
    spill = Spill(MemorySegments(), segment_bytes=8)
    offset = spill.append(b"abc")
    with pytest.raises(OSError, match="read 3 of 5 bytes"):
        spill.read(offset, 5)


@given(st.tuples(st.text(max_size=20), st.one_of(st.none(), st.text(max_size=20)),
                 st.text(max_size=20), st.one_of(st.none(), st.text(max_size=20))),
       st.binary(max_size=40))
@settings(max_examples=200, deadline=None)
def test_split_rare_cuts_a_packed_row_where_its_rare_fields_begin(
    strings: tuple[str, str | None, str, str | None], rare: bytes,
) -> None:
    article_id, other_root, origin, superseded_by = strings
    root = article_id if other_root is None else other_root
    strings = pack_strings(article_id, root, origin, superseded_by)
    assert split_rare(pack_strings(article_id, root, origin, superseded_by, rare)) == (
        strings, rare)


def spilled_index(
    segment_bytes: int, storage: MemorySegments | None = None
) -> tuple[CompactIndex, Spill, MemorySegments]:
    storage = MemorySegments() if storage is None else storage
    spill = Spill(storage, segment_bytes=segment_bytes)
    return CompactIndex(CONFIG.lsh, buffer_pairs=128, spill=spill), spill, storage


def add_revised(index: CompactIndex, count: int = 90) -> list[IndexEntry]:
    """``count`` entries added to ``index``, each with a revision: rare fields that spill, the
    same pickle size for all."""
    entries = [dataclasses.replace(entry(f"a{k}", k), revision=2) for k in range(count)]
    for e in entries:
        index.add(e)
    return entries


SPILL_FAILED = ("index spill write failed ([Errno 28] No space left on device): rows stay on "
                "the heap until it works again (ingest_index_spill_errors counts the failures)")


@pytest.mark.parametrize("segment_bytes", [64, 4096])
def test_a_spilled_index_answers_like_the_reference(segment_bytes: int) -> None:
    index, spill, storage = spilled_index(segment_bytes)
    assert random_operations(index, 5, 3_000) == random_operations(
        FingerprintIndex(CONFIG.lsh), 5, 3_000)
    # every row with rare fields that fit a segment has them in the spill; larger ones (a
    # revision's hash and the one with learned boilerplate: 95 bytes) stay on the heap
    rows = [r for r in range(index._rows) if index._blobs[r] is not None]
    assert any(index._cold[r] for r in rows)
    on_heap = [len(rare) for r in rows
               if (rare := split_rare(index._blobs[r])[1])]  # type: ignore[arg-type]
    assert all(size > min(segment_bytes, spill.max_bytes) for size in on_heap)
    assert spill.live_bytes == sum(int(index._cold[r]) & 0xFFFFFF for r in rows)
    # freed rows gave their bytes back: what is held is bounded by the live bytes
    assert spill.held_bytes <= max(2 * spill.live_bytes, spill.live_bytes + 3 * segment_bytes)
    assert sum(len(segment) for segment in storage.segments.values()) == spill.held_bytes
    assert index.stats().spilled_bytes == spill.held_bytes


def test_rows_move_out_of_sparse_segments_and_still_decode() -> None:
    index, spill, storage = spilled_index(256)
    entries = add_revised(index)
    size = spill.live_bytes // len(entries)  # every row spills the same pickle
    assert spill.live_bytes == size * len(entries)
    assert 256 // size >= 3  # each segment holds rows of all three thirds
    before = len(storage.segments)
    placed = {e.id: int(index._cold[index._row_of(e.id)[1]]) for e in entries}
    for e in entries[::3] + entries[1::3]:  # out of order: every segment keeps a third
        index.remove(e.id)
    kept = entries[2::3]
    assert any(int(index._cold[index._row_of(e.id)[1]]) != placed[e.id] for e in kept)
    # once dead bytes outweighed live ones, rows moved and emptied segments were dropped
    assert len(storage.segments) < before
    assert spill.live_bytes == size * len(kept)
    assert spill.held_bytes - spill.live_bytes <= max(spill.live_bytes, 2 * 256)
    for e in kept:
        assert wire(index.get(e.id)) == wire(e)
    assert all(index.get(e.id) is None for e in entries[::3] + entries[1::3])


def test_a_snapshot_of_a_spilled_index_equals_one_of_a_heap_index() -> None:
    heap = CompactIndex(CONFIG.lsh, buffer_pairs=128)
    spilled, _, _ = spilled_index(256)
    random_operations(heap, 6, 1_500)
    random_operations(spilled, 6, 1_500)
    arrays, meta = heap.export_state()
    spilled_arrays, spilled_meta = spilled.export_state()
    assert meta == spilled_meta
    assert arrays.keys() == spilled_arrays.keys()
    for name, array in arrays.items():
        assert array.tobytes() == spilled_arrays[name].tobytes(), name
    # restored into a spill or onto the heap, both answer alike from there on
    storage = MemorySegments()
    into_spill = round_trip(heap, spill=Spill(storage, segment_bytes=256))
    onto_heap = round_trip(heap)
    assert storage.segments
    assert random_operations(into_spill, 7, 800) == random_operations(onto_heap, 7, 800)


def test_deduplicator_outcomes_with_and_without_the_spill_are_identical() -> None:
    lsh = CoreConfig().dedup.lsh
    storage = MemorySegments()
    spilled = CompactIndex(lsh, spill=Spill(storage, segment_bytes=512))
    assert sample_outcomes(CompactIndex(lsh)) == sample_outcomes(spilled)
    assert storage.segments  # the samples' profiles went to the spill


class FlakySegments(MemorySegments):
    """Memory segments whose writes (or creations) fail with ENOSPC while ``full``."""

    def __init__(self) -> None:
        super().__init__()
        self.full = False
        self.failures = 0

    def _check(self) -> None:
        if self.full:
            self.failures += 1
            raise OSError(errno.ENOSPC, "No space left on device")

    def create(self, segment: int) -> None:
        self._check()
        super().create(segment)

    def write(self, segment: int, position: int, data: bytes) -> None:
        self._check()
        super().write(segment, position, data)


def test_a_failing_spill_keeps_rows_on_the_heap_and_answers_stay_right(
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = FlakySegments()
    index, spill, _ = spilled_index(128, storage)
    reference = FingerprintIndex(CONFIG.lsh)

    class Toggling:  # full for steps 300-900 of the sequence
        calls = 0

    original_add = index.add

    def add(entry: object) -> None:
        Toggling.calls += 1
        storage.full = 300 <= Toggling.calls < 900
        original_add(entry)  # type: ignore[arg-type]

    index.add = add  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING):
        assert random_operations(index, 9, 3_000) == random_operations(reference, 9, 3_000)
    assert index.spill_errors == storage.failures > 0  # one per failed write
    assert index.stats().spill_errors == index.spill_errors
    assert [r.message for r in caplog.records].count(SPILL_FAILED) == 1
    rows = [r for r in range(index._rows) if index._blobs[r] is not None]
    heap_rows = [r for r in rows if split_rare(index._blobs[r])[1]]  # type: ignore[arg-type]
    assert all(not index._cold[r] for r in heap_rows)
    assert spill.live_bytes == sum(int(index._cold[r]) & 0xFFFFFF for r in rows)


def test_a_snapshot_loads_onto_the_heap_when_the_spill_cannot_be_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heap = CompactIndex(CONFIG.lsh, buffer_pairs=128)
    random_operations(heap, 6, 600)
    storage = FlakySegments()
    storage.full = True
    with caplog.at_level(logging.WARNING):
        loaded = round_trip(heap, spill=Spill(storage))
    assert loaded.spill_errors == 1 and not loaded._cold.any()
    assert [r.message for r in caplog.records] == [SPILL_FAILED]
    assert random_operations(loaded, 7, 400) == random_operations(heap, 7, 400)


def test_append_many_writes_each_segment_once() -> None:
    writes: list[tuple[int, int, int]] = []

    class Counting(MemorySegments):
        def write(self, segment: int, position: int, data: bytes) -> None:
            writes.append((segment, position, len(data)))
            super().write(segment, position, data)

    spill = Spill(Counting(), segment_bytes=10)
    assert spill.append(b"ab") == 0
    offsets = spill.append_many([b"cdef", b"ghij", b"klm", b"nopqrstuvw", b"x"])
    assert offsets == [2, 6, 10, 20, 30]
    assert writes == [(0, 0, 2), (0, 2, 8), (1, 0, 3), (2, 0, 10), (3, 0, 1)]
    assert [spill.read(o, n) for o, n in zip(offsets, (4, 4, 3, 10, 1), strict=True)] == [
        b"cdef", b"ghij", b"klm", b"nopqrstuvw", b"x"]
    assert spill.read_segment(0) == b"abcdefghij"
    assert (spill.live_bytes, spill.held_bytes) == (24, 24)


def test_close_gives_every_segment_back() -> None:
    index, spill, storage = spilled_index(64)
    random_operations(index, 5, 300)
    assert storage.segments
    index.close()
    assert (storage.segments, spill.live_bytes, spill.held_bytes) == ({}, 0, 0)


def test_expiry_frees_rows_without_decoding_them() -> None:
    index, _, _ = spilled_index(256)
    for k in range(50):
        index.add(dataclasses.replace(entry(f"e{k}", k, seen_at_ms=k), revision=2))

    def refuse(row: int) -> object:
        raise AssertionError(f"row {row} decoded")

    index._decode = refuse  # type: ignore[assignment,method-assign]
    assert index.expire(now_ms=1_000 + 30, window_ms=1_000) == [f"e{k}" for k in range(30)]
    assert len(index) == 20


def test_a_compaction_moves_the_rows_of_the_sparse_segment_only() -> None:
    index, _, _ = spilled_index(256)
    entries = add_revised(index)
    moved_from: list[set[int]] = []
    for e in entries[::3] + entries[1::3]:
        before = index._cold[: index._rows].copy()
        index.remove(e.id)
        after = index._cold[: index._rows]
        changed = np.nonzero((before != after) & (after != 0))[0]
        moved_from.append({int(before[r] >> np.uint64(24)) // 256 for r in changed})
    assert any(moved_from)  # compactions happened, each taking rows from one segment only
    assert all(len(segments) <= 1 for segments in moved_from)


def test_a_compaction_that_cannot_write_logs_the_error_and_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = FlakySegments()
    index, _, _ = spilled_index(256, storage)
    entries = add_revised(index)
    storage.full = True  # removals only release: the compactions are what write
    with caplog.at_level(logging.WARNING):
        for e in entries[::3] + entries[1::3]:
            index.remove(e.id)
    assert index.spill_errors == storage.failures > 0
    assert [r.message for r in caplog.records] == [SPILL_FAILED]
    assert all(wire(index.get(e.id)) == wire(e) for e in entries[2::3])


@pytest.mark.parametrize(("spare", "spilled"), [(0, True), (-1, False)])
def test_rare_fields_spill_up_to_exactly_the_largest_range_one_append_takes(
    spare: int, spilled: bool,
) -> None:
    revised = dataclasses.replace(entry("a", 1), revision=2)
    heap = CompactIndex(CONFIG.lsh)
    heap.add(revised)
    size = len(split_rare(heap._blobs[0])[1])  # type: ignore[arg-type]
    index = CompactIndex(CONFIG.lsh, spill=Spill(MemorySegments(), segment_bytes=size + spare))
    index.add(revised)
    assert bool(index._cold[0]) is spilled
    arrays, meta = heap.export_state()  # and so does a snapshot's row on load
    loaded = CompactIndex.from_state(CONFIG.lsh, arrays, meta,
                                     spill=Spill(MemorySegments(), segment_bytes=size + spare))
    assert bool(loaded._cold[0]) is spilled
    assert wire(index.get("a")) == wire(loaded.get("a")) == wire(revised)
