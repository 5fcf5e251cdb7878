"""Knobs of the near-duplicate core, as small frozen dataclasses composed into :class:`DedupConfig`.

The defaults come from ``python -m bench.eval_dedup --sweep`` (labelled stream from
``bench/corpus.py``: 5 seed articles, 180 generated originals, 7 duplicate variant kinds and
2 hard-negative kinds, 784 messages in random arrival order, stand-in text step that keeps
footers). Exact pair similarity of word 3-shingles (min / median / max):

    kind            Jaccard               containment of smaller
    chrome          0.54 / 0.72 / 0.83    0.986 / 0.995 / 0.999
    copyedit        0.73 / 0.85 / 0.99    0.862 / 0.942 / 1.000
    truncate        0.84 / 0.89 / 0.93    0.984 / 0.993 / 0.995
    para_drop       0.82 / 0.95 / 0.99    0.992 / 0.997 / 1.000
    html            0.95 / 0.98 / 0.99    1.000
    same_story (-)  0.04 / 0.18 / 0.25    0.101 / 0.354 / 0.514
    shared_footer(-)0.30 / 0.43 / 0.56    0.478 / 0.637 / 0.724

Sweep (k in 3/4/5, num_perm 64/128, 4-5 band shapes each, Jaccard 0.5-0.8, containment
0.8-0.95; 540 runs): precision / recall, worst kind::

    k=3 128 32x4 J>=0.65 C>=0.90   1.0000 / 0.9909  copyedit 0.963   <- chosen
    k=3 128 32x4 J>=0.60 C>=0.90   0.9982 / 0.9909  shared_footer 0.958
    k=3 128 32x4 J>=0.70 C>=0.90   1.0000 / 0.9873  copyedit 0.938
    k=3 128 32x4 J>=0.65 C>=0.85   0.9892 / 0.9909  shared_footer 0.938 (fails precision)
    k=3 128 42x3 J>=0.65 C>=0.90   0.9709 / 0.9656  more candidates, more noisy false merges
    k=3 128 25x5 J>=0.65 C>=0.90   1.0000 / 0.9801  chrome 0.890 (pairs at J~0.55 missed)
    k=3 128  9x13 (datasketch@0.8) 1.0000 / 0.8116  seed 001/004 (J=0.71) never a candidate
    k=3  64 16x4 J>=0.70 C>=0.90   0.9927 / 0.9837  estimates too noisy at 64
    k=4 128 32x4 J>=0.65 C>=0.85   0.9982 / 0.9801  chrome 0.915
    k=5 128 32x4 J>=0.60 C>=0.85   1.0000 / 0.9909  copyedit 0.950

The margins are thin: on corpus seeds 1 and 3 the chosen values give precision 0.993/0.994
(a short footer-sharing article whose containment, estimated from Jaccard, crosses 0.9).
Most of that risk disappears once the text path strips publisher footers.

Why these values:

* Word 3-gram shingles. A copy-edit touching a fraction ``e`` of words keeps a shingle only if
  none of its ``k`` words changed, so Jaccard is about ``(1-e)**k / (2 - (1-e)**k)``: at
  ``e = 5 %`` that is 0.75 for k=3 but 0.63 for k=5, which pushes 5-gram copy-edits
  into the band where hard negatives (short articles sharing a long footer) live.
* 128 permutations: the standard error of a Jaccard estimate is ``sqrt(J(1-J)/num_perm)``,
  0.038 at J=0.75 with 128 (0.054 with 64), and verification sits between copy-edits
  (>= 0.73) and footer-sharing negatives (<= 0.56), so the margin needs 128; 256 would
  halve the signature throughput (below 3,000 docs/s).
* LSH 32 bands x 4 rows: S-curve ``P(s) = 1 - (1 - s**4)**32`` has its threshold
  ``(1/32)**(1/4) = 0.42``; P(0.5) = 0.87, P(0.6) = 0.988, P(0.7) = 0.9998. Candidates are
  found well below the verify threshold and then verified on the full signature, instead of
  letting the banding decide (datasketch's 9 x 13 for threshold 0.8 misses ~40 % at s = 0.8).
* Verification accepts Jaccard >= 0.65 or, when the smaller article has at least 40
  shingles, containment of the smaller in the larger >= 0.9. Containment catches truncation,
  dropped paragraphs and added publisher chrome (Jaccard can fall to ~0.5 when a long footer
  is added to a short article) while the shingle floor keeps two tiny texts from
  "containing" each other by chance.
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
    min_shingles_for_containment: int = 40  # of the smaller article
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

    def __post_init__(self) -> None:
        if self.window_ms <= 0:
            raise ConfigError("window_ms must be positive")
        if self.lsh.bands * self.lsh.rows > self.minhash.num_perm:
            raise ConfigError(
                f"bands*rows = {self.lsh.bands * self.lsh.rows} exceeds "
                f"num_perm = {self.minhash.num_perm}"
            )
