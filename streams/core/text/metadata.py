"""Page metadata read from an already parsed page: JSON-LD, OpenGraph and other meta tags,
``<link rel=canonical>`` and microdata ``itemprop`` attributes.

Sources, best first, for each field: the page's JSON-LD article node (``NewsArticle``,
``Article``, ``BlogPosting``, ``ReportageNews``, ... at the top level or in ``@graph``), then
OpenGraph / ``article:*`` / ``twitter:*`` / ``name=`` meta tags, then microdata. The caller
adds trafilatura's own metadata as the last fallback (:func:`merge`).

Input is hostile: every value is unescaped, stripped of tags and control characters,
whitespace-collapsed and cut to :data:`MAX_VALUE_CHARS`; lists hold at most
:data:`MAX_ITEMS`; URLs must be absolute http(s) (relative ones are resolved against the
page's base, else the envelope's url) and at most :data:`MAX_URL_CHARS`, else they are
dropped; JSON-LD scripts over :data:`MAX_JSONLD_CHARS` are skipped. :func:`read_metadata`
never raises.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urljoin

import lxml.html
import orjson

from streams.core.text.dates import MONTH_NAMES, WEEKDAY_NAMES, iso_datetime

MAX_VALUE_CHARS = 1024
MAX_ITEMS = 20
MAX_URL_CHARS = 2048
MAX_JSONLD_CHARS = 512 * 1024
_MAX_JSONLD_SCRIPTS = 20
_MAX_JSONLD_NODES = 200
_MAX_META_TAGS = 1000

# schema.org types of a page's main article (CreativeWork > Article and its news subtypes).
ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",  # "ReportageNews" until 2026-12-06: no such type, so a
        # Folha page's JSON-LD author was passed over for a microdata Organization
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "Report",
        "SatiricalArticle",
        "ScholarlyArticle",
        "TechArticle",
        "SocialMediaPosting",
        "DiscussionForumPosting",
    }
)

# The page itself: its dates are the article's where no article node or meta tag gives one
# (Yoast SEO, on many WordPress sites, puts ``datePublished`` on the ``WebPage`` node only).
PAGE_TYPES = frozenset({"WebPage", "ItemPage"})

# Meta tag keys (``property``, ``name`` or ``itemprop``, lower-cased) per field, best first.
_META_AUTHORS = (
    "author", "article:author", "byl", "dc.creator", "dcterms.creator", "parsely-author",
    "sailthru.author", "cxenseparse:author",
)
# Not ``twitter:site``: a handle ("@LinkedInEditors", "@allen_ai", "@site"), not a name. It was
# the site name of 76 WCXB dev pages (70 now have none, 6 another source's); a title suffix
# spelling it is still cut (htmltext._strip_handles).
_META_SITE = ("og:site_name", "application-name")
_META_DESCRIPTION = ("og:description", "twitter:description", "description", "dc.description")
_META_IMAGE = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image",
               "twitter:image:src", "image")
_META_SECTION = ("article:section", "section", "parsely-section", "sailthru.section",
                 "cxenseparse:recs:articlesection", "articlesection")
_META_TAGS = ("article:tag", "news_keywords", "keywords", "parsely-tags", "sailthru.tags")
_META_URL = ("og:url", "twitter:url")
_META_PUBLISHED = (
    "article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
    "publish-date", "publish_date", "date", "dc.date", "dc.date.issued", "dcterms.issued",
    "dcterms.created", "sailthru.date", "parsely-pub-date", "article.published",
    "originalpublicationdate",
)
_META_MODIFIED = (
    "article:modified_time", "og:updated_time", "datemodified", "lastmod", "last-modified",
    "dcterms.modified", "article.updated",
)
# Keys whose values are lists written as one comma- or semicolon-separated string.
_COMMA_LISTS = frozenset({"news_keywords", "keywords", "parsely-tags", "sailthru.tags"})
# ``article:tag`` holds one tag a tag, a comma in it included (NYT's "Mergers, Acquisitions
# and Divestitures"), but a page with only one such tag writes its list there (the Guardian).
_ONE_A_TAG = "article:tag"
_LIST_SEPARATORS = re.compile(r"[,;]")
# A CMS's internal key, not a tag: a word, a colon and a flag, a number or a constant
# (Medium's "Lite:true", "Elevated:false", "LayerCake:0",
# "LockedPostSource:LOCKED_POST_SOURCE_NONE"); "Covid:Vaccine" stays a tag (a review).
_MACHINE_TAG = re.compile(r"[A-Za-z][\w.-]*:(?:(?i:true|false)|\d+|[A-Z][A-Z0-9_]{2,})")
# Medium's keyed tags: "Tag:javascript", "Topic:Programming" are the tag after the colon.
_KEYED_TAG = re.compile(r"(?:tag|topic):(?=\S)", re.IGNORECASE)
# Values a template writes where it has none.
_NO_VALUES = frozenset({"nil", "null", "none", "undefined", "n/a"})
# A JSON-LD script's wrapper a validator or an XHTML template adds around the JSON:
# ``<![CDATA[ ... ]]>`` (with or without ``//`` or ``/* */`` before it) or ``<!-- ... -->``.
_JSON_LD_WRAPPER = re.compile(
    r"^\s*+(?:(?://|/\*)[ \t]*+)?(?:<!\[CDATA\[|<!--)(?:[ \t]*+\*/)?(.*?)"
    r"(?:(?://|/\*)[ \t]*+)?(?:\]\]>|-->)(?:[ \t]*+\*/)?\s*+$",
    re.DOTALL,
)

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TAG = re.compile(r"<[^<>]{0,500}>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_BY = re.compile(
    r"^(?:(?:this (?:post|article|story|piece) (?:was|is) )?(?:written|posted|authored|reported|"
    r"words|text|story|article) )?by\s+",
    re.IGNORECASE,
)
# A dated byline opener (WordPress: "Posted on March 3, 2025 by Jane Doe").
_DATED_BY = re.compile(
    r"^(?:posted|published|updated|written)(?: on)? [^|;]{1,40}? by\s+", re.IGNORECASE
)
# A credential after a name ("Dylan Bailey, MS, RD, FAND", "Rebecca Lake, CEPF®", "PhD",
# "E-RYT 200"): short words of capitals, digits and marks, at most two lower-case letters.
_CREDENTIAL_MARKS = frozenset(".®™-")
_MAX_CREDENTIAL_CHARS = 12
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:;|\||,|\band\b|&)\s*", re.IGNORECASE)
_MAX_NAME_WORDS = 5
_URL_IN_NAME = re.compile(r"\(?\s*https?://\S*\s*\)?", re.IGNORECASE)
# trafilatura's in-page byline search sometimes returns a date word ("January"); no writer
# is called that.
_NOT_NAMES = frozenset(
    {*MONTH_NAMES, *WEEKDAY_NAMES, "by", "and", "admin", "none", "null"}
)
# A photo credit ("Photo: Jane Doe", "Foto: dpa", "Фото из Инстаграма ...") names who took or
# owns the picture, not who wrote the article: pages mark it up as an author too.
_PHOTO_CREDIT = re.compile(
    r"^(?:photo(?:graph)?s?|pictures?|images?|foto(?:grafie|s)?|bild(?:er)?|фото)(?:[\s:/|-]|$)",
    re.IGNORECASE,
)
# Labels that byline blocks and author meta tags hold instead of a name (seen on WCXB
# article pages: "Written By", "View more posts", "undefined").
_LABELS = frozenset(
    {
        "author", "authors", "the author", "written by", "name", "undefined", "webmaster",
        "our editors", "view more posts", "view all posts", "see more", "read more",
        "subscribe", "updated", "published", "posted", "posted on", "posted by", "recipe by",
        "view all posts by", "dec", "jan", "copyright", "photo", "photos", "image",
        "username",  # a navigation bar's account placeholder (wapo's nav, via trafilatura)
    }
)
# A label before the name: "Author Jane Doe", "View all posts by Jane Doe", "Updated January".
_LEADING_LABEL = re.compile(
    r"^(?:about the author|authors?|view (?:all|more) posts by|read more (?:about|from)|"
    r"posts by|recipe by|(?:last )?updated(?: on)?|published(?: on)?)\s*:?\s+",
    re.IGNORECASE,
)
# What follows a name in a byline block: "Jane Doe Last updated ...", "Jane Doe - Acme Team",
# "Jane Doe • March 3", "Jane Doe @ Acme", "Jane Doe Subscribe".
_TRAILING_LABEL = re.compile(
    r"\s+(?:[-–—•·@]\s|(?:last )?updated\b|published\b|posted\b|subscribe\b|see more\b|"
    r"read more\b|view (?:all|more)\b)",
    re.IGNORECASE,
)
_QUOTES_AND_MARKS = "\"'“”‘’«»,;:"
# An e-mail address is not a name. (User names are: a byline often shows one, and WCXB's
# truth keeps it; dropping one-token lower-case names lost 0.014 on WCXB dev articles.)
_EMAIL = re.compile(r"\S+@\S+")
# A month name ends a name from its third word on ("Luke Kim December"); May and the
# abbreviations, which are names too (Theresa May, María del Mar, Lee Min Jun), only before
# a day or a year ("Jane Doe May 3, 2025", "Jane Doe Dec. 2025").
_MONTHS = frozenset(MONTH_NAMES) - {"may"}
_MONTHS_BEFORE_A_DATE = _MONTHS | frozenset(
    {"may", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
)
# A weekday ends a name from its third word on too ("Joe Wee Monday").
_WEEKDAYS = frozenset(WEEKDAY_NAMES)
# Left at the end of a name when what followed it was cut ("Jane Doe on March 3").
_DANGLING = frozenset({"on", "at", "by", "in", "|", "-", "–", "—", "»", "·", "•"})
# A byline part holding one of these is the writer's role ("By Ellen Marsh, Local Affairs
# Reporter"), not another name.
_ROLE_WORDS = frozenset(
    {
        "reporter", "editor", "correspondent", "writer", "journalist", "columnist",
        "contributor", "producer", "analyst", "staff", "desk", "bureau", "team", "agency",
        "agencies", "newsroom", "photographer", "presenter", "host", "critic", "chief",
        "senior", "deputy", "political", "economics", "business", "sports", "health",
        "science", "technology",
    }
)
# Words that end the name of a group byline ("The Investopedia Team", "TOI Lifestyle Desk").
_COLLECTIVE = frozenset({"team", "desk", "staff", "bureau", "agency", "agencies", "newsroom"})
# From its third word on, a name ends at a role or a role's first word ("Keith Barry Senior
# Autos Reporter", "Zackery Cuevas Writer", "Liz Kenny Former McKinsey Consultant").
_ROLE_STARTS = (_ROLE_WORDS - _COLLECTIVE) | frozenset(
    {
        "author", "founder", "co-founder", "cofounder", "manager", "head", "lead", "former",
        "consultant", "specialist", "developer", "director", "coordinator", "officer",
        "president", "owner", "educator", "educators", "managing",
        "executive", "associate", "assistant", "contributing", "freelance",
    }
)


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """What a page says about itself. Dates are ISO 8601 with offset (``dates.py``)."""

    authors: tuple[str, ...] = ()
    site_name: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    image: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    published_at: str | None = None
    modified_at: str | None = None
    # JSON-LD ``isAccessibleForFree`` read the other way round: True for a page that says
    # its article is not free (a paywall teaser or barrier), False for one that says it is,
    # None when it says nothing.
    paywalled: bool | None = None


EMPTY_METADATA = PageMetadata()


def merge(primary: PageMetadata, fallback: PageMetadata) -> PageMetadata:
    """Field by field, ``primary``'s value unless it is empty."""
    missing = {
        f.name: getattr(fallback, f.name)
        for f in fields(PageMetadata)
        if not getattr(primary, f.name) and getattr(fallback, f.name)
    }
    return replace(primary, **missing) if missing else primary


