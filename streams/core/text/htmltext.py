"""HTML to paragraphs: a bounded lxml parse, trafilatura for whole pages, a tag stripper for
fragments and as the page fallback.

Hostile input stays bounded: lxml runs without ``huge_tree`` (libxml2 then caps nesting
at 256 levels, so a 100,000-deep tag bomb parses to a shallow tree), trees larger than
``max_elements`` are refused, and trafilatura (whose cost grows fast with tree size) only
sees trees up to ``max_trafilatura_elements``; larger pages are tag-stripped instead.
"""

from __future__ import annotations

import html
import itertools
import logging
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.deduplication import LRUCache
from trafilatura.settings import use_config

from streams.core.errors import EmptyBodyError, ExtractionError
from streams.core.text.fallback_metadata import read_fallback, twitter_handles
from streams.core.text.headline import (
    strip_site_suffix,
    strip_suffix_after_headline,
    title_the_page_supports,
)
from streams.core.text.metadata import (
    EMPTY_METADATA,
    PageMetadata,
    merge,
    read_page,
)
from streams.core.text.normalize import UNSPACED_CLASS


@dataclass(frozen=True, slots=True)
class HtmlConfig:
    """Knobs of HTML extraction."""

    # Recall mode, tables included, no fast mode: trafilatura then also runs its fallback
    # extractors (readability, jusText) and its rescues, and keeps the better text. Measured
    # on WCXB dev (every 10th page): main-text F1 0.758 -> 0.815 over precision-favoured fast
    # mode, at ~1.25x the CPU (README "Extraction quality").
    favor_precision: bool = False
    favor_recall: bool = False
    include_tables: bool = True
    fast: bool = False
    # trafilatura's in-document dedup of repeated segments needs a cache; a fresh one per call
    # (its default is process-global, which makes extraction depend on history). Off: outside
    # fast mode trafilatura extracts a page more than once, the per-call cache then counts the
    # whole body as repeated and returns nothing (2 of 150 WCXB dev pages).
    deduplicate: bool = False
    dedup_cache_size: int = 1024
    # trafilatura's own metadata (htmldate, bylines in the text, category links) is the
    # fallback of ours (metadata.py), read only for the fields ours lacks
    # (fallback_metadata.py); the golden pages need it for titles, dates and sections.
    trafilatura_metadata: bool = True
    # Recall recovery from JSON-LD: the article node's ``articleBody`` replaces the extracted
    # text when it has at least this many times its words (and ``json_ld_min_words``); the
    # page then hides most of its text from the markup (tabs, scripts, teasers); or when it
    # has the extracted text's words in more paragraphs (trafilatura's own rescue from it
    # joins them). 0 turns both off. 1.5 lies between the ratios where the body won (1.8x
    # and more) and lost (1.37x) against the truth on the WCXB dev pages that have one.
    json_ld_body_ratio: float = 1.5
    json_ld_min_words: int = 50
    # Recall retry: when trafilatura's text is empty, or shorter than ``recall_max_chars``
    # and than ``recall_page_share`` of the page's text (its tag-stripped words outside
    # nav, aside, header, footer and forms), trafilatura runs again in recall and fast mode,
    # and that text replaces the first when it has at least ``recall_accept_ratio`` times
    # its characters. A short text covering little of the page is a listing, product or
    # service page whose blocks the balanced mode left out, or an article it cut to a
    # teaser. trafilatura escalates by itself only under 20 % of the page and 3,000
    # characters, at 1.5x. Measured on WCXB dev (README "Extraction quality"): wider gates
    # gained more there, at up to 11 % more CPU and leaked snippets on the trafilatura set.
    # 0 turns it off.
    recall_page_share: float = 0.3
    recall_max_chars: int = 1000
    recall_accept_ratio: float = 1.2
    # Elements a reader never sees are no main text: dialogs (``<dialog>``, ARIA dialog
    # roles: a network's "about" box, a cookie or newsletter modal) and elements hidden by
    # the ``hidden`` attribute, ``aria-hidden="true"`` or an inline ``display: none`` /
    # ``visibility: hidden``, as readability judges visibility (``_isProbablyVisible``).
    drop_dialogs: bool = True
    drop_hidden: bool = False
    max_elements: int = 200_000
    # trafilatura takes ~5 s on 100,000 elements; real article pages have 1,000-15,000.
    max_trafilatura_elements: int = 30_000
    max_outlinks: int = 1000
    max_url_chars: int = 2048


