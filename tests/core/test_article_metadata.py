"""The envelope's ``language`` tag: the record's language when it names one, never the
fingerprint's (streams/core/article_metadata.py)."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import pytest

from streams.core.config import CoreConfig
from streams.core.pipeline import Deduplicator
from streams.core.prepare import Prepared, prepare_total
from streams.core.records import RawMessage, record_schema

CONFIG = CoreConfig()
ENGLISH = ("The harbour wall will be raised by two metres before the winter storms, the "
           "council decided on Tuesday after a long debate about the cost of the works.")
# Japanese is written without spaces: its fingerprint tokens are characters, so a hint that
# changed the tokenizing language would change the fingerprint.
JAPANESE = ("東京都は本日、新しい防災計画を発表しました。計画には避難所の増設と備蓄の拡充が含まれて"
            "います。都知事は記者会見で、来年の春までに全ての区で訓練を行うと述べました。")


def raw(value: bytes, offset: int = 0) -> RawMessage:
    return RawMessage("articles.raw", 0, offset, None, value, 1_000 + offset)


def message(body: str, **fields: Any) -> bytes:
    return orjson.dumps({"id": "a1", "body": body, **fields})


def enriched(value: bytes) -> dict[str, Any]:
    outcome = Deduplicator(CONFIG, worker="t").process(raw(value), now_ms=10_000)
    assert outcome.verdict == "enriched"
    record: dict[str, Any] = outcome.outputs[0].value
    jsonschema.validate(record, record_schema("enriched"))
    return record


def prepared(value: bytes) -> Prepared:
    result = prepare_total(raw(value), CONFIG)
    assert isinstance(result, Prepared)
    return result


def test_without_a_tag_the_detected_language_is_recorded_as_detected() -> None:
    record = enriched(message(ENGLISH))
    assert (record["language"], record["language_source"]) == ("en", "detected")
    assert "extra" not in record


@pytest.mark.parametrize(("tag", "language"), [
    ("de", "de"), ("DE-ch", "de"), ("pt_BR", "pt"), ("zh-Hant-TW", "zh"), (" fr ", "fr"),
    ("iw", "he"),
])
def test_a_tag_naming_a_language_wins_over_detection_and_stays_in_extra(
    tag: str, language: str,
) -> None:
    record = enriched(message(ENGLISH, language=tag))
    assert (record["language"], record["language_source"]) == (language, "envelope")
    assert record["extra"] == {"language": tag}  # as sent, as before


def test_a_tag_gives_a_language_where_detection_cannot() -> None:
    record = enriched(message("Kurz und gut.", language="de"))
    assert (record["language"], record["language_source"]) == ("de", "envelope")
    assert enriched(message("Kurz und gut."))["language"] == "und"


@pytest.mark.parametrize("tag", ["xx", "deu", "und", "mul", "german", "de--CH", "", 49,
                                 None, ["de"], {"code": "de"}, True])
def test_a_tag_that_names_no_language_is_ignored_not_dead_lettered(tag: object) -> None:
    record = enriched(message(ENGLISH, language=tag))
    assert (record["language"], record["language_source"]) == ("en", "detected")
    assert record["extra"] == {"language": tag}


@pytest.mark.parametrize(("body", "tag"), [(ENGLISH, "de"), (JAPANESE, "en"),
                                           (JAPANESE, "ja"), (ENGLISH, "zh")],
                         ids=["en-as-de", "ja-as-en", "ja-as-ja", "en-as-zh"])
def test_a_tag_changes_no_fingerprint_word_count_or_story_terms(body: str, tag: str) -> None:
    """Copies with and without a hint (or with a wrong one) are fingerprinted alike: the
    fingerprint follows the detected language, which decides tokens for no-space scripts."""
    plain, hinted = prepared(message(body)), prepared(message(body, language=tag))
    assert hinted.metadata.language == tag
    assert hinted.fingerprint.content_hash == plain.fingerprint.content_hash
    assert (hinted.fingerprint.signature == plain.fingerprint.signature).all()
    assert hinted.fingerprint.shingle_count == plain.fingerprint.shingle_count
    assert hinted.profile == plain.profile
    assert hinted.story_terms == plain.story_terms
    assert hinted.article.word_count == plain.article.word_count


def test_a_copy_with_a_tag_is_an_exact_duplicate_of_one_without() -> None:
    dedup = Deduplicator(CONFIG, worker="t")
    first = dedup.process(raw(message(JAPANESE)), now_ms=10_000)
    copy = dedup.process(raw(orjson.dumps({"id": "a2", "body": JAPANESE, "language": "en"}),
                             1), now_ms=10_001)
    assert (first.verdict, copy.verdict) == ("enriched", "duplicate")
    value = copy.outputs[0].value
    assert (value["duplicate_of"], value["match"], value["similarity"]) == ("a1", "exact", 1.0)
