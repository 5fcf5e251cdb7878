"""Output records within the message size: exact encoded sizes and cuts that keep prefixes."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.errors import InvalidEnvelopeError, RecordTooLargeError
from streams.core.pipeline import CoreConfig, Deduplicator
from streams.core.record_budget import (
    DEFAULT_MAX_RECORD_BYTES,
    OUTLINKS_SHARE,
    _list_prefix,
    bytes_prefix,
    encoded_size,
    fit_enriched,
    fit_outputs,
    json_string_prefix,
    json_string_size,
)
from streams.core.records import DEADLETTER_RAW_LIMIT, Output, RawMessage, deadletter_record

# Characters orjson writes in 1 to 6 bytes: plain, escaped, multi-byte, astral.
_CHARS = st.sampled_from(['a', ' ', '"', '\\', '\n', '\t', '\x00', '\x1f', '\x7f', 'é', '\u2028',
                          '\ufdfa', '\u4e00', '\U0001f600', '/'])
_TEXTS = st.lists(_CHARS, max_size=60).map("".join) | st.text(max_size=60).filter(
    lambda t: not any("\ud800" <= c <= "\udfff" for c in t)
)


@given(_TEXTS)
def test_json_string_size_is_the_encoded_size(text: str) -> None:
    assert json_string_size(text) == len(orjson.dumps(text))


@given(_TEXTS, st.integers(min_value=0, max_value=200))
def test_json_string_prefix_is_the_longest_prefix_that_fits(text: str, budget: int) -> None:
    prefix = json_string_prefix(text, budget)
    assert text.startswith(prefix)
    if prefix:
        assert len(orjson.dumps(prefix)) <= budget
    if prefix != text:
        assert len(orjson.dumps(text[: len(prefix) + 1])) > budget


def _enriched(text: str, outlinks: list[str] | None = None) -> dict[str, Any]:
    return {"schema_version": 1, "id": "a1", "title": "T", "text": text,
            "outlinks": outlinks or [], "word_count": 1}


def test_a_record_that_fits_is_returned_as_it_is() -> None:
    value = _enriched("Short text.")
    assert fit_enriched("a1", value, 10_000) is value


@pytest.mark.parametrize("max_bytes", [4_096, 65_536, DEFAULT_MAX_RECORD_BYTES])
def test_nfkc_expanded_text_is_cut_to_the_exact_budget(max_bytes: int) -> None:
    text = "صلى الله عليه وسلم " * 200_000  # what 200,000 x U+FDFA become
    value = fit_enriched("a1", _enriched(text), max_bytes)
    size = encoded_size("a1", value)
    assert size <= max_bytes
    assert max_bytes - size <= 4  # cut at the last character that fits (<= 2 bytes each)
    assert text.startswith(value["text"])
    assert (value["truncated"], value["truncated_fields"]) == (True, ["text"])


def test_escapes_count_at_their_encoded_size() -> None:
    text = '"\\\n' * 100_000
    value = fit_enriched("a1", _enriched(text), 65_536)
    assert 65_536 - 2 <= encoded_size("a1", value) <= 65_536
    assert text.startswith(value["text"])


def test_outlinks_keep_at_most_an_eighth_of_the_budget_then_text_is_cut() -> None:
    links = [f"https://x.test/{i:04d}/" + "p" * 100 for i in range(2_000)]
    value = fit_enriched("a1", _enriched("word " * 100_000, links), 65_536)
    assert len(orjson.dumps(value["outlinks"])) <= 65_536 // OUTLINKS_SHARE
    assert value["outlinks"] == links[: len(value["outlinks"])]
    assert len(value["outlinks"]) == (65_536 // OUTLINKS_SHARE - 2) // 124  # 123 B + comma
    assert value["truncated_fields"] == ["outlinks", "text"]
    assert encoded_size("a1", value) <= 65_536


def test_earlier_truncations_stay_named() -> None:
    value = _enriched("word " * 10_000) | {"truncated": True, "truncated_fields": ["title"]}
    assert fit_enriched("a1", value, 4_096)["truncated_fields"] == ["text", "title"]


def test_a_record_whose_fixed_part_cannot_fit_is_a_typed_error() -> None:
    value = _enriched("text") | {"extra": {"blob": "x" * 10_000}}
    with pytest.raises(RecordTooLargeError) as caught:
        fit_enriched("a1", value, 4_096)
    assert caught.value.code == "record_too_large"


def _letter(
    raw: bytes | None, key: bytes | None, max_bytes: int, article_id: str = "articles.raw/0/7"
) -> dict[str, Any]:
    message = RawMessage("articles.raw", 0, 7, key, raw, 1_723_939_200_000)
    return deadletter_record(message, InvalidEnvelopeError("bad"), 1_723_939_201_000,
                             article_id=article_id, max_bytes=max_bytes)


def _copied(record: dict[str, Any], field: str) -> bytes:
    text = record[field]
    return base64.b64decode(text) if record[f"{field}_encoding"] == "base64" else text.encode()


@settings(max_examples=60)
@given(
    raw=st.binary(max_size=3_000) | _TEXTS.map(lambda t: (t * 50).encode()),
    key=st.none() | st.binary(max_size=2_000),
    max_bytes=st.integers(min_value=1_000, max_value=8_000),
)
def test_dead_letters_fit_and_carry_prefixes(raw: bytes, key: bytes | None, max_bytes: int) -> None:
    record = _letter(raw, key, max_bytes)
    assert encoded_size(record["id"], record) <= max_bytes
    kept = _copied(record, "raw")
    assert raw.startswith(kept)
    assert record["raw_truncated"] is (len(kept) < len(raw))
    if key is None:
        assert (record["raw_key"], record["raw_key_truncated"]) == (None, False)
    else:
        kept_key = _copied(record, "raw_key")
        assert key.startswith(kept_key)
        assert record["raw_key_truncated"] is (len(kept_key) < len(key))


def test_control_characters_cost_six_bytes_each_and_are_cut_to_fit() -> None:
    raw = b"\x01" * 300_000
    record = _letter(raw, None, DEFAULT_MAX_RECORD_BYTES)
    assert record["raw_encoding"] == "utf-8"
    assert encoded_size(record["id"], record) > DEFAULT_MAX_RECORD_BYTES - 6
    assert encoded_size(record["id"], record) <= DEFAULT_MAX_RECORD_BYTES
    assert record["raw_truncated"] is True


def test_the_key_takes_at_most_an_eighth_and_the_value_the_rest() -> None:
    record = _letter(b"\xff" * 300_000, b"\xfe" * 300_000, 65_536)
    assert record["raw_key_encoding"] == record["raw_encoding"] == "base64"
    assert len(record["raw_key"]) <= 65_536 // 8
    assert encoded_size(record["id"], record) > 65_536 - 8  # the value fills the rest
    assert (record["raw_truncated"], record["raw_key_truncated"]) == (True, True)


def test_a_cut_inside_a_utf8_character_keeps_the_copy_text() -> None:
    raw = "é".encode() * DEADLETTER_RAW_LIMIT  # 2 bytes a character: the limit cuts mid-way
    record = _letter(raw, None, DEFAULT_MAX_RECORD_BYTES)
    assert record["raw_encoding"] == "utf-8"
    assert record["raw"] == "é" * (DEADLETTER_RAW_LIMIT // 2)
    assert record["raw_truncated"] is True


def test_the_detail_is_capped() -> None:
    message = RawMessage("articles.raw", 0, 7, None, b"x", 1_723_939_200_000)
    record = deadletter_record(message, InvalidEnvelopeError("d" * 5_000), 1_723_939_201_000)
    assert record["detail"] == "d" * 1_000


def test_the_pipeline_keeps_an_nfkc_bomb_under_the_limit() -> None:
    """880 KiB of U+FDFA made a 9.7 MB enriched record before records were bounded."""
    config = CoreConfig()
    raw = RawMessage("articles.raw", 0, 7, None, ("\ufdfa" * 300_000).encode(), 1)
    outcome = Deduplicator(config, worker="t").process(raw, 2)
    (output,) = outcome.outputs
    assert outcome.verdict == "enriched"
    assert encoded_size(output.key, output.value) <= config.max_record_bytes
    assert output.value["truncated_fields"] == ["text"]


def _page_with_long_title(envelope_title: str | None) -> dict[str, Any]:
    page = ("<html><head><title>" + "Headline " * 200 + "</title></head><body><article><p>"
            "The council approved the harbour wall on Monday after a long debate.</p>"
            "</article></body></html>")
    value = orjson.dumps({"body": page, "title": envelope_title})
    outcome = Deduplicator(CoreConfig(), worker="t").process(
        RawMessage("articles.raw", 0, 7, None, value, 1), 2
    )
    record: dict[str, Any] = outcome.outputs[0].value
    return record


def test_an_extracted_title_cut_to_its_cap_is_named_only_when_shown() -> None:
    shown = _page_with_long_title(None)
    assert len(shown["title"]) <= 1024
    assert shown["truncated_fields"] == ["title"]
    assert "truncated" not in _page_with_long_title("From the envelope")


def test_an_output_that_cannot_fit_becomes_a_record_too_large_dead_letter() -> None:
    """The stateful step is total: a record whose fixed part is over the limit (5 KB of
    passthrough ``extra`` against a 3,000-byte limit) is dead-lettered, not raised; the
    verdict stays in the index, so its log record is still appended."""
    config = CoreConfig(max_record_bytes=3_000)
    envelope = {"id": "a1", "body": "A short article about nothing in particular. " * 5,
                "extra": {"note": "x" * 5_000}}
    raw = RawMessage("articles.raw", 0, 7, None, orjson.dumps(envelope), 1)
    outcome = Deduplicator(config, worker="t").process(raw, 2)
    (output,) = outcome.outputs
    assert (outcome.verdict, outcome.error_code, outcome.match) == (
        "deadletter", "record_too_large", None)
    assert (output.kind, output.key, output.value["error"]) == (
        "deadletter", "articles.raw/0/7", "record_too_large")
    assert output.value["raw_truncated"] is True
    assert encoded_size(output.key, output.value) <= 3_000
    assert [record.entry.id for record in outcome.log_records] == ["a1"]


# -- exact budgets: every cut is the longest that fits, every fit uses the whole budget ------
@given(st.lists(st.text(max_size=12) | st.integers(min_value=-(2**63), max_value=2**64 - 1),
                max_size=12),
       st.integers(min_value=0, max_value=120))
def test_a_list_prefix_is_the_longest_whose_array_fits(items: list[Any], budget: int) -> None:
    kept = _list_prefix(items, budget)
    assert items[: len(kept)] == kept
    if kept:
        assert len(orjson.dumps(kept)) <= budget
    if len(kept) < len(items):
        assert len(orjson.dumps(items[: len(kept) + 1])) > budget


@given(st.binary(max_size=40), st.integers(min_value=0, max_value=80))
def test_a_base64_prefix_is_the_longest_whose_string_fits(data: bytes, budget: int) -> None:
    kept = bytes_prefix(data, budget, "base64")
    assert data.startswith(kept)
    if kept:
        assert len(orjson.dumps(base64.b64encode(kept).decode())) <= budget
    if kept != data:
        assert len(orjson.dumps(base64.b64encode(data[: len(kept) + 1]).decode())) > budget


@given(_TEXTS, st.integers(min_value=0, max_value=120))
def test_a_utf8_prefix_is_the_longest_whose_string_fits(text: str, budget: int) -> None:
    kept = bytes_prefix(text.encode(), budget, "utf-8").decode()
    assert kept == json_string_prefix(text, budget)


def test_a_record_of_exactly_the_limit_fits_as_it_is() -> None:
    value = _enriched("Short text.")
    assert fit_enriched("a1", value, encoded_size("a1", value)) is value


def test_the_text_is_cut_only_when_the_cut_outlinks_are_not_enough_and_then_to_the_byte() -> None:
    links = [f"https://x.test/{i:03d}" for i in range(60)]
    value = _enriched("word " * 300, links)
    for max_bytes in range(1_200, 2_400):
        fitted = fit_enriched("a1", value, max_bytes)
        assert encoded_size("a1", fitted) <= max_bytes
        if "text" not in fitted["truncated_fields"]:
            assert fitted["text"] == value["text"]
            continue
        # the outlinks' cut alone did not fit, and one more character of text would not
        outlinks_only = fitted | {"text": value["text"],
                                  "truncated_fields": sorted({"outlinks"} & set(
                                      fitted["truncated_fields"]))}
        assert encoded_size("a1", outlinks_only) > max_bytes
        longer = fitted | {"text": value["text"][: len(fitted["text"]) + 1]}
        assert encoded_size("a1", longer) > max_bytes


def test_a_record_whose_text_would_be_cut_to_nothing_names_the_record() -> None:
    key = "k" * 100
    value = _enriched("          " + "word " * 50) | {"extra": {"note": "x" * 200}}
    room = encoded_size(key, value | {"text": "", "truncated": True,
                                      "truncated_fields": ["text"]})
    with pytest.raises(RecordTooLargeError) as caught:
        fit_enriched(key, value, room + 4)  # room for two spaces of the text
    assert caught.value.detail == (
        f"enriched record for {key[:80]!r} does not fit {room + 4} bytes even without its text")


def _duplicate(key: str, size: int = 0) -> Output:
    return Output("duplicates", key, {"id": key, "duplicate_of": "k", "note": "n" * size})


def test_outputs_are_fitted_in_order_and_the_others_checked_to_the_byte() -> None:
    enriched = Output("enriched", "a1", _enriched("word " * 1_000))
    duplicate = _duplicate("d" * 100, 50)
    limit = encoded_size(duplicate.key, duplicate.value)
    fitted = fit_outputs([enriched, duplicate], limit)
    assert [o.kind for o in fitted] == ["enriched", "duplicates"]
    assert fitted[1] is duplicate
    assert encoded_size("a1", fitted[0].value) <= limit < encoded_size("a1", enriched.value)
    with pytest.raises(RecordTooLargeError) as caught:
        fit_outputs([duplicate], limit - 1)
    assert caught.value.detail == (
        f"duplicates record for {duplicate.key[:80]!r} is over {limit - 1} bytes")


def test_a_dead_letter_copy_that_fills_its_room_exactly_still_fits() -> None:
    """The flags are measured with their longer spelling ("false"): a copy that fits whole
    (flag false) and one cut (flag true) both stay within the limit."""
    for max_bytes in range(1_000, 1_040):
        whole = len(_copied(_letter(b"a" * 5_000, None, max_bytes), "raw"))
        for raw in (b"a" * whole, b"a" * (whole + 1)):
            record = _letter(raw, None, max_bytes)
            assert encoded_size(record["id"], record) <= max_bytes
        key_whole = len(_copied(_letter(b"a", b"k" * 5_000, max_bytes), "raw_key"))
        for key in (b"k" * key_whole, b"k" * (key_whole + 1)):
            record = _letter(b"a", key, max_bytes)
            assert encoded_size(record["id"], record) <= max_bytes


def test_a_dead_letter_without_room_for_its_copies_goes_without_them() -> None:
    raw, key = b"abcdefgh" * 10, b"k" * 10
    bare = _letter(raw, key, 10_000) | {"raw": None, "raw_truncated": False, "raw_key": None,
                                        "raw_key_truncated": False}
    size = encoded_size(bare["id"], bare)  # raw, raw_key null; both flags false
    for room in range(13):  # the copies' room: the limit minus the rest, with their nulls
        record = _letter(raw, key, size - 8 + room)
        assert (record["raw"] is None) is (room < 8), room
        if room >= 8:
            assert encoded_size(record["id"], record) <= size - 8 + room
