"""trafilatura's metadata, read only for the fields ours lacks: the same values as its
``extract_metadata`` where they are read, and its costly steps skipped where ours has them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trafilatura.metadata import Document, extract_metadata
from trafilatura.settings import set_date_params

from streams.core.text import fallback_metadata
from streams.core.text.fallback_metadata import as_page_metadata, read_fallback
from streams.core.text.htmltext import DEFAULT_HTML_CONFIG, parse_html
from streams.core.text.metadata import EMPTY_METADATA, PageMetadata

ROOT = Path(__file__).resolve().parents[3]
PAGES = sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.html")) + sorted(
    (ROOT / "bench" / "pages").glob("*.html")
)


def _tree(path: Path):  # type: ignore[no-untyped-def]
    return parse_html(path.read_text(encoding="utf-8"), DEFAULT_HTML_CONFIG)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_with_nothing_of_ours_it_reads_what_extract_metadata_reads(path: Path) -> None:
    expected = extract_metadata(_tree(path), date_config=set_date_params(False))
    got = read_fallback(_tree(path), EMPTY_METADATA, None)
    assert got.title == (expected.title or None)
    assert got.date == (expected.date or None)
    assert got.metadata == as_page_metadata(expected, None)


def test_the_pages_exercise_every_step() -> None:
    """The comparison above means something only if some page has each field."""
    readings = [read_fallback(_tree(path), EMPTY_METADATA, None) for path in PAGES]
    assert sum(r.date is not None for r in readings) >= 5
    assert sum(bool(r.metadata.authors) for r in readings) >= 2
    assert sum(r.metadata.section is not None for r in readings) >= 1
    assert sum(bool(r.metadata.tags) for r in readings) >= 1
    assert all(r.title for r in readings)


OURS = PageMetadata(
    authors=("Jane Doe",),
    section="Politics",
    tags=("budget",),
    published_at="2024-01-02T03:04:05+00:00",
)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_the_costly_steps_are_skipped_for_fields_ours_has(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("called for a field ours already has")

    for name in ("extract_author", "find_date", "extract_catstags"):
        monkeypatch.setattr(fallback_metadata, name, refuse)
    got = read_fallback(_tree(path), OURS, None)
    assert got.date is None
    assert got.title  # the cheap steps still run: trafilatura's title wins over <title>


BARE_PAGE = """<html><head><title>Budget passes</title></head><body><article>
<h1>Budget passes</h1><p class="byline">By Jane Doe</p><p>The council passed the budget.</p>
<a href="/category/politics/">Politics</a> <a href="/tag/budget/">budget</a>
</article></body></html>"""


def test_each_missing_field_runs_its_own_step(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    for name in ("extract_author", "find_date", "extract_catstags"):
        original = getattr(fallback_metadata, name)

        def spy(*args: object, _name: str = name, _original: object = original,
                **kwargs: object) -> object:
            calls.append(_name if _name != "extract_catstags" else f"catstags:{args[0]}")
            return _original(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(fallback_metadata, name, spy)
    tree = parse_html(BARE_PAGE, DEFAULT_HTML_CONFIG)
    read_fallback(tree, PageMetadata(authors=("Jane Doe",), section="Politics"), None)
    assert sorted(calls) == ["catstags:tag", "find_date"]
    calls.clear()
    read_fallback(tree, PageMetadata(published_at="2024-01-02T03:04:05+00:00", tags=("x",)), None)
    assert sorted(calls) == ["catstags:category", "extract_author"]


def test_the_twitter_handle_trafilatura_takes_for_the_site_name_is_dropped() -> None:
    tree = parse_html(
        '<html><head><meta name="twitter:site" content="@allen_ai"></head>'
        "<body><p>Text.</p></body></html>", DEFAULT_HTML_CONFIG,
    )
    assert extract_metadata(tree).sitename == "Allen_Ai"  # capitalized by trafilatura
    assert read_fallback(tree, EMPTY_METADATA, None).metadata.site_name is None


@pytest.mark.parametrize(("title", "site_name"), [
    ("Vereinsnachrichten - Berliner Leichtathletik Verband e.V.",
     "Berliner Leichtathletik Verband e.V."),
    # Headlines that trafilatura takes for a site name: a figure, a separator, too long.
    ("Chapter 3. A practical example of a playbook - Docs", None),
    ("Nowa Zelandia: urlop dla rodzicow. Jak to wyglada w Polsce? - Serwis", None),
    ("Ulm - Zwei Chöre singen zusammen. Ein Konzert im Münster am Sonntag", None),
])
def test_a_site_name_read_from_the_title_is_not_a_headline(
    title: str, site_name: str | None
) -> None:
    tree = parse_html(f"<html><head><title>{title}</title></head><body><p>Text.</p></body>"
                      "</html>", DEFAULT_HTML_CONFIG)
    assert extract_metadata(tree).sitename is not None  # what trafilatura takes
    assert read_fallback(tree, EMPTY_METADATA, None).metadata.site_name == site_name


def test_it_leaves_the_tree_as_it_found_it() -> None:
    import lxml.html

    for path in PAGES:
        tree = _tree(path)
        before = lxml.html.tostring(tree)
        read_fallback(tree, EMPTY_METADATA, None)
        assert lxml.html.tostring(tree) == before


def test_a_page_too_large_for_trafilatura_gets_none_of_its_metadata_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streams.core.text import htmltext

    calls: list[str] = []
    monkeypatch.setattr(htmltext, "read_fallback",
                        lambda *args: calls.append("read") or read_fallback(*args))
    markup = PAGES[0].read_text(encoding="utf-8")
    htmltext.extract_page(markup, htmltext.HtmlConfig(max_trafilatura_elements=10))
    assert calls == []  # tag-stripped: the byline and date searches would copy the tree
    htmltext.extract_page(markup)
    assert calls == ["read"]


# -- the pre-checks of the byline search and the category and tag scans ------------------------

# The expressions may_have_byline and has_catstag_links were derived from (trafilatura 2.3.1).
# A trafilatura that changes them fails here: derive the pre-checks again, then update.
DERIVED_FROM = {
    "AUTHOR_XPATHS": "e7cdb233823cbb0a",
    "CATEGORIES_XPATHS": "3e362c1075d0fcda",
    "TAGS_XPATHS": "7b854e2236a1be42",
}


def test_the_pre_checks_were_derived_from_these_expressions() -> None:
    import hashlib

    from trafilatura import xpaths

    digests = {
        name: hashlib.sha256(
            "\n".join(x.path for x in getattr(xpaths, name)).encode()
        ).hexdigest()[:16]
        for name in DERIVED_FROM
    }
    assert digests == DERIVED_FROM


NO_MARKERS_PAGE = """<html><head><title>Budget passes</title>
<meta property="article:section" content="Politics"></head><body><article class="story">
<h1>Budget passes</h1><p class="lede">The council passed the budget.</p>
<a href="/politics/budget-passes">More</a></article></body></html>"""


def test_a_page_without_byline_markers_or_catstag_links_skips_their_searches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("searched a page that cannot have it")

    expected = extract_metadata(parse_html(NO_MARKERS_PAGE, DEFAULT_HTML_CONFIG),
                                date_config=set_date_params(False))
    for name in ("extract_author", "extract_catstags"):
        monkeypatch.setattr(fallback_metadata, name, refuse)
    got = read_fallback(parse_html(NO_MARKERS_PAGE, DEFAULT_HTML_CONFIG), EMPTY_METADATA, None)
    assert got.metadata == as_page_metadata(expected, None)
    # trafilatura's own fallback for categories, the article:section meta tag, still answers.
    assert got.metadata.section == "Politics"
    assert got.metadata.authors == ()


def test_each_kind_of_byline_marker_is_seen() -> None:
    for markup in ('<div class="post-author">x</div>', '<span id="Author1">x</span>',
                   '<p class="byl">x</p>', '<p class="BBL">x</p>', '<a rel="author">x</a>',
                   '<span itemprop="author name">x</span>', '<div data-testid="AuthorCard">',
                   '<div data-component="Byline">', '<author>x</author>',
                   '<div><rel>me</rel></div>', '<span class="xiaobian">x</span>',
                   '<span class="journalist-name">x</span>', '<div class="writer">x</div>'):
        tree = parse_html(f"<html><body><p>Text.</p>{markup}</body></html>", DEFAULT_HTML_CONFIG)
        assert fallback_metadata.may_have_byline(tree), markup
    tree = parse_html('<html><body><p class="lede" id="a1">Text.</p></body></html>',
                      DEFAULT_HTML_CONFIG)
    assert not fallback_metadata.may_have_byline(tree)


_TAGS = ["div", "span", "p", "a", "h3", "h4", "li", "footer", "header", "address", "strong",
         "author", "rel", "section", "time", "figure"]
_ATTRIBUTES = ["class", "id", "itemprop", "rel", "data-testid", "data-component", "href"]
_VALUES = ["author", "Author", "post-author", "author-name", "authorName", "byline", "Byline",
           "byl", "BBL", "username", "screenname", "writer", "zuozhe", "bianji", "xiaobian",
           "channel-name", "submitted-by", "posted-by", "journalist-name", "comments", "title",
           "date", "sidebar", "post-meta", "postmeta", "entry-meta", "meta", "entry-footer",
           "tags", "row", "cat-links", "post-category", "entry-header", "topics", "me",
           "AuthorCard", "AuthorURL", "author name", "lede", "story",
           "/category/politics/", "/categories/x/", "/tag/budget/", "/tags/y/", "/catalog/",
           "/politics/a-story", "/taggy/", "https://x.example/category/z/"]
_TEXT = ["Jane Doe", "By John Roe", "me", "Politics", "x" * 130, "", "Budget"]


@st.composite
def _trees(draw: st.DrawFn) -> str:
    def element(depth: int) -> str:
        tag = draw(st.sampled_from(_TAGS))
        attributes = draw(st.dictionaries(st.sampled_from(_ATTRIBUTES), st.sampled_from(_VALUES),
                                          max_size=3))
        attrs = "".join(f' {k}="{v}"' for k, v in attributes.items())
        children = "".join(element(depth + 1) for _ in range(
            draw(st.integers(0, 3 if depth < 3 else 0))))
        return f"<{tag}{attrs}>{draw(st.sampled_from(_TEXT))}{children}</{tag}>" \
            f"{draw(st.sampled_from(_TEXT))}"

    head = draw(st.sampled_from(["", '<meta property="article:section" content="News">',
                                 '<meta name="subject" content="Budget">']))
    body = "".join(element(0) for _ in range(draw(st.integers(1, 4))))
    return f"<html><head><title>T</title>{head}</head><body>{body}</body></html>"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees())
def test_the_pre_checks_never_change_what_trafilatura_finds(markup: str) -> None:
    """Random trees built from what the expressions test and near misses: the byline
    search finds nothing where the pre-check says no, and the scans read the same as
    trafilatura's own on every tree."""
    from trafilatura.metadata import extract_author, extract_catstags

    tree = parse_html(markup, DEFAULT_HTML_CONFIG)
    if not fallback_metadata.may_have_byline(tree):
        assert extract_author(tree) is None
    addresses = fallback_metadata.link_addresses(tree)
    for metatype in ("category", "tag"):
        assert fallback_metadata._catstags(metatype, tree, addresses) == \
            extract_catstags(metatype, tree)
    assert fallback_metadata._author(tree) == extract_author(tree)


