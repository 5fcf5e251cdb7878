"""Golden tests over the five seed articles."""

from __future__ import annotations

import re

import pytest

from streams.core.text.article import normalize_article
from streams.core.text.normalize import fingerprint_text

PROMO = re.compile(
    r"read more|report this comment|comments: our rules|why are you making commenting|"
    r"callum baird|read the rules here|please report any comments",
    re.IGNORECASE,
)
OUTLINKS_002 = (
    "https://www.thenationalnews.com/tags/uk/",
    "https://www.thenationalnews.com/news/us/2024/08/13/us-approves-20bn-weapons-package-for-israel/",
    "https://www.thenationalnews.com/news/mena/2024/08/12/eus-borrell-calls-for-israeli-ministers-to-face-sanctions-over-incitement-to-war-crimes/",
    "https://www.thenationalnews.com/tags/middle-east/",
    "https://www.thenationalnews.com/tags/gaza/",
    "https://www.thenationalnews.com/tags/israel",
    "https://www.thenationalnews.com/news/uk/2024/07/20/david-lammy-announces-restoration-of-uks-unrwa-funding/",
    "https://www.thenationalnews.com/news/uk/2024/08/15/uks-lammy-and-french-minister-to-visit-israel-in-push-for-ceasefire/",
)


def test_003_title_date_format(seeds: dict[str, str]) -> None:
    article = normalize_article(seeds["003"])
    assert article.format == "delimited_export"
    assert article.title == "Foreign Office official resigns over Israel arms sales"
    assert article.published_at == "2024-08-18"
    assert article.language == "en"


def test_003_external_markers_and_seams_are_gone(seeds: dict[str, str]) -> None:
    article = normalize_article(seeds["003"])
    assert "external" not in article.text
    assert "F-N-" not in article.text and "T-E-X-T" not in article.text
    assert "first broken by the journalist Hind Hassan." in article.text
    assert "social media platform X on Friday" in article.text
    assert "Why are Israel and Hamas fighting in Gaza?" in article.paragraphs
    assert article.paragraphs[0].startswith("A British Foreign Office official")
    assert article.paragraphs[-1].endswith('as soon as that review process has been completed. "')


def test_002_date_and_outlinks(seeds: dict[str, str]) -> None:
    article = normalize_article(seeds["002"])
    assert article.format == "date_prefixed_html_fragment"
    assert article.published_at == "2024-08-18"
    assert article.outlinks == OUTLINKS_002
    assert article.text.startswith("A diplomat working at the British Foreign Office has resigned")
    assert "<a" not in article.text and "date 2024" not in article.text


def test_001_footer_and_promos_removed(seeds: dict[str, str]) -> None:
    article = normalize_article(seeds["001"])
    assert article.paragraphs[-1] == (
        "The spokesperson said the FCDO would not comment on individual cases."
    )
    assert article.boilerplate_removed == 14  # 3 READ MORE lines + 11 footer lines
    assert len(article.paragraphs) == 23


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_no_promo_or_footer_text(seeds: dict[str, str], prefix: str) -> None:
    article = normalize_article(seeds[prefix])
    assert PROMO.search(article.text) is None
    assert article.language == "en"


@pytest.mark.parametrize(("prefix", "paragraphs"), [("000", 19), ("002", 1), ("003", 10)])
def test_other_articles_keep_all_text(seeds: dict[str, str], prefix: str, paragraphs: int) -> None:
    article = normalize_article(seeds[prefix])
    assert article.boilerplate_removed == 0
    assert len(article.paragraphs) == paragraphs


def test_001_and_004_share_one_fingerprint(seeds: dict[str, str]) -> None:
    fp1 = fingerprint_text(normalize_article(seeds["001"]).paragraphs)
    fp4 = fingerprint_text(normalize_article(seeds["004"]).paragraphs)
    assert fp1 == fp4
    assert fp1.startswith("a senior diplomat working at the foreign office has resigned")
    assert fp1.endswith("the spokesperson said the fcdo would not comment on individual cases")


def _jaccard(a: str, b: str) -> float:
    def shingles(s: str) -> set[tuple[str, ...]]:
        words = s.split()
        return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}

    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


@pytest.mark.parametrize("prefix", ["000", "002", "003"])
def test_other_articles_differ_clearly_from_001(seeds: dict[str, str], prefix: str) -> None:
    fp1 = fingerprint_text(normalize_article(seeds["001"]).paragraphs)
    other = fingerprint_text(normalize_article(seeds[prefix]).paragraphs)
    assert other != fp1
    assert _jaccard(fp1, other) < 0.3
