from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pytest

from streams.core.dedup import index as index_module
from streams.core.dedup.index import FingerprintIndex, IndexStats
from streams.core.dedup.model import Fingerprint, IndexEntry, Profile
from tests.core.dedup.helpers import CONFIG, document, edited, fp


def entry(article_id: str, seed: int, seen_at_ms: int = 0, root: str | None = None) -> IndexEntry:
    return IndexEntry(
        id=article_id,
        event_time_ms=seed,
        fingerprint=fp(document(seed)),
        root=root or article_id,
        seen_at_ms=seen_at_ms,
    )


def test_add_and_get() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    first = entry("a", 1)
    index.add(first)
    assert len(index) == 1
    assert index.get("a") is first
    assert index.get("b") is None
    assert index.by_content_hash(first.fingerprint.content_hash) == [first]


def test_add_is_idempotent_by_id_and_replaces() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    index.add(entry("a", 1))
    assert len(index) == 1
    index.add(entry("b", 1))
    index.add(entry("b", 1, root="a"))  # the shell re-indexes b when its root changes
    assert len(index) == 2
    assert index.get("b") is not None and index.get("b").root == "a"  # type: ignore[union-attr]
    assert [e.id for e in index.members("a")] == ["b"]


def test_replacing_with_new_fingerprint_drops_old_keys() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    old = entry("a", 1)
    index.add(old)
    index.add(entry("a", 2))
    assert index.by_content_hash(old.fingerprint.content_hash) == []
    assert index.candidates(old.fingerprint) == []


def test_candidates_by_band_keys() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    index.add(entry("b", 2))
    near = fp(edited(document(1), 0.03, seed=9))
    assert [e.id for e in index.candidates(near)] == ["a"]


def test_expire_removes_entries_seen_before_window() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("a", 1, seen_at_ms=1_000))
    index.add(entry("b", 2, seen_at_ms=5_000))
    assert index.expire(now_ms=10_000, window_ms=6_000) == ["a"]
    assert len(index) == 1
    assert index.get("a") is None
    assert index.candidates(fp(document(1))) == []


def test_expire_uses_latest_seen_at_of_replaced_entry() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("a", 1, seen_at_ms=1_000))
    index.add(dataclasses.replace(entry("a", 1), seen_at_ms=9_000))
    assert index.expire(now_ms=10_000, window_ms=6_000) == []
    assert len(index) == 1


def test_remove_unlinks_members() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    index.add(entry("b", 2, root="a"))
    index.remove("b")
    assert index.members("a") == []


def test_stats_report_bytes_per_entry() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    for i in range(50):
        index.add(entry(f"id{i}", i))
    stats = index.stats()
    assert stats.entries == 50
    assert stats.band_keys == 50 * CONFIG.lsh.bands
    assert 1_000 < stats.bytes_per_entry < 6_000


def test_expire_keeps_an_entry_seen_exactly_at_the_cutoff() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("at", 1, seen_at_ms=4_000))
    index.add(entry("before", 2, seen_at_ms=3_999))
    assert index.expire(now_ms=10_000, window_ms=6_000) == ["before"]  # cutoff 4,000
    assert [e.id for e in index.candidates(fp(document(1)))] == ["at"]
    assert index.expire(now_ms=10_001, window_ms=6_000) == ["at"]
    assert len(index) == 0


def same_content(article_id: str, seen_at_ms: int = 0, root: str | None = None) -> IndexEntry:
    """Entries of one text: the same content hash and band keys, told apart by id."""
    return dataclasses.replace(entry(article_id, 7, seen_at_ms, root), id=article_id)


def test_buckets_hold_every_id_that_shares_a_key() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    for article_id in "abc":
        index.add(same_content(article_id))
    content = same_content("a").fingerprint
    assert [e.id for e in index.by_content_hash(content.content_hash)] == ["a", "b", "c"]
    assert [e.id for e in index.candidates(content)] == ["a", "b", "c"]
    index.remove("b")
    assert [e.id for e in index.by_content_hash(content.content_hash)] == ["a", "c"]
    index.remove("a")
    assert [e.id for e in index.by_content_hash(content.content_hash)] == ["c"]
    assert [e.id for e in index.candidates(content)] == ["c"]
    index.remove("c")
    assert index.by_content_hash(content.content_hash) == []
    assert index.stats().band_keys == 0


