"""The record format of the fingerprint log (``ingest.fingerprints``).

The log is the shared, replicated state of the dedup index: every worker appends one record
per decided article (key: article id) and every worker reads all of it. A fence record
(key prefixed ``FENCE_PREFIX``, no value) marks a point a reader waits for: see
:mod:`streams.shell.replica`.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.errors import InvalidEnvelopeError
from streams.core.stories import codec as story_codec
from streams.core.stories.model import StoryNote, StoryUpdate

FENCE_PREFIX = b"\x00fence:"
LOG_VERSION = 1


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One decided article as the log carries it."""

    entry: IndexEntry
    paragraph_keys: tuple[int, ...]
    worker: str
    story: StoryNote | None = None  # a kept article's story and vector (streams.core.stories)


def is_fence(key: bytes | None) -> bool:
    return key is not None and key.startswith(FENCE_PREFIX)


def encode_record(
    entry: IndexEntry, paragraph_keys: Sequence[int], worker: str,
    story: StoryNote | None = None,
) -> bytes:
    fp = entry.fingerprint
    obj: dict[str, Any] = {
        "v": LOG_VERSION,
        "id": entry.id,
        "t": entry.event_time_ms,
        "h": fp.content_hash,
        "s": base64.b64encode(fp.signature.astype("<u4").tobytes()).decode("ascii"),
        "n": fp.shingle_count,
        "r": entry.root,
        "src": entry.source,
        "seen": entry.seen_at_ms,
        "o": entry.origin,
        "p": [k & 0xFFFFFFFFFFFFFFFF for k in paragraph_keys],
        "w": worker,
        "sb": entry.superseded_by,
    }
    if story is not None:
        obj["st"] = story_codec.encode_note(story)
    return orjson.dumps(obj)


def decode_record(value: bytes) -> LogRecord:
    try:
        return _decode_article(orjson.loads(value))
    except orjson.JSONDecodeError as exc:
        raise InvalidEnvelopeError(f"malformed fingerprint-log record: {exc}") from exc


def _decode_article(obj: Any) -> LogRecord:
    try:
        signature = np.frombuffer(base64.b64decode(obj["s"]), dtype="<u4").astype(np.uint32)
        entry = IndexEntry(
            id=obj["id"],
            event_time_ms=int(obj["t"]),
            fingerprint=Fingerprint(
                content_hash=obj["h"], signature=signature, shingle_count=int(obj["n"])
            ),
            root=obj["r"],
            source=obj.get("src"),
            seen_at_ms=int(obj.get("seen", 0)),
            origin=obj.get("o", ""),
            superseded_by=obj.get("sb"),
        )
        story = story_codec.decode_note(obj["st"]) if "st" in obj else None
        return LogRecord(
            entry, tuple(int(k) for k in obj.get("p", ())), obj.get("w", ""), story
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEnvelopeError(f"malformed fingerprint-log record: {exc}") from exc


# -- story merges: a second kind of record on the same log (streams.core.stories) ----------------
def encode_log_record(record: LogRecord | StoryUpdate) -> tuple[bytes, bytes]:
    """Key and value of any record the workers append to the log."""
    if isinstance(record, StoryUpdate):
        return record.log_key, orjson.dumps(story_codec.encode_update(record, LOG_VERSION))
    value = encode_record(record.entry, record.paragraph_keys, record.worker, record.story)
    return record.entry.id.encode("utf-8"), value


def decode_log_value(value: bytes) -> LogRecord | StoryUpdate:
    """Any record of the log: an article's, or a story merge."""
    try:
        obj = orjson.loads(value)
        if isinstance(obj, dict) and story_codec.is_update(obj):
            return story_codec.decode_update(obj)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidEnvelopeError(f"malformed fingerprint-log record: {exc}") from exc
    return _decode_article(obj)
