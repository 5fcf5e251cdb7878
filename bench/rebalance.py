"""A second worker joining during a backlog of whole pages: how long until it holds partitions.

``python -m bench.rebalance [--pages DIR] [--count N] [--workdir DIR]``: a fresh embedded broker,
``count`` real pages (``bench.e2e.build_page_corpus``) on the raw topic, worker 1 started on
them; once it has consumed ``--after`` messages, worker 2 is started. Reported: seconds from
worker 2's start to its /readyz listing partitions, seconds from then to worker 1 listing
fewer than all, whether either log has Faust's "Task timed out" (the revocation of
``faust.app.base._on_partitions_revoked`` outlasting its flight recorder), and worker 1's RSS
(VmRSS) at its peak, once the backlog is drained and after ``--idle`` seconds more.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from faust.transport.consumer import Consumer

from bench import procfs
from bench.e2e import (
    PARTITIONS,
    Proc,
    build_page_corpus,
    count_verdicts,
    fresh_broker,
    make_proc,
    produce_all,
    progress,
    python_module,
    read_outputs,
)
from streams.cli.main import main as ingest

TIMED_OUT = "Task timed out"
WAITED = "revocation waited"
# The worker, with Faust's wait for unacknowledged messages timed and logged (WAITED).
TIMED_WORKER = python_module("bench.rebalance", "--as-worker")
ASSIGNED = "Executing _on_partitions_assigned"
LOG_TIME = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


def assigned(proc: Proc) -> list[int]:
    status, body = proc.get("/readyz")
    if status != 200:
        return []
    partitions: list[int] = orjson.loads(body).get("assigned_partitions", [])
    return partitions


def rss_mb(proc: Proc) -> float:
    return procfs.status_kb(proc.pid, "VmRSS") / 1024


def wait(condition: object, timeout_s: float, step_s: float = 0.1) -> float | None:
    """Seconds until ``condition()`` holds, or None after ``timeout_s``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(step_s)
    return None


