from __future__ import annotations

import base64
import dataclasses
from typing import Any

import numpy as np
import orjson
import pytest

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.envelope import MAX_FIELD_CHARS, MAX_ID_CHARS
from streams.core.errors import InvalidLogRecordError
from streams.core.fingerprint_log import (
    FENCE_PREFIX,
    MAX_LOGGED_CORRECTED_CHARS,
    MAX_LOGGED_PARAGRAPH_KEYS,
    LogMark,
    LogRecord,
    decode_log_value,
    decode_record,
    encode_log_record,
    encode_record,
    is_fence,
    logged_corrected_ids,
    logged_paragraph_keys,
)


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


def test_revision_fields_round_trip_and_are_absent_on_a_first_revision() -> None:
    signature = np.zeros(128, dtype=np.uint32)
    first = IndexEntry(
        id="bbc.co.uk:1", event_time_ms=1, root="bbc.co.uk:1",
        fingerprint=Fingerprint(content_hash="a" * 32, signature=signature, shingle_count=3),
    )
    assert not {"rv", "ph", "fh"} & orjson.loads(encode_record(first, (), "w1")).keys()
    assert decode_record(encode_record(first, (), "w1")).entry.revision == 1
    third = IndexEntry(
        id="bbc.co.uk:1", event_time_ms=1, root="bbc.co.uk:1", revision=3,
        previous_hash="b" * 32, full_hash="c" * 32,
        fingerprint=Fingerprint(content_hash="a" * 32, signature=signature, shingle_count=3),
    )
    got = decode_record(encode_record(third, (), "w1")).entry
    assert (got.id, got.revision, got.previous_hash, got.full_hash) == (
        "bbc.co.uk:1", 3, "b" * 32, "c" * 32)
    assert got.revision_key == "c" * 32
    assert got.delivered == ()
    assert "dl" not in orjson.loads(encode_record(third, (), "w1"))
    delivered = ((1, "articles.raw/0/7", "d" * 32, "e" * 32),
                 (2, "articles.raw/0/9", "c" * 32, "b" * 32))
    value = encode_record(dataclasses.replace(third, delivered=delivered), (), "w1")
    assert orjson.loads(value)["dl"] == [list(item) for item in delivered]
    assert decode_record(value).entry.delivered == delivered


def test_a_copy_that_is_not_searchable_says_so_and_others_carry_no_field() -> None:
    signature = np.zeros(128, dtype=np.uint32)
    copy = IndexEntry(
        id="b", event_time_ms=2, root="a", searchable=False,
        fingerprint=Fingerprint(content_hash="a" * 32, signature=signature, shingle_count=3),
    )
    assert orjson.loads(encode_record(copy, (), "w1"))["ns"] is True
    assert decode_record(encode_record(copy, (), "w1")).entry.searchable is False
    searchable = dataclasses.replace(copy, searchable=True)
    assert "ns" not in orjson.loads(encode_record(searchable, (), "w1"))
    assert decode_record(encode_record(searchable, (), "w1")).entry.searchable is True
    assert decode_record(orjson.dumps({**_valid(), "ns": False})).entry.searchable is True


def test_fences_are_recognised() -> None:
    assert is_fence(FENCE_PREFIX + b"abc")
    assert not is_fence(b"article-1") and not is_fence(None)


def test_garbage_is_a_typed_error() -> None:
    with pytest.raises(InvalidLogRecordError) as caught:
        decode_record(b'{"id": "x"}')
    assert caught.value.code == "invalid_log_record"


def _valid() -> dict[str, Any]:
    entry = IndexEntry(
        id="a1", event_time_ms=123, root="a1", source="bbc", seen_at_ms=456, origin="r/0/1",
        fingerprint=Fingerprint("0" * 32, np.zeros(128, dtype=np.uint32), 10),
    )
    decoded: dict[str, Any] = orjson.loads(encode_record(entry, (1, 2), "w1"))
    return decoded


