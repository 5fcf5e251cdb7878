"""Index snapshots: written atomically, verified on load, refused with a reason when unusable."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from streams.core.clock import TestClock
from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.config import DedupConfig, LSHConfig
from streams.core.errors import SnapshotUnusableError
from streams.core.fingerprint_log import FENCE_PREFIX, LogMark, encode_record
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage
from streams.core.stories.config import StoryConfig
from streams.shell.gate import StateGate
from streams.shell.snapshot import SnapshotStore, load_or_none
from streams.shell.snapshotter import Snapshotter
from tests.harness import SAMPLES, envelope

# Most tests here are about the index: stories off (the story state has its own tests below).
CONFIG = CoreConfig(stories=StoryConfig(enabled=False))
TOPIC = "ingest.fingerprints"


def raws(offset: int = 0) -> list[RawMessage]:
    return [RawMessage("articles.raw", 0, offset + i, None, envelope(p), 1_000 * (i + 1))
            for i, p in enumerate(SAMPLES)]


def outcomes(dedup: Deduplicator, messages: list[RawMessage]) -> list[object]:
    return [[(o.kind, o.key, o.value) for o in out.outputs]
            + [encode_record(r.entry, r.paragraph_keys, r.worker) for r in out.log_records]
            for out in (dedup.process(m, 50_000 + m.offset) for m in messages)]


def decided() -> Deduplicator:
    dedup = Deduplicator(CONFIG, worker="w", index=CompactIndex(CONFIG.dedup.lsh))
    outcomes(dedup, raws()[:3])
    return dedup


def test_a_restored_state_decides_like_the_one_that_went_on(tmp_path: Path) -> None:
    original = decided()
    store = SnapshotStore(tmp_path, CONFIG, TOPIC)
    store.save(original.index, original.stats, {0: 7, 1: 3}, created_ms=123)  # type: ignore[arg-type]
    snapshot = store.load()
    assert (snapshot.offsets, snapshot.created_ms, len(snapshot.index)) == ({0: 7, 1: 3}, 123, 3)
    restored = Deduplicator(CONFIG, worker="w", index=snapshot.index, stats=snapshot.stats)
    later = raws()[3:] + raws(offset=10)  # new articles, then re-sends of every sample
    assert outcomes(restored, later) == outcomes(original, later)


def test_only_the_newest_snapshot_is_kept(tmp_path: Path) -> None:
    dedup = decided()
    store = SnapshotStore(tmp_path, CONFIG, TOPIC)
    store.save(dedup.index, dedup.stats, {0: 1}, created_ms=1)  # type: ignore[arg-type]
    store.save(dedup.index, dedup.stats, {0: 2}, created_ms=2)  # type: ignore[arg-type]
    assert sorted(p.name for p in store.root.iterdir()) == ["CURRENT", "snap-2"]
    assert store.load().offsets == {0: 2}


def test_the_last_record_applied_on_each_partition_is_kept_with_the_offsets(
    tmp_path: Path,
) -> None:
    dedup = decided()
    store = SnapshotStore(tmp_path, CONFIG, TOPIC)
    marks = {0: LogMark(6, 1_764_000_000_123, b"000_3b3aba6de96ebd2b"),
             1: LogMark(2, 5, FENCE_PREFIX + b"ab")}
    store.save(dedup.index, dedup.stats, {0: 7, 1: 3, 2: 0}, created_ms=1,  # type: ignore[arg-type]
               marks=marks)
    assert store.load().marks == marks
    # one written before marks: used without them
    manifest_path = store.root / "snap-1" / "manifest.json"
    manifest = orjson.loads(manifest_path.read_bytes())
    del manifest["marks"]
    manifest_path.write_bytes(orjson.dumps(manifest))
    assert store.load().marks == {}
    manifest["marks"] = {"0": [6, "x", None]}
    manifest_path.write_bytes(orjson.dumps(manifest))
    with pytest.raises(SnapshotUnusableError, match="corrupt snapshot snap-1: log mark"):
        store.load()


def test_missing_snapshot(tmp_path: Path) -> None:
    with pytest.raises(SnapshotUnusableError, match="no snapshot in"):
        SnapshotStore(tmp_path, CONFIG, TOPIC).load()


def test_corrupt_array_is_caught_by_its_checksum(tmp_path: Path) -> None:
    dedup = decided()
    store = SnapshotStore(tmp_path, CONFIG, TOPIC)
    path = store.save(dedup.index, dedup.stats, {0: 1}, created_ms=1)  # type: ignore[arg-type]
    signatures = path / "signatures.npy"
    data = bytearray(signatures.read_bytes())
    data[-5] ^= 0xFF
    signatures.write_bytes(bytes(data))
    with pytest.raises(SnapshotUnusableError, match=r"checksum mismatch in signatures\.npy"):
        store.load()


@pytest.mark.parametrize("name", ["signatures.npy", "stats.json", "story-centroid_keys.npy",
                                  "stories.json"])
def test_every_file_of_a_snapshot_is_checked(tmp_path: Path, name: str) -> None:
    config = CoreConfig()  # stories on: their files too
    dedup = Deduplicator(config, worker="w", index=CompactIndex(config.dedup.lsh))
    outcomes(dedup, raws()[:3])
    store = SnapshotStore(tmp_path, config, TOPIC)
    path = store.save(dedup.index, dedup.stats, {0: 3}, 1, dedup.stories)  # type: ignore[arg-type]
    data = bytearray((path / name).read_bytes())
    data[-2] ^= 0x01  # one bit, inside the data (a .npy file ends with its values)
    (path / name).write_bytes(bytes(data))
    with pytest.raises(SnapshotUnusableError, match=f"checksum mismatch in {re.escape(name)}$"):
        store.load()


def test_truncated_file_is_corrupt(tmp_path: Path) -> None:
    dedup = decided()
    store = SnapshotStore(tmp_path, CONFIG, TOPIC)
    path = store.save(dedup.index, dedup.stats, {0: 1}, created_ms=1)  # type: ignore[arg-type]
    (path / "pairs.npy").write_bytes(b"\x93NUMPY")
    with pytest.raises(SnapshotUnusableError, match="corrupt snapshot snap-1"):
        store.load()


def test_another_configuration_or_topic_is_incompatible(tmp_path: Path) -> None:
    dedup = decided()
    SnapshotStore(tmp_path, CONFIG, TOPIC).save(dedup.index, dedup.stats, {0: 1}, 1)  # type: ignore[arg-type]
    other = dataclasses.replace(CONFIG, dedup=DedupConfig(lsh=LSHConfig(bands=16, rows=8)))
    with pytest.raises(SnapshotUnusableError, match="another dedup configuration"):
        SnapshotStore(tmp_path, other, TOPIC).load()
    with pytest.raises(SnapshotUnusableError, match=r"of topic 'ingest\.fingerprints'"):
        SnapshotStore(tmp_path, CONFIG, "other.topic").load()


def test_a_write_interrupted_before_the_rename_leaves_the_previous_one(tmp_path: Path) -> None:
    dedup = decided()
    store = SnapshotStore(tmp_path, CONFIG, TOPIC)
    store.save(dedup.index, dedup.stats, {0: 1}, created_ms=1)  # type: ignore[arg-type]
    (store.root / "snap-2.tmp").mkdir()  # a crash mid-write leaves this behind
    (store.root / "snap-2.tmp" / "signatures.npy").write_bytes(b"partial")
    assert store.load().offsets == {0: 1}


def test_unusable_snapshot_is_one_warning_and_a_missing_one_an_info_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SnapshotStore(tmp_path, CONFIG, TOPIC)
    with caplog.at_level(logging.INFO, logger="streams.shell.snapshot"):
        assert load_or_none(store) is None  # a first start
    [(level, line)] = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert level == logging.INFO
    assert line == (f"no index snapshot yet (no snapshot in {store.root}): building the index "
                    "from the fingerprint log")
    caplog.clear()
    store.root.mkdir(parents=True, exist_ok=True)
    (store.root / "CURRENT").write_text("snap-1")  # names a snapshot that is not there
    assert load_or_none(store) is None
    [(level, line)] = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert level == logging.WARNING
    assert line.startswith("index snapshot not used (")
    assert line.endswith("): replaying the whole fingerprint log")


def test_snapshotter_waits_for_its_interval_and_for_a_caught_up_replica(tmp_path: Path) -> None:
    dedup = decided()
    clock = TestClock()
    covered: dict[int, int] | None = None

    async def offsets() -> dict[int, int] | None:
        return covered

    snapshotter = Snapshotter(store=SnapshotStore(tmp_path, CONFIG, TOPIC), dedup=dedup,
                              gate=StateGate(), covered=offsets, interval_s=300, clock=clock)

    async def scenario() -> list[int]:
        nonlocal covered
        written = []
        clock.advance(301)
        await snapshotter.maybe_snapshot()  # due, but the replica has not caught up
        written.append(snapshotter.written)
        covered = {0: 9}
        await snapshotter.maybe_snapshot()
        written.append(snapshotter.written)
        clock.advance(299)
        await snapshotter.maybe_snapshot()  # not due yet
        written.append(snapshotter.written)
        return written

    assert asyncio.run(scenario()) == [0, 1, 1]
    assert SnapshotStore(tmp_path, CONFIG, TOPIC).load().offsets == {0: 9}

    async def idle_then_busy() -> list[int]:
        nonlocal covered
        written = []
        clock.advance(301)
        await snapshotter.maybe_snapshot()  # due, but nothing applied since: not written
        written.append(snapshotter.written)
        clock.advance(301)
        covered = {0: 12}
        await snapshotter.maybe_snapshot()
        written.append(snapshotter.written)
        return written

    # An idle worker rewrote its whole snapshot every interval (a soak, 2026-12-06).
    assert asyncio.run(idle_then_busy()) == [1, 2]
    assert SnapshotStore(tmp_path, CONFIG, TOPIC).load().offsets == {0: 12}


def test_with_stories_on_the_snapshot_holds_the_stories(tmp_path: Path) -> None:
    config = CoreConfig()
    assert config.stories.enabled
    original = Deduplicator(config, worker="w", index=CompactIndex(config.dedup.lsh))
    outcomes(original, raws()[:3])

    async def offsets() -> dict[int, int] | None:
        return {0: 3}

    snapshotter = Snapshotter(store=SnapshotStore(tmp_path, config, TOPIC), dedup=original,
                              gate=StateGate(), covered=offsets, interval_s=300,
                              clock=TestClock())
    assert snapshotter.enabled
    assert asyncio.run(snapshotter.snapshot()) is True
    snapshot = load_or_none(SnapshotStore(tmp_path, config, TOPIC))
    assert snapshot is not None and snapshot.stories is not None
    assert snapshot.stories.export_state()[1] == original.stories.export_state()[1]
    restored = Deduplicator(config, worker="w", index=snapshot.index, stats=snapshot.stats,
                            stories=snapshot.stories)
    later = raws()[3:] + raws(offset=10)
    expected = outcomes(original, later)
    assert outcomes(restored, later) == expected
    assert {v["story_id"] for row in expected for k, _, v in row[:1]  # type: ignore[misc]
            if k == "enriched"} == {SAMPLES[0].stem}


def test_a_snapshot_without_stories_is_not_used_with_stories_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dedup = decided()  # stories off
    SnapshotStore(tmp_path, CONFIG, TOPIC).save(dedup.index, dedup.stats, {0: 1}, 1)  # type: ignore[arg-type]
    with caplog.at_level("WARNING"):
        assert load_or_none(SnapshotStore(tmp_path, CoreConfig(), TOPIC)) is None
    assert "another dedup configuration" in caplog.text
    assert "replaying the whole fingerprint log" in caplog.text


def test_a_corrupt_story_state_falls_back_to_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = CoreConfig()
    dedup = Deduplicator(config, worker="w", index=CompactIndex(config.dedup.lsh))
    outcomes(dedup, raws()[:3])
    store = SnapshotStore(tmp_path, config, TOPIC)
    path = store.save(dedup.index, dedup.stats, {0: 3}, 1, dedup.stories)  # type: ignore[arg-type]
    (path / "stories.json").write_bytes(b"{}")
    with caplog.at_level("WARNING"):
        assert load_or_none(store) is None
    assert "checksum mismatch in stories.json" in caplog.text
    (path / "story-centroid_keys.npy").unlink()
    with pytest.raises(SnapshotUnusableError, match="corrupt snapshot"):
        store.load()


def test_exclusive_waits_for_every_shared_holder_and_blocks_new_ones() -> None:
    gate = StateGate()
    events: list[str] = []

    async def mutator(name: str, hold: asyncio.Event) -> None:
        async with gate.shared():
            events.append(f"{name} in")
            await hold.wait()
            events.append(f"{name} out")

    async def scenario() -> None:
        hold = asyncio.Event()
        first = asyncio.create_task(mutator("a", hold))
        await asyncio.sleep(0)
        snap = asyncio.create_task(_exclusive(gate, events))
        await asyncio.sleep(0)
        late = asyncio.create_task(mutator("b", asyncio.Event()))
        await asyncio.sleep(0)
        hold.set()
        await asyncio.wait_for(asyncio.gather(first, snap), 5)
        late.cancel()

    asyncio.run(scenario())
    assert events[:4] == ["a in", "a out", "snapshot", "b in"]


async def _exclusive(gate: StateGate, events: list[str]) -> None:
    async with gate.exclusive():
        events.append("snapshot")


def test_snapshot_arrays_are_views_of_the_rows_in_use() -> None:
    dedup = decided()
    arrays, meta = dedup.index.export_state()  # type: ignore[attr-defined]
    assert meta["rows"] == meta["live"] == 3
    assert arrays["signatures"].shape == (3, 128) and arrays["signatures"].dtype == np.uint32


def test_a_cancelled_snapshot_holds_the_gate_until_its_thread_has_written(
    tmp_path: Path,
) -> None:
    dedup = decided()
    gate = StateGate()
    saving, release = threading.Event(), threading.Event()
    events: list[str] = []

    class SlowStore(SnapshotStore):
        def save(self, *args: Any, **kwargs: Any) -> Path:
            saving.set()
            release.wait(5)
            path = super().save(*args, **kwargs)
            events.append("written")
            return path

    async def offsets() -> dict[int, int]:
        return {0: 1}

    snapshotter = Snapshotter(store=SlowStore(tmp_path, CONFIG, TOPIC), dedup=dedup, gate=gate,
                              covered=offsets, interval_s=300, clock=TestClock())

    async def mutate() -> None:
        async with gate.shared():
            events.append("mutated")

    async def scenario() -> None:
        snap = asyncio.create_task(snapshotter.snapshot())
        while not saving.is_set():
            await asyncio.sleep(0.01)
        snap.cancel()  # e.g. the worker stopping mid-snapshot
        await asyncio.sleep(0.05)
        mutator = asyncio.create_task(mutate())
        await asyncio.sleep(0.05)
        events.append("released")
        release.set()
        await asyncio.wait_for(mutator, 5)
        with pytest.raises(asyncio.CancelledError):
            await snap

    asyncio.run(scenario())
    # no state change while the thread was still reading the index
    assert events == ["released", "written", "mutated"]
