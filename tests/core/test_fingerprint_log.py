from __future__ import annotations

import numpy as np
import orjson
import pytest

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.errors import InvalidEnvelopeError
from streams.core.fingerprint_log import FENCE_PREFIX, decode_record, encode_record, is_fence


def test_round_trip_keeps_every_field() -> None:
    signature = np.arange(128, dtype=np.uint32) * np.uint32(2_654_435_761)
    entry = IndexEntry(
        id="a1", event_time_ms=123, root="a0", source="bbc", seen_at_ms=456,
        origin="articles.raw/3/77", superseded_by="a9",
        fingerprint=Fingerprint(content_hash="f" * 32, signature=signature, shingle_count=99),
    )
    record = decode_record(encode_record(entry, (1, 2**64 - 1), "w1"))
    assert record.worker == "w1"
    assert record.paragraph_keys == (1, 2**64 - 1)
    got = record.entry
    assert (got.id, got.event_time_ms, got.root, got.source, got.seen_at_ms, got.origin) == (
        "a1", 123, "a0", "bbc", 456, "articles.raw/3/77")
    assert got.superseded_by == "a9"
    assert got.fingerprint.content_hash == "f" * 32
    assert got.fingerprint.shingle_count == 99
    assert np.array_equal(got.fingerprint.signature, signature)
    assert got.fingerprint.signature.dtype == np.uint32


def test_fences_are_recognised() -> None:
    assert is_fence(FENCE_PREFIX + b"abc")
    assert not is_fence(b"article-1") and not is_fence(None)


def test_garbage_is_a_typed_error() -> None:
    with pytest.raises(InvalidEnvelopeError):
        decode_record(b'{"id": "x"}')


def test_origin_round_trip() -> None:
    from streams.core.records import RawMessage, parse_origin

    raw = RawMessage("articles.raw", 3, 77, None, b"x", 0)
    assert parse_origin(raw.origin_str) == raw.origin
    assert parse_origin("") == {"topic": "unknown", "partition": 0, "offset": 0}


def _v2_entry() -> IndexEntry:
    from streams.core.dedup.model import Profile

    signature = np.arange(128, dtype=np.uint32)
    profile = Profile(keys=np.array([7, 2**64 - 1], dtype="<u8").tobytes(),
                      starts=np.array([40, 3], dtype="<u2").tobytes(),
                      figures=b"\x01\x02\x03\x04\x02" + b"75",
                      shingles=np.arange(43, dtype="<u4").tobytes())
    return IndexEntry(
        id="b", event_time_ms=5, root="a", seen_at_ms=6, origin="articles.raw/0/1",
        fingerprint=Fingerprint(content_hash="e" * 32, signature=signature, shingle_count=43),
        profile=profile, match="near", similarity=0.8125, moved_by="z",
    )


def test_version_2_fields_round_trip() -> None:
    entry = _v2_entry()
    got = decode_record(encode_record(entry, (3,), "w2")).entry
    assert got.profile == entry.profile
    assert (got.match, got.similarity, got.moved_by) == ("near", 0.8125, "z")
    assert orjson.loads(encode_record(entry, (), "w"))["v"] == 2


def test_a_version_1_record_decodes_without_a_profile() -> None:
    v1 = orjson.dumps({"v": 1, "id": "a", "t": 1, "h": "f" * 32, "n": 3, "r": "a",
                       "s": "AAAAAA==", "p": [5], "w": "old"})
    record = decode_record(v1)
    assert record.entry.profile is None and record.entry.match is None
    assert record.paragraph_keys == (5,)


def test_a_version_1_reader_ignores_the_new_fields() -> None:
    value = orjson.loads(encode_record(_v2_entry(), (), "w"))
    v1_fields = {"v", "id", "t", "h", "s", "n", "r", "src", "seen", "o", "p", "w", "sb"}
    assert v1_fields <= value.keys()  # every field a version-1 reader needs is still there


def test_inconsistent_profile_arrays_are_a_typed_error() -> None:
    value = orjson.loads(encode_record(_v2_entry(), (), "w"))
    value["ps"] = "AAA="  # 2 bytes of starts for 2 keys of 8 bytes
    with pytest.raises(InvalidEnvelopeError):
        decode_record(orjson.dumps(value))
