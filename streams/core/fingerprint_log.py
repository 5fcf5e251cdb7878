"""The record format of the fingerprint log (``ingest.fingerprints``).

The log is the shared, replicated state of the dedup index: every worker appends one record
per decided article (key: article id) and every worker reads all of it. A fence record
(key prefixed ``FENCE_PREFIX``, no value) marks a point a reader waits for: see
:mod:`streams.shell.replica`.

Version 2 adds the verification profile (paragraph keys with shingle counts, figures, the
shingles of a short article) and the published verdict (match, similarity, moved_by); all
new fields are optional. A version-1 record decodes to an entry without a profile, which
verification then judges on the MinHash estimate alone, as version 1 did; a version-1
reader ignores the new fields.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from streams.core.dedup.model import Fingerprint, IndexEntry, Profile
from streams.core.errors import InvalidEnvelopeError

FENCE_PREFIX = b"\x00fence:"
LOG_VERSION = 2


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One decided article as the log carries it.

    ``paragraph_keys`` are the paragraphs it adds to the learned-boilerplate counts: all of a
    kept article's, the ones a duplicate adds to its group.
    """

    entry: IndexEntry
    paragraph_keys: tuple[int, ...]
    worker: str


def is_fence(key: bytes | None) -> bool:
    return key is not None and key.startswith(FENCE_PREFIX)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode_record(entry: IndexEntry, paragraph_keys: Sequence[int], worker: str) -> bytes:
    fp = entry.fingerprint
    value: dict[str, Any] = {
        "v": LOG_VERSION,
        "id": entry.id,
        "t": entry.event_time_ms,
        "h": fp.content_hash,
        "s": _b64(fp.signature.astype("<u4").tobytes()),
        "n": fp.shingle_count,
        "r": entry.root,
        "src": entry.source,
        "seen": entry.seen_at_ms,
        "o": entry.origin,
        "p": [k & 0xFFFFFFFFFFFFFFFF for k in paragraph_keys],
        "w": worker,
        "sb": entry.superseded_by,
    }
    profile = entry.profile
    if profile is not None:
        value["pk"] = _b64(profile.keys)
        value["ps"] = _b64(profile.starts)
        if profile.figures:
            value["fg"] = _b64(profile.figures)
        if profile.shingles is not None:
            value["sh"] = _b64(profile.shingles)
    if entry.match is not None:
        value["m"] = entry.match
        value["sim"] = entry.similarity
    if entry.moved_by is not None:
        value["mv"] = entry.moved_by
    return orjson.dumps(value)


def decode_record(value: bytes) -> LogRecord:
    try:
        obj = orjson.loads(value)
        signature = np.frombuffer(base64.b64decode(obj["s"]), dtype="<u4").astype(np.uint32)
        match = obj.get("m")
        if match not in (None, "exact", "near"):
            raise ValueError(f"unknown match kind {match!r}")
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
            profile=_profile(obj),
            match=match,
            similarity=float(obj["sim"]) if obj.get("sim") is not None else None,
            moved_by=obj.get("mv"),
        )
        return LogRecord(entry, tuple(int(k) for k in obj.get("p", ())), obj.get("w", ""))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidEnvelopeError(f"malformed fingerprint-log record: {exc}") from exc


def _profile(obj: dict[str, Any]) -> Profile | None:
    if "pk" not in obj:
        return None
    keys, starts = base64.b64decode(obj["pk"]), base64.b64decode(obj["ps"])
    figures = base64.b64decode(obj.get("fg", ""))
    shingles = base64.b64decode(obj["sh"]) if "sh" in obj else None
    odd_shingles = shingles is not None and len(shingles) % 4 != 0
    if len(keys) != 4 * len(starts) or odd_shingles:
        raise ValueError("profile arrays of inconsistent sizes")
    return Profile(keys=keys, starts=starts, figures=figures, shingles=shingles)
