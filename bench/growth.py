"""Cost per article and memory per fingerprint when the index already holds many articles.

    python -m bench.growth --sizes 10000,100000,1000000 --messages 300   # JSON on stdout
    python -m bench.growth --backend memory --sizes 10000,100000          # the dict backend
    python -m bench.growth --sizes 1000000 --restart                      # + snapshot restart
    python -m bench.growth --sizes 1000000 --no-spill                     # rows on the heap
    python -m bench.growth --sizes 1000000 --texts DIR/ecbplus.jsonl      # real news profiles

With ``--restart`` the largest index is written as a snapshot (``streams.shell.snapshot``)
and loaded back: write time, load time (what a restarted worker spends before reading the
log since the snapshot), files' size, and a check that the loaded index decides the
corpus exactly as the one that was written.

The index is filled with synthetic :class:`IndexEntry` values (random signatures, 25 % of
them duplicates pointing at a kept entry), built directly rather than by normalizing a
million articles. Each carries the verification profile of a corpus article (cycled), and
each duplicate its match and similarity, so a row holds what a worker's rows hold; the
compact index spills their cold bytes to files in a temporary directory, as a worker does
by default (``INGEST_INDEX_SPILL``), unless ``--no-spill``. Then corpus articles are
decided against it: the whole core (``Deduplicator.process``) and the decision alone
(``decide`` + ``apply_decision`` on prepared fingerprints), best of 5 interleaved rounds of
CPU time; each round's articles
are removed again. Memory per entry is the RSS delta of filling that size's index.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import xxhash

from bench.e2e import build_corpus
from bench.procfs import status_kb
from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.decide import apply_decision, decide
from streams.core.dedup.index import FingerprintIndex, Index
from streams.core.dedup.model import Fingerprint, IndexEntry, Profile
from streams.core.fingerprint_log import encode_record
from streams.core.pipeline import Deduplicator
from streams.core.prepare import Prepared, prepare
from streams.core.records import RawMessage
from streams.core.stories.state import StoryState
from streams.core.text.learned import ParagraphStats
from streams.kafka.process import keep_freed_memory_off_the_heap
from streams.shell.snapshot import SnapshotStore
from streams.shell.spill_files import file_spill

BASE_MS = 1_700_000_000_000
CHUNK = 10_000


def synthetic_entries(count: int, num_perm: int, seed: int = 11,
                      profiles: Sequence[Profile] = ()) -> Iterator[IndexEntry]:
    """``count`` entries with random signatures; every fourth is a duplicate of its neighbour.

    With ``profiles``, entry ``i`` carries ``profiles[i % len(profiles)]`` (as indexed:
    :meth:`Profile.for_index`) and a duplicate its match and similarity.
    """
    rng = np.random.default_rng(seed)
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        signatures = rng.integers(0, 2**32, size=(n, num_perm), dtype=np.uint32)
        shingles = rng.integers(150, 1500, size=n)
        for j in range(n):
            i = start + j
            article_id = f"synthetic-{i:09d}"
            root = f"synthetic-{i - 1:09d}" if i % 4 == 3 else article_id
            signature = signatures[j].copy()  # an owning array, as decode_record makes
            duplicate = root != article_id
            yield IndexEntry(
                id=article_id,
                event_time_ms=BASE_MS + i,
                fingerprint=Fingerprint(xxhash.xxh3_128_hexdigest(signature.tobytes()),
                                        signature, int(shingles[j])),
                root=root,
                source="The Northern Ledger",
                seen_at_ms=BASE_MS + i,
                origin=f"articles.raw/{i % 4}/{i // 4}",
                profile=profiles[i % len(profiles)] if profiles else None,
                match="near" if duplicate and profiles else None,
                similarity=0.91 if duplicate and profiles else None,
            )


def rss_bytes() -> int:
    gc.collect()
    return status_kb("self", "VmRSS") * 1024


def new_index(config: CoreConfig, backend: str, spill_dir: str | None = None) -> Index:
    if backend == "memory":
        return FingerprintIndex(config.dedup.lsh)
    spill = file_spill(Path(spill_dir)) if spill_dir is not None else None
    return CompactIndex(config.dedup.lsh, spill=spill)


def measure(sizes: Sequence[int], values: Sequence[bytes], rounds: int = 5, *,
            stats_limit: int = 200_000, backend: str = "memory",
            restart_dir: str | None = None, spill_dir: str | None = None,
            ) -> list[dict[str, Any]]:
    """One index per size; then rounds that visit every size in turn.

    Interleaving the rounds exposes every size to the same background load (this machine
    is shared), and ``ratio_to_smallest`` compares sizes within a round.
    """
    config = CoreConfig()
    start_ms = BASE_MS + max(sizes) + 1
    raws = [RawMessage("articles.raw", i % 4, i // 4, None, v, start_ms + i)
            for i, v in enumerate(values)]
    prepared = [prepare(r, config) for r in raws]  # also warms caches up
    exact_below = config.dedup.verify.exact_below_shingles
    profiles = [p.profile.for_index(exact_below) for p in prepared if p.profile is not None]
    indexes: dict[int, Index] = {}
    rows: dict[int, dict[str, Any]] = {}
    for size in sorted(sizes):
        before = rss_bytes()
        started = time.perf_counter()
        index = new_index(config, backend, spill_dir)
        for entry in synthetic_entries(size, config.dedup.minhash.num_perm,
                                       profiles=profiles):
            index.add(entry)
        fill_s = time.perf_counter() - started
        # stats() walks every band key of the dict backend: tens of seconds at millions
        stats = index.stats() if size <= stats_limit or backend == "compact" else None
        approx = stats.bytes_per_entry if stats is not None else None
        indexes[size] = index
        rows[size] = {"entries": size, "backend": backend, "articles": len(raws),
                      "rounds": rounds,
                      "fill_s": round(fill_s, 1),
                      "rss_bytes_per_entry": round((rss_bytes() - before) / size, 1),
                      "approx_bytes_per_entry": round(approx, 1) if approx else None,
                      "spill": spill_dir is not None,
                      "spilled_bytes_per_entry": (round(stats.spilled_bytes / size, 1)
                                                  if stats is not None else None)}
    process_us: dict[int, list[float]] = {size: [] for size in indexes}
    decide_us: dict[int, list[float]] = {size: [] for size in indexes}
    for _ in range(rounds):
        for size, index in indexes.items():
            dedup = Deduplicator(config, worker="growth", index=index)
            started = time.process_time()
            outcomes = [dedup.process(raw, raw.timestamp_ms) for raw in raws]
            process_us[size].append((time.process_time() - started) / len(raws) * 1e6)
            _remove(index, [r.entry.id for o in outcomes for r in o.log_records])
            started = time.process_time()
            for p in prepared:
                _decide_and_apply(index, p, config)
            decide_us[size].append((time.process_time() - started) / len(prepared) * 1e6)
            _remove(index, [p.id for p in prepared])
    smallest = min(indexes)
    for size, row in rows.items():
        per_round = [a / b for a, b in zip(process_us[size], process_us[smallest], strict=True)]
        row.update(
            process_us=round(min(process_us[size]), 1),
            process_us_median=round(statistics.median(process_us[size]), 1),
            decide_apply_us=round(min(decide_us[size]), 2),
            decide_apply_us_median=round(statistics.median(decide_us[size]), 2),
            process_ratio_to_smallest_median=round(statistics.median(per_round), 3),
        )
        print(f"growth: {row}", file=sys.stderr, flush=True)
    if restart_dir is not None and backend == "compact":
        largest = max(indexes)
        rows[largest]["restart"] = restart(indexes[largest], prepared, config, restart_dir,
                                           spill_dir)
        print(f"growth: restart {rows[largest]['restart']}", file=sys.stderr, flush=True)
    return [rows[size] for size in sorted(rows)]


def restart(index: Index, prepared: Sequence[Prepared], config: CoreConfig,
            directory: str, spill_dir: str | None = None) -> dict[str, Any]:
    """Snapshot ``index``, load it back (into a spill when ``spill_dir``), and compare the
    two on the prepared articles."""
    assert isinstance(index, CompactIndex)
    spill = (lambda: file_spill(Path(spill_dir))) if spill_dir is not None else None
    store = SnapshotStore(Path(directory), config, "ingest.fingerprints", spill=spill)
    started = time.perf_counter()
    stories = StoryState(config.stories, window_ms=config.window_ms)  # empty: the index alone
    path = store.save(index, ParagraphStats(config.learned), {0: 0}, created_ms=BASE_MS,
                      stories=stories)
    write_s = time.perf_counter() - started
    size = sum(f.stat().st_size for f in path.iterdir())
    before = rss_bytes()
    started = time.perf_counter()
    snapshot = store.load()
    load_s = time.perf_counter() - started
    loaded_rss = rss_bytes() - before
    same = True
    for p in prepared:
        a = decide(p.fingerprint, p.event_time_ms, p.id, index, config.dedup)
        b = decide(p.fingerprint, p.event_time_ms, p.id, snapshot.index, config.dedup)
        same &= a == b
        for target, d in ((index, a), (snapshot.index, b)):
            changed = apply_decision(target, p.fingerprint, p.event_time_ms, p.id, d,
                                     now_ms=p.event_time_ms, source=p.metadata.source)
            del changed
        same &= encode_record(index.get(p.id), (), "") == encode_record(  # type: ignore[arg-type]
            snapshot.index.get(p.id), (), "")  # type: ignore[arg-type]
    return {"entries": len(index), "write_s": round(write_s, 2), "load_s": round(load_s, 2),
            "snapshot_bytes_per_entry": round(size / max(1, len(index)), 1),
            "loaded_rss_bytes_per_entry": round(loaded_rss / max(1, len(index)), 1),
            "same_decisions": same}


def _decide_and_apply(index: Index, p: Prepared, config: CoreConfig) -> None:
    decision = decide(p.fingerprint, p.event_time_ms, p.id, index, config.dedup)
    apply_decision(index, p.fingerprint, p.event_time_ms, p.id, decision,
                   now_ms=p.event_time_ms, source=p.metadata.source)


def _remove(index: Index, ids: list[str]) -> None:
    for article_id in ids:
        index.remove(article_id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=("compact", "memory"), default="compact")
    parser.add_argument("--restart", action="store_true",
                        help="snapshot the largest index and time loading it back")
    parser.add_argument("--no-spill", dest="spill", action="store_false",
                        help="keep the compact index's rows whole on the heap")
    parser.add_argument("--texts", type=Path, default=None,
                        help="JSON lines with a 'text' field (e.g. ecbplus.jsonl of "
                             "bench.convert_ecbplus): the articles decided, whose profiles the "
                             "rows carry, instead of --messages generated ones")
    args = parser.parse_args(argv)
    keep_freed_memory_off_the_heap()  # as the worker does (streams.shell.worker)
    if hasattr(os, "sched_setaffinity"):  # one core, like one worker's hot loop
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    if args.texts is not None:
        values = [orjson.loads(line)["text"].encode()
                  for line in args.texts.read_bytes().splitlines() if line.strip()]
    else:
        values = build_corpus(args.messages, seed=args.seed).values
    sizes = [int(size) for size in args.sizes.split(",")]
    with contextlib.ExitStack() as stack:
        spill_dir = (stack.enter_context(tempfile.TemporaryDirectory(prefix="growth-spill-"))
                     if args.spill and args.backend == "compact" else None)
        restart_dir = (stack.enter_context(tempfile.TemporaryDirectory(prefix="growth-restart-"))
                       if args.restart else None)
        result = measure(sizes, values, args.rounds, backend=args.backend,
                         restart_dir=restart_dir, spill_dir=spill_dir)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
