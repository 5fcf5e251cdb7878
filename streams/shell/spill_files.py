"""Spill segments of the compact index (:mod:`streams.core.dedup.spill`) as files.

Each segment is an unlinked temporary file (``O_TMPFILE`` where the kernel has it) in the
worker's data directory: nothing to clean up after a crash, and no other process can open
it. The bytes are a cache of the index, not state: a restart rebuilds them from the index
snapshot or the fingerprint log. Reads and writes are ``pread``/``pwrite`` on the file's
descriptor, so the bytes live in the kernel's page cache, not in the worker's heap, and
memory pressure evicts them like any file page.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from streams.core.dedup.spill import Spill

SPILL_DIR = "index-spill"


class FileSegments:
    """:class:`streams.core.dedup.spill.SegmentStorage` in unlinked files of ``directory``."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._files: dict[int, BinaryIO] = {}

    def create(self, segment: int) -> None:
        # open until the segment is dropped (no context manager can span that)
        self._files[segment] = tempfile.TemporaryFile(  # noqa: SIM115
            dir=self.directory, prefix="segment-")

    def write(self, segment: int, position: int, data: bytes) -> None:
        fd = self._files[segment].fileno()
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, position)
            view = view[written:]
            position += written

    def read(self, segment: int, position: int, size: int) -> bytes:
        return os.pread(self._files[segment].fileno(), size, position)

    def drop(self, segment: int) -> None:
        self._files.pop(segment).close()

    def close(self) -> None:
        for file in self._files.values():
            file.close()
        self._files.clear()


def file_spill(data_dir: Path) -> Spill:
    """A spill in ``<data_dir>/index-spill``."""
    return Spill(FileSegments(Path(data_dir) / SPILL_DIR))
