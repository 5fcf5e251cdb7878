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

import numpy as np
import orjson

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.errors import InvalidEnvelopeError

FENCE_PREFIX = b"\x00fence:"
# Header naming the worker that appended a record: a replica skips its own records without
# decoding them (the same id is also inside the value, which stays authoritative).
WORKER_HEADER = "w"
LOG_VERSION = 1


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One decided article as the log carries it."""

    entry: IndexEntry
    paragraph_keys: tuple[int, ...]
    worker: str


def is_fence(key: bytes | None) -> bool:
    return key is not None and key.startswith(FENCE_PREFIX)


def encode_record(entry: IndexEntry, paragraph_keys: Sequence[int], worker: str) -> bytes:
    fp = entry.fingerprint
    return orjson.dumps(
        {
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
    )


def decode_record(value: bytes) -> LogRecord:
    try:
        obj = orjson.loads(value)
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
        return LogRecord(entry, tuple(int(k) for k in obj.get("p", ())), obj.get("w", ""))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidEnvelopeError(f"malformed fingerprint-log record: {exc}") from exc
