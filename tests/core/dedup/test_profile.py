"""The verification profile: paragraph keys, distinct shingles per paragraph, datelines."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.config import CoreConfig
from streams.core.dedup.minhash import fingerprint, shingle_hashes, shingle_sequence
from streams.core.dedup.profile import DATELINE_KEY, build_profile, dateline_like
from streams.core.dedup.shingles import shingle_forms
from streams.core.prepare import fingerprint_and_profile
from streams.core.text.normalize import fingerprint_text, fingerprint_tokens, form_key

PARAGRAPHS = (
    "The harbour wall gave way on Monday night after three days of rain.",
    "Residents of the old town were moved to the school hall.",
    "The harbour wall gave way on Monday night after three days of rain.",  # repeated
)


def forms(*paragraphs: str) -> list[str]:
    return [fingerprint_text([p]) for p in paragraphs]


def test_starts_count_each_distinct_shingle_once_where_it_first_starts() -> None:
    profile = build_profile(forms(*PARAGRAPHS), "en", 3)
    tokens = fingerprint_tokens(" ".join(forms(*PARAGRAPHS)), "en")
    distinct = shingle_hashes(tokens, 3)
    starts = profile.start_array().tolist()
    assert sum(starts) == distinct.size == len(set(profile.shingle_array().tolist()))  # type: ignore[union-attr]
    # the third paragraph repeats the first: only its boundary shingles are new
    assert starts == [13, 11, 0]
    assert np.array_equal(profile.hash_array(), distinct)


def test_keys_are_the_paragraph_keys_in_order() -> None:
    profile = build_profile(forms(*PARAGRAPHS[:2]), "en", 3)
    assert profile.key_array().tolist() == [form_key(f) for f in forms(*PARAGRAPHS[:2])]


def test_index_keeps_shingles_of_short_articles_only() -> None:
    profile = build_profile(forms(*PARAGRAPHS), "en", 3)
    assert profile.for_index(25).shingles == profile.shingles
    assert profile.for_index(24).shingles is None
    assert profile.for_index(25).hashes is None  # the 64-bit hashes never go to the index


def test_the_index_keeps_no_profile_over_its_byte_limit() -> None:
    profile = build_profile(forms(*PARAGRAPHS), "en", 3)
    size = len(profile.keys) + len(profile.starts) + len(profile.figures)
    kept = profile.for_index(0, size)
    assert kept is not None
    assert (kept.keys, kept.starts, kept.figures) == (profile.keys, profile.starts,
                                                      profile.figures)
    assert profile.for_index(0, size - 1) is None
    # the shingles the index keeps for a short article count too
    short = profile.for_index(10**6)
    assert short is not None and short.shingles is not None
    assert profile.for_index(10**6, size) is None


def test_datelines_get_the_dateline_key() -> None:
    assert dateline_like(fingerprint_text(["Posted: Sep 27, 2013 5:50 PM"]))
    assert dateline_like(fingerprint_text(["Published 14:35 BST, Monday"]))
    assert not dateline_like(fingerprint_text(["He was 75."]))  # one figure: content
    assert not dateline_like(fingerprint_text(["Formal sentencing is set for 11 a.m. on Nov. 8, "
                                               "the court said on its website."]))
    profile = build_profile(forms("Updated: 09 Sep 2013 11:25", PARAGRAPHS[0]), "en", 3)
    assert profile.key_array().tolist()[0] == DATELINE_KEY


def reference_starts(forms: list[str], language: str) -> list[int]:
    """Distinct shingles (low 32 bits) first starting in each form: the definition, looped."""
    kept = [form for form in forms if form]
    tokens = fingerprint_tokens(" ".join(kept), language)
    sequence = shingle_sequence(tokens, 3).tolist()
    seen: set[int] = set()
    starts, position = [], 0
    for form in kept:
        count = len(fingerprint_tokens(form, language))
        before = len(seen)
        seen.update(h & 0xFFFFFFFF for h in sequence[position:position + count])
        position += count
        starts.append(len(seen) - before)
    return starts


# Words, repeats, figures and unspaced scripts (a word of them splits into characters).
WORDS = st.sampled_from(["wall", "rain", "the", "4", "12", "東京", "ข่าว", "a1", "quay"])
FORMS = st.lists(st.lists(WORDS, max_size=8).map(" ".join), max_size=6)


@settings(max_examples=200, deadline=None)
@given(FORMS, st.sampled_from(["en", "ja", "th"]))
def test_starts_match_the_definition(forms: list[str], language: str) -> None:
    profile = build_profile(forms, language, 3)
    assert profile.start_array().tolist() == reference_starts(forms, language)
    assert sum(profile.start_array().tolist()) == len(profile.shingle_array())  # type: ignore[arg-type]


def test_counts_follow_the_tokens_when_words_split_into_characters() -> None:
    shingled = shingle_forms(["東京 wall", "", "rain quay"], "en", 3)
    assert shingled.forms == ["東京 wall", "rain quay"]
    assert shingled.token_counts == [3, 2]
    assert not shingled.plain
    assert shingle_forms(["harbour wall", "rain"], "en", 3).token_counts == [2, 1]


@settings(max_examples=100, deadline=None)
@given(FORMS, st.sampled_from(["en", "ja"]))
def test_one_pass_gives_the_fingerprint_of_the_tokens(forms: list[str], language: str) -> None:
    config = CoreConfig()
    shared, profile = fingerprint_and_profile(forms, language, config)
    text = " ".join(form for form in forms if form)
    alone = fingerprint(fingerprint_tokens(text, language), text, config.dedup.minhash)
    assert shared.content_hash == alone.content_hash
    assert shared.shingle_count == alone.shingle_count
    assert np.array_equal(shared.signature, alone.signature)
    assert profile == build_profile(forms, language, 3)
