"""Cost per copy of a story syndicated many times, and the cost of one late earliest copy.

    python -m bench.copies                       # 10, 100, 1,000, 3,000, 10,000 copies
    python -m bench.copies --copies 10,1000 --json

A wire story carried thousands of times in the dedup window is normal news traffic, so the
stateful step must cost the same per copy whatever the size of the copy's group (issue 14).
For each N, one article (``bench.corpus``, ~600 words) and N copies of it go through the
pure core (:class:`streams.core.pipeline.Deduplicator.decide`, prepared beforehand: only the
stateful step is timed, in CPU time): a quarter are exact copies, the others near copies
with a few words replaced in one paragraph, all later than the original by event time. A
small N is repeated on fresh state so every N decides about as many copies. Then one late
copy that is *earliest* by event time arrives: it supersedes the group's kept article, and
its CPU time and the fingerprint-log records it appends are reported (every worker replays
those records).

Copies reuse ``VARIANTS`` prepared variants (each under its own source) so that preparing
10,000 copies does not dominate the run; learned boilerplate is off
(``min_articles`` out of reach) because a variant's edited paragraph, seen again and again
from its source, would otherwise become that source's boilerplate and change what is
measured as N grows.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import orjson

from bench import corpus
from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.index import FingerprintIndex, Index
from streams.core.pipeline import Deduplicator
from streams.core.prepare import Prepared, prepare
from streams.core.records import RawMessage
from streams.core.text.learned import LearnedBoilerplateConfig

BASE_MS = 1_700_000_000_000
VARIANTS = 64
COPIES = (10, 100, 1_000, 3_000, 10_000)
# Copies decided per N (small N are repeated on fresh state); the largest N is run once.
TARGET_DECISIONS = 3_000
TARGET_RATIO = 1.2


def bench_config() -> CoreConfig:
    return CoreConfig(learned=LearnedBoilerplateConfig(min_articles=1 << 30))


def _paragraphs(seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    story = corpus._story(rng, 0)
    return corpus._article(rng, story, 600)


def _edited(paragraphs: list[str], rng: random.Random) -> list[str]:
    """A few words of one paragraph replaced: a near copy (Jaccard ~0.95)."""
    out = list(paragraphs)
    at = rng.randrange(len(out))
    words = out[at].split()
    for _ in range(3):
        words[rng.randrange(len(words))] = rng.choice(corpus.NOUNS)
    out[at] = " ".join(words)
    return out


def _prepare(paragraphs: list[str], article_id: str, source: str, config: CoreConfig
             ) -> Prepared:
    value = orjson.dumps({"id": article_id, "source": source, "body": "\n\n".join(paragraphs)})
    return prepare(RawMessage("articles.raw", 0, 0, None, value, BASE_MS), config)


def variants(config: CoreConfig, count: int = VARIANTS) -> tuple[Prepared, list[Prepared]]:
    """The original, and ``count`` prepared copies: every fourth exact, the rest edited."""
    rng = random.Random(11)
    base = _paragraphs()
    original = _prepare(base, "original", "wire", config)
    copies = [
        _prepare(base if k % 4 == 0 else _edited(base, rng), f"v{k}", f"outlet{k:03d}", config)
        for k in range(count)
    ]
    return original, copies


def as_message(template: Prepared, article_id: str, event_time_ms: int, offset: int
               ) -> Prepared:
    """``template`` as another message: its own id, event time and offset."""
    raw = dataclasses.replace(template.raw, offset=offset, timestamp_ms=event_time_ms)
    return dataclasses.replace(template, raw=raw, id=article_id)


def new_index(config: CoreConfig, backend: str) -> Index:
    if backend == "memory":
        return FingerprintIndex(config.dedup.lsh)
    return CompactIndex(config.dedup.lsh)


def run_story(copies: int, original: Prepared, templates: list[Prepared], config: CoreConfig,
              backend: str = "compact") -> tuple[float, dict[str, Any]]:
    """CPU seconds of deciding the original and ``copies`` copies, then the late copy."""
    dedup = Deduplicator(config, worker="bench", index=new_index(config, backend))
    messages = [as_message(original, "original", BASE_MS + 1_000, 0)]
    messages += [as_message(templates[i % len(templates)], f"copy-{i:05d}",
                            BASE_MS + 2_000 + i, i + 1) for i in range(copies)]
    started = time.process_time()
    for offset, message in enumerate(messages):
        outcome = dedup.decide(message, BASE_MS + offset)
        assert outcome.verdict == ("enriched" if offset == 0 else "duplicate"), outcome.verdict
    elapsed = time.process_time() - started
    late = as_message(templates[1], "late-earliest", BASE_MS, copies + 1)
    started = time.process_time()
    outcome = dedup.decide(late, BASE_MS + copies + 1)
    late_s = time.process_time() - started
    assert outcome.verdict == "enriched", outcome.verdict
    late_row = {"late_ms": round(late_s * 1e3, 2), "late_log_records": len(outcome.log_records),
                "late_outputs": len(outcome.outputs), "late_corrections": outcome.corrections,
                "late_root_changes": outcome.root_changes}
    return elapsed, late_row


def measure(counts: Sequence[int] = COPIES, *, decisions: int = TARGET_DECISIONS,
            backend: str = "compact") -> dict[str, Any]:
    config = bench_config()
    original, templates = variants(config)
    rows = []
    for n in counts:
        repeats = max(1, decisions // (n + 1))
        times, late = [], {}
        for _ in range(repeats):
            elapsed, late = run_story(n, original, templates, config, backend)
            times.append(elapsed / (n + 1))
        row = {"copies": n, "backend": backend, "repeats": repeats,
               "ms_per_copy": round(statistics.median(times) * 1e3, 3),
               "ms_per_copy_best": round(min(times) * 1e3, 3), **late}
        print(f"copies: {row}", file=sys.stderr, flush=True)
        rows.append(row)
    by_n = {r["copies"]: r for r in rows}
    small, large = by_n.get(min(by_n)), by_n.get(max(by_n))
    ratio = (round(large["ms_per_copy"] / small["ms_per_copy"], 3)
             if small and large and small is not large else None)
    return {"rows": rows, "ratio_largest_to_smallest": ratio,
            "smallest": min(by_n), "largest": max(by_n),
            "late_log_records": large["late_log_records"] if large else None}


def summary_lines(result: dict[str, Any]) -> list[str]:
    lines = ["| copies | ms per copy (median) | best | late earliest copy ms | its log records "
             "| its outputs |", "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        lines.append(f"| {r['copies']:,} | {r['ms_per_copy']:.3f} | {r['ms_per_copy_best']:.3f} "
                     f"| {r['late_ms']:,.1f} | {r['late_log_records']:,} | {r['late_outputs']:,} |")
    lines.append(copies_line(result))
    lines.append(records_line(result))
    return lines


def copies_line(result: dict[str, Any]) -> str:
    ratio = result["ratio_largest_to_smallest"]
    shown = "-" if ratio is None else f"{ratio:.2f}"
    verdict = "-" if ratio is None else ("met" if ratio <= TARGET_RATIO else "missed")
    return (f"copies: {result['largest']:,} vs {result['smallest']:,} per copy = {shown} "
            f"(target <= {TARGET_RATIO}: {verdict})")


def records_line(result: dict[str, Any]) -> str:
    """O(1): the late copy appends as many records whatever the size of the group."""
    counts = {r["late_log_records"] for r in result["rows"]}
    verdict = "met" if len(counts) == 1 else f"missed: {sorted(counts)} across sizes"
    return f"re-root records: {result['late_log_records']} (target O(1): {verdict})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", default=",".join(map(str, COPIES)))
    parser.add_argument("--decisions", type=int, default=TARGET_DECISIONS,
                        help="copies decided per N (small N repeated on fresh state)")
    parser.add_argument("--backend", choices=("compact", "memory"), default="compact",
                        help="index backend (the worker's default: compact)")
    parser.add_argument("--json", action="store_true", help="one JSON line on stdout")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.copies.split(",") if c]
    result = measure(counts, decisions=args.decisions, backend=args.backend)
    if args.json:
        print(orjson.dumps(result).decode())
    else:
        print("\n".join(summary_lines(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
