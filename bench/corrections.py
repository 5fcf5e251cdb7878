"""Corrections in a backlog replay: 4 partitions, 2 workers, a labelled stream (issue 12).

    python -m bench.corrections [--hold-ms 0 250] [--timestamps random append] [--small]

For each hold and timestamp mode, a fresh embedded broker gets the whole labelled stream
(``bench.corpus``: the evaluation's stream, or with ``--small`` the distributed test's) on a
4-partition raw topic, produced before the workers start (a backlog); then two worker
processes replay it. Reported:

* corrections: messages first published as kept and later corrected (an enriched record and
  a duplicates record with ``"supersedes": "kept"`` for one id), as a share of messages;
* the final verdicts' precision/recall against the labels (corrections applied);
* the replay's wall time (first to last verdict) and end-to-end latency (verdict record time
  minus raw message time is dominated by queueing in a backlog, so the per-batch cost of the
  hold shows in the wall time).

Timestamps: ``random`` stamps each message with the stream's own event time (random with
respect to arrival: the hardest case, as the distributed test does); ``append`` stamps them in
produce order, what a raw topic with ``LogAppendTime`` gives on real Kafka.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bench.corpus import Message, arrival_order, generate
from bench.e2e import (
    PARTITIONS,
    WORKER,
    OutRecord,
    Proc,
    count_verdicts,
    fresh_broker,
    produce_paced,
    read_outputs,
    stop_all,
    wait_ready,
    worker_env,
)
from streams.kafka.broker import free_port
from streams.kafka.clients import make_producer

BASE_MS = 1_700_000_000_000


def stream(small: bool) -> list[Message]:
    if small:
        return arrival_order(generate(seed=7, stories=8, per_story=2), seed=11)
    return arrival_order(generate(), seed=7)


def envelope(message: Message) -> bytes:
    value = {"id": message.id, "body": message.body}
    if message.content_type:
        value["content_type"] = message.content_type
    if message.source:
        value["source"] = message.source
    return orjson.dumps(value)


def produce(settings: Any, messages: Sequence[Message], timestamps: str) -> None:
    producer = make_producer(settings, linger_ms=20, batch_size=512 * 1024)
    try:
        futures = []
        for i, message in enumerate(messages):
            ts = BASE_MS + (message.event_time_ms if timestamps == "random" else 10 * i)
            futures.append(producer.send(settings.topic_raw, value=envelope(message),
                                         partition=i % PARTITIONS, timestamp_ms=ts))
        producer.flush(timeout=120)
        for future in futures:
            future.get(timeout=60)
    finally:
        producer.close(timeout=10)


def replay(messages: list[Message], hold_ms: int, timestamps: str, workdir: Path,
           rate: float = 0.0) -> dict[str, Any]:
    """A backlog replay, or with ``rate`` a live run: workers up first, messages paced."""
    run = f"corr-{hold_ms}-{timestamps}-{int(rate)}"
    with fresh_broker(workdir, run) as (_, settings):
        if not rate:
            produce(settings, messages, timestamps)
        procs = []
        for number in range(2):
            port = free_port()
            env = worker_env(settings.kafka_bootstrap_servers, run, f"{run}-w{number}",
                             web_port=port, data_dir=workdir / f"{run}-w{number}")
            env["INGEST_VERDICT_HOLD_MS"] = str(hold_ms)
            procs.append(Proc(f"w{number}", WORKER, env, workdir / f"{run}-w{number}.log",
                              web_port=port).start())
        try:
            wait_ready(procs)
            if rate:
                produce_paced(settings, [envelope(m) for m in messages], rate,
                              settings.topic_raw)
            topics = list(settings.output_topics)
            records = read_outputs(settings, topics, len(messages), count_verdicts,
                                   timeout_s=600, idle_s=5.0)
        finally:
            for proc in procs:
                proc.stop()
    result = summarize(messages, records, hold_ms, "live" if rate else timestamps)
    if rate:
        result.update(latency_ms(records), rate=rate)
    return result


def latency_ms(records: list[OutRecord]) -> dict[str, float]:
    """End-to-end latency of the verdict records: output time minus raw message time."""
    raw_times = []
    for record in records:
        value = orjson.loads(record.value)
        if value.get("supersedes") or "received_at" not in value:
            continue
        received = datetime.fromisoformat(value["received_at"]).timestamp() * 1000
        raw_times.append(record.timestamp_ms - received)
    raw_times.sort()
    pick = lambda q: raw_times[min(len(raw_times) - 1, int(q * len(raw_times)))]  # noqa: E731
    return {"p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def summarize(messages: list[Message], records: list[OutRecord], hold_ms: int,
              timestamps: str) -> dict[str, Any]:
    enriched: set[str] = set()
    corrected: set[str] = set()
    dropped: set[str] = set()
    roots: dict[str, str] = {}
    stamps = []
    for record in sorted(records, key=lambda r: r.timestamp_ms):
        value = orjson.loads(record.value)
        stamps.append(record.timestamp_ms)
        if record.topic.endswith("enriched"):
            enriched.add(value["id"])
        elif record.topic.endswith("duplicates"):
            dropped.add(value["id"])
            roots[value["id"]] = value["duplicate_of"]
            if value.get("supersedes") == "kept":
                corrected.add(value["id"])
    first_kept_then_corrected = enriched & corrected
    cluster = {m.id: m.cluster for m in messages}
    earliest: dict[str, tuple[int, str]] = {}
    for m in messages:
        earliest[m.cluster] = min(earliest.get(m.cluster, (m.event_time_ms, m.id)),
                                  (m.event_time_ms, m.id))
    false_merges = sum(1 for i, r in roots.items() if cluster.get(r) != cluster.get(i))
    by_cluster: dict[str, set[str]] = defaultdict(set)
    for m in messages:
        by_cluster[m.cluster].add(m.id)
    kept_per_cluster = [len(ids - dropped) for ids in by_cluster.values()]
    return {
        "hold_ms": hold_ms,
        "timestamps": timestamps,
        "messages": len(messages),
        "kept_then_corrected": len(first_kept_then_corrected),
        "correction_share": len(first_kept_then_corrected) / len(messages),
        "false_merges": false_merges,
        "clusters_with_two_kept": sum(1 for n in kept_per_cluster if n > 1),
        "wall_s": (max(stamps) - min(stamps)) / 1000 if stamps else 0.0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hold-ms", type=int, nargs="+", default=[0, 250])
    parser.add_argument("--timestamps", nargs="+", default=["random", "append"],
                        choices=["random", "append"])
    parser.add_argument("--small", action="store_true", help="the distributed test's stream")
    parser.add_argument("--live-rate", type=float, default=0.0,
                        help="instead of a backlog: workers first, then this many messages/s")
    args = parser.parse_args(argv)
    messages = stream(args.small)
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="corrections-") as tmp:
            for timestamps in (["append"] if args.live_rate else args.timestamps):
                for hold_ms in args.hold_ms:
                    started = time.monotonic()
                    result = replay(messages, hold_ms, timestamps, Path(tmp), args.live_rate)
                    result["run_s"] = round(time.monotonic() - started, 1)
                    results.append(result)
                    print(orjson.dumps(result).decode(), flush=True)
    finally:
        stop_all()
    print("timestamps hold_ms messages kept_then_corrected share  false_merges wall_s latency")
    for r in results:
        latency = (f"p50 {r['p50_ms']:.0f} p95 {r['p95_ms']:.0f} p99 {r['p99_ms']:.0f} ms"
                   if "p50_ms" in r else "-")
        print(f"{r['timestamps']:<10} {r['hold_ms']:>7} {r['messages']:>8} "
              f"{r['kept_then_corrected']:>19} {r['correction_share']:6.2%} "
              f"{r['false_merges']:>12} {r['wall_s']:6.1f} {latency}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
