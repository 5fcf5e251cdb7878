"""Knobs of the story clustering, one frozen dataclass; the defaults come from ``make eval``.

``python -m bench.eval_stories --sweep`` reports pairwise precision/recall per setting on the
labelled real-news groups (ECB+: 43 topics of two events each, so every event has a
same-topic hard negative) and on the samples. README, "Stories", has the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.errors import ConfigError

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class StoryConfig:
    """Representation, assignment and state bounds of the story clustering."""

    enabled: bool = True  # off: no story terms, no story_id (the evaluation's baseline)
    # -- representation ----------------------------------------------------------------------
    body_chars: int = 1_000  # only the first paragraphs up to this many characters are read
    title_weight: float = 2.0  # title terms count this many extra times
    entity_weight: float = 1.5  # capitalized-entity terms (also counted as plain words)
    number_weight: float = 1.0  # figures: what tells two templated reports apart
    summary_terms: int = 32  # top terms of an article published on the log and summed
    centroid_terms: int = 96  # terms a story keeps (bounded state)
    doc_terms: int = 96  # an article's heaviest terms scored against centroids
    query_terms: int = 16  # top terms of an article that look up candidate stories
    max_candidates: int = 5  # stories scored exactly per article
    # Story ids one candidate lookup reads at most, head terms held by the fewest stories
    # first: the cost of an article does not grow with the postings of common terms.
    lookup_budget: int = 200
    df_bits: int = 20  # document-frequency table of 2**bits counters (hashed terms)
    # -- assignment ---------------------------------------------------------------------------
    threshold: float = 0.15  # cosine (times time factor) to join a story
    entity_threshold: float = 0.20  # cosine of the entity terms alone, when both sides have some
    merge_threshold: float = 0.35  # centroid cosine for two stories an article matches to merge
    time_scale_ms: int = 4 * DAY_MS  # similarity decays by 1/e per this gap to a story's span
    max_gap_ms: int = 7 * DAY_MS  # farther than this from a story's span: never joins it
    half_life_ms: int = DAY_MS  # a member's weight in the centroid doubles per half-life later

    def __post_init__(self) -> None:
        for name in ("body_chars", "summary_terms", "centroid_terms", "doc_terms", "query_terms",
                     "max_candidates", "lookup_budget"):
            if getattr(self, name) < 1:
                raise ConfigError(f"stories.{name} must be >= 1")
        if not 8 <= self.df_bits <= 26:
            raise ConfigError("stories.df_bits must be in 8..26")
        for name in ("threshold", "entity_threshold", "merge_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"stories.{name} must be in [0, 1]")
        if min(self.time_scale_ms, self.max_gap_ms, self.half_life_ms) <= 0:
            raise ConfigError("stories time scales must be > 0")
