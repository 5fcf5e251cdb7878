"""Knobs of the near-duplicate core, as small frozen dataclasses composed into :class:`DedupConfig`.

Re-derived for issue 12 with ``python -m bench.eval_dedup --sweep`` and ``--pairs`` on the
generated stream (880 messages: 7 duplicate kinds, templated-report and shared-block hard
negatives) and on real text (FOMC statements; ECB+ news from a local copy). The README's
"Near duplicates" section has the tables; the deciding numbers:

* Word 3-gram shingles, 128 permutations, LSH 32 x 4 (kept from the first sweep: k=5 drops
  5 %-copy-edits to Jaccard ~0.63; 64 permutations give estimates too noisy; 42 x 3 merged
  2 different ECB+ articles, 25 x 5 and 20 x 6 missed an ECB+ copy).
* ``jaccard_threshold`` 0.55: localized wire copies on ECB+ (an AFP story and its rewrite
  with local spelling and currency) sit at 0.54-0.57, and 0.6 misses three of them; 0.5
  merges two different ECB+ articles. Same-story articles reach 0.22, shared footers 0.41;
  shared blocks and templated reports above that are the other rules' work.
* ``containment_threshold`` 0.9 (0.8-0.9 all pass; 0.95 misses an ECB+ copy), with the
  40-shingle floor of the smaller article.
* ``exact_below_shingles`` 256: below it an indexed article keeps its shingle hashes (<= 1
  KB) and pairs with it are judged exactly. The MinHash estimate flips the verdict of 46 of
  345 pairs whose smaller article has 100-149 shingles (shared-block negatives crowd the
  threshold there): 0 and 128 keep only 62 % and 75 % of them apart; 256 and 512 all.
* ``max_figure_conflicts`` 0.2: copies put different figures in the same place in at most
  8 % of the places (ECB+), templated reports in at least 25 %; 0.3 lets 14 % of the
  templated reports merge.
* ``negligible_remainder`` 0.05, ``remainder_jaccard`` 0.5, ``remainder_containment`` 0.7:
  remainders of shared-block negatives match at most 0.59 (containment), those of copies
  that edit what they do not share at least 0.76 (truncates) and 0.84 (copy-edits); 0.6
  merges a different ECB+ pair, 0.8 misses an ECB+ copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class MinHashConfig:
    """How a token sequence becomes a MinHash signature."""

    num_perm: int = 128
    shingle_size: int = 3  # words per shingle
    seed: int = 1  # derives the permutation parameters; changing it invalidates every index

    def __post_init__(self) -> None:
        if self.num_perm < 1 or self.shingle_size < 1:
            raise ConfigError("num_perm and shingle_size must be positive")


@dataclass(frozen=True, slots=True)
class LSHConfig:
    """Banding of a signature into ``bands`` keys of ``rows`` values each."""

    bands: int = 32
    rows: int = 4

    def __post_init__(self) -> None:
        if self.bands < 1 or self.rows < 1:
            raise ConfigError("bands and rows must be positive")

    @property
    def threshold(self) -> float:
        """Similarity where the S-curve is steepest, ``(1/bands)**(1/rows)``."""
        return float((1.0 / self.bands) ** (1.0 / self.rows))

    def candidate_probability(self, similarity: float) -> float:
        """Probability that two sets of this Jaccard similarity share at least one band."""
        return float(1.0 - (1.0 - similarity**self.rows) ** self.bands)


@dataclass(frozen=True, slots=True)
class VerifyConfig:
    """When an LSH candidate counts as a near duplicate."""

    jaccard_threshold: float = 0.55
    containment_threshold: float = 0.9
    # Of the smaller article: two tiny texts do not "contain" each other by chance.
    min_shingles_for_containment: int = 40
    # Articles with fewer distinct shingles keep their shingle hashes in the index, and a pair
    # of them is verified on exact Jaccard/containment instead of the MinHash estimate.
    exact_below_shingles: int = 256
    # Figures (streams.core.dedup.figures): at most this share of the contexts where both
    # articles carry a figure may carry different ones; 1 turns the rule off.
    max_figure_conflicts: float = 0.2
    # Shared blocks (streams.core.dedup.blocks): paragraphs both articles carry verbatim are
    # set aside; a side whose remainder is at most this share of its shingles is a copy with
    # chrome (or its original), otherwise the two remainders must match on their own.
    negligible_remainder: float = 0.05
    remainder_jaccard: float = 0.5
    remainder_containment: float = 0.7

    def __post_init__(self) -> None:
        thresholds = (
            self.jaccard_threshold, self.containment_threshold, self.remainder_jaccard,
            self.remainder_containment,
        )
        if not all(0.0 < t <= 1.0 for t in thresholds):
            raise ConfigError("verify thresholds must be in (0, 1]")
        if not (0.0 <= self.max_figure_conflicts <= 1.0 and 0.0 <= self.negligible_remainder < 1):
            raise ConfigError(
                "max_figure_conflicts must be in [0, 1], negligible_remainder in [0, 1)"
            )
        if self.exact_below_shingles < 0 or self.min_shingles_for_containment < 0:
            raise ConfigError("shingle counts must not be negative")


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Everything the dedup core needs; one value shared by the shell, the CLI and the eval."""

    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    lsh: LSHConfig = field(default_factory=LSHConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    # Two articles further apart than this in event time are never duplicates: the dedup
    # window, applied to event times, so a backlog replay decides as the live stream did.
    window_ms: int = 14 * 86_400_000
    # Duplicates of one kept article that lookups (content hash, LSH) still return: a copy
    # is indexed for lookup only while fewer than this many of its group's duplicates are
    # found with it; later copies are stored (by id, as members of their group) but not
    # returned as candidates, so a story copied 10,000 times costs each copy what a story
    # copied 16 times does (issue 14, bench/copies.py). The kept article is always found.
    searchable_copies: int = 16
    # Near candidates one decision verifies at most: when a lookup finds more, the ones most
    # similar by the MinHash estimate (:func:`streams.core.dedup.match.could_verify`).
    # Articles that differ only in figures (a template filled in thousands of times) are all
    # kept and each one a candidate of every later one: until 2026-12-06 every decision
    # verified them all (1,000 such copies: 33 s of CPU, growing with their square; two
    # workers re-deciding 2,000 in a hostile trial stopped answering for 9 min).
    max_verified_candidates: int = 64

    def __post_init__(self) -> None:
        if self.window_ms <= 0:
            raise ConfigError("window_ms must be positive")
        if self.searchable_copies < 1:
            raise ConfigError("searchable_copies must be at least 1")
        if self.max_verified_candidates < 1:
            raise ConfigError("max_verified_candidates must be at least 1")
        if self.lsh.bands * self.lsh.rows > self.minhash.num_perm:
            raise ConfigError(
                f"bands*rows = {self.lsh.bands * self.lsh.rows} exceeds "
                f"num_perm = {self.minhash.num_perm}"
            )
