"""Detect the format of a raw article body and parse it into raw paragraphs plus metadata.

Formats (the ``format`` names are stable metric/label values):

* ``text``: plain text, one paragraph per line or blank-line separated blocks;
* ``html_fragment``: inline HTML (tags stripped, entities unescaped, ``<a href>`` kept
  as outlinks, block tags become paragraph breaks);
* ``html_page``: a whole page (``<!doctype>``/``<html>``/``<head>``/``<body>``): main
  text, title and date come from trafilatura, tuned for precision;
* ``delimited_export``: the ``F-N-S-T-A-R-T.`` ... ``T-E-X-T-E-N-D.`` export;
* ``date_prefixed_<inner>``: a leading ``date YYYY-MM-DD`` marker before an inner format.

Paragraphs returned here are raw: the caller normalizes them (``normalize.py``).
Every public function is total: it returns or raises an :class:`InputError` subclass.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

from streams.core.errors import EmptyBodyError, UnsupportedFormatError
from streams.core.text import htmltext
from streams.core.text.markdown import looks_like_markdown, render_markdown
from streams.core.text.markdown import short_enough as markdown_short_enough
from streams.core.text.metadata import EMPTY_METADATA, PageMetadata

FORMAT_TEXT = "text"
FORMAT_HTML_FRAGMENT = "html_fragment"
FORMAT_HTML_PAGE = "html_page"
FORMAT_DELIMITED = "delimited_export"
FORMAT_MARKDOWN = "markdown"
DATE_PREFIX = "date_prefixed_"


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """A body split into raw paragraphs, with whatever metadata the format carried."""

    format: str
    title: str | None
    published_at: str | None
    paragraphs: tuple[str, ...]
    outlinks: tuple[str, ...]
    metadata: PageMetadata = EMPTY_METADATA


# Line breaks in every spelling str.splitlines() knows, folded to "\n" before splitting.
_SURROGATES = re.compile("[\ud800-\udfff]")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_PAGE_RE = re.compile(r"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)
# Bounded attribute run ([^<>]{0,500}) keeps the scan linear on hostile input.
_TAG = re.compile(r"<!--|</?([a-zA-Z][a-zA-Z0-9]{0,9})(?:\s[^<>]{0,500})?/?>")
_FRAGMENT_TAGS = frozenset(
    [
        "a",
        "p",
        "br",
        "div",
        "span",
        "b",
        "i",
        "u",
        "em",
        "strong",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "figure",
        "figcaption",
        "img",
        "table",
        "tr",
        "td",
        "th",
        "section",
        "article",
        "header",
        "footer",
        "nav",
        "aside",
        "main",
        "iframe",
        "script",
        "style",
        "small",
        "sup",
        "sub",
        "hr",
        "pre",
        "code",
        "q",
        "cite",
        "time",
        "font",
        "picture",
        "source",
        "video",
    ]
)
# Tag-like runs inspected before deciding a body with none of the known tags is not HTML.
_MAX_TAG_PROBES = 200
_DATE_MARKER = re.compile(r"\s*date\s+(\d{4}-\d{2}-\d{2})(?:\s+|$)")
# Strict entity syntax: html.unescape alone would turn "&nothing" into "¬hing".
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

# A line of a hard-wrapped block is at least this long; shorter lines are paragraphs.
_WRAP_MIN_CHARS = 40
_WRAP_MAX_CHARS = 100
_MIN_WRAP_LINES = 2

_FN = ("F-N-S-T-A-R-T.", "F-N-E-N-D.")
_DATE = ("D-A-T-E-S-T-A-R-T.", "D-A-T-E-E-N-D.")
_TITLE = ("T-I-T-L-E-S-T-A-R-T.", "T-I-T-L-E-E-N-D.")
_TEXT = ("T-E-X-T-S-T-A-R-T.", "T-E-X-T-E-N-D.")
# The export drops paragraph breaks and link boundaries; these seams are where they were.
_EXPORT_SEAMS = (
    # ". ”He said": a closing quote ended a paragraph. (?<!\s) lets only the first space of a
    # run try: without it a long run of spaces is retried from every space (quadratic).
    (re.compile(r"(?<!\s)\s+”(?=\S)"), "”\n"),
    (re.compile(r"”“"), "”\n“"),
    (re.compile(r"(?<=[a-z])([?!.])(?=[A-Z][a-z])"), "\\1\n"),  # "Gaza?Gaza ceasefire"
    (re.compile(r"(?<=[a-z]{3})(?=[A-Z][a-z]{2,}\b)"), "\n"),  # "says HamasSince 2008"
)
# BBC-style external-link markers: "Hassan, external." / "X, external on Friday" /
# "rescue,external".
# Possessive \s*+ then (?<=\s): a backtracking [\s]*\s(?:on|in|...) tried every word at
# every space of a long run (0.7 s on 1 MiB).
_EXTERNAL_MARKER = re.compile(
    r",external\b|,\s++external(?=\s*+(?:[.,;:!?)”\"'’]|$|(?<=\s)(?:on|in|at|to|and|or|but|for"
    r"|from|of|with|by|the|a|an|that|which|who|said|says|as|after|before|when|while|where|is"
    r"|was|has|had|have)\b))",
    re.IGNORECASE,
)


def clean_input(body: str) -> str:
    """Fold line breaks to ``\\n`` and replace lone surrogates, which no codec accepts."""
    # splitlines() knows exactly the line breaks we fold, at C speed.
    body = "\n".join(body.splitlines())
    if not body.isascii():
        try:
            body.encode("utf-8")  # a C-speed check: only lone surrogates fail it
        except UnicodeEncodeError:
            body = _SURROGATES.sub("\ufffd", body)
    return body


def detect_format(body: str, content_type: str | None = None) -> str:
    """Name the format of ``body``; ``content_type`` text/plain or text/html overrides sniffing."""
    _, start = leading_date(body)
    if start:
        return DATE_PREFIX + _detect_inner(body[start:], content_type)
    return _detect_inner(body, content_type)


def leading_date(body: str) -> tuple[str | None, int]:
    """The date of the first leading ``date YYYY-MM-DD`` marker, and where the text after
    every leading marker starts (0 when there is none).

    A loop over match positions, not recursion on the rest of the body: each marker is
    matched in place, so a body of nothing but markers costs one linear scan.
    """
    date, start = None, 0
    while (marker := _DATE_MARKER.match(body, start)) is not None and marker.end() > start:
        if date is None:
            date = marker.group(1)
        start = marker.end()
    return date, start


def _detect_inner(body: str, content_type: str | None) -> str:
    kind = _media_type(content_type)
    head = body[:65536]
    if kind != "text/html" and (head.lstrip().startswith(_FN[0]) or _TEXT[0] in head):
        return FORMAT_DELIMITED
    if kind == "text/plain":
        return FORMAT_TEXT
    if _PAGE_RE.search(head):
        return FORMAT_HTML_PAGE
    if (kind == "text/markdown" and markdown_short_enough(body)) or (
            kind != "text/html" and looks_like_markdown(body)):
        return FORMAT_MARKDOWN
    if kind == "text/html" or _has_fragment_tags(body):
        return FORMAT_HTML_FRAGMENT
    return FORMAT_TEXT


def _has_fragment_tags(body: str) -> bool:
    for probes, match in enumerate(_TAG.finditer(body)):
        name = match.group(1)
        if name is None or name.lower() in _FRAGMENT_TAGS:
            return True
        if probes >= _MAX_TAG_PROBES:
            break
    return False


# What may come before a feed's root element: an XML declaration, processing instructions,
# comments and a doctype, at most FEED_PROLOG_ITEMS of them, each matched on its own.
_FEED_PROLOG_ITEM = re.compile(
    r"<\?[^>]{0,500}\?>|<!--.{0,2000}?-->|<!DOCTYPE[^>]{0,500}>", re.DOTALL | re.IGNORECASE
)
# The root element of a feed: RSS 2.0 and 0.9x, RSS 1.0 (RDF) and Atom.
_FEED_ROOT = re.compile(r"<(rss|rdf:RDF|feed)\b", re.IGNORECASE)
_SPACE = re.compile(r"[\s\ufeff]*")
FEED_PROLOG_ITEMS = 10


def feed_kind(body: str) -> str | None:
    """"RSS" or "Atom" when ``body`` is a feed (a list of articles), else None.

    The prolog is skipped one item at a time, each comment ending at its first ``-->``.
    Until 2026-12-06 one regex matched the whole prolog, ``(?:...|<!--.{0,2000}?-->\\s*|...)
    {0,10}<(rss|...)``: its lazy comments could also span several comments, so a page whose
    doctype was followed by many comments and no feed root was tried in every grouping of
    them (30 comments: 6 s; a Corriere page with server-side-include comments: 56 s, dead-
    lettered ``processing_timeout``; found by a new-user trial).
    """
    head = body[:8192]
    position = _after_space(head, 0)
    for _ in range(FEED_PROLOG_ITEMS):
        item = _FEED_PROLOG_ITEM.match(head, position)
        if item is None:
            break
        position = _after_space(head, item.end())
    root = _FEED_ROOT.match(head, position)
    if root is None:
        return None
    return "Atom" if root.group(1).lower() == "feed" else "RSS"


def _after_space(text: str, position: int) -> int:
    space = _SPACE.match(text, position)
    return space.end() if space else position


def parse_body(
    body: str,
    content_type: str | None = None,
    config: htmltext.HtmlConfig = htmltext.DEFAULT_HTML_CONFIG,
    base_url: str | None = None,
) -> ParsedBody:
    """Parse ``body`` in its detected format; raise EmptyBodyError when it holds no text.
    ``base_url``: the article's address, for relative links (:func:`htmltext.extract_page`)."""
    body = clean_input(body)
    if not body.strip():
        raise EmptyBodyError("body is empty or whitespace only")
    if (kind := feed_kind(body)) is not None:
        # One raw message is one article with one verdict: a feed's items are many.
        raise UnsupportedFormatError(
            f"body is an {kind} feed, not an article: publish each of its items (its link or "
            "its content) as a message of its own")
    date, start = leading_date(body)
    if not start:
        return _parse_as(_detect_inner(body, content_type), body, config, base_url)
    # Every leading marker goes, whatever their number: the rest is parsed in its own format.
    body = body[start:]
    fmt = _detect_inner(body, content_type)
    inner = _parse_as(fmt, body, config, base_url)
    return ParsedBody(
        format=DATE_PREFIX + fmt,
        title=inner.title,
        published_at=inner.published_at or _iso_date(date),
        paragraphs=inner.paragraphs,
        outlinks=inner.outlinks,
        metadata=inner.metadata,
    )


