"""Whole-page extraction against hand-made pages with chrome (bench/pages/)."""

from __future__ import annotations

from collections import Counter

import pytest

from streams.core.text.article import normalize_article
from streams.core.text.normalize import fingerprint_text

from .conftest import PAGES

EXPECTED_META = {
    "harbour_flood": (
        "Harbour town counts cost of worst flood in 40 years", "2024-03-11T07:45:00+00:00"
    ),
    "chip_plant": ("Chipmaker delays Ohio plant as demand cools", "2024-05-22T14:10:00+00:00"),
    "museum_reopens": ("City museum reopens after £12m makeover", "2023-10-06T00:00:00+00:00"),
}


def _words(paragraphs: tuple[str, ...] | list[str]) -> Counter[str]:
    return Counter(fingerprint_text(paragraphs).split())


@pytest.mark.parametrize("name", sorted(EXPECTED_META))
def test_page_recall_and_precision(name: str) -> None:
    article = normalize_article((PAGES / f"{name}.html").read_text(encoding="utf-8"))
    expected = _words((PAGES / f"{name}.expected.txt").read_text(encoding="utf-8").splitlines())
    got = _words(article.paragraphs)
    common = sum((expected & got).values())
    assert article.format == "html_page"
    assert common / sum(expected.values()) >= 0.95, "recall"
    assert common / sum(got.values()) >= 0.95, "precision"
    assert (article.title, article.published_at) == EXPECTED_META[name]


def test_page_outlinks_come_from_the_main_text() -> None:
    article = normalize_article((PAGES / "harbour_flood.html").read_text(encoding="utf-8"))
    assert article.outlinks == ("https://www.environment-agency.example/flood-warnings",)


def test_markup_only_page_is_empty() -> None:
    from streams.core.errors import EmptyBodyError

    with pytest.raises(EmptyBodyError):
        normalize_article("<html><body><div><img src='x.png'></div></body></html>")


def test_the_repeated_headline_leaves_the_text_unless_it_is_all_the_text() -> None:
    head = "<html><head><title>Harbour wall repaired</title></head><body><article>"
    lede = "The council said on Tuesday that the harbour wall is repaired and the port reopens."
    both = normalize_article(f"{head}<h1>Harbour wall repaired</h1><p>{lede}</p></article>")
    assert (both.title, both.paragraphs) == ("Harbour wall repaired", (lede,))
    alone = normalize_article(f"{head}<p>Harbour wall repaired</p></article></body></html>")
    assert (alone.title, alone.paragraphs) == ("Harbour wall repaired", ("Harbour wall repaired",))
