"""Output records: the JSON contract downstream consumers rely on (see ``schemas/``).

Builders are pure: they take plain data and return dicts ready for ``orjson.dumps``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Literal

from streams.core.dedup.model import Decision
from streams.core.envelope import Envelope
from streams.core.errors import IngestError
from streams.core.stories.model import StoryUpdate
from streams.core.text.model import NormalizedArticle

SCHEMA_VERSION = 1
OutputKind = Literal["enriched", "duplicates", "deadletter", "stories"]
# A dead letter carries the raw value for replay; past this size it carries a prefix and the
# origin (the raw topic still holds the whole message until its retention runs out).
DEADLETTER_RAW_LIMIT = 256 * 1024


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message of the raw topic, as the shell hands it to the pure core."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int

    @property
    def origin(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}

    @property
    def origin_str(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    def derived_id(self) -> str:
        """The id of a message that brings none: stable across replays of the same message."""
        return self.origin_str


@dataclass(frozen=True, slots=True)
class Output:
    """One record to publish: which output, its key (the article id) and its JSON value."""

    kind: OutputKind
    key: str
    value: dict[str, Any]


def parse_origin(origin: str) -> dict[str, Any]:
    """The inverse of :attr:`RawMessage.origin_str`, for origins kept in the index."""
    topic, _, rest = origin.rpartition("/")
    topic, _, partition = topic.rpartition("/")
    try:
        return {"topic": topic, "partition": int(partition), "offset": int(rest)}
    except ValueError:
        return {"topic": origin or "unknown", "partition": 0, "offset": 0}


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def _common(article_id: str, raw: RawMessage, now_ms: int) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "id": article_id,
        "origin": raw.origin,
        "received_at": iso_ms(raw.timestamp_ms),
        "processed_at": iso_ms(now_ms),
    }


def enriched_record(
    *,
    article_id: str,
    raw: RawMessage,
    envelope: Envelope,
    article: NormalizedArticle,
    content_hash: str,
    now_ms: int,
) -> dict[str, Any]:
    record = _common(article_id, raw, now_ms)
    record.update(
        url=envelope.url,
        source=envelope.source,
        title=envelope.title or article.title,
        published_at=envelope.published_at or article.published_at,
        language=article.language,
        format=article.format,
        text=article.text,
        word_count=article.word_count,
        outlinks=list(article.outlinks),
        boilerplate_removed=article.boilerplate_removed,
        content_hash=content_hash,
    )
    if envelope.extra:
        record["extra"] = envelope.extra
    return record


def duplicate_record(
    *,
    article_id: str,
    raw: RawMessage,
    envelope: Envelope,
    title: str | None,
    decision: Decision,
    content_hash: str,
    now_ms: int,
) -> dict[str, Any]:
    record = _common(article_id, raw, now_ms)
    record.update(
        url=envelope.url,
        source=envelope.source,
        title=title,
        duplicate_of=decision.duplicate_of,
        match=decision.match,
        similarity=round(decision.similarity or 0.0, 4),
        content_hash=content_hash,
    )
    return record


def correction_record(
    article_id: str,
    origin: dict[str, Any],
    duplicate_of: str,
    similarity: float,
    now_ms: int,
) -> dict[str, Any]:
    """A duplicates record that overturns an earlier "kept" verdict (a race, or late arrival)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "id": article_id,
        "origin": origin,
        "processed_at": iso_ms(now_ms),
        "duplicate_of": duplicate_of,
        "match": "near" if similarity < 1.0 else "exact",
        "similarity": round(similarity, 4),
        "supersedes": "kept",
    }


def story_update_record(update: StoryUpdate) -> dict[str, Any]:
    """A late merge of two stories, for consumers (``schemas/story-update.schema.json``)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "story_id": update.story,
        "merged_into": update.into,
        "story_founded_at": iso_ms(update.story_time_ms),
        "merged_into_founded_at": iso_ms(update.into_time_ms),
        "reason": update.reason,
        "processed_at": iso_ms(update.at_ms),
    }


def _encode_bytes(data: bytes | None) -> tuple[str | None, str]:
    if data is None:
        return None, "none"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def deadletter_record(
    raw: RawMessage, error: IngestError, now_ms: int, article_id: str | None = None
) -> dict[str, Any]:
    record = _common(article_id or raw.derived_id(), raw, now_ms)
    value = raw.value
    truncated = value is not None and len(value) > DEADLETTER_RAW_LIMIT
    if truncated and value is not None:
        value = value[:DEADLETTER_RAW_LIMIT]
    raw_text, encoding = _encode_bytes(value)
    key_text, key_encoding = _encode_bytes(
        raw.key[:DEADLETTER_RAW_LIMIT] if raw.key is not None else None
    )
    record.update(
        error=error.code,
        detail=error.detail,
        raw=raw_text,
        raw_encoding=encoding,
        raw_truncated=truncated,
        raw_key=key_text,
        raw_key_encoding=key_encoding,
    )
    return record


def record_schema(name: str) -> dict[str, Any]:
    """The installed JSON Schema of a record (``enriched``, ``duplicate``, ``deadletter``,
    ``raw-envelope``, ``story-update``): the copy shipped inside the package, the one
    consumers get."""
    path = resources.files("streams") / "schemas" / f"{name}.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema
