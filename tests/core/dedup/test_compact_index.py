"""The compact backend answers every Index call exactly as the reference FingerprintIndex."""

from __future__ import annotations

import dataclasses
import random
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import DECODED_CACHE_ENTRIES, CompactIndex
from streams.core.dedup.config import LSHConfig
from streams.core.dedup.index import FingerprintIndex, Index, IndexStats
from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.dedup.spill import Spill
from streams.core.fingerprint_log import encode_record
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage
from streams.shell.snapshot import SNAPSHOT_VERSION
from tests.core.dedup.helpers import CONFIG, document, edited, fp
from tests.harness import SAMPLES, envelope


def entry(article_id: str, seed: int, seen_at_ms: int = 0, root: str | None = None) -> IndexEntry:
    return IndexEntry(id=article_id, event_time_ms=seed, fingerprint=fp(document(seed)),
                      root=root or article_id, seen_at_ms=seen_at_ms)


def wire(e: IndexEntry | None) -> bytes | None:
    """Every field the log carries: equal bytes mean equal entries."""
    return None if e is None else encode_record(e, (), "")


def round_trip(index: CompactIndex, spill: Spill | None = None) -> CompactIndex:
    """``index`` exported to snapshot arrays (copied: the index may change on) and loaded."""
    arrays, meta = index.export_state()
    return CompactIndex.from_state(CONFIG.lsh, {k: v.copy() for k, v in arrays.items()}, meta,
                                   spill=spill)


def test_add_get_and_replace() -> None:
    index = CompactIndex(CONFIG.lsh)
    first = entry("a", 1)
    index.add(first)
    assert len(index) == 1 and "a" in index and "b" not in index
    assert wire(index.get("a")) == wire(first)
    assert [e.id for e in index.by_content_hash(first.fingerprint.content_hash)] == ["a"]
    index.add(entry("a", 2))  # a new fingerprint replaces the old keys
    assert len(index) == 1
    assert index.by_content_hash(first.fingerprint.content_hash) == []
    assert index.candidates(first.fingerprint) == []


def test_members_follow_their_root() -> None:
    index = CompactIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    index.add(entry("b", 2, root="a"))
    index.add(entry("c", 3, root="a"))
    assert [e.id for e in index.members("a")] == ["b", "c"]
    index.add(entry("b", 2, root="z"))
    assert [e.id for e in index.members("a")] == ["c"]
    assert [e.id for e in index.members("z")] == ["b"]
    index.remove("c")
    assert index.members("a") == []


@pytest.mark.parametrize("backend", [CompactIndex, FingerprintIndex])
def test_a_duplicate_that_is_not_searchable_is_found_by_id_and_root_only(
    backend: type[CompactIndex] | type[FingerprintIndex]
) -> None:
    index = backend(CONFIG.lsh)
    index.add(entry("a", 1))
    hidden = dataclasses.replace(entry("b", 1, root="a"), event_time_ms=2, searchable=False)
    index.add(hidden)
    probe = hidden.fingerprint
    assert [e.id for e in index.by_content_hash(probe.content_hash)] == ["a"]
    assert [e.id for e in index.candidates(probe)] == ["a"]
    assert [e.id for e in index.members("a")] == ["b"]
    assert wire(index.get("b")) == wire(hidden)
    index.add(dataclasses.replace(hidden, root="b"))  # kept again: always searchable
    assert [e.id for e in index.candidates(probe)] == ["a", "b"]
    index.add(dataclasses.replace(hidden, searchable=True))
    assert [e.id for e in index.by_content_hash(probe.content_hash)] == ["a", "b"]
    index.add(hidden)
    assert [e.id for e in index.candidates(probe)] == ["a"]
    index.remove("b")
    assert index.members("a") == [] and index.get("b") is None


def test_a_decoded_entry_is_never_served_after_its_row_changed() -> None:
    index = CompactIndex(CONFIG.lsh)
    first = entry("a", 1)
    index.add(first)
    assert index.get("a") is index.get("a")  # decoded once, then cached
    second = entry("a", 1, root="z")
    index.add(second)
    assert wire(index.get("a")) == wire(second)
    index.remove("a")
    assert index.get("a") is None
    index.add(entry("b", 2))  # may reuse a freed row
    assert wire(index.get("b")) == wire(entry("b", 2))


