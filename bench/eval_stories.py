"""Story clustering: pairwise precision, recall and F1 on labelled real news, and its cost.

    python -m bench.eval_stories            # every set with its target; exit 1 on a miss
    python -m bench.eval_stories --sweep    # thresholds and weights, one arrival order each

Sets (every message goes through the whole core, ``Deduplicator.process``, in a seeded random
arrival order; a story is the final one after merges):

* ``samples``: the five bundled articles (four outlets on one resignation, 004 a copy of
  001), event times within two hours. Target: one story.
* ``ecbplus``: ECB+ (Cybulska & Vossen 2014): 982 English articles from many outlets on 86
  events, two events of one kind per topic (two rehab admissions, two Paris jewellery
  heists): each event's hard negative. The corpus has no dates; its two halves (ECB, ECB+)
  are years apart, so each half gets its own 48-hour window, 20 days apart. Its texts
  belong to their outlets and are not shipped: the set is read from
  ``$INGEST_EVAL_REALNEWS`` (default ``/work/data/realnews``, see its README) and skipped
  with a note when absent.
* ``fomc``: FOMC statements 1994-2023 (U.S. government works, shipped in
  ``bench/data/fomc_statements.jsonl``), each statement scraped twice by two unrelated
  projects: a story is one statement (its copies), every other statement is a templated
  report that differs in figures and a few phrases, at its release date. Near-duplicate
  verdicts are exact-only here (``fomc-e2e``: today's verdicts).
* ``ecbplus-1window``: ECB+ with both events of every topic in one 48-hour window (a limit
  of text alone, reported, no target).
* ``fnc-1hour`` (reported, no target): FakeNewsCorpus's 250-article sample in one hour
  (:func:`fnc_sample`): pages of one site that share standing paragraphs, one series or
  one topic; precision counts the pairs put in one story that are not the same text.
* ``templates``: templated reports (:mod:`bench.templates`, generated here): 30 earnings
  snapshots of 30 companies in one hour from one source and 10 match reports of one
  afternoon, five of each also carried by a second outlet. Every issue is its own event.
  Before templates were learned (``streams.core.stories.template``) they made one story.

Target: pairwise F1 >= 0.9 on ``ecbplus``, ``fomc`` and ``templates``, the samples in one
story. The
cost is CPU time per article of the whole core on the bench corpus
(``bench/e2e.build_corpus``) with stories and without (``StoryConfig(enabled=False)``),
side by side, median of rounds. Target (issue 16: "throughput cost <= 15 % of the
pipeline"): the throughput with stories at least 0.85 of the throughput without, i.e. the
CPU time without / with >= 0.85, the definition of ``make bench``'s end-to-end row
``stories_on_vs_off`` (the time ratio with / without is printed too; 0.85 of the throughput
is a time ratio of 1 / 0.85 = 1.176).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import itertools
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make ``bench`` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from bench.templates import issues as template_issues
from streams.core.config import CoreConfig
from streams.core.dedup.config import DedupConfig, VerifyConfig
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage
from streams.core.stories.config import StoryConfig

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "streams" / "samples").glob("*.txt"))
FOMC = ROOT / "bench" / "data" / "fomc_statements.jsonl"
REALNEWS = Path(os.environ.get("INGEST_EVAL_REALNEWS", "/work/data/realnews"))
TARGET_F1 = 0.9
# The sets the F1 target applies to. The others are reported to show a limit, not a target:
# ``ecbplus-1window`` (two events of one kind on the same days: only the text can tell them
# apart) and ``fomc-e2e`` (today's near-duplicate verdicts merge templated statements).
TARGET_SETS = ("ecbplus", "fomc", "templates")
TARGET_THROUGHPUT = 0.85  # throughput with / without stories, as in make bench
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
EPOCH_MS = 1_700_000_000_000


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str | None
    text: str
    event_time_ms: int
    label: str  # same label = same event
    topic: str = ""  # same topic, other label = a hard negative
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float
    stories: int
    events: int
    hard_negative_merged: float | None  # share of same-topic, other-event pairs put together

    def row(self, name: str) -> str:
        hard = "-" if self.hard_negative_merged is None else f"{self.hard_negative_merged:.4f}"
        return (f"{name:<16} {self.precision:>9.4f} {self.recall:>7.4f} {self.f1:>7.4f} "
                f"{self.stories:>7} {self.events:>6}  {hard:>10}")


HEADER = (f"{'set':<16} {'precision':>9} {'recall':>7} {'F1':>7} {'stories':>7} "
          f"{'events':>6}  {'hard-neg':>10}")


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(predicted: dict[str, str], articles: Sequence[Article]) -> Scores:
    """Pairwise precision/recall/F1 of a clustering against the labels (counted, not listed)."""
    gold = Counter(a.label for a in articles)
    pred = Counter(predicted[a.id] for a in articles)
    both = Counter((predicted[a.id], a.label) for a in articles)
    tp = sum(_pairs(n) for n in both.values())
    pred_pairs = sum(_pairs(n) for n in pred.values())
    gold_pairs = sum(_pairs(n) for n in gold.values())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    hard = None
    if any(a.topic for a in articles):
        same_topic = Counter(a.topic for a in articles)
        topic_story = Counter((a.topic, predicted[a.id]) for a in articles)
        topic_label_story = both  # labels are unique across topics
        hard_pairs = sum(_pairs(n) for n in same_topic.values()) - gold_pairs
        merged = (sum(_pairs(n) for n in topic_story.values())
                  - sum(_pairs(n) for n in topic_label_story.values()))
        hard = merged / hard_pairs if hard_pairs else 0.0
    return Scores(precision, recall, f1, len(pred), len(gold), hard)


def cluster(
    articles: Sequence[Article], config: CoreConfig, seed: int = 1
) -> tuple[dict[str, str], Deduplicator]:
    """Every article through the core in a seeded random arrival order; final stories."""
    order = list(articles)
    random.Random(seed).shuffle(order)
    dedup = Deduplicator(config, worker="eval")
    assigned: dict[str, str] = {}
    for offset, article in enumerate(order):
        envelope = {"id": article.id, "title": article.title, "body": article.text}
        if article.source is not None:
            envelope["source"] = article.source
        value = orjson.dumps(envelope)
        raw = RawMessage("articles.raw", 0, offset, None, value, article.event_time_ms)
        outcome = dedup.process(raw, now_ms=EPOCH_MS + offset)
        story = outcome.outputs[0].value.get("story_id")
        assigned[article.id] = story if story is not None else f"none:{article.id}"
    return {a: dedup.stories.find(s) for a, s in assigned.items()}, dedup


# -- the sets -----------------------------------------------------------------------------------
def samples() -> list[Article]:
    return [Article(p.stem, None, p.read_text("utf-8"), EPOCH_MS + i * 30 * 60_000, "resignation")
            for i, p in enumerate(SAMPLES)]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def ecbplus(same_window: bool, seed: int = 7) -> list[Article] | None:
    """ECB+ articles with event times in 48-hour windows.

    The corpus has no dates, but its two halves are years apart (ECB's events are from
    2008-09, ECB+'s later): by default each half gets its own window, 20 days apart, so
    43 concurrent events of different kinds share each window. ``same_window`` puts both
    halves in one window: two events of one kind on the same days, only text tells them apart.
    """
    path = REALNEWS / "ecbplus.jsonl"
    if not path.exists():
        return None
    rng = random.Random(seed)
    articles = []
    for r in _jsonl(path):
        base = EPOCH_MS if same_window or r["group"].endswith("/ecb") else EPOCH_MS + 20 * DAY_MS
        articles.append(Article(r["id"], r["title"], r["text"] or r["title"] or "",
                                base + rng.randrange(2 * DAY_MS), r["group"], r["topic"]))
    return articles


def fnc_sample(seed: int = 7) -> list[Article] | None:
    """FakeNewsCorpus's ``news_sample.csv`` (250 real articles of 2017-2018, 155 of them from
    beforeitsnews.com), every one within one hour, each with its domain as source.

    Labelling rule (written before the run, no text similarity): a random sample of 9.4
    million articles holds no two on one event, so every article is its own event, except
    that articles with the same text are one (the scrape kept a sidebar headline as the text
    of a few pages). Not shipped (the texts belong to their outlets; the repository is
    github.com/several27/FakeNewsCorpus, Apache-2.0): read from ``$INGEST_EVAL_REALNEWS``.
    """
    path = REALNEWS / "news_sample.csv"
    if not path.exists():
        return None
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    rng = random.Random(seed)
    return [Article(r["id"], r["title"] or None, r["content"], EPOCH_MS + rng.randrange(HOUR_MS),
                    "text:" + r["content"], "", r["domain"] or None) for r in rows]


def fomc(seed: int = 7) -> list[Article]:
    """Statements at their release dates (plus up to six hours), a story per statement."""
    rng = random.Random(seed)
    articles = []
    for r in _jsonl(FOMC):
        base = int(time.mktime(time.strptime(r["published_at"], "%Y-%m-%d")) * 1000)
        articles.append(Article(r["id"], r["title"], r["text"],
                                base + rng.randrange(6 * HOUR_MS), r["dup_group"]))
    return articles


def templates() -> list[Article]:
    """Templated reports (:mod:`bench.templates`): every issue its own event, the second
    outlet's copies of the first five of each kind the same event as the issue."""
    return [Article(i.id, i.title, i.text, EPOCH_MS + i.offset_ms, i.event, "templates",
                    i.source) for i in template_issues()]


