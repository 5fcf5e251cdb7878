"""The text-path façade: raw body in, :class:`NormalizedArticle` out.

parse (formats) -> display form (normalize) -> chrome rules (boilerplate) -> language.
Total: returns an article or raises one :class:`streams.core.errors.InputError` subclass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from streams.core.errors import EmptyBodyError
from streams.core.text.boilerplate import (
    DEFAULT_BOILERPLATE_CONFIG,
    BoilerplateConfig,
    remove_boilerplate,
)
from streams.core.text.formats import FORMAT_TEXT, parse_body
from streams.core.text.headline import split_headline, strip_site_suffix
from streams.core.text.htmltext import DEFAULT_HTML_CONFIG, HtmlConfig
from streams.core.text.language import DEFAULT_SAMPLE_CHARS, detect_language
from streams.core.text.model import NormalizedArticle
from streams.core.text.normalize import (
    normalize_paragraphs_bounded,
    normalize_text_bounded,
    word_count,
)

_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True, slots=True)
class TextConfig:
    """Knobs of the whole text path."""

    html: HtmlConfig = DEFAULT_HTML_CONFIG
    boilerplate: BoilerplateConfig = DEFAULT_BOILERPLATE_CONFIG
    # Characters of kept text handed to language identification (its cost is per byte);
    # 0 skips identification (language "und").
    language_sample_chars: int = DEFAULT_SAMPLE_CHARS
    # Paragraphs shorter than this are dropped (1 keeps every non-empty paragraph: a short
    # line can still be article text, and the chrome rules handle the known short lines).
    min_paragraph_chars: int = 1
    # The envelope's cap for a title (envelope.MAX_FIELD_CHARS), for extracted titles too.
    max_title_chars: int = 1024
    # Display-text characters kept. Only NFKC lengthens text (U+FDFA is 18 characters), so
    # with a cap at least the body limit only such expansion is ever cut; it bounds the work
    # of every later step (fingerprint, MinHash, record) by the cap instead of 18x the input.
    max_text_chars: int = 1 << 20


DEFAULT_TEXT_CONFIG = TextConfig()


def normalize_article(
    body: str, *, content_type: str | None = None, config: TextConfig = DEFAULT_TEXT_CONFIG,
    base_url: str | None = None,
) -> NormalizedArticle:
    """Parse, normalize and strip chrome from ``body``; EmptyBodyError when no text remains.
    ``base_url``: the article's address, which relative links on it resolve against."""
    parsed = parse_body(body, content_type, config.html, base_url)
    normalized, truncated = normalize_paragraphs_bounded(parsed.paragraphs, config.max_text_chars)
    paragraphs = tuple(p for p in normalized if len(p) >= config.min_paragraph_chars)
    title, title_cut = _title(parsed.title, config)
    if title:
        title = strip_site_suffix(title, parsed.metadata.site_name)
    if title and len(paragraphs) > 1 and paragraphs[0].casefold() == title.casefold():
        # Pages repeat their headline as the first block; plain-text copies do not have it.
        # A page whose only text is its headline keeps it as its text.
        paragraphs = paragraphs[1:]
    cleaned = remove_boilerplate(paragraphs, config.boilerplate)
    kept = cleaned.kept
    title_source = "page" if title else None
    if title is None and parsed.format.endswith(FORMAT_TEXT):
        # After the chrome rules, so a promo first line is never a title.
        headline, rest = split_headline(kept)
        if headline is not None and any(_has_letter(p) for p in rest):
            title, kept, title_source = headline, rest, "first_line"
    if not any(_has_letter(p) for p in kept):
        raise EmptyBodyError(f"no article text in {parsed.format} body")
    language = detect_language(" ".join(kept), config.language_sample_chars)
    return NormalizedArticle(
        format=parsed.format,
        title=title,
        published_at=parsed.published_at,
        outlinks=parsed.outlinks,
        paragraphs=kept,
        boilerplate_removed=cleaned.removed,
        language=language,
        metadata=parsed.metadata,
        title_source=title_source,
        truncated=(("text",) if truncated else ()) + (("title",) if title_cut else ()),
        word_count=word_count(kept, language),
    )


def _has_letter(text: str) -> bool:
    # [^\W\d_] also matches numerals such as "Ⅻ" or "𝋠"; isalpha() confirms a real letter,
    # which guarantees a non-empty fingerprint.
    return any(m.group().isalpha() for m in _LETTER.finditer(text))


def _title(title: str | None, config: TextConfig) -> tuple[str | None, bool]:
    """The display form of an extracted title, at most ``max_title_chars``; and whether cut."""
    if not title:
        return None, False
    limit = config.max_title_chars
    text, cut = normalize_text_bounded(title[:limit], limit)
    return text.replace("\n", " ") or None, cut or len(title) > limit
