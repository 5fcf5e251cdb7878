"""Revisions: an id that reappears with different content is a new version of its article.

A producer re-sends an article it corrected under the same id; that is neither a duplicate
(of itself) nor a silent replacement: its records say ``revision`` (1 for the first version)
and ``previous_content_hash`` (the ``content_hash`` of the revision it follows). The counter
lives in the index entry and so travels through the fingerprint log: every worker that
replays the log numbers the next revision alike.

Content is compared by the hash over every paragraph, before learned boilerplate is left
out (:attr:`IndexEntry.revision_key`; the entry keeps it as ``full_hash`` when it differs
from its ``content_hash``): learned boilerplate changes while the worker runs, and a
redelivered message must not become a revision because a paragraph of it was learned in
between.

A message is told from a new send by its origin, "topic/partition/offset": a consumer that
crashed before committing is delivered its messages again, and one of an id's earlier
revision must repeat that revision (its number, the hash it followed), not become the
newest. The entry keeps the origin of the latest message of each revision before it
(``IndexEntry.earlier``, the latest :data:`MAX_EARLIER_REVISIONS`); until 2026-12-05 the
redelivered revisions 1 and 2
of an article were numbered 3 and 4 (a restart trial: 77 messages of one run). The same
content in a new message is still a new revision: a producer's revert.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.dedup.model import EarlierRevision, IndexEntry

# Earlier revisions an entry remembers. A redelivery goes back as far as the consumer's
# uncommitted offsets: a batch or two, while a live blog may be revised hundreds of times
# under one id. Older ones, redelivered, are numbered as new revisions.
MAX_EARLIER_REVISIONS = 16


@dataclass(frozen=True, slots=True)
class Revision:
    """Which version of its article a decided message is."""

    number: int = 1
    previous_hash: str | None = None  # content_hash of the revision it follows
    is_new: bool = False  # a new version of an indexed article (not its first, not a replay)
    earlier: tuple[EarlierRevision, ...] = ()  # the revisions before it (IndexEntry.earlier)


@dataclass(frozen=True, slots=True)
class Redelivered:
    """A redelivered message of an earlier revision than the indexed one."""

    revision: Revision
    content_hash: str  # its content hash when it was decided


def next_revision(previous: IndexEntry | None, full_hash: str, origin: str = "") -> Revision:
    """The revision of a message with content ``full_hash`` from ``origin`` whose id is
    indexed as ``previous`` (None: unknown id). Same content, or the indexed revision's own
    message: the indexed revision, repeated."""
    if previous is None:
        return Revision()
    if previous.revision_key == full_hash or (origin and origin == previous.origin):
        return Revision(previous.revision, previous.previous_hash, earlier=previous.earlier)
    earlier = (*previous.earlier,
               (previous.origin, previous.revision_key, previous.fingerprint.content_hash))
    return Revision(previous.revision + 1, previous.fingerprint.content_hash, is_new=True,
                    earlier=earlier[-MAX_EARLIER_REVISIONS:])


def redelivered(previous: IndexEntry | None, origin: str, full_hash: str) -> Redelivered | None:
    """The earlier revision whose message ``origin`` (content ``full_hash``) is, or None.

    ``earlier`` keeps the origin of each revision's latest message. Offsets only grow on a
    partition, so a message at or before one of them was delivered before: it belongs to
    the first revision whose latest message on that partition is at or after it (resends
    and a producer's revert included), if its content is that revision's. The oldest
    revision remembered may have lost the hash it followed: then None, as for one older.
    """
    if previous is None or not previous.earlier:
        return None
    at_position = _position(origin)
    if at_position is None:
        return None
    partition, offset = at_position
    earlier = previous.earlier
    first = previous.revision - len(earlier)  # the number of earlier[0]
    for at, (latest, key, content_hash) in enumerate(earlier):
        known = _position(latest)
        if known is None or known[0] != partition or known[1] < offset:
            continue
        if key != full_hash:
            return None
        number = first + at
        if at > 0:
            return Redelivered(Revision(number, earlier[at - 1][2]), content_hash)
        return Redelivered(Revision(1), content_hash) if number == 1 else None
    return None


def _position(origin: str) -> tuple[str, int] | None:
    """``("topic/partition", offset)`` of a "topic/partition/offset" origin (topic names
    have no "/"), or None."""
    partition, _, offset = origin.rpartition("/")
    if not partition or not offset.isdigit():
        return None
    return partition, int(offset)
