"""TF-IDF weights with document frequencies learned from the stream.

Document frequencies are counted in a fixed table of ``2**df_bits`` counters indexed by the
top bits of a term key (feature hashing: bounded memory, 4 MB at the default 20 bits,
whatever the vocabulary; a rare term sharing a counter with a common one is rare at a
million counters), and they fade with the dedup window: counts and the document total are
scaled by ``2**(-dt/half)`` with a half-life of half the window, so the IDF describes the
recent stream.

A worker counts the articles it decides itself, a uniform sample of the stream when raw
partitions are spread evenly: the frequencies only shape the vector that worker publishes,
and every other worker adopts that vector and the assignment from the log.

Plain Python over lists and an ``array``: an article has ~100-250 terms, where each numpy
call's fixed cost (a few µs) outweighs its speed (measured: ``bench/eval_stories.py``).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from streams.core.stories.terms import StoryTerms

Vector = dict[int, float]  # term key -> weight


@dataclass(frozen=True, slots=True)
class Weighted:
    """An article's terms weighed by the current document frequencies, heaviest first."""

    keys: list[int]
    weights: list[float]  # TF-IDF, unit length
    counts: list[float]  # the TF part alone
    idf: list[float]

    def summary(self, n: int) -> Vector:
        """The ``n`` heaviest terms with their TF weights, unit length: what the article adds
        to a centroid. IDF is applied when a centroid is scored, with the frequencies of that
        moment, so a template that becomes common fades from every story (see :mod:`.state`).
        """
        counts = self.counts[:n]
        norm = math.sqrt(sum(c * c for c in counts))
        if norm == 0.0:
            return {}
        return {k: c / norm for k, c in zip(self.keys[:n], counts, strict=False)}


class DocumentFrequencies:
    """Fading document frequencies of hashed terms."""

    def __init__(self, bits: int, half_life_ms: int) -> None:
        self._shift = 32 - bits
        self._counts = array("f", bytes(4 << bits))
        self.documents = 0.0
        self._half_life_ms = half_life_ms
        self._faded_at_ms: int | None = None

    def idf(self, keys: Sequence[int]) -> list[float]:
        """Smoothed IDF (as scikit-learn's): a term in every document still weighs 1."""
        counts, shift = self._counts, self._shift
        base = math.log(self.documents + 1.0) + 1.0
        log = math.log
        return [base - log(counts[key >> shift] + 1.0) for key in keys]

    def weigh(
        self, terms: StoryTerms, *, observe: bool = False, top: int | None = None
    ) -> Weighted:
        """An article's unit TF-IDF vector, heaviest terms first (ties by key), its ``top``
        terms only; with ``observe``, the article is then counted (in the same pass)."""
        keys, counts = terms.keys, terms.counts
        table, shift, log = self._counts, self._shift, math.log
        base = math.log(self.documents + 1.0) + 1.0
        idf = []
        for key in keys:
            slot = key >> shift
            df = table[slot]
            idf.append(base - log(df + 1.0))
            if observe:
                table[slot] = df + 1.0
        if observe:
            self.documents += 1.0
        weights = [c * i for c, i in zip(counts, idf, strict=True)]
        norm = math.sqrt(sum(w * w for w in weights)) or 1.0
        # Sorting tuples compares in C: heaviest first, ties by key.
        ranked = sorted(zip([-w for w in weights], keys, counts, idf, strict=True))[:top]
        return Weighted(
            keys=[r[1] for r in ranked],
            weights=[-r[0] / norm for r in ranked],
            counts=[r[2] for r in ranked],
            idf=[r[3] for r in ranked],
        )

    def fade(self, now_ms: int) -> None:
        """Scale counts by the time since they were last scaled (called with housekeeping)."""
        if self._faded_at_ms is None:
            self._faded_at_ms = now_ms
            return
        factor = 0.5 ** ((now_ms - self._faded_at_ms) / self._half_life_ms)
        if factor > 0.999:  # housekeeping runs every 5 s: scale once the change counts
            return
        view = np.frombuffer(self._counts, dtype=np.float32)
        view *= np.float32(factor)
        self.documents *= factor
        self._faded_at_ms = now_ms

    @property
    def nbytes(self) -> int:
        return len(self._counts) * self._counts.itemsize
