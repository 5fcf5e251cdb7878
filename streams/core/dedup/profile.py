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

from streams.core.dedup.model import Profile
from streams.core.text.normalize import fingerprint_tokens, form_key

_NUMBER_TOKEN = re.compile(r"[^ ]*[0-9][^ ]*")
_LOW32 = 0xFFFFFFFF
_MAX_START = 0xFFFF  # uint16; a paragraph of more shingles is capped (sizes stay estimates)


def build_profile(
    forms: Sequence[str], language: str, shingle_size: int, exact_below: int
) -> Profile:
    """The profile of the paragraphs whose fingerprint forms are ``forms`` (empty ones skipped).

    ``exact_below``: when the text has fewer distinct shingles than this, the profile keeps
    every shingle hash (``Profile.shingles``).
    """
    kept = [form for form in forms if form]
    token_counts = [len(fingerprint_tokens(form, language)) for form in kept]
    total = sum(token_counts)
    # Positions 0 .. total-k start a shingle; fewer than k tokens make one shingle of all.
    last_start = max(0, total - shingle_size) if total else -1
    starts, offset = [], 0
    for count in token_counts:
        starts.append(min(_MAX_START, max(0, min(offset + count - 1, last_start) - offset + 1)))
        offset += count
    text = " ".join(kept)
    figures = sorted(
        xxhash.xxh3_64_intdigest(token.encode()) & _LOW32 for token in _NUMBER_TOKEN.findall(text)
    )
    shingles = None
    if total and total - shingle_size + 1 < exact_below:
        sequence = shingle_sequence(fingerprint_tokens(text, language), shingle_size)
        if len(set(sequence)) < exact_below:
            shingles = np.array(sequence, dtype="<u4").tobytes()
    return Profile(
        keys=np.array([form_key(form) for form in kept], dtype="<u8").tobytes(),
        starts=np.array(starts, dtype="<u2").tobytes(),
        figures=np.array(figures, dtype="<u4").tobytes(),
        shingles=shingles,
    )


def shingle_sequence(tokens: Sequence[str], k: int) -> list[int]:
    """Low 32 bits of the xxh3-64 of each word ``k``-gram, in text order (not deduplicated).

    The same strings as :func:`streams.core.dedup.minhash.shingle_hashes`: fewer than ``k``
    tokens form one shingle of the whole sequence.
    """
    if not tokens:
        return []
    if len(tokens) < k:
        grams: Sequence[str] = [" ".join(tokens)]
    else:
        grams = list(map(" ".join, zip(*(tokens[i:] for i in range(k)), strict=False)))
    return [xxhash.xxh3_64_intdigest(gram.encode()) & _LOW32 for gram in grams]
