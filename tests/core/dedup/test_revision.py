"""Which revision a redelivered message is, from what an index entry remembers
(:mod:`streams.core.dedup.revision`), on entries built by hand: the orders of records that
several workers produce are hard to reach through the pipeline alone."""

from __future__ import annotations

import numpy as np

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.dedup.revision import Redelivered, Revision, redelivered, remembering

K1, K2, K3, K4 = ("1" * 32, "2" * 32, "3" * 32, "4" * 32)


def entry(revision: int, origin: str, key: str, delivered: tuple = (),  # type: ignore[type-arg]
          previous_hash: str | None = None) -> IndexEntry:
    return IndexEntry(
        id="x", event_time_ms=1, root="x", origin=origin, revision=revision,
        previous_hash=previous_hash, delivered=delivered,
        fingerprint=Fingerprint(key, np.zeros(128, dtype=np.uint32), 10),
    )


def test_a_remembered_message_is_its_own_revision_whatever_the_offsets_around_it() -> None:
    """Revision 2's message at offset 369 of a partition whose offset 418 carried revision 1
    (a kill trial with three workers): the message is revision 2, not "the lowest revision
    at or after it"."""
    indexed = entry(4, "raw/0/400", K2, previous_hash=K3, delivered=(
        (1, "raw/1/418", K1, K1), (2, "raw/1/369", K2, K2), (3, "raw/3/452", K3, K3)))
    assert redelivered(indexed, "raw/1/369", K2) == Redelivered(Revision(2, K1), K2)
    assert redelivered(indexed, "raw/1/418", K1) == Redelivered(Revision(1), K1)
    # an earlier message on that partition: the lowest revision at or after it, by content
    assert redelivered(indexed, "raw/1/100", K1) == Redelivered(Revision(1), K1)
    assert redelivered(indexed, "raw/1/100", K4) is None
    assert redelivered(indexed, "raw/2/1", K1) is None  # a partition it never came from


def test_two_contents_given_one_number_by_two_workers_repeat_that_number() -> None:
    """Two workers numbered two contents revision 1 at once; the entry is the other
    worker's. Our message, delivered again, is revision 1 with its own content, not
    revision 2; the indexed content's message is decided as a replay (None)."""
    theirs = entry(1, "raw/3/158", K2)
    ours = entry(1, "raw/1/192", K1)
    indexed = remembering(theirs, ours)
    assert indexed is not None and indexed.delivered == ((1, "raw/1/192", K1, K1),)
    assert redelivered(indexed, "raw/1/192", K1) == Redelivered(Revision(1), K1)
    assert redelivered(indexed, "raw/3/158", K2) is None


def test_remembering_is_one_form_whatever_the_order() -> None:
    """Replicas that learn the same messages in other orders hold the same entry; a later
    message of a revision on a partition makes its earlier one redundant."""
    a = entry(2, "raw/0/9", K2, previous_hash=K1)
    first, second = entry(1, "raw/1/3", K1), entry(1, "raw/1/7", K1)
    one = remembering(remembering(a, first) or a, second)
    other = remembering(a, second)
    assert one is not None and other is not None
    assert one.delivered == other.delivered == ((1, "raw/1/7", K1, K1),)
    assert remembering(other, first) is None  # nothing new: 1/3 is before 1/7


def test_two_contents_of_one_number_on_one_partition_are_both_remembered() -> None:
    """Revision 1 at offset 316 with one content and, decided by another worker that did
    not know it, at offset 391 with another (a kill trial): the later message does not make
    the earlier one redundant, and each, delivered again, is revision 1 with its content."""
    indexed = entry(2, "raw/3/376", K1, previous_hash=K2)
    for message in (entry(1, "raw/2/316", K1), entry(1, "raw/2/391", K2)):
        indexed = remembering(indexed, message) or indexed
    assert [origin for _, origin, _, _ in indexed.delivered] == ["raw/2/316", "raw/2/391"]
    assert redelivered(indexed, "raw/2/316", K1) == Redelivered(Revision(1), K1)
    assert redelivered(indexed, "raw/2/391", K2) == Redelivered(Revision(1), K2)
    # a message before both on that partition, of the second content: revision 1 too
    assert redelivered(indexed, "raw/2/300", K2) == Redelivered(Revision(1), K2)
