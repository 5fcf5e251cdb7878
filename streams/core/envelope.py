"""Decoding a raw Kafka message value into an :class:`Envelope`.

A raw value is either a JSON object (``body`` required; ``id``, ``url``, ``source``,
``title``, ``published_at``, ``content_type``, ``charset`` optional; other fields passed
through) or any other text that is not a whole JSON value, taken as the body itself (JSON
arrays, strings, numbers and literals are invalid envelopes). Bytes become text as
:mod:`streams.core.decoding` says: UTF-8 or a byte-order mark, else the envelope's
``charset``, the document's declared charset, or a detector.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.core.decoding import decode_legacy, decode_unicode, web_codec
from streams.core.errors import (
    EmptyBodyError,
    InvalidEnvelopeError,
    MissingBodyError,
    TooLargeError,
)

OPTIONAL_STRING_FIELDS = (
    "id", "url", "source", "title", "published_at", "content_type", "charset"
)
# Other names exports give the body and the fields (NewsAPI, scrapers' CSV and JSON). The
# body's name is the first of these present with a string; a field's alias fills it when the
# field itself is absent, and stays in ``extra`` as sent. Table exports are read with the same
# names (``streams.cli.produce``). Until 2026-12-06 a JSON envelope needed ``body``: a new-user
# trial's NewsAPI records (``content``, ``publishedAt``, ``source`` an object) were all
# dead-lettered ``missing_body``.
BODY_NAMES = ("body", "text", "content", "article", "full_text", "maintext")
FIELD_ALIASES = {
    "link": "url", "headline": "title", "published": "published_at", "date": "published_at",
    "pubdate": "published_at", "publishedat": "published_at",
}
# The id is the output key: an id over this is dead-lettered (``invalid_envelope``), never cut,
# because two ids cut to one would merge two articles.
MAX_ID_CHARS = 256
# Metadata is copied into every output record, the index of every worker (``source``) and
# the fingerprint log: longer values are cut to these many characters and named in the
# record's ``truncated_fields`` (schemas/*.schema.json carry the same maxLength).
MAX_FIELD_CHARS = {
    "url": 2048,
    "source": 256,
    "title": 1024,
    "published_at": 64,
    "content_type": 256,
    "charset": 64,
}
# orjson itself refuses nesting deeper than 1024; passthrough fields are capped further
# because they are copied into every output record.
MAX_PASSTHROUGH_BYTES = 64 * 1024
# Metadata fields are single-line strings copied verbatim into output records: a NUL there
# breaks downstream stores (PostgreSQL text refuses it), so C0/C1 controls go, and the
# whitespace ones become a space.
_CONTROL_WHITESPACE = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1f\x85]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Invisible characters no text needs (zero-width space, word joiner, byte-order mark) and
# line or paragraph separators, which a title or a name must not carry: "\u200bzero" was a
# source apart from "zero" until 2026-12-05. Joiners (U+200C, U+200D) and directional marks
# stay in titles: Persian, Indic and right-to-left text needs them.
_INVISIBLE = re.compile("[\u200b\u2060\ufeff]")
_SEPARATOR = re.compile("[\u2028\u2029]")
# Format characters of every kind (Unicode category Cf), removed from the fields that are
# identifiers or codes, not text: source, url, published_at, content_type, charset.
_MACHINE_FIELDS = frozenset({"source", "url", "published_at", "content_type", "charset"})
# A URL scheme: what ``url`` may carry is a web address ("https://...", or "www.example.com/a"
# and "//example.com/a" without one); "javascript:", "data:" or "ftp:" are no article's
# address, and a consumer that renders ``url`` as a link must not meet them.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_WEB_SCHEMES = frozenset({"http", "https"})
# "https://user:secret@host/a": credentials a crawler used, which every output record would
# copy to every consumer. The authority ends at the first "/", "?" or "#": an "@" after it
# is the path's.
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.\-]*:)?//)[^/?#@]*@")
# orjson reads an integer outside this range as a float, dropping digits without a word
# (123456789012345678901 -> 1.2345678901234568e+20), and cannot write it back either.
_INT64_RANGE = range(-(2**63), 2**64)
# A \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF one, or one of those not after a
# high one; the backslashes before it are even (an escaped backslash is no escape).
_LONE_SURROGATE_ESCAPE = re.compile(
    r"(?<!\\)((?:\\\\)*)(?:\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})"
)
# Below this every integer is exact as a float; above it 9007199254740993.0 reads as ...992.
_EXACT_FLOAT_INT = 2**53
# First characters of a JSON text that is not an object: array, string, number, literal.
_JSON_NON_OBJECT_START = frozenset('["-0123456789tfn')

@dataclass(frozen=True, slots=True)
class Envelope:
    """A raw article as the producer described it, before any text processing."""

    body: str
    id: str | None = None
    url: str | None = None
    source: str | None = None
    title: str | None = None
    published_at: str | None = None
    content_type: str | None = None
    charset: str | None = None  # declared by the producer; used only for non-UTF-8 bytes
    extra: dict[str, Any] = field(default_factory=dict)
    # How the raw bytes became text (see streams.core.decoding).
    source_encoding: str = "utf-8"
    encoding_detected: bool = False
    # Metadata fields cut to MAX_FIELD_CHARS, in OPTIONAL_STRING_FIELDS order.
    truncated: tuple[str, ...] = ()

    @property
    def absolute_url(self) -> str | None:
        """``url`` as an absolute http(s) address, what relative links on the page resolve
        against ("www.example.com/a" and "//example.com/a" read as https), or None."""
        url = self.url
        if url is None or url[:8].lower().startswith(("http://", "https://")):
            return url
        return "https:" + url if url.startswith("//") else "https://" + url


def _looks_like_json_object(text: str) -> bool:
    return text.lstrip()[:1] == "{"


def body_name(obj: dict[str, Any]) -> str | None:
    """The field an envelope's body is read from: ``body`` when present (of any type: one
    that is not a string is dead-lettered), else the first other :data:`BODY_NAMES` that
    holds a string; None when there is none (``missing_body``)."""
    if "body" in obj:
        return "body"
    return next((name for name in BODY_NAMES[1:] if isinstance(obj.get(name), str)), None)


def _from_object(obj: dict[str, Any]) -> Envelope:
    body_field = body_name(obj)
    if body_field is None:
        raise MissingBodyError(
            f"JSON envelope has no 'body' field (nor a string {', '.join(BODY_NAMES[1:])})")
    body = obj[body_field]
    if not isinstance(body, str):
        raise InvalidEnvelopeError(f"'body' must be a string, got {type(body).__name__}")
    fields = _with_aliases(obj)
    strings = {name: _string_field(name, fields.get(name)) for name in OPTIONAL_STRING_FIELDS}
    article_id = strings["id"]
    if article_id is not None and len(article_id) > MAX_ID_CHARS:
        raise InvalidEnvelopeError(f"'id' is longer than {MAX_ID_CHARS} characters")
    # The id is the output key: silently changing it could merge two articles.
    if article_id is not None and _CONTROL.search(article_id):
        raise InvalidEnvelopeError("'id' contains control characters")
    truncated = []
    for name in OPTIONAL_STRING_FIELDS[1:]:
        value = _without_controls(strings[name], machine=name in _MACHINE_FIELDS)
        limit = MAX_FIELD_CHARS[name]
        if value is not None and len(value) > limit:
            value = value[:limit].rstrip() or None
            truncated.append(name)
        strings[name] = value
    strings["url"] = _web_address(strings["url"])
    extra = {k: v for k, v in obj.items() if k != body_field and k not in OPTIONAL_STRING_FIELDS}
    if extra:
        _check_passthrough(extra)
    return Envelope(
        body=body,
        id=strings["id"],
        url=strings["url"],
        source=strings["source"],
        title=strings["title"],
        published_at=strings["published_at"],
        content_type=strings["content_type"],
        charset=strings["charset"],
        extra=extra,
        truncated=tuple(truncated),
    )


def _with_aliases(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with each absent field filled from its first alias that holds a string or a
    number (:data:`FIELD_ALIASES`, names compared in lower case), and a ``source`` object by
    its ``name`` (NewsAPI's ``{"id": "bbc-news", "name": "BBC News"}``; absent without one)."""
    fields = dict(obj)
    for name, value in obj.items():
        field = FIELD_ALIASES.get(name.lower()) if isinstance(name, str) else None
        # Only a value the field itself would take: another shape (NYT's {"main": ...}
        # headline, mongoexport's {"$date": ...}) stays a pass-through field, as before.
        if field is not None and fields.get(field) is None and _scalar(value):
            fields[field] = value
    source = fields.get("source")
    if isinstance(source, dict):
        source_name = source.get("name")
        fields["source"] = source_name if isinstance(source_name, str) else None
    return fields


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _check_passthrough(extra: dict[str, Any]) -> None:
    """Refuse pass-through fields an output record could not carry.

    They are written two levels down, as an output record holds them (record, "extra"):
    orjson writes at most 254 levels of nesting (it reads 1,023). Until 2026-12-05 deeper
    fields were an internal_error dead letter, and at exactly the record's limit they passed
    here and stopped the stateful step when it measured the record: a worker crash on every
    redelivery.
    """
    try:
        size = len(orjson.dumps([[extra]])) - 4  # less "[[" and "]]"
    except TypeError as exc:
        raise InvalidEnvelopeError(f"pass-through fields cannot be written back: {exc} "
                                   "(nested too deep)") from exc
    if size > MAX_PASSTHROUGH_BYTES:
        raise InvalidEnvelopeError(
            f"pass-through fields exceed {MAX_PASSTHROUGH_BYTES} bytes of JSON"
        )


