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
    LOG_VERSION,
    MAX_LOG_ID_CHARS,
    MAX_LOGGED_CORRECTED_CHARS,
    MAX_LOGGED_PARAGRAPH_KEYS,
    MAX_LOGGED_PARTITIONS,
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
from streams.core.stories.model import StoryNote, StoryUpdate


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


_DL = "'dl' is not a list of at most 16 [revision, origin, revision key, content hash]"
_SHORT_SIGNATURE = base64.b64encode(bytes(4 * 64)).decode()
_LONG_SIGNATURE = base64.b64encode(bytes(4 * 129)).decode()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"s": _SHORT_SIGNATURE}, "'s' has 344 base64 characters, not a 128-permutation signature"),
        ({"s": _LONG_SIGNATURE}, "'s' has 688 base64 characters, not a 128-permutation signature"),
        ({"s": "!" * 684}, "'s' is not base64: Only base64 data is allowed"),
        ({"s": 5}, "'s' must be str, got 5"),
        ({"t": "123"}, "'t' must be int, got '123'"),
        ({"t": True}, "'t' must be int, got True"),
        ({"n": -1}, "'n' must be >= 0, got -1"),
        ({"id": ""}, "'id' is empty"),
        ({"id": 7}, "'id' must be str, got 7"),
        ({"id": "x" * 1282}, "'id' is longer than 1281 characters"),
        ({"r": None}, "'r' must be str, got None"),
        ({"h": "F" * 32}, "'h' is not a 32-digit lowercase hex content hash"),
        ({"src": ["bbc"]}, "'src' must be a string, got ['bbc']"),
        ({"p": [1, "2"]}, "'p' is not a list of unsigned 64-bit paragraph keys"),
        ({"p": [-1]}, "'p' is not a list of unsigned 64-bit paragraph keys"),
        ({"p": {"a": 1}}, "'p' is not a list of unsigned 64-bit paragraph keys"),
        ({"w": 3}, "'w' must be str, got 3"),
        ({"sb": 3}, "'sb' must be str, got 3"),
        ({"v": 3}, "unknown fingerprint-log version 3"),
        ({"m": "fuzzy"}, "'m' must be 'exact' or 'near', got 'fuzzy'"),
        ({"sim": 1.5}, "'sim' must be a number in [0, 1], got 1.5"),
        ({"pk": "AAAAAAAAAAA=", "ps": "AAAAAA=="},
         "'pk' and 'ps' describe different numbers of paragraphs"),
        ({"pk": "!!!!", "ps": ""}, "'pk' is not base64: Only base64 data is allowed"),
        ({"mv": 3}, "'mv' must be str, got 3"),
        ({"rv": 0}, "'rv' must be >= 1, got 0"),
        ({"rv": True}, "'rv' must be int, got True"),
        ({"ph": "F" * 32}, "'ph' is not a 32-digit lowercase hex content hash"),
        ({"fh": 7}, "'fh' must be str, got 7"),
        ({"cor": "y"}, "'cor' is not a list of ids of at most 2048 characters"),
        ({"cor": [3]}, "'cor' is not a list of ids of at most 2048 characters"),
        ({"cor": [""]}, "'cor' is not a list of ids of at most 2048 characters"),
        ({"cor": ["y" * 1025] * 2}, "'cor' is not a list of ids of at most 2048 characters"),
        ({"dl": [[1, "o/0/1", "a" * 32]]}, _DL),
        ({"dl": [[1, "o/0/1", "a" * 32, "F" * 32]]}, _DL),
        ({"dl": [[1, 1, "a" * 32, "a" * 32]]}, _DL),
        ({"dl": [[0, "o/0/1", "a" * 32, "a" * 32]]}, _DL),
        ({"dl": [[True, "o/0/1", "a" * 32, "a" * 32]]}, _DL),
        ({"dl": [[1, "o/0/1", "a" * 32, "a" * 32]] * 17}, _DL),
        ({"dl": "o/0/1"}, _DL),
        ({"dl": [[1, "o/0/1", "F" * 32, "a" * 32]]}, _DL),  # the revision key is a hash too
        ({"st": "note"}, "'st' is not a story note object"),
        ({"st": {"id": "s1", "t": 1, "k": "AAAAAA==", "w": ""}},
         "'st' is not a story note: story note keys and weights differ in length"),
        ({"st": {"id": "", "t": 1, "k": "", "w": ""}}, "'st' has an empty or over-long story id"),
        ({"st": {"id": "s" * (MAX_LOG_ID_CHARS + 1), "t": 1, "k": "", "w": ""}},
         "'st' has an empty or over-long story id"),
        ({"sim": -0.1}, "'sim' must be a number in [0, 1], got -0.1"),
        ({"o": "o" * (MAX_LOG_ID_CHARS + 1)}, f"'o' is longer than {MAX_LOG_ID_CHARS} characters"),
        ({"dl": [[1, "o/0/" + "1" * (MAX_LOG_ID_CHARS - 3), "a" * 32, "a" * 32]]}, _DL),
        ({"ns": 1}, "'ns' must be bool, got 1"),
        ({"ns": "true"}, "'ns' must be bool, got 'true'"),
    ],
)
def test_invalid_fields_are_refused_with_a_reason(change: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidLogRecordError) as caught:
        decode_record(orjson.dumps({**_valid(), **change}))
    assert caught.value.detail == says


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


