"""Build the extraction evaluation sets that ``bench.eval_extract`` reads.

    python -m bench.convert_extract --trafilatura SRC --wcxb SRC [--scrapinghub SRC] [--out DIR]

``--trafilatura``: a checkout of adbar/trafilatura (Apache-2.0) at
e90b0ef51ab026fdb905fb6c5b3c84dd3d784fd5 (its ``tests/`` directory is enough);
``--wcxb``: a checkout of Murrough-Foley/web-content-extraction-benchmark (CC-BY-4.0) at
c039d5ee9f5a3a984a0e167e63aacd04e76e78a9; ``--scrapinghub``: a checkout of
scrapinghub/article-extraction-benchmark (MIT) at 4a3bc979f76c0df73cb95fe272e2fc1b96f9f010
(``ground-truth.json`` and ``html/``), the independent check nothing here is tuned on.
Writes ``<out>/<set>/<id>.html`` and ``<out>/<set>/truths.jsonl`` for the sets
``trafilatura``, ``wcxb_dev``, ``wcxb_test`` and ``scrapinghub`` (default out:
``$INGEST_EXTRACT_DATA`` or ``/work/data/extract``). Reads local files only.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
from pathlib import Path

DEFAULT_OUT = Path("/work/data/extract")


def _write_set(out: Path, rows: list[dict[str, object]], pages: dict[str, bytes]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for page_id, page in pages.items():
        (out / f"{page_id}.html").write_bytes(page)
    with open(out / "truths.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{out}: {len(rows)} pages", flush=True)


def convert_trafilatura(src: Path, out: Path) -> None:
    """tests/evaldata.json: url -> {file, with, without}; the page is in tests/cache/
    (else tests/eval/); id = sha1(url)[:12]."""
    tests = src / "tests"
    entries = json.loads((tests / "evaldata.json").read_text(encoding="utf-8"))
    rows, pages, missing = [], {}, 0
    for url, entry in entries.items():
        for folder in ("cache", "eval"):
            path = tests / folder / entry["file"]
            if path.is_file():
                break
        else:
            missing += 1
            continue
        page_id = hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]
        pages[page_id] = path.read_bytes()
        rows.append({"id": page_id, "url": url, "with": entry["with"], "without": entry["without"]})
    if missing:
        print(f"trafilatura: {missing} entries without a page file (skipped)", file=sys.stderr)
    _write_set(out / "trafilatura", rows, pages)


def convert_wcxb(src: Path, out: Path) -> None:
    """dev/ and test/: html/<id>.html.gz and ground-truth/<id>.json (main_content is the
    full main text; with/without snippets; the primary page type; title, author and
    publish_date, each possibly null)."""
    for split in ("dev", "test"):
        rows, pages = [], {}
        for truth_path in sorted((src / split / "ground-truth").glob("*.json")):
            page_id = truth_path.stem
            html_path = src / split / "html" / f"{page_id}.html.gz"
            if not html_path.is_file():
                continue
            truth = json.loads(truth_path.read_text(encoding="utf-8"))
            ground = truth["ground_truth"]
            pages[page_id] = gzip.decompress(html_path.read_bytes())
            rows.append(
                {
                    "id": page_id,
                    "url": truth.get("url"),
                    "text": ground.get("main_content") or "",
                    "with": ground.get("with") or [],
                    "without": ground.get("without") or [],
                    "page_type": truth.get("_internal", {}).get("page_type", {}).get("primary"),
                    "title": ground.get("title"),
                    "author": ground.get("author"),
                    "published": ground.get("publish_date"),
                }
            )
        _write_set(out / f"wcxb_{split}", rows, pages)


def convert_scrapinghub(src: Path, out: Path) -> None:
    """ground-truth.json: id -> {articleBody, url}; the page is html/<id>.html.gz (UTF-8)."""
    truths = json.loads((src / "ground-truth.json").read_text(encoding="utf-8"))
    rows, pages = [], {}
    for page_id, truth in sorted(truths.items()):
        pages[page_id] = gzip.decompress((src / "html" / f"{page_id}.html.gz").read_bytes())
        rows.append({"id": page_id, "url": truth.get("url"), "text": truth.get("articleBody") or "",
                     "with": [], "without": []})
    _write_set(out / "scrapinghub", rows, pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trafilatura", type=Path, help="checkout of adbar/trafilatura")
    parser.add_argument("--wcxb", type=Path, help="checkout of the WCXB repository")
    parser.add_argument(
        "--scrapinghub", type=Path, help="checkout of scrapinghub/article-extraction-benchmark"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or Path(os.environ.get("INGEST_EXTRACT_DATA") or DEFAULT_OUT)
    if not (args.trafilatura or args.wcxb or args.scrapinghub):
        parser.error("give --trafilatura, --wcxb and/or --scrapinghub")
    if args.trafilatura:
        convert_trafilatura(args.trafilatura, out)
    if args.wcxb:
        convert_wcxb(args.wcxb, out)
    if args.scrapinghub:
        convert_scrapinghub(args.scrapinghub, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
