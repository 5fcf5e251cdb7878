"""The ``ingest`` command as a user runs it: demo, produce, tail."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from streams.kafka.broker import EmbeddedBroker
from tests.conftest import broker_settings
from tests.harness import SAMPLES, Worker, collect, true_end_offsets

pytestmark = pytest.mark.broker


def ingest(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli.main", *args], input=stdin, capture_output=True,
        timeout=timeout, env={**os.environ, **(env or {})}, check=False,
    )


def test_demo_prints_the_verdict_table_and_exits_0(tmp_path: Path) -> None:
    result = ingest("demo", env={"KAFKA_BOOTSTRAP_SERVERS": "", "TMPDIR": str(tmp_path)})
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    rows = {line.split()[0]: line for line in out.splitlines() if line[:3].isdigit()}
    assert sorted(rows) == [p.stem for p in SAMPLES]
    assert " duplicate " in rows[SAMPLES[4].stem]
    assert SAMPLES[1].stem in rows[SAMPLES[4].stem]
    assert all(" kept " in rows[p.stem] for p in SAMPLES[:4])
    assert "metrics: http://127.0.0.1:" in out
    assert "consumed 5, enriched 4, duplicates 1, dead letters 0" in out
    assert "all 5 articles accounted for" in result.stderr.decode()
    assert list(tmp_path.iterdir()) == []  # a demo that worked leaves nothing behind


def test_produce_files_and_stdin_then_tail(broker: EmbeddedBroker, tmp_path: Path) -> None:
    settings = broker_settings(broker, partitions=2)
    env = {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
    envelope = tmp_path / "one.json"
    envelope.write_bytes(orjson.dumps({"id": "env-1", "body": SAMPLES[3].read_text(),
                                       "source": "agency"}))
    lines = tmp_path / "two.jsonl"
    good = [orjson.dumps({"id": f"line-{i}", "body": SAMPLES[i].read_text()}) for i in (0, 2)]
    lines.write_bytes(b"\n".join([*good, b'{"id": "line-bad"']))  # the last one is malformed
    # One partition keeps arrival order = event-time order, so 004 (stdin) is the copy.
    result = ingest("produce", "--partition", "0", "--source", "wire", str(SAMPLES[1]),
                    str(envelope), str(lines), env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "sent 5 messages to articles.raw"
    assert (f"ingest: {lines}: 1 line(s) not a JSON object: sent as they are; the worker "
            "dead-letters them (invalid_envelope)") in result.stderr.decode().splitlines()
    piped = ingest("produce", "--partition", "0", "-", env=env, stdin=SAMPLES[4].read_bytes())
    assert piped.stdout.decode().strip() == "sent 1 message to articles.raw"
    missing = ingest("produce", str(tmp_path / "nope.txt"), env=env)
    assert missing.returncode == 2
    assert b"no such file" in missing.stderr

    worker = Worker(settings, tmp_path / "w").start()
    try:
        collected = collect(settings, lambda c: len(c.verdicts()) == 6)
        tail = ingest("tail", "enriched", "--from-beginning", "-n", "4", env=env, timeout=60)
        dups = ingest("tail", "duplicates", "--from-beginning", "-n", "1", env=env, timeout=60)
    finally:
        worker.stop()
    [dead] = [v for t, v in collected.verdicts().values() if t == "articles.deadletter"]
    assert dead["error"] == "invalid_envelope"
    kept = [orjson.loads(line) for line in tail.stdout.splitlines()]
    assert sorted(r["id"] for r in kept) == sorted(
        ["env-1", "line-0", "line-2", "articles.raw/" + kept_origin(kept, SAMPLES[1].name)])
    # --source names the publisher of wrapped files and of envelopes that name none; an
    # envelope's own source is kept.
    assert {r["id"]: r["source"] for r in kept if not r["id"].startswith("articles.raw/")} == {
        "env-1": "agency", "line-0": "wire", "line-2": "wire"}
    [wrapped] = [r for r in kept if r["id"].startswith("articles.raw/")]
    assert (wrapped["source"], wrapped["extra"]) == ("wire", {"file": SAMPLES[1].name})
    [dup] = [orjson.loads(line) for line in dups.stdout.splitlines()]
    # No --source and no URL: no source (duplicate records carry no passthrough fields).
    assert (dup["source"], dup["match"]) == (None, "exact")


def test_produce_sends_every_message_of_one_article_to_one_partition(
    broker: EmbeddedBroker, tmp_path: Path,
) -> None:
    """Keyed by the article's scoped id: a resend goes where the first message went, so one
    worker decides both in order (unkeyed, the client spread them over the partitions)."""
    broker_settings(broker, partitions=4)
    env = {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
    lines = tmp_path / "articles.jsonl"
    lines.write_bytes(b"\n".join(
        orjson.dumps({"id": f"a{i}", "source": "agency", "body": f"Article {i}."})
        for i in range(8)))
    for _ in range(3):
        result = ingest("produce", str(lines), env=env)
        assert result.returncode == 0, result.stderr.decode()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, consumer_timeout_ms=3000)
    try:
        parts = [TopicPartition("articles.raw", p) for p in range(4)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        partitions: dict[bytes, set[int]] = {}
        count = 0
        while count < 24:
            polled = consumer.poll(timeout_ms=2000)
            assert polled, f"{count} of 24 messages read"
            for records in polled.values():
                for record in records:
                    partitions.setdefault(record.key, set()).add(record.partition)
                    count += 1
    finally:
        consumer.close()
    assert sorted(partitions) == [f"agency:a{i}".encode() for i in range(8)]
    assert all(len(held) == 1 for held in partitions.values())
    assert len(set().union(*partitions.values())) > 1  # and the articles are spread


def test_produce_source_reaches_the_record_of_a_latin_1_file(
    broker: EmbeddedBroker, tmp_path: Path,
) -> None:
    settings = broker_settings(broker, partitions=1)
    text = SAMPLES[0].read_text().replace("“", '"').replace("”", '"').replace("’", "'")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(text.encode("latin-1", errors="replace"))
    env = {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
    result = ingest("produce", "--source", "wire", str(latin), env=env)
    assert result.stdout.decode() == "sent 1 message to articles.raw\n", result.stderr
    worker = Worker(settings, tmp_path / "w").start()
    try:
        tail = ingest("tail", "enriched", "--from-beginning", "-n", "1", env=env, timeout=60)
    finally:
        worker.stop()
    [record] = [orjson.loads(line) for line in tail.stdout.splitlines()]
    # Before, the bytes went verbatim: source null, no file; the worker's detector named
    # the encoding in source_encoding. Now the envelope is UTF-8 and names it itself.
    assert (record["source"], record["extra"], record["source_encoding"]) == (
        "wire", {"file": "latin.txt", "file_encoding": "cp1252"}, "utf-8")


def raw_end_offsets(broker: EmbeddedBroker, partitions: int = 4) -> list[int]:
    settings = broker_settings(broker, partitions=partitions)
    ends = true_end_offsets(settings, [TopicPartition(settings.topic_raw, p)
                                       for p in range(partitions)])
    return [ends[TopicPartition(settings.topic_raw, p)] for p in range(partitions)]


def test_produce_sends_nothing_when_a_path_is_missing_or_a_directory_holds_no_file(
    broker: EmbeddedBroker, tmp_path: Path,
) -> None:
    missing, folder, broken = tmp_path / "nope.txt", tmp_path / "dir", tmp_path / "x.txt.gz"
    folder.mkdir()
    (folder / ".hidden").write_text("x")
    broken.write_bytes(b"not gzip")
    before = raw_end_offsets(broker)
    result = ingest("produce", str(SAMPLES[0]), str(missing), str(SAMPLES[1]), str(folder),
                    str(broken), env={"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap})
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode() == (
        f"ingest: error [invalid_setting]: {missing}: no such file; {folder}: is a directory "
        f"without files (hidden ones are skipped); {broken}: not gzip data (Not a gzipped "
        "file (b'no')) (nothing sent)\n")
    assert raw_end_offsets(broker) == before


def raw_values(broker: EmbeddedBroker, partition: int, start: int) -> list[dict[str, object]]:
    """The raw topic's messages on ``partition`` from offset ``start`` to its end."""
    settings = broker_settings(broker)
    tp = TopicPartition(settings.topic_raw, partition)
    end = true_end_offsets(settings, [tp])[tp]
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    try:
        consumer.assign([tp])
        consumer.seek(tp, start)
        values: list[dict[str, object]] = []
        while consumer.position(tp) < end:
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend(orjson.loads(r.value) for r in records if r.offset < end)
        return values
    finally:
        consumer.close()


