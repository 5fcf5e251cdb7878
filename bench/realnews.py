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

Labels: two messages are one article iff they are in one copy group (FOMC: the same official
document; ECB+: see :func:`ecbplus` for the pair classes and which of them are undecided).

Event times: the publication date when the source has one (FOMC: the release date in the
file name, a producer that stamps messages with it); ECB+ has none, so all its articles get
one day (the hardest setting: every pair is inside the dedup window).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter, defaultdict
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
COPY_CLASSES = ("copy",)  # pairs that must end merged
UNDECIDED_CLASSES = ("excerpt", "undecided")  # reported, no target


@dataclass(frozen=True, slots=True)
class RealSet:
    """One labelled real-text stream, in arrival order, with its labelled pairs per class."""

    name: str
    items: list[Item]
    pairs: dict[str, list[tuple[str, str]]]  # class -> pairs; copy classes must end merged
    # Message-level recall is meaningful when truth clusters are exactly the copy groups;
    # ECB+'s also hold undecided pairs (a merge of them is no error, a miss no miss).
    message_recall: bool = True



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
    """ECB+ from a local copy, or None when ``directory`` does not hold it.

    Pair classes, from the copy file's sentence alignment (the shorter article's content
    sentences that the longer one matches at difflib ratio >= 0.9):

    * ``copy``: >= 80 % matched, >= 3 sentences, lengths within 0.6x: the same article;
    * ``excerpt``: >= 80 % matched, >= 3 sentences, one much shorter: a truncated reprint
      (reported; one of the two policies the labels leave open);
    * ``undecided``: 50-80 % matched, or a text under 3 sentences: versions of one wire story
      (a story and its update, a short and a long cut) that the alignment cannot call one
      article or two (reported, no target);
    * ``partial``: under 50 % matched (one reuses less than half of the other),
      ``same_event`` (one event, not scored by the alignment: under 20 % of shared
      5-shingles) and ``same_topic`` (two events of one kind): different articles.
    """
    path, pairs_path = directory / ECBPLUS, directory / ECBPLUS_PAIRS
    if not path.is_file() or not pairs_path.is_file():
        return None
    rows = _rows(path)
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair in _rows(pairs_path):
        pairs[_ecbplus_class(pair)].append((pair["a"], pair["b"]))
    # truth clusters: copy groups joined by every pair a merge of which is no error
    cluster = _components([row["id"] for row in rows],
                          [p for name in ("copy", "excerpt", "undecided") for p in pairs[name]])
    copies = _components([row["id"] for row in rows], pairs["copy"])
    group_size = Counter(copies.values())
    items = [
        Item(id=row["id"], event_time_ms=number, envelope=_envelope(row),
             cluster=cluster[row["id"]],
             kind="copy" if group_size[copies[row["id"]]] > 1 else "single")
        for number, row in enumerate(rows)
    ]
    scored = {frozenset(p) for ps in pairs.values() for p in ps}
    for key, name in (("group", "same_event"), ("topic", "same_topic")):
        members: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            members[row[key]].append(row)
        for group in members.values():
            for a, b in itertools.combinations(group, 2):
                pair = (a["id"], b["id"])
                if frozenset(pair) in scored or cluster[a["id"]] == cluster[b["id"]]:
                    continue
                if name == "same_topic" and a["group"] == b["group"]:
                    continue
                pairs[name].append(pair)
                scored.add(frozenset(pair))
    random.Random(seed).shuffle(items)
    return RealSet("ecbplus", items, dict(pairs), message_recall=False)


UNDECIDED_FROM = 0.5


def _ecbplus_class(pair: dict[str, Any]) -> str:
    label = pair["label"]
    if label in ("copy", "excerpt"):
        return str(label)
    if pair["shorter_sent_match_frac"] >= UNDECIDED_FROM or pair["shorter_content_sents"] < 3:
        return "undecided"
    return "partial"


def _components(ids: list[str], pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Connected components: id -> the smallest id of its component."""
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return {i: find(i) for i in ids}


def real_sets(directory: Path | None) -> list[RealSet]:
    """FOMC always; ECB+ when ``directory`` holds a local copy."""
    sets = [fomc()]
    if directory is not None and (found := ecbplus(directory)) is not None:
        sets.append(found)
    return sets


def summary(items: Sequence[Item]) -> str:
    clusters = len({i.cluster for i in items})
    return f"{len(items)} messages, {clusters} articles"
