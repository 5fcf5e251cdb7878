"""Shared blocks: paragraphs two articles carry verbatim, set aside before they are called copies.

Different articles often share whole paragraphs: a publisher footer, a newsletter pitch, an
agency boilerplate paragraph, a long common quote. When those make up most of two short
articles, the whole-text similarity says "copy" although the articles differ everywhere
else. The rule: set aside the paragraphs both carry (same paragraph key) and look at what
remains on each side.

* a side whose remainder is negligible (at most ``negligible_remainder`` of its shingles, or
  below the error of the estimate that would measure it) is all shared text: the pair is an
  original and its copy with chrome added (or two copies);
* otherwise the two remainders must match on their own: Jaccard >= ``remainder_jaccard`` or
  containment of the smaller in the larger >= ``remainder_containment``.

Dateline-like paragraphs ("Posted: Sep 27, 2013 5:50 PM") count on neither side: each
outlet writes its own (:func:`streams.core.dedup.profile.dateline_like`).

Only paragraph keys and per-paragraph shingle counts are needed (what the index stores); the
remainder similarity is exact when both articles keep their shingles (short articles) and
otherwise derived from the whole-text estimate by subtracting the shared shingles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streams.core.dedup.config import VerifyConfig
from streams.core.dedup.model import Profile
from streams.core.dedup.profile import DATELINE_KEY


@dataclass(frozen=True, slots=True)
class Remainders:
    """Two articles with the paragraphs both carry set aside."""

    shared_paragraphs: int  # paragraphs of the first article whose key the second also has
    a_remainder: int  # distinct shingles first starting in the first article's other paragraphs
    b_remainder: int
    a_total: int
    b_total: int
    shared_shingles: int  # shingles of the shared paragraphs that both texts contain
    a_keep: npt.NDArray[np.bool_]  # per paragraph of the first: not shared
    b_keep: npt.NDArray[np.bool_]

    def negligible(self, share: float, noise: float = 0.0) -> bool:
        """Whether one side is (nearly) all shared paragraphs: its remainder is at most
        ``share`` of it, or no larger than ``noise``, the error of the estimate that would
        have to measure it (a remainder that cannot be told from nothing is not judged)."""
        return (
            self.a_remainder <= max(share * self.a_total, noise)
            or self.b_remainder <= max(share * self.b_total, noise)
        )


def remainders(a: Profile, b: Profile, shingle_size: int) -> Remainders | None:
    """The two remainders, or None when the articles share no paragraph."""
    a_keys, b_keys = a.key_array(), b.key_array()
    common = set(a_keys.tolist()) & set(b_keys.tolist())  # sets: np.isin costs ~0.4 ms here
    common.discard(DATELINE_KEY)
    if not common:
        return None
    a_counted, b_counted = a_keys != DATELINE_KEY, b_keys != DATELINE_KEY
    a_shared = np.fromiter((k in common for k in a_keys.tolist()), bool, len(a_keys))
    b_shared = np.fromiter((k in common for k in b_keys.tolist()), bool, len(b_keys))
    a_starts, b_starts = a.start_array(), b.start_array()
    a_keep, b_keep = a_counted & ~a_shared, b_counted & ~b_shared
    return Remainders(
        shared_paragraphs=int(a_shared.sum()),
        a_remainder=int(a_starts[a_keep].sum()),
        b_remainder=int(b_starts[b_keep].sum()),
        a_total=int(a_starts[a_counted].sum()),
        b_total=int(b_starts[b_counted].sum()),
        shared_shingles=_shared_shingles(a_keys, a_starts, b_keys, shingle_size),
        a_keep=a_keep,
        b_keep=b_keep,
    )


def _shared_shingles(
    a_keys: npt.NDArray[np.uint64], a_starts: npt.NDArray[np.int64],
    b_keys: npt.NDArray[np.uint64], shingle_size: int,
) -> int:
    """Shingles of the shared paragraphs that both texts contain.

    A shingle starting in a shared paragraph is common unless it runs into the next
    paragraph and the next paragraphs differ: the last ``shingle_size - 1`` shingles of a
    shared paragraph count only when both texts continue with the same paragraph (or end).
    """
    b_next: dict[int, int | None] = {}
    for j, key in enumerate(b_keys.tolist()):
        b_next.setdefault(key, int(b_keys[j + 1]) if j + 1 < len(b_keys) else None)
    a_list = a_keys.tolist()
    total = 0
    for i, key in enumerate(a_list):
        if key not in b_next or key == DATELINE_KEY:
            continue
        a_following = a_list[i + 1] if i + 1 < len(a_list) else None
        starts = int(a_starts[i])
        same_next = a_following == b_next[key]
        total += starts if same_next else max(0, starts - (shingle_size - 1))
    return total


def exact_remainder_similarity(
    a: Profile, b: Profile, parts: Remainders
) -> tuple[float, float] | None:
    """(Jaccard, containment of the smaller) of the two remainders' shingle sets, when both
    profiles keep their shingles; None otherwise."""
    a_shingles, b_shingles = a.shingle_array(), b.shingle_array()
    if a_shingles is None or b_shingles is None:
        return None
    a_set = _kept_shingles(a_shingles, a.start_array(), parts.a_keep)
    b_set = _kept_shingles(b_shingles, b.start_array(), parts.b_keep)
    return set_similarity(a_set, b_set)


def estimated_remainder_similarity(
    jaccard: float, a_count: int, b_count: int, parts: Remainders, slack: float = 0.0
) -> tuple[float, float]:
    """(Jaccard, containment of the smaller) of the remainders from the whole-text Jaccard.

    The whole intersection is ``J (|A| + |B|) / (1 + J)``; the shared paragraphs account for
    ``shared_shingles`` of it, the rest is what the remainders have in common. ``slack`` (the
    estimate's error) is added to that: the pair is rejected only when its remainders
    measurably differ.
    """
    intersection = jaccard * (a_count + b_count) / (1.0 + jaccard)
    common = max(0.0, intersection - parts.shared_shingles + slack)
    smaller = min(parts.a_remainder, parts.b_remainder)
    common = min(common, float(smaller))
    union = parts.a_remainder + parts.b_remainder - common
    return (common / union if union > 0 else 0.0, common / smaller if smaller > 0 else 0.0)


def estimate_noise(jaccard: float, a_count: int, b_count: int, num_perm: int) -> float:
    """Three standard errors of the intersection size ``J (|A| + |B|) / (1 + J)`` when ``J``
    is a MinHash estimate from ``num_perm`` permutations (standard error
    ``sqrt(J (1 - J) / num_perm)``, propagated through the derivative)."""
    spread = math.sqrt(max(0.0, jaccard * (1.0 - jaccard)) / num_perm)
    return 3.0 * spread * (a_count + b_count) / (1.0 + jaccard) ** 2


def remainders_match(similarity: tuple[float, float], config: VerifyConfig) -> bool:
    jaccard, containment = similarity
    return jaccard >= config.remainder_jaccard or containment >= config.remainder_containment


def set_similarity(a: set[int], b: set[int]) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) of two sets; 0 for empty sets."""
    if not a or not b:
        return (0.0, 0.0)
    common = len(a & b)
    return (common / (len(a) + len(b) - common), common / min(len(a), len(b)))


def _kept_shingles(
    shingles: npt.NDArray[np.uint32], starts: npt.NDArray[np.int64], keep: npt.NDArray[np.bool_]
) -> set[int]:
    ends = np.cumsum(starts)
    out: set[int] = set()
    for i in np.flatnonzero(keep).tolist():
        out.update(shingles[ends[i] - starts[i] : ends[i]].tolist())
    return out
