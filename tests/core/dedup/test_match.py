"""Verification of a candidate: window, exact or estimated similarity, figures, shared blocks."""

from __future__ import annotations

import dataclasses
import itertools
import random

import numpy as np

from streams.core.dedup.match import (
    Candidate,
    _measured_similarity,
    _remainders_allow,
    verify_candidate,
)
from streams.core.dedup.model import Fingerprint, IndexEntry, Profile
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


def test_an_old_pair_is_rejected_on_the_window_with_no_similarity() -> None:
    base, _ = short_pair()
    outside = token_candidate(base, event_time_ms=CONFIG.window_ms + 1)
    assert verify_candidate(outside, token_entry(base, "b"), CONFIG) == (
        False, 0.0, "jaccard", "window"
    )


def test_the_window_is_the_distance_between_event_times_at_real_epochs() -> None:
    now = 1_764_700_000_000  # 2025-12 in epoch ms: a sum of two would leave any window
    base, _ = short_pair()
    entry = dataclasses.replace(token_entry(base, "b"), event_time_ms=now)
    assert verify_candidate(token_candidate(base, event_time_ms=now + 1_000), entry, CONFIG).is_dup


def test_a_pair_rejected_on_similarity_is_not_judged_on_figures() -> None:
    """Both sides have profiles and their figures conflict, but the first rule that failed is
    the similarity: the reason says so."""
    rng = random.Random(3)
    vocabulary = WORDS[:20]
    first, second = [], []
    for i in range(6):
        filler = [rng.choice(vocabulary) for _ in range(12)]
        other = [w if rng.random() < 0.35 else rng.choice(vocabulary) for w in filler]
        first.append(f"{' '.join(filler[:6])} rose {10 + i} points to {300 + i} "
                     f"{' '.join(filler[6:])}")
        second.append(f"{' '.join(other[:6])} rose {50 + i} points to {700 + i} "
                      f"{' '.join(other[6:])}")
    result = verify_candidate(candidate(prepared_text(second, "b")),
                              indexed(prepared_text(first, "a")), CONFIG)
    assert (result.is_dup, result.rejected) == (False, "similarity")


def test_a_new_article_of_exactly_the_exact_limit_is_judged_on_the_estimate() -> None:
    limit = CONFIG.verify.exact_below_shingles
    shingles = np.arange(1, limit + 1, dtype="<u4").tobytes()
    hashes = np.arange(1, limit + 1, dtype="<u8").tobytes()
    signature = np.zeros(CONFIG.minhash.num_perm, dtype=np.uint32)
    at_limit = Candidate(Fingerprint("c", signature, limit), 0,
                         Profile(b"", b"", b"", shingles, hashes))
    below = dataclasses.replace(at_limit, fingerprint=Fingerprint("c", signature, limit - 1))
    entry = IndexEntry("e", 0, Fingerprint("e", signature, 5 * limit), "e",
                       profile=Profile(b"", b"", b""))
    assert _measured_similarity(at_limit, entry, CONFIG) is None
    assert _measured_similarity(below, entry, CONFIG) is not None


# The shared-block rule on hand-built profiles: paragraph keys, shingles per paragraph.

def _profile(paragraphs: list[tuple[int, int]], first: int, exact: bool) -> Profile:
    """Paragraphs as (key, shingle count); shingle values numbered from ``first`` per key."""
    keys = np.array([key for key, _ in paragraphs], dtype="<u8").tobytes()
    starts = np.array([count for _, count in paragraphs], dtype="<u2").tobytes()
    values = [key * 10_000 + i for key, count in paragraphs for i in range(count)]
    shingles = np.array(values, dtype="<u4").tobytes() if exact else None
    return Profile(keys, starts, b"", shingles)


def _pair(a: list[tuple[int, int]], b: list[tuple[int, int]], exact: bool
          ) -> tuple[Candidate, IndexEntry]:
    signature = np.zeros(CONFIG.minhash.num_perm, dtype=np.uint32)
    a_count, b_count = sum(c for _, c in a), sum(c for _, c in b)
    return (Candidate(Fingerprint("a", signature, a_count), 0, _profile(a, 1, True)),
            IndexEntry("b", 0, Fingerprint("b", signature, b_count), "b",
                       profile=_profile(b, 1, exact)))


def test_remainders_with_exact_shingles_are_compared_exactly() -> None:
    # one shared paragraph, the rest of each side its own: the remainders share nothing,
    # whatever a whole-text estimate of 0.9 would suggest
    pair = _pair([(1, 40), (2, 40)], [(1, 40), (3, 40)], exact=True)
    assert not _remainders_allow(*pair, 0.9, CONFIG)


def test_a_remainder_of_one_shingle_is_not_negligible_when_it_is_measured_exactly() -> None:
    # 1 of 16 shingles is more than the 5 % share; measured exactly, there is no noise to hide in
    pair = _pair([(1, 15), (2, 1)], [(1, 15), (3, 20)], exact=True)
    assert not _remainders_allow(*pair, 0.9, CONFIG)


def test_estimated_remainders_get_the_estimate_s_noise_as_slack() -> None:
    # without shingles on one side: J 0.75 over 500 + 500 shingles leaves ~31 common outside
    # the shared paragraph, ~68 with three standard errors of slack: enough to match
    pair = _pair([(1, 400), (2, 100)], [(1, 400), (3, 100)], exact=False)
    assert _remainders_allow(*pair, 0.75, CONFIG)
    # at 0.70 even the slack leaves them apart, and 100 shingles are no noise
    assert not _remainders_allow(*pair, 0.70, CONFIG)


def test_an_estimated_remainder_within_the_noise_is_negligible() -> None:
    # 30 of 500 shingles: over the 5 % share but under the estimate's noise (~42)
    pair = _pair([(1, 470), (2, 30)], [(1, 470), (3, 30)], exact=False)
    assert _remainders_allow(*pair, 0.70, CONFIG)
