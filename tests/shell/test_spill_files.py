"""Spill segments in unlinked files of the data directory: read back exactly, never visible."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.spill import Spill
from streams.core.errors import SnapshotUnusableError
from streams.core.pipeline import Deduplicator
from streams.core.stories.config import StoryConfig
from streams.settings import Settings
from streams.shell.snapshot import SnapshotStore
from streams.shell.spill_files import SPILL_DIR, FileSegments, file_spill
from streams.shell.worker import new_index, spill_for
from tests.shell.test_snapshot import CONFIG, TOPIC, decided, outcomes, raws


def test_segments_read_back_what_was_written_and_leave_no_file(tmp_path: Path) -> None:
    segments = FileSegments(tmp_path / "spill")
    segments.create(0)
    segments.create(3)
    segments.write(0, 0, b"hello ")
    segments.write(0, 6, b"world")
    segments.write(3, 0, bytes(range(256)) * 64)
    assert segments.read(0, 0, 11) == b"hello world"
    assert segments.read(0, 6, 5) == b"world"
    assert segments.read(3, 255, 2) == b"\xff\x00"
    assert segments.read(0, 8, 10) == b"rld"  # past the end: short, the spill's check fails it
    assert os.listdir(tmp_path / "spill") == []  # unlinked from the start
    segments.drop(0)
    assert segments.read(3, 0, 4) == b"\x00\x01\x02\x03"
    segments.close()


def test_the_settings_choose_the_spill(tmp_path: Path) -> None:
    on = Settings(data_dir=tmp_path)
    index = new_index(CONFIG, "compact", spill_for(on))
    assert isinstance(index, CompactIndex) and index._spill is not None
    assert (tmp_path / SPILL_DIR).is_dir()
    off = Settings(data_dir=tmp_path, index_spill=False)
    assert spill_for(off) is None
    assert new_index(CONFIG, "compact", spill_for(off))._spill is None  # type: ignore[attr-defined]


def test_a_snapshot_loads_into_a_file_spill_and_decides_like_the_original(
    tmp_path: Path,
) -> None:
    original = decided()
    SnapshotStore(tmp_path, CONFIG, TOPIC).save(
        original.index, original.stats, {0: 3}, created_ms=1)  # type: ignore[arg-type]
    store = SnapshotStore(tmp_path, CONFIG, TOPIC, spill=lambda: file_spill(tmp_path))
    snapshot = store.load()
    assert snapshot.index.stats().spilled_bytes > 0
    restored = Deduplicator(CONFIG, worker="w", index=snapshot.index, stats=snapshot.stats)
    later = raws()[3:] + raws(offset=10)
    assert outcomes(restored, later) == outcomes(original, later)
    # and a spilled index snapshots to the same files as a heap one
    again = tmp_path / "again"
    SnapshotStore(again, CONFIG, TOPIC).save(
        snapshot.index, snapshot.stats, {0: 3}, created_ms=2)  # type: ignore[arg-type]
    back = SnapshotStore(again, CONFIG, TOPIC).load()
    assert back.index.export_state()[0]["blob_data"].tobytes() == (
        snapshot.index.export_state()[0]["blob_data"].tobytes())


def test_a_snapshot_refused_after_its_rows_were_spilled_closes_their_files(
    tmp_path: Path,
) -> None:
    original = decided()  # stories off
    SnapshotStore(tmp_path, CONFIG, TOPIC).save(
        original.index, original.stats, {0: 3}, created_ms=1)  # type: ignore[arg-type]
    spills: list[Spill] = []

    def spill() -> Spill:
        spills.append(file_spill(tmp_path))
        return spills[-1]

    with_stories = dataclasses.replace(CONFIG, stories=StoryConfig(enabled=True))
    # the key differs with stories on, so make it match to reach the story check
    store = SnapshotStore(tmp_path, with_stories, TOPIC, spill=spill)
    store.key = SnapshotStore(tmp_path, CONFIG, TOPIC).key
    with pytest.raises(SnapshotUnusableError, match="without the story state"):
        store.load()
    [used] = spills
    assert used.held_bytes == 0
    assert used.storage._files == {}  # type: ignore[attr-defined]
