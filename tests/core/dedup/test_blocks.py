"""Shared blocks: paragraphs two articles carry verbatim are set aside before a verdict."""

from __future__ import annotations

import dataclasses

from streams.core.dedup.blocks import (
    estimate_noise,
    estimated_remainder_similarity,
    exact_remainder_similarity,
    remainders,
)
from streams.core.dedup.match import verify_candidate
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
