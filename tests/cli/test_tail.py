"""``ingest tail`` as a user runs it, against the embedded Tansu broker."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import pytest

from streams.cli.main import build_parser, main
from streams.kafka.broker import EmbeddedBroker
from streams.kafka.clients import make_producer
from tests.conftest import broker_settings

# How long a tail started as a process takes to be positioned, with room to spare: it waits
# for the broker, reads metadata and the newest batch of each partition (~1 s measured).
TAIL_START_S = 5.0


def start_tail(broker: EmbeddedBroker, *args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli.main", "tail", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, **env},
    )


@pytest.mark.broker
def test_tail_prints_only_records_produced_after_it_started(broker: EmbeddedBroker) -> None:
    settings = broker_settings(broker, partitions=2)
    producer = make_producer(settings, linger_ms=200)  # old records in one batch a partition
    for i in range(6):
        producer.send(settings.topic_enriched, b'{"old": %d}' % i, partition=i % 2)
    producer.flush()
    tail = start_tail(broker, "enriched", "-n", "3", "--idle-timeout", "30")
    try:
        time.sleep(TAIL_START_S)
        for i in range(3):
            producer.send(settings.topic_enriched, b'{"new": %d}' % i, partition=0)
        producer.flush()
        out, err = tail.communicate(timeout=60)
    finally:
        producer.close()
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    # Before, Tansu's early "latest" left tail inside the newest batch: old 2 and old 4
    # (partition 0) and old 3 and old 5 (partition 1) came first.
    assert (tail.returncode, out, err) == (0, b'{"new": 0}\n{"new": 1}\n{"new": 2}\n', b"")


@pytest.mark.broker
def test_tail_whose_reader_went_away_stops_quietly_with_141(broker: EmbeddedBroker) -> None:
    settings = broker_settings(broker, partitions=1)
    producer = make_producer(settings)
    producer.send(settings.topic_enriched, b'{"n": 0}')
    producer.flush()
    tail = start_tail(broker, "enriched", "--from-beginning")
    try:
        assert tail.stdout is not None
        assert tail.stdout.readline() == b'{"n": 0}\n'
        tail.stdout.close()  # what `head -1` does after its line
        producer.send(settings.topic_enriched, b'{"n": 1}')  # the write that finds no reader
        producer.flush()
        assert tail.wait(timeout=30) == 141
        assert tail.stderr is not None
        # Before: a BrokenPipeError traceback and exit 1.
        assert tail.stderr.read() == b""
    finally:
        producer.close()
        if tail.poll() is None:
            tail.kill()
            tail.wait()


@pytest.mark.broker
def test_tail_whose_reader_went_away_after_the_topics_last_record_stops(
    broker: EmbeddedBroker,
) -> None:
    # `ingest tail --from-beginning | head -1` on a quiet topic: no record comes after the
    # line head read, so no write fails. Before: tail waited for ever.
    settings = broker_settings(broker, partitions=1)
    producer = make_producer(settings)
    producer.send(settings.topic_enriched, b'{"n": 0}')
    producer.flush()
    producer.close()
    tail = start_tail(broker, "enriched", "--from-beginning")
    try:
        assert tail.stdout is not None and tail.stderr is not None
        assert tail.stdout.readline() == b'{"n": 0}\n'
        tail.stdout.close()
        assert tail.wait(timeout=30) == 141
        assert tail.stderr.read() == b""
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()


@pytest.mark.broker
@pytest.mark.parametrize("from_beginning", [True, False])
def test_tail_of_a_topic_that_does_not_exist_yet_is_refused(
    broker: EmbeddedBroker, from_beginning: bool,
) -> None:
    # A fresh broker before any worker started. Before: a ValueError traceback and exit 1
    # with --from-beginning; without it, nothing read for ever, the topic created later too.
    tail = start_tail(broker, "enriched", *(["--from-beginning"] if from_beginning else []))
    try:
        out, err = tail.communicate(timeout=60)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    assert (tail.returncode, out, err.decode()) == (2, b"", (
        "ingest: error [invalid_setting]: articles.enriched: no such topic yet (a worker, or "
        "`ingest produce`, creates the topics when it starts); nothing to read\n"))


@pytest.mark.parametrize(("args", "message"), [
    (["-n", "0"], "argument -n: must be at least 1, not 0"),
    (["-n", "-1"], "argument -n: must be at least 1, not -1"),
    (["-n", "two"], "argument -n: not a whole number: 'two'"),
    (["--idle-timeout", "0"], "argument --idle-timeout: must be more than 0 seconds, not 0"),
    (["--idle-timeout", "-1"], "argument --idle-timeout: must be more than 0 seconds, not -1"),
    (["--idle-timeout", "nan"], "argument --idle-timeout: must be more than 0 seconds, not nan"),
    (["--idle-timeout", "soon"], "argument --idle-timeout: not a number of seconds: 'soon'"),
])
def test_tail_refuses_a_count_or_timeout_that_would_never_stop_or_never_read(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    # Before: -n 0 and -n -1 read on forever, --idle-timeout 0 or -1 stopped at once.
    with pytest.raises(SystemExit) as exit_:
        main(["tail", *args])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"ingest tail: error: {message}"


def test_tail_accepts_every_output_topic_the_readme_documents() -> None:
    parser = build_parser()
    assert [parser.parse_args(["tail", name]).output
            for name in ("enriched", "duplicates", "deadletter", "stories")] == [
        "enriched", "duplicates", "deadletter", "stories"]
    args = parser.parse_args(["tail", "-n", "3", "--idle-timeout", "0.5"])
    assert (args.output, args.n, args.idle_timeout) == ("enriched", 3, 0.5)


def test_every_option_of_every_command_has_help() -> None:
    commands = next(action for action in build_parser()._actions
                    if isinstance(action, argparse._SubParsersAction))
    undocumented = [
        (name, action.dest)
        for name, command in commands.choices.items()
        for action in command._actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert undocumented == []


@pytest.mark.broker
def test_tail_reads_the_stories_topic(broker: EmbeddedBroker) -> None:
    settings = broker_settings(broker, partitions=1)
    producer = make_producer(settings)
    producer.send(settings.topic_stories, b'{"story_id": "s1"}')
    producer.flush()
    producer.close()
    tail = start_tail(broker, "stories", "--from-beginning", "-n", "1", "--idle-timeout", "30")
    out, err = tail.communicate(timeout=60)
    assert (tail.returncode, out, err) == (0, b'{"story_id": "s1"}\n', b"")


@pytest.mark.parametrize(("port", "message"), [
    ("70000", "argument --port: must be a port, 0 to 65535, not 70000"),
    ("-5", "argument --port: must be a port, 0 to 65535, not -5"),
    ("x", "argument --port: not a whole number: 'x'"),
])
def test_broker_refuses_a_port_that_is_not_one(
    port: str, message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    # Before: an OverflowError traceback from bind() and exit 1 (x: argparse's own words).
    with pytest.raises(SystemExit) as exit_:
        main(["broker", "--port", port])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"ingest broker: error: {message}"


@pytest.mark.broker
def test_tail_whose_broker_died_stops_with_3_after_the_outage_limit(
    broker: EmbeddedBroker,
) -> None:
    """As a worker does (exit 3 after INGEST_BROKER_LOST_S); until 2026-12-05 it retried
    for ever, printing the client's connection errors."""
    broker_settings(broker, partitions=1)
    tail = start_tail(broker, "enriched", INGEST_BROKER_LOST_S="2")
    try:
        time.sleep(TAIL_START_S)
        assert tail.poll() is None
        broker.kill()
        assert tail.wait(timeout=60) == 3
        assert tail.stderr is not None
        # One line: until 2026-12-05 ~45 of the client's connection errors came before it
        # (a new-user trial).
        assert tail.stderr.read().decode().splitlines() == [
            f"ingest: error [broker_unavailable]: broker {broker.bootstrap} unreachable for "
            "2 s; tail stops"]
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
