"""Running a labelled stream through the dedup core, and scoring its verdicts.

Shared by the generated evaluation (``bench/corpus.py``), the real-text one
(``bench/realnews.py``) and the parameter sweep. Each message goes through the same code as
in a worker: the stateless step (:func:`streams.core.prepare.prepare_total`) once, then
:class:`streams.core.pipeline.Deduplicator` in arrival order, learned boilerplate included.
The stateless step is run once per stream; a sweep re-runs only the stateful step (and
recomputes profiles when a knob changes them).
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from streams.core.config import CoreConfig
from streams.core.dedup.decide import resolve_root
from streams.core.fingerprint_log import encode_record
from streams.core.pipeline import Deduplicator
from streams.core.prepare import Prepared, Rejected, prepare_total, profile_forms
from streams.core.records import RawMessage

BASE_MS = 1_700_000_000_000


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled message: its envelope, event time and truth."""

    id: str
    event_time_ms: int
    envelope: dict[str, str]
    cluster: str  # messages of one cluster are one article
    kind: str  # class reported per kind


@dataclass(frozen=True, slots=True)
class Run:
    """The final verdict of every message, and what it cost."""

    roots: dict[str, str]  # message id -> kept article of its group (itself when kept)
    rejected: list[str]
    decide_us: float  # mean stateful-step time per message
    entry_bytes: float  # index memory per entry (IndexStats)
    profile_bytes: float  # of which verification profiles
    record_bytes: float  # mean fingerprint-log record size
    profile_record_bytes: float  # of which the version-2 fields
    exact_entries: int  # entries keeping their shingles (short articles)
    corrections: int  # kept verdicts later overturned
    rejections: dict[str, int] = field(default_factory=dict)


def prepare_items(items: Sequence[Item], config: CoreConfig) -> list[Prepared | Rejected]:
    out = []
    for offset, item in enumerate(items):
        raw = RawMessage("eval", 0, offset, None, orjson.dumps(item.envelope),
                         BASE_MS + item.event_time_ms)
        out.append(prepare_total(raw, config))
    return out


def reprofile(
    prepared: Sequence[Prepared | Rejected], config: CoreConfig
) -> list[Prepared | Rejected]:
    """The same messages with profiles computed for ``config`` (exact_below may differ)."""
    return [
        dataclasses.replace(p, profile=profile_forms(p.forms, p.article.language, config))
        if isinstance(p, Prepared) else p
        for p in prepared
    ]


def run(prepared: Sequence[Prepared | Rejected], config: CoreConfig) -> Run:
    """Decide every message in list order (the arrival order) with one worker's state."""
    dedup = Deduplicator(config, worker="eval")
    decide_s = 0.0
    record_bytes: list[int] = []
    v1_bytes: list[int] = []
    corrections = 0
    for now, item in enumerate(prepared):
        started = time.perf_counter()
        outcome = dedup.decide(item, now_ms=BASE_MS + now)
        decide_s += time.perf_counter() - started
        corrections += outcome.corrections
        for r in outcome.log_records[:1]:
            record_bytes.append(len(encode_record(r.entry, r.paragraph_keys, r.worker)))
            bare = dataclasses.replace(r.entry, profile=None, match=None, similarity=None)
            v1_bytes.append(len(encode_record(bare, r.paragraph_keys, r.worker)))
    # The index is keyed by scoped id ("source:id"); the labels by the id as sent.
    id_of = {item.scoped_id: item.id for item in prepared if isinstance(item, Prepared)}
    roots: dict[str, str] = {}
    rejected: list[str] = []
    for item in prepared:
        if isinstance(item, Rejected):
            rejected.append(item.raw.derived_id())
            continue
        entry = dedup.index.get(item.scoped_id)
        root = resolve_root(dedup.index, entry.root) if entry else item.scoped_id
        roots[item.id] = id_of.get(root, root)
    stats = dedup.index.stats()
    exact = sum(
        1 for key in id_of
        if (e := dedup.index.get(key)) and e.profile and e.profile.shingles
    )
    return Run(
        roots=roots, rejected=rejected,
        decide_us=decide_s / max(1, len(prepared)) * 1e6,
        entry_bytes=stats.bytes_per_entry,
        profile_bytes=stats.profile_bytes / max(1, stats.entries),
        record_bytes=statistics.mean(record_bytes) if record_bytes else 0.0,
        profile_record_bytes=(
            statistics.mean(record_bytes) - statistics.mean(v1_bytes) if record_bytes else 0.0
        ),
        exact_entries=exact, corrections=corrections,
    )


