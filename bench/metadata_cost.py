"""Cost of reading page metadata, against trafilatura's own metadata reader, per page.

Run: .venv/bin/python -m bench.metadata_cost [--repeat 20]
Pages: bench/pages/ and tests/fixtures/pages/ (real pages). Each page is parsed once; the
timings are of the metadata step alone on the parsed tree (ours: ``read_metadata``;
trafilatura: ``extract_metadata``, which also runs htmldate's date search), then of the
whole ``extract_page`` (parse + our metadata + trafilatura extraction with metadata).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from trafilatura.metadata import extract_metadata

from streams.core.text.htmltext import DEFAULT_HTML_CONFIG, extract_page, parse_html
from streams.core.text.metadata import read_metadata

ROOT = Path(__file__).resolve().parents[1]
PAGE_DIRS = (ROOT / "bench" / "pages", ROOT / "tests" / "fixtures" / "pages")


def _best_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    pages = sorted(p for d in PAGE_DIRS for p in d.glob("*.html"))
    rows = []
    for path in pages:
        markup = path.read_text(encoding="utf-8")
        root = parse_html(markup, DEFAULT_HTML_CONFIG)
        ours = _best_ms(lambda root=root: read_metadata(root), args.repeat)
        theirs = _best_ms(lambda root=root: extract_metadata(copy.deepcopy(root)), args.repeat)
        copying = _best_ms(lambda root=root: copy.deepcopy(root), args.repeat)
        page = _best_ms(lambda markup=markup: extract_page(markup), max(3, args.repeat // 4))
        rows.append((path.stem, ours, theirs - copying, page))
    print(f"{'page':40} {'ours ms':>8} {'trafilatura ms':>15} {'extract_page ms':>16}")
    for name, ours, theirs, page in rows:
        print(f"{name:40} {ours:8.2f} {theirs:15.2f} {page:16.2f}")
    print(f"{'median':40} {statistics.median(r[1] for r in rows):8.2f} "
          f"{statistics.median(r[2] for r in rows):15.2f} "
          f"{statistics.median(r[3] for r in rows):16.2f}")


if __name__ == "__main__":
    main()
