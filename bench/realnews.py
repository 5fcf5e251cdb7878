"""Real news text nobody on the team wrote, with labels, for ``make eval``.

Two sets (provenance, labelling rules and licences: ``bench/data/realnews/README.md``):

* FOMC statements (shipped in ``bench/data/realnews/``: U.S. government works, public domain):
  the same official statements scraped by two unrelated projects (true copies that differ in
  layout, links and trailers) and 30 years of heavily templated statements (hard negatives:
  consecutive statements differ in a few phrases and figures).
* ECB+ news articles (not shipped: the texts belong to their outlets; read from a local copy
  when ``--realnews-dir`` or ``REALNEWS_DIR`` points at one): wire stories carried by several
  sites (copies), truncated reprints (excerpts), updated or rewritten versions sharing part of
  their sentences (partial overlaps: different articles), different articles on one event and
  on two events of one kind.

Labels: two messages are one article iff they are in one copy group. For ECB+, copy groups
are joined by the excerpt pairs too (a truncated reprint is the same article, as the
generated stream's ``truncate`` kind); partial overlaps are different articles.

Event times: the publication date when the source has one (FOMC: the release date in the
file name, a producer that stamps messages with it); ECB+ has none, so all its articles get
one day (the hardest setting: every pair is inside the dedup window).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.evaluation import BASE_MS, Item

DATA_DIR = Path(__file__).resolve().parent / "data" / "realnews"
FOMC = "fomc_statements.jsonl"
ECBPLUS = "ecbplus.jsonl"
ECBPLUS_PAIRS = "ecbplus_dup_pairs.jsonl"
DAY_MS = 86_400_000
COPY_KINDS = ("copy", "excerpt")


@dataclass(frozen=True, slots=True)
class RealSet:
    """One labelled real-text stream, in arrival order, with its labelled pairs per class."""

    name: str
    items: list[Item]
    pairs: dict[str, list[tuple[str, str]]]  # class -> pairs; copy classes must end merged

    @property
    def copy_pairs(self) -> list[tuple[str, str]]:
        return [p for kind in COPY_KINDS for p in self.pairs.get(kind, [])]


def _rows(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _envelope(row: dict[str, Any]) -> dict[str, str]:
    envelope = {"id": row["id"], "body": row["text"] or row["title"] or ""}
    for name in ("title", "url", "source", "published_at"):
        if row.get(name):
            envelope[name] = row[name]
    return envelope


def _date_ms(value: str | None) -> int | None:
    if not value:
        return None
    day = dt.date.fromisoformat(value[:10])
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return int(midnight.timestamp() * 1000) - BASE_MS


def fomc(path: Path = DATA_DIR / FOMC, *, same_day: bool = False, seed: int = 5) -> RealSet:
    """FOMC statements; ``same_day`` stamps all of them with one day (a stress test: the
    event-time window no longer separates statements weeks apart)."""
    rows = _rows(path)
    items = []
    for number, row in enumerate(rows):
        when = 0 if same_day else (_date_ms(row["published_at"]) or 0)
        items.append(Item(
            id=row["id"], event_time_ms=when + number, envelope=_envelope(row),
            cluster=row["dup_group"], kind="copy" if _copies(rows, row) else "single",
        ))
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for item in items:
        by_cluster[item.cluster].append(item.id)
    copies = [p for ids in by_cluster.values() for p in itertools.combinations(sorted(ids), 2)]
    clusters = sorted(by_cluster)
    distinct = [
        (by_cluster[a][0], by_cluster[b][0]) for a, b in itertools.combinations(clusters, 2)
    ]
    random.Random(seed).shuffle(items)
    return RealSet("fomc-same-day" if same_day else "fomc", items,
                   {"copy": copies, "distinct": distinct})


def _copies(rows: list[dict[str, Any]], row: dict[str, Any]) -> bool:
    return sum(1 for r in rows if r["dup_group"] == row["dup_group"]) > 1


def ecbplus(directory: Path, *, seed: int = 5) -> RealSet | None:
    """ECB+ from a local copy, or None when ``directory`` does not hold it."""
    path, pairs_path = directory / ECBPLUS, directory / ECBPLUS_PAIRS
    if not path.is_file() or not pairs_path.is_file():
        return None
    rows = _rows(path)
    labelled = _rows(pairs_path)
    group_of = {row["id"]: row["dup_group"] for row in rows}
    # copy groups as given, joined where an excerpt pair links two of them
    union: dict[str, str] = {g: g for g in group_of.values()}

    def root(group: str) -> str:
        while union[group] != group:
            union[group] = union[union[group]]
            group = union[group]
        return group

    for pair in labelled:
        if pair["label"] == "excerpt":
            a, b = root(group_of[pair["a"]]), root(group_of[pair["b"]])
            union[max(a, b)] = min(a, b)
    by_group: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_group[root(row["dup_group"])].append(row["id"])
    items = [
        Item(id=row["id"], event_time_ms=number, envelope=_envelope(row),
             cluster=root(row["dup_group"]),
             kind="copy" if len(by_group[root(row["dup_group"])]) > 1 else "single")
        for number, row in enumerate(rows)
    ]
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair in labelled:
        pairs[pair["label"]].append((pair["a"], pair["b"]))
    labelled_ids = {frozenset(p) for ps in pairs.values() for p in ps}
    by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_event[row["group"]].append(row)
    for members in by_event.values():
        for a, b in itertools.combinations(members, 2):
            different = root(a["dup_group"]) != root(b["dup_group"])
            if different and frozenset((a["id"], b["id"])) not in labelled_ids:
                pairs["same_event"].append((a["id"], b["id"]))
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_topic[row["topic"]].append(row)
    for members in by_topic.values():
        for a, b in itertools.combinations(members, 2):
            if a["group"] != b["group"]:
                pairs["same_topic"].append((a["id"], b["id"]))
    random.Random(seed).shuffle(items)
    return RealSet("ecbplus", items, dict(pairs))


def real_sets(directory: Path | None) -> list[RealSet]:
    """FOMC always; ECB+ when ``directory`` holds a local copy."""
    sets = [fomc()]
    if directory is not None and (found := ecbplus(directory)) is not None:
        sets.append(found)
    return sets


def summary(items: Sequence[Item]) -> str:
    clusters = len({i.cluster for i in items})
    return f"{len(items)} messages, {clusters} articles"
