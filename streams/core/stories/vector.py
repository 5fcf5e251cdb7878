"""TF-IDF weights with document frequencies learned from the stream.

Document frequencies are counted in a fixed table of ``2**df_bits`` counters indexed by term
key (feature hashing: bounded memory, 4 MB at the default 20 bits, whatever the vocabulary;
a rare term sharing a counter with a common one is rare at a million counters), and they
fade with the dedup window: counts and the document total are scaled by ``2**(-dt/half)``
with a half-life of half the window, so the IDF describes the recent stream.

A worker counts the articles it decides itself, a uniform sample of the stream when raw
partitions are spread evenly: the frequencies only shape the vector that worker publishes,
and every other worker adopts that vector and the assignment from the log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streams.core.stories.terms import Keys, StoryTerms, Weights

Vector = dict[int, float]  # term key -> weight


@dataclass(frozen=True, slots=True)
class Weighted:
    """An article's terms weighed by the current document frequencies, heaviest first."""

    keys: Keys
    weights: Weights  # TF-IDF, unit length
    counts: Weights  # the TF part alone
    idf: Weights

    def summary(self, n: int) -> Vector:
        """The ``n`` heaviest terms with their TF weights, unit length: what the article adds
        to a centroid. IDF is applied when a centroid is scored, with the frequencies of that
        moment, so a template that becomes common fades from every story (see :mod:`.state`).
        """
        keys, counts = self.keys[:n], self.counts[:n]
        norm = float(np.sqrt(np.dot(counts, counts)))
        if norm == 0.0:
            return {}
        return dict(zip(keys.tolist(), (counts / norm).tolist(), strict=True))

    def as_dict(self) -> Vector:
        return dict(zip(self.keys.tolist(), self.weights.tolist(), strict=True))

    def idf_dict(self) -> Vector:
        return dict(zip(self.keys.tolist(), self.idf.tolist(), strict=True))


class DocumentFrequencies:
    """Fading document frequencies of hashed terms."""

    def __init__(self, bits: int, half_life_ms: int) -> None:
        self._mask = (1 << bits) - 1
        self._counts: npt.NDArray[np.float32] = np.zeros(1 << bits, np.float32)
        self.documents = 0.0
        self._half_life_ms = half_life_ms
        self._faded_at_ms: int | None = None

    def observe(self, terms: StoryTerms) -> None:
        """Count one article (its keys are distinct)."""
        # Keys are distinct; two may still share a slot, which fancy-index += counts once.
        self._counts[self._slots(terms.keys)] += 1.0
        self.documents += 1.0

    def idf(self, keys: Keys) -> Weights:
        """Smoothed IDF (as scikit-learn's): a term in every document still weighs 1."""
        df = self._counts[self._slots(keys)]
        return (np.log((self.documents + 1.0) / (df + 1.0)) + 1.0).astype(np.float32)

    def weigh(self, terms: StoryTerms) -> Weighted:
        """An article's unit TF-IDF vector, heaviest terms first (ties by key)."""
        if len(terms) == 0:
            return Weighted(terms.keys, terms.counts, terms.counts, terms.counts)
        idf = self.idf(terms.keys)
        weights = (terms.counts * idf).astype(np.float32)
        weights /= np.float32(np.sqrt(np.dot(weights, weights)))
        order = np.lexsort((terms.keys, -weights))
        return Weighted(terms.keys[order], weights[order], terms.counts[order], idf[order])

    def fade(self, now_ms: int) -> None:
        """Scale counts by the time since they were last scaled (called with housekeeping)."""
        if self._faded_at_ms is None:
            self._faded_at_ms = now_ms
            return
        factor = 0.5 ** ((now_ms - self._faded_at_ms) / self._half_life_ms)
        if factor > 0.999:  # housekeeping runs every 5 s: scale once the change counts
            return
        self._counts *= np.float32(factor)
        self.documents *= factor
        self._faded_at_ms = now_ms

    def _slots(self, keys: Keys) -> npt.NDArray[np.intp]:
        return (keys >> 2).astype(np.intp) & self._mask

    @property
    def nbytes(self) -> int:
        return int(self._counts.nbytes)