DEFAULT_HTML_CONFIG = HtmlConfig()


@dataclass(frozen=True, slots=True)
class HtmlText:
    """Raw paragraphs and metadata read from HTML."""

    paragraphs: tuple[str, ...]
    outlinks: tuple[str, ...]
    title: str | None = None
    date: str | None = None
    metadata: PageMetadata = EMPTY_METADATA


_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
_CELL_TAGS = frozenset({"td", "th"})
_SKIP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "svg",
        "math",
        "head",
        "object",
        "embed",
        "canvas",
        "select",
        "button",
        "textarea",
        "form",
        "nav",
        "aside",
        "title",
    ]
)
# On the page fallback path the page chrome goes too.
_PAGE_SKIP_TAGS = _SKIP_TAGS | {"header", "footer", "menu"}
_PAGE_ANCHOR_SKIP_TAGS = _SKIP_TAGS | {"nav", "aside", "header", "footer"}
_WS = re.compile(r"\s+")
# A table row of empty cells as trafilatura writes it ("| | | |", a lone "|"): not text
# (the Independent's gallery and a layout table of readability's test pages, 2026-12-06).
_EMPTY_TABLE_ROW = re.compile(r"[\s|]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MIN_ANCHOR_CHARS = 3
_MAX_HEADLINE_CHARS = 1024
# Words for anchor matching; one per character in scripts written without spaces.
_WORD = re.compile(f"[{UNSPACED_CLASS}]|[^\\W{UNSPACED_CLASS}]+")
# Word comparisons allowed per word of the extracted text when matching anchors against it.
_ANCHOR_WORK_PER_WORD = 4

PARSER_OPTIONS: dict[str, Any] = {
    "encoding": "utf-8", "huge_tree": False, "remove_comments": True, "remove_pis": True,
    "collect_ids": False, "no_network": True,
}
_PARSER = lxml.etree.HTMLParser(**PARSER_OPTIONS)
# lxml.html's own parser picks each element's class in Python (``HtmlElementClassLookup``),
# once for every element object lxml hands out: ~11,000 calls and ~5 ms a real page, most of
# them inside trafilatura. This lookup gives every element ``HtmlElement`` in C. Only
# lxml.html's form classes (``FormElement``, ``InputElement``, ...) are lost; nothing here,
# in trafilatura or in htmldate uses their form API (a use would raise inside
# ``_trafilatura`` and send the page to the tag stripper: the golden pages' test compares
# both parsers).
_PARSER.set_element_class_lookup(lxml.etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity,
))

_TRAFILATURA_CONFIG = use_config()
# Its timeout uses SIGALRM, which only works on the main thread; we bound input size instead.
_TRAFILATURA_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
# The extensive date search regex-scans the whole page text (1.7 s on a 5 MB page) and
# rarely beats the markup (meta, JSON-LD, <time>) that the quick search reads.
_TRAFILATURA_CONFIG.set("DEFAULT", "EXTENSIVE_DATE_SEARCH", "off")
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)


def parse_html(markup: str, config: HtmlConfig) -> lxml.html.HtmlElement:
    """Parse markup into a tree, refusing trees over ``max_elements``."""
    return _parse_counted(markup, config)[0]


# A start tag this long is checked for an attribute flood (see _without_attribute_floods).
# Possessive: the name and the run never trade characters (a backtracking version was
# quadratic on "<a" and a long run of letters: a review).
_LONG_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9:-]*+)([^<>]{16384,}+)>")
# One attribute of a start tag after its space: a name, and a value if any (quoted or not).
_ATTRIBUTE = r"""\s++[^\s=<>/"']++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'=<>`]++))?+"""
_ONE_ATTRIBUTE = re.compile(_ATTRIBUTE)
_ATTRIBUTE_LIST = re.compile(rf"(?:{_ATTRIBUTE})*+\s*+/?+")
MAX_TAG_ATTRIBUTES = 1000
# Where a "<" starts no tag: comments, CDATA and the text of raw-text elements.
_NO_TAGS = re.compile(r"<!--|<!\[CDATA\[|<(script|style|textarea|title|xmp|noscript)\b",
                      re.IGNORECASE)
