"""How story notes and merges travel on the fingerprint log (compact JSON fields).

A note rides on its article's record as ``"st"``: the story id, its founding event time and
the summary vector packed as little-endian uint32 keys and float16 weights in base64
(32 terms: 256 characters instead of ~1 KB as JSON pairs), and ``"rn"``/``"rt"`` (the story
the article renamed, see ``StoryNote.renamed``) when it has one, and ``"sj"`` (a templated
report's subject terms) when it has some, ``"dk"`` (the article's term keys, uint32 in
base64) and ``"dr"`` (the positions of its repeats, when any): what every reader counts in
its document frequencies. A merge is a record of its own,
keyed ``\\x00story:<story>><into>`` so that compaction keeps every merge.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from streams.core.stories.model import StoryNote, StoryUpdate, Summary

MERGE_KIND = "story_merge"


def encode_note(note: StoryNote) -> dict[str, Any]:
    n = len(note.vector)
    keys = struct.pack(f"<{n}I", *(k for k, _ in note.vector))
    weights = struct.pack(f"<{n}e", *(w for _, w in note.vector))
    encoded: dict[str, Any] = {
        "id": note.story,
        "t": note.story_time_ms,
        "k": base64.b64encode(keys).decode("ascii"),
        "w": base64.b64encode(weights).decode("ascii"),
    }
    if note.renamed is not None:
        encoded["rn"], encoded["rt"] = note.renamed
    if note.subjects:
        encoded["sj"] = list(note.subjects)
    if note.terms:
        encoded["dk"] = base64.b64encode(note.terms).decode("ascii")
        if note.repeats:
            encoded["dr"] = list(note.repeats)
    return encoded


def decode_note(obj: dict[str, Any]) -> StoryNote:
    keys, weights = base64.b64decode(obj["k"]), base64.b64decode(obj["w"])
    n = len(keys) // 4
    if len(keys) != 4 * n or len(weights) != 2 * n:
        raise ValueError("story note keys and weights differ in length")
    vector = tuple(zip(struct.unpack(f"<{n}I", keys), struct.unpack(f"<{n}e", weights),
                       strict=True))
    renamed = (str(obj["rn"]), int(obj["rt"])) if "rn" in obj else None
    terms, repeats = _terms(obj.get("dk"), obj.get("dr"))
    return StoryNote(str(obj["id"]), int(obj["t"]), vector, renamed, _subjects(obj.get("sj")),
                     terms, repeats)


# A note counts at most this many terms (an article has ~80-250).
MAX_TERMS = 4096


def _terms(keys: object, repeats: object) -> tuple[bytes, tuple[int, ...]]:
    """A note's term keys and repeats. They only feed document frequencies, so anything
    malformed reads as none (the article is not counted) rather than costing its record."""
    if not isinstance(keys, str) or len(keys) > 4 * MAX_TERMS * 4 // 3 + 4:
        return b"", ()
    try:
        packed = base64.b64decode(keys, validate=True)
    except ValueError:
        return b"", ()
    n = len(packed) // 4
    if len(packed) != 4 * n:
        return b"", ()
    if repeats is None:
        return packed, ()
    if not isinstance(repeats, list) or not all(
        type(at) is int and 0 <= at < n for at in repeats
    ):
        return b"", ()
    return packed, tuple(repeats)


# A note names at most this many subject terms (it names one).
MAX_SUBJECTS = 8


def _subjects(value: object) -> tuple[int, ...]:
    """A note's subject terms. They only inform another worker's race check, so anything but
    a short list of 32-bit keys reads as none rather than costing the article's record."""
    if not isinstance(value, list) or len(value) > MAX_SUBJECTS:
        return ()
    if not all(type(key) is int and 0 <= key <= 0xFFFFFFFF for key in value):
        return ()
    return tuple(value)


def quantize(vector: dict[int, float]) -> Summary:
    """A summary as every reader of the log sees it: weights rounded to float16.

    The deciding worker adds this rounded vector to its centroid too, so that its replica
    and everyone else's hold the same sums.
    """
    n = len(vector)
    weights = struct.unpack(f"<{n}e", struct.pack(f"<{n}e", *vector.values()))
    return tuple(zip(vector.keys(), weights, strict=True))


def encode_update(update: StoryUpdate, version: int) -> dict[str, Any]:
    return {
        "v": version,
        "kind": MERGE_KIND,
        "story": update.story,
        "st": update.story_time_ms,
        "into": update.into,
        "it": update.into_time_ms,
        "at": update.at_ms,
        "w": update.worker,
        "why": update.reason,
    }


def is_update(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == MERGE_KIND


def decode_update(obj: dict[str, Any]) -> StoryUpdate:
    return StoryUpdate(
        story=str(obj["story"]), story_time_ms=int(obj["st"]), into=str(obj["into"]),
        into_time_ms=int(obj["it"]), at_ms=int(obj["at"]), worker=str(obj.get("w", "")),
        reason=str(obj.get("why", "bridge")),
    )
