"""Index snapshots in the data directory: the compact index, the learned-boilerplate counts and
the fingerprint-log offsets they cover, so a restart reads only the log written since.

Layout under ``<data dir>/index-snapshot/``::

    CURRENT                 name of the newest complete snapshot (replaced atomically)
    snap-<ms>/manifest.json version, compatibility key, topic, offsets, checksums
    snap-<ms>/<array>.npy   one numpy file per array of CompactIndex.export_state
    snap-<ms>/stats.json    ParagraphStats.to_bytes

A snapshot is written into ``snap-<ms>.tmp``, every file fsynced, the directory renamed,
then ``CURRENT`` written to a temporary file, fsynced and renamed over the old one: a crash
at any point leaves the previous snapshot intact. Loading checks the version, the
compatibility key (the dedup configuration and the entry's fields), the topic and each
array's xxh3-128; any failure is one :class:`SnapshotUnusableError` with the reason, and the
worker then replays the whole log.

Learned-boilerplate counts are in the snapshot because they are fed by the same log:
rebuilding them would need the paragraph keys of every record, i.e. the full replay the
snapshot exists to avoid.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import xxhash

from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.model import IndexEntry
from streams.core.errors import InternalError, SnapshotUnusableError
from streams.core.text.learned import ParagraphStats

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
SNAPSHOT_DIR = "index-snapshot"
_CURRENT = "CURRENT"
_MANIFEST = "manifest.json"
_STATS = "stats.json"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A loaded snapshot: the state, and the next log offset of each partition it covers."""

    index: CompactIndex
    stats: ParagraphStats
    offsets: dict[int, int]
    created_ms: int
    path: Path


def compatibility_key(config: CoreConfig, topic: str) -> str:
    """What a snapshot's state depends on besides the log: a change means a full replay."""
    fields = [f.name for f in dataclasses.fields(IndexEntry)]
    text = repr((SNAPSHOT_VERSION, config.dedup, config.learned, topic, fields))
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


class SnapshotStore:
    """Writes and reads snapshots of one worker's state under ``data_dir``."""

    def __init__(self, data_dir: Path, config: CoreConfig, topic: str) -> None:
        self.root = Path(data_dir) / SNAPSHOT_DIR
        self.config = config
        self.topic = topic
        self.key = compatibility_key(config, topic)

    def save(self, index: CompactIndex, stats: ParagraphStats, offsets: dict[int, int],
             created_ms: int) -> Path:
        """Write one snapshot atomically; returns its directory. Old ones are removed."""
        arrays, meta = index.export_state()
        stats_bytes = stats.to_bytes()
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"snap-{created_ms}"
        final = self.root / name
        tmp = self.root / f"{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        checksums = {}
        for array_name, array in arrays.items():
            with open(tmp / f"{array_name}.npy", "wb") as f:
                np.save(f, array, allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
            checksums[array_name] = _checksum(array)
        _write_file(tmp / _STATS, stats_bytes)
        manifest = {
            "version": SNAPSHOT_VERSION, "key": self.key, "topic": self.topic,
            "created_ms": created_ms, "offsets": {str(p): o for p, o in offsets.items()},
            "meta": meta, "checksums": checksums,
            "stats_checksum": xxhash.xxh3_128_hexdigest(stats_bytes),
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
            raise SnapshotUnusableError(f"no snapshot in {self.root}") from None
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
            arrays = {}
            for array_name, expected in manifest["checksums"].items():
                array = np.load(path / f"{array_name}.npy", allow_pickle=False)
                if _checksum(array) != expected:
                    raise SnapshotUnusableError(f"checksum mismatch in {array_name}.npy")
                arrays[array_name] = array
            stats_bytes = (path / _STATS).read_bytes()
            if xxhash.xxh3_128_hexdigest(stats_bytes) != manifest["stats_checksum"]:
                raise SnapshotUnusableError(f"checksum mismatch in {_STATS}")
            index = CompactIndex.from_state(self.config.dedup.lsh, arrays, manifest["meta"])
            stats = ParagraphStats.from_bytes(stats_bytes, self.config.learned)
            offsets = {int(p): int(o) for p, o in manifest["offsets"].items()}
        except SnapshotUnusableError:
            raise
        except (OSError, ValueError, KeyError, TypeError, IndexError, InternalError) as exc:
            raise SnapshotUnusableError(f"corrupt snapshot {path.name}: {exc}") from exc
        return Snapshot(index, stats, offsets, int(manifest["created_ms"]), path)


def load_or_none(store: SnapshotStore) -> Snapshot | None:
    """The snapshot, or None with one log line saying why the whole log will be replayed."""
    started = time.monotonic()
    try:
        snapshot = store.load()
    except SnapshotUnusableError as exc:
        log.warning("index snapshot not used (%s): replaying the whole fingerprint log", exc)
        return None
    log.info("index snapshot %s loaded: %d entries in %.1f s, covering fingerprint-log "
             "offsets %s", snapshot.path.name, len(snapshot.index), time.monotonic() - started,
             snapshot.offsets)
    return snapshot
