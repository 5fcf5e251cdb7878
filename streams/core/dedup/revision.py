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
newest. Offsets only grow on a partition, so a message at or before a message of the id
already decided on its partition was delivered before; the revisions of an id's messages
along one partition never go down, so it is of the lowest revision whose latest message
there is at or after it. The entry keeps those latest messages (``IndexEntry.delivered``,
one per revision and partition besides its own origin, the latest
:data:`MAX_DELIVERED`). Until 2026-12-05 the redelivered revisions 1 and 2 of an article
were numbered 3 and 4 (a restart trial: 77 messages of one run). The same content in a new
message is still a new revision: a producer's revert.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from streams.core.dedup.model import Delivered, IndexEntry

# Messages an entry remembers besides its own. A redelivery goes back as far as the
# consumer's uncommitted offsets, a batch or two, while a live blog may be revised hundreds
# of times under one id: an older message redelivered is numbered as a new revision.
MAX_DELIVERED = 16


@dataclass(frozen=True, slots=True)
class Revision:
    """Which version of its article a decided message is."""

    number: int = 1
    previous_hash: str | None = None  # content_hash of the revision it follows
    is_new: bool = False  # a new version of an indexed article (not its first, not a replay)
    delivered: tuple[Delivered, ...] = ()  # IndexEntry.delivered of the message's entry


@dataclass(frozen=True, slots=True)
class Redelivered:
    """A redelivered message of an earlier revision than the indexed one."""

    revision: Revision
    content_hash: str  # its content hash when it was decided


def next_revision(previous: IndexEntry | None, full_hash: str, origin: str) -> Revision:
    """The revision of a message with content ``full_hash`` from ``origin`` whose id is
    indexed as ``previous`` (None: unknown id). Same content, or the indexed revision's own
    message: the indexed revision, repeated."""
    if previous is None:
        return Revision()
    if previous.revision_key == full_hash or (origin and origin == previous.origin):
        return Revision(previous.revision, previous.previous_hash,
                        delivered=_remembered(previous, origin, previous.revision, full_hash))
    return Revision(previous.revision + 1, previous.fingerprint.content_hash, is_new=True,
                    delivered=_remembered(previous, origin, previous.revision + 1, full_hash))


def redelivered(previous: IndexEntry | None, origin: str, full_hash: str) -> Redelivered | None:
    """The revision whose message ``origin`` (content ``full_hash``) is, when it was
    delivered before and is not the indexed revision's content (that one is decided again as
    a replay of it); None when the message is not known to be delivered before, or its
    content or preceding revision is not remembered.

    A remembered message at ``origin`` is that message. Else the message is of the lowest
    revision whose latest message on its partition is at or after it (offsets only grow).
    Two workers can give one number to two contents (an id re-sent with other content on
    two partitions at once): a message of the indexed revision's number with the other
    content repeats that number.
    """
    if previous is None or not previous.delivered:
        return None
    found = _message_at((*previous.delivered, _own(previous)), origin, full_hash)
    if found is None or found[2] != full_hash:
        return None
    number, _, key, content_hash = found
    if number == previous.revision:
        if key == previous.revision_key:
            return None
        return Redelivered(Revision(number, previous.previous_hash), content_hash)
    if number == 1:
        return Redelivered(Revision(1), content_hash)
    before = [item[3] for item in previous.delivered if item[0] == number - 1]
    return Redelivered(Revision(number, before[0]), content_hash) if before else None


def _message_at(
    messages: tuple[Delivered, ...], origin: str, key: str
) -> Delivered | None:
    """The remembered message at ``origin``, else the lowest revision's of those on its
    partition at or after it (of its content ``key`` when that revision had two); None when
    none is."""
    at = _position(origin)
    if at is None:
        return None
    for item in messages:
        if item[1] == origin:
            return item
    later = [item for item in messages
             if (known := _position(item[1])) is not None and known[0] == at[0]
             and known[1] >= at[1]]
    if not later:
        return None
    lowest = min(item[0] for item in later)
    return min((item for item in later if item[0] == lowest), key=lambda item: item[2] != key)


def remembering(entry: IndexEntry, other: IndexEntry) -> IndexEntry | None:
    """``entry``, the one the index keeps of an article, also remembering the messages of
    ``other``: the entry it replaces, or a record of an older revision the log brought after
    it (another worker decided the message before it knew the newer revision), with their
    own message and those they remember. Workers that decide messages of one id on several
    partitions replace each other's entries with their records, so without this a message
    was forgotten and, redelivered, numbered as a new revision (a kill trial with three
    workers). None when there is nothing to add. The result is in the one form of
    :func:`_kept_messages`, so replicas that learn the same messages in another order, and a
    worker replaying its own records, hold the same entry."""
    merged = _kept_messages((*entry.delivered, *other.delivered, _own(other)), _own(entry))
    return None if merged == entry.delivered else dataclasses.replace(entry, delivered=merged)


def _remembered(
    previous: IndexEntry, origin: str, revision: int, key: str
) -> tuple[Delivered, ...]:
    """What the entry of the message from ``origin`` (of revision ``revision``, revision key
    ``key``) remembers after ``previous``: its messages and its own."""
    if origin == previous.origin:
        return previous.delivered
    return _kept_messages((*previous.delivered, _own(previous)), (revision, origin, key, ""))


def _kept_messages(messages: tuple[Delivered, ...], own: Delivered) -> tuple[Delivered, ...]:
    """The latest message of each revision and content on each partition, but the one the
    entry's own message (``own``) makes redundant (its revision and content, its partition,
    not after it), by revision, partition and offset; the latest :data:`MAX_DELIVERED`.
    (Two workers can give one revision number to two contents at once: both are kept.)
    A function of the set of ``messages``, whatever their order: of two at one position
    (one message decided twice, its content hash changed by learned boilerplate between)
    the greater is kept, so replicas that learn them in other orders agree."""
    own_revision, own_origin, own_key, _ = own
    own_at = _position(own_origin)
    latest: dict[tuple[int, str, str], tuple[int, str, int, Delivered]] = {}
    for item in messages:
        at = _position(item[1])
        if at is None:
            continue
        if (own_at is not None and (item[0], item[2], at[0]) == (own_revision, own_key, own_at[0])
                and at[1] <= own_at[1]):
            continue
        # Revision, then partition and offset: the latest revisions are kept past the limit.
        ordered = (item[0], at[0], at[1], item)
        known = latest.get((item[0], at[0], item[2]))
        if known is None or known < ordered:
            latest[(item[0], at[0], item[2])] = ordered
    return tuple(kept[3] for kept in sorted(latest.values())[-MAX_DELIVERED:])


def _own(entry: IndexEntry) -> Delivered:
    return (entry.revision, entry.origin, entry.revision_key, entry.fingerprint.content_hash)


def _position(origin: str) -> tuple[str, int] | None:
    """``("topic/partition", offset)`` of a "topic/partition/offset" origin (topic names
    have no "/"), or None."""
    partition, _, offset = origin.rpartition("/")
    if not partition or not offset.isdigit():
        return None
    return partition, int(offset)
