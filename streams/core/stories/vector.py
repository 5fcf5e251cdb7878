"""TF-IDF weights with document frequencies learned from the stream.

Document frequencies are counted in a fixed table of ``2**df_bits`` counters indexed by the
top bits of a term key (feature hashing: bounded memory, 4 MB at the default 20 bits,
whatever the vocabulary; a rare term sharing a counter with a common one is rare at a
million counters), and they fade with the dedup window: counts and the document total are
scaled by ``2**(-dt/half)`` with a half-life of half the window, so the IDF describes the
recent stream.

Every kept article is counted once by every worker: the deciding worker as it weighs the
article, every other worker (and a restarted one, catching up) from the term keys its log
note carries (``StoryNote.terms``), so the frequencies are a function of the log. Until
2026-12-05 a worker counted only the articles it decided itself: a worker that rebuilt its
state from the log (no snapshot, or a new worker of a scale-out) weighed every term alike
until it had decided many articles, and 789 of 1,749 later articles of a trial got another
story than without the restart.

An article is weighed in a handful of numpy calls over its ~80-250 terms: measured against
the former per-term Python loop, about half the time (``bench/eval_stories.py``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from streams.core.stories.model import Summary
from streams.core.stories.terms import StoryTerms

Vector = dict[int, float]  # term key -> weight


@dataclass(frozen=True, slots=True)
class Weighted:
    """An article's terms weighed by the current document frequencies, heaviest first
    (ties by key), as numpy arrays of one length."""

    keys: np.ndarray[Any, np.dtype[np.uint32]]
    weights: np.ndarray[Any, np.dtype[np.float64]]  # TF-IDF, unit length
    counts: np.ndarray[Any, np.dtype[np.float64]]  # the TF part alone
    idf: np.ndarray[Any, np.dtype[np.float64]]
    # Every term key of the article in its order, packed as little-endian uint32: what its
    # log note carries for other workers to count it (``StoryNote.terms``).
    packed_keys: bytes = b""

    def summary(self, n: int) -> Summary:
        """The ``n`` heaviest terms with their TF weights, unit length and rounded to float16
        (:func:`streams.core.stories.codec.quantize`): what the article adds to a centroid
        and publishes. IDF is applied when a centroid is scored, with the frequencies of that
        moment, so a template that becomes common fades from every story (see :mod:`.state`).
        """
        counts = self.counts[:n]
        norm = math.sqrt(float(counts @ counts))
        if norm == 0.0:
            return ()
        weights = (counts / norm).astype(np.float16).astype(np.float64)
        return tuple(zip(self.keys[:n].tolist(), weights.tolist(), strict=True))


class DocumentFrequencies:
    """Fading document frequencies of hashed terms."""

    def __init__(self, bits: int, half_life_ms: int) -> None:
        self._shift = 32 - bits
        self._counts = np.zeros(1 << bits, dtype=np.float32)
        self.documents = 0.0
        self._half_life_ms = half_life_ms
        self._faded_at_ms: int | None = None

    def idf(self, keys: Sequence[int]) -> list[float]:
        """Smoothed IDF (as scikit-learn's): a term in every document still weighs 1."""
        idf: list[float] = self.idf_of(
            np.fromiter(keys, dtype=np.uint32, count=len(keys))).tolist()
        return idf

    def idf_of(
        self, keys: np.ndarray[Any, np.dtype[np.uint32]]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The IDF of a key array, as an array."""
        base = math.log(self.documents + 1.0) + 1.0
        idf: np.ndarray[Any, np.dtype[np.float64]] = base - np.log(
            self._counts[keys >> self._shift].astype(np.float64) + 1.0)
        return idf

    def weigh(
        self, terms: StoryTerms, *, observe: bool = False, top: int | None = None
    ) -> Weighted:
        """An article's unit TF-IDF vector, heaviest terms first (ties by key), its ``top``
        terms only; with ``observe``, the article is then counted.

        Vectorised: one numpy call costs a few µs, a Python loop over an article's ~80-250
        terms ten times that (``bench/eval_stories.py`` measures the cost).
        """
        keys = np.array(terms.keys, dtype=np.uint32)
        counts = np.array(terms.counts, dtype=np.float64)
        slots = keys >> self._shift
        df = self._counts[slots]
        base = math.log(self.documents + 1.0) + 1.0
        if observe:
            df = self._observe(slots, df, terms.repeats)
        idf = base - np.log(df.astype(np.float64) + 1.0)
        weights = counts * idf
        norm = math.sqrt(float(weights @ weights)) or 1.0
        order = np.lexsort((keys, -weights))[:top]  # heaviest first, ties by key
        return Weighted(keys=keys[order], weights=weights[order] / norm, counts=counts[order],
                        idf=idf[order], packed_keys=keys.astype("<u4", copy=False).tobytes())

    def observe(
        self, keys: np.ndarray[Any, Any], repeats: Collection[int] = ()
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Count an article by its term keys (uint32), as :meth:`weigh` with ``observe``
        does; returns the IDF its terms were weighed with there."""
        slots = keys.astype(np.uint32) >> self._shift
        base = math.log(self.documents + 1.0) + 1.0
        seen = self._observe(slots, self._counts[slots], repeats)
        idf: np.ndarray[Any, np.dtype[np.float64]] = base - np.log(
            seen.astype(np.float64) + 1.0)
        return idf

    def _observe(
        self, slots: np.ndarray[Any, Any], df: np.ndarray[Any, np.dtype[np.float32]],
        repeats: Collection[int],
    ) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Count an article; returns the counts its terms are weighed with. Counted term by
        term: a term whose counter an earlier term of this article already raised (a name
        that is also a plain word: one hash, the kind in the low bits) is weighed with that
        count. (Two distinct terms sharing a counter by their top bits, ~0.3 % of articles,
        are counted once.)"""
        seen = df
        if repeats:
            seen = df.copy()
            seen[list(repeats)] += np.float32(1.0)
        self._counts[slots] = seen + np.float32(1.0)
        self.documents += 1.0
        return seen

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

    def export_state(self) -> tuple[np.ndarray[Any, Any], dict[str, Any]]:
        """The counters (a copy) and the plain data beside them, for a snapshot."""
        return self._counts.copy(), {"documents": self.documents,
                                     "faded_at_ms": self._faded_at_ms}

    def import_state(self, counts: np.ndarray[Any, Any], meta: dict[str, Any]) -> None:
        """Restore :meth:`export_state`; ``ValueError`` when the table has another size."""
        if counts.dtype != np.float32 or counts.shape != self._counts.shape:
            raise ValueError(f"document-frequency table {counts.dtype}{counts.shape}, "
                             f"expected float32{self._counts.shape}")
        self._counts = counts.copy()
        self.documents = float(meta["documents"])
        faded = meta["faded_at_ms"]
        self._faded_at_ms = None if faded is None else int(faded)

    @property
    def nbytes(self) -> int:
        return int(self._counts.nbytes)

