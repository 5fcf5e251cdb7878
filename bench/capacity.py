"""What two cores of this host give over one, on the pipeline's own work.

    .venv/bin/python -m bench.capacity [--messages 1500] [--rounds 2]

Runs the stateless step (``prepare``) over the bench corpus in one process pinned to one
core, then in two processes pinned to two cores at the same time, then alone again (A-B-A,
``--rounds`` times). The host's parallel capacity is the pair's summed rate over the mean
rate alone: about 2.0 where two cores are independent, less where the virtual CPUs are
hyper-threads of one physical core or share an overcommitted one. It bounds every
multi-process ratio of ``make bench``: two workers over one, and the prepare pool's gain
(issue 14's "where the cores allow it"). Prints one JSON object on its last line.
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

from bench.e2e import build_corpus, python_module
from streams.core.config import CoreConfig
from streams.core.prepare import prepare_total
from streams.core.records import RawMessage

READY, GO = "ready", "go"


def _child(core: int, messages: int) -> int:
    """Pin to ``core``, build the corpus, say ready, wait for go, then time one pass."""
    os.sched_setaffinity(0, {core})
    config = CoreConfig()
    raws = [RawMessage("articles.raw", i % 4, i // 4, None, v, 1_700_000_000_000 + i)
            for i, v in enumerate(build_corpus(messages).values)]
    prepare_total(raws[0], config)  # warm-up: language model, regexes
    print(READY, flush=True)
    if sys.stdin.readline().strip() != GO:
        return 1
    started = time.perf_counter()
    for raw in raws:
        prepare_total(raw, config)
    print(orjson.dumps({"core": core, "per_s": len(raws) / (time.perf_counter() - started)})
          .decode(), flush=True)
    return 0


def _together(cores: Sequence[int], messages: int) -> list[float]:
    """Articles/s of one pass per core, the passes started at the same moment."""
    procs = [subprocess.Popen(python_module("bench.capacity", "--child", str(core),
                                            "--messages", str(messages)),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for core in cores]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != READY:
                raise RuntimeError("a capacity child failed to start")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(GO + "\n")
            proc.stdin.flush()
        rates = []
        for proc in procs:
            assert proc.stdout is not None
            rates.append(float(orjson.loads(proc.stdout.readline())["per_s"]))
        return rates
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def measure(messages: int = 1500, rounds: int = 2) -> dict[str, Any]:
    """Alone, pair, alone, ``rounds`` times; ``capacity`` is None on fewer than two cores."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return {"cores": len(cores), "capacity": None}
    alone: list[float] = []
    pairs: list[float] = []
    for _ in range(rounds):
        alone += _together(cores[:1], messages)
        pairs.append(sum(_together(cores[:2], messages)))
    alone += _together(cores[:1], messages)
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
    print(f"capacity: two cores give {result['capacity']}x one "
          f"(alone {result.get('alone_per_s')}, pair {result.get('pair_per_s')} articles/s)",
          file=sys.stderr)
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
