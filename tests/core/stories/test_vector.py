"""TF-IDF weights and fading document frequencies (streams.core.stories.vector), to the value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streams.core.stories.terms import ENTITY, StoryTerms
from streams.core.stories.vector import DocumentFrequencies

HOUR_MS = 3_600_000
A, B, C = 0x0100_0000, 0x0200_0000, 0x0300_0000  # keys of three counters at 8 bits


def idf(documents: float, count: float) -> float:
    """scikit-learn's smoothed IDF: ln((1 + n) / (1 + df)) + 1."""
    return math.log(documents + 1.0) + 1.0 - math.log(count + 1.0)


def test_idf_is_the_smoothed_formula_of_the_counts() -> None:
    df = DocumentFrequencies(bits=8, half_life_ms=HOUR_MS)
    assert df.idf([A]) == [1.0]  # no documents: every term weighs 1
    df.observe(np.array([A, B], dtype=np.uint32))
    df.observe(np.array([A], dtype=np.uint32))
    df.observe(np.array([C], dtype=np.uint32))
    assert df.documents == 3.0
    assert df.idf([A, B, 0x0400_0000]) == pytest.approx([idf(3, 2), idf(3, 1), idf(3, 0)])
    assert df.idf_of(np.array([B], dtype=np.uint32)).tolist() == pytest.approx([idf(3, 1)])


def test_a_counter_is_chosen_by_the_top_bits_of_the_key() -> None:
    df = DocumentFrequencies(bits=8, half_life_ms=HOUR_MS)
    df.observe(np.array([A], dtype=np.uint32))
    # the low 24 bits (and the kind in the lowest two) do not choose the counter
    assert df.idf([A | 0x00FF_FFFF, A | ENTITY]) == pytest.approx([idf(1, 1), idf(1, 1)])
    assert df.idf([0, 0xFF00_0000]) == pytest.approx([idf(1, 0), idf(1, 0)])
    assert df.nbytes == 4 * 2**8  # one float32 counter each


def test_weighing_gives_the_unit_tf_idf_vector_heaviest_first() -> None:
    df = DocumentFrequencies(bits=8, half_life_ms=HOUR_MS)
    df.observe(np.array([A, B], dtype=np.uint32))
    df.observe(np.array([A], dtype=np.uint32))
    terms = StoryTerms((A, B, C), (2.0, 1.0, 1.0))
    weighted = df.weigh(terms)
    raw = {A: 2.0 * idf(2, 2), B: 1.0 * idf(2, 1), C: 1.0 * idf(2, 0)}
    norm = math.sqrt(sum(w * w for w in raw.values()))
    order = sorted(raw, key=lambda k: (-raw[k], k))
    assert weighted.keys.dtype == np.uint32
    assert weighted.keys.tolist() == order
    assert weighted.weights.tolist() == pytest.approx([raw[k] / norm for k in order])
    assert weighted.counts.tolist() == [{A: 2.0, B: 1.0, C: 1.0}[k] for k in order]
    assert weighted.idf.tolist() == pytest.approx([idf(2, {A: 2, B: 1, C: 0}[k]) for k in order])
    assert weighted.packed_keys == np.array([A, B, C], dtype="<u4").tobytes()
    assert df.documents == 2.0  # weighed, not counted
    assert df.weigh(terms, top=2).keys.tolist() == order[:2]


def test_weighing_with_observe_counts_the_article_and_a_repeat_sees_the_raised_count() -> None:
    df = DocumentFrequencies(bits=8, half_life_ms=HOUR_MS)
    df.observe(np.array([A], dtype=np.uint32))
    # A as a word and as a name: one counter; the name (a repeat) sees the word's count
    terms = StoryTerms((A, A | ENTITY, B), (1.0, 1.0, 1.0), repeats=frozenset({1}))
    weighted = df.weigh(terms, observe=True)
    by_key = dict(zip(weighted.keys.tolist(), weighted.idf.tolist(), strict=True))
    assert by_key == pytest.approx({A: idf(1, 1), A | ENTITY: idf(1, 2), B: idf(1, 0)})
    assert df.documents == 2.0
    # counted term by term: the word and the name each raise their shared counter
    assert df.idf([A, B]) == pytest.approx([idf(2, 3), idf(2, 1)])
    assert df.observe(np.array([B], dtype=np.uint32)).tolist() == pytest.approx([idf(2, 1)])


def test_a_vector_of_zero_weights_stays_zero() -> None:
    df = DocumentFrequencies(bits=8, half_life_ms=HOUR_MS)
    assert df.weigh(StoryTerms((A,), (0.0,))).weights.tolist() == [0.0]


def test_counts_fade_by_half_each_half_life_from_the_first_fade() -> None:
    df = DocumentFrequencies(bits=8, half_life_ms=HOUR_MS)
    df.observe(np.array([A], dtype=np.uint32))
    df.fade(0)  # the first call starts the clock
    assert df.documents == 1.0
    df.fade(HOUR_MS)
    assert df.documents == pytest.approx(0.5)
    assert df.idf([A]) == pytest.approx([idf(0.5, 0.5)])
    df.fade(2 * HOUR_MS)
    assert df.documents == pytest.approx(0.25)
    df.fade(2 * HOUR_MS + 1_000)  # a change under 0.1 %: left for later, not lost
    assert df.documents == pytest.approx(0.25)
    df.fade(3 * HOUR_MS)
    assert df.documents == pytest.approx(0.125)


def test_state_round_trips_and_a_table_of_another_size_is_refused() -> None:
    df = DocumentFrequencies(bits=8, half_life_ms=HOUR_MS)
    df.observe(np.array([A], dtype=np.uint32))
    df.fade(5)
    counts, meta = df.export_state()
    other = DocumentFrequencies(bits=8, half_life_ms=HOUR_MS)
    other.import_state(counts, meta)
    assert (other.documents, other.idf([A])) == (1.0, df.idf([A]))
    assert meta == {"documents": 1.0, "faded_at_ms": 5}
    with pytest.raises(ValueError, match=r"^document-frequency table float32\(512,\), "
                                         r"expected float32\(256,\)$"):
        other.import_state(np.zeros(512, dtype=np.float32), meta)
