"""Output records: the JSON contract downstream consumers rely on (see ``schemas/``).

Builders are pure: they take plain data and return dicts ready for ``orjson.dumps``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, Literal

from streams.core.article_metadata import ArticleMetadata
from streams.core.dedup.model import Decision
from streams.core.dedup.revision import Revision
from streams.core.envelope import Envelope
from streams.core.errors import IngestError, PublishFailedError
from streams.core.identity import sent_id
from streams.core.record_budget import DEFAULT_MAX_RECORD_BYTES, fit_deadletter
from streams.core.stories.model import StoryUpdate
from streams.core.text.model import NormalizedArticle

SCHEMA_VERSION = 1
OutputKind = Literal["enriched", "duplicates", "deadletter", "stories"]
# A dead letter carries the raw value for replay; past this size it carries a prefix and the
# origin (the raw topic still holds the whole message until its retention runs out). The
# record's encoded size bounds it further (record_budget.fit_deadletter).
DEADLETTER_RAW_LIMIT = 256 * 1024
# An error's detail is one sentence; some quote input, which must not make it long.
MAX_DETAIL_CHARS = 1000
MAX_DEADLETTER_ID_CHARS = 256  # the dead-letter schema's maxLength of "id"


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


# The first and last milliseconds a record's ISO 8601 times can show (datetime's years 1-9999).
MIN_TIMESTAMP_MS = -62_135_596_800_000
MAX_TIMESTAMP_MS = 253_402_300_799_999
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def clamp_timestamp_ms(ms: int) -> int:
    """``ms`` moved into ``[MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS]``, the nearest end when outside.

    A Kafka timestamp is any int64 its producer chose on a raw topic that keeps the
    producer's time (CreateTime; Tansu, whatever the topic says: README, Running on Tansu),
    and with ``INGEST_EVENT_TIME=published`` a page's date sets a story's time. Outside this
    range a record cannot write it: until 2026-12-06 one such message stopped the worker at
    every start (``datetime.fromtimestamp``: year out of range). Clamped rather than replaced
    by the time of reading, so that a replay decides the message as before.
    """
    return min(max(ms, MIN_TIMESTAMP_MS), MAX_TIMESTAMP_MS)


def iso_ms(ms: int) -> str:
    """``ms`` since the epoch as ISO 8601 UTC with milliseconds (clamped: total)."""
    return (_EPOCH + timedelta(milliseconds=clamp_timestamp_ms(ms))).isoformat(
        timespec="milliseconds")


def _common(
    article_id: str, raw: RawMessage, now_ms: int, scoped: str | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "id": article_id}
    if scoped is not None:
        record["scoped_id"] = scoped
    record.update(
        origin=raw.origin, received_at=iso_ms(raw.timestamp_ms), processed_at=iso_ms(now_ms)
    )
    return record


def _revision(record: dict[str, Any], revision: Revision | None) -> None:
    revision = revision or Revision()
    record["revision"] = revision.number
    record["previous_content_hash"] = revision.previous_hash


def enriched_record(
    *,
    article_id: str,
    raw: RawMessage,
    envelope: Envelope,
    article: NormalizedArticle,
    metadata: ArticleMetadata,
    content_hash: str,
    now_ms: int,
    scoped: str | None = None,
    revision: Revision | None = None,
) -> dict[str, Any]:
    """``article_id`` as sent; ``scoped`` its identity (:mod:`streams.core.identity`)."""
    record = _common(article_id, raw, now_ms, scoped if scoped is not None else article_id)
    record.update(
        url=metadata.url,
        source=metadata.source,
        title=metadata.title,
        title_source=metadata.title_source,
        published_at=metadata.published_at,
        modified_at=metadata.modified_at,
        authors=list(metadata.authors),
        site_name=metadata.site_name,
        canonical_url=metadata.canonical_url,
        description=metadata.description,
        image=metadata.image,
        section=metadata.section,
        tags=list(metadata.tags),
        paywalled=metadata.paywalled,
        language=metadata.language,
        language_source=metadata.language_source,
        format=article.format,
        text=article.text,
        word_count=article.word_count,
        outlinks=list(article.outlinks),
        boilerplate_removed=article.boilerplate_removed,
        content_hash=content_hash,
        source_encoding=envelope.source_encoding,
        encoding_detected=envelope.encoding_detected,
    )
    _revision(record, revision)
    if envelope.extra:
        record["extra"] = envelope.extra
    # The article's own cuts count only for what the record shows: its title is shown only
    # when the envelope has none.
    shown = ("text",) if envelope.title else ("text", "title")
    _mark_truncated(
        record, (*envelope.truncated, *(f for f in article.truncated if f in shown))
    )
    return record


def _mark_truncated(record: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Name the fields that were cut to their caps (absent when nothing was)."""
    if fields:
        record["truncated"] = True
        record["truncated_fields"] = sorted(set(fields))


