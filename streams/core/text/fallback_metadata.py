"""trafilatura's reading of a page's metadata, the fallback of ours (:mod:`metadata`), computed
only for the fields ours left empty.

trafilatura's ``extract_metadata`` runs every step on every page: a byline search over a
deep copy of the tree, htmldate over another copy, scans for category and tag links. On
real pages that was a quarter of extraction's time (75 WCXB pages: 24 of 99 ms a page),
mostly spent on fields our own reading of JSON-LD and meta tags had already found, which
:func:`metadata.merge` then discarded. :func:`read_fallback` runs the same steps in the same
order, with the same date settings, but skips each costly one whose field ours already has:
the merged values are the same, at the cost of the fields that are missing. One value differs
on purpose: a site name that is the page's ``twitter:site`` handle is not read (trafilatura
takes the handle for the name).

The byline search and the category and tag scans that do run are costly on every page:
their XPath expressions test attributes with EXSLT regular expressions, which lxml answers
with a Python call per element (WCXB dev, every 3rd page: the byline search 24-26 ms a page
where ours has no author). Each is first asked a question that can only say no: whether any
element carries what its expressions test (:func:`may_have_byline`), whether any link's
address has the path segment its filter needs (:func:`has_catstag_links`); when not, its
answer is known without running it (``None``; no links: trafilatura's own fallback for
categories, the ``article:section`` and ``subject`` meta tags). The answers are trafilatura's
own either way; ``tests/core/text/test_fallback_metadata.py`` pins the expressions they
were derived from.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

import lxml.html
from htmldate import find_date
from lxml.etree import XPath
from trafilatura.json_metadata import extract_json, extract_json_parse_error, normalize_json
from trafilatura.metadata import (
    JSON_MINIFY,
    META_URL,
    examine_meta,
    extract_author,
    extract_catstags,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import set_date_params
from trafilatura.utils import line_processing

from streams.core.text.dates import MONTH_NAMES
from streams.core.text.metadata import (
    PageMetadata,
    clean_list,
    clean_text,
    clean_url,
    split_authors,
    without_digitless_date,
)

# What trafilatura's AUTHOR_XPATHS (2.3) test: an element's own class, id, itemprop, rel,
# data-testid or data-component attribute (an element matching one carries one of these
# strings in one of them), an <author> element, or a <rel> child (``rel='me'``).
# One expression per attribute, each asked in turn: a union (``//@class|//@id|...``) sorts
# its answer into document order, and lxml's default "smart" strings each carry a link to
# their element: 2.7 ms a WCXB page against 1.5.
_BYLINE_ATTRIBUTES = tuple(
    XPath(f"//@{name}", smart_strings=False)
    for name in ("class", "id", "itemprop", "rel", "data-testid", "data-component")
)
_BYLINE_MARKERS = re.compile(
    r"uthor|[Bb]yl|BBL|username|screenname|writer|zuozhe|bianji|xiaobian|channel-name"
    r"|submitted-by|posted-by|journalist-name"
)
_LINK_ADDRESSES = XPath("//a/@href", smart_strings=False)
# trafilatura's meta-tag fallback for categories (extract_catstags), when no link has one.
_SECTION_META = XPath(
    './/head//meta[@property="article:section" or contains(@name, "subject")][@content]'
)


# What trafilatura's examine_meta reads it from (the content stripped of tags and spaces).
_TWITTER_SITE = XPath(
    './/head/meta[@content][translate(@name, "TWITERS", "twiters")="twitter:site"]/@content',
    smart_strings=False,
)


def may_have_byline(root: lxml.html.HtmlElement) -> bool:
    """False only when trafilatura's ``extract_author`` finds nothing in ``root``: no element
    carries an attribute its expressions test with a value they could match."""
    if next(root.iter("author", "rel"), None) is not None:
        return True
    return any(
        _BYLINE_MARKERS.search("\x00".join(values(root))) for values in _BYLINE_ATTRIBUTES
    )


def link_addresses(root: lxml.html.HtmlElement) -> str:
    """The ``href`` of every link in ``root``, joined by NULs: what :func:`has_catstag_links`
    searches (read once for both scans)."""
    return "\x00".join(_LINK_ADDRESSES(root))


def has_catstag_links(addresses: str, metatype: str) -> bool:
    """Whether a link's address (in :func:`link_addresses`) has the path segment
    (``/category/``, ``/tags/``, ...) that ``extract_catstags(metatype, ...)`` keeps a link
    for: without one, none of its expressions' links is kept."""
    segment = "/" + metatype.rstrip("y") + "(?:y|ies|s)?/"
    return re.search(segment, addresses) is not None