def _parse_as(
    fmt: str, body: str, config: htmltext.HtmlConfig, base_url: str | None = None
) -> ParsedBody:
    if fmt == FORMAT_DELIMITED:
        return parse_delimited_export(body)
    if fmt == FORMAT_HTML_PAGE:
        page = htmltext.extract_page(body, config, base_url)
        # The markup's date-time (with its offset) before trafilatura's date-only reading.
        published_at = page.metadata.published_at or _iso_date(page.date)
        return ParsedBody(
            fmt, page.title, published_at, page.paragraphs, page.outlinks, page.metadata
        )
    if fmt == FORMAT_HTML_FRAGMENT:
        frag = htmltext.strip_fragment(body, config, base_url)
        return ParsedBody(fmt, None, None, frag.paragraphs, frag.outlinks)
    if fmt == FORMAT_MARKDOWN:
        title, rendered = render_markdown(body)
        frag = htmltext.strip_fragment(rendered, config, base_url)
        return ParsedBody(fmt, title, None, frag.paragraphs, frag.outlinks)
    return ParsedBody(FORMAT_TEXT, None, None, split_plain_paragraphs(body), ())


def split_plain_paragraphs(text: str) -> tuple[str, ...]:
    """Split plain text: blank-line blocks, then lines, unless a block is hard-wrapped prose."""
    text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    paragraphs: list[str] = []
    for block in _BLANK_LINE.split(text):
        lines = [line.strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if _is_hard_wrapped(lines):
            paragraphs.append(" ".join(lines))
        else:
            paragraphs.extend(lines)
    return tuple(paragraphs)


def _is_hard_wrapped(lines: list[str]) -> bool:
    if len(lines) < _MIN_WRAP_LINES:
        return False
    return all(_WRAP_MIN_CHARS <= len(line) <= _WRAP_MAX_CHARS for line in lines[:-1])


def parse_delimited_export(body: str) -> ParsedBody:
    """Parse the ``F-N-S-T-A-R-T.`` export; the text section may lack its end marker."""
    title = _section(body, _TITLE, to_end=False)
    date = _section(body, _DATE, to_end=False)
    text = _section(body, _TEXT, to_end=True)
    if text is None:
        text = ""
    text = _EXTERNAL_MARKER.sub("", text)
    for pattern, replacement in _EXPORT_SEAMS:
        text = pattern.sub(replacement, text)
    paragraphs = tuple(p.strip() for p in text.split("\n") if p.strip())
    return ParsedBody(
        format=FORMAT_DELIMITED,
        title=title or None,
        published_at=_iso_date(date),
        paragraphs=paragraphs,
        outlinks=(),
    )


def _section(body: str, markers: tuple[str, str], *, to_end: bool) -> str | None:
    # str.find, not a lazy regex: a regex retried at every start marker is quadratic.
    start = body.find(markers[0])
    if start < 0:
        return None
    start += len(markers[0])
    end = body.find(markers[1], start)
    if end < 0:
        if not to_end:
            return None
        end = len(body)
    return body[start:end].strip()


def _iso_date(value: str | None) -> str | None:
    """Return ``value`` as an ISO 8601 date or date-time, or None when it is not one."""
    if not value:
        return None
    value = value.strip()[:64]
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value).isoformat()
        return dt.datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None
