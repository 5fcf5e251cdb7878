"""The extraction metrics on tiny inputs, with exact values (bench/eval_extract.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.eval_extract import (
    PRF,
    SnippetCounts,
    declares_paywall,
    evaluate,
    main,
    ngrams,
    shingle_f1_gain,
    shingle_f1_spread,
    shingle_match,
    shingle_prf,
    snippet_counts,
    snippet_prf,
    tokenize,
)


def test_tokens_keep_case_and_drop_punctuation() -> None:
    assert tokenize("Über-all, it's 3.5!") == ["Über", "all", "it", "s", "3", "5"]


def test_short_text_is_one_shorter_shingle() -> None:
    assert ngrams("a b") == [("a", "b")]
    assert ngrams("") == []
    assert ngrams("a b c d e") == [("a", "b", "c", "d"), ("b", "c", "d", "e")]


def test_shingle_match_fractions() -> None:
    assert shingle_match("a b c d e", "a b c d") == (0.5, 0.0, 0.5)
    assert shingle_match("a b", "a b") == (1.0, 0.0, 0.0)
    assert shingle_match("", "") == (0.0, 0.0, 0.0)
    assert shingle_match("a b c d", "") == (0.0, 0.0, 1.0)
    # Case counts: the original's IGNORECASE does not fold \w matches.
    assert shingle_match("A b c d", "a b c d") == (0.0, 0.5, 0.5)


def test_shingles_are_a_multiset() -> None:
    # x y z w appears twice in the truth, once in the prediction.
    assert shingle_match("x y z w x y z w", "x y z w") == (0.2, 0.0, 0.8)


def test_f1_of_mean_precision_and_mean_recall() -> None:
    pages = [(0.5, 0.0, 0.5), (0.0, 0.0, 0.0), (1 / 3, 1 / 3, 1 / 3), (0.0, 0.0, 1.0)]
    # precision over pages with tp+fp > 0: (1.0 + 0.5) / 2; recall over pages with
    # tp+fn > 0: (0.5 + 0.5 + 0.0) / 3; F1 of the two means.
    got = shingle_prf(pages)
    assert got.precision == 0.75
    assert got.recall == pytest.approx(1 / 3)
    assert got.f1 == pytest.approx(2 * 0.75 * (1 / 3) / (0.75 + 1 / 3))
    assert shingle_prf([]) == PRF(0.0, 0.0, 0.0)


def test_snippets_squash_whitespace_and_pool() -> None:
    counts = snippet_counts(["foo  bar", "baz"], ["nav"], "foo\nbar and nav")
    assert counts == SnippetCounts(tp=1, fp=1, fn=1, tn=0)
    total = counts + snippet_counts(["x"], ["y"], "x")
    assert total == SnippetCounts(tp=2, fp=1, fn=1, tn=1)
    assert snippet_prf(total) == PRF(2 / 3, 2 / 3, 4 / 6)
    assert snippet_prf(SnippetCounts()) == PRF(0.0, 0.0, 0.0)


def test_evaluate_one_page(tmp_path: Path) -> None:
    (tmp_path / "p1.html").write_bytes(b"<html><body><p>a b c d e</p></body></html>")
    rows = [
        {
            "id": "p1",
            "text": "a b c d e",
            "with": ["a b"],
            "without": ["zz"],
            "page_type": "article",
        }
    ]
    [result] = evaluate(tmp_path, rows, {"stub": lambda page: "a b c d"})
    assert result.shingle == PRF(1.0, 0.5, 2 / 3)
    assert result.snippet == PRF(1.0, 1.0, 1.0)
    assert result.shingle_by_type == {"article": 2 / 3}
    assert (result.pages, result.empty) == (1, 0)


def test_ours_extracts_page_text(tmp_path: Path) -> None:
    from bench.eval_extract import ours

    page = (Path(__file__).parents[2] / "bench" / "pages" / "harbour_flood.html").read_bytes()
    assert "flood" in ours()(page).lower()
    assert ours()(b"") == ""


def test_missing_data_prints_how_to_get_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith(f"no extraction benchmark data in {tmp_path / 'none'}")


def test_runs_on_a_tiny_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sdir = tmp_path / "wcxb_test"
    sdir.mkdir()
    (sdir / "p1.html").write_bytes(b"<html><body><p>a b c d e</p></body></html>")
    row = {"id": "p1", "text": "a b c d e", "with": [], "without": []}
    (sdir / "truths.jsonl").write_text(json.dumps(row) + "\n")
    assert main(["wcxb_test", "--data", str(tmp_path), "--extractors", "ours"]) == 0
    assert "== wcxb_test: 1 pages" in capsys.readouterr().out


def test_paywalled_pages_are_those_whose_json_ld_says_not_free(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert declares_paywall(b'{"@type": "NewsArticle", "isAccessibleForFree": false}')
    assert declares_paywall(b'{"isAccessibleForFree":"False"}')
    assert not declares_paywall(b'{"isAccessibleForFree": true}')
    assert not declares_paywall(b"<p>isAccessibleForFree false</p>")
    sdir = tmp_path / "wcxb_test"
    sdir.mkdir()
    rows = []
    for name, ld in (("free", "true"), ("paid", "false")):
        (sdir / f"{name}.html").write_text(
            f'<html><head><script type="application/ld+json">{{"isAccessibleForFree": {ld}}}'
            f"</script></head><body><p>a b c d e</p></body></html>")
        rows.append(json.dumps({"id": name, "text": "a b c d e", "with": [], "without": []}))
    (sdir / "truths.jsonl").write_text("\n".join(rows) + "\n")
    args = ["wcxb_test", "--data", str(tmp_path), "--extractors", "ours"]
    assert main([*args, "--paywalled"]) == 0
    assert "== wcxb_test (paywalled pages): 1 pages" in capsys.readouterr().out
    assert main(args) == 0
    assert "== wcxb_test: 2 pages" in capsys.readouterr().out


def test_snippets_fold_typography_for_every_extractor_unless_literal() -> None:
    # The snippet keeps the page's curly quotes; a display form with straight ones has the
    # same words.
    snippet = "„Die Liste der Künstler“ – lang"
    assert snippet_counts([snippet], [], '"Die Liste der Künstler" - lang') == SnippetCounts(tp=1)
    assert snippet_counts([snippet], [], snippet) == SnippetCounts(tp=1)
    assert snippet_counts([snippet], [], '"Die Liste der Künstler" - lang', fold=False) == (
        SnippetCounts(fn=1)
    )


def test_converter_writes_both_benchmarks(tmp_path: Path) -> None:
    import gzip

    from bench.convert_extract import main as convert

    traf = tmp_path / "trafilatura" / "tests"
    (traf / "cache").mkdir(parents=True)
    (traf / "eval").mkdir()
    (traf / "cache" / "a.html").write_bytes(b"<html>A</html>")
    (traf / "eval" / "b.html").write_bytes(b"<html>B</html>")
    (traf / "evaldata.json").write_text(
        json.dumps(
            {
                "https://a.example/1": {"file": "a.html", "with": ["w"], "without": ["x"]},
                "https://b.example/2": {"file": "b.html", "with": [], "without": []},
                "https://c.example/3": {"file": "gone.html", "with": [], "without": []},
            }
        )
    )
    wcxb = tmp_path / "wcxb"
    for split in ("dev", "test"):
        (wcxb / split / "html").mkdir(parents=True)
        (wcxb / split / "ground-truth").mkdir()
        (wcxb / split / "html" / "0001.html.gz").write_bytes(gzip.compress(b"<html>W</html>"))
        truth = {
            "url": "https://w.example/",
            "_internal": {"page_type": {"primary": "forum"}},
            "ground_truth": {
                "main_content": "main text",
                "with": ["main"],
                "without": [],
                "title": "A title",
                "author": None,
                "publish_date": "2025-01-15",
            },
        }
        (wcxb / split / "ground-truth" / "0001.json").write_text(json.dumps(truth))
    out = tmp_path / "out"
    assert (
        convert(
            ["--trafilatura", str(tmp_path / "trafilatura"), "--wcxb", str(wcxb), "--out", str(out)]
        )
        == 0
    )
    rows = [json.loads(line) for line in (out / "trafilatura" / "truths.jsonl").open()]
    assert [r["url"] for r in rows] == ["https://a.example/1", "https://b.example/2"]
    assert rows[0] == {
        "id": "289744d4b3e4",
        "url": "https://a.example/1",
        "with": ["w"],
        "without": ["x"],
    }
    assert (out / "trafilatura" / f"{rows[1]['id']}.html").read_bytes() == b"<html>B</html>"
    for split in ("wcxb_dev", "wcxb_test"):
        [row] = [json.loads(line) for line in (out / split / "truths.jsonl").open()]
        assert row == {
            "id": "0001",
            "url": "https://w.example/",
            "text": "main text",
            "with": ["main"],
            "without": [],
            "page_type": "forum",
            "title": "A title",
            "author": None,
            "published": "2025-01-15",
        }
        assert (out / split / "0001.html").read_bytes() == b"<html>W</html>"


def test_converter_writes_the_scrapinghub_check_set(tmp_path: Path) -> None:
    import gzip

    from bench.convert_extract import main as convert

    src = tmp_path / "aeb"
    (src / "html").mkdir(parents=True)
    (src / "html" / "b2.html.gz").write_bytes(gzip.compress("<html>é</html>".encode()))
    (src / "html" / "a1.html.gz").write_bytes(gzip.compress(b"<html>A</html>"))
    (src / "ground-truth.json").write_text(json.dumps({
        "b2": {"articleBody": "Body two.", "url": "https://b.example/2"},
        "a1": {"articleBody": "Body one.\n\nMore."},
    }))
    out = tmp_path / "out"
    assert convert(["--scrapinghub", str(src), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in (out / "scrapinghub" / "truths.jsonl").open()]
    assert rows == [
        {"id": "a1", "url": None, "text": "Body one.\n\nMore.", "with": [], "without": []},
        {"id": "b2", "url": "https://b.example/2", "text": "Body two.", "with": [], "without": []},
    ]
    assert (out / "scrapinghub" / "b2.html").read_bytes() == "<html>é</html>".encode()


def test_bootstrap_spread_and_paired_gain() -> None:
    same = [(1.0, 0.0, 0.0)] * 5
    half = [(0.5, 0.5, 0.0)] * 5  # precision 0.5, recall 1.0: F1 2/3 on every resample
    assert shingle_f1_spread(same) == 0.0
    assert shingle_f1_spread(same[:1]) == 0.0
    gain, spread = shingle_f1_gain(same, half)
    assert gain == pytest.approx(1 / 3)
    assert spread == pytest.approx(0.0, abs=1e-12)
    # Pages paired: the same page list against itself gains exactly nothing.
    mixed = [(1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.5, 0.25, 0.25)]
    assert shingle_f1_gain(mixed, mixed) == (0.0, 0.0)
    assert shingle_f1_spread(mixed) > 0.0
    with pytest.raises(ValueError):
        shingle_f1_gain(mixed, mixed[:2])


def test_the_check_set_is_labelled_and_compared_with_the_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdir = tmp_path / "scrapinghub"
    sdir.mkdir()
    (sdir / "p1.html").write_bytes(
        b"<html><body><article><p>" + b"The council approved the budget on Monday. " * 8
        + b"</p></article></body></html>")
    row = {"id": "p1", "text": "The council approved the budget on Monday. " * 8,
           "with": [], "without": []}
    (sdir / "truths.jsonl").write_text(json.dumps(row) + "\n")
    args = ["scrapinghub", "--data", str(tmp_path), "--extractors", "ours,traf_default"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "== scrapinghub (independent check: reported, never tuned on): 1 pages" in out
    ours_line = next(line for line in out.splitlines() if line.startswith("ours "))
    # No snippets in this set: their columns say so instead of scoring 0.
    assert ours_line.split()[5:8] == ["-", "-", "-"]
    assert "ours minus traf_default: F1 +0.000 ± 0.000 (paired bootstrap)" in out


def test_the_check_set_runs_only_when_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("wcxb_test", "scrapinghub"):
        sdir = tmp_path / name
        sdir.mkdir()
        (sdir / "p1.html").write_bytes(b"<html><body><p>a b c d e</p></body></html>")
        row = {"id": "p1", "text": "a b c d e", "with": ["a b"], "without": []}
        (sdir / "truths.jsonl").write_text(json.dumps(row) + "\n")
    assert main(["--data", str(tmp_path), "--extractors", "ours"]) == 0
    out = capsys.readouterr().out
    assert "== wcxb_test: 1 pages" in out
    assert "scrapinghub" not in out
    # A set with snippets prints their scores, not the '-' of a set without.
    ours_line = next(line for line in out.splitlines() if line.startswith("ours "))
    assert ours_line.split()[5:8] == ["1.000", "1.000", "1.000"]


def test_the_bootstrap_is_seeded() -> None:
    pages = [(1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.5, 0.25, 0.25), (0.2, 0.6, 0.2)]
    assert shingle_f1_spread(pages) == shingle_f1_spread(pages)
    assert shingle_f1_gain(pages, pages[::-1]) == shingle_f1_gain(pages, pages[::-1])