def log_times(proc: Proc, text: str) -> list[float]:
    """Epoch seconds of the log lines of ``proc`` containing ``text``."""
    stamps = []
    for line in proc.log_path.read_text(errors="replace").splitlines():
        found = LOG_TIME.match(line)
        if found and text in line:
            stamps.append(datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return stamps


def timed_worker() -> int:
    """``ingest worker``, logging how long each ``Consumer.wait_empty`` took (WAITED)."""
    original = Consumer.wait_empty

    async def wait_empty(self: Consumer) -> None:
        started = time.monotonic()
        await original(self)
        print(f"{WAITED} {time.monotonic() - started:.2f} s for the stream's messages",
              flush=True)

    Consumer.wait_empty = wait_empty  # type: ignore[method-assign]
    return ingest(["worker"])


@dataclass(frozen=True)
class Options:
    pages: Path
    count: int
    after: int
    idle_s: float
    second: bool
    processes: str
    largest: bool


def largest(pages: Path, count: int, workdir: Path) -> Path:
    """A directory of links to the ``count`` largest pages of ``pages`` (the slowest ones)."""
    chosen = sorted(pages.glob("*.html"), key=lambda p: p.stat().st_size)[-count:]
    linked = workdir / "largest-pages"
    linked.mkdir(exist_ok=True)
    for page in chosen:
        link = linked / page.name
        if not link.exists():
            link.symlink_to(page)
    return linked


def from_logs(w1: Proc, w2: Proc, *, second: bool) -> dict[str, object]:
    """What the workers' logs say: the rebalance's timing, Faust's waits and warnings."""
    result: dict[str, object] = {}
    if second:
        # Worker 2's first assignment, from its start (its log's first line).
        started = log_times(w2, "Starting...")[0]
        result["w2_start_to_assigned_s"] = round(log_times(w2, ASSIGNED)[0] - started, 1)
        # Worker 1's rebalance: from Faust's first word of it to its new assignment.
        begun = [t for t in log_times(w1, "rebalancing") if t > started]
        if begun:
            after_begun = [t for t in log_times(w1, ASSIGNED) if t > begun[0]]
            result["w1_rebalance_s"] = round(after_begun[0] - begun[0], 1) if after_begun else None
    for proc in (w1, w2):
        if proc.log_path.exists():
            text = proc.log_path.read_text(errors="replace")
            result[f"{proc.name}_task_timed_out"] = text.count(TIMED_OUT)
            result[f"{proc.name}_wait_empty_s"] = [
                float(line.split(WAITED)[1].split()[0])
                for line in text.splitlines() if WAITED in line]
            result[f"{proc.name}_trim"] = [line.split("] ")[-1].strip()
                                           for line in text.splitlines() if "malloc_trim" in line]
    return result


def run(options: Options, workdir: Path) -> dict[str, object]:
    pages, count, after, idle_s = options.pages, options.count, options.after, options.idle_s
    second, processes = options.second, options.processes
    if options.largest:
        pages = largest(pages, count, workdir)
    values = build_page_corpus(pages, count).values
    env = {"INGEST_BROKER_PROFILE": "tansu", "INGEST_LOG_LEVEL": "info",
           "INGEST_PROCESSES": processes}
    result: dict[str, object] = {"messages": len(values), "partitions": PARTITIONS}
    with fresh_broker(workdir, "rebalance") as (_, settings):
        produce_all(settings, values)
        w1 = make_proc("rebalance", 1, TIMED_WORKER, settings, workdir)
        w1.env.update(env)
        w2 = make_proc("rebalance", 2, TIMED_WORKER, settings, workdir)
        w2.env.update(env)
        peak = 0.0
        try:
            w1.start()
            if wait(lambda: progress(w1) >= after, 300) is None:
                raise RuntimeError("worker 1 did not start consuming:\n" + w1.log_tail())
            if second:
                w2.start()
                joined = wait(lambda: bool(assigned(w2)), 120)
                result["w2_start_to_partitions_s"] = None if joined is None else round(joined, 1)
                released = wait(lambda: len(assigned(w1)) < PARTITIONS, 60)
                result["then_w1_fewer_s"] = None if released is None else round(released, 1)
                result["consumed_w1_at_join"] = progress(w1)

            def drained() -> bool:
                nonlocal peak
                peak = max(peak, rss_mb(w1))
                return progress(w1) + (progress(w2) if second else 0) >= len(values)

            wait(drained, 900, step_s=0.5)
            result["w1_peak_rss_mb"] = round(peak, 1)
            # RSS from the drain on, every 5 s (housekeeping's round) while idle.
            idle_rss = []
            for _ in range(int(idle_s // 5) + 1):
                idle_rss.append(round(rss_mb(w1), 1))
                time.sleep(5)
            result["w1_rss_idle_every_5s_mb"] = idle_rss
            # Nothing lost: one verdict per raw message (released messages came again).
            records = read_outputs(settings, list(settings.output_topics), len(values),
                                   count_verdicts)
            result["messages_with_a_verdict"] = count_verdicts(records)
            result["decided_twice"] = progress(w1) + (progress(w2) if second else 0) - len(
                values)
        finally:
            for proc in (w1, w2):
                proc.stop()
    result.update(from_logs(w1, w2, second=second))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=Path("/work/data/extract/wcxb_dev"))
    parser.add_argument("--count", type=int, default=1200)
    parser.add_argument("--after", type=int, default=300,
                        help="messages worker 1 consumes before worker 2 starts")
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--one", action="store_true", help="no second worker (RSS only)")
    parser.add_argument("--largest", action="store_true", help="the largest --count pages")
    parser.add_argument("--processes", default="-1", help="INGEST_PROCESSES of the workers")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--as-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_worker:
        sys.exit(timed_worker())
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rebalance-"))
    workdir.mkdir(parents=True, exist_ok=True)
    options = Options(args.pages, args.count, args.after, args.idle, not args.one,
                      args.processes, args.largest)
    print(json.dumps(run(options, workdir), indent=1))
    print(f"logs: {workdir}")


if __name__ == "__main__":
    main()
