"""The verification profile: paragraph keys, distinct shingles per paragraph, datelines."""

from __future__ import annotations

import numpy as np

from streams.core.dedup.minhash import shingle_hashes
from streams.core.dedup.profile import DATELINE_KEY, build_profile, dateline_like
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


def test_datelines_get_the_dateline_key() -> None:
    assert dateline_like(fingerprint_text(["Posted: Sep 27, 2013 5:50 PM"]))
    assert dateline_like(fingerprint_text(["Published 14:35 BST, Monday"]))
    assert not dateline_like(fingerprint_text(["He was 75."]))  # one figure: content
    assert not dateline_like(fingerprint_text(["Formal sentencing is set for 11 a.m. on Nov. 8, "
                                               "the court said on its website."]))
    profile = build_profile(forms("Updated: 09 Sep 2013 11:25", PARAGRAPHS[0]), "en", 3)
    assert profile.key_array().tolist()[0] == DATELINE_KEY
