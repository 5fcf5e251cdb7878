"""Story notes and merges on the fingerprint log."""

from __future__ import annotations

import base64
import struct

import numpy as np
import orjson
import pytest

from streams.core.errors import InvalidLogRecordError
from streams.core.fingerprint_log import (
    LogRecord,
    decode_log_value,
    decode_record,
    encode_log_record,
    encode_record,
)
from streams.core.pipeline import CoreConfig, Deduplicator
from streams.core.prepare import prepare
from streams.core.stories.codec import (
    MAX_SUBJECTS,
    MAX_TERMS,
    decode_note,
    decode_update,
    encode_note,
    encode_update,
    quantize,
)
from streams.core.stories.model import StoryNote, StoryUpdate
from streams.core.stories.vector import DocumentFrequencies
from tests.core.stories import fixtures as f
from tests.core.stories.helpers import T0, decide, message


def test_a_note_round_trips_with_float16_weights() -> None:
    vector = quantize({7: 0.123456, 2**32 - 1: 0.5, 12: 1 / 3})
    note = StoryNote("story-1", T0, vector)
    assert decode_note(encode_note(note)) == note
    assert vector == ((7, 0.12347412109375), (2**32 - 1, 0.5), (12, 0.333251953125))


def test_a_note_with_a_rename_round_trips_and_one_without_has_no_rename_fields() -> None:
    vector = quantize({7: 0.5})
    renamed = StoryNote("early", T0, vector, renamed=("late", T0 + 5))
    assert decode_note(encode_note(renamed)) == renamed
    assert encode_note(renamed)["rn"] == "late" and encode_note(renamed)["rt"] == T0 + 5
    assert "rn" not in encode_note(StoryNote("early", T0, vector))


def test_a_templated_reports_subjects_round_trip_and_others_carry_no_field() -> None:
    vector = quantize({7: 0.5})
    templated = StoryNote("acme", T0, vector, subjects=(2**32 - 3,))
    assert encode_note(templated)["sj"] == [2**32 - 3]
    assert decode_note(encode_note(templated)) == templated
    assert "sj" not in encode_note(StoryNote("acme", T0, vector))
    assert decode_note(encode_note(StoryNote("acme", T0, vector))).subjects == ()


@pytest.mark.parametrize("value", [
    "123", {"3": 1}, [1.9], [True], [-1], [2**70], 5, None, ["x"], list(range(9)),
])
def test_malformed_subjects_read_as_none_and_keep_the_note(value: object) -> None:
    encoded = encode_note(StoryNote("acme", T0, quantize({7: 0.5})))
    encoded["sj"] = value
    assert decode_note(encoded) == StoryNote("acme", T0, quantize({7: 0.5}))


def test_an_articles_terms_and_repeats_round_trip_and_notes_without_carry_no_field() -> None:
    vector = quantize({7: 0.5})
    keys = struct.pack("<3I", 7, 2**32 - 1, 12)
    counted = StoryNote("acme", T0, vector, terms=keys, repeats=(2,))
    encoded = encode_note(counted)
    assert encoded["dk"] == "BwAAAP////8MAAAA" and encoded["dr"] == [2]
    assert decode_note(encoded) == counted
    assert "dr" not in encode_note(StoryNote("acme", T0, vector, terms=keys[:4]))
    assert not {"dk", "dr"} & encode_note(StoryNote("acme", T0, vector)).keys()


@pytest.mark.parametrize(("keys", "repeats"), [
    (5, None), ("!!!!", None), ("BwAA", None), ("BwAAAA==", [1]), ("BwAAAA==", [True]),
    ("BwAAAA==", "0"), ("A" * 30_000, None),
])
def test_malformed_terms_read_as_none_and_keep_the_note(keys: object, repeats: object) -> None:
    """Terms only feed document frequencies: a malformed list counts nothing."""
    encoded = encode_note(StoryNote("acme", T0, quantize({7: 0.5})))
    encoded["dk"] = keys
    if repeats is not None:
        encoded["dr"] = repeats
    assert decode_note(encoded) == StoryNote("acme", T0, quantize({7: 0.5}))


def test_counting_an_article_from_its_note_is_counting_it_as_it_is_weighed() -> None:
    terms = prepare(message("a", f.MATCH_ARSENAL, T0), CoreConfig()).story_terms
    weighing, reading = DocumentFrequencies(20, 10**9), DocumentFrequencies(20, 10**9)
    monday = prepare(message("m", f.MARKETS_MONDAY, T0), CoreConfig()).story_terms.keys
    for frequencies in (weighing, reading):
        frequencies.observe(np.array(monday, dtype=np.uint32))
    weighed = weighing.weigh(terms, observe=True)
    idf = reading.observe(np.array(terms.keys, dtype=np.uint32), sorted(terms.repeats))
    assert weighing.export_state()[1] == reading.export_state()[1]
    assert (weighing.export_state()[0] == reading.export_state()[0]).all()
    by_key = dict(zip(terms.keys, idf.tolist(), strict=True))
    assert [by_key[k] for k in weighed.keys.tolist()] == weighed.idf.tolist()


