"""bench/faust_trace: Faust's offset bookkeeping logged in a worker's interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TRACE = Path(__file__).resolve().parents[2] / "bench" / "faust_trace"

# Run with the trace folder on PYTHONPATH, as a worker would be: ``site`` imports it first.
PROBE = """
import asyncio, logging
from collections import defaultdict
from types import SimpleNamespace
from intervaltree import IntervalTree
from faust.transport.consumer import Consumer
from faust.types import TP
import sitecustomize

logging.basicConfig(level=logging.WARNING, format="%(message)s")
assert Consumer._faust_trace  # installed at start-up
tp = TP("articles.raw", 2)
consumer = SimpleNamespace(
    _committed_offset={tp: None}, _acked=defaultdict(list, {tp: [4, 5, 6]}),
    _gap=defaultdict(IntervalTree), _acked_index=defaultdict(set), _read_offset={tp: None},
    flow_active=False)
print("commit", Consumer._new_offset(consumer, tp))

class Fetching(Consumer):  # a fetch that returns while the flow is stopped
    async def _wait_next_records(self, timeout):
        return {tp: [SimpleNamespace(offset=0), SimpleNamespace(offset=74)]}, {tp}

Fetching._faust_trace = False
sitecustomize.install(Fetching)
asyncio.run(Fetching._wait_next_records(consumer, 1.0))
consumer.flow_active, consumer._buffered_partitions = True, set()
asyncio.run(Fetching._wait_next_records(consumer, 1.0))  # active: {tp}: handed out, no line
class Paused(Fetching):  # the fetch holds records of a partition no longer active
    async def _wait_next_records(self, timeout):
        return {tp: [SimpleNamespace(offset=7), SimpleNamespace(offset=9)]}, set()

Paused._faust_trace = False
sitecustomize.install(Paused)
asyncio.run(Paused._wait_next_records(consumer, 1.0))

from mode.utils.logging import CompositeLogger
faust_log = CompositeLogger(logging.getLogger("faust.streams"))
faust_log.dev("Skipping message %r with generation_id %r because app generation_id is %r "
              "flow_control.is_active %r", "<ConsumerMessage: offset=81>", 3, 4, False)
faust_log.dev("DROPPED MESSAGE ROFF %r: k=%r v=%r", 81, b"key", b"the whole article")
faust_log.dev("Resume stream partitions")  # not a drop: not repeated
"""


def test_the_trace_logs_faust_commits_and_dropped_messages_in_a_worker_interpreter() -> None:
    env = {**os.environ, "PYTHONPATH": str(TRACE)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == ["commit 7"]
    assert done.stderr.splitlines() == [
        "faust_trace commit articles.raw:2 -> 7 (committed None, acked from [4, 5, 6])",
        "faust_trace dropped-fetch {'articles.raw:2': (0, 74)} "
        "committed={'articles.raw:2': None}",
        "faust_trace dropped-inactive {'articles.raw:2': (7, 9)} "
        "committed={'articles.raw:2': None}",
        "faust_trace skipped Skipping message '<ConsumerMessage: offset=81>' with "
        "generation_id 3 because app generation_id is 4 flow_control.is_active False",
        "faust_trace skipped DROPPED MESSAGE ROFF 81",  # not the article's bytes
    ]