_SHORT_SIGNATURE = base64.b64encode(bytes(4 * 64)).decode()
_LONG_SIGNATURE = base64.b64encode(bytes(4 * 129)).decode()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"s": _SHORT_SIGNATURE}, "not a 128-permutation signature"),
        ({"s": _LONG_SIGNATURE}, "not a 128-permutation signature"),
        ({"s": "!" * 684}, "'s' is not base64"),
        ({"s": 5}, "'s' must be str"),
        ({"t": "123"}, "'t' must be int"),
        ({"t": True}, "'t' must be int"),
        ({"n": -1}, "'n' must be >= 0"),
        ({"id": ""}, "'id' is empty"),
        ({"id": 7}, "'id' must be str"),
        ({"id": "x" * 1282}, "'id' is longer than 1281"),
        ({"r": None}, "'r' must be str"),
        ({"h": "F" * 32}, "'h' is not a 32-digit"),
        ({"src": ["bbc"]}, "'src' must be a string"),
        ({"p": [1, "2"]}, "'p' is not a list"),
        ({"p": [-1]}, "'p' is not a list"),
        ({"p": {"a": 1}}, "'p' is not a list"),
        ({"w": 3}, "'w' must be str"),
        ({"sb": 3}, "'sb' must be str"),
        ({"v": 3}, "unknown fingerprint-log version 3"),
        ({"m": "fuzzy"}, "'m' must be 'exact' or 'near'"),
        ({"sim": 1.5}, "'sim' must be a number in"),
        ({"pk": "AAAAAAAAAAA=", "ps": "AAAAAA=="}, "different numbers of paragraphs"),
        ({"pk": "!!!!", "ps": ""}, "'pk' is not base64"),
        ({"mv": 3}, "'mv' must be str"),
        ({"rv": 0}, "'rv' must be >= 1"),
        ({"rv": True}, "'rv' must be int"),
        ({"ph": "F" * 32}, "'ph' is not a 32-digit"),
        ({"fh": 7}, "'fh' must be str"),
        ({"cor": "y"}, "'cor' is not a list of ids of at most 2048 characters"),
        ({"cor": [3]}, "'cor' is not a list"),
        ({"cor": [""]}, "'cor' is not a list"),
        ({"cor": ["y" * 1025] * 2}, "'cor' is not a list"),
        ({"dl": [[1, "o/0/1", "a" * 32]]}, "'dl' is not a list of at most 16"),
        ({"dl": [[1, "o/0/1", "a" * 32, "F" * 32]]}, "'dl' is not a list"),
        ({"dl": [[1, 1, "a" * 32, "a" * 32]]}, "'dl' is not a list"),
        ({"dl": [[0, "o/0/1", "a" * 32, "a" * 32]]}, "'dl' is not a list"),
        ({"dl": [[True, "o/0/1", "a" * 32, "a" * 32]]}, "'dl' is not a list"),
        ({"dl": [[1, "o/0/1", "a" * 32, "a" * 32]] * 17}, "'dl' is not a list"),
        ({"dl": "o/0/1"}, "'dl' is not a list"),
        ({"ns": 1}, "'ns' must be bool"),
        ({"ns": "true"}, "'ns' must be bool"),
    ],
)
def test_invalid_fields_are_refused_with_a_reason(change: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidLogRecordError, match=says):
        decode_record(orjson.dumps({**_valid(), **change}))


@pytest.mark.parametrize("value", [b"[1, 2]", b"null", b"{", b"\xff"])
def test_values_that_are_not_json_objects_are_refused(value: bytes) -> None:
    with pytest.raises(InvalidLogRecordError):
        decode_record(value)


def test_records_written_before_sources_were_capped_are_read_with_the_cap() -> None:
    record = decode_record(orjson.dumps({**_valid(), "src": "s" * 10_000}))
    assert record.entry.source == "s" * MAX_FIELD_CHARS["source"]


def test_paragraph_keys_are_capped_to_the_first_and_last_halves() -> None:
    keys = list(range(3 * MAX_LOGGED_PARAGRAPH_KEYS))
    half = MAX_LOGGED_PARAGRAPH_KEYS // 2
    assert logged_paragraph_keys(keys) == (*keys[:half], *keys[-half:])
    assert logged_paragraph_keys([5, 5, 6]) == (5, 6)
    decoded = decode_record(orjson.dumps({**_valid(), "p": keys}))
    assert decoded.paragraph_keys == logged_paragraph_keys(keys)


