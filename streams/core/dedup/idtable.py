"""Article id -> row number, as an open-addressing table of uint32 rows (linear probing).

About 10 B per id (a uint32 slot at a load factor of 1/4 to 1/2) instead of ~110 B for a
``dict[str, int]`` entry with its int object. The table stores no keys: a slot's row is
checked against the row's 32-bit id hash, then against the id itself (``id_of``).
Deletion shifts the rest of the probe run back (Knuth's algorithm R), so there are no
tombstones and lookups never degrade.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import xxhash

U32 = npt.NDArray[np.uint32]
EMPTY = 0xFFFFFFFF
_MIN_SLOTS = 1024


def id_hash(article_id: str) -> int:
    """32-bit hash of an id: picks its home slot and screens probes."""
    return xxhash.xxh3_64_intdigest(article_id.encode("utf-8", "surrogatepass")) & 0xFFFFFFFF


class IdTable:
    """Maps ids to rows; ``hashes[row]`` is the row's :func:`id_hash`, owned by the caller."""

    def __init__(self, id_of: Callable[[int], str]) -> None:
        self._id_of = id_of
        self.slots: U32 = np.full(_MIN_SLOTS, EMPTY, dtype=np.uint32)
        self.count = 0

    @property
    def nbytes(self) -> int:
        return int(self.slots.nbytes)

    def find(self, article_id: str, hashed: int, hashes: U32) -> tuple[int, int]:
        """``(slot, row)`` of ``article_id``; when absent, row -1 and the free slot."""
        slots = self.slots
        mask = slots.size - 1
        slot = hashed & mask
        while True:
            row = int(slots[slot])
            if row == EMPTY:
                return slot, -1
            if int(hashes[row]) == hashed and self._id_of(row) == article_id:
                return slot, row
            slot = (slot + 1) & mask

    def insert(
        self, article_id: str, hashed: int, row: int, hashes: U32, alive: npt.NDArray[np.uint8]
    ) -> None:
        """Map a new id (absent from the table) to ``row``; grows at a load factor of 1/2."""
        if 2 * (self.count + 1) > self.slots.size:
            # The rebuild re-inserts every live row, this one included when it is live.
            self.rebuild(hashes, alive, self.slots.size * 2)
        slot, found = self.find(article_id, hashed, hashes)
        if found == row:
            return
        if found >= 0:
            raise ValueError(f"id {article_id!r} is already in the table")
        self.slots[slot] = row
        self.count += 1

    def delete(self, slot: int, hashes: U32) -> None:
        """Empty ``slot`` and shift back the entries of its probe run that may move."""
        slots = self.slots
        mask = slots.size - 1
        slots[slot] = EMPTY
        self.count -= 1
        hole = slot
        probe = slot
        while True:
            probe = (probe + 1) & mask
            row = int(slots[probe])
            if row == EMPTY:
                return
            home = int(hashes[row]) & mask
            # The entry at ``probe`` may fill the hole unless its home lies cyclically in
            # (hole, probe]: then moving it before its home would hide it from lookups.
            stays = hole < home <= probe if hole <= probe else home > hole or home <= probe
            if not stays:
                slots[hole] = row
                slots[probe] = EMPTY
                hole = probe

    def rebuild(self, hashes: U32, alive: npt.NDArray[np.uint8], size: int | None = None) -> None:
        """Re-insert every live row (vectorized rounds of linear probing)."""
        live = np.nonzero(alive)[0].astype(np.uint32)
        if size is None:
            size = _MIN_SLOTS
            while size < 3 * live.size:  # load 1/3 after a rebuild: room to grow
                size *= 2
        slots = np.full(size, EMPTY, dtype=np.uint32)
        mask = np.uint32(size - 1)
        pending = live
        targets = hashes[live] & mask
        while pending.size:
            free = slots[targets] == EMPTY
            candidates = np.nonzero(free)[0]
            _, first = np.unique(targets[candidates], return_index=True)
            winners = candidates[first]
            slots[targets[winners]] = pending[winners]
            losers = np.ones(pending.size, dtype=bool)
            losers[winners] = False
            pending = pending[losers]
            targets = (targets[losers] + np.uint32(1)) & mask
        self.slots = slots
        self.count = int(live.size)
