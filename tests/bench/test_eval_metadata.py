"""The metadata judging rules on tiny inputs, with exact values (bench/eval_metadata.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.eval_metadata import Reading, evaluate, first_name, fold, judge, main


def test_fold_and_first_name() -> None:
    assert fold("  “Harbour Wall” – Repaired!  ") == '"harbour wall" - repaired'
    assert first_name("Dylan Bailey, MS, RD, FAND") == "dylan bailey"
    assert first_name("Maria & Katerina") == "maria"
    assert first_name("Danielle DeSiato, Donna Enzmann, and Natalie Nguyen") == "danielle desiato"
    assert first_name("Ann Andrews and Bo Lee") == "ann andrews"


def test_judge_per_field() -> None:
    row = {"title": "Harbour wall repaired.", "author": "Jane Doe, PhD", "published": "2025-01-15"}
    good = Reading("Harbour Wall Repaired", ("Jane Doe", "Bo Lee"), "2025-01-15T08:00:00+01:00")
    assert judge(row, good) == {"title": (True, True), "author": (True, True), "date": (True, True)}
    wrong = Reading("Harbour wall repaired - The Gazette", ("Bo Lee",), "2025-01-14")
    assert judge(row, wrong) == {
        "title": (True, False),
        "author": (True, False),
        "date": (True, False),
    }
    assert judge(row, Reading(None, (), None)) == {
        "title": (False, False),
        "author": (False, False),
        "date": (False, False),
    }
    assert judge({"title": None, "author": "", "published": None}, good) == {
        "title": None,
        "author": None,
        "date": None,
    }


def test_scores_count_only_pages_whose_truth_has_a_value(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.html").write_bytes(b"<html></html>")
    rows = [
        {"id": "a", "title": "T", "author": None, "published": "2025-01-01"},
        {"id": "b", "title": "U", "author": None, "published": None},
    ]
    [(scores, _)] = evaluate(
        tmp_path, rows, {"stub": lambda page: Reading("T", (), "2025-01-01")}
    ).values()
    assert (scores["title"].pages, scores["title"].found, scores["title"].correct) == (2, 1.0, 0.5)
    assert (scores["date"].pages, scores["date"].correct) == (1, 1.0)
    assert (scores["author"].pages, scores["author"].found) == (0, 0.0)


def test_missing_data_prints_how_to_get_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(f"no extraction benchmark data in {tmp_path}")


def test_runs_on_a_tiny_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sdir = tmp_path / "wcxb_test"
    sdir.mkdir()
    page = (
        "<html><head><title>Harbour wall repaired</title>"
        '<meta property="article:published_time" content="2025-01-15T08:00:00Z">'
        '<meta name="author" content="Jane Doe"></head><body><article><p>'
        + "The council said the harbour wall is repaired and the port reopens. " * 5
        + "</p></article></body></html>"
    )
    (sdir / "p1.html").write_text(page)
    row = {
        "id": "p1",
        "page_type": "article",
        "title": "Harbour wall repaired",
        "author": "Jane Doe",
        "published": "2025-01-15",
    }
    (sdir / "truths.jsonl").write_text(json.dumps(row) + "\n")
    assert main(["wcxb_test", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== wcxb_test (article): 1 pages" in out
    ours = next(line for line in out.splitlines() if line.startswith("ours"))
    assert ours.split()[1:10] == [
        "1.000",
        "/",
        "1.000",
        "(1)",
        "1.000",
        "/",
        "1.000",
        "(1)",
        "1.000",
    ]
