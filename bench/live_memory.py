"""A live worker's RSS per indexed entry, on the real broker: what an operator provisions.

    python -m bench.live_memory                                   # bench corpus, 40,000
    python -m bench.live_memory --texts DIR/livedoor.jsonl --messages 8000 --step 1000

``bench.state_memory`` measures the pure core in-process; a worker holds more (Faust,
aiokafka's buffers, the replica, allocator slack) and its RSS moves with the heap. Here one
worker with its defaults runs on a fresh embedded Tansu; the messages go in steps of
``--step``: after each step is consumed and the worker has idled (its housekeeping counts
the index, the heap is trimmed), one point (index entries, RSS of the worker's main
process) is taken. The first step warms up; the slope of a least-squares line through the
other points is the RSS per entry (one point alone would measure the heap's moods).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from bench import e2e, procfs
from bench.state_memory import messages

IDLE_S = 11.0  # housekeeping runs every 5 s; the heap is trimmed when idle


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        raise ValueError("the points need two different x")
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def measure(values: Sequence[bytes], step: int, workdir: Path) -> dict[str, object]:
    points: list[tuple[float, float]] = []
    with e2e.fresh_broker(workdir, "live") as (broker, settings):
        proc = e2e.make_proc("live", 1, e2e.WORKER, settings, workdir)
        proc.start()
        try:
            e2e.wait_ready([proc])
            samples: dict[str, list[tuple[float, float]]] = {}
            for start in range(0, len(values), step):
                end = min(start + step, len(values))
                e2e.produce_all(settings, values[start:end])
                e2e.wait_processed([proc], e2e.broker_pid(broker), end, 1800, samples)
                time.sleep(IDLE_S)
                entries = e2e.scrape_metrics(proc).get("ingest_index_entries", 0.0)
                points.append((entries, procfs.status_kb(proc.pid, "VmRSS") * 1024.0))
                print(f"live memory: {end}/{len(values)} messages, {int(entries)} entries, "
                      f"RSS {points[-1][1] / 2**20:.1f} MB", file=sys.stderr, flush=True)
        finally:
            proc.stop()
    return {"messages": len(values), "step": step,
            "points": [[int(x), round(y / 2**20, 1)] for x, y in points],
            "rss_bytes_per_entry": round(slope(points[1:]), 1)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--step", type=int, default=5_000)
    parser.add_argument("--texts", type=Path, default=None,
                        help="JSON lines with a text field, instead of the bench corpus")
    args = parser.parse_args(argv)
    values = messages(args.texts, args.messages)
    if len(values) < 3 * args.step:
        parser.error("--messages must give at least three steps (one warms up)")
    with tempfile.TemporaryDirectory(prefix="bench-live-") as workdir:
        result = measure(values, args.step, Path(workdir))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
