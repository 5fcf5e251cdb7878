"""Shared blocks: paragraphs two articles carry verbatim are set aside before a verdict."""

from __future__ import annotations

import dataclasses

import numpy as np

from streams.core.dedup.blocks import (
    Remainders,
    _kept_shingles,
    _shared_shingles,
    estimate_noise,
    estimated_remainder_similarity,
    exact_remainder_similarity,
    remainders,
    remainders_match,
    set_similarity,
)
from streams.core.dedup.match import verify_candidate
from streams.core.dedup.profile import DATELINE_KEY
from tests.core.dedup.helpers import CONFIG, candidate, indexed, prepared_text

BLOCK = (
    "About Norvale Analytics: Norvale Analytics is an independent research and advisory firm "
    "founded in Leeds, with offices in Porto, Accra and Halifax, advising councils, port "
    "authorities and energy regulators on infrastructure, transport and public finance.",
    "Norvale Analytics is not affiliated with any political party or government department. "
    "Media enquiries go to its press office on Wellington Place, on weekdays between nine and "
    "five, and its quarterly indicators are free to republish with credit.",
)
FERRY = ("The evening ferry to Mull was cancelled for a third day as gales kept the harbour "
         "closed and the operator waited for a safety inspection.")
BRIDGE = ("Engineers closed the Tay road bridge to high-sided vehicles after cracks were "
          "found in two expansion joints during a routine survey.")


def test_different_articles_around_one_block_are_not_duplicates() -> None:
    a = prepared_text(["The evening ferry to Mull was cancelled again.", *BLOCK], "a")
    b = prepared_text(["Engineers closed the Tay road bridge on Monday.", *BLOCK], "b")
    parts = remainders(a.profile, b.profile, 3)
    assert parts is not None and parts.shared_paragraphs == 2
    assert exact_remainder_similarity(a.profile, b.profile, parts) == (0.0, 0.0)
    # the whole texts look like copies (exact Jaccard 0.81); what remains of each does not
    result = verify_candidate(candidate(a), indexed(b), CONFIG)
    assert (result.is_dup, result.rejected) == (False, "shared_blocks")
    assert round(result.similarity, 2) == 0.81


def test_a_copy_with_the_block_added_still_matches_its_original() -> None:
    original = prepared_text([FERRY, BRIDGE], "o")
    with_block = prepared_text([FERRY, BRIDGE, *BLOCK], "c")
    parts = remainders(with_block.profile, original.profile, 3)
    assert parts is not None and parts.b_remainder == 0  # the original is all shared
    assert parts.negligible(CONFIG.verify.negligible_remainder)
    assert verify_candidate(candidate(with_block), indexed(original), CONFIG).is_dup


def test_no_shared_paragraph_leaves_the_verdict_to_similarity() -> None:
    a, b = prepared_text([FERRY], "a"), prepared_text([BRIDGE], "b")
    assert remainders(a.profile, b.profile, 3) is None


def test_estimated_remainders_subtract_the_shared_shingles() -> None:
    a, b = prepared_text([FERRY, *BLOCK], "a"), prepared_text([BRIDGE, *BLOCK], "b")
    parts = remainders(a.profile, b.profile, 3)
    assert parts is not None
    union = parts.a_total + parts.b_total - parts.shared_shingles
    exact_jaccard = parts.shared_shingles / union
    jaccard, containment = estimated_remainder_similarity(
        exact_jaccard, parts.a_total, parts.b_total, parts)
    assert (round(jaccard, 6), round(containment, 6)) == (0.0, 0.0)
    # the estimate's slack only forgives what it cannot measure
    noise = estimate_noise(exact_jaccard, parts.a_total, parts.b_total, 128)
    assert 0 < noise < min(parts.a_remainder, parts.b_remainder)
    _, forgiving = estimated_remainder_similarity(
        exact_jaccard, parts.a_total, parts.b_total, parts, slack=noise)
    assert forgiving < CONFIG.verify.remainder_containment


def test_a_remainder_inside_the_estimate_noise_is_negligible() -> None:
    a, b = prepared_text([FERRY, *BLOCK], "a"), prepared_text([BRIDGE, *BLOCK], "b")
    parts = remainders(a.profile, b.profile, 3)
    assert parts is not None
    assert not parts.negligible(0.05)
    assert parts.negligible(0.05, noise=float(parts.a_remainder))
    assert dataclasses.replace(parts, a_remainder=0).negligible(0.0)