def read_metadata(root: lxml.html.HtmlElement, base_url: str | None = None) -> PageMetadata:
    """Metadata of a parsed page; empty fields where the page says nothing usable."""
    return read_page(root, base_url)[0]


def read_page(
    root: lxml.html.HtmlElement, base_url: str | None = None
) -> tuple[PageMetadata, str | None]:
    """:func:`read_metadata`, and the JSON-LD article node's ``articleBody`` as given (it may
    hold markup; at most :data:`MAX_JSONLD_CHARS`), or None."""
    try:
        meta = _meta_tags(root)
        node, page = _json_ld_nodes(root)
    except (ValueError, TypeError):  # lxml on trees it built itself; belt and braces
        return EMPTY_METADATA, None
    ld = _from_json_ld(node, base_url) if node is not None else EMPTY_METADATA
    body = node.get("articleBody") if node is not None else None
    tags = _from_meta(meta, _canonical_link(root), base_url)
    metadata = merge(merge(ld, tags), _page_dates(page) if page is not None else EMPTY_METADATA)
    if tags.canonical_url:
        # The page's own declaration first: JSON-LD ``url``s are often a template's
        # (``https://google.com/article``), a site's home or a ``#webpage`` node id.
        metadata = replace(metadata, canonical_url=tags.canonical_url)
    return metadata, body if isinstance(body, str) and body.strip() else None