_NO_TAGS_END = {"<!--": re.compile(r"-->"), "<![cdata[": re.compile(r"\]\]>")}


def _without_attribute_floods(markup: str) -> str:
    """``markup`` with the attributes of each start tag that has over MAX_TAG_ATTRIBUTES
    of them taken out (``<p a0=1 a1=1 ...>`` becomes ``<p>``).

    libxml2 checks each attribute of a tag against the ones before it, quadratic: one
    ``<p>`` with 100,000 attributes (600 KB) took 101 s to parse, a worker without its
    prepare pool stopped answering /healthz for as long, and with the pool it cost a
    process and a 20 s deadline (a hostile trial, 2026-12-06). Only start tags of 16 KiB and
    more are counted, only where a tag can start (not in a comment, CDATA or a script's
    text), and only when all of the tag reads as attributes (a quoted value holding ">" does
    not); long tags of real pages hold a few long values (a JSON data attribute, an SVG
    path), not thousands of attributes. Linear: each region is found once.
    """
    if len(markup) < 16384:
        return markup
    pieces: list[str] = []
    kept = position = 0
    while (tag := _LONG_TAG.search(markup, position)) is not None:
        inside = _end_of_region_around(markup, position, tag.start())
        if inside is not None:
            position = inside
            continue
        attributes = tag[2]
        if (_ATTRIBUTE_LIST.fullmatch(attributes) is not None and sum(
                1 for _ in itertools.islice(_ONE_ATTRIBUTE.finditer(attributes),
                                            MAX_TAG_ATTRIBUTES + 1)) > MAX_TAG_ATTRIBUTES):
            pieces += (markup[kept:tag.start()], f"<{tag[1]}>")
            kept = tag.end()
        position = tag.end()
        if tag[1].lower() in _RAW_TEXT:  # its text is no markup: past its end tag
            position = _end_of_region(markup, tag[1], position)
    return "".join(pieces) + markup[kept:] if pieces else markup


_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "noscript"})


def _end_of_region(markup: str, opener: str, start: int) -> int:
    """Where the region ``opener`` began ends, looking from ``start``: past ``-->`` or
    ``]]>``, or past the end tag of a raw-text element named ``opener``; the markup's end
    when it never closes."""
    close = _NO_TAGS_END.get(opener.lower()) or re.compile(rf"</{opener}\s*>", re.IGNORECASE)
    closed = close.search(markup, start)
    return closed.end() if closed else len(markup)


def _end_of_region_around(markup: str, start: int, at: int) -> int | None:
    """Where the comment, CDATA or raw-text element holding ``at`` ends, looking from
    ``start`` (outside any); None when ``at`` is outside them all."""
    while (opened := _NO_TAGS.search(markup, start, at)) is not None:
        end = _end_of_region(markup, opened[1] or opened[0], opened.end())
        if end > at:
            return end
        start = end
    return None


def _parse_counted(markup: str, config: HtmlConfig) -> tuple[lxml.html.HtmlElement, int]:
    """:func:`parse_html`'s tree and its :func:`node_count`."""
    data = _CONTROL.sub("", _without_attribute_floods(markup)).encode("utf-8", "replace")
    try:
        root = lxml.html.document_fromstring(data, parser=_PARSER)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError) as err:
        raise ExtractionError(f"html does not parse: {err}") from err
    depth_errors = [e for e in _PARSER.error_log if "Excessive depth" in e.message]
    if depth_errors:
        # libxml2 stops at 256 levels and silently drops the rest of the document.
        raise ExtractionError(f"html nests too deeply to parse: {depth_errors[0].message}")
    if root is None:
        raise EmptyBodyError("html parses to nothing")
    drop_ruby_annotations(root)
    size = node_count(root)
    if size > config.max_elements:
        raise ExtractionError(f"html has more than {config.max_elements} elements")
    return root, size


