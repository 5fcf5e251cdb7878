"""The duplicate decision for one article against the index, and its application to the index.

Rule (independent of arrival order): an article is a duplicate iff an indexed article with an
earlier ``(event_time_ms, id)`` matches it, exactly (content hash) or nearly (LSH candidate
that passes :func:`streams.core.dedup.similarity.verify`). It then points at that earliest match's
root. Later matching articles still published as kept are superseded: they become
duplicates of the same root, and the shell publishes a correction for each.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from streams.core.dedup.config import DedupConfig
from streams.core.dedup.index import Index
from streams.core.dedup.model import Decision, Fingerprint, IndexEntry, MatchKind
from streams.core.dedup.similarity import verify


@dataclass(frozen=True, slots=True)
class Match:
    """An indexed article that matches the one being decided."""

    entry: IndexEntry
    kind: MatchKind
    similarity: float


def find_matches(
    fingerprint: Fingerprint, article_id: str, index: Index, config: DedupConfig
) -> list[Match]:
    """Exact matches first, then verified LSH candidates; the article's own entry is skipped."""
    matches = [
        Match(entry, "exact", 1.0)
        for entry in index.by_content_hash(fingerprint.content_hash)
        if entry.id != article_id
    ]
    exact_ids = {m.entry.id for m in matches}
    for entry in index.candidates(fingerprint):
        if entry.id == article_id or entry.id in exact_ids:
            continue
        result = verify(fingerprint, entry.fingerprint, config.verify)
        if result.is_dup:
            matches.append(Match(entry, "near", result.similarity))
    return matches


def decide(
    fingerprint: Fingerprint,
    event_time_ms: int,
    article_id: str,
    index: Index,
    config: DedupConfig,
) -> Decision:
    """Decide one article; pure: the index is only read.

    A replay of an already indexed id with the same fingerprint repeats the first decision,
    ``supersedes`` included (entries it superseded carry ``superseded_by``).
    """
    key = (event_time_ms, article_id)
    matches = find_matches(fingerprint, article_id, index, config)
    supersedes = tuple(
        sorted(
            m.entry.id
            for m in matches
            if m.entry.order_key > key and (m.entry.is_kept or m.entry.superseded_by == article_id)
        )
    )
    earlier = [m for m in matches if m.entry.order_key < key]
    if not earlier:
        return Decision(kept=True, supersedes=supersedes)
    first = min(earlier, key=lambda m: m.entry.order_key)
    return Decision(
        kept=False,
        duplicate_of=first.entry.root,
        match=first.kind,
        similarity=first.similarity,
        supersedes=supersedes,
    )


def apply_decision(
    index: Index,
    fingerprint: Fingerprint,
    event_time_ms: int,
    article_id: str,
    decision: Decision,
    *,
    now_ms: int,
    source: str | None = None,
    origin: str = "",
) -> list[IndexEntry]:
    """Index the decided article and re-root what it supersedes; returns every new entry.

    The first item is the article's own entry; the rest are superseded articles and the
    duplicates that pointed at them, now pointing at ``decision.root_for(article_id)``.
    """
    root = decision.root_for(article_id)
    previous = index.get(article_id)
    entry = IndexEntry(
        id=article_id,
        event_time_ms=event_time_ms,
        fingerprint=fingerprint,
        root=root,
        source=source,
        seen_at_ms=now_ms,
        origin=origin,
        superseded_by=previous.superseded_by if previous is not None else None,
    )
    index.add(entry)
    changed = [entry]
    if previous is not None and previous.is_kept and root != article_id:
        changed.extend(_reroot_members(index, article_id, root))
    for superseded_id in decision.supersedes:
        old = index.get(superseded_id)
        if old is None:
            continue
        if old.root != root or old.superseded_by != article_id:
            new = dataclasses.replace(old, root=root, superseded_by=article_id)
            index.add(new)
            changed.append(new)
        changed.extend(_reroot_members(index, superseded_id, root))
    return changed


def _reroot_members(index: Index, old_root: str, new_root: str) -> list[IndexEntry]:
    moved = [dataclasses.replace(m, root=new_root) for m in index.members(old_root)]
    for entry in moved:
        index.add(entry)
    return moved
