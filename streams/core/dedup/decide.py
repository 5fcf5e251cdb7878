"""The duplicate decision for one article against the index, and its application to the index.

Rule (independent of arrival order): an article is a duplicate iff an indexed article with an
earlier ``(event_time_ms, id)`` matches it, exactly (content hash) or nearly (LSH candidate
that passes :func:`streams.core.dedup.match.verify_candidate`), within the dedup window of
event time. ``duplicate_of`` is the kept article of that earliest match's group (its root,
followed to the end). Later matching articles still published as kept are superseded: they
become duplicates of the same root, and the shell publishes a correction for each; their own
duplicates move to the new root, which is published as a correction too. They move by
indirection: a superseded article's entry points at the new root and its duplicates keep
pointing at it (:func:`resolve_root`), so a change of root rewrites one entry, not the group.

A story copied thousands of times costs each copy the same: lookups return the kept
articles and at most ``DedupConfig.searchable_copies`` duplicates per group
(``IndexEntry.searchable``), and only the candidates the verdict needs are verified.

A replay (an id already indexed with the same content) repeats the indexed verdict, so the
``duplicate_of`` a consumer last saw for it never changes silently. An indexed id with other
content is a new revision (:mod:`streams.core.dedup.revision`), decided afresh but never as a
duplicate of its own group.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from streams.core.dedup.config import DedupConfig
from streams.core.dedup.index import Index
from streams.core.dedup.match import Candidate, could_verify, verify_candidate, within_window
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

    Every candidate is verified; :func:`decide` verifies only the ones its verdict needs.
    """
    found = _lookup(candidate, article_id, index, config, full)
    exact = [Match(entry, "exact", 1.0) for entry, is_exact in found if is_exact]
    near = [m for entry, is_exact in found if not is_exact
            if (m := _verified(entry, candidate, full, config)) is not None]
    return exact + near


def _lookup(
    candidate: Candidate, article_id: str, index: Index, config: DedupConfig,
    full: Candidate | None,
) -> list[tuple[IndexEntry, bool]]:
    """Every searchable entry the article may match, by ``order_key``, each with whether it
    is an exact match (same content hash, within the window); its own entry left out."""
    forms = [candidate] if full is None else [candidate, full]
    keep = could_verify(forms, config)
    answers = [(form, *index.lookup(form.fingerprint, keep)) for form in forms]
    found: dict[str, tuple[IndexEntry, bool]] = {}
    for form, exact, _ in answers:  # every form's exact matches first: they win
        for entry in exact:
            if entry.id != article_id and within_window(form, entry, config):
                found.setdefault(entry.id, (entry, True))
    for _, _, near in answers:
        for entry in near:
            if entry.id != article_id:
                found.setdefault(entry.id, (entry, False))
    return sorted(found.values(), key=lambda pair: pair[0].order_key)


def may_match(
    candidate: Candidate, full: Candidate | None, entry: IndexEntry, config: DedupConfig
) -> bool:
    """Whether :func:`decide` of ``candidate`` could find ``entry`` a match: its exact match
    (the content hash, within the window) or a near one that verifies. Looking it up is not
    tested, so a True may still not be found by a decision; a False never is. One pair's
    cost, for asking before a whole re-decision whether it could supersede ``entry``."""
    for form in (candidate,) if full is None else (candidate, full):
        if (form.fingerprint.content_hash in entry.exact_hashes
                and within_window(form, entry, config)):
            return True
    return _verified(entry, candidate, full, config) is not None


def _matched(
    entry: IndexEntry, is_exact: bool, candidate: Candidate, full: Candidate | None,
    config: DedupConfig,
) -> Match | None:
    """An exact match as found, a near candidate only once verified."""
    return Match(entry, "exact", 1.0) if is_exact else _verified(entry, candidate, full, config)


def _verified(
    entry: IndexEntry, candidate: Candidate, full: Candidate | None, config: DedupConfig
) -> Match | None:
    result = verify_candidate(candidate, entry, config)
    if not result.is_dup and full is not None:
        result = verify_candidate(full, entry, config)
    return Match(entry, "near", result.similarity) if result.is_dup else None