def test_candidates_by_shared_band() -> None:
    index = CompactIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    index.add(entry("b", 2))
    near = fp(edited(document(1), 0.03, seed=9))
    assert [e.id for e in index.candidates(near)] == ["a"]


def test_expire_uses_latest_seen_at() -> None:
    index = CompactIndex(CONFIG.lsh)
    index.add(entry("a", 1, seen_at_ms=1_000))
    index.add(entry("b", 2, seen_at_ms=2_000))
    index.add(dataclasses.replace(entry("b", 2), seen_at_ms=9_000))
    index.add(entry("c", 3, seen_at_ms=1_500))
    assert index.expire(now_ms=10_000, window_ms=6_000) == ["a", "c"]
    assert len(index) == 1 and index.get("a") is None


def test_values_the_columns_cannot_hold_round_trip() -> None:
    index = CompactIndex(CONFIG.lsh)
    odd = dataclasses.replace(
        entry("é/0/1", 1, root="ROOT"),
        event_time_ms=2**63, source="S", superseded_by="x", origin="t/1/2",
        fingerprint=dataclasses.replace(fp(document(1)), content_hash="not-hex",
                                        shingle_count=2**40),
    )
    index.add(odd)
    back = index.get("é/0/1")
    assert back is not None and wire(back) == wire(odd)
    assert [e.id for e in index.by_content_hash("not-hex")] == ["é/0/1"]
    assert index.content_hash("é/0/1") == "not-hex"


def test_the_content_hash_is_read_from_the_columns_without_decoding() -> None:
    index = CompactIndex(CONFIG.lsh)
    first = entry("a", 1)
    zero = dataclasses.replace(entry("z", 2), fingerprint=dataclasses.replace(
        fp(document(2)), content_hash="0" * 32))  # the columns' (0, 0), and still hex
    index.add(first)
    index.add(zero)
    index._decoded.clear()
    assert index.content_hash("a") == first.fingerprint.content_hash
    assert len(index._decoded) == 0  # not decoded
    assert index.content_hash("z") == "0" * 32
    assert index.content_hash("absent") is None


def test_signature_of_another_length_is_refused() -> None:
    index = CompactIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    short = Fingerprint("0" * 32, np.zeros(64, dtype=np.uint32), 10)
    with pytest.raises(ValueError, match="64 values"):
        index.add(IndexEntry("b", 1, short, "b"))


def _even_shingle_counts(rows: Any) -> Any:
    return rows.shingle_counts % 2 == 0


