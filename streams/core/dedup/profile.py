"""The verification profile of an article: paragraph keys with shingle counts, figures, and
the exact shingles of a short article (:class:`streams.core.dedup.model.Profile`).

Computed from the fingerprint forms of the paragraphs that enter the fingerprint, in the same
token stream as the MinHash shingles: a shingle "starts" in the paragraph holding its first
token (shingles span paragraph boundaries exactly as in the fingerprint).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import xxhash

from streams.core.dedup.figures import encode_figures
from streams.core.dedup.model import Profile
from streams.core.text.normalize import fingerprint_tokens, form_key

_LOW32 = 0xFFFFFFFF
# The key given to a dateline-like paragraph (see dateline_like): the shared-block rule
# counts it neither as shared nor as remainder. A real key is 0 with probability 2**-64.
DATELINE_KEY = 0
_DATELINE_TOKENS = 12
_DIGIT = re.compile(r"[0-9]")
_MAX_START = 0xFFFF  # uint16; a paragraph of more shingles is capped (sizes stay estimates)


def build_profile(forms: Sequence[str], language: str, shingle_size: int) -> Profile:
    """The profile of the paragraphs whose fingerprint forms are ``forms`` (empty ones skipped),
    with every shingle hash (``Profile.shingles``, in order of first occurrence): the article
    being decided is always verified on its exact shingles; :meth:`Profile.for_index` keeps
    them in the index only for short articles.
    """
    kept = [form for form in forms if form]
    token_counts = [len(fingerprint_tokens(form, language)) for form in kept]
    tokens = fingerprint_tokens(" ".join(kept), language)
    sequence = shingle_sequence(tokens, shingle_size)
    # Each distinct shingle is counted in the paragraph where it first starts, so the counts
    # add up to the distinct shingles the MinHash signature summarizes (shingle_count).
    seen: dict[int, None] = {}  # low 32 bits, in order of first occurrence
    starts, position = [], 0
    for count in token_counts:
        before = len(seen)
        for shingle in sequence[position : position + count]:
            seen.setdefault(shingle & _LOW32)
        position += count
        starts.append(min(_MAX_START, len(seen) - before))
    keys = [DATELINE_KEY if dateline_like(form) else form_key(form) for form in kept]
    return Profile(
        keys=np.array(keys, dtype="<u8").tobytes(),
        starts=np.array(starts, dtype="<u2").tobytes(),
        figures=encode_figures(tokens),
        shingles=np.array(list(seen), dtype="<u4").tobytes(),
        hashes=np.unique(np.array(sequence, dtype=np.uint64)).tobytes(),
    )


def dateline_like(form: str) -> bool:
    """A short line that is mostly figures: a dateline, a timestamp ("Posted: Sep 27, 2013
    5:50 PM", "Published 14:35 BST, Monday"). Outlets carrying one story each write their
    own, so two copies differ there; it is chrome, not what a copy shares or adds."""
    if form.count(" ") >= _DATELINE_TOKENS:  # the common case: a sentence or more
        return False
    tokens = form.split()
    figures = sum(1 for token in tokens if _DIGIT.search(token))
    return figures >= 2 and 3 * figures >= len(tokens)


def shingle_sequence(tokens: Sequence[str], k: int) -> list[int]:
    """The xxh3-64 of each word ``k``-gram, in text order (not deduplicated).

    The same strings as :func:`streams.core.dedup.minhash.shingle_hashes`: fewer than ``k``
    tokens form one shingle of the whole sequence.
    """
    if not tokens:
        return []
    if len(tokens) < k:
        grams: Sequence[str] = [" ".join(tokens)]
    else:
        grams = list(map(" ".join, zip(*(tokens[i:] for i in range(k)), strict=False)))
    return [xxhash.xxh3_64_intdigest(gram.encode()) for gram in grams]