US_DATE_PAGE = (
    "<!doctype html><html><head><title>Insiders: Trump will sink Pence in VP debate</title>"
    "</head><body><article><h1>Insiders: Trump will sink Pence in VP debate</h1>"
    "<p class='timestamp'><time datetime='2016-10-04T05:29-0400'>10/04/16 05:29 PM EDT</time>"
    "</p>" + "<p>Republican insiders in battleground states expect Mike Pence to outshine Tim "
    "Kaine in the debate.</p>" * 3 + "</article></body></html>"
)


def test_a_date_htmldate_reads_day_first_is_the_page_own_time_element() -> None:
    """A new-user trial's Politico page: htmldate read "10/04/16" as 10 April."""
    assert extract_metadata(parse_html(US_DATE_PAGE, DEFAULT_HTML_CONFIG),
                            date_config=set_date_params(False)).date == "2016-04-10"
    got = read_fallback(parse_html(US_DATE_PAGE, DEFAULT_HTML_CONFIG), EMPTY_METADATA, None)
    assert got.date == "2016-10-04T05:29-0400"


@pytest.mark.parametrize(
    ("date", "times", "expected"),
    [
        ("2016-04-10", ["2016-10-04T05:29-0400"], "2016-10-04T05:29-0400"),
        ("2016-04-10", ["2015-10-04"], "2016-04-10"),  # another year
        ("2016-04-10", ["2016-04-10T08:00Z", "2016-11-04"], "2016-04-10"),  # no swap there
        ("2016-04-04", ["2016-04-04"], "2016-04-04"),  # day and month equal
        ("2016-04-25", ["2016-25-04"], "2016-04-25"),
        (None, ["2016-10-04"], None),
        # a <time> whose text is no numeric date (a related story's) moves nothing
        ("2016-04-10", ["2016-10-04|4 October 2016"], "2016-04-10"),
    ],
)
def test_only_a_day_and_month_swap_is_mended(
    date: str | None, times: list[str], expected: str | None
) -> None:
    def stamp(time: str) -> str:
        value, _, text = time.partition("|")
        return f"<time datetime='{value}'>{text or '10/04/16'}</time>"

    page = "<html><body>" + "".join(stamp(t) for t in times) + "</body>"
    assert fallback_metadata.unswapped(date, parse_html(page, DEFAULT_HTML_CONFIG)) == expected


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("en-US", "Posted 3/09/15 8:00am", "2015-03-09"),  # readability's lifehacker pages
        ("en-us", "Posted 03/09/2015", "2015-03-09"),
        ("en-GB", "Posted 3/09/15 8:00am", "2015-09-03"),  # day first there
        (None, "Posted 3/09/15 8:00am", "2015-09-03"),  # no word on the convention
        ("en-US", "Posted 3/09/15, updated 9/03/15", "2015-09-03"),  # both ways: unsure
        ("en-US", "Posted September 3, 2015", "2015-09-03"),  # not written day first
        # a review's: the date written out too, or in the URL, the way htmldate read it
        ("en-US", "Published September 3, 2015. At the 3/9/15 meeting ...", "2015-09-03"),
        ("en-US", "Published 3 Sept. 2015. At the 3/9/15 meeting ...", "2015-09-03"),
        ("en-US", "At the 3/9/15 meeting ... | url", "2015-09-03"),
    ],
)
def test_a_us_page_date_written_only_day_first_in_numbers_is_swapped(
    lang: str | None, text: str, expected: str
) -> None:
    """htmldate read Lifehacker's "3/09/15" (9 March, ``data-publishtime`` 1425913200851)
    as 3 September, on a page with no ``<time datetime>`` to say which."""
    attribute = f' lang="{lang}"' if lang else ""
    text, _, with_url = text.partition(" | ")
    url = "https://news.example/2015/09/03/harbour-wall/" if with_url else None
    page = f"<html{attribute}><body><p>{text}</p></body></html>"
    assert fallback_metadata.unswapped(
        "2015-09-03", parse_html(page, DEFAULT_HTML_CONFIG), url) == expected


