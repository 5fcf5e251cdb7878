"""Index snapshots in the data directory: the compact index, the learned-boilerplate counts and
the fingerprint-log offsets they cover, so a restart reads only the log written since.

Layout under ``<data dir>/index-snapshot/``::

    CURRENT                 name of the newest complete snapshot (replaced atomically)
    snap-<ms>/manifest.json version, compatibility key, topic, offsets, checksums
    snap-<ms>/<array>.npy   one numpy file per array of CompactIndex.export_state
    snap-<ms>/stats.json    ParagraphStats.to_bytes
    snap-<ms>/story-<array>.npy, stories.json
                            StoryState.export_state (arrays, plain data), with stories on

A snapshot is written into ``snap-<ms>.tmp``, every file fsynced, the directory renamed,
then ``CURRENT`` written to a temporary file, fsynced and renamed over the old one: a crash
at any point leaves the previous snapshot intact. Loading checks the version, the
compatibility key (the dedup configuration and the entry's fields), the topic and each
array's xxh3-128; any failure is one :class:`SnapshotUnusableError` with the reason, and the
worker then replays the whole log.

Learned-boilerplate counts and the stories (``streams.core.stories``) are in the snapshot
because they are fed by the same log: rebuilding them would need every record, i.e. the full
replay the snapshot exists to avoid. A snapshot written with stories off (or with other story
settings) has another compatibility key, so it is not used with stories on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import xxhash

from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.model import IndexEntry
from streams.core.dedup.spill import SpillFactory
from streams.core.errors import InternalError, SnapshotMissingError, SnapshotUnusableError
from streams.core.fingerprint_log import LogMark
from streams.core.stories.state import StoryState
from streams.core.text.learned import ParagraphStats

log = logging.getLogger(__name__)

# 2: the story state; 3: hash keys with learned boilerplate too; 4: revisions keyed by the
# hash of the version they follow too
SNAPSHOT_VERSION = 4
SNAPSHOT_DIR = "index-snapshot"
_CURRENT = "CURRENT"
_MANIFEST = "manifest.json"
_STATS = "stats.json"
_STORIES = "stories.json"
_STORY_PREFIX = "story-"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A loaded snapshot: the state, and the next log offset of each partition it covers."""

    index: CompactIndex
    stats: ParagraphStats
    stories: StoryState | None  # None when stories are off
    offsets: dict[int, int]
    created_ms: int
    path: Path
    # The last record applied on each partition (not every partition has one): the log must
    # still hold it there (``streams.core.fingerprint_log.LogMark``). Empty in snapshots
    # written before 2026-12-06.
    marks: dict[int, LogMark] = field(default_factory=dict)


