"""Which messages of a batch cut short may be acknowledged.

A batch is decided in event-time order, so when its decisions stop early (a rebalance is taking
the worker's partitions: ``streams.shell.batches``) the messages decided need not be a prefix
of each partition's offsets. Faust commits a partition's acknowledged offsets up to the first
one missing, and not even that reliably (``Consumer._new_offset`` in faust-streaming takes a
gap of one offset just after the committed one for none), so the acknowledged offsets of a
partition must stay one unbroken run from the committed offset: everything from a partition's
first undecided message on is left unacknowledged and delivered again after the rebalance
(its decided ones are then decided again, as after a crash).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

Position = tuple[int, int]  # (partition, offset)


def not_to_acknowledge(batch: Iterable[Position], decided: Collection[Position]) -> set[Position]:
    """The positions of ``batch`` at or after their partition's first one not in ``decided``."""
    positions = list(batch)
    first_undecided: dict[int, int] = {}
    for partition, offset in positions:
        if (partition, offset) not in decided:
            first_undecided[partition] = min(first_undecided.get(partition, offset), offset)
    return {(partition, offset) for partition, offset in positions
            if offset >= first_undecided.get(partition, offset + 1)}
