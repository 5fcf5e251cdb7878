"""Format detection and parsing, including hostile input."""

from __future__ import annotations

import contextlib
import time

import pytest

from streams.core.errors import (
    EmptyBodyError,
    ExtractionError,
    InputError,
    UnsupportedFormatError,
)
from streams.core.text.formats import (
    detect_format,
    feed_kind,
    leading_date,
    parse_body,
    split_plain_paragraphs,
)
from streams.core.text.htmltext import HtmlConfig, strip_fragment


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Just words.\nMore words.", None, "text"),
        ("Hello <b>bold</b> world", None, "html_fragment"),
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", None, "html_page"),
        ("  <html><p>x</p></html>", None, "html_page"),
        (" date 2024-08-18 Plain words", None, "date_prefixed_text"),
        (
            " F-N-S-T-A-R-T. 1 F-N-E-N-D. T-E-X-T-S-T-A-R-T. x T-E-X-T-E-N-D.",
            None,
            "delimited_export",
        ),
        ("Hello <b>bold</b> world", "text/plain; charset=utf-8", "text"),
        ("Plain words only", "text/html", "html_fragment"),
        ("a < b and c > d", None, "text"),
    ],
)
def test_detect_format(body: str, content_type: str | None, expected: str) -> None:
    assert detect_format(body, content_type) == expected


def test_plain_text_blank_line_blocks_and_lines() -> None:
    assert split_plain_paragraphs("One.\nTwo.\n\n\nThree.") == ("One.", "Two.", "Three.")


def test_plain_text_hard_wrapped_block_is_one_paragraph() -> None:
    text = (
        "This paragraph was wrapped by an email client at a fixed\n"
        "width of about sixty characters, as old wires still are\n"
        "today.\n\nSecond."
    )
    assert split_plain_paragraphs(text) == (
        "This paragraph was wrapped by an email client at a fixed width of about sixty "
        "characters, as old wires still are today.",
        "Second.",
    )


def test_plain_text_strict_entities_only() -> None:
    assert split_plain_paragraphs("AT&amp;T &nothing &#8217;") == ("AT&T &nothing \u2019",)


def test_fragment_blocks_entities_and_links() -> None:
    body = (
        '<p>First &amp; <a href="https://a.example/x">linked</a> para.</p><div>Second<br>third'
        '</div><script>var x = 1;</script><a href="/relative">rel</a>'
        '<a href="//cdn.example/y">y</a>'
    )
    parsed = strip_fragment(body)
    assert parsed.paragraphs == ("First & linked para.", "Second", "third", "rely")
    assert parsed.outlinks == ("https://a.example/x", "https://cdn.example/y")


def test_fragment_outlinks_are_distinct_and_capped_at_the_documented_1000() -> None:
    """README and enriched.schema.json (maxItems) promise at most 1,000, each <= 2,048."""
    links = "".join(f'<a href="https://a.example/{i}">l</a> ' for i in range(1200))
    long_link = '<a href="https://a.example/' + "x" * 2100 + '">long</a>'
    parsed = strip_fragment('<p>Text <a href="https://a.example/0">again</a></p>'
                            + long_link + links)
    assert len(parsed.outlinks) == 1000
    assert parsed.outlinks[:2] == ("https://a.example/0", "https://a.example/1")
    assert parsed.outlinks[-1] == "https://a.example/999"


def test_delimited_export_without_end_marker_takes_the_rest() -> None:
    parsed = parse_body("T-I-T-L-E-S-T-A-R-T. T T-I-T-L-E-E-N-D. T-E-X-T-S-T-A-R-T. Body text")
    assert parsed.title == "T"
    assert parsed.paragraphs == ("Body text",)
    assert parsed.published_at is None


def test_invalid_marker_date_is_dropped() -> None:
    assert parse_body(" date 2024-02-31 Words here").published_at is None


@pytest.mark.parametrize("body", ["", "   \n\t ", "\r\n\r\n"])
def test_empty_bodies(body: str) -> None:
    with pytest.raises(EmptyBodyError):
        parse_body(body)


