"""The duplicate decision for one article against the index, and its application to the index.

Rule (independent of arrival order): an article is a duplicate iff an indexed article with an
earlier ``(event_time_ms, id)`` matches it, exactly (content hash) or nearly (LSH candidate
that passes :func:`streams.core.dedup.match.verify_candidate`), within the dedup window of
event time. ``duplicate_of`` is the kept article of that earliest match's group (its root,
followed to the end). Later matching articles still published as kept are superseded: they
become duplicates of the same root, and the shell publishes a correction for each; their own
duplicates move to the new root, which is published as a correction too.

A replay (an id already indexed with the same content) repeats the indexed verdict, so the
``duplicate_of`` a consumer last saw for it never changes silently. An indexed id with other
content is a new revision (:mod:`streams.core.dedup.revision`), decided afresh but never as a
duplicate of its own group.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from streams.core.dedup.config import DedupConfig
from streams.core.dedup.index import Index
from streams.core.dedup.match import Candidate, verify_candidate, within_window
from streams.core.dedup.model import Decision, Fingerprint, IndexEntry, MatchKind, Profile
from streams.core.dedup.revision import Revision


@dataclass(frozen=True, slots=True)
class Match:
    """An indexed article that matches the one being decided."""

    entry: IndexEntry
    kind: MatchKind
    similarity: float


def find_matches(
    candidate: Candidate, article_id: str, index: Index, config: DedupConfig,
    full: Candidate | None = None,
) -> list[Match]:
    """Exact matches first, then verified LSH candidates; the article's own entry is skipped.

    ``full`` is the article with its learned boilerplate, when some was left out of
    ``candidate``: an indexed copy decided before that boilerplate was learned still has it
    in its fingerprint, so it is looked up and verified with both forms (the shared-block
    rule sets the boilerplate aside in the full one).
    """
    forms = [candidate] if full is None else [candidate, full]
    matches: dict[str, Match] = {}
    for form in forms:
        for entry in index.by_content_hash(form.fingerprint.content_hash):
            if entry.id != article_id and within_window(form, entry, config):
                matches.setdefault(entry.id, Match(entry, "exact", 1.0))
    seen = set(matches) | {article_id}
    for form in forms:
        for entry in index.candidates(form.fingerprint):
            if entry.id in seen:
                continue
            result = verify_candidate(candidate, entry, config)
            if not result.is_dup and full is not None:
                result = verify_candidate(full, entry, config)
            if result.is_dup:
                matches[entry.id] = Match(entry, "near", result.similarity)
                seen.add(entry.id)
    return list(matches.values())


def resolve_root(index: Index, root: str) -> str:
    """The kept article at the end of ``root``'s chain (roots are kept by construction; the
    chain is followed in case a root's own re-rooting record arrived first)."""
    seen = {root}
    while (entry := index.get(root)) is not None and entry.root != root:
        root = entry.root
        if root in seen:  # a cycle cannot be built by apply_decision; never loop on one
            break
        seen.add(root)
    return root


def decide(
    fingerprint: Fingerprint,
    event_time_ms: int,
    article_id: str,
    index: Index,
    config: DedupConfig,
    *,
    profile: Profile | None = None,
    full: Candidate | None = None,
) -> Decision:
    """Decide one article; pure: the index is only read.

    ``full``: the article before its learned boilerplate was left out (see
    :func:`find_matches`).

    A replay of an already indexed id with the same fingerprint repeats the indexed verdict,
    ``supersedes`` included (entries it superseded carry ``superseded_by``).
    """
    key = (event_time_ms, article_id)
    candidate = Candidate(fingerprint, event_time_ms, profile)
    matches = find_matches(candidate, article_id, index, config, full)
    superseded = sorted(
        (m for m in matches
         if m.entry.order_key > key and (m.entry.is_kept or m.entry.superseded_by == article_id)),
        key=lambda m: m.entry.id,
    )
    supersedes = tuple(m.entry.id for m in superseded)
    superseded_matches = tuple((m.kind, m.similarity) for m in superseded)
    previous = index.get(article_id)
    if previous is not None and previous.fingerprint.content_hash == fingerprint.content_hash:
        if previous.is_kept:
            return Decision(kept=True, supersedes=supersedes,
                            superseded_matches=superseded_matches)
        return Decision(
            kept=False,
            duplicate_of=resolve_root(index, previous.root),
            match=previous.match or "near",
            similarity=previous.similarity if previous.similarity is not None else 1.0,
            supersedes=supersedes,
            superseded_matches=superseded_matches,
        )
    earlier = [m for m in matches if m.entry.order_key < key]
    if previous is not None:
        # A new revision is not a duplicate of its own earlier revision, nor of its copies.
        earlier = [m for m in earlier if resolve_root(index, m.entry.root) != article_id]
    if not earlier:
        return Decision(kept=True, supersedes=supersedes, superseded_matches=superseded_matches)
    first = min(earlier, key=lambda m: m.entry.order_key)
    return Decision(
        kept=False,
        duplicate_of=resolve_root(index, first.entry.root),
        match=first.kind,
        similarity=first.similarity,
        supersedes=supersedes,
        superseded_matches=superseded_matches,
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
    profile: Profile | None = None,
    revision: Revision | None = None,
    full_hash: str | None = None,
) -> list[IndexEntry]:
    """Index the decided article and re-root what it supersedes; returns every new entry.

    The first item is the article's own entry; the rest are superseded articles and the
    duplicates that pointed at them, now pointing at ``decision.root_for(article_id)``.
    ``full_hash`` is the content hash over every paragraph (see :mod:`.revision`).
    """
    root = decision.root_for(article_id)
    previous = index.get(article_id)
    if revision is None:  # not told: the indexed article's revision stays
        revision = Revision(previous.revision, previous.previous_hash) if previous else Revision()
    entry = IndexEntry(
        id=article_id,
        event_time_ms=event_time_ms,
        fingerprint=fingerprint,
        root=root,
        source=source,
        seen_at_ms=now_ms,
        origin=origin,
        superseded_by=previous.superseded_by if previous is not None else None,
        profile=profile,
        match=decision.match,
        similarity=decision.similarity,
        moved_by=previous.moved_by if previous is not None else None,
        revision=revision.number,
        previous_hash=revision.previous_hash,
        full_hash=full_hash if full_hash != fingerprint.content_hash else None,
    )
    index.add(entry)
    changed = [entry]
    if previous is not None and previous.is_kept and root != article_id:
        changed.extend(_reroot_members(index, article_id, root, article_id))
    matches = dict(zip(decision.supersedes, decision.superseded_matches, strict=False))
    for superseded_id in decision.supersedes:
        old = index.get(superseded_id)
        if old is None:
            continue
        if old.root != root or old.superseded_by != article_id:
            kind, similarity = matches.get(superseded_id, ("near", decision.similarity or 1.0))
            new = dataclasses.replace(
                old, root=root, superseded_by=article_id, match=kind, similarity=similarity
            )
            index.add(new)
            changed.append(new)
        changed.extend(_reroot_members(index, superseded_id, root, article_id))
    return changed


def _reroot_members(
    index: Index, old_root: str, new_root: str, moved_by: str
) -> list[IndexEntry]:
    moved = [
        dataclasses.replace(m, root=new_root, moved_by=moved_by) for m in index.members(old_root)
    ]
    for entry in moved:
        index.add(entry)
    return moved


def moved_members(index: Index, root: str, moved_by: str) -> list[IndexEntry]:
    """Duplicates of ``root`` that ``moved_by`` moved there (what a replay re-announces)."""
    return [m for m in index.members(root) if m.moved_by == moved_by]
