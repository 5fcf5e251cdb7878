"""``ingest produce`` without a broker: what it sends and what it refuses."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from streams.cli.produce import (
    Progress,
    check_partition,
    check_paths,
    check_topic,
    message_key,
    messages_from_bytes,
)
from streams.core.envelope import parse_envelope
from streams.core.errors import (
    BinaryContentError,
    ConfigError,
    InvalidEnvelopeError,
    MissingBodyError,
)


def test_every_path_is_checked_and_every_problem_named(tmp_path: Path) -> None:
    good = tmp_path / "a.txt"
    good.write_text("Text.")
    missing, folder = tmp_path / "nope.txt", tmp_path / "dir"
    folder.mkdir()
    with pytest.raises(ConfigError) as raised:
        check_paths([str(good), str(missing), "-", str(folder)], stdin=b"Text.")
    assert raised.value.detail == (
        f"{missing}: no such file; {folder}: is a directory without files (hidden ones are "
        "skipped) (nothing sent)")


def test_readable_files_and_stdin_pass(tmp_path: Path) -> None:
    good = tmp_path / "a.txt"
    good.write_text("Text.")
    assert [(i.label, i.name, i.read()) for i in check_paths([str(good), "-"], stdin=b"In.")] == [
        (str(good), "a.txt", b"Text."), ("-", "stdin", b"In.")]


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


LATIN_1 = ("Le café de la gare a rouvert ses portes à Paris après des mois de travaux, au grand "
           "plaisir des habitués.")
JAPANESE = "東京都は本日、新しい防災計画を発表しました。計画には避難所の増設が含まれています。"
GERMAN = "Zürich: Die Stadt plant neue Radwege für 2025."
PAGE = ('<html><head><meta charset="windows-1252"><title>Élection</title></head>'
        "<body><p>“Quotes” — naïve café</p></body></html>")


@pytest.mark.parametrize(("data", "text", "encoding"), [
    (LATIN_1.encode("latin-1"), LATIN_1, "cp1252"),  # the detector's name for it
    (JAPANESE.encode("shift_jis"), JAPANESE, "cp932"),
    (GERMAN.encode("utf-16"), GERMAN, "utf-16"),  # with its byte-order mark
    (PAGE.encode("cp1252"), PAGE, "cp1252"),  # declared by the page
], ids=["latin-1", "shift_jis", "utf-16", "cp1252-page"])
def test_a_file_in_another_charset_is_wrapped_with_file_source_and_its_encoding(
    data: bytes, text: str, encoding: str,
) -> None:
    [message] = messages_from_bytes(data, "f.txt", raw=False, source="wire")
    assert orjson.loads(message) == {"body": text, "file": "f.txt", "file_encoding": encoding,
                                     "source": "wire"}
    # What the worker makes of it: the source honoured, file and encoding passed through.
    envelope = parse_envelope(message, max_bytes=1 << 20)
    assert (envelope.body, envelope.source, envelope.extra) == (
        text, "wire", {"file": "f.txt", "file_encoding": encoding})


def test_utf8_files_name_no_encoding_and_lose_their_byte_order_mark() -> None:
    [plain] = messages_from_bytes("Café.".encode(), "a.txt", raw=False)
    [marked] = messages_from_bytes(b"\xef\xbb\xbf" + "Café.".encode(), "a.txt", raw=False)
    assert orjson.loads(plain) == orjson.loads(marked) == {"body": "Café.", "file": "a.txt"}


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)),  # binary: the worker dead-letters it
    '{"id": "e", "body": "Zürich"}'.encode("utf-16"),  # an envelope the worker decodes
    '{"body": "A"}\n{"body": "B"}'.encode("utf-16"),
], ids=["png", "utf-16-envelope", "utf-16-json-lines"])
def test_binary_and_envelopes_in_utf16_go_verbatim(data: bytes) -> None:
    assert list(messages_from_bytes(data, "x", raw=False, source="wire")) == [data]


def test_raw_sends_a_legacy_file_verbatim() -> None:
    data = LATIN_1.encode("latin-1")
    assert list(messages_from_bytes(data, "l.txt", raw=True, source="wire")) == [data]


def test_png_is_dead_lettered_as_binary_content_by_the_worker() -> None:
    [message] = messages_from_bytes(b"\x89PNG\r\n\x1a\n\x00", "x.png", raw=False)
    with pytest.raises(BinaryContentError):
        parse_envelope(message, max_bytes=1 << 20)


def envelopes(data: bytes, name: str, source: str | None = None) -> list[dict[str, object]]:
    return [orjson.loads(m) for m in messages_from_bytes(data, name, raw=False, source=source)]


def test_a_csv_export_is_one_message_a_row_with_its_columns_mapped() -> None:
    table = (
        "\ufeffID,Link,Headline,Author,Date,Body\r\n"
        'a1,https://x.test/a1,Storm hits,Jane Roe,2024-03-02,"First line.\r\n\r\nSecond, '
        'with ""quotes""."\r\n'
        "\r\n"  # a blank line is no row
        "a2,https://x.test/a2,,,,Short text.\r\n"
    ).encode()
    assert envelopes(table, "export.csv", source="wire") == [
        {"body": 'First line.\r\n\r\nSecond, with "quotes".', "id": "a1",
         "url": "https://x.test/a1", "title": "Storm hits", "Author": "Jane Roe",
         "published_at": "2024-03-02", "file": "export.csv", "row": 1, "source": "wire"},
        {"body": "Short text.", "id": "a2", "url": "https://x.test/a2", "file": "export.csv",
         "row": 3, "source": "wire"},
    ]
    # every row is an envelope the worker reads, the passthrough columns under extra
    first = parse_envelope(orjson.dumps(envelopes(table, "export.csv")[0]), max_bytes=1 << 20)
    assert (first.id, first.title, first.extra) == (
        "a1", "Storm hits", {"Author": "Jane Roe", "file": "export.csv", "row": 1})


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("semicolons.csv", "title;text\nA;Body one.\nB;Body two.\n"),  # a spreadsheet's
        ("tabs.tsv", "title\ttext\nA\tBody one.\nB\tBody two.\n"),
        ("latin1.csv", "title,text\nA,Body one.\nB,Body two.\n"),
    ],
)
def test_tables_in_other_dialects(name: str, table: str) -> None:
    data = table.encode("latin-1")
    assert [(e["title"], e["body"]) for e in envelopes(data, name)] == [
        ("A", "Body one."), ("B", "Body two.")]


def test_a_table_without_a_body_column_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    table = tmp_path / "export.csv"
    table.write_text("id,title,summary\na1,Storm,Short.\n")
    with pytest.raises(ConfigError) as raised:
        check_paths([str(table)])
    assert raised.value.detail == (
        f"{table}: a table needs a body column in its header row (one of body, text, "
        "content, article, full_text, maintext); its header is id, title, summary (nothing sent)")
    with pytest.raises(ConfigError):
        envelopes(table.read_bytes(), "export.csv")


def test_a_table_row_with_more_cells_than_its_header_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    """Before: the row went with its text cut at the unquoted delimiter, silently (an
    operator trial's semicolon export: "The council voted on Tuesday" and no more)."""
    table = tmp_path / "export.csv"
    table.write_text("id;title;text\nsc-1;Storm;Fine text.\n"
                     "sc-2;Vote;The council voted on Tuesday; then it adjourned.\n")
    with pytest.raises(ConfigError) as raised:
        check_paths([str(table)])
    assert raised.value.detail == (
        f"{table}: 1 row(s) with more cells than the header's 3 columns (row 2 has 4; a cell "
        "holding an unquoted ';'?) (nothing sent)")


def test_a_table_cell_whose_quote_never_closes_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    """Before: read as Excel reads it, the cell took the rest of the file, and row 2 went as
    one message whose body held rows 3 and 4 (a user's export with a stray quote)."""
    table = tmp_path / "export.csv"
    table.write_text('id,title,text\na1,Storm,"Fine text,\nquoted over two lines."\n'
                     'a2,Vote,"The council voted\na3,Fire,A fire broke out.\n'
                     'a4,Rain,It rained.\n')
    with pytest.raises(ConfigError) as raised:
        check_paths([str(table)])
    assert raised.value.detail == (
        f"{table}: row 2 (line 4) opens a quoted cell that never closes, so the rest of the "
        "file would be that cell (a stray '\"'?) (nothing sent)")
    # Quotes inside an unquoted cell, and text after a closing quote, read as before.
    table.write_text('id,text\na1,He said "no" twice.\na2,"Yes" she said.\n')
    check_paths([str(table)])
    assert [e["body"] for e in envelopes(table.read_bytes(), "export.csv")] == [
        'He said "no" twice.', "Yes she said."]


def test_a_table_row_with_fewer_cells_has_its_last_columns_empty(tmp_path: Path) -> None:
    table = tmp_path / "export.csv"
    table.write_text("id,text,title\na1,Storm hits.\n")
    check_paths([str(table)])
    assert envelopes(table.read_bytes(), "export.csv") == [
        {"id": "a1", "body": "Storm hits.", "file": "export.csv", "row": 1}]


def test_a_table_row_ending_in_a_delimiter_is_sent(tmp_path: Path) -> None:
    """Empty cells past the header's columns are a trailing delimiter, not cut text (the
    first cut of the rule above refused such rows: a verification trial)."""
    table = tmp_path / "export.csv"
    table.write_text("id,title,text\n1,Storm,The storm hit the coast on Monday.,\n")
    check_paths([str(table)])
    assert envelopes(table.read_bytes(), "export.csv") == [
        {"id": "1", "title": "Storm", "body": "The storm hit the coast on Monday.",
         "file": "export.csv", "row": 1}]


def test_table_columns_whose_field_is_taken_or_without_a_name_are_passed_through() -> None:
    """Before: ``published`` after ``date``, ``link`` beside ``url`` and a pandas index
    column (no name) were dropped."""
    table = (b",link,url,date,published,text,body\n"
             b"0,https://x.test/amp,https://x.test/a,2024-01-01,2024-01-02T10:00:00Z,"
             b"Storm hits.,Second body\n")
    assert envelopes(table, "export.csv") == [{
        "column1": "0", "url": "https://x.test/a", "link": "https://x.test/amp",
        "published_at": "2024-01-01", "published": "2024-01-02T10:00:00Z",
        "body": "Storm hits.", "column7": "Second body", "file": "export.csv", "row": 1}]


def test_source_is_not_added_by_rewriting_an_envelope_with_an_integer_beyond_64_bits() -> None:
    """Rewriting would turn the integer into a float (orjson): the worker would pass
    1.2345678901234568e+20 on as tweet_id. Sent as it is, the worker dead-letters it."""
    lines = (b'{"id": "a", "tweet_id": 123456789012345678901, "body": "Text one."}\n'
             b'{"id": "b", "body": "Text two."}\n')
    first, second = messages_from_bytes(lines, "export.jsonl", raw=False, source="wire")
    assert first == lines.splitlines()[0]
    with pytest.raises(InvalidEnvelopeError, match="outside the 64-bit range"):
        parse_envelope(first, max_bytes=1 << 20)
    assert orjson.loads(second)["source"] == "wire"


def test_a_json_array_of_envelopes_is_one_message_an_element() -> None:
    """Before: the whole array was wrapped as one article's text ("[\\n{\\n"id": ...")."""
    data = ('[\n  {"id": "a1", "body": "Café reopens."},\n'
            '  {"id": "a2", "source": "own", "body": "Storm hits."}\n]\n').encode()
    assert envelopes(data, "export.json", source="wire") == [
        {"id": "a1", "body": "Café reopens.", "source": "wire"},
        {"id": "a2", "source": "own", "body": "Storm hits."}]


def test_an_api_response_wrapping_one_list_of_envelopes_is_one_message_an_element() -> None:
    """Before: a NewsAPI response went whole and was dead-lettered ``missing_body``."""
    data = ('{"status": "ok", "totalResults": 2, "articles": [\n'
            ' {"source": {"id": null, "name": "BBC News"}, "title": "Café reopens",'
            ' "content": "The café reopened on Monday. [+1200 chars]"},\n'
            ' {"title": "No text", "content": null}]}\n').encode()
    first, second = messages_from_bytes(data, "newsapi.json", raw=False)
    assert orjson.loads(first) == {
        "source": {"id": None, "name": "BBC News"}, "title": "Café reopens",
        "content": "The café reopened on Monday. [+1200 chars]"}
    assert parse_envelope(first, max_bytes=1 << 20).source == "BBC News"
    with pytest.raises(MissingBodyError):  # an element without text, as in an array
        parse_envelope(second, max_bytes=1 << 20)


def test_an_api_response_with_an_empty_list_of_results_is_no_message() -> None:
    """Before: sent, and dead-lettered ``missing_body`` (a verification trial)."""
    data = b'{"status": "ok", "totalResults": 0, "articles": []}'
    assert list(messages_from_bytes(data, "newsapi.json", raw=False)) == []


@pytest.mark.parametrize("data", [
    b'{"status": "error", "code": "apiKeyInvalid", "message": "Your API key is invalid."}',
    b'{"id": "a", "body": "Storm hits.", "related": [{"body": "Other."}]}',  # its own body
    b'{"id": "a", "body": 5, "related": [{"body": "Other."}]}',  # a body of another type
    b'{"a": [{"body": "One."}], "b": [{"body": "Two."}]}',  # two lists: which is ours?
    b'{"status": "ok", "articles": [{"title": "no text"}]}',  # no envelope in the list
])
def test_an_object_is_a_wrapper_only_without_a_body_and_with_one_list_of_envelopes(
        data: bytes) -> None:
    assert list(messages_from_bytes(data, "a.json", raw=False)) == [data]


def test_elements_of_a_json_array_go_as_they_were_for_the_worker_to_decide() -> None:
    data = (b'[{"id": "a", "tweet_id": 123456789012345678901, "body": "Text one."}, 5,'
            b' {"body": "\\ud800 lone"}]')
    wide, number, lone = messages_from_bytes(data, "export.json", raw=False)
    assert (wide, number, lone) == (
        b'{"id": "a", "tweet_id": 123456789012345678901, "body": "Text one."}', b"5",
        b'{"body": "\\ud800 lone"}')
    for message in (wide, number):
        with pytest.raises(InvalidEnvelopeError):
            parse_envelope(message, max_bytes=1 << 20)
    assert parse_envelope(lone, max_bytes=1 << 20).body == "\ufffd lone"


@pytest.mark.parametrize("data", [b"[]", b"[1, 2]", b"[UPDATED] Storm hits."])
def test_text_or_arrays_without_an_object_are_still_a_body(data: bytes) -> None:
    assert envelopes(data, "a.txt") == [{"body": data.decode(), "file": "a.txt"}]


@pytest.mark.parametrize("data", [
    b'{"id": "x", "body": "Storm hits the coast.",}\n',  # a trailing comma
    b'{"id": "x", "body": "Storm hits\n the coast."}\n',  # a line break inside a string
    b'{\n  "id": "x"\n}\n{\n  "id": "y"\n}\n',  # pretty-printed objects, one after another
    b'{ "body": "Storm hits"',  # cut short
], ids=["trailing-comma", "newline-in-string", "concatenated", "cut-short"])
def test_a_file_that_starts_like_an_envelope_but_is_not_json_goes_as_it_is(data: bytes) -> None:
    """Before: wrapped as the body of an article, so the JSON source was kept as its text.
    As it is, the worker dead-letters it as it does any such value."""
    assert list(messages_from_bytes(data, "a.json", raw=False, source="wire")) == [data.strip()]
    with pytest.raises(InvalidEnvelopeError, match="starts like JSON but is not"):
        parse_envelope(data.strip(), max_bytes=1 << 20)


@pytest.mark.parametrize("topic", ["articles.enriched", "ingest.fingerprints"])
def test_a_topic_the_workers_write_is_refused(topic: str) -> None:
    # Before: sent, so an enriched consumer met a raw envelope (and replicas an invalid
    # fingerprint record).
    topics = {"articles.raw", "articles.enriched", "ingest.fingerprints"}
    with pytest.raises(ConfigError) as raised:
        check_topic(topic, topics, "articles.raw", ("articles.enriched", "ingest.fingerprints"))
    assert raised.value.detail == (
        f"--topic {topic}: the workers write that topic, whose readers expect only their "
        "records; producers write articles.raw; nothing sent")
    check_topic("articles.raw", topics, "articles.raw", ("articles.enriched",))


def test_an_envelope_with_lone_surrogates_is_an_envelope_and_goes_as_it_is() -> None:
    lines = (rb'{"id": "a\ud800", "body": "Text one."}' + b"\n"
             + rb'{"id": "b", "body": "Text \ud83d two."}' + b"\n")
    first, second = messages_from_bytes(lines, "export.jsonl", raw=False, source="wire")
    assert (first, second) == tuple(lines.splitlines())  # not rewritten: the worker decides
    assert parse_envelope(second, max_bytes=1 << 20).body == "Text \ufffd two."


def test_progress_is_a_line_every_period_while_sending() -> None:
    now = [100.0]
    progress = Progress(3, every_s=10.0, clock=lambda: now[0])
    assert progress.line(5, 0) is None
    now[0] = 110.0
    assert progress.line(1, 0) == "ingest: 1 message sent so far, 0 of 3 inputs done"
    now[0] = 119.9
    assert progress.line(7, 1) is None
    now[0] = 121.0
    assert progress.line(9000, 2) == "ingest: 9000 messages sent so far, 2 of 3 inputs done"
    assert Progress(1, every_s=0.0, clock=lambda: 0.0).line(2, 0) == (
        "ingest: 2 messages sent so far, 0 of 1 input done")


@pytest.mark.parametrize(("envelope", "key"), [
    ({"id": "a1", "body": "x", "source": "Agency"}, b"Agency:a1"),
    # No source: the URL's registrable domain, as the worker scopes the id.
    ({"id": "a1", "body": "x", "url": "https://www.bbc.co.uk/news/1"}, b"bbc.co.uk:a1"),
    ({"id": "a1", "body": "x", "url": "https://jane.substack.com/p/1"}, b"jane.substack.com:a1"),
    ({"id": "a:1", "body": "x"}, b":a:1"),  # no source at all: the scoped id's own form
    ({"id": 12, "text": "x"}, b"12"),  # an integer id is its decimal string
])
def test_a_message_is_keyed_by_its_articles_scoped_id(envelope: dict[str, object],
                                                        key: bytes) -> None:
    assert message_key(orjson.dumps(envelope), 1_000_000) == key


def test_a_message_key_follows_the_operators_publishing_platforms() -> None:
    value = orjson.dumps({"id": "a1", "body": "x", "url": "https://x.blogs.example/1"})
    assert message_key(value, 1_000_000) == b"blogs.example:a1"
    assert message_key(value, 1_000_000, frozenset({"blogs.example"})) == b"x.blogs.example:a1"


@pytest.mark.parametrize("value", [
    orjson.dumps({"body": "no id: the worker's id is the message's origin"}),
    b"a bare text", b'{"id": "x", "body": ', b"\xff\xfe\x00binary",
    orjson.dumps({"id": "x", "body": "y" * 200}),  # over the workers' limit (dead-lettered)
    '{"id": "x", "body": "café"}'.encode("cp1252"),  # verbatim legacy bytes: not parsed here
])
def test_a_message_without_an_envelope_id_has_no_key(value: bytes) -> None:
    assert message_key(value, 100) is None
