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

from streams.core.dedup.figures import encode_figures
from streams.core.dedup.model import Profile
from streams.core.dedup.shingles import Shingled, shingle_forms
from streams.core.text.normalize import form_key

_LOW32 = 0xFFFFFFFF
# The key given to a dateline-like paragraph (see dateline_like): the shared-block rule
# counts it neither as shared nor as remainder. A real key is 0 with probability 2**-64.
DATELINE_KEY = 0
_DATELINE_TOKENS = 12
_DIGIT = re.compile(r"[0-9]")
_MAX_START = 0xFFFF  # uint16; a paragraph of more shingles is capped (sizes stay estimates)


def build_profile(forms: Sequence[str], language: str, shingle_size: int) -> Profile:
    """The profile of the paragraphs whose fingerprint forms are ``forms`` (empty ones
    skipped); see :func:`profile_of`."""
    return profile_of(shingle_forms(forms, language, shingle_size))


def profile_of(shingled: Shingled) -> Profile:
    """The profile of an article's shingled fingerprint input, with every shingle hash
    (``Profile.shingles``, in order of first occurrence): the article being decided is
    always verified on its exact shingles; :meth:`Profile.for_index` keeps them in the index
    only for short articles.
    """
    # Each distinct shingle (by its low 32 bits) is counted in the paragraph where it first
    # starts, so the counts add up to the distinct shingles the signature summarizes.
    low = shingled.sequence & np.uint64(_LOW32)
    _, first = np.unique(low, return_index=True)  # index of each value's first occurrence
    first.sort()
    ends = np.cumsum(shingled.token_counts, dtype=np.int64)
    below = np.searchsorted(first, ends, side="left")
    starts = np.minimum(np.diff(below, prepend=0), _MAX_START)
    keys = [DATELINE_KEY if dateline_like(form) else form_key(form) for form in shingled.forms]
    return Profile(
        keys=np.array(keys, dtype="<u8").tobytes(),
        starts=starts.astype("<u2").tobytes(),
        figures=encode_figures(shingled.tokens, shingled.text if shingled.plain else None),
        shingles=low[first].astype("<u4").tobytes(),
        hashes=shingled.hashes.astype("<u8", copy=False).tobytes(),
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
