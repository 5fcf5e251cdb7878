"""What the pipeline is compared with, and the profiled worker.

    python -m bench.baselines forward      # (a) trivial Faust agent: raw bytes -> same bytes
    python -m bench.baselines datasketch   # (b) our worker with datasketch MinHash + MinHashLSH
    python -m bench.baselines profile OUT SKIP N  # our worker under pyinstrument: OUT.json

(c), the text path and the pure core without Kafka, is :func:`core_rates`, run in-process.
Each entry point reads the same environment as ``ingest worker`` (streams.settings), so the
broker, consumer group, batch and producer settings are those of the real worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import faust
import numpy as np
import orjson
from datasketch import LeanMinHash, MinHash, MinHashLSH
from pyinstrument import Profiler

from streams import settings as settings_mod
from streams.core.config import CoreConfig
from streams.core.dedup.config import LSHConfig, MinHashConfig
from streams.core.dedup.index import CandidateFilter, FingerprintIndex, filter_entries
from streams.core.dedup.minhash import content_hash
from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.pipeline import Deduplicator
from streams.core.prepare import prepare
from streams.core.records import RawMessage
from streams.kafka.broker import ensure_topics
from streams.settings import Settings
from streams.shell import collector
from streams.shell.app import create_app
from streams.shell.config import core_config
from streams.shell.logs import configure_logging
from streams.shell.worker import dedup_for, run_worker

# -- (a) the framework ceiling ------------------------------------------------------------


def run_forward(settings: Settings) -> int:
    """A Faust app that forwards raw bytes, batched like ``ingest`` and with its producer."""
    ensure_topics(settings)
    app = create_app(settings)

    def raw_topic(name: str) -> Any:
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                         value_serializer="raw", partitions=settings.partitions)

    source, sink = raw_topic(settings.topic_raw), raw_topic(settings.topic_enriched)
    forwarded = [0]

    @app.agent(source, name="forward", concurrency=1)
    async def forward(stream: faust.StreamT[bytes]) -> None:
        batches = stream.take_events(settings.batch_size, within=settings.batch_window_s)
        async for events in batches:
            for event in events:
                await sink.send(key=event.message.key, value=event.message.value)
            forwarded[0] += len(events)

    @app.page("/count")
    async def count(self: Any, request: Any) -> Any:
        return self.json({"forwarded": forwarded[0]})

    return _faust_main(app, settings)


def _faust_main(app: Any, settings: Settings) -> int:
    sys.argv = ["bench", "worker", "--loglevel", settings.log_level,
                "--web-port", str(settings.web_port)]
    try:
        app.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


# -- (b) datasketch in place of our MinHash and LSH ------------------------------------------


def datasketch_fingerprint(
    tokens: Sequence[str], fp_text: str, config: MinHashConfig
) -> Fingerprint:
    """The usual datasketch recipe: a MinHash per document over the encoded word k-grams."""
    k = config.shingle_size
    if not tokens:
        shingles: set[bytes] = set()
    elif len(tokens) < k:
        shingles = {" ".join(tokens).encode()}
    else:
        shingles = {" ".join(tokens[i : i + k]).encode() for i in range(len(tokens) - k + 1)}
    minhash = MinHash(num_perm=config.num_perm, seed=config.seed)
    minhash.update_batch(shingles)
    # affine32 values are < 2**32: the uint32 signature our verification and log expect.
    return Fingerprint(content_hash(fp_text), minhash.hashvalues.astype(np.uint32),
                       len(shingles))


class DatasketchIndex(FingerprintIndex):
    """Our index with datasketch's ``MinHashLSH(params=(bands, rows))`` finding candidates.

    Exact-hash, root and expiry bookkeeping stay ours; our band keys are switched off so only
    datasketch's LSH tables hold the bands. It plugs in through the index protocol.
    """

    def __init__(self, lsh: LSHConfig, num_perm: int = 128) -> None:
        super().__init__(lsh)
        self._ds = MinHashLSH(num_perm=num_perm, params=(lsh.bands, lsh.rows))

    def add(self, entry: IndexEntry) -> None:
        super().add(entry)  # unlinks an older entry of the same id first
        if entry.is_looked_up:  # as our bands: a copy past searchable_copies is not a candidate
            self._ds.insert(entry.id, _lean(entry.fingerprint), check_duplication=False)

    def candidates(
        self, fingerprint: Fingerprint, keep: CandidateFilter | None = None
    ) -> list[IndexEntry]:
        ids = self._ds.query(_lean(fingerprint))
        found = sorted((self._entries[i] for i in ids if i in self._entries),
                       key=lambda e: e.order_key)
        return filter_entries(found, keep)

    def _band_keys(self, fingerprint: Fingerprint) -> list[int]:
        return []

    def _unlink(self, entry: IndexEntry) -> None:
        super()._unlink(entry)
        if entry.id in self._ds:
            self._ds.remove(entry.id)


def _lean(fingerprint: Fingerprint) -> Any:
    return LeanMinHash(seed=1, hashvalues=fingerprint.signature, scheme="affine32")


def datasketch_dedup(config: CoreConfig, worker: str) -> Deduplicator:
    """The stateful step with datasketch's MinHash and MinHashLSH in place of ours."""
    return Deduplicator(config, worker=worker, index=DatasketchIndex(config.dedup.lsh),
                        fingerprinter=datasketch_fingerprint)


def run_datasketch_worker(settings: Settings) -> int:
    return run_worker(settings, dedup_factory=datasketch_dedup)


# -- the profiled worker ----------------------------------------------------------------------


def run_profiled_worker(settings: Settings, out: Path, skip: int, count: int) -> int:
    """Our worker under pyinstrument, sampling messages ``skip+1 .. skip+count`` only.

    1 ms samples of the main thread, where Faust's event loop runs the agent and the
    pipeline (Faust's aiokafka consumer fetches in a thread of its own, not sampled). The
    window skips start-up and first-call costs such as loading the language model.
    """
    profiler = Profiler(interval=0.001, async_mode="disabled")
    # The agent calls the stateful step (decide) once per message; the stateless step runs
    # in the prepare pool's processes (INGEST_PROCESSES), outside this profile.
    original = Deduplicator.decide
    calls = [0]

    def decide(self: Deduplicator, item: Any, now_ms: int, *, hold: bool = False) -> Any:
        calls[0] += 1
        if calls[0] == skip + 1:
            profiler.start()
        try:
            return original(self, item, now_ms, hold=hold)
        finally:
            if calls[0] == skip + count and profiler.is_running:
                profiler.stop()

    Deduplicator.decide = decide  # type: ignore[method-assign]
    try:
        return run_worker(settings)
    finally:
        if profiler.is_running:
            profiler.stop()
        session = profiler.last_session
        if session is not None:
            out.with_suffix(".txt").write_text(
                profiler.output_text(unicode=True, color=False, show_all=False)
            )
            out.with_suffix(".json").write_bytes(orjson.dumps(hotspots(session.root_frame())))


def hotspots(root: Any, top: int = 15) -> dict[str, Any]:
    """Self time by function and inclusive time of the pipeline stages, in seconds."""
    total = root.time if root is not None else 0.0
    self_time: dict[str, float] = {}
    inclusive: dict[str, float] = {}

    def walk(frame: Any, ancestors: frozenset[str]) -> None:
        name = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        self_time[name] = self_time.get(name, 0.0) + frame.total_self_time
        if name not in ancestors:  # recursion counts once
            inclusive[name] = inclusive.get(name, 0.0) + frame.time
        for child in frame.children:
            if not child.is_synthetic:  # "[self]"/"[await]" time is in total_self_time
                walk(child, ancestors | {name})

    if root is not None:
        walk(root, frozenset())
    by_self = sorted(self_time.items(), key=lambda kv: -kv[1])[:top]
    stages = {name: t for name, t in inclusive.items() if _is_stage(name)}
    return {"total_s": total, "self": by_self,
            "stages": sorted(stages.items(), key=lambda kv: -kv[1])}


STAGE_FUNCTIONS = (
    "handle (streams/shell/agents.py", "process (streams/core/pipeline.py",
    "prepare (streams/core/prepare.py",
    "parse_envelope", "normalize_article", "parse_body", "normalize_paragraphs",
    "remove_boilerplate", "detect_language", "fingerprint_paragraphs", "fingerprint_text",
    "fingerprint_tokens", "fingerprint (streams/core/dedup/minhash.py", "shingle_hashes",
    "minhash_signature", "_decide (streams/core/pipeline.py",
    "decide (streams/core/dedup/decide.py",
    "apply_decision", "enriched_record", "publish (streams/shell/agents.py", "publish_log_record",
    "encode_record", "count (streams/shell/agents.py", "_apply (streams/shell/replica.py",
)


def _is_stage(name: str) -> bool:
    return any(name.startswith(s) for s in STAGE_FUNCTIONS)


# -- (c) no Kafka -------------------------------------------------------------------------


def raw_messages(values: Sequence[bytes]) -> list[RawMessage]:
    """``values`` as the worker would read them from a 4-partition raw topic, one
    millisecond apart: what the in-process measurements feed the core."""
    return [RawMessage("articles.raw", i % 4, i // 4, None, v, 1_700_000_000_000 + i)
            for i, v in enumerate(values)]


def core_rates(values: Sequence[bytes], repeat: int = 2) -> dict[str, float]:
    """Articles/s on this core: text path (parse, normalize, fingerprint) and the whole core.

    Best of ``repeat`` passes; the core gets a fresh Deduplicator per pass so every pass
    decides the same stream against the same growing index. The first pass's rates are kept
    too: a worker sees each message once, so later passes (warm caches, the figures cache
    of ``dedup.figures`` among them) flatter the core against it.
    """
    config = CoreConfig()
    raws = raw_messages(values)
    prepare(raws[0], config)  # warm-up: language model, regexes
    text_passes: list[float] = []
    core_passes: list[float] = []
    for _ in range(repeat):
        started = time.process_time()
        for raw in raws:
            try:
                prepare(raw, config)
            except Exception:  # dead letters cost what they cost: skip them here
                continue
        text_passes.append(len(raws) / (time.process_time() - started))
        dedup = Deduplicator(config, worker="bench")
        started = time.process_time()
        for raw in raws:
            dedup.process(raw, raw.timestamp_ms)
        core_passes.append(len(raws) / (time.process_time() - started))
    return {"text_path_per_s": round(max(text_passes), 1), "core_per_s": round(max(core_passes), 1),
            "text_path_first_pass_per_s": round(text_passes[0], 1),
            "core_first_pass_per_s": round(core_passes[0], 1), "articles": len(raws)}


def worker_core_rate(values: Sequence[bytes]) -> dict[str, float]:
    """Articles/s of the pure core built as a worker with default settings builds it, over
    every message of ``values`` once: the denominator of the shell's cost.

    :func:`core_rates` measures the core on a prefix of the stream, best of two passes, with
    the in-memory index; a worker runs the compact index spilling to its data directory
    (``core_config``, ``dedup_for``) and sees each message once as the index grows, and on
    the generated corpus a lookup meets more candidates as it grows (its articles share a
    small vocabulary). The e2e runs see these same messages, so this is their like, and the
    garbage collector is set as a worker sets it (:func:`collected_as_a_worker`). The rate is
    CPU time of this process, unpinned; a one-core worker's is wall-clock on its pinned core,
    which it keeps busy: the same thing while the worker is CPU-bound.
    """
    with tempfile.TemporaryDirectory(prefix="bench-core-") as data_dir:
        settings = dataclasses.replace(Settings(), data_dir=Path(data_dir))
        config = core_config(settings)
        raws = raw_messages(values)
        prepare(raws[0], config)  # warm-up: language model, regexes
        dedup = dedup_for(settings)(config, "bench")
        with collected_as_a_worker():
            started = time.process_time()
            for raw in raws:
                dedup.process(raw, raw.timestamp_ms)
            seconds = time.process_time() - started
    return {"worker_core_per_s": round(len(raws) / seconds, 1), "articles": len(raws)}


@contextlib.contextmanager
def collected_as_a_worker() -> Iterator[None]:
    """The block runs under a worker's garbage-collector settings (``streams.shell.collector``:
    rarer young collections, everything alive at the start frozen), restored after. Without
    them the pure core paid ~0.1-0.2 ms an article more in collections than the worker it is
    the denominator of (the corpus and the bench's own objects are traversed too). What was
    frozen before the block stays frozen: ``gc.unfreeze`` cannot unfreeze only part."""
    thresholds = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    collector.collect_less_often()
    collector.freeze_what_lives()
    try:
        yield
    finally:
        if not frozen_before:
            gc.unfreeze()
        gc.set_threshold(*thresholds)


def main(argv: Sequence[str]) -> int:
    settings = settings_mod.load()
    configure_logging(settings)
    command = argv[0] if argv else ""
    if command == "forward":
        return run_forward(settings)
    if command == "datasketch":
        return run_datasketch_worker(settings)
    if command == "profile" and len(argv) == 4:
        return run_profiled_worker(settings, Path(argv[1]), int(argv[2]), int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