# -- meta tags ---------------------------------------------------------------------------


def _meta_tags(root: lxml.html.HtmlElement) -> dict[str, list[str]]:
    """``property``/``name``/``itemprop`` -> contents, in document order."""
    found: dict[str, list[str]] = {}
    for count, el in enumerate(root.iter("meta")):
        if count >= _MAX_META_TAGS:
            break
        # Some CMSs (and archived copies) write value= instead of content=.
        content = el.get("content")
        if content is None:
            content = el.get("value")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop"):
            # One tag may name several keys ("dc:title og:title", RDFa; until 2026-12-06
            # read as one key, so neither was found).
            for key in (el.get(attr) or "").lower().split()[:MAX_ITEMS]:
                found.setdefault(key, []).append(content)
    for key, el in _itemprop_elements(root):
        value = el.get("datetime") or el.get("content") or el.text_content()
        if key and value:
            found.setdefault(key, []).append(value)
    return found


def _itemprop_elements(
    root: lxml.html.HtmlElement,
) -> Iterator[tuple[str, lxml.html.HtmlElement]]:
    """Microdata dates and authors on visible elements (``<time itemprop=datePublished>``)."""
    wanted = ("datepublished", "datemodified", "author")
    for el in root.xpath("//*[@itemprop][not(self::meta)]")[:_MAX_META_TAGS]:
        # ``itemprop="author creator"`` (NYT) is an author: several names in one attribute.
        props = (el.get("itemprop") or "").lower().split()
        prop = next((p for p in wanted if p in props), None)
        if prop is None:
            continue
        names = el.xpath(".//*[@itemprop='name']") if prop == "author" else []
        if names:
            yield prop, names[0]
        elif prop != "author" or el.get("itemscope") is None:
            # An author item without a name is an author box: its text is a photo, a bio and
            # links ("Shivya NathHi there! I'm Shivya, and I started this travel blog").
            yield prop, el


