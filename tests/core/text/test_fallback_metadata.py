"""trafilatura's metadata, read only for the fields ours lacks: the same values as its
``extract_metadata`` where they are read, and its costly steps skipped where ours has them."""

from __future__ import annotations

from pathlib import Path

import pytest
from trafilatura.metadata import extract_metadata
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