def duplicate_record(
    *,
    article_id: str,
    raw: RawMessage,
    envelope: Envelope,
    metadata: ArticleMetadata,
    decision: Decision,
    content_hash: str,
    now_ms: int,
    scoped: str | None = None,
    revision: Revision | None = None,
) -> dict[str, Any]:
    """``decision.duplicate_of`` is a scoped id: the record names its id as sent too."""
    record = _common(article_id, raw, now_ms, scoped if scoped is not None else article_id)
    root = decision.duplicate_of
    record.update(
        url=envelope.url,
        source=metadata.source,
        title=metadata.title,
        duplicate_of=None if root is None else sent_id(root),
        duplicate_of_scoped_id=root,
        match=decision.match,
        similarity=round(decision.similarity or 0.0, 4),
        content_hash=content_hash,
    )
    _revision(record, revision)
    _mark_truncated(record, tuple(f for f in envelope.truncated if f in record))
    return record


Supersedes = Literal["kept", "duplicate_of"]


def correction_record(
    article_id: str,
    origin: dict[str, Any],
    duplicate_of: str,
    similarity: float,
    now_ms: int,
    *,
    match: str | None = None,
    supersedes: Supersedes = "kept",
    revision: int | None = None,
) -> dict[str, Any]:
    """A duplicates record that overturns an earlier verdict for ``article_id``.

    ``article_id`` and ``duplicate_of`` are scoped ids (the index's); ``revision`` is the
    corrected article's current revision.

    ``supersedes="kept"``: it was published as kept (a race, or an earlier copy arriving
    late). ``supersedes="duplicate_of"``: it was published as a duplicate of an article that
    is now itself a duplicate; this record names the group's kept article.
    """
    record = {
        "schema_version": SCHEMA_VERSION,
        "id": sent_id(article_id),
        "scoped_id": article_id,
        "origin": origin,
        "processed_at": iso_ms(now_ms),
        "duplicate_of": sent_id(duplicate_of),
        "duplicate_of_scoped_id": duplicate_of,
        "match": match or ("near" if similarity < 1.0 else "exact"),
        "similarity": round(similarity, 4),
        "supersedes": supersedes,
    }
    if revision is not None:
        record["revision"] = revision
    return record


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


def _raw_prefix(data: bytes | None) -> tuple[tuple[bytes | None, bool], str]:
    """At most DEADLETTER_RAW_LIMIT bytes of ``data`` (whether it was cut) and how it is
    copied: "utf-8" text when it is UTF-8, else "base64"; "none" for a missing value.

    A cut inside a UTF-8 character moves back to the character's start, so a UTF-8 value
    stays text.
    """
    if data is None:
        return (None, False), "none"
    head = data[:DEADLETTER_RAW_LIMIT]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not (len(data) > len(head) and exc.reason == "unexpected end of data"):
            return (head, len(head) < len(data)), "base64"
        head = head[: exc.start]
    return (head, len(head) < len(data)), "utf-8"


def deadletter_record(
    raw: RawMessage,
    error: IngestError,
    now_ms: int,
    article_id: str | None = None,
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> dict[str, Any]:
    """A dead letter of at most ``max_bytes`` (key and value), with as much of the raw value
    and key as fits (``raw_truncated``, ``raw_key_truncated`` say whether all of it did)."""
    record = _common(article_id or raw.derived_id(), raw, now_ms)
    value, encoding = _raw_prefix(raw.value)
    key, key_encoding = _raw_prefix(raw.key)
    record.update(
        error=error.code,
        detail=error.detail[:MAX_DETAIL_CHARS] or error.code,
        raw_encoding=encoding,
        raw_key_encoding=key_encoding,
    )
    return fit_deadletter(record["id"], record, value, key, max_bytes)


def publish_failed_record(
    *,
    article_id: str,
    key: bytes,
    topic: str,
    origin: dict[str, Any] | None,
    detail: str,
    now_ms: int,
) -> dict[str, Any]:
    """A small dead letter standing for an output the broker refused after every retry: the
    key, the topic and the origin, never the (maybe too large) value. ``raw`` is null: the
    raw topic still holds the message at ``origin`` for replay."""
    text_key, encoding = _raw_prefix(key)
    raw_key, cut = text_key
    return {
        "schema_version": SCHEMA_VERSION,
        "id": article_id[:MAX_DEADLETTER_ID_CHARS] or "unknown",
        "origin": origin or parse_origin(""),
        "received_at": iso_ms(now_ms),
        "processed_at": iso_ms(now_ms),
        "error": PublishFailedError.code,
        "detail": detail[:MAX_DETAIL_CHARS],
        "raw": None,
        "raw_encoding": "none",
        "raw_key": None if raw_key is None else (
            base64.b64encode(raw_key).decode("ascii") if encoding == "base64"
            else raw_key.decode("utf-8")),
        "raw_key_encoding": encoding,
        "raw_key_truncated": cut,
        "failed_topic": topic,
    }


def record_schema(name: str) -> dict[str, Any]:
    """The installed JSON Schema of a record (``enriched``, ``duplicate``, ``deadletter``,
    ``raw-envelope``, ``story-update``): the copy shipped inside the package, the one
    consumers get."""
    path = resources.files("streams") / "schemas" / f"{name}.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema
