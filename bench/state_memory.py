"""A worker's whole state per indexed article: the index and everything else that grows with it.

    python -m bench.state_memory                        # 12,000 bench messages after 2,000
    python -m bench.state_memory --messages 20000 --traced
    python -m bench.state_memory --texts DIR/ecbplus.jsonl --warm 100 --traced

``bench.growth`` measures the index alone (rows, band tables, spill files), filled with
synthetic entries. A worker holds more per article: its stories (centroids, the postings of
their terms, members), learned boilerplate, the race window, caches. Here the pure core is
built as a worker builds it (``streams.shell.worker.dedup_for``: compact index spilling to a
data directory, stories on) and decides real messages one by one, its own log records read
back as its replica would (so nothing stays "in flight"). After ``--warm`` messages (caches
and bounded windows fill), the RSS delta over the rest is divided by the entries they added.
With ``--traced`` the same delta is split by where Python allocated it (``tracemalloc``,
grouped into layers: RSS is then not reported, tracing inflates it); what is left between
the RSS and the traced bytes is the allocator's (freed memory kept by the heap, lxml's).

``--texts`` reads JSON lines with ``text`` (and ``id``): real news nobody here wrote, e.g.
the ECB+ copy of ``make eval`` (``bench/data/realnews/README.md``).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import gc
import sys
import tempfile
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from bench.baselines import raw_messages
from bench.e2e import build_corpus
from bench.procfs import status_kb
from bench.progress import Progress
from streams.core.pipeline import Deduplicator
from streams.kafka.process import keep_freed_memory_off_the_heap
from streams.settings import Settings
from streams.shell.config import core_config
from streams.shell.worker import dedup_for

# Where an allocation's file lies -> the layer it is counted in (first match).
LAYERS = (
    ("stories", "streams/core/stories/"),
    ("index", "streams/core/dedup/"),
    ("learned boilerplate", "streams/core/text/learned.py"),
    ("own records, ids", "streams/core/own_records.py"),
    ("own records, ids", "streams/core/identity.py"),
    ("text path caches", "streams/core/"),
    ("libraries", "site-packages"),
)


def layer_of(filename: str) -> str:
    path = filename.replace("\\", "/")
    for layer, part in LAYERS:
        if part in path:
            return layer
    return "other"


def messages(texts: Path | None, count: int) -> list[bytes]:
    """``count`` raw message values: the bench corpus, or the texts of a JSON Lines file."""
    if texts is None:
        return build_corpus(count, seed=7).values[:count]
    values = []
    for line in texts.read_bytes().splitlines():
        if line.strip():
            row = orjson.loads(line)
            values.append(orjson.dumps({"id": str(row.get("id", len(values))),
                                        "body": row["text"]}))
    return values[:count]


def feed(dedup: Deduplicator, raws: Sequence[Any], progress: Progress) -> None:
    """Decide each message as a worker does, its log records read back by its replica."""
    offset = 0
    for raw in raws:
        outcome = dedup.process(raw, raw.timestamp_ms)
        for record in outcome.log_records:
            offset += 1
            if record.entry.is_kept:
                dedup.logged(record.entry.id, 0, offset)
            dedup.read_back(record.entry.id)
        progress.step()
    progress.finish()


def measure(values: Sequence[bytes], warm: int, *, traced: bool) -> dict[str, Any]:
    keep_freed_memory_off_the_heap()
    raws = raw_messages(values)
    with tempfile.TemporaryDirectory(prefix="bench-state-") as data_dir:
        settings = dataclasses.replace(Settings(), data_dir=Path(data_dir))
        dedup = dedup_for(settings)(core_config(settings), "bench")
        feed(dedup, raws[:warm], Progress("warm-up", warm, unit="messages"))
        gc.collect()
        entries_before, rss_before = len(dedup.index), status_kb("self", "VmRSS")
        if traced:
            tracemalloc.start(1)
            before = tracemalloc.take_snapshot()
        feed(dedup, raws[warm:], Progress("measured", len(raws) - warm, unit="messages"))
        gc.collect()
        added = len(dedup.index) - entries_before
        result: dict[str, Any] = {
            "messages": len(raws) - warm, "warm_up": warm, "entries_added": added,
            "stories": len(dedup.stories),
        }
        if not added:
            return result
        if not traced:
            rss = (status_kb("self", "VmRSS") - rss_before) * 1024
            result["rss_bytes_per_entry"] = round(rss / added, 1)
            return result
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        layers: collections.Counter[str] = collections.Counter()
        for stat in after.compare_to(before, "filename"):
            layers[layer_of(stat.traceback[0].filename)] += stat.size_diff
        result["traced_bytes_per_entry"] = round(sum(layers.values()) / added, 1)
        result["by_layer"] = {layer: round(size / added, 1)
                              for layer, size in layers.most_common()}
        return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=14_000,
                        help="messages in all, warm-up included (default 14000)")
    parser.add_argument("--warm", type=int, default=2_000,
                        help="messages decided before measuring (default 2000)")
    parser.add_argument("--texts", type=Path, default=None,
                        help="JSON lines with a text field, instead of the bench corpus")
    parser.add_argument("--traced", action="store_true",
                        help="split the growth by layer (tracemalloc; no RSS)")
    args = parser.parse_args(argv)
    values = messages(args.texts, args.messages)
    if not 0 <= args.warm < len(values):
        parser.error(f"--warm must be below the {len(values)} messages")
    result = measure(values, args.warm, traced=args.traced)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")  # one line: bench.run reads it
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
