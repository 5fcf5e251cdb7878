"""Bad raw messages and what a serious ingester must do with each.

Every case is one raw Kafka message (value and key) with its expected outcome: a dead letter
with a stable code, or an enriched record with properties to check. The same corpus runs
through the pure core (``test_bad_input_core.py``) and through a real broker and worker
(``test_bad_input_broker.py``).

Decisions that are not obvious:

* latin-1 and cp1252 text is enriched (``streams/core/decoding.py``: a declared charset, else
  charset-normalizer); only bytes no rule decides, such as random binary, are ``not_utf8``,
  and the dead letter keeps them (base64) for a replay after re-encoding.
* A whole JSON value that is not an object (``null``, ``"x"``, ``42``) is an
  ``invalid_envelope``: taking ``null`` or a JSON-encoded string as article text hides a
  producer bug. Text that only starts like JSON ("[UPDATED] ...") is still a body.
* NUL and other control characters inside good text are dropped, in the body and in the
  metadata fields (a NUL in a title breaks downstream stores such as PostgreSQL).
* A key is never the article id (the envelope's ``id`` or the origin is): a 1 MB key
  changes nothing.
"""

from __future__ import annotations

import codecs
import gzip
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.core.pipeline import CoreConfig

DEFAULT_MAX_BODY_BYTES = CoreConfig().max_body_bytes

GOOD = (
    "The council approved the new harbour wall on Monday after a long debate.\n"
    "Residents welcomed the decision, which ends years of flooding in the lower town."
)
QUOTED = "He said “no comment” and left the room before the vote was counted."
_VOCABULARY_TEXT = (
    "council harbour wall storm budget mayor school river bridge vote court hospital farmers "
    "railway museum festival police market election teachers drought airport factory union "
    "village coast fishermen tax library stadium minister nurses bakery ferry castle tunnel "
    "approved rejected delayed opened closed repaired funded protested praised blamed "
    "on Monday after weeks of debate while residents waited for news from the regional office "
    "and officials said the plan would cost more than expected but save money over time"
)
_VOCABULARY = tuple(_VOCABULARY_TEXT.split())
# Any control character but the paragraph separator "\n".
_CONTROLS = frozenset(
    chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc" and chr(c) != "\n"
)

Record = dict[str, Any]


@dataclass(frozen=True)
class Check:
    """One property of an enriched record, with a sentence saying what it asserts."""

    says: str
    holds: Callable[[Record], bool]


@dataclass(frozen=True)
class Enriched:
    """Expect an enriched record that satisfies every check."""

    checks: tuple[Check, ...] = ()
    verdict: str = "enriched"

    @property
    def topic(self) -> str:
        return "articles.enriched"

    def failures(self, record: Record) -> list[str]:
        return [check.says for check in self.checks if not check.holds(record)]


@dataclass(frozen=True)
class DeadLetter:
    """Expect a dead letter with this stable error code."""

    code: str
    verdict: str = "deadletter"

    @property
    def topic(self) -> str:
        return "articles.deadletter"

    def failures(self, record: Record) -> list[str]:
        got = record.get("error")
        return [] if got == self.code else [f"error is {got!r}, expected {self.code!r}"]


Expected = Enriched | DeadLetter


@dataclass(frozen=True)
class Case:
    """One raw message. ``make`` builds the value lazily: some are megabytes."""

    name: str
    make: Callable[[], bytes | None]
    expected: Expected
    key: bytes | None = None
    # None: the default limit (983,040 B), which the broker test's worker also runs with.
    max_body_bytes: int | None = None
    # A safety bound on processing time, for the hostile cases only.
    time_bound_s: float | None = None
    # A bug outside the files this suite may fix: what happens today, and why it is wrong.
    known_bug: str | None = None
    current: Expected | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> bytes | None:
        return self.make()

    @property
    def config(self) -> CoreConfig:
        return CoreConfig(max_body_bytes=self.max_body_bytes or DEFAULT_MAX_BODY_BYTES)

    def accepted(self) -> tuple[Expected, ...]:
        """Outcomes a test that must stay green accepts: the right one, or today's bug."""
        return (self.expected,) if self.current is None else (self.expected, self.current)


