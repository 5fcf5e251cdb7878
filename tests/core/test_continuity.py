"""A hole in a partition's offsets is found, exactly, and nothing else is called one."""

from __future__ import annotations

from streams.core.continuity import Continuity, Hole


def test_messages_from_the_committed_offset_on_have_no_hole() -> None:
    seen = Continuity()
    assert [seen.observe(1, 2, offset, 72) for offset in range(72, 80)] == [None] * 8


def test_a_first_message_past_the_committed_offset_is_a_hole() -> None:
    """The kill trial's case: 72 committed, 239 delivered first."""
    seen = Continuity()
    hole = seen.observe(1, 2, 239, 72)
    assert hole == Hole(2, 72, 238)
    assert hole.size == 167
    assert seen.observe(1, 2, 240, 72) is None


def test_a_skip_between_two_messages_is_a_hole_but_one_offset_may_be_a_marker() -> None:
    seen = Continuity()
    assert seen.observe(1, 0, 10, 10) is None
    marker = seen.observe(1, 0, 12, 10)  # 11: a transaction's commit marker, or one lost
    assert marker == Hole(0, 11, 11)
    assert marker.may_be_marker
    hole = seen.observe(1, 0, 15, 10)
    assert hole == Hole(0, 13, 14)
    assert not hole.may_be_marker


def test_partitions_are_apart_and_a_new_assignment_starts_afresh() -> None:
    seen = Continuity()
    assert seen.observe(1, 0, 5, 5) is None
    assert seen.observe(1, 1, 50, 50) is None
    assert seen.observe(2, 0, 3, 3) is None  # sought back to 3 at the next assignment
    assert seen.observe(2, 0, 4, 3) is None
    assert seen.observe(2, 1, 60, 50) == Hole(1, 50, 59)


def test_an_older_assignments_message_or_a_redelivery_is_not_checked() -> None:
    seen = Continuity()
    assert seen.observe(3, 0, 100, 100) is None
    assert seen.observe(2, 0, 500, 100) is None  # an event of the last assignment
    assert seen.observe(3, 0, 101, 100) is None
    assert seen.observe(3, 0, 90, 100) is None  # delivered again (a seek back)
    assert seen.observe(3, 0, 102, 100) is None


def test_without_a_committed_offset_the_first_message_starts_the_check() -> None:
    seen = Continuity()
    assert seen.observe(1, 0, 40, None) is None
    assert seen.observe(1, 0, 41, None) is None
    assert seen.observe(1, 0, 45, None) == Hole(0, 42, 44)


def test_the_first_message_of_a_partition_in_an_assignment_is_known() -> None:
    seen = Continuity()
    assert seen.first_in_assignment(1, 0)
    seen.observe(1, 0, 7, None)
    assert not seen.first_in_assignment(1, 0)
    assert seen.first_in_assignment(1, 1)
    assert seen.first_in_assignment(2, 0)
    seen.observe(2, 1, 3, 3)
    assert not seen.first_in_assignment(1, 0)  # an older assignment's message