# -- the arithmetic, to the shingle ----------------------------------------------------------
def test_kept_shingles_are_those_starting_in_the_kept_paragraphs() -> None:
    shingles = np.array([10, 11, 12, 13, 14, 15], dtype=np.uint32)
    starts = np.array([2, 3, 1], dtype=np.int64)
    keep = np.array([True, False, True])
    assert _kept_shingles(shingles, starts, keep) == {10, 11, 15}


def test_shared_shingles_count_a_paragraphs_tail_only_when_both_texts_go_on_alike() -> None:
    keys = np.array
    a_keys, a_starts = keys([1, 2, 3, 4], dtype=np.uint64), keys([5, 6, 7, 1], dtype=np.int64)
    b_keys = keys([9, 1, 2, 8, 4], dtype=np.uint64)
    # 1 then 2 in both: all 5; 2 then 3 / 8: 6 - (3 - 1); 3 not in b; 4 ends both: its 1
    assert _shared_shingles(a_keys, a_starts, b_keys, 3) == 5 + 4 + 1
    # the same two paragraphs in both: all of the first, which both follow alike
    assert _shared_shingles(keys([1, 2], dtype=np.uint64), keys([5, 5], dtype=np.int64),
                            keys([1, 2], dtype=np.uint64), 3) == 10
    # a paragraph shorter than a shingle, followed by different ones: none of it
    assert _shared_shingles(keys([4, 5], dtype=np.uint64), keys([1, 1], dtype=np.int64),
                            keys([4, 6], dtype=np.uint64), 3) == 0
    # both end with the shared paragraph: all of it
    assert _shared_shingles(keys([7, 1], dtype=np.uint64), keys([4, 5], dtype=np.int64),
                            keys([1], dtype=np.uint64), 3) == 5
    # a dateline-like paragraph is never shared
    assert _shared_shingles(keys([DATELINE_KEY], dtype=np.uint64), keys([4], dtype=np.int64),
                            keys([DATELINE_KEY], dtype=np.uint64), 3) == 0


def test_two_texts_sharing_only_their_datelines_share_no_paragraph() -> None:
    dateline = "27.09.2013 17:50"  # kept by the text rules, a dateline to the profile
    a, b = prepared_text([dateline, FERRY], "a"), prepared_text([dateline, BRIDGE], "b")
    assert a.profile.key_array().tolist()[0] == DATELINE_KEY
    assert remainders(a.profile, b.profile, 3) is None


def test_exact_remainders_compare_what_each_keeps() -> None:
    a = prepared_text([FERRY + " The operator expects to sail on Friday.", *BLOCK], "a")
    b = prepared_text([FERRY, *BLOCK], "b")
    parts = remainders(a.profile, b.profile, 3)
    assert parts is not None and (parts.a_keep.tolist(), parts.b_keep.tolist()) == (
        [True, False, False], [True, False, False])
    a_kept = set(a.profile.shingle_array()[: int(a.profile.start_array()[0])].tolist())
    b_kept = set(b.profile.shingle_array()[: int(b.profile.start_array()[0])].tolist())
    common = len(a_kept & b_kept)
    assert 0 < common < len(a_kept)
    assert exact_remainder_similarity(a.profile, b.profile, parts) == (
        common / len(a_kept | b_kept), common / min(len(a_kept), len(b_kept)))


def _parts(a_remainder: int, b_remainder: int, shared: int = 0) -> Remainders:
    none = np.zeros(0, dtype=bool)
    return Remainders(1, a_remainder, b_remainder, a_remainder, b_remainder, shared, none, none)


def test_estimated_remainders_of_one_shingle_and_of_none() -> None:
    assert estimated_remainder_similarity(1.0, 1, 1, _parts(1, 1)) == (1.0, 1.0)
    assert estimated_remainder_similarity(1.0, 1, 1, _parts(0, 0)) == (0.0, 0.0)
    assert estimated_remainder_similarity(0.5, 4, 2, _parts(1, 0)) == (0.0, 0.0)


def test_remainders_match_at_either_threshold_exactly() -> None:
    verify = CONFIG.verify
    assert remainders_match((verify.remainder_jaccard, 0.0), verify)
    assert remainders_match((0.0, verify.remainder_containment), verify)
    assert not remainders_match((verify.remainder_jaccard - 1e-9,
                                 verify.remainder_containment - 1e-9), verify)


def test_the_similarity_of_an_empty_set_is_none() -> None:
    assert set_similarity(set(), {1}) == (0.0, 0.0)
    assert set_similarity({1, 2}, set()) == (0.0, 0.0)
    assert set_similarity({1, 2, 3}, {2, 3, 4, 5}) == (2 / 5, 2 / 3)
