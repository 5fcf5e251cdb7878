"""Verification of a candidate: window, exact or estimated similarity, figures, shared blocks."""

from __future__ import annotations

import dataclasses
import itertools
import random

from streams.core.dedup.match import Candidate, verify_candidate
from streams.core.dedup.model import IndexEntry
from streams.core.dedup.profile import build_profile
from streams.core.dedup.similarity import estimated_jaccard
from tests.core.dedup.helpers import CONFIG, candidate, fp, indexed, prepared_text

# letters only: the helpers' "w123" words would be figures
WORDS = ["".join(p) for p in itertools.product("bcdfghklmnprstvz", "aeiou", "bcdfghklmnprstvz")]


def words(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(WORDS) for _ in range(count)]


def short_pair() -> tuple[list[str], list[str]]:
    """Two 45-word texts, 6 words apart: exact Jaccard 0.509, MinHash estimate 0.672 (seed
    found by search): the short-article case of issue 12."""
    rng = random.Random(216)
    base = [rng.choice(WORDS) for _ in range(45)]
    other = list(base)
    for i in rng.sample(range(45), 6):
        other[i] = rng.choice(WORDS)
    return base, other


def token_candidate(tokens: list[str], event_time_ms: int = 0) -> Candidate:
    return Candidate(fp(tokens), event_time_ms, build_profile([" ".join(tokens)], "und", 3))


def token_entry(tokens: list[str], article_id: str, exact_below: int = 256) -> IndexEntry:
    profile = build_profile([" ".join(tokens)], "und", 3).for_index(exact_below)
    return IndexEntry(article_id, 0, fp(tokens), article_id, profile=profile)


def test_short_articles_are_judged_on_exact_jaccard_not_the_estimate() -> None:
    base, other = short_pair()
    assert estimated_jaccard(fp(base).signature, fp(other).signature) == 0.671875
    # judged on signatures alone (what the index had before), the noisy estimate merges
    blind = verify_candidate(Candidate(fp(other), 0), IndexEntry("b", 0, fp(base), "b"), CONFIG)
    assert blind.is_dup
    exact = verify_candidate(token_candidate(other), token_entry(base, "b"), CONFIG)
    assert (exact.is_dup, exact.rejected) == (False, "similarity")
    assert round(exact.similarity, 3) == 0.509


def test_a_short_new_article_is_measured_against_a_long_signature() -> None:
    long = words(5, 700)
    excerpt = long[100:160]
    result = verify_candidate(token_candidate(excerpt), token_entry(long, "l"), CONFIG)
    assert (result.is_dup, result.kind, result.similarity) == (True, "containment", 1.0)
    stranger = words(6, 60)
    assert not verify_candidate(token_candidate(stranger), token_entry(long, "l"), CONFIG).is_dup


def test_copies_further_apart_than_the_window_are_not_duplicates() -> None:
    base, _ = short_pair()
    entry = token_entry(base, "b")
    inside = token_candidate(base, event_time_ms=CONFIG.window_ms)
    outside = token_candidate(base, event_time_ms=CONFIG.window_ms + 1)
    assert verify_candidate(inside, entry, CONFIG).is_dup
    assert verify_candidate(outside, entry, CONFIG).rejected == "window"


def test_templated_reports_with_other_figures_are_rejected_on_figures() -> None:
    statement = [
        "The Committee seeks to achieve maximum employment and inflation at the rate of "
        "2 percent over the longer run, and it is highly attentive to inflation risks.",
        "In support of these goals, the Committee decided to raise the target range for the "
        "federal funds rate to {} percent, and it anticipates further increases.",
        "The Committee will continue reducing its holdings of Treasury securities and agency "
        "debt, and it is strongly committed to returning inflation to its 2 percent objective.",
    ]
    november = [p.format("3-3/4 to 4") for p in statement]
    december = [p.format("4-1/4 to 4-1/2") for p in statement]
    result = verify_candidate(candidate(prepared_text(december, "dec")),
                              indexed(prepared_text(november, "nov")), CONFIG)
    assert (result.is_dup, result.rejected) == (False, "figures")
    resent = verify_candidate(candidate(prepared_text(november, "again")),
                              indexed(prepared_text(november, "nov")), CONFIG)
    assert resent.is_dup


def test_entries_without_a_profile_are_judged_on_the_estimate() -> None:
    base, other = short_pair()
    v1 = dataclasses.replace(token_entry(base, "b"), profile=None)  # a log version-1 entry
    assert verify_candidate(token_candidate(other), v1, CONFIG).is_dup
