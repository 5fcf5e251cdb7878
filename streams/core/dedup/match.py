"""Verification of one LSH candidate: every rule that makes two articles near duplicates.

In order, a candidate is a near duplicate of the article being decided when

1. their event times are within the dedup window (``window``);
2. their shingle sets are similar (Jaccard or containment, :func:`similarity.judge`): exact
   when the indexed article is short enough to have kept its shingles, estimated from the
   indexed signature when only the new article is short, else the MinHash estimate
   (``similarity``);
3. they do not put different figures in the same places (:mod:`streams.core.dedup.figures`,
   ``figures``);
4. the paragraphs they share verbatim are not all they have in common
   (:mod:`streams.core.dedup.blocks`, ``shared_blocks``).

The rejection reason names the first rule that failed. Entries logged before profiles existed
(log version 1) have no profile: rules 3 and 4 and exact similarity need both profiles, so
such a pair is judged on the MinHash estimate alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streams.core.dedup.blocks import (
    estimate_noise,
    estimated_remainder_similarity,
    exact_remainder_similarity,
    remainders,
    remainders_match,
    set_similarity,
)
from streams.core.dedup.config import DedupConfig
from streams.core.dedup.figures import figures_agree
from streams.core.dedup.index import CandidateFilter, CandidateRows
from streams.core.dedup.minhash import outside_share
from streams.core.dedup.model import Fingerprint, IndexEntry, Profile
from streams.core.dedup.similarity import (
    Verification,
    estimated_jaccard,
    judge,
    verify,
    verify_estimate,
)


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
    """Whether ``existing`` is a near duplicate of ``candidate``."""
    if not within_window(candidate, existing, config):
        return Verification(False, 0.0, "jaccard", "window")
    a, b = candidate.profile, existing.profile
    rules = config.verify
    measured = _measured_similarity(candidate, existing, config)
    if measured is not None:
        jaccard, containment, smaller = measured
        result = judge(jaccard, containment, smaller, rules)
    else:
        jaccard = estimated_jaccard(candidate.fingerprint.signature, existing.fingerprint.signature)
        result = verify(candidate.fingerprint, existing.fingerprint, rules)
    if not result.is_dup or a is None or b is None:
        return result
    if not figures_agree(a.figures, b.figures, rules.max_figure_conflicts):
        return result._replace(is_dup=False, rejected="figures")
    if not _remainders_allow(candidate, existing, jaccard, config):
        return result._replace(is_dup=False, rejected="shared_blocks")
    return result


def could_verify(forms: Sequence[Candidate], config: DedupConfig) -> CandidateFilter:
    """The candidates that may pass :func:`verify_candidate` against one of ``forms`` (the
    article, and the article with its learned boilerplate when that is decided too).

    A kept indexed article without exact shingles (``CandidateRows.estimate_only``) is judged
    on the MinHash estimate by rule 2 unless a form's own exact shingles apply (see
    :func:`_measured_similarity`): such a row is judged here, from its signature and shingle
    count, by the same arithmetic (:func:`similarity.verify_estimate`), and dropped when rule
    2 rejects it for every form. Every other row is kept. Verdicts are the same: a dropped
    row would have been decoded only to fail rule 2. Duplicates are never dropped so: a
    lookup also counts its group's searchable copies among them
    (``decide._searchable_copies``).

    Past ``config.max_verified_candidates`` rows kept, only that many are: the ones with the
    most signature values equal to a form's (the highest MinHash estimate), the earlier by
    ``(event time, id)`` first among equals (the index shows rows in that order). Only then
    can a verdict differ from verifying every candidate: a copy whose match is less similar
    than that many other earlier candidates, which all fail verification (a template filled
    in with other figures), is not found.
    """
    exact_below = config.verify.exact_below_shingles
    limit = config.max_verified_candidates

    def keep(rows: CandidateRows) -> npt.NDArray[np.bool_]:
        count = rows.estimate_only.size
        equal = np.zeros((len(forms), count), dtype=np.int64)
        measured = np.zeros(count, dtype=np.bool_)  # rows a form's exact shingles judge
        for f, form in enumerate(forms):
            signature = np.asarray(form.fingerprint.signature)
            if signature.shape != rows.signatures.shape[1:]:
                return np.ones(count, dtype=np.bool_)  # verify_candidate raises on it
            equal[f] = np.count_nonzero(rows.signatures == signature, axis=1)
            shingles, profile = form.fingerprint.shingle_count, form.profile
            if profile is not None and profile.shingles is not None and (
                profile.hashes is not None and 0 < shingles < exact_below
            ):
                # The form's containment in a larger indexed article is measured on its
                # hashes (outside_share), not estimated: keep those rows.
                measured |= rows.shingle_counts >= shingles
        kept = np.zeros(count, dtype=np.bool_)
        taken = 0
        # Most similar first, so that past the limit the least similar are the ones left.
        for i in np.argsort(-equal.max(axis=0), kind="stable").tolist():
            if taken == limit:
                break
            if rows.estimate_only[i] and not measured[i] and not any(
                verify_estimate(float(equal[f, i]) / rows.signatures.shape[1],
                                form.fingerprint.shingle_count,
                                int(rows.shingle_counts[i]), config.verify).is_dup
                for f, form in enumerate(forms)
            ):
                continue
            kept[i] = True
            taken += 1
        return kept

    return keep


def _remainders_allow(
    candidate: Candidate, existing: IndexEntry, jaccard: float, config: DedupConfig
) -> bool:
    """The shared-block rule (:mod:`streams.core.dedup.blocks`); both profiles are known."""
    a, b = candidate.profile, existing.profile
    assert a is not None and b is not None
    parts = remainders(a, b, config.minhash.shingle_size)
    if parts is None:
        return True
    similarity = exact_remainder_similarity(a, b, parts)
    counts = candidate.fingerprint.shingle_count, existing.fingerprint.shingle_count
    noise = 0.0
    if similarity is None:
        noise = estimate_noise(jaccard, *counts, config.minhash.num_perm)
        similarity = estimated_remainder_similarity(jaccard, *counts, parts, slack=noise)
    return parts.negligible(config.verify.negligible_remainder, noise) or remainders_match(
        similarity, config.verify
    )


def _measured_similarity(
    candidate: Candidate, existing: IndexEntry, config: DedupConfig
) -> tuple[float, float, int] | None:
    """(Jaccard, containment, smaller set size), better than the MinHash estimate when one
    side is short: exact when the indexed article kept its shingles (the article being
    decided always has its own); when only the article being decided is short, its
    containment in the other from the other's signature (:func:`outside_share`). None when
    both are long: the MinHash estimate is all there is."""
    a, b = candidate.profile, existing.profile
    if a is None or a.shingles is None:
        return None
    if b is not None and b.shingles is not None:
        a_set, b_set = set(a.shingle_array().tolist()), set(b.shingle_array().tolist())  # type: ignore[union-attr]
        jaccard, containment = set_similarity(a_set, b_set)
        return jaccard, containment, min(len(a_set), len(b_set))
    hashes = a.hash_array()
    small, large = candidate.fingerprint.shingle_count, existing.fingerprint.shingle_count
    if hashes is None or small == 0 or small >= config.verify.exact_below_shingles or (
        small > large
    ):
        return None  # (no shingles at all: rule 2 rejects it on the estimate path)
    outside = outside_share(hashes, existing.fingerprint.signature, large, config.minhash)
    common = small * (1.0 - outside)
    return common / (small + large - common), common / small, small