def _string_field(name: str, value: Any) -> str | None:
    """One of :data:`OPTIONAL_STRING_FIELDS` as a string, or None when absent."""
    if value is None:
        return None
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip() or None
    if name == "published_at" and isinstance(value, float):
        return repr(value)  # epoch seconds with a fraction (JSON has no infinity)
    if isinstance(value, float) and value.is_integer() and abs(value) < _EXACT_FLOAT_INT:
        # JSON Schema, so the raw-envelope schema's "integer", counts 1.0 and 1e2 as
        # integers (pandas writes an integer column with gaps as 12345.0): taken as the
        # integer's decimal string. Until 2026-12-05 they were dead-lettered as floats.
        return str(int(value))
    raise InvalidEnvelopeError(f"'{name}' must be a string, got {type(value).__name__}")


def _web_address(url: str | None) -> str | None:
    """``url`` unless it names a scheme other than http(s), which is taken as no URL (a host
    and port, "example.com:8080/a", has no scheme: it is kept); without the user name and
    password an address may carry before its host."""
    if url is None:
        return None
    scheme = _SCHEME.match(url)
    if scheme is not None and scheme.group(1).lower() not in _WEB_SCHEMES:
        after = url[scheme.end():]  # "example.com:8080/a": a port, not a scheme
        if not ("." in scheme.group(1) and after[:1].isdigit()):
            return None
    return _USERINFO.sub(r"\1", url, count=1) if "@" in url else url


