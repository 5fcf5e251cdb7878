"""An article's fingerprint input, tokenized and shingled once.

The MinHash fingerprint (:mod:`streams.core.dedup.minhash`) and the verification profile
(:mod:`streams.core.dedup.profile`) read the same tokens and the same shingles; computing them
once halves the cost of fingerprinting an article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.core.dedup.minhash import ShingleHashes, distinct_hashes, shingle_sequence
from streams.core.text.normalize import fingerprint_tokens


@dataclass(frozen=True, slots=True)
class Shingled:
    forms: list[str]  # the non-empty fingerprint forms, in order
    text: str  # the fingerprint text: the forms joined by a space
    tokens: list[str]
    token_counts: list[int]  # tokens per form: a shingle belongs to the form it starts in
    plain: bool  # the tokens are ``text.split()`` (no word was split into characters)
    sequence: ShingleHashes  # each shingle's xxh3-64, in text order
    hashes: ShingleHashes  # the distinct shingle hashes, sorted: what MinHash summarizes


def shingle_forms(forms: Sequence[str], language: str, k: int) -> Shingled:
    """Tokens and word ``k``-gram hashes of the non-empty ``forms`` (fingerprint forms)."""
    kept = [form for form in forms if form]
    text = " ".join(kept)
    tokens = fingerprint_tokens(text, language)
    # A form is space-normalized, so it has one token per word unless a word was split
    # into characters (unspaced scripts); then the forms are tokenized one by one.
    counts = [form.count(" ") + 1 for form in kept]
    plain = sum(counts) == len(tokens)
    if not plain:
        counts = [len(fingerprint_tokens(form, language)) for form in kept]
    sequence = shingle_sequence(tokens, k)
    return Shingled(kept, text, tokens, counts, plain, sequence, distinct_hashes(sequence))
