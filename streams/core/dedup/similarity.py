"""Similarity estimates from MinHash signatures and the verification of an LSH candidate."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from streams.core.dedup.config import VerifyConfig
from streams.core.dedup.model import Fingerprint, Signature

SimilarityKind = Literal["jaccard", "containment"]
# Why a candidate was not a duplicate (stable snake_case; "" when it was one).
Rejection = Literal["", "similarity", "window", "figures", "shared_blocks"]


class Verification(NamedTuple):
    """Outcome of :func:`verify`; ``kind`` names the measure that decided (or was highest)."""

    is_dup: bool
    similarity: float
    kind: SimilarityKind
    rejected: Rejection = ""


def estimated_jaccard(a: Signature, b: Signature) -> float:
    """Share of equal positions of two signatures of the same length."""
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"signatures must have one non-zero length, got {a.shape} and {b.shape}")
    return float(np.count_nonzero(a == b)) / a.size


def containment_from_jaccard(jaccard: float, a_count: int, b_count: int) -> float:
    """``|A ∩ B| / min(|A|, |B|)`` where ``|A ∩ B| = J (|A| + |B|) / (1 + J)``."""
    smaller = min(a_count, b_count)
    if smaller <= 0:
        return 0.0
    intersection = jaccard * (a_count + b_count) / (1.0 + jaccard)
    return min(1.0, intersection / smaller)


def estimated_containment(a_sig: Signature, b_sig: Signature, a_count: int, b_count: int) -> float:
    """Estimated containment of the smaller shingle set in the larger one."""
    return containment_from_jaccard(estimated_jaccard(a_sig, b_sig), a_count, b_count)


def verify(candidate: Fingerprint, existing: Fingerprint, config: VerifyConfig) -> Verification:
    """Whether two fingerprints are near duplicates by their MinHash estimates; symmetric."""
    jaccard = estimated_jaccard(candidate.signature, existing.signature)
    return verify_estimate(jaccard, candidate.shingle_count, existing.shingle_count, config)


def verify_estimate(
    jaccard: float, a_count: int, b_count: int, config: VerifyConfig
) -> Verification:
    """:func:`verify` from an estimated Jaccard and the two shingle counts."""
    if a_count == 0 or b_count == 0:
        return Verification(False, 0.0, "jaccard", "similarity")
    containment = containment_from_jaccard(jaccard, a_count, b_count)
    return judge(jaccard, containment, min(a_count, b_count), config)


def judge(jaccard: float, containment: float, smaller: int, config: VerifyConfig) -> Verification:
    """The similarity thresholds, from measured or estimated Jaccard and containment."""
    if jaccard >= config.jaccard_threshold:
        return Verification(True, jaccard, "jaccard")
    if smaller >= config.min_shingles_for_containment and (
        containment >= config.containment_threshold
    ):
        return Verification(True, containment, "containment")
    return Verification(False, jaccard, "jaccard", "similarity")