def _canonical_link(root: lxml.html.HtmlElement) -> str | None:
    for el in root.iter("link"):
        rel = (el.get("rel") or "").lower().split()
        if "canonical" in rel and el.get("href"):
            return str(el.get("href"))
    return None


def _from_meta(
    meta: dict[str, list[str]], canonical: str | None, base_url: str | None
) -> PageMetadata:
    def first(keys: Iterable[str], unless: str | None = None) -> str | None:
        for key in keys:
            for raw in meta.get(key, ()):
                value = clean_text(raw)
                if value and (unless is None or value.casefold() != unless.casefold()):
                    return value
        return None

    def first_url(keys: Iterable[str]) -> str | None:
        for key in keys:
            for raw in meta.get(key, ()):
                url = clean_url(raw, base_url)
                if url:
                    return url
        return None

    def first_date(keys: Iterable[str]) -> str | None:
        for key in keys:
            for raw in meta.get(key, ()):
                value = iso_datetime(clean_text(raw))
                if value:
                    return value
        return None

    tags: list[str] = []
    for key in _META_TAGS:
        values = meta.get(key, ())
        listed = key in _COMMA_LISTS or (key == _ONE_A_TAG and len(values) == 1)
        for raw in values:
            tags.extend(split_list(raw) if listed else [raw])
        if tags:
            break
    authors: list[str] = []
    for key in _META_AUTHORS:
        for raw in meta.get(key, ()):
            authors.extend(split_authors(raw))
        if authors:
            break
    site_name = first(_META_SITE)
    return PageMetadata(
        authors=clean_list(authors),
        site_name=site_name,
        canonical_url=_document_url(
            clean_url(canonical, base_url) if canonical else first_url(_META_URL)
        ),
        # A description that is the site's name says nothing of the article (Engadget's
        # og:description "Engadget"): the next one is read.
        description=first(_META_DESCRIPTION, unless=site_name),
        image=first_url(_META_IMAGE),
        section=first(_META_SECTION),
        tags=clean_list(tags),
        published_at=first_date(_META_PUBLISHED),
        modified_at=first_date(_META_MODIFIED),
    )


