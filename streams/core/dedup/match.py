"""Verification of one LSH candidate: every rule that makes two articles near duplicates.

In order, a candidate is a near duplicate of the article being decided when

1. their event times are within the dedup window (``window``);
2. their shingle sets are similar (Jaccard or containment, :func:`similarity.judge`): exact
   when both are short enough to keep their shingles, else the MinHash estimate
   (``similarity``);
3. they carry the same figures: of the one with fewer number tokens, at least
   ``figure_containment`` of them (as a multiset) appear in the other (``figures``);
4. the paragraphs they share verbatim are not all they have in common
   (:mod:`streams.core.dedup.blocks`, ``shared_blocks``).

The rejection reason names the first rule that failed. Entries logged before profiles existed
(log version 1) have no profile: rules 3 and 4 and exact similarity need both profiles, so
such a pair is judged on the MinHash estimate alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from streams.core.dedup.blocks import (
    estimated_remainder_similarity,
    exact_remainder_similarity,
    remainders,
    remainders_match,
    set_similarity,
)
from streams.core.dedup.config import DedupConfig
from streams.core.dedup.model import Fingerprint, IndexEntry, Profile
from streams.core.dedup.similarity import Verification, estimated_jaccard, judge, verify


@dataclass(frozen=True, slots=True)
class Candidate:
    """The article being decided, as verification sees it."""

    fingerprint: Fingerprint
    event_time_ms: int
    profile: Profile | None = None


def within_window(candidate: Candidate, existing: IndexEntry, config: DedupConfig) -> bool:
    return abs(candidate.event_time_ms - existing.event_time_ms) <= config.window_ms


def verify_candidate(
    candidate: Candidate, existing: IndexEntry, config: DedupConfig
) -> Verification:
    """Whether ``existing`` is a near duplicate of ``candidate``; symmetric in the two."""
    if not within_window(candidate, existing, config):
        return Verification(False, 0.0, "jaccard", "window")
    a, b = candidate.profile, existing.profile
    rules = config.verify
    exact = _exact_similarity(a, b)
    if exact is not None:
        jaccard, containment, smaller = exact
        result = judge(jaccard, containment, smaller, rules)
    else:
        result = verify(candidate.fingerprint, existing.fingerprint, rules)
    if not result.is_dup or a is None or b is None:
        return result
    if not figures_agree(a, b, rules.figure_containment):
        return result._replace(is_dup=False, rejected="figures")
    parts = remainders(a, b, config.minhash.shingle_size)
    if parts is None or parts.negligible(rules.negligible_remainder):
        return result
    similarity = exact_remainder_similarity(a, b, parts)
    if similarity is None:
        jaccard = estimated_jaccard(candidate.fingerprint.signature, existing.fingerprint.signature)
        similarity = estimated_remainder_similarity(
            jaccard, candidate.fingerprint.shingle_count, existing.fingerprint.shingle_count, parts
        )
    if remainders_match(similarity, rules):
        return result
    return result._replace(is_dup=False, rejected="shared_blocks")


def figures_agree(a: Profile, b: Profile, required: float) -> bool:
    """Whether the article with fewer number tokens finds ``required`` of them in the other."""
    if required <= 0 or not a.figures or not b.figures:
        return True
    a_figures, b_figures = Counter(a.figure_array().tolist()), Counter(b.figure_array().tolist())
    common = sum((a_figures & b_figures).values())
    return common >= required * min(a_figures.total(), b_figures.total())


def _exact_similarity(
    a: Profile | None, b: Profile | None
) -> tuple[float, float, int] | None:
    """(Jaccard, containment, smaller set size) when both profiles keep their shingles."""
    if a is None or b is None:
        return None
    a_shingles, b_shingles = a.shingle_array(), b.shingle_array()
    if a_shingles is None or b_shingles is None:
        return None
    a_set, b_set = set(a_shingles.tolist()), set(b_shingles.tolist())
    jaccard, containment = set_similarity(a_set, b_set)
    return jaccard, containment, min(len(a_set), len(b_set))
