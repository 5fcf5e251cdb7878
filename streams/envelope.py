"""Decoding a raw Kafka message value into an :class:`Envelope`.

A raw value is either a JSON object (``body`` required; ``id``, ``url``, ``source``,
``title``, ``published_at``, ``content_type`` optional; other fields passed through) or any
other bytes, taken as the body itself. Text must be UTF-8, or carry a UTF-16/UTF-32 BOM.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.errors import (
    BinaryContentError,
    EmptyBodyError,
    InvalidEnvelopeError,
    MissingBodyError,
    NotUtf8Error,
    TooLargeError,
)

OPTIONAL_STRING_FIELDS = ("id", "url", "source", "title", "published_at", "content_type")
MAX_ID_CHARS = 256
# orjson itself refuses nesting deeper than 1024; passthrough fields are capped further
# because they are copied into every output record.
MAX_PASSTHROUGH_BYTES = 64 * 1024

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC = (
    b"\x1f\x8b",  # gzip
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"PK\x03\x04",  # zip
    b"%PDF",
    b"RIFF",
    b"\x28\xb5\x2f\xfd",  # zstd
)


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
    extra: dict[str, Any] = field(default_factory=dict)


def decode_text(value: bytes) -> str:
    """Bytes to text: a BOM decides the codec, otherwise strict UTF-8."""
    for magic in _BINARY_MAGIC:
        if value.startswith(magic):
            raise BinaryContentError(f"value starts with the {magic!r} signature of binary data")
    for bom, codec in _BOMS:
        if value.startswith(bom):
            try:
                return value.decode(codec)
            except UnicodeDecodeError as exc:
                raise NotUtf8Error(f"value has a {codec} byte-order mark but {exc.reason}") from exc
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8Error(
            f"value is not UTF-8 (byte {exc.start}: {exc.reason}) and has no byte-order mark"
        ) from exc


def _looks_like_json_object(text: str) -> bool:
    return text.lstrip()[:1] == "{"


def _from_object(obj: dict[str, Any]) -> Envelope:
    if "body" not in obj:
        raise MissingBodyError("JSON envelope has no 'body' field")
    body = obj["body"]
    if not isinstance(body, str):
        raise InvalidEnvelopeError(f"'body' must be a string, got {type(body).__name__}")
    strings: dict[str, str | None] = {}
    for name in OPTIONAL_STRING_FIELDS:
        value = obj.get(name)
        if value is None:
            strings[name] = None
        elif isinstance(value, str | int) and not isinstance(value, bool):
            strings[name] = str(value).strip() or None
        else:
            raise InvalidEnvelopeError(f"'{name}' must be a string, got {type(value).__name__}")
    if strings["id"] is not None and len(strings["id"]) > MAX_ID_CHARS:
        raise InvalidEnvelopeError(f"'id' is longer than {MAX_ID_CHARS} characters")
    extra = {k: v for k, v in obj.items() if k != "body" and k not in OPTIONAL_STRING_FIELDS}
    if extra and len(orjson.dumps(extra)) > MAX_PASSTHROUGH_BYTES:
        raise InvalidEnvelopeError(
            f"pass-through fields exceed {MAX_PASSTHROUGH_BYTES} bytes of JSON"
        )
    return Envelope(body=body, extra=extra, **strings)


def parse_envelope(value: bytes | None, *, max_bytes: int) -> Envelope:
    """Decode one raw message value. Raises an :class:`InputError` subclass on bad input."""
    if value is None or not value.strip():
        raise EmptyBodyError("message value is empty")
    if len(value) > max_bytes:
        raise TooLargeError(f"value is {len(value)} bytes, over the {max_bytes}-byte limit")
    text = decode_text(value)
    if _looks_like_json_object(text):
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InvalidEnvelopeError(f"value starts like JSON but is not: {exc}") from exc
        if not isinstance(obj, dict):
            raise InvalidEnvelopeError("JSON value is not an object")
        envelope = _from_object(obj)
    elif text.lstrip()[:1] == "[" and _json_array_or_too_deep(text):
        raise InvalidEnvelopeError("JSON value is an array (or nests too deeply), not an object")
    else:
        envelope = Envelope(body=text)
    if not envelope.body.strip():
        raise EmptyBodyError("body is empty or whitespace only")
    return envelope


def _json_array_or_too_deep(text: str) -> bool:
    """True for a JSON array, or JSON-like text deeper than orjson's 1024-level limit.

    Plain text may start with "[" ("[UPDATED] ..."); only real JSON is rejected.
    """
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return "depth limit" in str(exc).lower()
    return True