# -- JSON-LD -----------------------------------------------------------------------------


def _json_ld_nodes(
    root: lxml.html.HtmlElement,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The first article-typed JSON-LD node and the first page-typed one (:data:`PAGE_TYPES`),
    at the top level, in ``@graph`` or as a page's ``mainEntity``. Nested parts (live-blog
    updates, comments) are not candidates."""
    article = page = None
    for node in _json_ld_candidates(root):
        if article is None and _is_a(node, ARTICLE_TYPES):
            article = node
        elif page is None and _is_a(node, PAGE_TYPES):
            page = node
        if article is not None and page is not None:
            break
    return article, page


def _json_ld_candidates(root: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    scripts = 0
    for el in root.iter("script"):
        if (el.get("type") or "").strip().lower() != "application/ld+json":
            continue
        scripts += 1
        if scripts > _MAX_JSONLD_SCRIPTS:
            break
        text = el.text or ""
        if len(text) > MAX_JSONLD_CHARS:
            continue
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            # Until 2026-12-06 a wrapped script was skipped (24 of mozilla/readability's 130
            # test pages: their site names and dates were lost).
            wrapped = _JSON_LD_WRAPPER.match(text)
            try:
                data = orjson.loads(wrapped[1]) if wrapped else None
            except orjson.JSONDecodeError:
                continue
        if data is not None:
            yield from _candidates(data)


def _candidates(data: Any) -> Iterator[dict[str, Any]]:
    top = data if isinstance(data, list) else [data]
    seen = 0
    for item in top[:_MAX_JSONLD_NODES]:
        if not isinstance(item, dict):
            continue
        graph = item.get("@graph")
        members = graph if isinstance(graph, list) else [item]
        for node in members[:_MAX_JSONLD_NODES]:
            seen += 1
            if seen > _MAX_JSONLD_NODES:
                return
            if isinstance(node, dict):
                yield node
                main = node.get("mainEntity")
                if isinstance(main, dict):
                    yield main


def _is_a(node: dict[str, Any], types: frozenset[str]) -> bool:
    kinds = node.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1].rsplit(":", 1)[-1] in types
               for k in names[:MAX_ITEMS])


def _page_dates(node: dict[str, Any]) -> PageMetadata:
    """A JSON-LD node's ``datePublished`` and ``dateModified`` (an article's or a page's)."""
    return PageMetadata(
        published_at=iso_datetime(clean_text(_first_str(node.get("datePublished")))),
        modified_at=iso_datetime(clean_text(_first_str(node.get("dateModified")))),
    )


