from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from streams.core.dedup.config import VerifyConfig
from streams.core.dedup.model import Fingerprint
from streams.core.dedup.similarity import (
    containment_from_jaccard,
    estimated_containment,
    estimated_jaccard,
    verify,
)
from tests.core.dedup.helpers import CONFIG, document, edited, fp


def test_estimated_jaccard_counts_equal_positions() -> None:
    a = np.array([1, 2, 3, 4], dtype=np.uint32)
    b = np.array([1, 2, 0, 0], dtype=np.uint32)
    assert estimated_jaccard(a, b) == 0.5


@pytest.mark.parametrize(("a", "b"), [(4, 8), (0, 0)])
def test_estimated_jaccard_rejects_mismatched_or_empty_signatures(a: int, b: int) -> None:
    with pytest.raises(ValueError, match="one non-zero length"):
        estimated_jaccard(np.zeros(a, np.uint32), np.zeros(b, np.uint32))


def test_estimated_jaccard_of_one_permutation() -> None:
    one = np.array([7], dtype=np.uint32)
    assert estimated_jaccard(one, one) == 1.0


def test_containment_from_jaccard_of_a_subset() -> None:
    # B (50 items) inside A (100 items): J = 0.5, containment of B in A = 1
    assert containment_from_jaccard(0.5, 100, 50) == pytest.approx(1.0)
    assert containment_from_jaccard(0.5, 0, 50) == 0.0
    assert containment_from_jaccard(1.0, 1, 1) == 1.0  # one shingle each, the same one


def test_truncated_excerpt_is_caught_by_containment() -> None:
    full = document(10, words=900)
    excerpt = full[:400]
    a, b = fp(full), fp(excerpt)
    assert estimated_jaccard(a.signature, b.signature) < CONFIG.verify.jaccard_threshold
    containment = estimated_containment(a.signature, b.signature, a.shingle_count, b.shingle_count)
    assert containment > 0.9
    assert verify(b, a, CONFIG.verify) == (True, containment, "containment", "")


def test_containment_needs_enough_shingles() -> None:
    full = document(11, words=900)
    tiny = full[:20]
    assert verify(fp(tiny), fp(full), CONFIG.verify).is_dup is False


def test_copy_edit_is_a_jaccard_match() -> None:
    a = fp(document(12))
    b = fp(edited(document(12), 0.03, seed=1))
    result = verify(a, b, CONFIG.verify)
    assert result.is_dup
    assert result.kind == "jaccard"


def test_unrelated_documents_do_not_match() -> None:
    result = verify(fp(document(13)), fp(document(14)), CONFIG.verify)
    assert (result.is_dup, result.kind) == (False, "jaccard")
    assert result.similarity < 0.1


def test_verify_is_symmetric() -> None:
    a, b = fp(document(15, words=900)), fp(document(15, words=900)[:700])
    config = VerifyConfig()
    assert verify(a, b, config) == verify(b, a, config)


def test_empty_fingerprints_never_near_match() -> None:
    # rejected for similarity, the reason bench/eval_sweep.py reports: no shingle to share
    assert verify(fp([]), fp([]), CONFIG.verify) == (False, 0.0, "jaccard", "similarity")


def test_an_empty_side_never_matches_even_an_equal_signature() -> None:
    """The empty signature (all ones) is a valid value; only the shingle count tells."""
    empty = fp([])
    same_signature = Fingerprint("other", empty.signature.copy(), 50)
    rejected = (False, 0.0, "jaccard", "similarity")
    assert verify(empty, same_signature, CONFIG.verify) == rejected
    assert verify(same_signature, empty, CONFIG.verify) == rejected


def synthetic(count: int, equal_positions: int, content_hash: str = "h") -> Fingerprint:
    """A fingerprint whose signature shares its first ``equal_positions`` values with ``BASE``.

    With :data:`BASE` as the other side the estimated Jaccard is exactly
    ``equal_positions / 128``, so containment ``J (a + b) / ((1 + J) min(a, b))`` is exact too.
    """
    signature = BASE.signature.copy()
    signature[equal_positions:] += np.uint32(1)
    return Fingerprint(content_hash, signature, count)


BASE = Fingerprint("base", np.arange(128, dtype=np.uint32), 100)


@pytest.mark.parametrize(
    ("larger", "expected"),
    [
        (170, (True, 0.9, "containment")),  # (100 + 170) / 300: exactly the threshold
        (167, (False, 0.5, "jaccard")),  # 0.89
        (140, (False, 0.5, "jaccard")),  # 0.8: a containment of 0.7 or 0.8 is not a copy
    ],
)
def test_containment_threshold_is_0_9_inclusive(
    larger: int, expected: tuple[bool, float, str]
) -> None:
    # J = 64/128 = 0.5 is below the Jaccard threshold: only containment can decide.
    result = verify(synthetic(larger, 64), BASE, VerifyConfig())
    assert (result.is_dup, round(result.similarity, 6), result.kind) == expected


@pytest.mark.parametrize(("smaller", "is_dup"), [(39, False), (40, True)])
def test_containment_needs_40_shingles_in_the_smaller_article(smaller: int, is_dup: bool) -> None:
    # J = 0.5 and the larger side twice the smaller: containment 1.0 whatever the size.
    small = dataclasses.replace(BASE, shingle_count=smaller)
    result = verify(small, synthetic(2 * smaller, 64), VerifyConfig())
    assert (result.is_dup, result.kind) == (is_dup, "containment" if is_dup else "jaccard")
    assert result.similarity == (1.0 if is_dup else 0.5)


def test_jaccard_threshold_is_inclusive_when_representable() -> None:
    # 64/128 is exactly 0.5; containment 2J/(1+J) = 0.67 stays below 0.9.
    result = verify(synthetic(100, 64), BASE, VerifyConfig(jaccard_threshold=0.5))
    assert result == (True, 0.5, "jaccard", "")


@pytest.mark.parametrize(("equal", "is_dup"), [(70, False), (71, True)])
def test_jaccard_threshold_is_0_55_inclusive(equal: int, is_dup: bool) -> None:
    # 71/128 = 0.555 >= 0.55 > 70/128 = 0.547 (the threshold re-derived in issue 12, with the
    # figures and shared-block rules guarding precision); containment 2J/(1+J) stays < 0.9.
    result = verify(synthetic(100, equal), BASE, VerifyConfig())
    assert (result.is_dup, result.similarity, result.kind) == (is_dup, equal / 128, "jaccard")
