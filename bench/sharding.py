"""Simulation of the sharded index (README "Scaling"): memory per shard, Kafka records per article.

    python -m bench.sharding --messages 600 --shards 8 --replicas 2   # JSON on stdout

When one worker cannot hold the window, the fingerprint log's partitions (keyed by article
id) are split into ``shards`` groups; a shard holds only the entries of its partitions,
``replicas`` workers per shard. A decision asks every shard (a probe record carrying the
signature, content hash and id, read by every shard; one answer record from each), and the
decided entry is appended to its own partition of the log, read by that shard's replicas.
Re-rooting (a late, earlier copy) asks every shard again for the old root's members.

Here the shards are in-process :class:`CompactIndex` instances behind one
:class:`ShardedIndex` that counts what would cross Kafka; the corpus runs through
``Deduplicator`` with it and with one unsharded index, and every outcome is compared.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
import xxhash

from bench.backends import outcome_key
from bench.e2e import build_corpus
from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.config import LSHConfig
from streams.core.dedup.index import CandidateFilter, IndexStats
from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.fingerprint_log import encode_record
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage

PARTITIONS = 48  # of ingest.fingerprints; a multiple of every shard count simulated
PROBE_BYTES = 720  # signature 512 B + content hash + id + headers, measured below
ANSWER_BYTES = 80  # "no match" answers dominate; a match adds ~100 B per entry


def partition_of(article_id: str) -> int:
    return xxhash.xxh3_64_intdigest(article_id.encode()) % PARTITIONS


class ShardedIndex:
    """The Index protocol over ``shards`` indexes, counting the records a cluster would send."""

    def __init__(self, lsh: LSHConfig, shards: int) -> None:
        self.shards = [CompactIndex(lsh) for _ in range(shards)]
        self.records: Counter[str] = Counter()
        self.probe_bytes = 0

    def _owner(self, article_id: str) -> CompactIndex:
        return self.shards[partition_of(article_id) % len(self.shards)]

    def __len__(self) -> int:
        return sum(len(s) for s in self.shards)

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and article_id in self._owner(article_id)

    def get(self, article_id: str) -> IndexEntry | None:
        return self._owner(article_id).get(article_id)  # answered with the probe

    def content_hash(self, article_id: str) -> str | None:
        return self._owner(article_id).content_hash(article_id)

    def add(self, entry: IndexEntry) -> None:
        self.records["log"] += 1  # one fingerprint-log record to the owner's partition
        self._owner(entry.id).add(entry)

    def remove(self, article_id: str) -> IndexEntry | None:
        return self._owner(article_id).remove(article_id)

    def by_content_hash(self, content_hash: str) -> list[IndexEntry]:
        # Travels in the same probe as the candidates: no records of its own.
        found = [e for s in self.shards for e in s.by_content_hash(content_hash)]
        return sorted(found, key=lambda e: e.order_key)

    def candidates(
        self, fingerprint: Fingerprint, keep: CandidateFilter | None = None
    ) -> list[IndexEntry]:
        self.records["probe"] += 1
        self.records["answer"] += len(self.shards)
        # The filter travels with the probe: a shard answers only the entries it keeps.
        found = [e for s in self.shards for e in s.candidates(fingerprint, keep)]
        self.records["answer_entries"] += len(found)
        return sorted(found, key=lambda e: e.order_key)

    def lookup(
        self, fingerprint: Fingerprint, keep: CandidateFilter | None = None
    ) -> tuple[list[IndexEntry], list[IndexEntry]]:
        return self.by_content_hash(fingerprint.content_hash), self.candidates(fingerprint, keep)

    def members(self, root: str) -> list[IndexEntry]:
        self.records["members_probe"] += 1
        self.records["answer"] += len(self.shards)
        found = [e for s in self.shards for e in s.members(root)]
        return sorted(found, key=lambda e: e.order_key)

    def expire(self, now_ms: int, window_ms: int) -> list[str]:
        return sorted(i for s in self.shards for i in s.expire(now_ms, window_ms))

    def stats(self) -> IndexStats:
        parts = [s.stats() for s in self.shards]
        return IndexStats(sum(p.entries for p in parts), sum(p.band_keys for p in parts),
                          sum(p.approx_bytes for p in parts))


def simulate(values: Sequence[bytes], shards: int, replicas: int,
             bytes_per_entry: float) -> dict[str, Any]:
    config = CoreConfig()
    raws = [RawMessage("articles.raw", i % 4, i // 4, None, v, 1_700_000_000_000 + i * 997)
            for i, v in enumerate(values)]
    sharded = ShardedIndex(config.dedup.lsh, shards)
    single = Deduplicator(config, worker="w", index=CompactIndex(config.dedup.lsh))
    spread = Deduplicator(config, worker="w", index=sharded)
    identical = True
    articles = 0
    for n, raw in enumerate(raws):
        now = 1_700_100_000_000 + n
        a, b = single.process(raw, now), spread.process(raw, now)
        identical &= outcome_key(a) == outcome_key(b)
        articles += a.verdict != "deadletter"
        if a.log_records:
            probe = encode_record(a.log_records[0].entry, (), "")
            sharded.probe_bytes += len(probe)
    r = sharded.records
    per_article = {
        "probe_produced": r["probe"] / articles,
        "probe_delivered": r["probe"] * shards / articles,
        "answers_produced": r["answer"] / articles,
        "answers_delivered": r["answer"] / articles,
        "members_probes": r["members_probe"] / articles,
        "log_produced": r["log"] / articles,
        "log_delivered": r["log"] * replicas / articles,
    }
    probe_bytes = sharded.probe_bytes / max(1, articles)
    records = sum(per_article.values()) - per_article["members_probes"]
    sizes = [len(s) for s in sharded.shards]
    window = 10_000_000 * 14
    return {
        "messages": len(raws), "articles": articles, "shards": shards, "replicas": replicas,
        "identical_to_unsharded": identical,
        "entries_per_shard": {"min": min(sizes), "max": max(sizes)},
        "records_per_article": {k: round(v, 3) for k, v in per_article.items()},
        "record_transfers_per_article": round(records, 2),
        "probe_bytes": round(probe_bytes),
        "bytes_per_article": round(probe_bytes * (1 + shards) + ANSWER_BYTES * 2 * shards
                                   + probe_bytes * (1 + replicas)),
        "unsharded_bytes_per_article_2_workers": round(probe_bytes * 3),
        "window_10M_per_day_14_days": {
            "entries": window,
            "gb_per_shard": round(window / shards * bytes_per_entry / 1e9, 1),
            "gb_per_worker_unsharded": round(window * bytes_per_entry / 1e9, 1),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--bytes-per-entry", type=float, default=1000.0,
                        help="RSS per indexed article (bench/growth.py) for the projection")
    args = parser.parse_args(argv)
    values = build_corpus(args.messages, seed=7).values
    result = simulate(values, args.shards, args.replicas, args.bytes_per_entry)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0 if result["identical_to_unsharded"] else 1


if __name__ == "__main__":
    sys.exit(main())