# Ruby annotations: the reading (``<rt>``, grouped in ``<rtc>``) and the parentheses around it
# for browsers without ruby (``<rp>``). Japanese pages gloss kanji with kana (furigana),
# Chinese ones with pinyin or zhuyin. Read as text, the reading lands inside the words it
# glosses (子<rt>こ</rt>ども reads 子こども) in text, titles and fingerprints; trafilatura
# 2.3.1 also joined such a page's headline and paragraphs into one paragraph.
_RUBY_ANNOTATIONS = ("rt", "rp", "rtc")


def drop_ruby_annotations(root: lxml.html.HtmlElement) -> None:
    """Remove ruby annotations from ``root``, keeping the text after each (the next ruby
    base in ``<ruby>漢<rt>kan</rt>字<rt>ji</rt></ruby>``). No pre-check: lxml walks the tree in
    C (~0.01 ms a WCXB page), and not at all when no element has one of the names."""
    lxml.etree.strip_elements(root, *_RUBY_ANNOTATIONS, with_tail=False)


_DIALOGS = lxml.etree.XPath("//dialog | //*[@role='dialog' or @role='alertdialog']")
# An inline style without spaces, in lower case.
_STYLE = "translate(@style, ' ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_HIDDEN = lxml.etree.XPath(
    "//*[@hidden or (@aria-hidden='true' and not(contains(@class, 'fallback-image')))"
    f" or contains({_STYLE}, 'display:none') or contains({_STYLE}, 'visibility:hidden')]"
)


def drop_invisible(
    root: lxml.html.HtmlElement, config: HtmlConfig, markup: str | None = None
) -> int:
    """Remove the elements a reader never sees (``HtmlConfig.drop_dialogs``, ``drop_hidden``),
    keeping each one's tail text (it belongs to the parent); returns how many were found.
    Given the ``markup``, the dialog search (0.6 ms a WCXB page) runs only when it names one."""
    dialogs = config.drop_dialogs and (
        markup is None or "dialog" in markup or "DIALOG" in markup)
    found = (_DIALOGS(root) if dialogs else []) + (_HIDDEN(root) if config.drop_hidden else [])
    for element in found:
        if element.getparent() is not None:  # a removed ancestor took it already
            element.drop_tree()
    return len(found)


# What ``root.iter()`` yields, counted in C: a Python loop over it builds a proxy object per
# node (0.7 against 0.3 ms a WCXB page). libxml2's HTML parser makes elements and comments
# only (``<?php ...?>`` becomes a comment).
_NODE_COUNT = lxml.etree.XPath("count(descendant-or-self::*|descendant::comment())")


def node_count(root: lxml.html.HtmlElement) -> int:
    """The number of nodes ``root.iter()`` yields."""
    return int(_NODE_COUNT(root))


def strip_fragment(
    markup: str, config: HtmlConfig = DEFAULT_HTML_CONFIG, base_url: str | None = None
) -> HtmlText:
    """Strip tags from an HTML fragment; keep its ``<a href>`` targets as outlinks, relative
    ones resolved against ``base_url`` (the article's address; without one they are
    dropped)."""
    root = parse_html(markup, config)
    paragraphs, anchors = _walk(root, _SKIP_TAGS)
    return HtmlText(paragraphs, _outlinks([href for href, _ in anchors], base_url, config))