def compatibility_key(config: CoreConfig, topic: str) -> str:
    """What a snapshot's state depends on besides the log: a change means a full replay."""
    fields = [f.name for f in dataclasses.fields(IndexEntry)]
    text = repr((SNAPSHOT_VERSION, config.dedup, config.learned, config.stories, topic, fields))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _checksum(array: np.ndarray[Any, Any]) -> str:
    return xxhash.xxh3_128_hexdigest(np.ascontiguousarray(array).data)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _write_arrays(directory: Path, arrays: dict[str, np.ndarray[Any, Any]],
                  prefix: str = "") -> dict[str, str]:
    """Each array to ``<prefix><name>.npy``, fsynced; returns their checksums by name."""
    checksums = {}
    for name, array in arrays.items():
        with open(directory / f"{prefix}{name}.npy", "wb") as f:
            np.save(f, array, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        checksums[name] = _checksum(array)
    return checksums


def _read_arrays(directory: Path, checksums: dict[str, str],
                 prefix: str = "") -> dict[str, np.ndarray[Any, Any]]:
    """The arrays :func:`_write_arrays` wrote, each checked against its checksum."""
    arrays = {}
    for name, expected in checksums.items():
        file_name = f"{prefix}{name}.npy"
        array = np.load(directory / file_name, allow_pickle=False)
        if _checksum(array) != expected:
            raise SnapshotUnusableError(f"checksum mismatch in {file_name}")
        arrays[name] = array
    return arrays


def _read_checked(path: Path, expected: str) -> bytes:
    """A file's bytes, checked against their xxh3-128."""
    data = path.read_bytes()
    if xxhash.xxh3_128_hexdigest(data) != expected:
        raise SnapshotUnusableError(f"checksum mismatch in {path.name}")
    return data


class SnapshotStore:
    """Writes and reads snapshots of one worker's state under ``data_dir``."""

    def __init__(self, data_dir: Path, config: CoreConfig, topic: str, *,
                 spill: SpillFactory | None = None) -> None:
        self.root = Path(data_dir) / SNAPSHOT_DIR
        self.spill = spill  # where a loaded index puts its rows' cold bytes (None: the heap)
        self.config = config
        self.topic = topic
        self.key = compatibility_key(config, topic)

    def save(self, index: CompactIndex, stats: ParagraphStats, offsets: dict[int, int],
             created_ms: int, stories: StoryState | None = None, *,
             marks: Mapping[int, LogMark] | None = None) -> Path:
        """Write one snapshot atomically; returns its directory. Old ones are removed.

        ``stories`` is required when the configuration has stories on (and ignored when off).
        ``marks``: the last record applied on each partition (see :class:`Snapshot`).
        """
        arrays, meta = index.export_state()
        stats_bytes = stats.to_bytes()
        story_arrays: dict[str, np.ndarray[Any, Any]] = {}
        story_bytes = b""
        if self.config.stories.enabled:
            if stories is None:
                raise InternalError("stories are on: the snapshot needs their state")
            story_arrays, story_meta = stories.export_state()
            story_bytes = orjson.dumps(story_meta)
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"snap-{created_ms}"
        final = self.root / name
        tmp = self.root / f"{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        checksums = _write_arrays(tmp, arrays)
        _write_file(tmp / _STATS, stats_bytes)
        story_checksums = _write_arrays(tmp, story_arrays, _STORY_PREFIX)
        if self.config.stories.enabled:
            _write_file(tmp / _STORIES, story_bytes)
        manifest = {
            "version": SNAPSHOT_VERSION, "key": self.key, "topic": self.topic,
            "created_ms": created_ms, "offsets": {str(p): o for p, o in offsets.items()},
            "marks": {str(p): mark.to_json() for p, mark in (marks or {}).items()},
            "meta": meta, "checksums": checksums,
            "stats_checksum": xxhash.xxh3_128_hexdigest(stats_bytes),
            "stories": self.config.stories.enabled, "story_checksums": story_checksums,
            "stories_checksum": xxhash.xxh3_128_hexdigest(story_bytes),
        }
        _write_file(tmp / _MANIFEST, orjson.dumps(manifest))
        _fsync_dir(tmp)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        _fsync_dir(self.root)
        _write_file(self.root / f"{_CURRENT}.tmp", name.encode())
        os.rename(self.root / f"{_CURRENT}.tmp", self.root / _CURRENT)
        _fsync_dir(self.root)
        for old in self.root.iterdir():
            if old.name not in (name, _CURRENT):
                shutil.rmtree(old, ignore_errors=True)
        return final

    def load(self) -> Snapshot:
        """The newest snapshot, verified; :class:`SnapshotUnusableError` says why not."""
        try:
            name = (self.root / _CURRENT).read_text().strip()
        except FileNotFoundError:
            raise SnapshotMissingError(f"no snapshot in {self.root}") from None
        except OSError as exc:
            raise SnapshotUnusableError(f"unreadable {self.root / _CURRENT}: {exc}") from exc
        path = self.root / name
        try:
            manifest = orjson.loads((path / _MANIFEST).read_bytes())
            if manifest.get("version") != SNAPSHOT_VERSION:
                raise SnapshotUnusableError(f"snapshot version {manifest.get('version')!r}, this "
                                       f"worker reads {SNAPSHOT_VERSION}")
            if manifest.get("topic") != self.topic:
                raise SnapshotUnusableError(f"snapshot of topic {manifest.get('topic')!r}")
            if manifest.get("key") != self.key:
                raise SnapshotUnusableError("snapshot written with another dedup configuration or "
                                       "entry format")
            arrays = _read_arrays(path, manifest["checksums"])
            stats_bytes = _read_checked(path / _STATS, manifest["stats_checksum"])
            spill = self.spill() if self.spill else None
            try:
                index = CompactIndex.from_state(self.config.dedup.lsh, arrays,
                                                manifest["meta"], spill=spill)
                stats = ParagraphStats.from_bytes(stats_bytes, self.config.learned)
                stories = self._load_stories(path, manifest)
            except BaseException:
                if spill is not None:
                    spill.close()  # the files of rows already spilled
                raise
            offsets = {int(p): int(o) for p, o in manifest["offsets"].items()}
            marks = {int(p): LogMark.from_json(m) for p, m in manifest.get("marks", {}).items()}
        except SnapshotUnusableError:
            raise
        except (OSError, ValueError, KeyError, TypeError, IndexError, InternalError) as exc:
            raise SnapshotUnusableError(f"corrupt snapshot {path.name}: {exc}") from exc
        return Snapshot(index, stats, stories, offsets, int(manifest["created_ms"]), path, marks)

    def _load_stories(self, path: Path, manifest: dict[str, Any]) -> StoryState | None:
        if not self.config.stories.enabled:
            return None
        if not manifest.get("stories"):
            raise SnapshotUnusableError("snapshot without the story state")
        arrays = _read_arrays(path, manifest["story_checksums"], _STORY_PREFIX)
        story_bytes = _read_checked(path / _STORIES, manifest["stories_checksum"])
        return StoryState.from_state(self.config.stories, arrays, orjson.loads(story_bytes),
                                     window_ms=self.config.window_ms)


def load_or_none(store: SnapshotStore) -> Snapshot | None:
    """The snapshot, or None with one log line saying why the whole log will be replayed."""
    started = time.monotonic()
    try:
        snapshot = store.load()
    except SnapshotMissingError as exc:  # a first start: nothing went wrong
        log.info("no index snapshot yet (%s): building the index from the fingerprint log", exc)
        return None
    except SnapshotUnusableError as exc:
        log.warning("index snapshot not used (%s): replaying the whole fingerprint log", exc)
        return None
    log.info("index snapshot %s loaded: %d entries, %d stories in %.1f s, covering "
             "fingerprint-log offsets %s", snapshot.path.name, len(snapshot.index),
             len(snapshot.stories) if snapshot.stories is not None else 0,
             time.monotonic() - started, snapshot.offsets)
    return snapshot