def story(seed: str, sentences: int = 4) -> str:
    """A short article of its own for each case: enriched cases must not be duplicates of
    each other when the whole corpus shares one index (the broker test)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(sentences):
        words = rng.choices(_VOCABULARY, k=14)
        lines.append(" ".join(words).capitalize() + ".")
    return "\n".join(lines)


def first_words(seed: str, count: int = 6) -> str:
    return " ".join(story(seed).split()[:count])


# -- checks ----------------------------------------------------------------------------
def text_contains(fragment: str) -> Check:
    return Check(f"text contains {fragment!r}", lambda r: fragment in r["text"])


def text_equals(text: str) -> Check:
    return Check(f"text is {text!r}", lambda r: r["text"] == text)


def field_equals(name: str, value: object) -> Check:
    return Check(f"{name} is {value!r}", lambda r: r.get(name) == value)


def no_control_characters(*names: str) -> Check:
    def holds(record: Record) -> bool:
        return not any(
            isinstance(record.get(n), str) and _CONTROLS.intersection(record[n]) for n in names
        )

    return Check(f"no control characters in {', '.join(names)}", holds)


def no_bom() -> Check:
    return Check("text has no U+FEFF", lambda r: "\ufeff" not in r["text"])


def id_is_origin() -> Check:
    def holds(record: Record) -> bool:
        origin = record["origin"]
        return bool(record["id"] == f"{origin['topic']}/{origin['partition']}/{origin['offset']}")

    return Check("id is the origin topic/partition/offset, not the key", holds)


def truncated(*names: str) -> Check:
    return Check(
        f"truncated_fields is {list(names)}",
        lambda r: r.get("truncated") is True and r.get("truncated_fields") == list(names),
    )


def text_at_least(chars: int) -> Check:
    return Check(f"text has at least {chars} characters", lambda r: len(r["text"]) >= chars)


# -- values ----------------------------------------------------------------------------
def const(value: bytes | None) -> Callable[[], bytes | None]:
    return lambda: value


def env(**fields: Any) -> Callable[[], bytes | None]:
    return const(orjson.dumps(fields))


def _one_line(size: int) -> bytes:
    """A single line of prose ``size`` bytes long: no line break for the splitters to use."""
    sentence = b"The harbour wall held through the storm and the town stayed dry. "
    return (sentence * (size // len(sentence) + 1))[:size]


def _varied_words(size: int) -> bytes:
    """Prose-like lines of ``size`` bytes from a 20,000-word made-up vocabulary: nearly every
    word 3-gram is distinct, the worst case for shingling and MinHash."""
    rng = random.Random(size)
    letters = "etaoinshrdlcumwfgypbvk"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(20_000)]
    lines, total = [], 0
    while total < size:
        line = " ".join(rng.choices(vocabulary, k=12)).capitalize() + "."
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines).encode()[:size]


def _over_limit_envelope() -> bytes:
    return orjson.dumps({"id": "too-big", "body": "a" * DEFAULT_MAX_BODY_BYTES})


def _html_bomb() -> bytes:
    # 80,000 levels: as deep as fits under the default body limit.
    return b"<div>" * 80_000 + b"The text at the bottom of the bomb." + b"</div>" * 80_000


def _deep_html_loses_text() -> bytes:
    return (
        b"<p>The council approved the harbour wall on Monday after a long debate.</p>"
        + b"<div>" * 300 + b"Nested" + b"</div>" * 300
        + b"<p>Residents welcomed the decision, which ends years of flooding.</p>"
    )


def random_binary(seed: int, size: int) -> bytes:
    """Seeded random bytes: no text encoding decides them."""
    return random.Random(seed).randbytes(size)
# Hostile values stay under the default body limit, so they reach the text path and the
# broker test's topic; each is the worst case of one step found super-linear before.
_HOSTILE = 900 * 1024


def _export_with_space_run() -> bytes:
    """A delimited export whose text has a long run of spaces: the closing-quote seam regex
    retried the run from every space (quadratic: ~18 s at 100,000 spaces)."""
    head = b"T-I-T-L-E-S-T-A-R-T. Seams T-I-T-L-E-E-N-D. T-E-X-T-S-T-A-R-T. "
    return head + story("seam").encode() + b" " * _HOSTILE + b"The end."


def _export_with_marker_runs() -> bytes:
    """', external' followed by long space runs: the marker's lookahead tried 40 words at
    every space."""
    run = b"Hassan, external" + b" " * 1000 + b"said "
    return b"T-E-X-T-S-T-A-R-T. " + story("ext").encode() + b" " + run * (_HOSTILE // len(run))


def _date_markers() -> bytes:
    """Leading date markers: each one recursed and copied the body (1.05 GiB at 1 MiB)."""
    return b"date 2024-08-18 " * (_HOSTILE // 16) + story("dates").encode()


def _page_behind_two_date_markers() -> bytes:
    return (b"date 2024-08-18 date 2024-08-19 <!doctype html><html><body><article><p>"
            + story("twodates").encode() + b"</p></article></body></html>")


def _caption_lines() -> bytes:
    """400-character 'Image caption' lines ending in a letter: the rule backtracked
    (3.2 s on 1 MiB)."""
    line = "Image caption " + "!" * 385 + "a"
    return ("\n".join([line] * (_HOSTILE // 400)) + "\n" + story("caption")).encode()


def _fdfa() -> bytes:
    """U+FDFA is 3 bytes and 18 characters after NFKC: 880 KiB made a 9.7 MB record."""
    return ("ﷺ" * (_HOSTILE // 3)).encode()


def _distinct_lines() -> bytes:
    """Tens of thousands of distinct paragraphs: the fingerprint record carried every key
    (digits are not in the fingerprint form, so the lines differ in a word)."""
    return "\n".join(
        f"Line {_letters(i)} of the report names the farmers." for i in range(_HOSTILE // 44)
    ).encode()[:_HOSTILE]


def _letters(number: int) -> str:
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word += chr(ord("a") + digit)
        if not number:
            return word


def _huge_metadata() -> bytes:
    return orjson.dumps({"body": story("meta"), "title": "T" * 300_000,
                         "source": "s" * 300_000, "url": "https://x.test/" + "u" * 200_000})


def field_length(name: str, chars: int) -> Check:
    return Check(f"{name} has {chars} characters", lambda r: len(r.get(name) or "") == chars)


_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02" + bytes(64)
_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)
_NESTING = 10_000
# Wall-clock bound of a hostile case through the core: super-linear steps took minutes.
HOSTILE_TIME_BOUND_S = 5.0
CASES: tuple[Case, ...] = (
    # -- encodings ---------------------------------------------------------------------
    Case("random_binary", const(random_binary(1, 4096)), DeadLetter("not_utf8")),
    Case("random_binary_short", const(random_binary(2, 64)), DeadLetter("not_utf8")),
    Case("latin1_text", const("Le café était très animé ce matin, a dit le maire.".encode(
        "latin-1")), Enriched((text_contains("Le café était très animé"),
                               field_equals("source_encoding", "cp1252"),
                               field_equals("encoding_detected", True)))),
    Case("cp1252_smart_quotes", const(QUOTED.encode("cp1252")),
         Enriched((text_contains('He said "no comment"'),
                   field_equals("source_encoding", "cp1252")))),
    Case("latin1_page_meta_charset", const(
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
        b"</head><body><p>" + GOOD.encode() + b" Le caf\xe9 \xe9tait ferm\xe9.</p></body></html>"),
         Enriched((text_contains("Le café était fermé."),
                   field_equals("source_encoding", "cp1252"),
                   field_equals("encoding_detected", False)))),
    Case("utf16_le_bom", const(("Ünïcödé news — “quoted”.\n" + story("u16")).encode("utf-16")),
         Enriched((text_contains("Ünïcödé news - \"quoted\"."), text_contains(first_words("u16")),
                   no_bom()))),
    Case("utf16_be_bom", const(codecs.BOM_UTF16_BE + story("u16be").encode("utf-16-be")),
         Enriched((text_contains(first_words("u16be")), no_bom()))),
    Case("utf32_bom", const(story("u32").encode("utf-32")),
         Enriched((text_contains(first_words("u32")), no_bom()))),
    Case("utf8_bom", const(codecs.BOM_UTF8 + story("u8bom").encode()),
         Enriched((text_contains(first_words("u8bom")), no_bom()))),
    Case("utf8_bom_envelope",
         const(codecs.BOM_UTF8 + orjson.dumps({"id": "bom", "body": story("u8env")})),
         Enriched((field_equals("id", "bom"), text_contains(first_words("u8env")), no_bom()))),
    Case("utf16_bom_truncated", const(GOOD.encode("utf-16") + b"x"), DeadLetter("not_utf8")),
    # -- JSON that is not an object ----------------------------------------------------
    Case("json_array", const(b"[1, 2, 3]"), DeadLetter("invalid_envelope")),
    # A pass-through field nested too deep for an output record to be written: it passed the
    # envelope until 2026-12-05 and stopped the stateful step (a worker crash per delivery).
    Case("deeply_nested_passthrough",
         const(b'{"body": "Storm hits the coast.", "deep": ' + b"[" * 252 + b"]" * 252 + b"}"),
         DeadLetter("invalid_envelope")),
    Case("json_number", const(b"42"), DeadLetter("invalid_envelope")),
    Case("json_string", const(b'"x"'), DeadLetter("invalid_envelope")),
    Case("json_null", const(b"null"), DeadLetter("invalid_envelope")),
    Case("json_true", const(b"true"), DeadLetter("invalid_envelope")),
    Case("json_encoded_article", const(orjson.dumps(GOOD)), DeadLetter("invalid_envelope")),
    Case("json_truncated_object", const(b'{"body": "unterminated'),
         DeadLetter("invalid_envelope")),
    Case("text_starting_like_json", const(b"[UPDATED] " + story("json").encode()),
         Enriched((text_contains("[UPDATED] " + first_words("json")),))),
    # -- wrong field types -------------------------------------------------------------
    Case("body_number", env(body=5), DeadLetter("invalid_envelope")),
    Case("body_list", env(body=[GOOD]), DeadLetter("invalid_envelope")),
    Case("body_object", env(body={"text": GOOD}), DeadLetter("invalid_envelope")),
    Case("title_list", env(body=GOOD, title=["a", "b"]), DeadLetter("invalid_envelope")),
    Case("id_bool", env(body=GOOD, id=True), DeadLetter("invalid_envelope")),
    Case("id_object", env(body=GOOD, id={"value": 1}), DeadLetter("invalid_envelope")),
    Case("id_too_long", env(body=GOOD, id="x" * 300), DeadLetter("invalid_envelope")),
    Case("id_number_is_text", env(body=story("id42"), id=42),
         Enriched((field_equals("id", "42"),))),
    # -- no body -----------------------------------------------------------------------
    Case("missing_body", env(title="A title and nothing else"), DeadLetter("missing_body")),
    Case("empty_body", env(body=""), DeadLetter("empty_body")),
    Case("whitespace_body", env(body=" \n\t \r\n "), DeadLetter("empty_body")),
    Case("empty_value", const(b""), DeadLetter("empty_body")),
    Case("whitespace_value", const(b" \n\t "), DeadLetter("empty_body")),
    # A tombstone has a key (Kafka clients refuse a message with neither).
    Case("null_value_tombstone", const(None), DeadLetter("empty_body"), key=b"article-1"),
    Case("markup_only_spans", env(body="<div><span></span></div>"), DeadLetter("empty_body")),
    Case("markup_only_script", env(body="<script>x</script>"), DeadLetter("empty_body")),
    Case("markup_only_bare", const(b"<div><span></span></div>"), DeadLetter("empty_body")),
    # -- size --------------------------------------------------------------------------
    Case("body_over_default_limit", _over_limit_envelope, DeadLetter("too_large"),
         time_bound_s=10.0),
    Case("body_over_small_limit", env(body=GOOD * 20), DeadLetter("too_large"),
         max_body_bytes=1024),
    Case("one_line_5mb_default_limit", lambda: _one_line(5_000_000), DeadLetter("too_large"),
         time_bound_s=10.0),
    # The text fills the record up to the topic's message limit, and says it was cut.
    Case("one_line_5mb_raised_limit", lambda: _one_line(5_000_000),
         Enriched((text_at_least(1_000_000), truncated("text"))),
         max_body_bytes=8 * 1024 * 1024, time_bound_s=10.0),
    Case("varied_words_just_under_limit", lambda: _varied_words(DEFAULT_MAX_BODY_BYTES - 1024),
         Enriched((text_at_least(900_000),)), time_bound_s=10.0),
    # -- nesting -----------------------------------------------------------------------
    Case("nested_arrays_10k", const(b"[" * _NESTING + b"]" * _NESTING),
         DeadLetter("invalid_envelope"), time_bound_s=10.0),
    Case("nested_objects_10k", const(b'{"a":' * _NESTING + b"1" + b"}" * _NESTING),
         DeadLetter("invalid_envelope"), time_bound_s=10.0),
    Case("nested_passthrough_10k",
         const(b'{"body": "Text.", "meta": ' + b'{"a":' * _NESTING + b"1" + b"}" * _NESTING
               + b"}"),
         DeadLetter("invalid_envelope"), time_bound_s=10.0),
    # -- controls inside good text -----------------------------------------------------
    Case("nul_and_controls_in_text",
         const(b"The mayor\x00 said the \x07budget\x1b was \x7fbalanced.\x00\n"
               + story("nul").encode()),
         Enriched((text_contains("The mayor said the budget was balanced."),
                   no_control_characters("text")))),
    Case("c1_controls_in_text", const("The mayor \u0093said\u0094 the \u009bbudget is "
                                      "late.\n".encode() + story("c1").encode()),
         Enriched((no_control_characters("text"), text_contains("budget is late")))),
    Case("nul_in_envelope_fields",
         env(body="The mayor\x00 met the nurses\x00 on Friday.", title="Budget\x00 vote\x07",
             source="city\x00hall", url="https://x.test/\x1bbudget"),
         Enriched((text_equals("The mayor met the nurses on Friday."),
                   field_equals("title", "Budget vote"), field_equals("source", "cityhall"),
                   no_control_characters("text", "title", "source", "url")))),
    Case("nul_in_id", env(body=GOOD, id="a\x00b"), DeadLetter("invalid_envelope")),
    # -- binary ------------------------------------------------------------------------
    Case("gzip_bytes", const(gzip.compress(GOOD.encode() * 10)), DeadLetter("binary_content")),
    Case("png_bytes", const(_PNG), DeadLetter("binary_content")),
    Case("jpeg_bytes", const(_JPEG), DeadLetter("binary_content")),
    # -- feeds: many articles in one message ---------------------------------------------
    Case("rss_feed", const(b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>G'
                           b"</title><item><title>A</title><description>" + GOOD.encode()
                           + b"</description></item></channel></rss>"),
         DeadLetter("unsupported_format")),
    Case("atom_feed_in_an_envelope",
         env(body='<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>A</title>'
                  f"<content>{GOOD}</content></entry></feed>"),
         DeadLetter("unsupported_format")),
    # -- hostile HTML ------------------------------------------------------------------
    # libxml2 stops at 256 levels and drops the rest: refused rather than silently cut.
    Case("html_bomb_80k_divs", _html_bomb, DeadLetter("extraction_failed"), time_bound_s=10.0),
    Case("html_deeper_than_256_levels", const(_deep_html_loses_text()),
         DeadLetter("extraction_failed")),
    # -- keys --------------------------------------------------------------------------
    Case("null_key", const(story("nullkey").encode()), Enriched((id_is_origin(),)), key=None),
    Case("huge_key_good_value", const(story("hugekey").encode()), Enriched((id_is_origin(),)),
         key=b"k" * 1024 * 1024),
    Case("huge_key_envelope_id", env(id="from-envelope", body=story("hugekeyid")),
         Enriched((field_equals("id", "from-envelope"),)), key=b"k" * 1024 * 1024),
    Case("huge_key_bad_value", const(random_binary(3, 1024)), DeadLetter("not_utf8"),
         key=b"\xff" * 1024 * 1024),
    # -- hostile: super-linear steps, outputs over the topic limit ---------------------
    Case("export_with_space_run", _export_with_space_run,
         Enriched((field_equals("format", "delimited_export"),
                   text_contains(first_words("seam")))), time_bound_s=HOSTILE_TIME_BOUND_S),
    Case("export_with_external_marker_runs", _export_with_marker_runs,
         Enriched((text_contains(first_words("ext")),)), time_bound_s=HOSTILE_TIME_BOUND_S),
    Case("date_markers_run", _date_markers,
         Enriched((field_equals("format", "date_prefixed_text"),
                   field_equals("published_at", "2024-08-18T00:00:00+00:00"),
                   text_equals(story("dates").replace("\n", "\n\n")))),
         time_bound_s=HOSTILE_TIME_BOUND_S),
    # Two markers used to leave the page to the plain-text parser: tags in the text.
    Case("page_behind_two_date_markers", const(_page_behind_two_date_markers()),
         Enriched((field_equals("format", "date_prefixed_html_page"),
                   field_equals("published_at", "2024-08-18T00:00:00+00:00"),
                   Check("text has no tags", lambda r: "<" not in r["text"]),
                   text_contains(first_words("twodates"))))),
    Case("caption_lines", _caption_lines, Enriched((text_contains(first_words("caption")),)),
         time_bound_s=HOSTILE_TIME_BOUND_S),
    Case("nfkc_expansion_fdfa", _fdfa, Enriched((truncated("text"),)),
         time_bound_s=HOSTILE_TIME_BOUND_S),
    Case("distinct_lines", _distinct_lines, Enriched((text_contains("Line a of the report"),)),
         time_bound_s=HOSTILE_TIME_BOUND_S),
    Case("huge_metadata", _huge_metadata,
         Enriched((truncated("source", "title", "url"), field_length("title", 1024),
                   field_length("source", 256), field_length("url", 2048)))),
    # Controls are escaped 6 bytes each in JSON: the dead letter's copy is cut to fit.
    Case("controls_only_value", const(b"\x01" * _HOSTILE), DeadLetter("empty_body")),
    Case("control_key_bad_value", const(random_binary(7, 256)), DeadLetter("not_utf8"),
         key=b"\x01" * 1024 * 1024),
)

BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"


def wire_size(case: Case) -> int:
    """Bytes the case puts on the wire (value and key)."""
    return len(case.value or b"") + len(case.key or b"")
