"""Page metadata against WCXB's human-reviewed title, author and publication date.

    python -m bench.eval_metadata                     # article pages of wcxb_dev and wcxb_test
    python -m bench.eval_metadata wcxb_test --types all

Data: the sets ``bench.convert_extract`` writes (``truths.jsonl`` rows with ``title``,
``author`` and ``published``; see ``bench.eval_extract`` for where they come from). Reaches
no network.

Two readers on the same bytes: ``ours`` (``normalize_article(..., "text/html")``: the
record's ``title``, ``metadata.authors`` and ``published_at``) and trafilatura's
``extract_metadata`` with its defaults (``title``, ``author``, ``date``).

For each field, over the pages whose truth has a value: *found* is the share where the
reader gives one, *correct* the share where it gives the right one. The rules:

* title: equal after NFKC, typographic quotes and dashes folded to ASCII, case folded,
  whitespace collapsed and trailing punctuation dropped;
* author: the truth's first name (the text before its first ``,``, ``;``, ``&``, ``|`` or
  `` and ``; "Dylan Bailey, MS, RD" -> "Dylan Bailey") equals one of the reader's names,
  folded the same way;
* date: the same calendar day as written (the first 10 characters, ``YYYY-MM-DD``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura

from bench.eval_extract import TYPOGRAPHY, find_sets
from bench.progress import Progress
from streams.core.decoding import decode_bytes
from streams.core.errors import InputError
from streams.core.text.article import normalize_article

SETS = ("wcxb_dev", "wcxb_test")
FIELDS = ("title", "author", "date")

_WS = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s.,;:!?|-]+$")
_NAME_SEPARATORS = re.compile(r"\s*(?:,|;|&|\||\band\b)\s*", re.IGNORECASE)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(TYPOGRAPHY).casefold()
    return _TRAILING.sub("", _WS.sub(" ", text).strip())


def first_name(author: str) -> str:
    return fold(_NAME_SEPARATORS.split(author.strip(), maxsplit=1)[0])


@dataclass(frozen=True, slots=True)
class Reading:
    title: str | None
    authors: tuple[str, ...]
    date: str | None


Reader = Callable[[bytes], Reading]


def read_ours(page: bytes) -> Reading:
    try:
        article = normalize_article(decode_bytes(page).text, content_type="text/html")
    except InputError:
        return Reading(None, (), None)
    return Reading(article.title, article.metadata.authors, article.published_at)


def read_trafilatura(page: bytes) -> Reading:
    try:
        doc = trafilatura.extract_metadata(decode_bytes(page).text)
    except Exception:  # a reader that raises reads nothing
        return Reading(None, (), None)
    authors = tuple(a.strip() for a in (doc.author or "").split(";") if a.strip())
    return Reading(doc.title, authors, doc.date)


def judge(row: Mapping[str, object], reading: Reading) -> dict[str, tuple[bool, bool] | None]:
    """Per field: None when the truth has no value, else (found, correct)."""
    out: dict[str, tuple[bool, bool] | None] = dict.fromkeys(FIELDS)
    title = row.get("title")
    if isinstance(title, str) and title.strip():
        out["title"] = (
            bool(reading.title),
            bool(reading.title) and fold(reading.title or "") == fold(title),
        )
    author = row.get("author")
    if isinstance(author, str) and author.strip():
        names = {fold(a) for a in reading.authors}
        out["author"] = (bool(names), first_name(author) in names)
    published = row.get("published")
    if isinstance(published, str) and published.strip():
        out["date"] = (bool(reading.date), (reading.date or "")[:10] == published.strip()[:10])
    return out


@dataclass(frozen=True, slots=True)
class Score:
    pages: int
    found: float
    correct: float


def evaluate(
    set_dir: Path, rows: Sequence[Mapping[str, object]], readers: dict[str, Reader]
) -> dict[str, tuple[dict[str, Score], float]]:
    """Per reader: per field score, and CPU ms a page."""
    results = {}
    for name, read in readers.items():
        tallies = {f: [0, 0, 0] for f in FIELDS}
        cpu = 0.0
        progress = Progress(f"{set_dir.name} ({name})", len(rows))
        for row in rows:
            page = (set_dir / f"{row['id']}.html").read_bytes()
            start = time.process_time()
            reading = read(page)
            cpu += time.process_time() - start
            for field, verdict in judge(row, reading).items():
                if verdict is not None:
                    tally = tallies[field]
                    tally[0] += 1
                    tally[1] += verdict[0]
                    tally[2] += verdict[1]
            progress.step()
        progress.finish()
        scores = {
            f: Score(t[0], t[1] / t[0] if t[0] else 0.0, t[2] / t[0] if t[0] else 0.0)
            for f, t in tallies.items()
        }
        results[name] = (scores, 1000 * cpu / max(1, len(rows)))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="*", default=list(SETS))
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--types", default="article", help="page types, comma-separated, or all")
    parser.add_argument("--stride", type=int, default=1)
    args = parser.parse_args(argv)
    data, present = find_sets(args.data, args.sets)
    if not present:
        return 0
    types = None if args.types == "all" else set(args.types.split(","))
    readers: dict[str, Reader] = {"ours": read_ours, "trafilatura": read_trafilatura}
    print(
        f"trafilatura {trafilatura.__version__}; data {data}; found / correct where the "
        "truth has a value"
    )
    for name in present:
        with open(data / name / "truths.jsonl", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()][:: args.stride]
        rows = [r for r in rows if types is None or r.get("page_type") in types]
        if "title" not in (rows[0] if rows else {}):
            print(
                f"{name}: no title/author/published in truths.jsonl (rebuild with "
                "bench.convert_extract)"
            )
            continue
        results = evaluate(data / name, rows, readers)
        print(f"\n== {name} ({args.types}): {len(rows)} pages")
        print(f"{'reader':<12}" + "".join(f"{f + ' (n)':>22}" for f in FIELDS) + f"{'cpu ms':>8}")
        for reader, (scores, cpu_ms) in results.items():
            cells = "".join(
                f"{f'{s.found:.3f} / {s.correct:.3f} ({s.pages})':>22}"
                for s in (scores[f] for f in FIELDS)
            )
            print(f"{reader:<12}{cells}{cpu_ms:>8.1f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