def test_membership_and_removing_an_absent_id() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    assert "a" in index
    assert "b" not in index
    assert index.remove("b") is None
    assert len(index) == 1


def test_removing_one_member_keeps_the_others() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    index.add(entry("b", 2, root="a"))
    index.add(entry("c", 3, root="a"))
    index.remove("b")
    assert [e.id for e in index.members("a")] == ["c"]


def test_a_replaced_entry_expires_by_its_new_time() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("a", 1, seen_at_ms=1_000))
    index.add(entry("a", 1, seen_at_ms=9_000))
    assert index.expire(now_ms=15_000, window_ms=6_000) == []
    assert index.expire(now_ms=15_001, window_ms=6_000) == ["a"]


class FakeSys:
    """``sys`` for :meth:`FingerprintIndex.stats` with a distinct size per kind of object, so
    the total shows which objects were counted, and how often."""

    SIZES: ClassVar[dict[type, int]] = {
        dict: 1_000_000, list: 100_000, set: 10_000, IndexEntry: 1_000, Fingerprint: 300,
        np.ndarray: 50, str: 5, tuple: 3, Profile: 20_000_000, bytes: 200_000_000,
    }
    ZERO, INT = 1, 2  # as in CPython, 0 is smaller than a 64-bit band key

    @classmethod
    def getsizeof(cls, obj: object) -> int:
        if isinstance(obj, int):
            return cls.ZERO if obj == 0 else cls.INT
        return cls.SIZES.get(type(obj), 0)


def test_stats_count_every_container_and_value_once(monkeypatch: pytest.MonkeyPatch) -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(entry("a", 1))
    index.add(dataclasses.replace(entry("a", 1), id="b", root="a"))  # shares a's band keys
    index.add(entry("c", 2))
    monkeypatch.setattr(index_module, "sys", FakeSys)
    s = FakeSys.SIZES
    bands = CONFIG.lsh.bands
    expected = (
        4 * s[dict] + s[list]  # entries, bands, hashes, members; the expiry heap
        + 3 * (s[tuple] + FakeSys.ZERO)  # heap items, estimated as (0, "") and 0
        + 3 * (s[IndexEntry] + s[str] + s[Fingerprint] + s[str] + s[np.ndarray])
        + 2 * bands * FakeSys.INT + bands * s[list]  # band keys; a and b share list buckets
        + s[set]  # members of a
    )
    assert index.stats() == IndexStats(3, 2 * bands, expected)


def test_stats_count_each_profile_and_its_byte_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two profiles: one with the exact shingles of a short article (four byte strings), one
    without (three: ``shingles`` is None); counted in the total and on their own."""
    short = Profile(keys=b"k" * 8, starts=b"s" * 2, figures=b"", shingles=b"h" * 4)
    long = Profile(keys=b"k" * 16, starts=b"s" * 4, figures=b"\x01", shingles=None)
    index = FingerprintIndex(CONFIG.lsh)
    index.add(dataclasses.replace(entry("a", 1), profile=short))
    index.add(dataclasses.replace(entry("b", 2), profile=long))
    index.add(entry("c", 3))  # logged before profiles existed (version 1)
    monkeypatch.setattr(index_module, "sys", FakeSys)
    with_profiles = index.stats()
    s = FakeSys.SIZES
    profiles = 2 * s[Profile] + 7 * s[bytes]
    assert with_profiles.profile_bytes == profiles
    for article_id in "ab":
        index.add(dataclasses.replace(index.get(article_id), profile=None))  # type: ignore[arg-type]
    without = index.stats()
    assert without.profile_bytes == 0
    assert with_profiles.approx_bytes - without.approx_bytes == profiles