# -- the limits are inclusive, the defaults are what a record without the field means ---------
def test_every_field_at_its_limit_is_read() -> None:
    at_limit = {**_valid(), "p": [0, 2**64 - 1], "sim": 0, "o": "o" * MAX_LOG_ID_CHARS, "dl": [
        [1, "o/0/" + "1" * (MAX_LOG_ID_CHARS - 4), "a" * 32, "b" * 32]] * 16,
        "st": {"id": "s" * MAX_LOG_ID_CHARS, "t": 1, "k": "", "w": ""},
        "ap": [[0, 2**64 - 1]] * MAX_LOGGED_PARTITIONS}
    record = decode_record(orjson.dumps(at_limit))
    assert record.paragraph_keys == (0, 2**64 - 1)
    assert record.entry.origin == "o" * MAX_LOG_ID_CHARS
    assert record.entry.similarity == 0
    assert len(record.entry.delivered) == 16
    assert record.entry.delivered[0][1:] == ("o/0/" + "1" * (MAX_LOG_ID_CHARS - 4), "a" * 32,
                                             "b" * 32)
    assert record.story is not None and record.story.story == "s" * MAX_LOG_ID_CHARS
    assert record.applied == ((0, 2**64 - 1),) * MAX_LOGGED_PARTITIONS


def test_log_positions_past_their_limit_are_not_known() -> None:
    positions = [[0, 1]] * (MAX_LOGGED_PARTITIONS + 1)
    assert decode_record(orjson.dumps({**_valid(), "ap": positions})).applied is None


def test_a_record_without_its_optional_fields_reads_as_their_defaults() -> None:
    bare = {k: v for k, v in _valid().items() if k not in ("v", "seen", "p", "src", "o", "w")}
    record = decode_record(orjson.dumps(bare))
    assert (record.entry.seen_at_ms, record.paragraph_keys, record.entry.source) == (0, (), None)
    assert (record.entry.origin, record.worker) == ("", "")
    assert record.story is None and record.entry.delivered == ()
    with_profile = decode_record(orjson.dumps({**bare, **_profile_fields()}))
    assert with_profile.entry.profile is not None
    assert with_profile.entry.profile.figures == b""


def _profile_fields() -> dict[str, Any]:
    value = orjson.loads(encode_record(_v2_entry(), (), "w"))
    return {k: value[k] for k in ("pk", "ps", "sc") if k in value}


