"""What another worker's record costs a worker's replica, with and without log positions.

    python -m bench.replica                      # 1,500 bench messages, replicas 20 behind
    python -m bench.replica --messages 3000 --lag 200 --json

Two :class:`streams.core.pipeline.Deduplicator` (workers A and B, even and odd raw
partitions) decide the ``bench.e2e`` corpus, prepared beforehand, and exchange their records
over a simulated 4-partition fingerprint log; each replica applies the records ``--lag``
messages after they were appended, as a replica a little behind the log does. With
positions, each record carries what its worker's replica had applied and each worker is told
where its kept articles' records landed (as the shell does from the producer's
acknowledgements), so most remote kept articles are not decided again
(:mod:`streams.core.dedup.race_window`); without, every one is, as before. The CPU time of
applying the other worker's records is reported per remote record, A B A B; what both
modes published (verdicts, corrections, story merges) must be equal, and is checked.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import statistics
import sys
import time
import zlib
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from bench import baselines, e2e
from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.fingerprint_log import LogRecord
from streams.core.pipeline import Deduplicator
from streams.core.prepare import Prepared, Rejected, prepare_total
from streams.core.stories.model import StoryUpdate

PARTITIONS = 4
BASE_MS = 1_700_000_000_000


def prepared_corpus(messages: int) -> list[Prepared | Rejected]:
    config = CoreConfig()
    raws = baselines.raw_messages(e2e.build_corpus(messages).values)
    return [prepare_total(raw, config) for raw in raws]


def exchange(items: Sequence[Prepared | Rejected], lag: int, *, positions: bool
             ) -> dict[str, Any]:
    """Both workers over the simulated log; CPU seconds of remote records and a digest of
    everything published."""
    config = CoreConfig()
    workers = {w: Deduplicator(config, worker=w, index=CompactIndex(config.dedup.lsh))
               for w in "AB"}  # the worker's default index
    log: list[list[LogRecord | StoryUpdate]] = [[] for _ in range(PARTITIONS)]
    read = {w: [0] * PARTITIONS for w in "AB"}
    published = hashlib.sha256()
    cpu_s = 0.0
    remote = 0

    def append(worker: str, records: Sequence[LogRecord | StoryUpdate]) -> None:
        for record in records:
            key = record.entry.id if isinstance(record, LogRecord) else record.story
            partition = zlib.crc32(key.encode()) % PARTITIONS
            log[partition].append(record)
            if positions and isinstance(record, LogRecord) and record.entry.is_kept:
                workers[worker].logged(record.entry.id, partition, len(log[partition]) - 1)
            elif positions and isinstance(record, StoryUpdate):
                workers[worker].logged(None, partition, len(log[partition]) - 1)

    def publish(worker: str, outputs: Sequence[Any]) -> None:
        for output in outputs:
            value = {k: v for k, v in output.value.items() if k not in ("decided_at", "timings")}
            published.update(orjson.dumps([worker, output.kind, output.key, value],
                                          option=orjson.OPT_SORT_KEYS))

    def catch_up(worker: str, marks: Sequence[int], now_ms: int) -> None:
        nonlocal cpu_s, remote
        for p in range(PARTITIONS):
            while read[worker][p] < marks[p]:
                record = log[p][read[worker][p]]
                read[worker][p] += 1
                started = time.process_time()
                outcome = workers[worker].on_log_record(record, catching_up=False,
                                                         now_ms=now_ms)
                cpu_s += time.process_time() - started
                remote += isinstance(record, LogRecord) and record.worker != worker
                if outcome is not None:
                    publish(worker, outcome.outputs)
                    append(worker, [*outcome.log_records, *outcome.story_updates])

    marks: deque[list[int]] = deque()
    for i, item in enumerate(items):
        name = "AB"[item.raw.partition % 2]
        outcome = workers[name].decide(item, BASE_MS + i)
        applied = tuple(enumerate(read[name])) if positions else None
        append(name, [dataclasses.replace(r, applied=applied) for r in outcome.log_records])
        append(name, outcome.story_updates)
        publish(name, outcome.outputs)
        marks.append([len(part) for part in log])
        if len(marks) > lag:
            mark = marks.popleft()
            for w in "AB":
                catch_up(w, mark, BASE_MS + i)
    for w in "AB":
        catch_up(w, [len(part) for part in log], BASE_MS + len(items))
    checks = [workers[w].remote_checks for w in "AB"]
    return {"cpu_s": cpu_s, "remote_records": remote, "digest": published.hexdigest(),
            "redecided": sum(c.decided for c in checks),
            "skipped": sum(c.skipped for c in checks)}


def measure(messages: int, lag: int, rounds: int) -> dict[str, Any]:
    items = prepared_corpus(messages)
    runs: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
    for _ in range(rounds):  # A B A B: the host's drift falls on both
        for mode, positions in (("without", False), ("with", True)):
            gc.collect()  # the last run's workers are garbage: not collected in this one
            runs[mode].append(exchange(items, lag, positions=positions))
    per_record = {mode: statistics.median(r["cpu_s"] / max(1, r["remote_records"]) * 1e6
                                          for r in rs) for mode, rs in runs.items()}
    digests = {r["digest"] for rs in runs.values() for r in rs}
    last = runs["with"][-1]
    return {
        "messages": len(items), "lag": lag, "rounds": rounds,
        "remote_records": last["remote_records"],
        "us_per_remote_record_without": round(per_record["without"], 1),
        "us_per_remote_record_with": round(per_record["with"], 1),
        "ratio_with_to_without": round(per_record["with"] / per_record["without"], 3),
        "redecided_with": last["redecided"], "skipped_with": last["skipped"],
        "redecided_without": runs["without"][-1]["redecided"],
        "same_outputs": len(digests) == 1,
    }


def summary_lines(result: dict[str, Any]) -> list[str]:
    return [
        f"replica ({result['messages']} messages, replicas {result['lag']} behind, "
        f"{result['remote_records']} remote records): "
        f"{result['us_per_remote_record_without']} us a remote record re-deciding every kept "
        f"article ({result['redecided_without']}), {result['us_per_remote_record_with']} us "
        f"with log positions ({result['redecided_with']} re-decided, "
        f"{result['skipped_with']} skipped): {result['ratio_with_to_without']}x; "
        f"same outputs: {result['same_outputs']}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--lag", type=int, default=20,
                        help="messages a replica applies records behind (default 20)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.messages, args.lag, args.rounds)
    if args.json:
        print(orjson.dumps(result).decode())
    else:
        print("\n".join(summary_lines(result)))
    # As JSON (for make bench) the result says it; alone, a difference fails the command.
    return 0 if result["same_outputs"] or args.json else 1


if __name__ == "__main__":
    sys.exit(main())