@dataclass(frozen=True, slots=True)
class Scores:
    """Message-level precision/recall and per-class results."""

    precision: float
    recall: float
    false_merges: int  # messages whose kept article belongs to another truth cluster
    per_kind: dict[str, float]  # duplicate kinds: merged with their cluster; negatives: kept apart
    counts: dict[str, int]
    merged_pairs: dict[str, tuple[int, int]] = field(default_factory=dict)  # class -> (merged, n)
    false_merge_examples: list[tuple[str, str]] = field(default_factory=list)


def score(
    items: Sequence[Item], roots: Mapping[str, str], duplicate_kinds: Iterable[str],
    labelled_pairs: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> Scores:
    """Scores of the final verdicts against the truth clusters.

    A message is a true duplicate when an earlier message (by event time, then id) of its
    cluster exists. A dropped message is a true positive when its kept article is of its own
    cluster, else a false merge. Per kind: for duplicate kinds, the share of messages in the
    group of their cluster's earliest message; for other kinds, the share kept apart from
    every other cluster. ``labelled_pairs`` adds, per class, how many pairs ended in one group.
    """
    dup_kinds = set(duplicate_kinds)
    by_id = {i.id: i for i in items if i.id in roots}
    earliest: dict[str, tuple[int, str]] = {}
    for i in by_id.values():
        key = (i.event_time_ms, i.id)
        earliest[i.cluster] = min(earliest.get(i.cluster, key), key)
    tp = fp = truth_dups = 0
    examples = []
    for i in by_id.values():
        truth_dups += earliest[i.cluster] != (i.event_time_ms, i.id)
        root = roots[i.id]
        if root != i.id:
            if by_id[root].cluster == i.cluster:
                tp += 1
            else:
                fp += 1
                examples.append((i.id, root))
    clusters_by_root: dict[str, set[str]] = defaultdict(set)
    for i in by_id.values():
        clusters_by_root[roots[i.id]].add(i.cluster)
    hits: dict[str, list[bool]] = defaultdict(list)
    for i in by_id.values():
        if i.kind in dup_kinds:
            first = earliest[i.cluster][1]
            hits[i.kind].append(roots[i.id] == roots[first])
        else:
            hits[i.kind].append(len(clusters_by_root[roots[i.id]]) == 1)
    merged_pairs = {}
    for name, pairs in (labelled_pairs or {}).items():
        present = [(a, b) for a, b in pairs if a in roots and b in roots]
        merged_pairs[name] = (sum(roots[a] == roots[b] for a, b in present), len(present))
    return Scores(
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / truth_dups if truth_dups else 1.0,
        false_merges=fp,
        per_kind={kind: sum(v) / len(v) for kind, v in sorted(hits.items())},
        counts={"messages": len(by_id), "truth_dups": truth_dups, "tp": tp, "fp": fp},
        merged_pairs=merged_pairs,
        false_merge_examples=sorted(examples)[:10],
    )


def cluster_pairs(items: Sequence[Item]) -> list[tuple[str, str]]:
    """Every pair of messages of one truth cluster."""
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for i in items:
        by_cluster[i.cluster].append(i.id)
    return [p for ids in by_cluster.values() for p in itertools.combinations(sorted(ids), 2)]
