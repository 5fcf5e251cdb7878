"""What ``ingest produce`` reads, without a broker: directories, gzip files and stdin."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import orjson
import pytest

from streams.cli.inputs import resolve_inputs
from streams.cli.produce import check_paths, messages_from_bytes, table_delimiter_of
from streams.core.errors import ConfigError

TABLE = "id,title,body\nr1,One,First article.\nr2,Two,Second article.\n"
ROWS = [{"id": "r1", "title": "One", "body": "First article.", "file": "stdin", "row": 1},
        {"id": "r2", "title": "Two", "body": "Second article.", "file": "stdin", "row": 2}]


def sent(paths: list[str], *, table: str | None = None, stdin: bytes | None = None,
         source: str | None = None) -> list[dict[str, object]]:
    """The envelopes ``ingest produce`` would send, in order."""
    return [orjson.loads(message) for item in check_paths(paths, table=table, stdin=stdin)
            for message in messages_from_bytes(item.read(), item.name, raw=False,
                                               source=source,
                                               delimiter=table_delimiter_of(item, table))]


def problem(paths: list[str], *, table: str | None = None, stdin: bytes | None = None) -> str:
    with pytest.raises(ConfigError) as raised:
        check_paths(paths, table=table, stdin=stdin)
    return raised.value.detail


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_directory_is_its_files_below_it_in_sorted_order_without_hidden_ones(
    tmp_path: Path,
) -> None:
    root = tmp_path / "crawl"
    for name in ("b.txt", "a/z.txt", "a/y/x.txt", "a.txt", ".hidden.txt", "a/.DS_Store",
                 ".git/HEAD", "a/.cache/c.txt"):
        write(root / name, name.encode())
    inputs = resolve_inputs([str(root)])
    # Sorted as strings, as `find crawl -type f | LC_ALL=C sort` lists them.
    assert [(i.label, i.name) for i in inputs] == [
        (str(root / "a.txt"), "a.txt"), (str(root / "a/y/x.txt"), "a/y/x.txt"),
        (str(root / "a/z.txt"), "a/z.txt"), (str(root / "b.txt"), "b.txt")]
    assert [(e["file"], e["body"]) for e in sent([str(root)])] == [
        ("a.txt", "a.txt"), ("a/y/x.txt", "a/y/x.txt"), ("a/z.txt", "a/z.txt"),
        ("b.txt", "b.txt")]


def test_a_symbolic_link_to_a_directory_is_not_followed_one_to_a_file_is(tmp_path: Path) -> None:
    root = write(tmp_path / "d" / "a.txt", b"A").parent
    write(tmp_path / "elsewhere" / "b.txt", b"B")
    (root / "loop").symlink_to(root)
    (root / "b.txt").symlink_to(tmp_path / "elsewhere" / "b.txt")
    assert [(e["file"], e["body"]) for e in sent([str(root)])] == [("a.txt", "A"), ("b.txt", "B")]


def test_a_directory_without_visible_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "d" / ".only-hidden", b"x")
    (tmp_path / "d" / "empty").mkdir()
    assert problem([str(tmp_path / "d")]) == (
        f"{tmp_path / 'd'}: is a directory without files (hidden ones are skipped) "
        "(nothing sent)")


def test_gzip_files_are_decompressed_and_named_as_they_are_on_disk(tmp_path: Path) -> None:
    text = write(tmp_path / "a.txt.gz", gzip.compress("Ein Artikel über Köln.".encode()))
    table = write(tmp_path / "t.CSV.GZ", gzip.compress(TABLE.encode()))
    envelopes = sent([str(text), str(table)], source="wire")
    assert envelopes == [
        {"body": "Ein Artikel über Köln.", "file": "a.txt.gz", "source": "wire"},
        *({**row, "file": "t.CSV.GZ", "source": "wire"} for row in ROWS)]


def test_gzip_envelopes_and_json_lines_are_read_as_their_content(tmp_path: Path) -> None:
    lines = b'{"id": "1", "body": "A"}\n{"id": "2", "body": "B"}\n'
    path = write(tmp_path / "feed.jsonl.gz", gzip.compress(lines))
    assert sent([str(path)]) == [{"id": "1", "body": "A"}, {"id": "2", "body": "B"}]


def test_raw_sends_the_decompressed_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "page.html.gz", gzip.compress(b"<p>Hi</p>"))
    [item] = check_paths([str(path)])
    assert list(messages_from_bytes(item.read(), item.name, raw=True)) == [b"<p>Hi</p>"]


def test_gzip_files_that_cannot_be_decompressed_whole_are_refused(tmp_path: Path) -> None:
    whole = gzip.compress(b"A long enough article body. " * 100)
    bad = write(tmp_path / "bad.gz", b"hello")
    cut = write(tmp_path / "cut.txt.gz", whole[: len(whole) // 2])
    assert problem([str(bad), str(cut)]) == (
        f"{bad}: not gzip data (Not a gzipped file (b'he')); {cut}: gzip data cut short "
        "(nothing sent)")


def test_a_gzip_table_without_a_body_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv.gz", gzip.compress(b"id,title\n1,One\n"))
    assert problem([str(path)]) == (
        f"{path}: a table needs a body column in its header row (one of body, text, content, "
        "article, full_text, maintext); its header is id, title (nothing sent)")


def test_a_table_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    # A new-user trial, 2026-12-05: "id,text,text" sent the second cell as the body.
    path = write(tmp_path / "t.csv", b'id,text,TEXT\n1,"first body",second\n')
    assert problem([str(path)]) == (
        f"{path}: its header row names column 'TEXT' twice (columns 2 and 3) (nothing sent)")
    blank = write(tmp_path / "blank.csv", b"id,body,,\n1,First article.,,\n")  # trailing commas
    assert sent([str(blank)]) == [{"id": "1", "body": "First article.", "file": "blank.csv",
                                   "row": 1}]


def test_stdin_is_a_table_with_format(tmp_path: Path) -> None:
    assert sent(["-"], table="csv", stdin=TABLE.encode()) == ROWS
    tab = TABLE.replace(",", "\t").encode()
    assert sent(["-"], table="tsv", stdin=tab) == ROWS
    assert sent(["-"], table="csv", stdin=tab) == ROWS  # a .csv may be tab-separated


def test_stdin_without_format_is_read_as_a_file_without_a_name_is() -> None:
    assert sent(["-"], stdin=TABLE.encode()) == [{"body": TABLE, "file": "stdin"}]
    assert sent(["-"], stdin=b'[{"body": "A"}, {"body": "B"}]') == [{"body": "A"},
                                                                      {"body": "B"}]


def test_gzip_on_stdin_is_known_by_its_signature() -> None:
    assert sent(["-"], table="csv", stdin=gzip.compress(TABLE.encode())) == ROWS
    assert problem(["-"], stdin=b"\x1f\x8b\x08\x00garbage") == (
        "-: gzip data cut short (nothing sent)")


def test_format_makes_every_input_a_table(tmp_path: Path) -> None:
    path = write(tmp_path / "export.txt", TABLE.encode())
    assert [e["id"] for e in sent([str(path)], table="csv")] == ["r1", "r2"]
    assert problem([str(path)], table="tsv") == (
        f"{path}: a table needs a body column in its header row (one of body, text, content, "
        "article, full_text, maintext); its header is id,title,body (nothing sent)")


def test_stdin_table_without_a_body_column_is_refused() -> None:
    assert problem(["-"], table="csv", stdin=b"id,title\n1,One\n") == (
        "-: a table needs a body column in its header row (one of body, text, content, "
        "article, full_text, maintext); its header is id, title (nothing sent)")
    assert problem(["-"], table="csv", stdin=b"\x89PNG\r\n\x1a\n\x00\x00\x00") == (
        "-: not text, so not a .csv table (nothing sent)")


def test_stdin_twice_is_refused() -> None:
    assert problem(["-", "-"], stdin=b"A") == "-: stdin given more than once (nothing sent)"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_or_folder_in_a_directory_is_named(tmp_path: Path) -> None:
    secret = write(tmp_path / "d" / "secret.txt", b"x")
    locked = write(tmp_path / "d" / "locked" / "a.txt", b"x").parent
    secret.chmod(0)
    locked.chmod(0)
    try:
        assert problem([str(tmp_path / "d")]) == (
            f"{secret}: not readable (permission denied); {locked}: not readable "
            "(permission denied) (nothing sent)")
    finally:
        locked.chmod(0o755)


def test_a_file_named_twice_is_sent_twice_as_before(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", b"A")
    assert sent([str(path), str(path)]) == [{"body": "A", "file": "a.txt"}] * 2
