"""Hypothesis properties of the whole core: any raw message gives exactly one valid record.

``Deduplicator.process`` is total: bytes, text or JSON envelopes of any shape end as an
enriched record, a duplicate or a dead letter that validates against its schema, never as an
exception and never as zero or two primary records. An ``internal_error`` dead letter is a
bug on the processing path, so it fails the property: every input has a defined outcome.
"""

from __future__ import annotations

import codecs
import json
import os
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from streams.core.pipeline import CoreConfig, Deduplicator
from streams.core.records import RawMessage
from tests.harness import schema_errors

OUTPUT_TOPIC = {
    "enriched": "articles.enriched",
    "duplicates": "articles.duplicates",
    "deadletter": "articles.deadletter",
}
# Modest and deterministic: the whole module stays within a few seconds in ``make test``.
# ROBUSTNESS_MAX_EXAMPLES=5000 runs a long, randomized search instead.
_LONG_RUN = os.environ.get("ROBUSTNESS_MAX_EXAMPLES")
PROPERTIES = settings(
    max_examples=int(_LONG_RUN or 150),
    deadline=None,
    derandomize=_LONG_RUN is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CONFIG = CoreConfig(max_body_bytes=64 * 1024)

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)
ENVELOPE_FIELDS = ("id", "url", "source", "title", "published_at", "content_type")
TEXTISH = st.one_of(
    st.text(),
    st.text(st.characters(codec="utf-8"), min_size=1),
    st.lists(st.sampled_from(["<p>", "</p>", "<div>", "word", "Wörd", "\x00", "\n\n", " ",
                              "<!doctype html>", "中文", "&amp;", "T-E-X-T-S-T-A-R-T."]),
             max_size=30).map("".join),
)


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    """JSON objects shaped like envelopes: known fields of any type, any extras."""
    obj: dict[str, Any] = {}
    if draw(st.booleans()):
        obj["body"] = draw(TEXTISH | JSON_VALUES)
    for name in ENVELOPE_FIELDS:
        if draw(st.booleans()):
            obj[name] = draw(st.text(max_size=40) | JSON_VALUES)
    obj.update(draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3)))
    return obj


def _json(value: Any) -> bytes:
    # The standard library, not orjson: it writes integers past 64 bits and Infinity, which
    # a producer in another language may send too.
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def assert_one_valid_record(value: bytes | None, key: bytes | None = None) -> None:
    raw = RawMessage("articles.raw", 0, 11, key, value, 1_723_939_200_000)
    outcome = Deduplicator(CONFIG, worker="t").process(raw, 1_723_939_201_000)
    assert len(outcome.outputs) == 1
    (output,) = outcome.outputs
    assert {"enriched": "enriched", "duplicate": "duplicates",
            "deadletter": "deadletter"}[outcome.verdict] == output.kind
    assert schema_errors(OUTPUT_TOPIC[output.kind], output.value) == []
    if outcome.verdict == "deadletter":
        assert outcome.error_code == output.value["error"]
        assert outcome.error_code != "internal_error", output.value["detail"]
    # Enriched and duplicates records are keyed by their identity (source, id), dead letters
    # by the message's id.
    assert output.key == output.value.get("scoped_id", output.value["id"])


@PROPERTIES
@given(st.binary(max_size=4096), st.none() | st.binary(max_size=64))
@example(b"\xff\xfe\x00", None)
@example(codecs.BOM_UTF32_LE + b"\x00\x00\x11\x00", None)  # a code point past U+10FFFF
@example(b"\x1f\x8b", None)
@example(b"[" * 2000, None)
def test_arbitrary_bytes_give_one_valid_record(value: bytes, key: bytes | None) -> None:
    assert_one_valid_record(value, key)


@PROPERTIES
@given(TEXTISH, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
@example("\ud800 lone surrogate", "utf-8")
def test_arbitrary_text_gives_one_valid_record(text: str, codec: str) -> None:
    assert_one_valid_record(text.encode(codec, "surrogatepass"))


@PROPERTIES
@given(JSON_VALUES)
def test_arbitrary_json_gives_one_valid_record(value: Any) -> None:
    assert_one_valid_record(_json(value))


@PROPERTIES
@given(envelopes())
@example({"body": "Text.", "id": "x" * 257})
@example({"body": "Text.", "id": 2**63 - 1})
@example({"body": "Text.", "title": "\x00"})
@example({"body": "Council approves the harbour wall.", "id": "a1", "url": "https://x.test/a",
          "source": "x", "title": "Harbour", "published_at": "2024-08-18T10:00:00Z",
          "content_type": "text/plain", "lang_hint": "en"})
@example({"body": "<p>Council approves the harbour wall.</p>", "published_at": 20240818})
def test_arbitrary_envelopes_give_one_valid_record(obj: dict[str, Any]) -> None:
    assert_one_valid_record(_json(obj))
