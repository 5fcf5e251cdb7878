"""Cost per copy of a story syndicated many times, and the cost of one late earliest copy.

    python -m bench.copies                       # 10, 100, 1,000, 3,000, 10,000 copies
    python -m bench.copies --copies 10,1000 --json

A wire story carried thousands of times in the dedup window is normal news traffic, so the
stateful step must cost the same per copy whatever the size of the copy's group (issue 14).
For each N, one article (``bench.corpus``, ~600 words) and N copies of it go through the
pure core (:class:`streams.core.pipeline.Deduplicator.decide`, prepared beforehand: only the
stateful step is timed, in CPU time): a quarter are exact copies, the others near copies
with a few words replaced in one paragraph, all later than the original by event time. The
smallest N is repeated on fresh state; a larger N's story is decided in chunks, each paired
with as many decisions of the smallest N's stories, and the ratio of the two is taken per
chunk (the median is reported; the pooled ratio too), so the load of this shared machine
falls on both. Then one late copy that is *earliest* by event time arrives: it supersedes
the group's kept article, and its CPU time and the fingerprint-log records it appends are
reported (every worker replays those records).

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
# Decisions of the smallest N's stories (repeated on fresh state) for its own row.
TARGET_DECISIONS = 3_000
# Chunks each larger story is decided in, each paired with the smallest N's stories.
CHUNKS = 20
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


class Story:
    """One story on fresh state, decided a chunk at a time (CPU seconds per chunk)."""

    def __init__(self, copies: int, original: Prepared, templates: list[Prepared],
                 config: CoreConfig, backend: str) -> None:
        self.copies = copies
        self.templates = templates
        self.dedup = Deduplicator(config, worker="bench", index=new_index(config, backend))
        self.messages = [as_message(original, "original", BASE_MS + 1_000, 0)]
        self.messages += [as_message(templates[i % len(templates)], f"copy-{i:05d}",
                                     BASE_MS + 2_000 + i, i + 1) for i in range(copies)]
        self.done = 0

    def decide(self, count: int) -> float:
        chunk = self.messages[self.done:self.done + count]
        started = time.process_time()
        for message in chunk:
            outcome = self.dedup.decide(message, BASE_MS + self.done)
            assert outcome.verdict == ("enriched" if self.done == 0 else "duplicate")
            self.done += 1
        return time.process_time() - started

    def late_copy(self) -> dict[str, Any]:
        """The late copy that is earliest by event time: its CPU time and what it appends."""
        late = as_message(self.templates[1], "late-earliest", BASE_MS, self.copies + 1)
        started = time.process_time()
        outcome = self.dedup.decide(late, BASE_MS + self.copies + 1)
        late_s = time.process_time() - started
        assert outcome.verdict == "enriched", outcome.verdict
        return {"late_ms": round(late_s * 1e3, 2), "late_log_records": len(outcome.log_records),
                "late_outputs": len(outcome.outputs), "late_corrections": outcome.corrections,
                "late_root_changes": outcome.root_changes}


def run_story(copies: int, original: Prepared, templates: list[Prepared], config: CoreConfig,
              backend: str = "compact") -> tuple[float, dict[str, Any]]:
    """CPU seconds of deciding the original and ``copies`` copies, then the late copy."""
    story = Story(copies, original, templates, config, backend)
    elapsed = story.decide(copies + 1)
    return elapsed, story.late_copy()


def measure(counts: Sequence[int] = COPIES, *, decisions: int = TARGET_DECISIONS,
            backend: str = "compact", chunks: int = CHUNKS) -> dict[str, Any]:
    """Per N: CPU ms per copy, and its ratio to the smallest N's, paired in time.

    The smallest N's stories are decided on fresh state until ``decisions`` decisions. A
    larger N's story is decided in ``chunks`` chunks, each followed by as many decisions of
    the smallest N's stories; a row's ratio is the median over its chunks of the chunk's
    cost per copy over theirs, so background load on this shared machine hits both sides.
    """
    config = bench_config()
    original, templates = variants(config)
    smallest = min(counts)

    def baseline(count: int) -> tuple[float, int, dict[str, Any]]:
        spent, done, late = 0.0, 0, {}
        while done < count:
            elapsed, late = run_story(smallest, original, templates, config, backend)
            spent, done = spent + elapsed, done + smallest + 1
        return spent, done, late

    rows = []
    for n in sorted(counts):
        if n == smallest:
            spent, done, late = baseline(max(decisions, n + 1))
            row = {"copies": n, "ms_per_copy": spent / done, "ratio_to_smallest": 1.0,
                   "ratio_pooled": 1.0, **late}
        else:
            story = Story(n, original, templates, config, backend)
            size = -(-(n + 1) // chunks)
            ratios, spent, base_total, base_count = [], 0.0, 0.0, 0
            while story.done < n + 1:
                count = min(size, n + 1 - story.done)
                elapsed = story.decide(count)
                base_s, base_n, _ = baseline(count)
                spent, base_total, base_count = spent + elapsed, base_total + base_s, \
                    base_count + base_n
                ratios.append((elapsed / count) / (base_s / base_n))
            row = {"copies": n, "ms_per_copy": spent / (n + 1),
                   "ratio_to_smallest": statistics.median(ratios),
                   "ratio_pooled": round(spent / (n + 1) / (base_total / base_count), 3),
                   **story.late_copy()}
        row["ms_per_copy"] = round(row["ms_per_copy"] * 1e3, 3)
        row["ratio_to_smallest"] = round(row["ratio_to_smallest"], 3)
        row["backend"] = backend
        print(f"copies: {row}", file=sys.stderr, flush=True)
        rows.append(row)
    large = rows[-1]
    return {"rows": rows,
            "ratio_largest_to_smallest": large["ratio_to_smallest"] if len(rows) > 1 else None,
            "smallest": smallest, "largest": large["copies"],
            "late_log_records": large["late_log_records"]}


def summary_lines(result: dict[str, Any]) -> list[str]:
    lines = ["| copies | ms per copy | to the smallest: median / pooled | late earliest copy ms "
             "| its log records | its outputs |", "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        lines.append(f"| {r['copies']:,} | {r['ms_per_copy']:.3f} | {r['ratio_to_smallest']:.2f} "
                     f"/ {r['ratio_pooled']:.2f} | {r['late_ms']:,.1f} | "
                     f"{r['late_log_records']:,} | {r['late_outputs']:,} |")
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
                        help="decisions of the smallest N's stories for its own row")
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