def _without_controls(value: str | None, *, machine: bool) -> str | None:
    """``value`` without control characters (whitespace ones become spaces), invisible ones
    and, in a ``machine`` field, any format character (Unicode category Cf)."""
    if value is None or value.isprintable():
        return value
    value = _CONTROL.sub("", _CONTROL_WHITESPACE.sub(" ", value))
    value = _INVISIBLE.sub("", _SEPARATOR.sub(" ", value))
    if machine:
        value = "".join(c for c in value if c.isprintable() or unicodedata.category(c) != "Cf")
    return value.strip() or None


def parse_envelope(value: bytes | None, *, max_bytes: int) -> Envelope:
    """Decode one raw message value. Raises an :class:`InputError` subclass on bad input."""
    # Size first, and isspace() rather than strip(): an oversized value is never copied.
    if value is not None and len(value) > max_bytes:
        raise TooLargeError(f"value is {len(value)} bytes, over the {max_bytes}-byte limit")
    if not value or value.isspace():
        raise EmptyBodyError("message value is empty")
    decoded = decode_unicode(value) or decode_legacy(value, _declared_charset(value))
    text = decoded.text
    if _looks_like_json_object(text):
        try:
            obj, text = loads_json(text)
        except orjson.JSONDecodeError as exc:
            raise InvalidEnvelopeError(f"value starts like JSON but is not: {exc}") from exc
        if not isinstance(obj, dict):
            raise InvalidEnvelopeError("JSON value is not an object")
        if text is not decoded.text and isinstance(obj.get("id"), str) and "\ufffd" in obj["id"]:
            # The id is the output key: never changed, as with control characters.
            raise InvalidEnvelopeError("'id' contains a lone surrogate (\\ud800-\\udfff)")
        if holds_wide_integer(obj, text):
            raise InvalidEnvelopeError(
                "an integer is outside the 64-bit range (JSON readers lose its digits); "
                "send it as a string"
            )
        envelope = _from_object(obj)
    elif text.lstrip()[:1] in _JSON_NON_OBJECT_START and _json_non_object_or_too_deep(text):
        raise InvalidEnvelopeError(
            "JSON value is an array, string, number or literal (or nests too deeply), "
            "not an object"
        )
    else:
        envelope = Envelope(body=text)
    if not envelope.body.strip():
        raise EmptyBodyError("body is empty or whitespace only")
    if decoded.encoding != "utf-8" or decoded.detected:
        envelope = dataclasses.replace(
            envelope, source_encoding=decoded.encoding, encoding_detected=decoded.detected
        )
    return envelope