# Near-duplicate verdicts off (exact copies only): a duplicate takes its kept article's story,
# so a false near-duplicate verdict on two templated statements (issue 12) would be scored here
# as a story error. ``fomc-e2e`` keeps today's verdicts to show that effect.
EXACT_ONLY = VerifyConfig(jaccard_threshold=1.0, containment_threshold=1.0,
                          min_shingles_for_containment=10**9)


def sets() -> dict[str, tuple[list[Article] | None, bool]]:
    """Each set, and whether it runs with exact-only duplicate verdicts."""
    return {"samples": (samples(), False), "ecbplus": (ecbplus(False), False),
            "ecbplus-1window": (ecbplus(True), False),
            "fomc": (fomc(), True), "fomc-e2e": (fomc(), False),
            "templates": (templates(), False), "fnc-1hour": (fnc_sample(), False)}


def with_exact_only(config: CoreConfig) -> CoreConfig:
    return dataclasses.replace(config, dedup=DedupConfig(
        minhash=config.dedup.minhash, lsh=config.dedup.lsh, verify=EXACT_ONLY))


# -- cost ---------------------------------------------------------------------------------------
def cost(messages: int, rounds: int) -> dict[str, float]:
    """CPU seconds per article of the whole core with and without stories.

    The two cores decide the same messages side by side, message by message, so the other
    load of a shared machine falls on both alike; the median round is reported.
    """
    from bench.e2e import build_corpus  # noqa: PLC0415 - only this part needs the bench corpus

    values = build_corpus(messages).values
    raws = [RawMessage("articles.raw", i % 4, i // 4, None, v, EPOCH_MS + i * 1_000)
            for i, v in enumerate(values)]
    on, off = CoreConfig(), CoreConfig(stories=StoryConfig(enabled=False))
    Deduplicator(on, worker="warm").process(raws[0], EPOCH_MS)  # models, regexes, stopwords
    clock = time.process_time
    rows = []
    for _ in range(rounds):
        with_stories, without = Deduplicator(on, worker="a"), Deduplicator(off, worker="b")
        spent = [0.0, 0.0]
        pair = (with_stories, without)
        for n, raw in enumerate(raws):
            # Whichever core reads a message first pays for the cold caches (the second
            # finds its text and regex state warm): alternate which one goes first.
            for i in (0, 1) if n % 2 == 0 else (1, 0):
                started = clock()
                pair[i].process(raw, raw.timestamp_ms)
                spent[i] += clock() - started
        rows.append((spent[0] / spent[1], spent[0], spent[1]))
    ratio, spent_with, spent_without = sorted(rows)[len(rows) // 2]
    per_article_ms = 1000 / len(raws)
    return {"with_ms": spent_with * per_article_ms, "without_ms": spent_without * per_article_ms,
            "ratio": ratio, "articles": len(raws)}


# -- reports ------------------------------------------------------------------------------------
def evaluate(
    config: CoreConfig, only: Sequence[str] = (), seeds: Sequence[int] = (1, 2, 3)
) -> dict[str, Scores]:
    """Each set in several arrival orders; the scores of the order with the median F1."""
    results = {}
    for name, (articles, exact_only) in sets().items():
        if articles is not None and (not only or name in only):
            run_config = with_exact_only(config) if exact_only else config
            runs = sorted((pairwise(cluster(articles, run_config, seed)[0], articles)
                           for seed in seeds), key=lambda s: s.f1)
            results[name] = runs[len(runs) // 2]
    return results


def sweep() -> None:
    """Thresholds and weights, one arrival order each (the main run takes the median of 3)."""
    grid: dict[str, Sequence[Any]] = {
        "threshold": (0.12, 0.15, 0.2, 0.3),
        "entity_threshold": (0.1, 0.2, 0.35),
        "entity_weight": (1.0, 1.5, 2.0),
    }
    shown = ("ecbplus", "ecbplus-1window", "fomc", "samples")
    print(f"{'threshold':>9} {'entity':>6} {'weight':>6}  "
          + "  ".join(f"{n + ' F1/P (stories)':>26}" for n in shown))
    names = list(grid)
    for values in itertools.product(*grid.values()):
        stories = dataclasses.replace(StoryConfig(), **dict(zip(names, values, strict=True)))
        results = evaluate(CoreConfig(stories=stories), only=shown, seeds=(1,))
        cells = []
        for name in shown:
            s = results.get(name)
            cells.append(f"{'-':>26}" if s is None else
                         f"{s.f1:>10.4f}/{s.precision:.4f} ({s.stories:>4})")
        print(f"{values[0]:>9} {values[1]:>6} {values[2]:>6}  " + "  ".join(cells), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sweep", action="store_true", help="grid of thresholds and weights")
    parser.add_argument("--cost-messages", type=int, default=600)
    parser.add_argument("--cost-rounds", type=int, default=3)
    parser.add_argument("--no-cost", action="store_true")
    args = parser.parse_args(argv)
    if args.sweep:
        sweep()
        return 0
    config = CoreConfig()
    results = evaluate(config)
    print("stories: pairwise precision / recall / F1 (hard-neg: same-topic other-event pairs "
          "put in one story)")
    print(HEADER)
    for name, scores in results.items():
        print(scores.row(name))
    ok = True
    if "ecbplus" not in results:
        print(f"ecbplus: skipped, {REALNEWS / 'ecbplus.jsonl'} not found "
              "(set INGEST_EVAL_REALNEWS; the texts are not shipped, see the docstring)")
    if results["samples"].stories != 1:
        print("MISS: samples 000-004 are not one story")
        ok = False
    for name, scores in results.items():
        if name in TARGET_SETS and scores.f1 < TARGET_F1:
            print(f"MISS: {name} F1 {scores.f1:.4f} < {TARGET_F1}")
            ok = False
    if not args.no_cost:
        c = cost(args.cost_messages, args.cost_rounds)
        throughput = 1.0 / c["ratio"]
        print(f"cost: {c['with_ms']:.3f} ms/article with stories, {c['without_ms']:.3f} without "
              f"({c['articles']} bench-corpus articles, CPU time, median of {args.cost_rounds}): "
              f"time with / without {c['ratio']:.3f}, throughput with / without "
              f"{throughput:.3f} (target >= {TARGET_THROUGHPUT})")
        if throughput < TARGET_THROUGHPUT:
            print(f"MISS: throughput with / without stories {throughput:.3f} "
                  f"< {TARGET_THROUGHPUT}")
            ok = False
    print("stories: all targets met" if ok else "stories: targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