def extract_page(
    markup: str, config: HtmlConfig = DEFAULT_HTML_CONFIG, base_url: str | None = None
) -> HtmlText:
    """Extract main text, title and date of a whole page; tag-strip when trafilatura fails.
    Relative links and metadata URLs resolve against the page's own base (``<base>``, its
    canonical URL, ``og:url``), else ``base_url`` (the address the producer gave)."""
    root, size = _parse_counted(markup, config)
    base = _base_url(root) or base_url
    meta_title = _meta_title(root)
    headline = _first_h1(root)
    handles = twitter_handles(root)
    # Before trafilatura, which may clean the tree it is given (2.3.1 copies it first).
    metadata, article_body = read_page(root, base)
    use_trafilatura = size <= config.max_trafilatura_elements
    # trafilatura's metadata only where trafilatura runs: its byline and date searches copy
    # the whole tree, which the element bound exists to keep off large pages.
    fallback = (
        read_fallback(root, metadata, base)
        if use_trafilatura and config.trafilatura_metadata
        else None
    )
    drop_invisible(root, config, markup)  # after the metadata, which they may carry
    page_paragraphs, anchors = _walk(root, _PAGE_ANCHOR_SKIP_TAGS)
    doc = _trafilatura(root, config) if use_trafilatura else None
    text = getattr(doc, "text", None) if doc is not None else None
    if use_trafilatura and config.recall_page_share > 0 and not config.favor_recall:
        text = _recall_retry(root, text, page_paragraphs, config)
    if isinstance(text, str) and text.strip():
        paragraphs = text_paragraphs(text)
        paragraphs = _json_ld_recovery(paragraphs, article_body, config)
        body = " ".join(paragraphs)
        # Keep links whose anchor text survived extraction: nav and related links do not.
        hrefs = anchors_in_text(anchors, body)
        title, date = None, None
        if fallback is not None:
            title, date = fallback.title, fallback.date
            metadata = merge(metadata, fallback.metadata)
        supported = title_the_page_supports(title, meta_title, headline, _title_tag(root))
        if (supported != title and title and headline and len(paragraphs) > 1
                and title.casefold() == headline.casefold() == paragraphs[0].casefold()):
            # The <h1> that gave way to the page title (a logo's, a section's) is no text
            # either, as the title's own line is not (article.normalize_article).
            paragraphs = paragraphs[1:]
        title = supported
        if title is not None:
            title = _strip_handles(strip_suffix_after_headline(title, headline), handles)
        return HtmlText(paragraphs, _outlinks(hrefs, base, config), title, date, metadata)
    # Parsed again: not every trafilatura 2.x copies the tree before cleaning it.
    again = parse_html(markup, config)
    drop_invisible(again, config, markup)
    paragraphs, anchors = _walk(again, _PAGE_SKIP_TAGS)
    title = _strip_handles(meta_title, handles) if meta_title is not None else None
    return HtmlText(
        paragraphs, _outlinks([h for h, _ in anchors], base, config), title, None, metadata
    )


def text_paragraphs(text: str) -> tuple[str, ...]:
    """trafilatura's text as paragraphs: its lines, stripped, without blank ones and rows of
    empty table cells ("| | |", a lone "|": layout tables of LWN, the Independent and
    Mercurial pages among readability's test pages kept them until 2026-12-06)."""
    return tuple(line.strip() for line in text.split("\n")
                 if line.strip() and not _EMPTY_TABLE_ROW.fullmatch(line))


def _strip_handles(title: str, handles: frozenset[str]) -> str:
    """``title`` without a trailing "<separator> <name>" where the name is one of the page's
    ``twitter:site`` handles ("... - Slashdot" for ``@slashdot``): not a site name to report
    (metadata._META_SITE), but the title's suffix names the site when it spells the handle."""
    for handle in sorted(handles):
        title = strip_site_suffix(title, handle)
    return title


def _recall_retry(
    root: lxml.html.HtmlElement, text: object, page: tuple[str, ...], config: HtmlConfig
) -> object:
    """trafilatura's text again in recall (and fast) mode when ``text`` is empty or short and
    covers little of the ``page`` (its paragraphs), taken when it is clearly longer; else
    ``text``. The tree is not changed by the first run: ``bare_extraction`` copies it."""
    length = len(text.strip()) if isinstance(text, str) else 0
    if length and (
        length >= config.recall_max_chars
        or length >= config.recall_page_share * sum(len(p) for p in page)
    ):
        return text
    retry = getattr(
        _trafilatura(root, replace(config, favor_recall=True, fast=True)), "text", None
    )
    if isinstance(retry, str) and len(retry.strip()) >= max(1, config.recall_accept_ratio * length):
        return retry
    return text


