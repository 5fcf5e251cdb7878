"""How story notes and merges travel on the fingerprint log (compact JSON fields).

A note rides on its article's record as ``"st"``: the story id, its founding event time and
the summary vector packed as little-endian uint32 keys and float16 weights in base64
(32 terms: 256 characters instead of ~1 KB as JSON pairs). A merge is a record of its own,
keyed ``\\x00story:<story>><into>`` so that compaction keeps every merge.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from streams.core.stories.model import StoryNote, StoryUpdate, Summary

MERGE_KIND = "story_merge"


def encode_note(note: StoryNote) -> dict[str, Any]:
    keys = np.fromiter((k for k, _ in note.vector), "<u4", len(note.vector))
    weights = np.fromiter((w for _, w in note.vector), "<f2", len(note.vector))
    return {
        "id": note.story,
        "t": note.story_time_ms,
        "k": base64.b64encode(keys.tobytes()).decode("ascii"),
        "w": base64.b64encode(weights.tobytes()).decode("ascii"),
    }


def decode_note(obj: dict[str, Any]) -> StoryNote:
    keys = np.frombuffer(base64.b64decode(obj["k"]), "<u4")
    weights = np.frombuffer(base64.b64decode(obj["w"]), "<f2")
    if len(keys) != len(weights):
        raise ValueError("story note keys and weights differ in length")
    vector = tuple(zip(keys.tolist(), weights.astype(np.float64).tolist(), strict=True))
    return StoryNote(str(obj["id"]), int(obj["t"]), vector)


def quantize(vector: dict[int, float]) -> Summary:
    """A summary as every reader of the log sees it: weights rounded to float16.

    The deciding worker adds this rounded vector to its centroid too, so that its replica
    and everyone else's hold the same sums.
    """
    weights = np.fromiter(vector.values(), "<f2", len(vector)).astype(np.float64)
    return tuple(zip(vector.keys(), weights.tolist(), strict=True))


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