def test_the_published_summary_is_the_float16_rounding_of_the_top_terms() -> None:
    config = CoreConfig()
    terms = prepare(message("a", f.MATCH_ARSENAL, T0), config).story_terms
    weighted = DocumentFrequencies(config.stories.df_bits, 10**9).weigh(terms, top=96)
    counts = weighted.counts[:32].tolist()
    norm = sum(c * c for c in counts) ** 0.5
    expected = quantize(dict(zip(weighted.keys[:32].tolist(), [c / norm for c in counts],
                                 strict=True)))
    assert weighted.summary(32) == expected and len(expected) == 32


def test_a_kept_article_record_carries_its_note_and_an_old_record_none() -> None:
    dedup = Deduplicator(CoreConfig(), worker="w")
    record = decide(dedup, "a", f.MATCH_ARSENAL, T0).log_records[0]
    assert record.story is not None and record.story.story == "a"
    key, value = encode_log_record(record)
    assert key == b"a"
    decoded = decode_log_value(value)
    assert isinstance(decoded, LogRecord)
    assert decoded.story == decode_record(value).story == record.story
    assert decoded.entry.id == "a"
    old = encode_record(record.entry, record.paragraph_keys, record.worker)  # before stories
    assert decode_record(old).story is None


def test_a_merge_is_a_record_of_its_own_keyed_by_both_stories() -> None:
    update = StoryUpdate("b", T0 + 5, "a", T0, at_ms=T0 + 9, worker="w2", reason="race")
    key, value = encode_log_record(update)
    assert key == b"\x00story:b>a"
    assert decode_log_value(value) == update


def test_a_malformed_note_is_an_invalid_record() -> None:
    dedup = Deduplicator(CoreConfig(), worker="w")
    record = decide(dedup, "a", f.MATCH_ARSENAL, T0).log_records[0]
    obj = orjson.loads(encode_log_record(record)[1])
    obj["st"]["w"] = "AAAA"  # two weights for 32 keys
    with pytest.raises(InvalidLogRecordError):
        decode_log_value(orjson.dumps(obj))


def test_a_malformed_merge_is_an_invalid_record() -> None:
    update = StoryUpdate("b", T0 + 5, "a", T0, at_ms=T0 + 9, worker="w2", reason="race")
    obj = orjson.loads(encode_log_record(update)[1])
    obj["into"] = ""  # a merge into no story
    with pytest.raises(InvalidLogRecordError, match="'into' is empty"):
        decode_log_value(orjson.dumps(obj))
    del obj["it"]
    with pytest.raises(InvalidLogRecordError, match="malformed story merge"):
        decode_log_value(orjson.dumps(obj))


# -- the limits a note's optional fields are read within, and the merge's defaults -------------
def _note(**fields: object) -> dict[str, object]:
    return {**encode_note(StoryNote("s1", T0, ((8, 0.5),))), **fields}


def test_subjects_are_read_up_to_their_count_and_over_every_32_bit_key() -> None:
    keys = [0, 2**32 - 1, *range(1, MAX_SUBJECTS - 1)]
    assert decode_note(_note(sj=keys)).subjects == tuple(keys)
    assert decode_note(_note(sj=[*keys, 7])).subjects == ()  # one too many
    assert decode_note(_note(sj=[2**32])).subjects == ()


def test_term_keys_are_read_up_to_their_count_and_as_strict_base64() -> None:
    most = np.arange(MAX_TERMS, dtype="<u4").tobytes()
    assert decode_note(_note(dk=base64.b64encode(most).decode())).terms == most
    one_more = np.arange(MAX_TERMS + 1, dtype="<u4").tobytes()
    assert decode_note(_note(dk=base64.b64encode(one_more).decode())).terms == b""
    assert decode_note(_note(dk="AAAA!AA==")).terms == b""  # not base64: none, not a guess
    two = base64.b64encode(bytes(8)).decode()  # two term keys
    assert decode_note(_note(dk=two, dr=[0, 1])).repeats == (0, 1)
    assert decode_note(_note(dk=two, dr=[2])).repeats == ()


def test_a_note_whose_weights_do_not_pair_with_its_keys_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^story note keys and weights differ in length$"):
        decode_note(_note(w=""))


def test_a_merge_without_worker_or_reason_reads_as_an_unnamed_bridge() -> None:
    encoded = encode_update(StoryUpdate("s2", 3, "s1", 1, 7, "w1", "race"), 5)
    assert encoded["v"] == 5
    bare = {k: v for k, v in encoded.items() if k not in ("w", "why")}
    assert decode_update(bare) == StoryUpdate("s2", 3, "s1", 1, 7, "", "bridge")
