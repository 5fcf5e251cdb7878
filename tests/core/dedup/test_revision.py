"""Which revision a redelivered message is, from what an index entry remembers
(:mod:`streams.core.dedup.revision`), on entries built by hand: the orders of records that
several workers produce are hard to reach through the pipeline alone."""

from __future__ import annotations

import numpy as np
import pytest

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.dedup.revision import (
    MAX_DELIVERED,
    Redelivered,
    Revision,
    _kept_messages,
    _message_at,
    _position,
    next_revision,
    redelivered,
    remembering,
)

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


# -- what an entry remembers, to the item (the decision rules above rest on it) --------------
def test_the_messages_kept_are_the_latest_of_each_revision_content_and_partition() -> None:
    own = (3, "raw/0/50", K3, "")
    messages = (
        (1, "no position", K1, K1),  # an origin without a position is not remembered
        (3, "raw/0/40", K3, "c1"),  # own revision, content and partition, before it
        (3, "raw/0/50", K3, "c2"),  # the own message itself
        (1, "raw/1/10", K1, K1), (1, "raw/1/9", K1, "h"),  # the latest of the pair
        (1, "raw/1/8", K2, K2),  # other content: kept beside it
        (2, "raw/0/10", K3, K2),  # own content and partition, another revision: kept
        (3, "raw/2/1", K3, K4),  # own revision and content, another partition: kept
    )
    kept = _kept_messages(messages, own)
    assert kept == ((1, "raw/1/8", K2, K2), (1, "raw/1/10", K1, K1), (2, "raw/0/10", K3, K2),
                    (3, "raw/2/1", K3, K4))
    assert _kept_messages(tuple(reversed(messages)), own) == kept
    # own revision and content after the own message: kept
    later = (3, "raw/0/60", K3, K4)
    assert _kept_messages((*messages, later), own) == (*kept[:3], later, kept[3])


def test_one_message_known_with_two_content_hashes_is_remembered_alike_in_any_order() -> None:
    """One message decided twice, learned boilerplate changing its content hash between:
    replicas that learn the two in other orders keep the same one."""
    a, b = (1, "raw/1/10", K1, K1), (1, "raw/1/10", K1, K2)
    own = (2, "raw/0/1", K2, "")
    assert _kept_messages((a, b), own) == _kept_messages((b, a), own) == (b,)


def test_offsets_are_ordered_as_numbers_and_the_latest_revisions_kept() -> None:
    messages = tuple((1 + i // 4, f"raw/{i % 4}/{9 + i}", f"k{i}", "") for i in range(20))
    kept = _kept_messages(messages, (9, "raw/9/0", K1, ""))
    assert len(kept) == MAX_DELIVERED
    assert kept == tuple(sorted(messages, key=lambda m: (m[0], m[1].rsplit("/", 1)[0],
                                                         int(m[1].rsplit("/", 1)[1]))))[-16:]
    assert [m[1] for m in kept[:3]] == ["raw/0/13", "raw/1/14", "raw/2/15"]
    by_offset = _kept_messages(((1, "raw/0/10", K1, ""), (1, "raw/0/9", K2, "")),
                               (9, "raw/9/0", K1, ""))
    assert [m[1] for m in by_offset] == ["raw/0/9", "raw/0/10"]  # 9 before 10, not as text


@pytest.mark.parametrize(("origin", "position"), [
    ("raw/0/17", ("raw/0", 17)), ("a/b/3", ("a/b", 3)),
    ("17", None), ("raw/0/x", None), ("raw/0/", None), ("/5", None), ("", None)])
def test_a_position_is_the_partition_and_the_offset_of_an_origin(
    origin: str, position: tuple[str, int] | None
) -> None:
    assert _position(origin) == position


def test_of_two_messages_of_the_lowest_revision_after_a_position_its_content_is_chosen() -> None:
    messages = ((2, "raw/0/20", K2, "x"), (1, "raw/0/30", K1, K4), (1, "raw/0/40", K3, K4))
    assert _message_at(messages, "raw/0/5", K3) == (1, "raw/0/40", K3, K4)
    assert _message_at(messages, "raw/0/5", K1) == (1, "raw/0/30", K1, K4)


def test_a_resend_of_the_same_content_forgets_the_messages_it_makes_redundant() -> None:
    previous = entry(1, "raw/0/5", K1)
    resend = next_revision(previous, K1, "raw/0/9")
    assert resend == Revision(1, None, is_new=False, delivered=())
    edited = next_revision(previous, K2, "raw/0/9")
    assert edited.is_new is True
    assert edited == Revision(2, K1, is_new=True, delivered=((1, "raw/0/5", K1, K1),))
    assert next_revision(None, K1, "raw/0/1") == Revision()
    # the indexed revision's own message again: that revision, what it remembered
    assert next_revision(previous, K2, "raw/0/5") == Revision(1, None, delivered=())


def test_a_message_is_found_by_its_revision_key_and_repeats_its_content_hash() -> None:
    """Learned boilerplate made the message's content hash differ from its revision key
    (the hash over every paragraph): it is found by the key and repeats the hash."""
    indexed = entry(2, "raw/0/50", K2, previous_hash=K4,
                    delivered=((1, "raw/1/10", K1, K4),))
    assert redelivered(indexed, "raw/1/10", K1) == Redelivered(Revision(1), K4)
    assert redelivered(indexed, "raw/1/10", K4) is None


def test_another_content_of_the_indexed_number_follows_the_same_revision() -> None:
    """Two workers numbered two contents revision 2: the other content, delivered again,
    is revision 2 following what the indexed revision 2 follows."""
    indexed = entry(2, "raw/3/100", K3, previous_hash=K1,
                    delivered=((1, "raw/1/10", K1, K1), (2, "raw/1/50", K2, K2)))
    assert redelivered(indexed, "raw/1/50", K2) == Redelivered(Revision(2, K1), K2)