def _from_json_ld(node: dict[str, Any], base_url: str | None) -> PageMetadata:
    publisher = node.get("publisher")
    page = node.get("mainEntityOfPage")
    page_url = page.get("@id") or page.get("url") if isinstance(page, dict) else page
    keywords = node.get("keywords")
    tags = split_list(keywords) if isinstance(keywords, str) else _strings(keywords)
    sections = node.get("articleSection")
    section = sections if isinstance(sections, str) else next(iter(_strings(sections)), None)
    dates = _page_dates(node)
    return PageMetadata(
        authors=clean_list(
            part for name in _names(node.get("author")) for part in split_authors(name)
        ),
        site_name=next((clean_text(n) for n in _names(publisher)), None),
        canonical_url=_document_url(
            clean_url(_first_str(node.get("url")) or _first_str(page_url), base_url)
        ),
        description=clean_text(_first_str(node.get("description"))),
        image=clean_url(_image_url(node.get("image")), base_url),
        section=clean_text(section),
        tags=clean_list(tags),
        published_at=dates.published_at,
        modified_at=dates.modified_at,
        paywalled=_paywalled(node.get("isAccessibleForFree")),
    )


def _paywalled(free: Any) -> bool | None:
    """``isAccessibleForFree`` (a boolean, or its name as a string: "False", "false")
    turned round; None for anything else."""
    if isinstance(free, str):
        free = {"true": True, "false": False}.get(free.strip().lower())
    return (not free) if isinstance(free, bool) else None


# What a JSON envelope may say of its article beyond the envelope's own fields: the enriched
# record's metadata fields under their own names ("author" too, as feeds and exports name it).
# The image under the names API exports use too: NewsAPI's ``urlToImage``, newspaper3k's
# ``top_image`` (until 2026-12-06 only ``image``: a verification trial's NewsAPI records).
IMAGE_FIELDS = ("image", "urlToImage", "image_url", "top_image")
PRODUCER_FIELDS = ("authors", "author", "site_name", "canonical_url", "description",
                   *IMAGE_FIELDS, "section", "tags", "modified_at")


def from_producer(values: Mapping[str, Any], base_url: str | None = None) -> PageMetadata:
    """The metadata a producer gave in its envelope's other fields (:data:`PRODUCER_FIELDS`),
    cleaned as the page's is; values of another shape are ignored (they stay in ``extra``).

    ``authors``/``author``: a name, a byline ("By A and B"), a list of them, or objects with
    a ``name``; ``tags``: a list, or a comma-separated string."""
    if not any(name in values for name in PRODUCER_FIELDS):
        return EMPTY_METADATA
    names = [*_names(values.get("authors")), *_names(values.get("author"))]
    tags = values.get("tags")
    return PageMetadata(
        authors=clean_list(part for name in names for part in split_authors(name)),
        site_name=clean_text(_first_str(values.get("site_name"))),
        canonical_url=clean_url(_first_str(values.get("canonical_url")), base_url),
        description=clean_text(_first_str(values.get("description"))),
        image=next(filter(None, (clean_url(_image_url(values.get(name)), base_url)
                                 for name in IMAGE_FIELDS)), None),
        section=clean_text(_first_str(values.get("section"))),
        tags=clean_list(split_list(tags) if isinstance(tags, str) else _strings(tags)),
        modified_at=iso_datetime(clean_text(_first_str(values.get("modified_at")))),
    )


