"""Hypothesis properties: metadata reading, dates, domains, headlines and decoding are total
(never raise) and bounded (caps on every value and list) on arbitrary input."""

from __future__ import annotations

import unicodedata

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.decoding import decode_bytes
from streams.core.domains import publisher_domain, registrable_domain
from streams.core.errors import InputError
from streams.core.text.dates import iso_datetime
from streams.core.text.headline import split_headline
from streams.core.text.htmltext import DEFAULT_HTML_CONFIG, parse_html
from streams.core.text.metadata import (
    MAX_ITEMS,
    MAX_URL_CHARS,
    MAX_VALUE_CHARS,
    PRODUCER_FIELDS,
    PageMetadata,
    from_producer,
    name_in,
    read_metadata,
    split_authors,
)

_PIECES = st.sampled_from(
    [
        "<html>", "<head>", "</head>", "<body>", "<p>", "</p>", "<meta ", ">", "/>",
        'property="og:site_name" ', 'property="article:tag" ', 'name="author" ',
        'property="article:published_time" ', 'name="keywords" ', 'itemprop="author" ',
        'content="', 'value="', '" ', "<link rel=canonical href=", '<time itemprop="datePublished"',
        ' datetime="2024-08-18T10:00:00Z"', '<script type="application/ld+json">', "</script>",
        '{"@type": "NewsArticle", "author": ', '{"@graph": [', "]", "}", '"name": "A B"', ",",
        '"keywords": ', '"datePublished": ', '"image": ', '["x", {"url": 5}]', "null", "[",
        "&amp;", "&#0;", "\x00", "\u200b", "Jane Doe and John Roe", "http://", "//x.example/",
        "javascript:", "é", "中文", " ", "\n", "<!--", "x" * 300,
    ]
)
HTMLISH = st.one_of(st.text(), st.lists(_PIECES, max_size=60).map("".join))
JSON_LD_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(
        st.sampled_from(["@type", "@graph", "author", "name", "publisher", "datePublished",
                         "dateModified", "keywords", "image", "url", "articleSection",
                         "description", "mainEntity", "mainEntityOfPage", "@id"]),
        inner, max_size=6),
    max_leaves=30,
)


def _one_line(value: str) -> bool:
    """No control character and no line break. Not ``str.isprintable``: that also refuses
    format characters real names need (a Persian name's zero-width non-joiner) and code
    points this Python's Unicode tables do not know yet."""
    return not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value)


def _assert_bounded(meta: PageMetadata) -> None:
    for name in ("site_name", "description", "section"):
        value = getattr(meta, name)
        assert value is None or 0 < len(value) <= MAX_VALUE_CHARS
    for name in ("canonical_url", "image"):
        value = getattr(meta, name)
        assert value is None or (value.startswith(("http://", "https://"))
                                 and len(value) <= MAX_URL_CHARS)
    for values in (meta.authors, meta.tags):
        assert len(values) <= MAX_ITEMS
        assert all(0 < len(v) <= MAX_VALUE_CHARS and _one_line(v) for v in values)
    for date in (meta.published_at, meta.modified_at):
        assert date is None or iso_datetime(date) == date


def _read(markup: str) -> PageMetadata | None:
    try:
        root = parse_html(markup, DEFAULT_HTML_CONFIG)
    except InputError:
        return None  # unparseable markup is the parser's business, not ours
    return read_metadata(root, "https://base.example/a/")


@given(HTMLISH)
@settings(max_examples=300)
def test_read_metadata_is_total_and_bounded(markup: str) -> None:
    meta = _read(markup)
    if meta is not None:
        _assert_bounded(meta)


@given(JSON_LD_VALUES)
@settings(max_examples=300)
def test_any_json_ld_is_read_without_error(value: object) -> None:
    script = orjson.dumps(value).decode()
    meta = _read(f'<html><head><script type="application/ld+json">{script}</script></head>'
                 "<body><p>x</p></body></html>")
    assert meta is not None
    _assert_bounded(meta)


@given(st.dictionaries(st.sampled_from([*PRODUCER_FIELDS, "other"]), JSON_LD_VALUES,
                       max_size=6))
@settings(max_examples=300)
def test_any_envelope_metadata_is_read_without_error(values: dict[str, object]) -> None:
    _assert_bounded(from_producer(values, "https://base.example/a/"))


@given(st.text())
def test_iso_datetime_is_total(value: str) -> None:
    result = iso_datetime(value)
    assert result is None or iso_datetime(result) == result


@given(st.text())
def test_registrable_domain_is_total(url: str) -> None:
    domain = registrable_domain(url)
    assert domain is None or (domain and " " not in domain)


@given(st.one_of(st.text(), st.from_regex(r"https://[a-z-]{1,12}\.cdn\.ampproject\.org/.{0,40}")),
       st.one_of(st.none(), st.text()))
def test_publisher_domain_is_total(url: str, canonical: str | None) -> None:
    domain = publisher_domain(url, canonical)
    assert domain is None or (domain and " " not in domain)


_BYLINE_WORDS = st.sampled_from(
    ["Jane", "Doe", "Author", "by", "View", "all", "posts", "Last", "Updated", "December",
     "May", "Senior", "Reporter", "The", "Team", "-", "•", "@", "3", ",", "and", '"', "x@y.z"]
)


@given(st.one_of(st.text(), st.lists(_BYLINE_WORDS, max_size=8).map(" ".join)))
def test_names_in_bylines_are_words_of_the_byline(byline: str) -> None:
    """Trimming a byline only removes words around the name (and a copyright notice): what
    is left is a run of the byline's own words, never empty, never padded."""
    name = name_in(byline)
    if name is not None:
        marks = "\"'“”‘’«»,;:-–—»|·• "
        words = [word.strip(marks) for word in byline.split("©", 1)[0].split()]
        run = [word.strip(marks) for word in name.split()]
        assert run and name == name.strip()
        assert any(words[i:i + len(run)] == run for i in range(len(words)))
    for author in split_authors(byline):
        assert author and author == author.strip() and len(author) <= MAX_VALUE_CHARS


@given(st.lists(st.text(), max_size=5).map(tuple))
def test_split_headline_is_total(paragraphs: tuple[str, ...]) -> None:
    headline, rest = split_headline(paragraphs)
    assert (headline is None and rest == paragraphs) or (
        headline == paragraphs[0] and rest == paragraphs[1:]
    )


@given(st.binary(max_size=2048))
def test_decode_bytes_returns_text_or_a_typed_error(value: bytes) -> None:
    try:
        decoded = decode_bytes(value)
    except InputError:
        return
    assert isinstance(decoded.text, str) and decoded.encoding


_NAMES = st.sampled_from(
    ["Jane Doe", "María del Mar Sánchez", "Lee Min Jun", "Nguyen Van Dec", "Theresa May",
     "Jean-Luc Picard", "Brian May", "Ngozi Okonjo-Iweala", "Zhang Wei", "Mary Ann Smith"]
)
_BEFORE = st.sampled_from(["", "By ", "Author ", "Authors ", "View all posts by ",
                           "About the author ", "Written by ", "Posted on March 3, 2025 by "])
_AFTER = st.sampled_from(["", " Last updated March 3, 2025", " - Acme Editorial Team",
                          " • May 3, 2025", " @ Acme", " Subscribe", " Senior Reporter",
                          " December", " ©2025 Acme"])


@given(_BEFORE, _NAMES, _AFTER)
def test_labels_around_a_name_leave_the_name(before: str, name: str, after: str) -> None:
    assert split_authors(before + name + after) == [name]