def twitter_handles(root: lxml.html.HtmlElement) -> frozenset[str]:
    """The page's ``twitter:site`` values without their ``@``."""
    return frozenset(value.strip().lstrip("@") for value in _TWITTER_SITE(root))


def _examine_meta(root: lxml.html.HtmlElement) -> Any:
    """trafilatura's reading of the meta tags, without the site name when that is the page's
    ``twitter:site`` handle: it takes the first for the name when no publisher meta tag comes
    before it; a handle is not a name (metadata._META_SITE)."""
    doc = examine_meta(root)
    if doc.sitename and doc.sitename.lstrip("@") in twitter_handles(root):
        doc.sitename = None
    return doc


def _author(root: lxml.html.HtmlElement) -> str | None:
    return extract_author(root) if may_have_byline(root) else None


def _catstags(metatype: str, root: lxml.html.HtmlElement, addresses: str) -> list[str]:
    if has_catstag_links(addresses, metatype):
        return list(extract_catstags(metatype, root))
    if metatype != "category":
        return []
    found = (element.attrib["content"] for element in _SECTION_META(root))
    return [r for r in dict.fromkeys(line_processing(x) for x in found if x) if r]


@dataclass(frozen=True, slots=True)
class FallbackReading:
    """trafilatura's title (it wins over the ``<title>`` tag), its date (htmldate; ``None``
    when ours has a publication time, which wins) and its metadata fields."""

    title: str | None
    date: str | None
    metadata: PageMetadata


def read_fallback(
    root: lxml.html.HtmlElement, ours: PageMetadata, base: str | None
) -> FallbackReading:
    """trafilatura's metadata of ``root`` (``extract_metadata`` with extensive date search off),
    the byline search, the date search and the category and tag scans run only where ``ours``
    has no value for their field. Reads ``root`` without changing it."""
    doc = _examine_meta(root)
    if doc.author and " " not in doc.author:
        doc.author = None
    with contextlib.suppress(Exception):  # trafilatura's own guard: bugs in its JSON-LD reader
        doc = _meta_json(root, doc)
    if not doc.title:
        doc.title = extract_title(root)
    if not doc.author and not ours.authors:
        doc.author = _author(root)
    if not doc.url:
        doc.url = extract_url(root)
    if not ours.published_at:
        doc.date = unswapped(find_date(root, **{**set_date_params(False), "url": doc.url}),
                             root, doc.url)
    if not doc.sitename:
        doc.sitename = _title_site_name(root)
    if doc.sitename:
        doc.sitename = doc.sitename.lstrip("@")
        if doc.sitename and "." not in doc.sitename and not doc.sitename[0].isupper():
            doc.sitename = doc.sitename.title()
    elif doc.url and (match := META_URL.match(doc.url)):
        doc.sitename = match[1]
    scan_categories = not doc.categories and not ours.section
    scan_tags = not doc.tags and not ours.tags
    if scan_categories or scan_tags:
        addresses = link_addresses(root)
        if scan_categories:
            doc.categories = _catstags("category", root, addresses)
        if scan_tags:
            doc.tags = _catstags("tag", root, addresses)
    doc.clean_and_trim()
    return FallbackReading(
        _str_or_none(doc.title), _str_or_none(doc.date), as_page_metadata(doc, base)
    )


