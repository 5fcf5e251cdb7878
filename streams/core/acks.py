"""Which messages of a batch cut short may be acknowledged.

A batch is decided in event-time order, so when its decisions stop early (a rebalance is taking
the worker's partitions: ``streams.shell.batches``) the messages decided need not be a prefix
of each partition's offsets. Faust commits a partition's acknowledged offsets up to the first
one missing, and not even that reliably (``Consumer._new_offset`` in faust-streaming takes a
gap of one offset just after the committed one for none), so the acknowledged offsets of a
partition must stay one unbroken run from the committed offset: everything from a partition's
first undecided message on is left unacknowledged and delivered again after the rebalance
(its decided ones are then decided again, as after a crash). Delivered again because Faust
seeks every partition to its committed offset at the next assignment, and one with none to
offset 0 (``streams.kafka.faust_compat.rewind_uncommitted_partitions``).
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
            if partition in first_undecided and offset >= first_undecided[partition]}


def offset_ranges(positions: Iterable[Position]) -> str:
    """``partition 2: 0-23, 30; partition 3: 5`` (for a log line)."""
    by_partition: dict[int, list[int]] = {}
    for partition, offset in sorted(set(positions)):
        by_partition.setdefault(partition, []).append(offset)
    described = []
    for partition, offsets in by_partition.items():
        runs: list[list[int]] = []
        for offset in offsets:
            if runs and offset == runs[-1][1] + 1:
                runs[-1][1] = offset
            else:
                runs.append([offset, offset])
        text = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)
        described.append(f"partition {partition}: {text}")
    return "; ".join(described)