@pytest.mark.parametrize("tag", ["div", "b", "p", "a", "span"])
def test_html_bomb_is_bounded(tag: str) -> None:
    bomb = (
        "<html><body>"
        + f"<{tag}>" * 100_000
        + "deep text"
        + f"</{tag}>" * 100_000
        + "</body></html>"
    )
    start = time.perf_counter()
    with contextlib.suppress(InputError):
        parse_body(bomb)
    assert time.perf_counter() - start < 5.0


def test_element_cap_refuses_huge_trees() -> None:
    with pytest.raises(ExtractionError):
        strip_fragment("<p>x</p>" * 1000, HtmlConfig(max_elements=500))


@pytest.mark.parametrize(
    "body",
    [
        "word " * 1_000_000,
        "<p>" + "word " * 1_000_000 + "</p>",
        "<" * 5_000_000,
        "<html><body><p>" + "word " * 1_000_000 + "</p></body></html>",
        "T-E-X-T-S-T-A-R-T. " + "F-N-S-T-A-R-T. " * 300_000,
    ],
    ids=["plain", "fragment", "angles", "page", "markers"],
)
def test_five_megabyte_single_line_is_bounded(body: str) -> None:
    start = time.perf_counter()
    try:
        parsed = parse_body(body)
        assert parsed.paragraphs
    except InputError:
        pass
    assert time.perf_counter() - start < 10.0


@pytest.mark.parametrize("markers", [1, 2, 5])
def test_every_leading_date_marker_goes_and_the_rest_keeps_its_format(markers: int) -> None:
    """Two markers used to leave a page to the plain-text parser, tags and all."""
    dates = " ".join(f"date 2024-08-{18 + i}" for i in range(markers))
    parsed = parse_body(f"{dates} <html><body><article><p>The council met on Monday "
                        "to vote on the harbour wall.</p></article></body></html>")
    assert parsed.format == "date_prefixed_html_page"
    assert parsed.published_at == "2024-08-18"  # the first marker
    assert not any("<" in p for p in parsed.paragraphs)


def test_leading_date_is_found_in_place() -> None:
    assert leading_date("date 2024-08-18 date 2024-08-19 x") == ("2024-08-18", 32)
    assert leading_date("  x date 2024-08-18") == (None, 0)
    assert leading_date("date 2024-08-18") == ("2024-08-18", 15)


def test_export_seams_split_where_the_export_glued() -> None:
    parsed = parse_body("T-E-X-T-S-T-A-R-T. He left.   \u201dShe said, external on Friday. "
                        "It ended.\u201d\u201cNext saysHamas Gaza?Gaza ceasefire")
    assert parsed.paragraphs == (
        "He left.\u201d", "She said on Friday. It ended.\u201d", "\u201cNext says",
        "Hamas Gaza?", "Gaza ceasefire",
    )


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>', "RSS"),
        ('\ufeff  <?xml version="1.0"?><?xml-stylesheet href="s.xsl"?><!-- generated -->\n'
         '<feed xmlns="http://www.w3.org/2005/Atom"><entry>', "Atom"),
        ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">', "RSS"),
        ("<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\">\n<rss>", "RSS"),
        ("<html><body><p>Our RSS feed: <feed> is a tag here</p></body></html>", None),
        ("Feeding the city: <rss> is not at the start", None),
        ('<?xml version="1.0"?><nitf><body><p>A wire story.</p></body></nitf>', None),
        # ten prolog items at most, each comment ends at its first "-->"
        ("<?xml version='1.0'?>" + "<!-- c -->" * 9 + "<rss>", "RSS"),
        ("<?xml version='1.0'?>" + "<!-- c -->" * 10 + "<rss>", None),
        ("<!-- a <rss> -->\n<html>", None),
        ("<!DOCTYPE html>\n" + "<!-- include -->\n" * 40 + "<html><p>A page.</p></html>", None),
    ],
)
def test_feeds_are_told_from_articles_by_their_root_element(body: str, kind: str | None) -> None:
    assert feed_kind(body) == kind
    if kind is not None:
        with pytest.raises(UnsupportedFormatError, match=f"an {kind} feed, not an article"):
            parse_body(body)