def resolve_root(index: Index, root: str) -> str:
    """The kept article at the end of ``root``'s chain.

    A group is a tree: a duplicate points at the kept article of its group when it was
    decided, and a kept article that became a duplicate (superseded, or a revision) points
    at its new root, so its duplicates follow it without being rewritten (one log record
    per change of root, not one per member).
    """
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

    Only what the verdict needs is verified, so a copy costs the same whatever the size of
    its group: later candidates only when they are kept (or superseded by this article),
    earlier ones in ``order_key`` order until the first match, which is the earliest.
    """
    key = (event_time_ms, article_id)
    candidate = Candidate(fingerprint, event_time_ms, profile)
    found = _lookup(candidate, article_id, index, config, full)
    superseded: list[Match] = []
    for entry, is_exact in found:
        if entry.order_key > key and (entry.is_kept or entry.superseded_by == article_id):
            match = _matched(entry, is_exact, candidate, full, config)
            if match is not None:
                superseded.append(match)
    superseded.sort(key=lambda m: m.entry.id)
    supersedes = tuple(m.entry.id for m in superseded)
    superseded_matches = tuple((m.kind, m.similarity) for m in superseded)
    previous = index.get(article_id)
    if (previous is not None and not previous.is_kept
            and previous.fingerprint.content_hash == fingerprint.content_hash):
        return Decision(
            kept=False,
            duplicate_of=resolve_root(index, previous.root),
            match=previous.match or "near",
            similarity=previous.similarity if previous.similarity is not None else 1.0,
            supersedes=supersedes,
            superseded_matches=superseded_matches,
            searchable=previous.searchable,
        )
    # A replay of a kept article is kept again unless an earlier match is indexed now that
    # was not when it was decided: a race of two workers whose loser died before the
    # winner's record reached it, so nobody corrected it. The replay corrects it.
    first = _earliest_match(found, key, article_id, candidate, full=full, index=index,
                            config=config, revision=previous is not None)
    if first is None:
        return Decision(kept=True, supersedes=supersedes, superseded_matches=superseded_matches)
    root = resolve_root(index, first.entry.root)
    return Decision(
        kept=False,
        duplicate_of=root,
        match=first.kind,
        similarity=first.similarity,
        supersedes=supersedes,
        superseded_matches=superseded_matches,
        searchable=_searchable_copies(found, root, index) < config.searchable_copies,
    )


def _earliest_match(
    found: list[tuple[IndexEntry, bool]], key: tuple[int, str], article_id: str,
    candidate: Candidate, *, full: Candidate | None, index: Index, config: DedupConfig,
    revision: bool,
) -> Match | None:
    """The earliest earlier match; ``found`` is by ``order_key``. A new revision is not a
    duplicate of its own earlier revision, nor of its copies."""
    for entry, is_exact in found:
        if entry.order_key >= key:
            break
        if revision and resolve_root(index, entry.root) == article_id:
            continue
        match = _matched(entry, is_exact, candidate, full, config)
        if match is not None:
            return match
    return None


def _searchable_copies(found: list[tuple[IndexEntry, bool]], root: str, index: Index) -> int:
    """Searchable duplicates of ``root``'s group among the looked-up entries."""
    roots: dict[str, str] = {}
    count = 0
    for entry, _ in found:
        if entry.is_kept:
            continue
        if entry.root not in roots:
            roots[entry.root] = resolve_root(index, entry.root)
        count += roots[entry.root] == root
    return count


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

    The first item is the article's own entry; the rest are the superseded articles, now
    pointing at ``decision.root_for(article_id)``. Their duplicates are not rewritten: they
    point at the superseded article, which points at the new root (:func:`resolve_root`),
    so a change of root writes one entry per superseded article whatever the size of its
    group (:func:`moved_members` lists them for the corrections).
    ``full_hash`` is the content hash over every paragraph (see :mod:`.revision`).
    """
    root = decision.root_for(article_id)
    previous = index.get(article_id)
    own_root = root
    if (previous is not None and not decision.kept and previous.root != article_id
            and resolve_root(index, previous.root) == root):
        own_root = previous.root  # a replay keeps its place in the group's tree
    if revision is None:  # not told: the indexed article's revision stays
        revision = Revision()
        if previous is not None:
            revision = Revision(previous.revision, previous.previous_hash,
                                delivered=previous.delivered)
    entry = IndexEntry(
        id=article_id,
        event_time_ms=event_time_ms,
        fingerprint=fingerprint,
        root=own_root,
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
        searchable=decision.kept or decision.searchable,
        delivered=revision.delivered,
    )
    index.add(entry)
    changed = [entry]
    matches = dict(zip(decision.supersedes, decision.superseded_matches, strict=False))
    for superseded_id in decision.supersedes:
        old = index.get(superseded_id)
        if old is None:
            continue
        if old.root != root or old.superseded_by != article_id:
            kind, similarity = matches.get(superseded_id, ("near", decision.similarity or 1.0))
            # Its duplicates now resolve through it: it must not expire before them (they
            # were all indexed before now), or they would name it instead of the new root.
            new = dataclasses.replace(
                old, root=root, superseded_by=article_id, match=kind, similarity=similarity,
                seen_at_ms=max(old.seen_at_ms, now_ms), searchable=True,
            )
            index.add(new)
            changed.append(new)
    return changed


def group_members(index: Index, root: str) -> list[IndexEntry]:
    """Every duplicate whose chain of roots leads through ``root`` (``root`` excluded), by
    ``order_key``: its members, and the members of those that were once kept articles
    themselves (superseded, or turned duplicates by a revision: only those can have
    members, since a duplicate is given its group's kept article as root)."""
    out: list[IndexEntry] = []
    seen = {root}
    stack = [root]
    while stack:
        for member in index.members(stack.pop()):
            if member.id in seen:
                continue
            seen.add(member.id)
            out.append(member)
            if member.superseded_by is not None or member.revision > 1:
                stack.append(member.id)
    return sorted(out, key=lambda e: e.order_key)


def moved_members(
    index: Index, root: str, moved_by: str, superseded: Sequence[str]
) -> list[IndexEntry]:
    """Duplicates that ``moved_by`` moved to ``root``: the groups of the kept articles it
    superseded (``superseded``) that still point at ``root`` (a later change of root moved
    them again, and its article announces them), and its own group when it is a kept
    article's new revision decided as a duplicate of ``root``. What a decision and its
    replays announce as root changes."""
    moved: dict[str, IndexEntry] = {}
    heads = [s for s in superseded if _moved_head(index.get(s), root, moved_by)]
    own = index.get(moved_by)
    if own is not None and own.root == root != moved_by and own.revision > 1 \
            and own.superseded_by is None:
        heads.append(moved_by)
    for head in heads:
        for member in group_members(index, head):
            moved.setdefault(member.id, member)
    return sorted(moved.values(), key=lambda e: e.order_key)


def _moved_head(entry: IndexEntry | None, root: str, moved_by: str) -> bool:
    return entry is not None and entry.root == root and entry.superseded_by == moved_by
