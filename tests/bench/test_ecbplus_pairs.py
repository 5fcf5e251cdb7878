"""The ECB+ pair labels follow the written rule (bench/ecbplus_pairs.py), exactly."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bench import ecbplus_pairs
from bench.realnews import ecbplus

LEDE = [
    "Four men rammed their car into a jewelry store in central Paris on Monday morning.",
    "The heist near the upscale Place Vendome is the latest to hit France this year.",
    "The police source said the men drove a large car into the store before dawn.",
    "They then set fire to the vehicle and escaped in another car waiting nearby.",
]
OTHER = [
    "A publicist says the actress has checked herself into a treatment center.",
    "He did not specify what she was being treated for or when she entered it.",
    "Her film credits include several comedies of the last twenty years or so.",
]


def row(article_id: str, lines: list[str], topic: str = "24") -> dict[str, object]:
    return {"id": article_id, "title": None, "text": "\n".join(lines), "topic": topic,
            "group": f"{topic}/ecbplus"}


def test_copies_excerpts_and_partial_overlaps_by_the_sentences_they_share() -> None:
    rows = [
        row("copy-a", LEDE),
        row("copy-b", [s.replace("jewelry", "jewellery") for s in LEDE] + ["Short one."]),
        row("excerpt", LEDE[:3]),
        row("partial", LEDE[:2] + OTHER),
        row("other", [*OTHER[:1], "Nothing of the heist in this text at all, none."]),
        row("elsewhere", LEDE, topic="1"),  # another topic: never a candidate
    ]
    pairs = {(p["a"], p["b"]): p for p in ecbplus_pairs.label_pairs(rows)}
    assert {k: p["label"] for k, p in pairs.items()} == {
        ("copy-a", "copy-b"): "copy",
        ("copy-a", "excerpt"): "copy",  # 3 of 4 sentences: 0.76 of the length
        ("copy-a", "partial"): "partial overlap",
        ("copy-b", "excerpt"): "copy",
        ("copy-b", "partial"): "partial overlap",
        ("excerpt", "partial"): "partial overlap",
        ("partial", "other"): "partial overlap",
    }
    copy = pairs[("copy-a", "copy-b")]
    assert (copy["shorter_sent_match_frac"], copy["shorter_content_sents"]) == (1.0, 4)
    partial = pairs[("copy-a", "partial")]
    assert (partial["shorter_sent_match_frac"], partial["shorter_content_sents"]) == (0.5, 4)


def test_a_short_reprint_is_an_excerpt() -> None:
    long_text = LEDE + [s.replace("store", "shop") + " It was reported." for s in LEDE * 2]
    pairs = ecbplus_pairs.label_pairs([row("long", long_text), row("short", LEDE[:3])])
    assert [(p["label"], p["shorter_sent_match_frac"], p["shorter_content_sents"])
            for p in pairs] == [("excerpt", 1.0, 3)]


def test_the_written_pairs_are_what_the_evaluation_reads(tmp_path: Path) -> None:
    rows = [row("copy-a", LEDE), row("copy-b", [*LEDE, "One more sentence of the copy here."]),
            row("partial", LEDE[:1] + OTHER)]
    (tmp_path / "ecbplus.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    assert ecbplus_pairs.main([str(tmp_path)]) == 0
    real = ecbplus(tmp_path)
    assert real is not None
    assert real.pairs["copy"] == [("copy-a", "copy-b")]
    assert sorted(map(sorted, real.pairs["partial"])) == [["copy-a", "partial"],
                                                          ["copy-b", "partial"]]


def test_without_the_articles_it_says_how_to_build_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ecbplus_pairs.main([str(tmp_path)]) == 2
    assert "convert_ecbplus" in capsys.readouterr().err
