"""Output records within the topic's message size: exact encoded sizes, and cutting to fit.

Kafka refuses a record batch over the topic's ``max.message.bytes``; a refused output is a
message with no output at all. So every record the core emits is measured as it will be
sent (UTF-8 key plus the ``orjson`` value) and, when over ``max_bytes``, cut where cutting
loses least: the enriched ``text`` (and a very long ``outlinks`` list), the dead letter's
copied raw value and key. What was cut is named in the record. The fixed part of a record
(ids, capped metadata, ``extra`` up to 64 KiB) is far below the smallest limit the settings
accept, so cutting those variable fields always succeeds; if it ever did not,
:class:`RecordTooLargeError` makes the message a (small) dead letter instead.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from streams.core.errors import RecordTooLargeError

if TYPE_CHECKING:
    from streams.core.records import Output

# Kafka's default max.message.bytes (1 MiB) is the default topic limit (INGEST_MAX_MESSAGE_BYTES).
DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
# Room left for what Kafka adds around key and value: the record batch header (61 B), the
# record framing (varints, <= 32 B) and headers a client may add.
RECORD_HEADROOM_BYTES = 4096
DEFAULT_MAX_RECORD_BYTES = DEFAULT_MAX_MESSAGE_BYTES - RECORD_HEADROOM_BYTES
# Share of the budget the outlinks of an enriched record may take before the list is cut.
OUTLINKS_SHARE = 8
# Share of the budget a dead letter's copied key may take; the raw value gets the rest.
DEADLETTER_KEY_SHARE = 8
# A JSON escape is at most 6 bytes (\u00XX) and a UTF-8 character 4: a cut inside one is
# undone by backing off at most this many bytes.
_MAX_BACKOFF = 8


def encoded_size(key: str, value: dict[str, Any]) -> int:
    """Bytes of a record on the wire, as the publisher encodes it (key and value)."""
    return len(key.encode("utf-8")) + len(orjson.dumps(value))


# orjson escapes '"', '\\' and the C0 controls: these five in two bytes, the rest in six.
_SHORT_ESCAPES = frozenset("\b\t\n\f\r")
_C0 = tuple(chr(c) for c in range(0x20))


def json_string_size(text: str) -> int:
    """Bytes of ``text`` as a JSON string, quotes included, as orjson writes it.

    Counted rather than encoded: orjson reserves 8 bytes a character while it encodes, which
    made a dead letter's 256 KiB copy peak at 4.7 MB.
    """
    size = len(text.encode("utf-8")) + 2
    size += text.count('"') + text.count("\\")
    if not text.isprintable():
        size += sum(
            text.count(c) * (1 if c in _SHORT_ESCAPES else 5) for c in _C0 if c in text
        )
    return size


def json_string_prefix(text: str, max_encoded: int) -> str:
    """The longest prefix of ``text`` whose JSON string (quotes included) has at most
    ``max_encoded`` bytes; "" when not even one character fits.

    JSON-encoding a string encodes each character on its own, so the encoding of a prefix is
    a prefix of the encoding: cut the encoded bytes and back off to a character boundary.
    """
    if json_string_size(text) <= max_encoded:
        return text
    encoded = orjson.dumps(text)
    cut = encoded[: max(1, max_encoded - 1)]  # keeps the opening quote, room for the closing
    for back in range(min(_MAX_BACKOFF, len(cut))):
        try:
            prefix: str = orjson.loads(cut[: len(cut) - back] + b'"')
        except orjson.JSONDecodeError:
            continue
        return prefix
    return ""


def bytes_prefix(data: bytes, max_encoded: int, encoding: str) -> bytes:
    """The longest prefix of ``data`` whose JSON string in ``encoding`` ("utf-8" text or
    "base64") has at most ``max_encoded`` bytes; ``data`` must be valid UTF-8 for "utf-8"."""
    if encoding == "base64":
        return data[: max(0, (max_encoded - 2) // 4) * 3]
    return json_string_prefix(data.decode("utf-8"), max_encoded).encode("utf-8")


def fit_outputs(outputs: Sequence[Output], max_bytes: int) -> list[Output]:
    """Every output within ``max_bytes``: enriched records cut to fit (:func:`fit_enriched`);
    duplicates and corrections hold only capped fields and always fit, which is checked.
    Dead letters are built to fit (:func:`fit_deadletter`)."""
    fitted = []
    for output in outputs:
        if output.kind == "enriched":
            value = fit_enriched(output.key, output.value, max_bytes)
            fitted.append(dataclasses.replace(output, value=value))
            continue
        if encoded_size(output.key, output.value) > max_bytes:
            raise RecordTooLargeError(
                f"{output.kind} record for {output.key[:80]!r} is over {max_bytes} bytes"
            )
        fitted.append(output)
    return fitted


def fit_enriched(key: str, value: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """``value`` as is when it fits; otherwise with ``outlinks`` and then ``text`` cut, named
    in ``truncated_fields``. Raises :class:`RecordTooLargeError` when it cannot fit."""
    if encoded_size(key, value) <= max_bytes:
        return value
    value = dict(value)
    cut = set(value.get("truncated_fields", ()))
    value["truncated"] = True
    outlinks = value.get("outlinks") or []
    kept = _list_prefix(outlinks, max_bytes // OUTLINKS_SHARE)
    if len(kept) < len(outlinks):
        value["outlinks"] = kept
        cut.add("outlinks")
    value["truncated_fields"] = sorted(cut)
    if encoded_size(key, value) <= max_bytes:
        return value
    # The flags are final before the text is measured, so the cut is exact.
    value["truncated_fields"] = sorted(cut | {"text"})
    text = value["text"]
    value["text"] = ""
    room = max_bytes - encoded_size(key, value) + len(b'""')
    value["text"] = json_string_prefix(text, room)
    if not value["text"].strip() or encoded_size(key, value) > max_bytes:
        raise RecordTooLargeError(
            f"enriched record for {key[:80]!r} does not fit {max_bytes} bytes even without "
            "its text"
        )
    return value


def fit_deadletter(
    key: str,
    value: dict[str, Any],
    raw: tuple[bytes | None, bool],
    raw_key: tuple[bytes | None, bool],
    max_bytes: int,
) -> dict[str, Any]:
    """Fill a dead letter's ``raw`` and ``raw_key``, each cut to fit ``max_bytes``.

    ``raw`` and ``raw_key`` are (bytes, already cut) pairs; ``value`` carries everything
    else, including ``raw_encoding`` and ``raw_key_encoding`` ("utf-8", "base64" or "none").
    The key may take at most 1/DEADLETTER_KEY_SHARE of the room, the value the rest;
    ``raw_truncated`` and ``raw_key_truncated`` say whether anything was left out.
    """
    value = dict(value)
    # Measured with the longer spelling of each flag ("false"), so either final value fits.
    value.update(raw=None, raw_truncated=False, raw_key=None, raw_key_truncated=False)
    room = max_bytes - encoded_size(key, value) + 2 * len(b"null")
    if room < 2 * len(b"null"):
        # Unreachable with the limits settings accept (the rest of a dead letter is a few
        # KiB); a dead letter must never raise, so it goes without its raw copies.
        return value
    value["raw_key"], value["raw_key_truncated"] = _encode_part(
        raw_key, value["raw_key_encoding"], max(len(b"null"), room // DEADLETTER_KEY_SHARE)
    )
    value["raw"], value["raw_truncated"] = _encode_part(
        raw, value["raw_encoding"], room - len(orjson.dumps(value["raw_key"]))
    )
    return value


def _encode_part(
    part: tuple[bytes | None, bool], encoding: str, max_encoded: int
) -> tuple[str | None, bool]:
    data, cut = part
    if data is None:
        return None, cut
    kept = bytes_prefix(data, max_encoded, encoding)
    text = base64.b64encode(kept).decode("ascii") if encoding == "base64" else kept.decode()
    return text, cut or len(kept) < len(data)


def _list_prefix(items: list[Any], max_encoded: int) -> list[Any]:
    """The longest prefix of ``items`` whose JSON array has at most ``max_encoded`` bytes."""
    total = len(b"[]")
    for count, item in enumerate(items):
        total += len(orjson.dumps(item)) + (1 if count else 0)
        if total > max_encoded:
            return items[:count]
    return items
