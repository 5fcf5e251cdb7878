"""Golden metadata of real pages per site type (licences: tests/fixtures/pages/README.md).

Each page goes through the same steps as in the worker (envelope, text path, metadata
resolution); the expected values are what the pages state in their markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from streams.core.article_metadata import ArticleMetadata, resolve_metadata
from streams.core.envelope import parse_envelope
from streams.core.pipeline import CoreConfig, Deduplicator
from streams.core.records import RawMessage, record_schema
from streams.core.text.article import normalize_article

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
WH = "https://obamawhitehouse.archives.gov"
WH_CARD = f"{WH}/sites/whitehouse.gov/files/images/twitter_cards_default.jpg"
GV_DE = "https://de.globalvoices.org"

GOLDEN: dict[str, tuple[ArticleMetadata, str]] = {
    "whitehouse_weekly_address_2016": (
        ArticleMetadata(
            url=None,
            source="archives.gov",  # obamawhitehouse.archives.gov: archives.gov is registrable
            title="WEEKLY ADDRESS: Merry Christmas from the President and the First Lady",
            title_source="page",
            language="en",
            language_source="detected",
            published_at="2016-12-23T16:42:59-05:00",
            modified_at="2016-12-24T07:15:21-05:00",
            site_name="whitehouse.gov",
            canonical_url=f"{WH}/the-press-office/2016/12/24/"
            "weekly-address-merry-christmas-president-and-first-lady",
            image=WH_CARD,
        ),
        "the President and the First Lady wished all Americans a Merry Christmas",
    ),
    "whitehouse_weekly_address_2015": (
        ArticleMetadata(
            url=None,
            source="archives.gov",
            title="Weekly Address: Tuition-Free Community College",
            title_source="page",
            language="en",
            language_source="detected",
            published_at="2015-04-11T06:00:00-04:00",
            modified_at="2015-06-10T21:20:29-04:00",
            site_name="whitehouse.gov",
            canonical_url=f"{WH}/the-press-office/2015/04/11/"
            "weekly-address-tuition-free-community-college",
            description="In this week’s address, the Vice President laid out his and the "
            "President’s plan to make two years of community college free for responsible "
            "students.",
            image=WH_CARD,
        ),
        "make two years of community college free",
    ),
    "whitehouse_blog_digital_transition": (
        ArticleMetadata(
            url=None,
            source="archives.gov",
            title="The Obama Administration Digital Transition: Moving Forward",
            title_source="page",
            language="en",
            language_source="detected",
            published_at="2017-01-17T18:08:47-05:00",
            modified_at="2017-01-23T14:05:50-05:00",
            site_name="whitehouse.gov",
            canonical_url=f"{WH}/blog/2017/01/17/"
            "obama-administration-digital-transition-moving-forward",
            description="Here's the latest on how you can continue to follow and engage with "
            "President Obama, the First Lady, and other Obama White House officials moving "
            "forward.",
            image=f"{WH}/sites/obamawhitehouse.archives.gov/files/digitaltransition.jpeg",
        ),
        "Over the past eight years, the President, the First Lady, and the Obama White House",
    ),
    "whitehouse_blog_serve_and_remember": (
        ArticleMetadata(
            url=None,
            source="archives.gov",
            title="Serve and Remember",
            title_source="page",
            language="en",
            language_source="detected",
            published_at="2011-09-10T13:06:40-04:00",
            modified_at="2011-09-12T19:56:03-04:00",
            site_name="whitehouse.gov",
            canonical_url=f"{WH}/blog/2011/09/10/serve-and-remember",
            description="September 11th has been designated as a National Day of Service and "
            "Remembrance. Throughout the weekend, Americans from across the country will be "
            "participating in service projects to honor those whose lives were lost in the "
            "horrific attacks on our country on September 11, 2001.",
            image=f"{WH}/sites/whitehouse.gov/files/images/twitter_cards_blog.jpg",
        ),
        "National Day of Service and Remembrance",
    ),
    "ebb_org_opinion": (
        ArticleMetadata(
            url=None,
            source=None,  # no canonical URL or og:url: the producer's url would give it
            title="On Recent Controversial Events",
            title_source="page",
            language="en",
            language_source="detected",
            published_at="2019-10-15T00:00:00+00:00",
            modified_at=None,
            authors=("Bradley M. Kuhn",),
            site_name="Bradley M. Kuhn ( Brad ) ( bkuhn )",
            description="The website of Bradley M. Kuhn, aka Brad, aka bkuhn. This site "
            "includes his GPG keys, resume, blog, projects list, software, interviews, "
            "speeches and writing.",
            # The site's <meta name="keywords">: what the page says, site-wide as it is.
            tags=("kuhn", "brad", "bradley", "bkuhn", "hacker", "gnu", "free", "software",
                  "linux", "unix", "perl", "liberal", "pgp", "gpg", "geek", "system",
                  "administrator", "network", "free software", "developer"),
        ),
        "The last 33 days have been unprecedentedly difficult for the software f",
    ),
    "globalvoices_de_news_nicaragua": (
        ArticleMetadata(
            url=None,
            source="globalvoices.org",
            # og:title ends " · Global Voices auf Deutsch", the og:site_name: dropped.
            title="Ein Jahr voller Proteste: Nicaraguaner wollen nicht mehr nur den Rücktritt "
            "Ortegas, sondern einen Neuanfang",
            title_source="page",
            language="de",
            language_source="detected",
            published_at="2019-04-30T15:10:10+00:00",  # article:published_time ...+0000
            modified_at="2019-11-26T15:10:42+00:00",
            authors=("Elisa Marvena",),  # <meta name="byl">, the "Geschrieben von" credit
            site_name="Global Voices auf Deutsch",
            canonical_url=f"{GV_DE}/2019/04/30/ein-jahr-voller-proteste-nicaraguaner-wollen-"
            "nicht-mehr-nur-den-rucktritt-ortegas-sondern-einen-neuanfang/",
            description="„[Wir müssen] Autoritarismus, Sexismus, Alleinherrschaft einzelner und "
            "andere Übel, die in die politische Kultur dieses Landes Einzug gehalten haben, "
            "beseitigen.“",
            image="https://globalvoices.org/wp-content/uploads/2019/03/Ideas-por-balas-800x450.jpg",
            # No section meta: the first of the post's rel=tag category links ("Regionen").
            section="Lateinamerika",
        ),
        "Seit dem Ausbruch der Massenproteste gegen Präsident Daniel Ortega in Nicaragua",
    ),
    "v8_blog_standalone_wasm": (
        ArticleMetadata(
            url=None,
            source=None,
            title="Outside the web: standalone WebAssembly binaries using Emscripten",
            title_source="page",
            language="en",
            language_source="detected",
            published_at="2019-11-21T00:00:00+00:00",
            modified_at=None,
            description="Emscripten now supports standalone Wasm files, which do not need "
            "JavaScript.",
        ),
        "Emscripten has always focused first and foremost on compiling to the Web",
    ),
}


def _read(name: str) -> bytes:
    return (PAGES / f"{name}.html").read_bytes()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_metadata(name: str) -> None:
    envelope = parse_envelope(_read(name), max_bytes=CoreConfig().max_body_bytes)
    article = normalize_article(envelope.body)
    expected, sentence = GOLDEN[name]
    assert resolve_metadata(envelope, article) == expected
    assert sentence in article.text
    assert (envelope.source_encoding, envelope.encoding_detected) == ("utf-8", False)


def test_the_news_article_keeps_the_byline_and_categories_out_of_the_text() -> None:
    article = normalize_article(_read("globalvoices_de_news_nicaragua").decode())
    for chrome in ("Geschrieben von", "Übersetzt von", "Kategorien", "Teile diesen Beitrag"):
        assert chrome not in article.text
    assert article.text.endswith("wird wieder mit einem harten Durchgreifen der Polizei "
                                 "gerechnet.")


def test_every_fixture_has_a_golden_entry() -> None:
    assert {p.stem for p in PAGES.glob("*.html")} == set(GOLDEN)


def test_producer_url_gives_the_source_and_the_record_matches_the_schema() -> None:
    value = orjson.dumps({"id": "ebb", "url": "https://ebb.org/bkuhn/blog/2019/10/15/x.html",
                          "body": _read("ebb_org_opinion").decode()})
    dedup = Deduplicator(CoreConfig(), worker="test")
    outcome = dedup.process(RawMessage("articles.raw", 0, 0, None, value, 1_000), now_ms=2_000)
    record: dict[str, Any] = outcome.outputs[0].value
    jsonschema.validate(record, record_schema("enriched"))
    assert (record["source"], record["authors"], record["published_at"]) == (
        "ebb.org", ["Bradley M. Kuhn"], "2019-10-15T00:00:00+00:00"
    )