def test_json_ld_that_does_not_parse_is_read_by_trafilatura_regexes_up_to_a_budget() -> None:
    def page(padding: int) -> str:
        return ('<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
                + '"x": 1, ' * padding + '"author": {"@type": "Person", "name": "Priya Raman"'
                ',}</script></head><body><p>The council met.</p></body></html>')

    assert read_fallback(_page_tree(page(10)), EMPTY_METADATA, None).metadata.authors == (
        "Priya Raman",)
    # past the first 8 KiB of broken JSON-LD: not read (the regexes are quadratic)
    late = read_fallback(_page_tree(page(2_000)), EMPTY_METADATA, None)
    assert "Priya Raman" not in late.metadata.authors


def _page_tree(markup: str):  # type: ignore[no-untyped-def]
    return parse_html(markup, DEFAULT_HTML_CONFIG)


@pytest.mark.parametrize(("author", "authors"), [
    ("Joshua Sokol May", ("Joshua Sokol",)),  # "Joshua Sokol May 3, 2016" without digits
    ("Jane Doe Dec; Theresa May", ("Jane Doe", "Theresa May")),
    ("Theresa May", ("Theresa May",)),
    ("Jane Doe and Brian May", ("Jane Doe", "Brian May")),  # each name apart (a review)
])
def test_a_month_trafilatura_left_at_the_end_of_a_byline_is_cut(
        author: str, authors: tuple[str, ...]) -> None:
    """trafilatura takes the digits out of bylines: the month of their date was left
    (readability's quanta-1 page)."""
    doc = Document()
    doc.author = author
    assert as_page_metadata(doc, None).authors == authors
