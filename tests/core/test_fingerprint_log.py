from __future__ import annotations

import numpy as np
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
