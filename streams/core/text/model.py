"""Plain data produced by the text path."""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.text.metadata import EMPTY_METADATA, PageMetadata


@dataclass(frozen=True, slots=True)
class NormalizedArticle:
    """An article body after parsing, extraction, normalization and rule-based boilerplate removal.

    ``paragraphs`` is the normalized text split into paragraphs (display form: NFKC, one
    form for quotes/dashes/whitespace, case and punctuation kept). ``text`` joins them
    with a blank line. Fields a JSON envelope provides win over these (the caller merges).
    """

    format: str  # "text" | "html_fragment" | "html_page" | "markdown" | "delimited_export" | ...
    title: str | None
    published_at: str | None  # ISO 8601, date or date-time
    outlinks: tuple[str, ...]
    paragraphs: tuple[str, ...]
    boilerplate_removed: int  # paragraphs or lines removed by the chrome rules
    language: str  # ISO 639-1 code, or "und" when undetermined
    metadata: PageMetadata = EMPTY_METADATA  # what a whole page says about itself
    # Where ``title`` came from: "page" (markup or export field), "first_line" (a plain-text
    # headline, see headline.py), None without a title.
    title_source: str | None = None
    # Fields cut to the text path's character caps ("text" after NFKC expansion, "title").
    truncated: tuple[str, ...] = ()
    # Words of ``paragraphs``: counted where they are made (the stateless step, off the
    # worker's event loop), not each time a record is built.
    word_count: int = 0

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)
