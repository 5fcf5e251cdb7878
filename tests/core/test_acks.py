"""Which messages of a batch cut short may be acknowledged (streams.core.acks)."""

from __future__ import annotations

from streams.core.acks import not_to_acknowledge, offset_ranges


def test_a_batch_decided_whole_is_acknowledged_whole() -> None:
    batch = [(0, 10), (1, 4), (0, 11)]
    assert not_to_acknowledge(batch, set(batch)) == set()


def test_an_undecided_message_holds_back_the_rest_of_its_partition_only() -> None:
    # event-time order: (0, 12) was decided but comes after the undecided (0, 11)
    batch = [(0, 10), (1, 4), (0, 12), (0, 11), (1, 5), (2, 7)]
    decided = {(0, 10), (1, 4), (0, 12), (2, 7)}
    assert not_to_acknowledge(batch, decided) == {(0, 11), (0, 12), (1, 5)}


def test_nothing_decided_acknowledges_nothing() -> None:
    batch = [(3, 1), (3, 2)]
    assert not_to_acknowledge(batch, set()) == {(3, 1), (3, 2)}


def test_offset_ranges_name_each_partitions_runs_in_order() -> None:
    assert offset_ranges([(3, 5), (2, 1), (2, 0), (2, 30), (2, 2), (3, 5)]) == (
        "partition 2: 0-2, 30; partition 3: 5")
    assert offset_ranges([]) == ""