def _names(value: Any) -> list[str]:
    """Names of a Person/Organization, a list of them, or plain strings."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items[:MAX_ITEMS]:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            names.append(item["name"])
    return names


def _image_url(value: Any) -> str | None:
    items = value if isinstance(value, list) else [value]
    for item in items[:MAX_ITEMS]:
        if isinstance(item, str):
            return item
        if isinstance(item, dict):
            url = item.get("url") or item.get("contentUrl")
            if isinstance(url, str):
                return url
    return None


def _first_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return next((v for v in value[:MAX_ITEMS] if isinstance(v, str)), None)
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for v in value[: MAX_ITEMS * 5] if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


# -- cleaning ----------------------------------------------------------------------------


def clean_text(value: str | None) -> str | None:
    """One line of plain text, at most MAX_VALUE_CHARS, or None when nothing is left."""
    if not value:
        return None
    text = value[: MAX_VALUE_CHARS * 4]
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    text = _WS.sub(" ", _CONTROL.sub("", text)).strip()
    if text.casefold() in _NO_VALUES:  # a template's placeholder ("nil", "undefined")
        return None
    return text[:MAX_VALUE_CHARS].rstrip() or None


def clean_url(value: str | None, base_url: str | None = None) -> str | None:
    """An absolute http(s) URL of at most MAX_URL_CHARS, or None."""
    if not value:
        return None
    url = value.strip()
    if len(url) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 0x20 for c in url):
        return None
    if url.startswith("//"):
        url = "https:" + url
    elif not url[:8].lower().startswith(("http://", "https://")):
        if base_url is None:
            return None
        try:
            url = urljoin(base_url, url)
        except ValueError:
            return None
    ok = url[:8].lower().startswith(("http://", "https://")) and len(url) <= MAX_URL_CHARS
    return url if ok else None


def _document_url(url: str | None) -> str | None:
    """``url`` without its fragment (``.../post/#webpage``: a node id, not another page)."""
    if url is None:
        return None
    return url.split("#", 1)[0] or None


def split_list(value: str) -> list[str]:
    """A list written as one string, split at its commas and semicolons (``;`` until
    2026-12-06 kept "a; b; c" one tag); entities are read first, so "Privacy &amp;
    Technology" stays one item."""
    if "&" in value:
        value = _ENTITY.sub(lambda m: html.unescape(m.group()), value[:MAX_VALUE_CHARS * 4])
    return _LIST_SEPARATORS.split(value)


def clean_list(values: Iterable[str]) -> tuple[str, ...]:
    """Cleaned, de-duplicated (case-insensitively, first spelling kept), at most MAX_ITEMS;
    a CMS's internal keys (``Lite:true``) are not items."""
    seen: dict[str, str] = {}
    for count, raw in enumerate(values):
        if count >= MAX_ITEMS * 5 or len(seen) >= MAX_ITEMS:
            break
        value = clean_text(raw)
        if value and not _MACHINE_TAG.fullmatch(value):
            value = _KEYED_TAG.sub("", value, count=1) if _KEYED_TAG.match(value) else value
            seen.setdefault(value.casefold(), value)
    return tuple(seen.values())


def split_authors(value: str) -> list[str]:
    """Names in a byline: "By A and B" -> [A, B]; URLs (profile links) are not names.

    A byline is split only when every part looks like a name (1-5 words, at least one with
    two), so "Smith, John" stays one name.
    """
    text = clean_text(value)
    if (not text or text[:8].lower().startswith(("http://", "https://")) or "/" in text[:1]
            or _PHOTO_CREDIT.match(text)):
        return []
    text = _WS.sub(" ", _URL_IN_NAME.sub(" ", _BY.sub("", _DATED_BY.sub("", text)))).strip()
    parts = [p for p in _AUTHOR_SEPARATORS.split(text) if p and not _not_a_name(p)]
    if not parts:
        return []
    # In a byline set in capitals ("By JOHN SMITH and JANE DOE") every name is shaped like a
    # credential: there a part of two or more words of letters is a name (until 2026-12-05
    # only the first name was kept).
    capitals = _is_credential(parts[0])
    credentials = [p for p in parts[1:]
                   if _is_credential(p) and not (capitals and _is_plain_name(p))]
    if credentials:
        parts = [p for p in parts if p not in credentials]
        if len(parts) == 1:
            return _names_in(parts)
    names = _names_in(
        [p for p in parts if not _ROLE_WORDS.intersection(p.lower().split())] or parts[:1])
    words = [len(p.split()) for p in names]
    if len(parts) > 1 and names and all(n <= _MAX_NAME_WORDS for n in words) and min(words) >= 2:
        return names
    return _names_in([text])


def _names_in(parts: Iterable[str]) -> list[str]:
    """Each part's name without the labels around it (:func:`name_in`), dropping parts that
    hold none."""
    return [name for name in map(name_in, parts) if name]


def name_in(part: str) -> str | None:
    """A byline part without the label, date or role around the name, or None when it is
    only a label or an e-mail address: "Author Jane Doe" -> "Jane Doe",
    "Jane Doe Last updated May 1" -> "Jane Doe", "Jane Doe Senior Reporter" -> "Jane Doe",
    "Written By" -> None.
    """
    # One space between words first: the label patterns then run in linear time.
    text = _WS.sub(" ", part[:MAX_VALUE_CHARS * 4]).strip(_QUOTES_AND_MARKS + " ")
    cut = "©" in text
    text = text.split("©", 1)[0]  # a copyright notice follows
    text = _LEADING_LABEL.sub("", text)
    trailing = _TRAILING_LABEL.search(text)
    if trailing is not None:
        text, cut = text[: trailing.start()], True
    words = text.strip(_QUOTES_AND_MARKS + " ").split()
    # A group's or a pen name ("AAA Travel Editor", "The Food Team") keeps its role words;
    # a byline in capitals ("JANE DOE SENIOR REPORTER") does not.
    group = bool(words) and (words[0].lower() == "the" or (
        words[0].isupper() and len(words[0]) > 1 and not " ".join(words).isupper()))
    for index in range(2, len(words)):
        word = words[index].lower().strip(".,")
        following = words[index + 1] if index + 1 < len(words) else ""
        role = word in _ROLE_STARTS or (word in _COLLECTIVE and following.lower() in _ROLE_STARTS)
        date = word in _MONTHS or word in _WEEKDAYS or (
            word in _MONTHS_BEFORE_A_DATE and following[:1].isdigit())
        if (role and not group) or date or word.isdigit():
            words, cut = words[:index], True
            break
    if " ".join(words).casefold() in _LABELS:  # "Written By"
        return None
    while len(words) > 1 and (words[-1].isdigit() or (cut and words[-1].lower() in _DANGLING)):
        words.pop()  # "Yucy 3"; "Jane Doe on" when "March 3" was cut (not "Audiophile On")
    name = " ".join(words).strip(_QUOTES_AND_MARKS + "-–—»|·• ")
    folded = name.casefold()
    # (_not_a_name covers a lone month name.)
    if (not name or _not_a_name(name) or folded in _LABELS or folded in _DANGLING
            or _EMAIL.fullmatch(name)):
        return None
    return name


def without_digitless_date(byline: str) -> str:
    """``byline`` without a month that ends it from its third word on ("Joshua Sokol May"
    -> "Joshua Sokol"): trafilatura's byline search takes the digits out of what it returns,
    so "Joshua Sokol May 3, 2016" reaches us that way. Only for its bylines: elsewhere a
    name may end in May."""
    words = byline.split()
    if len(words) >= 3 and words[-1].lower().strip(".,") in _MONTHS_BEFORE_A_DATE:
        return " ".join(words[:-1])
    return byline


def _is_credential(part: str) -> bool:
    words = part.split()
    return 0 < len(words) <= 3 and all(_is_credential_word(w) for w in words)


def _is_plain_name(part: str) -> bool:
    words = part.split()
    return len(words) >= 2 and all(word.isalpha() for word in words)


def _is_credential_word(word: str) -> bool:
    if len(word) > _MAX_CREDENTIAL_CHARS or not all(
        c.isalnum() or c in _CREDENTIAL_MARKS for c in word
    ):
        return False
    if word.isdigit():
        return True
    return sum(c.isupper() for c in word) >= 2 and sum(c.islower() for c in word) <= 2


def _not_a_name(text: str) -> bool:
    return text.casefold() in _NOT_NAMES or not any(c.isalpha() for c in text)
