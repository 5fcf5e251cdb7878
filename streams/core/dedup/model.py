"""Plain data of the dedup core: what the index stores per article and what a decision says."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

Signature = npt.NDArray[np.uint32]
MatchKind = Literal["exact", "near"]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What is computed from one article's fingerprint input, before any state is consulted."""

    content_hash: str  # xxh3_128 hex of the fingerprint input
    signature: Signature  # MinHash, shape (num_perm,)
    shingle_count: int  # distinct shingles; lets containment be estimated from Jaccard


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One article as the shared fingerprint index knows it.

    Ordering key for every tie-break is ``(event_time_ms, id)``: the earlier article is kept.
    ``root`` is the id of the kept article this one belongs to (its own id when kept).
    """

    id: str
    event_time_ms: int
    fingerprint: Fingerprint
    root: str
    source: str | None = None
    seen_at_ms: int = 0  # wall-clock ms when indexed; drives expiry after the window
    # Id of the earlier article that turned this once-kept article into a duplicate; lets a
    # replay of that earlier article repeat its ``supersedes`` exactly.
    superseded_by: str | None = None
    origin: str = ""  # "topic/partition/offset" of the raw message; tells a replay from a re-send

    @property
    def order_key(self) -> tuple[int, str]:
        return (self.event_time_ms, self.id)

    @property
    def is_kept(self) -> bool:
        return self.root == self.id


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one article against the index.

    ``supersedes`` lists ids of articles already published as kept that this (earlier)
    article now makes duplicates; the shell publishes a correction for each.
    """

    kept: bool
    duplicate_of: str | None = None
    match: MatchKind | None = None
    similarity: float | None = None
    supersedes: tuple[str, ...] = field(default=())

    def root_for(self, article_id: str) -> str:
        """Root of the decided article, and the new root of every superseded article."""
        return article_id if self.kept or self.duplicate_of is None else self.duplicate_of