def _json_ld_recovery(
    paragraphs: tuple[str, ...], article_body: str | None, config: HtmlConfig
) -> tuple[str, ...]:
    """The paragraphs of the JSON-LD ``articleBody`` when it is much longer than the extracted
    text (``json_ld_body_ratio`` times its words, at least ``json_ld_min_words``), or when it
    has the same words in more paragraphs; else ``paragraphs``. Publishers that load the body
    by script, behind tabs or a teaser still write it there; when it is shorter it is a
    summary, and the markup wins. (trafilatura rescues from it only when its own text is
    under 250 characters, and then joins its paragraphs into one: the same words.)"""
    if article_body is None or config.json_ld_body_ratio <= 0:
        return paragraphs
    words = len(_WORD.findall(article_body))
    text_words = [w for p in paragraphs for w in _WORD.findall(p)]
    recovered = _body_paragraphs(article_body, config)
    if words >= config.json_ld_min_words and words >= config.json_ld_body_ratio * len(text_words):
        return recovered or paragraphs
    if len(recovered) > len(paragraphs) and text_words == [
        w for p in recovered for w in _WORD.findall(p)
    ]:
        return recovered
    return paragraphs


def _body_paragraphs(article_body: str, config: HtmlConfig) -> tuple[str, ...]:
    """A JSON-LD ``articleBody``'s paragraphs: its lines, or its block tags when it holds
    markup; () when that markup does not parse."""
    if "<" in article_body:  # markup inside the JSON string: block tags break paragraphs
        try:
            return strip_fragment(article_body, config).paragraphs
        except (ExtractionError, EmptyBodyError):
            return ()
    lines = html.unescape(article_body).splitlines()
    return tuple(p for p in (_WS.sub(" ", line).strip() for line in lines) if p)


def _trafilatura(root: lxml.html.HtmlElement, config: HtmlConfig) -> Any:
    dedup: bool | LRUCache = (
        LRUCache(maxsize=config.dedup_cache_size) if config.deduplicate else False
    )
    try:
        return trafilatura.bare_extraction(
            root,
            favor_precision=config.favor_precision,
            favor_recall=config.favor_recall,
            include_comments=False,
            include_tables=config.include_tables,
            include_images=False,
            include_links=False,
            deduplicate=dedup,
            with_metadata=False,  # read_fallback: only the fields ours lacks
            fast=config.fast,
            config=_TRAFILATURA_CONFIG,
        )
    except Exception:
        return None


def _walk(
    root: lxml.html.HtmlElement, skip: frozenset[str]
) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """Text of the tree in document order, block tags as paragraph breaks; outermost anchors."""
    chunks: list[str] = []
    anchors: list[tuple[str, str]] = []
    open_anchor: tuple[lxml.html.HtmlElement, str, int] | None = None
    skipping: lxml.html.HtmlElement | None = None
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if skipping is not None:
            if event == "end" and el is skipping:
                skipping = None
                _add_text(chunks, el.tail)
            continue
        if event == "start":
            if tag in skip:
                skipping = el
                continue
            if tag in _BLOCK_TAGS:
                chunks.append("\n")
            elif tag in _CELL_TAGS:
                chunks.append(" ")
            if tag == "a" and open_anchor is None and el.get("href"):
                open_anchor = (el, el.get("href", ""), len(chunks))
            _add_text(chunks, el.text)
            continue
        if tag in _BLOCK_TAGS:
            chunks.append("\n")
        if open_anchor is not None and open_anchor[0] is el:
            anchor_text = _WS.sub(" ", "".join(chunks[open_anchor[2] :])).strip()
            anchors.append((open_anchor[1], anchor_text))
            open_anchor = None
        _add_text(chunks, el.tail)
    text = "".join(chunks)
    paragraphs = tuple(p for p in (_WS.sub(" ", line).strip() for line in text.split("\n")) if p)
    return paragraphs, anchors