def loads_json(text: str) -> tuple[Any, str]:
    """``text`` read as JSON, and the text read: ``text`` itself, or, when it escapes lone
    UTF-16 surrogates (``"\\ud83d"``, half an emoji that a JavaScript producer cut), the text
    with each of them escaped as U+FFFD instead, as the body's own lone surrogates become.

    RFC 8259's grammar allows such escapes and JavaScript writes them; orjson refuses them,
    so until 2026-12-05 the whole message was dead-lettered ``invalid_envelope``. Raises
    orjson.JSONDecodeError for anything else it refuses.
    """
    try:
        return orjson.loads(text), text
    except orjson.JSONDecodeError as exc:
        if "surrogate" not in str(exc):
            raise
        repaired = _LONE_SURROGATE_ESCAPE.sub(r"\1\\ufffd", text)
        if repaired == text:
            raise
        return orjson.loads(repaired), repaired


def holds_wide_integer(obj: dict[str, Any], text: str | bytes) -> bool:
    """True when the JSON object ``obj``, read by orjson from ``text``, had an integer
    outside the 64-bit range, which orjson reads as a float (its digits lost): writing
    ``obj`` back would send that float on."""
    return _holds_float(obj) and _has_wide_integer(text)


def _holds_float(obj: dict[str, Any]) -> bool:
    """True when a value other than the body is a float, or holds one (iteratively: orjson
    allows more nesting than Python's recursion limit)."""
    pending: list[Any] = [value for name, value in obj.items() if name != "body"]
    while pending:
        value = pending.pop()
        if isinstance(value, float):
            return True
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _has_wide_integer(text: str | bytes) -> bool:
    """True when the JSON ``text`` has an integer literal orjson read as a float.

    Only called for envelopes that hold a float (rare), since the standard library's reader,
    the one that keeps such an integer exact, is the slower one.
    """
    wide = False

    def read_int(literal: str) -> int:
        nonlocal wide
        number = int(literal)
        wide = wide or number not in _INT64_RANGE
        return number

    try:
        json.loads(text, parse_int=read_int)
    except (ValueError, RecursionError):
        return False  # orjson read it, so only its nesting can be past this reader's limit
    return wide


def _declared_charset(value: bytes) -> str | None:
    """The ``charset`` field of a JSON envelope that is not UTF-8.

    JSON syntax is ASCII, so latin-1 (which maps every byte to a character) reads the
    envelope's structure and its ASCII field values whatever the real encoding is.
    """
    text = value.decode("latin-1")
    if not _looks_like_json_object(text):
        return None
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _charset_that_decodes(value)
    charset = obj.get("charset") if isinstance(obj, dict) else None
    return charset if isinstance(charset, str) else None


# A "charset" field with a label for a value, anywhere in the bytes.
_CHARSET_FIELD = re.compile(rb'"charset"\s*+:\s*+"([A-Za-z0-9._:-]{1,40})"')
_CHARSET_TRIES = 3


def _charset_that_decodes(value: bytes) -> str | None:
    """The label of a ``"charset": "<label>"`` in ``value`` that decodes the whole value
    into a JSON object whose ``charset`` is that label, or None.

    In Shift_JIS, Big5 and GBK a character's second byte may be 0x5C, a backslash in the
    Latin-1 reading (表 is 95 5C) that escapes whatever follows: the structure pass fails
    and the charset was lost (475 of 600 Japanese news envelopes of a trial, 2026-12-06,
    many then ``not_utf8``). Decoded with its own label, such an envelope is JSON again.
    """
    for found in itertools.islice(_CHARSET_FIELD.finditer(value), _CHARSET_TRIES):
        label = found[1].decode("ascii")
        codec = web_codec(label)
        if codec is None:
            continue
        try:
            obj = orjson.loads(value.decode(codec))
        except (UnicodeDecodeError, orjson.JSONDecodeError):
            continue
        if isinstance(obj, dict) and obj.get("charset") == label:
            return label
    return None


def _json_non_object_or_too_deep(text: str) -> bool:
    """True for JSON that is not an object, or JSON-like text deeper than orjson's limit.

    Plain text may start like JSON ("[UPDATED] ...", "2024 was ...", "\"No,\" she said");
    only a whole JSON value is rejected: a producer that sent ``null`` or a JSON-encoded
    string has a bug, and taking its JSON as article text would hide it.
    """
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return "depth limit" in str(exc).lower()
    return True