def random_operations(index: Index, seed: int, steps: int) -> list[object]:
    """A seeded mix of every protocol call; returns what each call answered."""
    rng = random.Random(seed)
    fingerprints = [fp(edited(document(i % 40, words=150), 0.03 * (i // 40), seed=i))
                    for i in range(120)]
    ids = [f"id{k}" for k in range(200)]
    answers: list[object] = []
    for step in range(steps):
        roll, article_id = rng.random(), rng.choice(ids)
        if roll < 0.55:
            index.add(IndexEntry(
                id=article_id, event_time_ms=rng.randrange(500),
                fingerprint=rng.choice(fingerprints),
                root=article_id if rng.random() < 0.6 else rng.choice(ids),
                source=rng.choice([None, "s1", "s2"]), seen_at_ms=step,
                superseded_by=rng.choice([None, None, "x"]), origin=f"raw/{step % 4}/{step}",
                searchable=rng.random() < 0.7,
                # the hash with learned boilerplate: another fingerprint's, found exactly too
                full_hash=rng.choice([None, None, rng.choice(fingerprints).content_hash]),
                # a revision: the hash of the version it follows, found exactly too
                previous_hash=rng.choice([None, None, rng.choice(fingerprints).content_hash]),
                # earlier revisions: a rare field like the others, stored and returned whole
                delivered=rng.choice([(), (), ((1, "raw/0/1", "a" * 32, "b" * 32),)])))
        elif roll < 0.7:
            answers.append(wire(index.remove(article_id)))
        elif roll < 0.73:
            answers.append(index.expire(step, 2_000))
        else:
            probe = rng.choice(fingerprints)
            answers.append([wire(e) for e in index.candidates(probe)])
            answers.append(sorted(e.id for e in index.by_content_hash(probe.content_hash)))
            # Both at once, with a filter on the candidates (an even shingle count); the
            # exact matches in any order, as by_content_hash's.
            exact, near = index.lookup(probe, _even_shingle_counts)
            answers.append((sorted(wire(e) for e in exact), [wire(e) for e in near]))
            answers.append([wire(e) for e in index.members(rng.choice(ids))])
            answers.append((wire(index.get(article_id)), article_id in index, len(index)))
            answers.append(index.content_hash(article_id))
    return answers


def test_random_operations_answer_like_the_reference() -> None:
    # A tiny pair buffer: levels, merges, directories and row reuse all happen here.
    compact = CompactIndex(CONFIG.lsh, buffer_pairs=128)
    assert random_operations(compact, 5, 3_000) == random_operations(
        FingerprintIndex(CONFIG.lsh), 5, 3_000)
    assert len(compact._pairs.levels) >= 2


def test_one_lookup_answers_like_the_hash_and_band_lookups_apart() -> None:
    index = CompactIndex(CONFIG.lsh, buffer_pairs=128)
    fingerprints = [fp(edited(document(i % 30, words=150), 0.03 * (i // 30), seed=i))
                    for i in range(90)]
    assert index.lookup(fingerprints[0]) == ([], [])
    for i, fingerprint in enumerate(fingerprints * 2):
        index.add(IndexEntry(f"id{i}", i, fingerprint, f"id{i}", seen_at_ms=i))
    assert len(index._pairs.levels) >= 2  # the lookup reads merged levels and the buffer
    for fingerprint in fingerprints:
        exact, near = index.lookup(fingerprint, _even_shingle_counts)
        assert exact == index.by_content_hash(fingerprint.content_hash)
        assert near == index.candidates(fingerprint, _even_shingle_counts)
        assert len(exact) >= 2  # each fingerprint was added twice


def test_band_keys_asked_twice_are_the_same_and_the_kept_answer_is_not_shared() -> None:
    index = CompactIndex(CONFIG.lsh)
    one = index._band_values(fp(document(1, words=150)).signature)
    two = index._band_values(fp(document(2, words=150)).signature)
    first = index._band_keys(one)
    first[:] = 0  # a caller changing its answer must not change the next one
    again = index._band_keys(one)
    assert again.any() and np.array_equal(again, index._band_keys(one.copy()))
    assert not np.array_equal(index._band_keys(two), again)
    assert np.array_equal(index._band_keys(one), again)


def test_exported_state_restores_an_identical_index() -> None:
    compact = CompactIndex(CONFIG.lsh, buffer_pairs=128)
    random_operations(compact, 6, 1_500)
    restored = round_trip(compact)
    assert random_operations(restored, 7, 800) == random_operations(compact, 7, 800)


def test_inconsistent_state_is_refused() -> None:
    compact = CompactIndex(CONFIG.lsh)
    compact.add(entry("a", 1))
    arrays, meta = compact.export_state()
    arrays["blob_data"] = arrays["blob_data"][:-1]
    with pytest.raises(ValueError, match="total length"):
        CompactIndex.from_state(CONFIG.lsh, arrays, meta)


def sample_outcomes(index: Index) -> list[tuple[object, ...]]:
    """Every output and log record of the samples, in reverse event order, then again."""
    config = CoreConfig()
    raws = [RawMessage("articles.raw", 0, i, None, envelope(path), 1_000 * (5 - i))
            for i, path in enumerate(SAMPLES)]
    dedup = Deduplicator(config, worker="w", index=index)
    outcomes = [dedup.process(raw, 10_000 + n) for n, raw in enumerate(raws + raws)]
    return [(o.verdict, [(x.kind, x.key, x.value) for x in o.outputs],
             [encode_record(r.entry, r.paragraph_keys, r.worker) for r in o.log_records])
            for o in outcomes]


def test_deduplicator_outcomes_are_identical_on_the_samples_and_their_replays() -> None:
    lsh = CoreConfig().dedup.lsh
    results = [sample_outcomes(FingerprintIndex(lsh)), sample_outcomes(CompactIndex(lsh))]
    assert results[0] == results[1]
    # 004 (a copy of 001) comes last but is earliest: kept, and 001 is corrected.
    assert [r[0] for r in results[1][:5]] == ["enriched"] * 5
    # Each sample is earlier than the story's members so far: the story takes its id.
    assert [(kind, key) for kind, key, _ in results[1][4][1]] == [
        ("enriched", SAMPLES[4].stem), ("duplicates", SAMPLES[1].stem),
        ("stories", SAMPLES[3].stem)]


def test_entries_survive_the_columns_growing() -> None:
    index = CompactIndex(CONFIG.lsh)
    entries = [entry(f"e{i}", i, seen_at_ms=i) for i in range(1_100)]  # past 1,024 rows
    for e in entries:
        index.add(e)
    assert len(index) == 1_100
    assert all(wire(index.get(e.id)) == wire(e) for e in entries[::37] + entries[-3:])
    assert [c.id for c in index.candidates(entries[1_050].fingerprint)] == ["e1050"]


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_growing_the_columns_makes_only_written_rows_resident() -> None:
    index = CompactIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    before = _resident_bytes()
    index._grow(1 << 20)  # 1 M rows: 512 MiB of signatures if the new capacity were touched
    assert _resident_bytes() - before < 64 << 20
    assert wire(index.get("a")) == wire(entry("a", 1))


def test_every_field_the_columns_cannot_hold_comes_back_as_given() -> None:
    index = CompactIndex(CONFIG.lsh)
    index.add(entry("first", 1))  # sets the width
    wide = fp(document(2)).signature.astype(np.uint64)  # not uint32: kept as given
    odd = dataclasses.replace(
        entry("odd", 2), seen_at_ms=2**63, source=None,
        fingerprint=Fingerprint("A" * 32, wide, 2**64),  # not canonical hex: kept as given
    )
    index.add(odd)
    back = index.get("odd")
    assert back is not None
    assert (back.seen_at_ms, back.fingerprint.shingle_count, back.fingerprint.content_hash) == (
        2**63, 2**64, "A" * 32)
    assert back.fingerprint.signature.dtype == np.uint64
    assert np.array_equal(back.fingerprint.signature, wide)
    # the columns hold placeholders, and the rest of the row is the real values
    row = index._row_of("odd")[1]
    assert (int(index._seen[row]), int(index._shingles[row])) == (0, 0)
    assert (int(index._hash_hi[row]), int(index._hash_lo[row])) == (0, 0)


def test_a_signature_shorter_than_the_bands_is_refused_with_its_sizes() -> None:
    index = CompactIndex(CONFIG.lsh)  # 32 bands x 4 rows
    short = Fingerprint("0" * 32, np.zeros(64, dtype=np.uint32), 10)
    with pytest.raises(ValueError, match=r"^signatures of 64 values are shorter than 32 "
                                         r"bands x 4 rows$"):
        index.add(IndexEntry("a", 1, short, "a"))


def test_packed_row_bytes_are_counted_exactly() -> None:
    index = CompactIndex(CONFIG.lsh, buffer_pairs=128)
    random_operations(index, 3, 1_500)

    def counted(ix: CompactIndex) -> int:
        return sum(len(b) + 33 for b in ix._blobs if b is not None)

    assert index._blob_bytes == counted(index)
    restored = round_trip(index)
    assert restored._blob_bytes == counted(restored) == index._blob_bytes
    # a free row is exported as length -1
    free = [r for r in range(index._rows) if index._blobs[r] is None]
    lengths = index.export_state()[0]["blob_lengths"]
    assert free and all(int(lengths[r]) == -1 for r in free)


def test_expiry_keeps_track_of_the_oldest_live_row() -> None:
    index = CompactIndex(CONFIG.lsh)
    index.add(entry("kept", 1, seen_at_ms=30))  # kept, no profile: state 2 (estimate only)
    index.add(entry("dup", 2, seen_at_ms=10, root="kept"))  # a duplicate: state 1
    index.add(entry("new", 3, seen_at_ms=50))
    assert sorted(set(index._state[:3].tolist())) == [1, 2]
    assert index.expire(now_ms=1_015, window_ms=1_000) == ["dup"]
    assert index._min_seen == 30  # the oldest live row, whatever its state
    assert index.expire(now_ms=1_031, window_ms=1_000) == ["kept"]
    assert index.expire(now_ms=2_000, window_ms=1_000) == ["new"]
    assert index._min_seen == 2**63 - 1 and len(index) == 0  # nothing live
    index.add(entry("later", 4, seen_at_ms=3_000))
    assert index.expire(now_ms=4_001, window_ms=1_000) == ["later"]


def _two_rows_one_free() -> tuple[dict[str, np.ndarray], dict[str, object]]:
    compact = CompactIndex(CONFIG.lsh)
    compact.add(dataclasses.replace(entry("a", 1, seen_at_ms=5), source="s1"))
    compact.add(entry("b", 2, seen_at_ms=7))
    compact.remove("a")  # row 0 free
    arrays, meta = compact.export_state()
    return {k: v.copy() for k, v in arrays.items()}, meta


def _truncated(name: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def change(arrays: dict[str, Any], meta: dict[str, Any]) -> None:
        arrays[name] = arrays[name][:-1]
    return change


def _set(where: str, key: str, value: object) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def change(arrays: dict[str, Any], meta: dict[str, Any]) -> None:
        if where == "meta":
            meta[key] = value
        else:
            arrays[where][int(key)] = value
    return change


@pytest.mark.parametrize(("change", "message"), [
    (_set("meta", "bands", 16), "snapshot of another LSH banding"),
    (_truncated("blob_lengths"), "snapshot arrays of inconsistent lengths"),
    (_truncated("state"), "snapshot arrays of inconsistent lengths"),
    (_truncated("signatures"), "snapshot arrays of inconsistent lengths"),
    (_set("state", "0", 1), "snapshot rows and their packed strings disagree"),
    (_set("source", "1", 9), "snapshot rows name unknown sources"),
    (_set("source", "1", 2), "snapshot rows name unknown sources"),  # sources: None, s1
    (_set("meta", "live", 2), "snapshot live-row count disagrees with its rows"),
    (_set("blob_lengths", "1", 0), "snapshot rows shorter than a packed row"),
    (_set("blob_lengths", "1", 8), "snapshot rows shorter than a packed row"),  # header: 9
    (_truncated("blob_data"), "snapshot packed strings of the wrong total length"),
])
def test_each_inconsistency_of_a_snapshot_is_refused_with_its_reason(
    change: Callable[[dict[str, Any], dict[str, Any]], None], message: str,
) -> None:
    arrays, meta = _two_rows_one_free()
    CompactIndex.from_state(CONFIG.lsh, dict(arrays), dict(meta))  # as exported: fine
    meta = dict(meta)
    change(arrays, meta)
    with pytest.raises(ValueError, match=f"^{message}$"):
        CompactIndex.from_state(CONFIG.lsh, arrays, meta)


def test_a_restored_index_reuses_free_rows_lowest_first_and_knows_its_oldest_row() -> None:
    compact = CompactIndex(CONFIG.lsh)
    for k in range(4):
        compact.add(entry(f"e{k}", k, seen_at_ms=10 + k))
    compact.remove("e0")
    compact.remove("e2")  # rows 0 and 2 free
    restored = round_trip(compact)
    assert restored._min_seen == 11
    assert restored.expire(now_ms=1_011, window_ms=1_000) == []  # cutoff 11: none older
    restored.add(entry("n1", 9))
    restored.add(entry("n2", 9))
    assert [restored._row_of(i)[1] for i in ("n1", "n2")] == [0, 2]
    assert restored._sources == [None]  # no source was named: nothing interned


def test_int64_columns_keep_values_a_float_would_round() -> None:
    index = CompactIndex(CONFIG.lsh)
    big = dataclasses.replace(
        entry("big", 1), event_time_ms=2**62 + 1, seen_at_ms=2**62 + 3,
        fingerprint=dataclasses.replace(fp(document(1)), shingle_count=2**53 + 1))
    index.add(big)
    back = index.get("big")
    assert back is not None
    assert (back.event_time_ms, back.seen_at_ms, back.fingerprint.shingle_count) == (
        2**62 + 1, 2**62 + 3, 2**53 + 1)
    row = index._row_of("big")[1]
    assert int(index._event[row]) == 2**62 + 1  # in the column, not an override


def test_the_int64_columns_hold_both_ends_of_their_range() -> None:
    index = CompactIndex(CONFIG.lsh)
    index.add(dataclasses.replace(entry("ends", 1), event_time_ms=-(2**63),
                                  seen_at_ms=2**63 - 1))
    row = index._row_of("ends")[1]
    assert (int(index._event[row]), int(index._seen[row])) == (-(2**63), 2**63 - 1)
    back = index.get("ends")
    assert back is not None and (back.event_time_ms, back.seen_at_ms) == (-(2**63), 2**63 - 1)


def test_colliding_pair_keys_never_change_an_answer() -> None:
    # 2-bit keys: every band, content hash and root shares its key with a quarter of the
    # others, so each lookup must sort the real hits from the collisions by itself
    compact = CompactIndex(CONFIG.lsh, buffer_pairs=128)
    compact._key_bits = 2
    assert random_operations(compact, 11, 2_000) == random_operations(
        FingerprintIndex(CONFIG.lsh), 11, 2_000)


def test_pair_keys_are_stable_because_snapshots_persist_them() -> None:
    # A snapshot stores the pair table as computed here and a restored index looks its keys up
    # with the code of the day: a change of band_mix, the key spaces or the string hash would
    # make every restored entry unfindable, so it needs a bump of SNAPSHOT_VERSION
    # (streams/shell/snapshot.py), which makes workers rebuild from the log instead.
    assert SNAPSHOT_VERSION == 4  # the keys below are those of version 4's snapshots
    index = CompactIndex(CONFIG.lsh)  # 32 bands of 4: 26 key bits under 6 bits of space
    signature = (np.arange(128, dtype=np.uint64) * 2654435761 % 2**32).astype(np.uint32)
    duplicate = IndexEntry(id="a", event_time_ms=1, root="r\ud800",  # a lone surrogate
                           fingerprint=Fingerprint("0123456789abcdef" * 2, signature, 10))
    index.add(duplicate)
    assert index._key_bits == 26
    assert index._keys(0, duplicate).tolist() == [  # 32 bands, then member, content hash
        19051734, 130587203, 172154088, 239411420, 292210716, 400243189, 403137086,
        490145876, 571094660, 641409346, 696819434, 744144470, 839930478, 927370174,
        991496107, 1064886701, 1079665269, 1164195449, 1229096619, 1285326555, 1377227680,
        1416424047, 1493775119, 1573525979, 1653734754, 1700856348, 1748181023, 1840302995,
        1891016681, 1980378138, 2035537654, 2081286152, 2280749488, 2147764341]
    assert [e.id for e in index.members("r\ud800")] == ["a"]
    hidden = dataclasses.replace(duplicate, searchable=False)
    assert index._keys(0, hidden).tolist() == [2280749488]  # the member key only
    # an entry fingerprinted without learned boilerplate: its hash with it is a key too
    learned = dataclasses.replace(duplicate, full_hash="fedcba9876543210" * 2)
    assert index._keys(0, learned).tolist()[-3:] == [2280749488, 2147764341, 2176843241]
    # a new revision: the hash of the version it follows is a key too (version 4)
    revised = dataclasses.replace(duplicate, revision=2, previous_hash="fedcba9876543210" * 2)
    assert index._keys(0, revised).tolist()[-3:] == [2280749488, 2147764341, 2176843241]


@pytest.mark.parametrize("bands", [1, 2, 3, 14, 15, 30, 31, 32, 62, 63, 64, 100])
def test_key_spaces_fit_in_the_high_bits_and_leave_every_other_bit_to_the_key(
    bands: int,
) -> None:
    key_bits = CompactIndex(LSHConfig(bands=bands, rows=4))._key_bits
    highest_space = bands + 1  # bands 0..bands-1, content hashes, members
    assert highest_space < 2 ** (32 - key_bits)  # the spaces never overlap
    assert highest_space >= 2 ** (31 - key_bits)  # one more key bit would not fit them


def test_bands_that_use_fewer_values_than_the_signature_answer_like_the_reference() -> None:
    lsh = LSHConfig(bands=30, rows=4)  # 120 of the 128 values
    assert random_operations(CompactIndex(lsh, buffer_pairs=128), 12, 1_500) == (
        random_operations(FingerprintIndex(lsh), 12, 1_500))


def test_sources_are_interned_once_also_after_a_restore() -> None:
    index = CompactIndex(CONFIG.lsh)
    for k, source in enumerate(["s1", "s2", "s1", None, "s2"]):
        index.add(dataclasses.replace(entry(f"e{k}", k), source=source))
    assert index._sources == [None, "s1", "s2"]
    restored = round_trip(index)
    restored.add(dataclasses.replace(entry("e9", 9), source="s1"))
    assert restored._sources == [None, "s1", "s2"]
    assert restored.get("e9").source == "s1"  # type: ignore[union-attr]


@pytest.mark.parametrize("remove", [False, True])
def test_an_index_without_live_rows_restores(remove: bool) -> None:
    index = CompactIndex(CONFIG.lsh)
    if remove:  # rows, all of them free
        index.add(entry("a", 1, seen_at_ms=5))
        index.remove("a")
    restored = round_trip(index)
    assert len(restored) == 0 and restored._min_seen == 2**63 - 1
    restored.add(entry("b", 2, seen_at_ms=7))
    assert wire(restored.get("b")) == wire(entry("b", 2, seen_at_ms=7))


def test_a_snapshot_with_columns_of_other_integer_types_restores_the_same_index() -> None:
    # Each column is cast to the index's type on load: a snapshot whose arrays came back
    # wider (int64, or Python ints for the 64-bit ones) is the same index.
    compact = CompactIndex(CONFIG.lsh, buffer_pairs=128)
    random_operations(compact, 6, 600)
    arrays, meta = compact.export_state()
    widened = {
        name: array.copy() if name.startswith("blob_")
        else array.astype(object) if array.dtype in (np.uint64, np.int64)
        else array.astype(np.int64)
        for name, array in arrays.items()
    }
    restored = CompactIndex.from_state(CONFIG.lsh, widened, meta)
    # Against the same snapshot restored as written (a restore drops freed rows' pairs).
    expected, _ = CompactIndex.from_state(CONFIG.lsh, arrays, meta).export_state()
    again, _ = restored.export_state()
    for name, array in expected.items():
        assert again[name].dtype == array.dtype, name
        assert np.array_equal(again[name], array), name
    assert random_operations(restored, 7, 400) == random_operations(compact, 7, 400)


def _many_rows(count: int) -> CompactIndex:
    index = CompactIndex(CONFIG.lsh)  # default pair buffer: nothing flushes on its own
    fingerprint = fp(document(1))
    for k in range(count):
        index.add(IndexEntry(f"e{k}", 1, fingerprint, f"e{k}"))
    return index


def test_decoded_entries_are_cached_least_recently_used_first_out() -> None:
    ids = [f"e{k}" for k in range(DECODED_CACHE_ENTRIES + 1)]
    index = _many_rows(len(ids))  # ids e0, e1, ...
    # decoded in order: the 1,025th evicts the least recently used, e0, and only it
    first = {article_id: index.get(article_id) for article_id in ids}
    assert index.get(ids[1]) is first[ids[1]]  # still cached: the cache holds 1,024
    assert index.get(ids[0]) is not first[ids[0]]  # decoded again
    assert index.get(ids[-1]) is first[ids[-1]]  # the most recent stays


@pytest.mark.parametrize(("removed", "compacted"), [(100, False), (1_024, False),
                                                     (1_025, True)])
def test_rows_waiting_for_their_pairs_are_reclaimed_once_more_than_1024_wait(
    removed: int, compacted: bool,
) -> None:
    # 1,100 rows: the threshold is max(rows, 16,384) / 16 = 1,024 waiting rows
    index = _many_rows(1_100)
    for k in range(removed):
        index.remove(f"e{k}")
    assert len(index._quarantine) == removed and not index._free
    index.add(entry("new", 2))
    # compaction rewrites the pairs, every waiting row is free, and the new entry takes one
    assert index._rows == (1_100 if compacted else 1_101)
    assert len(index._free) == (removed - 1 if compacted else 0)
    assert wire(index.get("new")) == wire(entry("new", 2))
    assert sorted(e.id for e in index.candidates(entry("x", 1).fingerprint)) == sorted(
        f"e{k}" for k in range(removed, 1_100))


def test_columns_double_when_full() -> None:
    index = _many_rows(1_025)
    assert index._capacity == 2_048 and len(index._blobs) == 2_048
    assert index._sig.shape == (2_048, 128)


def test_stats_count_columns_in_use_pairs_ids_and_packed_rows() -> None:
    empty = CompactIndex(CONFIG.lsh)
    assert empty.stats() == IndexStats(0, 0, empty._ids.nbytes)
    index = CompactIndex(CONFIG.lsh, buffer_pairs=128)
    for k in range(50):  # 33 pairs each: two levels and 66 pairs in the buffer
        index.add(entry(f"e{k}", k))
    index.remove("e3")
    pairs = index._pairs
    assert len(pairs.levels) >= 2 and pairs._buffered > 0 and pairs.nbytes > 0
    per_row = 128 * 4 + 8 + 8 + 8 + 8 + 8 + 4 + 4 + 1 + 8  # signature ... state, spill pointer
    packed = sum(len(b) + 33 for b in index._blobs if b is not None)
    assert index.stats() == IndexStats(
        entries=49, band_keys=len(pairs),
        approx_bytes=per_row * 50 + pairs.nbytes + index._ids.nbytes + packed
        + 8 * 1_024 + 100 * len(pairs.levels) + 120 * pairs._buffered,
        spilled_bytes=0, spill_errors=0)
    one = CompactIndex(CONFIG.lsh)
    one.add(entry("a", 1))
    restored = round_trip(one)  # its columns hold exactly one row
    assert isinstance(index.stats().approx_bytes, int)
    pairs = restored._pairs
    assert restored._capacity == 1 and len(pairs.levels) == 1
    assert restored.stats() == IndexStats(
        1, 33, per_row + pairs.nbytes + restored._ids.nbytes
        + len(restored._blobs[0]) + 33 + 8 + 100)  # type: ignore[arg-type]


def test_the_id_table_keeps_one_slot_per_id_as_it_grows() -> None:
    # The table grows (a rebuild from the live rows) while an add is inserting its id: the
    # new row is live by then, and the insert must find it rather than take a second slot.
    index = _many_rows(600)  # past 512 ids: the table grows at least once
    ids = [f"e{k}" for k in range(600)]
    assert index._ids.count == len(index) == 600
    for article_id in ids:
        assert index.remove(article_id) is not None
    assert index._ids.count == len(index) == 0


def test_a_row_of_nothing_but_its_header_restores() -> None:
    index = CompactIndex(CONFIG.lsh)
    bare = IndexEntry(id="", event_time_ms=1, fingerprint=fp(document(1)), root="", origin="")
    index.add(bare)
    arrays, meta = index.export_state()
    assert arrays["blob_lengths"].tolist() == [9]  # the shortest packed row
    restored = CompactIndex.from_state(CONFIG.lsh, {k: v.copy() for k, v in arrays.items()},
                                       meta)
    assert wire(restored.get("")) == wire(bare)


def test_an_entry_is_found_by_its_signature_whatever_its_integer_type() -> None:
    # A signature that is not uint32 is kept as given; its bands are compared as uint32 (the
    # values wrap), on the probe as in the matrix, so the entry is its own candidate.
    index = CompactIndex(CONFIG.lsh)
    index.add(entry("first", 1))
    values = fp(document(2)).signature.astype(np.int64)
    values[::3] -= 2**32  # negative
    values[1::3] += 2**32  # past uint32
    odd = dataclasses.replace(entry("odd", 2), fingerprint=Fingerprint("b" * 32, values, 10))
    index.add(odd)
    assert [e.id for e in index.candidates(odd.fingerprint)] == ["odd"]
    back = index.get("odd")
    assert back is not None and np.array_equal(back.fingerprint.signature, values)
