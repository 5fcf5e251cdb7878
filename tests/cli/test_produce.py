"""``ingest produce`` without a broker: what it sends and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.cli.produce import check_paths
from streams.core.errors import ConfigError


def test_every_path_is_checked_and_every_problem_named(tmp_path: Path) -> None:
    good = tmp_path / "a.txt"
    good.write_text("Text.")
    missing, folder = tmp_path / "nope.txt", tmp_path / "dir"
    folder.mkdir()
    with pytest.raises(ConfigError) as raised:
        check_paths([str(good), str(missing), "-", str(folder)])
    assert raised.value.detail == (
        f"{missing}: no such file; {folder}: is a directory (nothing sent)")


def test_readable_files_and_stdin_pass(tmp_path: Path) -> None:
    good = tmp_path / "a.txt"
    good.write_text("Text.")
    check_paths([str(good), "-"])