def test_the_story_of_an_article_record_and_a_story_merge_round_trip() -> None:
    note = StoryNote("s1", 5, ((8, 0.5),), ("s0", 9), (1,), b"\x01\x00\x00\x00", (0,))
    entry = IndexEntry(id="a1", event_time_ms=1, root="a1",
                       fingerprint=Fingerprint("0" * 32, np.zeros(128, dtype=np.uint32), 3))
    record = LogRecord(entry, (), "w1", story=note)
    key, value = encode_log_record(record)
    assert key == b"a1"
    decoded = decode_log_value(value)
    assert isinstance(decoded, LogRecord) and decoded.story == note
    update = StoryUpdate("s2", 3, "s1", 1, 7, "w1", "race")
    key, value = encode_log_record(update)
    assert (key, decode_log_value(value)) == (update.log_key, update)
    assert orjson.loads(value)["v"] == LOG_VERSION


@pytest.mark.parametrize(("change", "says"), [
    ({"story": ""}, "story merge 'story' is empty or over-long"),
    ({"into": "i" * (MAX_LOG_ID_CHARS + 1)}, "story merge 'into' is empty or over-long"),
    ({"it": "x"}, "malformed story merge: invalid literal for int() with base 10: 'x'"),
])
def test_a_malformed_story_merge_is_refused_with_a_reason(change: dict[str, Any], says: str
                                                          ) -> None:
    _, value = encode_log_record(StoryUpdate("s2", 3, "s1", 1, 7, "w1", "race"))
    with pytest.raises(InvalidLogRecordError) as caught:
        decode_log_value(orjson.dumps({**orjson.loads(value), **change}))
    assert caught.value.detail == says
    longest = {**orjson.loads(value), "story": "s" * MAX_LOG_ID_CHARS}
    assert decode_log_value(orjson.dumps(longest)).story == "s" * MAX_LOG_ID_CHARS


@pytest.mark.parametrize(("value", "says"), [
    (b"[1, 2]", "fingerprint-log record is not a JSON object"),
    (b"null", "fingerprint-log record is not a JSON object"),
    (b"{", "fingerprint-log record is not JSON: unexpected end of data: line 1 column 2 (char 1)"),
])
def test_a_value_that_is_no_json_object_is_named_so(value: bytes, says: str) -> None:
    with pytest.raises(InvalidLogRecordError) as caught:
        decode_record(value)
    assert caught.value.detail == says


def test_a_signature_of_the_right_length_but_not_of_whole_values_is_refused() -> None:
    with pytest.raises(InvalidLogRecordError) as caught:
        decode_record(orjson.dumps({**_valid(), "s": base64.b64encode(bytes(511)).decode()}),
                      )
    assert caught.value.detail == "'s' holds 511 bytes, not 512"
    with pytest.raises(InvalidLogRecordError) as caught:
        decode_record(orjson.dumps({**_valid(), "pk": base64.b64encode(bytes(7)).decode(),
                                    "ps": ""}))
    assert caught.value.detail == "'pk' holds 7 bytes, not items of 8"


def test_paragraph_keys_at_the_limit_are_logged_whole() -> None:
    keys = tuple(range(MAX_LOGGED_PARAGRAPH_KEYS))
    assert logged_paragraph_keys(keys) == keys


def test_a_signature_of_another_length_is_read_with_its_permutations() -> None:
    """96 permutations: 384 bytes, 512 base64 characters (a multiple of three bytes)."""
    entry = IndexEntry(id="a1", event_time_ms=1, root="a1", fingerprint=Fingerprint(
        "0" * 32, np.arange(96, dtype=np.uint32), 3))
    value = encode_record(entry, (), "w")
    assert len(orjson.loads(value)["s"]) == 512
    decoded = decode_log_value(value, num_perm=96)
    assert isinstance(decoded, LogRecord)
    assert decoded.entry.fingerprint.signature.tolist() == list(range(96))