def test_the_largest_record_stays_far_under_any_accepted_topic_limit() -> None:
    """Every field is capped: ids, source, origin, worker, paragraph keys."""
    longest_id = "\u4e00" * MAX_ID_CHARS  # three UTF-8 bytes a character
    entry = IndexEntry(
        id=longest_id, event_time_ms=2**62, root=longest_id, superseded_by=longest_id,
        source="\u4e00" * MAX_FIELD_CHARS["source"], seen_at_ms=2**62, origin="o" * 512,
        fingerprint=Fingerprint("f" * 32, np.full(128, 2**32 - 1, dtype=np.uint32), 2**40),
    )
    keys = [2**64 - 1 - i for i in range(10 * MAX_LOGGED_PARAGRAPH_KEYS)]
    value = encode_record(entry, keys, "w" * 256, corrected=[longest_id] * 20)
    assert len(value) < 100_000
    assert decode_record(value).entry.id == longest_id


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
    signature = base64.b64encode(bytes(4 * 128)).decode()
    v1 = orjson.dumps({"v": 1, "id": "a", "t": 1, "h": "f" * 32, "n": 3, "r": "a",
                       "s": signature, "p": [5], "w": "old"})
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
    with pytest.raises(InvalidLogRecordError):
        decode_record(orjson.dumps(value))


def test_the_corrected_ids_a_record_announces_round_trip() -> None:
    record = LogRecord(_v2_entry(), (3,), "w2", corrected=("c", "d"))
    key, value = encode_log_record(record)
    assert (key, orjson.loads(value)["cor"]) == (b"b", ["c", "d"])
    decoded = decode_log_value(value)
    assert isinstance(decoded, LogRecord)
    assert (decoded.entry.id, decoded.worker, decoded.corrected) == ("b", "w2", ("c", "d"))


def test_a_record_without_corrected_ids_has_no_cor_field_and_decodes_to_none() -> None:
    value = encode_record(_v2_entry(), (), "w")
    assert "cor" not in orjson.loads(value)
    assert decode_record(value).corrected == ()


def test_announced_corrected_ids_are_capped_by_their_characters() -> None:
    assert MAX_LOGGED_CORRECTED_CHARS == 2048
    ids = [f"{i:04d}" * 64 for i in range(9)]  # 256 characters each: 8 fit exactly
    value = encode_record(_v2_entry(), (), "w", corrected=ids)
    assert decode_record(value).corrected == tuple(ids[:8])
    assert logged_corrected_ids(["a" * 2047, "bc", "d"]) == ["a" * 2047]


def test_the_log_positions_a_decision_had_applied_round_trip() -> None:
    record = LogRecord(_v2_entry(), (), "w2", applied=((0, 17), (3, 0)))
    _, value = encode_log_record(record)
    assert orjson.loads(value)["ap"] == [[0, 17], [3, 0]]
    decoded = decode_log_value(value)
    assert isinstance(decoded, LogRecord)
    assert decoded.applied == ((0, 17), (3, 0))
    nothing_applied = decode_log_value(encode_log_record(
        LogRecord(_v2_entry(), (), "w2", applied=()))[1])
    assert isinstance(nothing_applied, LogRecord)
    assert nothing_applied.applied == ()  # known: nothing applied, unlike None (not known)


def test_a_record_without_log_positions_has_no_ap_field_and_decodes_to_none() -> None:
    value = encode_record(_v2_entry(), (), "w")
    assert "ap" not in orjson.loads(value)
    assert decode_record(value).applied is None


@pytest.mark.parametrize("positions", [
    {"0": 5}, [[0]], [[0, -1]], [[0, 1.5]], [[True, 1]], [[p, 0] for p in range(4097)], "x",
])
def test_malformed_log_positions_are_read_as_not_known(positions: Any) -> None:
    """Positions are a hint (streams.core.dedup.race_window): a malformed one must not cost
    the index the article."""
    record = decode_record(orjson.dumps({**_valid(), "ap": positions}))
    assert (record.entry.id, record.applied) == ("a1", None)


def test_a_log_mark_round_trips_and_tells_another_record_at_its_offset_only() -> None:
    mark = LogMark(41, 1_764_000_000_123, b"t:a1")
    assert LogMark.from_json(orjson.loads(orjson.dumps(mark.to_json()))) == mark
    assert LogMark.from_json([0, 0, None]) == LogMark(0, 0, None)
    assert not mark.differs(41, 1_764_000_000_123, b"t:a1")
    assert mark.differs(41, 1_764_000_000_124, b"t:a1")
    assert mark.differs(41, 1_764_000_000_123, b"t:a2")
    assert mark.differs(41, 1_764_000_000_123, None)
    assert not mark.differs(42, 0, b"other")  # compacted or deleted: nothing to compare
    for bad in ([1, 2], [1.5, 2, None], ["1", 2, None]):
        with pytest.raises((ValueError, TypeError)):
            LogMark.from_json(bad)