# Characters of JSON-LD that does not parse handed to trafilatura's regex reader, in all.
JSON_LD_REGEX_BUDGET = 8 * 1024


def _meta_json(root: lxml.html.HtmlElement, doc: Any) -> Any:
    """trafilatura's ``extract_meta_json``, its regex reader of JSON-LD that does not parse
    given at most :data:`JSON_LD_REGEX_BUDGET` characters in all.

    Its author patterns scan lazily from each ``"author"`` to the end of the script,
    quadratic: a page whose broken JSON-LD held 300 KB of them took 55 s (a regex audit,
    2026-12-06). An author named only past the first 8 KiB of broken JSON-LD is not read;
    JSON-LD that parses is read whole, as before, unless its ``<`` make trafilatura's tag
    stripping too long (``normalize_json``: quadratic, 200 KB of ``<`` took 12.6 s; a
    review): such a script is left to our own reader (:mod:`streams.core.text.metadata`).
    """
    budget = JSON_LD_REGEX_BUDGET
    for element in _JSON_LD_SCRIPTS(root):
        if not element.text:
            continue
        text = JSON_MINIFY.sub(r"\1", element.text)
        if text.count("<") * len(text) > _TAG_STRIP_STEPS:
            continue  # normalize_json's tag regex scans to the next ">" from every "<"
        text = normalize_json(text)
        try:
            doc = extract_json(json.loads(text, strict=False), doc)
        except json.JSONDecodeError:
            if budget > 0:
                doc = extract_json_parse_error(text[:budget], doc)
                budget -= min(len(text), budget)
    return doc


# "<" times characters: what normalize_json's tag regex may scan (~0.15 s at this bound).
_TAG_STRIP_STEPS = 200_000_000
_JSON_LD_SCRIPTS = XPath(
    './/script[@type="application/ld+json" or @type="application/settings+json"]')

# At most this many <time datetime> elements are read for unswapped(); a date written in
# numbers alone, day and month in either order ("10/04/16", "4.10.2016").
_NUMERIC_DATE = re.compile(r"(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?!\d)")
_MAX_TIME_ELEMENTS = 50


def unswapped(date: Any, root: lxml.html.HtmlElement, url: str | None = None) -> Any:
    """htmldate's ``date`` (``YYYY-MM-DD``), or the page's own ``<time datetime>`` of the same
    year with day and month the other way round, when the page has one whose text is that
    date in numbers.

    htmldate can read a US date written out ("10/04/16 05:29 PM EDT", October 4) day first
    although the page's ``<time datetime="2016-10-04T05:29-0400">`` around it says which
    (a new-user trial, 2026-12-06: a Politico page published 2016-04-10). Only that swap is
    mended, with the element's whole date and time. Without such an element, a US page's
    (:func:`_month_first`) date written only day first in its text is swapped too, unless
    ``url`` or the text writes it the way htmldate read it (``/2015/09/03/``, "September
    3, 2015").
    """
    if (not isinstance(date, str) or len(date) != 10 or date[5:7] == date[8:10]
            or not "01" <= date[8:10] <= "12"):
        return date
    swapped = f"{date[:4]}-{date[8:10]}-{date[5:7]}"
    for stamp in itertools.islice(root.iterfind(".//time[@datetime]"), _MAX_TIME_ELEMENTS):
        value = str(stamp.get("datetime") or "").strip()
        # Only where the element's own text is the ambiguous numeric date htmldate read (a
        # related story's <time> must not move a date the page wrote out: a review).
        if value[:10] == swapped and _NUMERIC_DATE.search(stamp.text_content()[:200]):
            return value
    if (_month_first(root) and not _in_url(date, url)
            and _written_day_first_only(date, root)):
        return swapped
    return date


