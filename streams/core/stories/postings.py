"""Term key -> the stories holding it in their centroid: the candidate lookup's index.

Every story posts each term of its centroid (~32 terms for a one-article story, up to 144),
so the postings were the largest part of story state: as Python objects (a dict of int keys
to ids, tuples and sets) ~1.5 KB per story on real news (livedoor: story state 3.9 -> 2.4 KB
per entry, ``python -m bench.state_memory --traced``). Here they are one sorted ``uint64``
array of ``key << 32 | slot`` pairs, 8 bytes a pair, where ``slot`` is a small integer
standing for a story id (so a rename moves no pair).

Changes since the array was last built are held apart (pairs added, pairs of the array
removed) and folded into it once they pass a sixteenth of its size: one ``O(n)`` merge per
``n / 16`` changes. A lookup reads the array and those changes, so it always sees exactly
the pairs posted and not removed.

Callers keep the index in step with the centroids: a pair is added once (when its term
enters a story's centroid) and removed once (when it leaves it, or the story goes); the
index does not check it.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Sequence

import numpy as np

_SLOT_BITS = 32
_SLOT_MASK = (1 << _SLOT_BITS) - 1
# Pending changes folded into the array beyond max(this, a sixteenth of its pairs).
_MIN_PENDING = 1024
_PENDING_SHARE = 16

_Slots = int | list[int]  # one slot, or several


def _count(slots: _Slots) -> int:
    return 1 if isinstance(slots, int) else len(slots)


def _listed(slots: _Slots) -> list[int]:
    return [slots] if isinstance(slots, int) else slots


def _put(table: dict[int, _Slots], key: int, slot: int) -> None:
    """Add ``slot`` to ``table[key]`` (absent there)."""
    held = table.get(key)
    if held is None:
        table[key] = slot
    elif isinstance(held, int):
        table[key] = [held, slot]
    else:
        held.append(slot)


def _take(table: dict[int, _Slots], key: int, slot: int) -> bool:
    """Take ``slot`` out of ``table[key]`` (the key is there); whether it held the slot."""
    held = table[key]
    if isinstance(held, int):
        if held != slot:
            return False
        del table[key]
        return True
    if slot not in held:
        return False
    held.remove(slot)
    if len(held) == 1:
        table[key] = held[0]
    return True


class Postings:
    """The stories holding each term key, as (term, story) pairs."""

    def __init__(self) -> None:
        self._pairs: np.ndarray = np.zeros(0, dtype=np.uint64)  # sorted, unique
        # Key -> slots posted since the array was built / slots of its pairs removed since:
        # a bare slot for one (most terms are in one story: no container to allocate).
        self._added: dict[int, _Slots] = {}
        self._removed: dict[int, _Slots] = {}
        self._pending = 0
        self._fold_at = _MIN_PENDING  # pending changes beyond this are folded
        self._slot_of: dict[str, int] = {}
        self._ids: list[str] = []  # slot -> story id ("" while free)
        self._free: list[int] = []  # slots no pair refers to
        self._released: list[int] = []  # slots whose pairs go at the next build

    @classmethod
    def of(cls, centroids: Iterable[tuple[str, Iterable[int]]]) -> Postings:
        """Postings of whole centroids at once (a restored snapshot): one sort."""
        postings = cls()
        chunks = []
        for story_id, keys in centroids:
            held = np.fromiter(keys, dtype=np.uint64)
            if len(held):
                slot = np.uint64(postings._slot(story_id))
                chunks.append((held << np.uint64(_SLOT_BITS)) | slot)
        if chunks:
            postings._pairs = np.unique(np.concatenate(chunks))
            postings._fold_at = max(_MIN_PENDING, len(postings._pairs) // _PENDING_SHARE)
        return postings

    # -- changes -------------------------------------------------------------------------------
    def add(self, keys: Collection[int], story_id: str) -> None:
        """``story_id`` now holds ``keys`` (it held none of them)."""
        if not keys:
            return
        slot = self._slot(story_id)
        added, removed = self._added, self._removed
        pending = self._pending
        for key in keys:
            if key in removed and _take(removed, key, slot):  # the array's pair holds again
                pending -= 1
            else:
                _put(added, key, slot)
                pending += 1
        self._pending = pending
        if pending > self._fold_at:
            self.fold()

    def remove(self, keys: Iterable[int], story_id: str) -> None:
        """``story_id`` no longer holds ``keys`` (it held each of them)."""
        slot = self._slot_of.get(story_id)
        if slot is None:
            return
        for key in keys:
            self._remove_slot(key, slot)
        if self._pending > self._fold_at:
            self.fold()

    def drop(self, story_id: str, keys: Iterable[int]) -> None:
        """A story gone (merged away, expired) or cleared: ``keys`` are all it held."""
        slot = self._slot_of.pop(story_id, None)
        if slot is None:
            return
        for key in keys:
            self._remove_slot(key, slot)
        self._ids[slot] = ""
        self._released.append(slot)
        if self._pending > self._fold_at:
            self.fold()

    def rename(self, old_id: str, new_id: str) -> None:
        """The story ``old_id`` is now called ``new_id`` (which names no story here)."""
        slot = self._slot_of.pop(old_id, None)
        if slot is not None:
            self._slot_of[new_id] = slot
            self._ids[slot] = new_id

    # -- reading -------------------------------------------------------------------------------
    def holders(self, keys: Sequence[int], budget: int) -> dict[str, int]:
        """Stories holding any of ``keys`` -> how many of them they hold, reading at most
        ``budget`` pairs: the keys held by the fewest stories first (ties by key), up to the
        first whose stories would pass the budget."""
        pairs = self._pairs
        if len(pairs) and keys:
            starts = np.array(keys, dtype=np.uint64) << np.uint64(_SLOT_BITS)
            low = np.searchsorted(pairs, starts).tolist()
            # The key's last possible pair, not the next key's first (2**32 - 1 has none).
            high = np.searchsorted(pairs, starts | np.uint64(_SLOT_MASK), side="right").tolist()
        else:
            low = high = [0] * len(keys)
        added, removed = self._added, self._removed
        found = []
        for key, start, end in zip(keys, low, high, strict=True):
            size = end - start
            if key in removed:
                size -= _count(removed[key])
            if key in added:
                size += _count(added[key])
            if size:
                found.append((size, key, start, end))
        found.sort()
        hits: dict[int, int] = {}
        get = hits.get
        for size, key, start, end in found:
            if size > budget:
                break
            budget -= size
            for slot in self._slots(key, start, end):
                hits[slot] = get(slot, 0) + 1
        ids = self._ids
        return {ids[slot]: count for slot, count in hits.items()}

    def held_by(self) -> dict[int, frozenset[str]]:
        """Every key with its stories (tests, diagnostics)."""
        held: dict[int, set[str]] = {}
        for pair in self._pairs.tolist():
            key, slot = pair >> _SLOT_BITS, pair & _SLOT_MASK
            if slot not in _listed(self._removed.get(key, [])):
                held.setdefault(key, set()).add(self._ids[slot])
        for key, slots in self._added.items():
            held.setdefault(key, set()).update(self._ids[slot] for slot in _listed(slots))
        return {key: frozenset(stories) for key, stories in held.items() if stories}

    def nbytes(self) -> int:
        """Approximate memory: the array, the pending changes, the slot table."""
        size = sys.getsizeof
        return (self._pairs.nbytes + size(self._added) + size(self._removed)
                + self._pending * 64 + size(self._slot_of) + size(self._ids))

    # -- internals ------------------------------------------------------------------------------
    def _slots(self, key: int, start: int, end: int) -> list[int]:
        """The stories holding ``key``: the array's ``[start, end)`` and pending changes."""
        slots: list[int] = (self._pairs[start:end] & _SLOT_MASK).tolist() if end > start else []
        removed, added = self._removed, self._added
        if key in removed:
            gone = removed[key]
            slots = ([slot for slot in slots if slot != gone] if isinstance(gone, int)
                     else [slot for slot in slots if slot not in gone])
        if key in added:
            new = added[key]
            if isinstance(new, int):
                slots.append(new)
            else:
                slots.extend(new)
        return slots

    def _slot(self, story_id: str) -> int:
        slot = self._slot_of.get(story_id)
        if slot is None:
            if self._free:
                slot = self._free.pop()
                self._ids[slot] = story_id
            else:
                slot = len(self._ids)
                self._ids.append(story_id)
            self._slot_of[story_id] = slot
        return slot

    def _remove_slot(self, key: int, slot: int) -> None:
        if key in self._added and _take(self._added, key, slot):
            self._pending -= 1
        else:
            _put(self._removed, key, slot)
            self._pending += 1

    def fold(self) -> None:
        """Fold the pending changes into the array; released slots become free."""
        pairs = self._pairs
        if self._removed:
            gone = np.fromiter(
                ((key << _SLOT_BITS) | slot for key, slots in self._removed.items()
                 for slot in _listed(slots)), dtype=np.uint64)
            gone.sort()
            pairs = np.delete(pairs, np.searchsorted(pairs, gone))  # each held by the array
        if self._added:
            new = np.fromiter(
                ((key << _SLOT_BITS) | slot for key, slots in self._added.items()
                 for slot in _listed(slots)), dtype=np.uint64)
            new.sort()
            pairs = np.insert(pairs, np.searchsorted(pairs, new), new)
        self._pairs = pairs
        self._added, self._removed, self._pending = {}, {}, 0
        self._fold_at = max(_MIN_PENDING, len(pairs) // _PENDING_SHARE)
        self._free.extend(self._released)
        self._released = []