def test_produce_a_directory_gzip_files_and_a_csv_on_stdin(
    broker: EmbeddedBroker, tmp_path: Path,
) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
    crawl = tmp_path / "crawl"
    (crawl / "2024" / ".cache").mkdir(parents=True)
    (crawl / "b.txt").write_text("Second file.")
    (crawl / "2024" / "a.html.gz").write_bytes(gzip.compress(b"<p>First file.</p>"))
    (crawl / "2024" / ".cache" / "x.txt").write_text("hidden")
    (crawl / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    table = b"id,headline,text\nc1,One,Row one.\nc2,Two,Row two.\n"
    start = raw_end_offsets(broker)[0]
    files = ingest("produce", "--partition", "0", str(crawl), env=env)
    piped = ingest("produce", "--partition", "0", "--format", "csv", "-", env=env,
                   stdin=gzip.compress(table))
    assert (files.returncode, files.stdout, files.stderr) == (
        0, b"sent 2 messages to articles.raw\n", b"")
    assert (piped.returncode, piped.stdout, piped.stderr) == (
        0, b"sent 2 messages to articles.raw\n", b"")
    assert raw_values(broker, 0, start) == [
        {"body": "<p>First file.</p>", "file": "2024/a.html.gz"},
        {"body": "Second file.", "file": "b.txt"},
        {"body": "Row one.", "id": "c1", "title": "One", "file": "stdin", "row": 1},
        {"body": "Row two.", "id": "c2", "title": "Two", "file": "stdin", "row": 2},
    ]


@pytest.mark.parametrize("partition", ["99", "-1"])
def test_produce_to_a_partition_the_topic_lacks_sends_nothing(
    broker: EmbeddedBroker, partition: str,
) -> None:
    raw_end_offsets(broker)  # creates the topics, 4 partitions each
    result = ingest("produce", "--partition", partition, str(SAMPLES[0]),
                    env={"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap})
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == (
        f"ingest: error [invalid_setting]: --partition {partition}: articles.raw has "
        "partitions 0-3\n")
    assert raw_end_offsets(broker) == [0, 0, 0, 0]


def test_produce_to_a_topic_the_broker_lacks_sends_nothing_and_creates_nothing(
    broker: EmbeddedBroker,
) -> None:
    raw_end_offsets(broker)  # creates the topics
    result = ingest("produce", "--topic", "artcles.raw", str(SAMPLES[0]),
                    env={"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap})
    assert (result.returncode, result.stdout) == (2, b"")
    message = result.stderr.decode()
    assert message.startswith("ingest: error [invalid_setting]: --topic artcles.raw: no such "
                              "topic (the broker has ")
    assert message.endswith("; workers read articles.raw); nothing sent\n")
    assert "articles.raw" in message and "articles.enriched" in message
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        assert "artcles.raw" not in admin.list_topics()
    finally:
        admin.close()
    assert raw_end_offsets(broker) == [0, 0, 0, 0]


def test_produce_skips_a_message_workers_would_dead_letter_as_too_large(
    broker: EmbeddedBroker, tmp_path: Path,
) -> None:
    # Under the limit as a file, over it once wrapped: JSON escapes every quote and newline
    # (a new-user trial, 2026-12-05: 3 of 12 WCXB pages of 800-960 KB were sent, then
    # dead-lettered).
    limit = 4096
    page = tmp_path / "page.html"
    page.write_text("<p>" + '"quoted"\n' * 400 + "</p>")  # 4,007 bytes
    small = tmp_path / "small.txt"
    small.write_text("A short article about the harbour wall.")
    raw_end_offsets(broker)
    env = {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "INGEST_MAX_BODY_BYTES": str(limit)}
    result = ingest("produce", str(page), str(small), env=env)
    assert page.stat().st_size < limit
    assert result.returncode == 1
    assert result.stdout == b"sent 1 message to articles.raw (1 skipped: too large)\n"
    [line] = result.stderr.decode().splitlines()
    assert line.startswith("ingest: skipped a ") and line.endswith(
        f"-byte message from {page}: over INGEST_MAX_BODY_BYTES ({limit}), which workers "
        "dead-letter as too_large")
    assert sum(raw_end_offsets(broker)) == 1


def kept_origin(records: list[dict[str, object]], file: str) -> str:
    [record] = [r for r in records if r.get("extra") == {"file": file}]
    origin = record["origin"]
    assert isinstance(origin, dict)
    return f"{origin['partition']}/{origin['offset']}"


def test_produce_without_a_broker_says_what_to_do() -> None:
    result = ingest("produce", str(SAMPLES[0]), env={"KAFKA_BOOTSTRAP_SERVERS": ""})
    assert result.returncode == 2
    assert b"KAFKA_BOOTSTRAP_SERVERS is not set" in result.stderr


@pytest.mark.parametrize("command", [["worker"], ["demo"], ["produce", "--raw", "-"],
                                     ["tail", "deadletter"], ["broker", "--port", "0"]])
def test_every_command_refuses_two_topic_settings_naming_one_topic(command: list[str]) -> None:
    # Found by a new-user trial: a worker with INGEST_TOPIC_ENRICHED=articles.raw read every
    # kept article back; each command reads the settings the workers use, so each refuses.
    result = ingest(*command, stdin=b"", timeout=60, env={
        "KAFKA_BOOTSTRAP_SERVERS": "", "INGEST_TOPIC_ENRICHED": "articles.raw"})
    assert (result.returncode, result.stdout, result.stderr.decode()) == (2, b"", (
        "ingest: error [invalid_setting]: INGEST_TOPIC_RAW and INGEST_TOPIC_ENRICHED name the "
        "same topic, 'articles.raw': each needs a topic of its own\n"))


def test_produce_wraps_text_with_the_file_named_and_no_invented_source() -> None:
    from streams.cli.produce import messages_from_bytes

    page = b'<html><head><link rel="canonical" href="https://www.bbc.co.uk/news/x"></head></html>'
    [plain] = messages_from_bytes(page, "saved.html", raw=False)
    assert orjson.loads(plain) == {"body": page.decode(), "file": "saved.html"}
    [named] = messages_from_bytes(b"Text.", "a.txt", raw=False, source="wire")
    assert orjson.loads(named) == {"body": "Text.", "file": "a.txt", "source": "wire"}
    # --source fills the envelopes that name none and leaves the others as they are.
    envelope = b'{"id": "e", "body": "B", "source": "agency"}'
    assert list(messages_from_bytes(envelope, "e.json", raw=False, source="wire")) == [envelope]
    unnamed = b'{"id": "e", "body": "B", "source": null}'
    [filled] = messages_from_bytes(unnamed, "e.json", raw=False, source="wire")
    assert orjson.loads(filled) == {"id": "e", "body": "B", "source": "wire"}
    assert list(messages_from_bytes(unnamed, "e.json", raw=False)) == [unnamed]
    lines = '{"body": "A"}\n{"body": "B", "source": "agency"}\n{"body": "é"'.encode()
    assert list(messages_from_bytes(lines, "x.jsonl", raw=False, source="wire")) == [
        b'{"body":"A","source":"wire"}', b'{"body": "B", "source": "agency"}',
        b'{"body": "\xc3\xa9"']
    legacy = '{"body": "café"}'.encode("cp1252")  # not UTF-8: the worker decodes it
    assert list(messages_from_bytes(legacy, "l.json", raw=False, source="wire")) == [legacy]
    assert list(messages_from_bytes(b"\xff\xfe", "x.bin", raw=True)) == [b"\xff\xfe"]
    # JSON Lines with a malformed line: every line is its own message, the bad one too (the
    # worker dead-letters it), not the whole file wrapped as one article.
    lines = b'{"body": "A"}\n{"body": "B"\n\n  {"body": "C"}  \n'
    assert list(messages_from_bytes(lines, "x.jsonl", raw=False)) == [
        b'{"body": "A"}', b'{"body": "B"', b'{"body": "C"}']
    # One line that only starts like JSON is text; a byte-order mark does not hide JSON.
    [text] = messages_from_bytes(b"{Updated} Storm hits coast", "a.txt", raw=False)
    assert orjson.loads(text) == {"body": "{Updated} Storm hits coast", "file": "a.txt"}
    assert list(messages_from_bytes(b'\xef\xbb\xbf{"body": "B"}', "b.json", raw=False)) == [
        b'{"body": "B"}']


def test_json_in_a_legacy_charset_is_not_called_malformed() -> None:
    from streams.cli.produce import _is_json_object

    assert _is_json_object('{"body": "café"}'.encode("latin-1"))
    assert not _is_json_object(b'{"body": "B"')
    assert not _is_json_object(b"[1]")


def test_demo_help_shows_the_timeout_default(capsys: pytest.CaptureFixture[str]) -> None:
    from streams.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["demo", "-h"])
    assert exit_.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    # Before: "--timeout TIMEOUT give up after S seconds", no default.
    assert ("--timeout S give up after S seconds, waiting for the worker to be ready and again "
            "for the verdicts (default: 120 s)") in help_text
