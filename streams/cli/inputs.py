"""What ``ingest produce`` reads: files, directories of files, gzip files and stdin.

Every input is resolved and checked before anything is sent (a partial send makes the
corrected re-run send the good files twice): a directory becomes its files, a gzip file is
decompressed once to check it is whole, and stdin is read whole (it cannot be read twice).
"""

from __future__ import annotations

import gzip
import os
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from streams.core.errors import ConfigError

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
GZIP_SUFFIX = ".gz"
_CHUNK = 1 << 20
# What a corrupt or cut gzip stream raises while it is read.
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


@dataclass(frozen=True, slots=True)
class Input:
    """One file (or stdin) to send: ``label`` names it on stderr, ``name`` in the envelopes'
    ``file`` field (a directory's files by their path below it, ``news/a.html``)."""

    label: str
    name: str
    path: Path | None = None  # None: stdin, whose bytes are ``data``
    data: bytes = b""
    compressed: bool = False  # a .gz file, decompressed when read

    @property
    def inner_name(self) -> str:
        """``name`` without the .gz suffix: what the content is (``a.csv.gz`` is a table)."""
        return self.name[: -len(GZIP_SUFFIX)] if self.compressed else self.name

    def read(self) -> bytes:
        """The whole content, decompressed; ConfigError when it cannot be read."""
        if self.path is None:
            return self.data
        try:
            data = self.path.read_bytes()
            return gzip.decompress(data) if self.compressed else data
        except _GZIP_ERRORS as exc:
            raise ConfigError(f"{self.label}: {_reason(exc)}") from exc

    def head(self, size: int) -> bytes:
        """At most the first ``size`` bytes of the content, decompressed."""
        if self.path is None:
            return self.data[:size]
        with self.path.open("rb") as raw:
            if not self.compressed:
                return raw.read(size)
            with gzip.GzipFile(fileobj=raw) as unpacked:
                return unpacked.read(size)


def resolve_inputs(paths: Sequence[str], stdin: bytes | None = None) -> list[Input]:
    """The inputs ``paths`` name, in order, a directory's files in sorted order; a
    ConfigError naming every problem when any cannot be read. ``stdin``: its bytes (read
    from the process's stdin when None and ``-`` is given)."""
    inputs: list[Input] = []
    problems: list[str] = []
    if paths.count(STDIN) > 1:  # read once, it would be empty the second time
        problems.append("-: stdin given more than once")
    for path in paths:
        if path == STDIN:
            if not any(item.path is None for item in inputs):
                data = sys.stdin.buffer.read() if stdin is None else stdin
                inputs.append(_stdin_input(data, problems))
        elif Path(path).is_dir():
            inputs.extend(_directory_inputs(Path(path), problems))
        elif (problem := _file_problem(Path(path))) is not None:
            problems.append(f"{path}: {problem}")
        else:
            inputs.append(_file_input(Path(path), path, Path(path).name, problems))
    if problems:
        raise ConfigError("; ".join(problems) + " (nothing sent)")
    return inputs


def _stdin_input(data: bytes, problems: list[str]) -> Input:
    if data.startswith(GZIP_MAGIC):  # no name to go by: gzip's own signature
        try:
            data = gzip.decompress(data)
        except _GZIP_ERRORS as exc:
            problems.append(f"-: {_reason(exc)}")
    return Input(label=STDIN, name="stdin", data=data)


def _file_input(file: Path, label: str, name: str, problems: list[str]) -> Input:
    compressed = file.name.lower().endswith(GZIP_SUFFIX)
    if compressed and (problem := _gzip_problem(file)) is not None:
        problems.append(f"{label}: {problem}")
    return Input(label=label, name=name, path=file, compressed=compressed)


def _directory_inputs(root: Path, problems: list[str]) -> list[Input]:
    """Every file below ``root``, in sorted order of its path below it, without hidden files
    and directories (``.git``, ``.DS_Store``); symbolic links to files are followed, to
    directories not (a link to a parent would never end)."""
    found: list[tuple[str, Path]] = []
    errors: list[OSError] = []
    for folder, dirs, files in os.walk(root, onerror=errors.append):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            file = Path(folder) / name
            if name.startswith(".") or not file.is_file():  # a socket, a FIFO, a broken link
                continue
            if (problem := _file_problem(file)) is not None:
                problems.append(f"{file}: {problem}")
                continue
            found.append((file.relative_to(root).as_posix(), file))
    problems.extend(f"{error.filename}: not readable ({(error.strerror or str(error)).lower()})"
                    for error in errors)
    if not found and not errors:
        problems.append(f"{root}: is a directory without files (hidden ones are skipped)")
    return [_file_input(file, str(file), relative, problems) for relative, file in sorted(found)]


def _file_problem(file: Path) -> str | None:
    if not file.exists():
        return "no such file"
    if not os.access(file, os.R_OK):
        return "not readable (permission denied)"
    return None


def _gzip_problem(file: Path) -> str | None:
    """Why a .gz file cannot be decompressed whole, if it cannot (read through to the end:
    a file cut short fails only there)."""
    try:
        with gzip.open(file, "rb") as unpacked:
            while unpacked.read(_CHUNK):
                pass
    except _GZIP_ERRORS as exc:
        return _reason(exc)
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "gzip data cut short"
    if isinstance(exc, PermissionError):
        return "not readable (permission denied)"
    return f"not gzip data ({exc})" if isinstance(exc, gzip.BadGzipFile | zlib.error) else (
        f"not readable ({exc})")
