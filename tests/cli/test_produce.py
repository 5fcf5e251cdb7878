"""``ingest produce`` without a broker: what it sends and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.cli.produce import check_partition, check_paths
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


@pytest.mark.parametrize(("partition", "held", "expected"), [
    (99, {0, 1, 2, 3}, "--partition 99: articles.raw has partitions 0-3"),
    (-1, {0, 1, 2, 3}, "--partition -1: articles.raw has partitions 0-3"),
    (1, {0, 2}, "--partition 1: articles.raw has partitions 0, 2"),
    (0, set(), "--partition 0: the broker reports no partitions of articles.raw"),
    (0, None, "--partition 0: the broker reports no partitions of articles.raw"),
])
def test_a_partition_the_topic_lacks_is_refused_with_the_range(
    partition: int, held: set[int] | None, expected: str,
) -> None:
    with pytest.raises(ConfigError) as raised:
        check_partition(partition, "articles.raw", held)
    assert raised.value.detail == expected


def test_a_partition_the_topic_has_passes() -> None:
    check_partition(3, "articles.raw", {0, 1, 2, 3})
