"""What two cores of this host give over one, on the pipeline's own work.

    .venv/bin/python -m bench.capacity [--messages 1500] [--rounds 2]

Runs the stateless step (``prepare``) over the bench corpus in one process pinned to one
core, then in two processes pinned to two cores at the same time, then alone again (A-B-A,
``--rounds`` times). The host's parallel capacity is the pair's summed rate over the mean
rate alone: about 2.0 where two cores are independent, less where the virtual CPUs are
hyper-threads of one physical core or share an overcommitted one. ``make bench`` prints it
beside its multi-process ratios (two workers over one, the prepare pool's gain; issue 14's
"where the cores allow it") as an informative row. The pair's rate is the messages both
processed over the time from their common start to the later finish, so the one that
finishes first does not leave the other a core of its own for its last stretch. Prints one
JSON object on its last line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import orjson

from bench.baselines import raw_messages
from bench.e2e import allowed_cores, build_corpus, python_module
from streams.core.config import CoreConfig
from streams.core.prepare import prepare_total

READY, GO = "ready", "go"


def _child(core: int, messages: int) -> int:
    """Pin to ``core``, build the corpus, say ready, wait for go, then time one pass."""
    os.sched_setaffinity(0, {core})
    config = CoreConfig()
    raws = raw_messages(build_corpus(messages).values)
    prepare_total(raws[0], config)  # warm-up: language model, regexes
    print(READY, flush=True)
    if sys.stdin.readline().strip() != GO:
        return 1
    started = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the host
    for raw in raws:
        prepare_total(raw, config)
    print(orjson.dumps({"core": core, "messages": len(raws), "started": started,
                        "ended": time.monotonic()}).decode(), flush=True)
    return 0


def _together(cores: Sequence[int], messages: int) -> float:
    """Articles/s of one pass per core, the passes started at the same moment: every
    message processed over the time from the first start to the last end."""
    procs: list[subprocess.Popen[str]] = []
    try:
        for core in cores:
            procs.append(subprocess.Popen(
                python_module("bench.capacity", "--child", str(core), "--messages", str(messages)),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != READY:
                raise RuntimeError("a capacity child failed to start")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(GO + "\n")
            proc.stdin.flush()
        passes = []
        for proc in procs:
            assert proc.stdout is not None
            passes.append(orjson.loads(proc.stdout.readline()))
        return pair_rate(passes)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()


def pair_rate(passes: Sequence[dict[str, Any]]) -> float:
    """Messages of all ``passes`` over the span from the earliest start to the latest end."""
    span = max(p["ended"] for p in passes) - min(p["started"] for p in passes)
    return sum(p["messages"] for p in passes) / span


def measure(messages: int = 1500, rounds: int = 2) -> dict[str, Any]:
    """Alone, pair, alone, ``rounds`` times; ``capacity`` is None on fewer than two cores."""
    if messages < 1 or rounds < 1:
        raise ValueError("messages and rounds must be at least 1")
    cores = allowed_cores()
    if len(cores) < 2:
        return {"cores": len(cores), "capacity": None}
    alone: list[float] = []
    pairs: list[float] = []
    for _ in range(rounds):
        alone.append(_together(cores[:1], messages))
        pairs.append(_together(cores[:2], messages))
    alone.append(_together(cores[:1], messages))
    mean_alone = sum(alone) / len(alone)
    return {"cores": len(cores), "messages": messages,
            "alone_per_s": [round(r, 1) for r in alone],
            "pair_per_s": [round(r, 1) for r in pairs],
            "capacity": round(sum(pairs) / len(pairs) / mean_alone, 3)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return _child(args.child, args.messages)
    result = measure(args.messages, args.rounds)
    if result["capacity"] is None:
        print(f"capacity: {result['cores']} core(s) allowed, nothing to compare", file=sys.stderr)
    else:
        print(f"capacity: two cores give {result['capacity']}x one (alone "
              f"{result['alone_per_s']}, pair {result['pair_per_s']} articles/s)",
              file=sys.stderr)
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