def _in_url(date: str, url: str | None) -> bool:
    """Whether ``url`` holds ``date`` as htmldate read it (``/2015/09/03/``, ``2015-09-03``)."""
    year, month, day = date[:4], date[5:7], date[8:10]
    return url is not None and any(
        f"{year}{sep}{month}{sep}{day}" in url for sep in ("/", "-", ""))


# Characters of a page's text searched for the numeric date htmldate read.
_US_DATE_TEXT_CHARS = 200_000


def _month_first(root: lxml.html.HtmlElement) -> bool:
    """Whether the page says it is in US English (``<html lang="en-US">``), which writes
    numeric dates month first."""
    return str(root.get("lang") or "").strip().lower().replace("_", "-") == "en-us"


def _written_day_first_only(date: str, root: lxml.html.HtmlElement) -> bool:
    """Whether the page's text holds ``date`` in numbers the way htmldate read it, day
    first ("3/09/15" for 2015-09-03), and neither month first ("9/03/15") nor with the
    month's name ("September 3, 2015", "3 Sept 2015"): on a US page that is 9 March
    (readability's lifehacker test pages, 2026-12-06)."""
    year, month, day = date[:4], int(date[5:7]), int(date[8:10])
    years = f"(?:{year}|{year[2:]})"
    text = root.text_content()[:_US_DATE_TEXT_CHARS]

    def written(first: int, second: int) -> bool:
        return re.search(rf"(?<!\d)0?{first}/0?{second}/{years}(?!\d)", text) is not None

    name = MONTH_NAMES[month - 1]
    spelled = re.search(
        rf"\b{name[:3]}[a-z]*\.? 0?{day}(?:st|nd|rd|th)?,? {year}\b"
        rf"|(?<!\d)0?{day}(?:st|nd|rd|th)? {name[:3]}[a-z]*\.?,? {year}\b",
        text, re.IGNORECASE)
    return written(day, month) and not written(month, day) and spelled is None


def as_page_metadata(doc: Any, base: str | None) -> PageMetadata:
    """Our fields of a trafilatura ``Document``, cleaned as ours are."""
    author = _str_or_none(doc.author)
    return PageMetadata(
        # trafilatura joins several authors with "; ".
        authors=clean_list(without_digitless_date(part) for a in (author or "").split(";")
                           for part in split_authors(a)),
        site_name=_site_name(_str_or_none(doc.sitename)),
        canonical_url=clean_url(_str_or_none(doc.url), base),
        description=clean_text(_str_or_none(doc.description)),
        image=clean_url(_str_or_none(doc.image), base),
        section=clean_text(next(iter(_strings(doc.categories)), None)),
        tags=clean_list(_strings(doc.tags)),
    )


# A site name read from the <title> has at most this many words.
_TITLE_SITE_NAME_WORDS = 6
_WORD = re.compile(r"[^\W\d_]+")


def _title_site_name(root: lxml.html.HtmlElement) -> str | None:
    """trafilatura's last resort, the part of the <title> beside a separator that holds a
    "." (meant for "example.com"), unless it reads as a headline: more than six words, a
    figure, or ``| : ? !`` in it. On 1,200 WCXB and trafilatura-set pages without a site name
    in their markup this kept 7 of the 9 right names ("Berliner Leichtathletik Verband
    e.V.") and 3 of the 8 headlines ("Chapter 3. A practical example of ...", 2026-12-05)."""
    value = extract_sitename(root)
    if value is None or any(c in value for c in "|:?!") or any(c.isdigit() for c in value):
        return None
    return value if len(_WORD.findall(value)) <= _TITLE_SITE_NAME_WORDS else None


def _site_name(value: str | None) -> str | None:
    # Without a site name in the markup trafilatura falls back to the host name, which the
    # record already carries as ``source``.
    if value is None or ("." in value and " " not in value):
        return None
    return clean_text(value)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _str_or_none(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