def anchors_in_text(anchors: list[tuple[str, str]], text: str) -> list[str]:
    """The hrefs of anchors whose text occurs in ``text`` as a run of whole words.

    Linear in the sizes of ``text`` and of the anchor texts, by construction: the words of
    ``text`` are indexed once, each anchor is tried only where its rarest word occurs, and
    the comparisons are capped at a multiple of the text's word count (past the cap the
    remaining anchors count as absent). A substring test per anchor, as before, took 5.2 s
    for 20,000 anchors on a large page.
    """
    words = _WORD.findall(text)
    where: dict[str, list[int]] = {}
    for index, word in enumerate(words):
        where.setdefault(word, []).append(index)
    budget = _ANCHOR_WORK_PER_WORD * (len(words) + 1)
    verdicts: dict[str, bool] = {}
    hrefs = []
    for href, anchor in anchors:
        if len(anchor) < _MIN_ANCHOR_CHARS:
            continue
        found = verdicts.get(anchor)
        if found is None:
            found, spent = _occurs(_WORD.findall(anchor), words, where, budget)
            budget -= spent
            verdicts[anchor] = found
        if found:
            hrefs.append(href)
    return hrefs


def _occurs(
    tokens: list[str], words: list[str], where: dict[str, list[int]], budget: int
) -> tuple[bool, int]:
    """Whether ``tokens`` is a run of ``words``, and the comparisons spent (<= budget)."""
    if not tokens or budget <= 0:
        return False, 0
    rarest = min(range(len(tokens)), key=lambda i: len(where.get(tokens[i], ())))
    spent = 0
    for position in where.get(tokens[rarest], ()):
        if spent + len(tokens) > budget:
            break
        spent += len(tokens)
        start = position - rarest
        if start >= 0 and words[start : start + len(tokens)] == tokens:
            return True, spent
    return False, spent


def _add_text(chunks: list[str], text: str | None) -> None:
    if text:
        chunks.append(text.replace("\n", " "))


def _outlinks(hrefs: list[str], base: str | None, config: HtmlConfig) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for raw in hrefs:
        if len(raw) > 2 * config.max_url_chars:
            continue  # never a kept link: do not spend a urljoin on it
        url = _absolute_url(raw.strip(), base)
        if url and len(url) <= config.max_url_chars:
            seen.setdefault(url, None)
            if len(seen) >= config.max_outlinks:
                break
    return tuple(seen)


def _absolute_url(href: str, base: str | None) -> str | None:
    lowered = href[:8].lower()
    if lowered.startswith(("http://", "https://")):
        return href
    if href.startswith("//"):
        return "https:" + href
    if base is None or lowered.startswith(("javascript:", "mailto:", "tel:", "data:", "#")):
        return None
    try:
        url = urljoin(base, href)
    except ValueError:
        return None
    return url if url[:8].lower().startswith(("http://", "https://")) else None


def _base_url(root: lxml.html.HtmlElement) -> str | None:
    for xpath in (
        "//base/@href",
        "//link[@rel='canonical']/@href",
        "//meta[@property='og:url']/@content",
    ):
        found = root.xpath(xpath)
        if (
            found
            and isinstance(found[0], str)
            and found[0][:8].lower().startswith(("http://", "https://"))
        ):
            return str(found[0])
    return None


def _meta_title(root: lxml.html.HtmlElement) -> str | None:
    found = root.xpath("//meta[@property='og:title']/@content")
    if found and isinstance(found[0], str) and found[0].strip():
        # Escaped twice by some publishers ("Mountaineering&#39;s Soul", WCXB test 5152).
        return _WS.sub(" ", html.unescape(found[0])).strip()
    return _title_tag(root)


def _title_tag(root: lxml.html.HtmlElement) -> str | None:
    titles = root.xpath("//title")
    if titles:
        text = _WS.sub(" ", titles[0].text_content()).strip()
        return text or None
    return None


def _first_h1(root: lxml.html.HtmlElement) -> str | None:
    """Whitespace-collapsed text of the page's first ``<h1>``, if any (at most 1,024
    characters are read)."""
    for h1 in root.iter("h1"):
        text = _WS.sub(" ", "".join(h1.itertext())[:_MAX_HEADLINE_CHARS]).strip()
        return text or None
    return None
