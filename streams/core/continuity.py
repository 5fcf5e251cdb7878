"""Whether each partition's messages reach the agent without a hole.

At every assignment Faust seeks each partition to its committed offset; the agent should
then see that offset and every later one, in order. A hole (offsets the agent never sees)
is messages no worker will decide, whose offsets the next commit covers when Faust fills it
as a gap (``Consumer._add_gap``) or takes the acknowledged run after it while it has
forgotten the committed offset (between a revocation and the next seek): lost.

This only detects, so that a loss is never silent: the shell logs an ERROR naming the
missing offsets and counts them (``ingest_skipped_offsets_total``). One offset may be
skipped without a message behind it (a transaction's commit marker), so a gap of one
(:attr:`Hole.may_be_marker`) is only counted (``ingest_one_offset_gaps_total``): with no
transactional producer on the topic, each is a lost message, as a dead-letter guard pause
lost them until 2026-12-06 (``streams.kafka.faust_compat.pause_fetching``).

A partition without a committed offset cannot be checked at its first message: the shell
logs a WARNING when that message is not offset 0. Two kill trials (2026-12-06,
``bench.kill_trials``, seeds 14 and 60) lost 167 and 95 messages of such partitions, which
this check reports only as that WARNING; their cause is mended in
``streams.kafka.faust_compat.rewind_uncommitted_partitions``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Offsets a transactional producer's commit marker takes between two of its messages.
MARKER_OFFSETS = 1


@dataclass(frozen=True, slots=True)
class Hole:
    """Offsets ``first`` to ``last`` of ``partition`` that the agent never saw."""

    partition: int
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def may_be_marker(self) -> bool:
        """Whether the offsets may hold a transaction's commit marker rather than a message."""
        return self.size <= MARKER_OFFSETS


class Continuity:
    """The next offset expected per partition, within one assignment (generation)."""

    def __init__(self) -> None:
        self._generation: int | None = None
        self._next: dict[int, int] = {}

    def first_in_assignment(self, generation: int, partition: int) -> bool:
        """Whether a message of ``partition`` in assignment ``generation`` would be the first
        one seen there (False for an older assignment's)."""
        if self._generation is not None and generation < self._generation:
            return False
        return generation != self._generation or partition not in self._next

    def observe(self, generation: int, partition: int, offset: int,
                committed: int | None) -> Hole | None:
        """The agent got message ``offset`` of ``partition`` in assignment ``generation``;
        ``committed``: the partition's committed offset in that assignment (None: unknown).
        Returns the hole before it, if any (one offset: :attr:`Hole.may_be_marker`). A
        message of an older assignment is not checked (it is delivered again); a newer
        assignment starts afresh."""
        if self._generation is not None and generation < self._generation:
            return None
        if generation != self._generation:
            self._generation, self._next = generation, {}
        expected = self._next.get(partition, committed)
        if expected is not None and offset < expected:
            return None  # delivered again (a seek back): not past what was seen
        self._next[partition] = offset + 1
        if expected is None or offset == expected:
            return None
        return Hole(partition, expected, offset - 1)
