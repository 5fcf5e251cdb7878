"""Real-broker test harness: Tansu, worker processes, producing and collecting records."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from kafka import KafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from bench.procfs import children
from streams.core.records import record_schema
from streams.kafka.broker import free_port
from streams.kafka.clients import make_producer, make_reader, poll_records
from streams.kafka.clients import true_end_offsets as read_true_end_offsets
from streams.kafka.connection import KafkaConnection
from streams.kafka.process import spawn
from streams.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "streams" / "samples").glob("*.txt"))
SCHEMAS = {
    name: Draft202012Validator(
        record_schema(name),
        format_checker=FormatChecker(),
    )
    for name in ("raw-envelope", "enriched", "duplicate", "deadletter", "story-update")
}
SCHEMA_FOR_TOPIC = {
    "articles.enriched": "enriched",
    "articles.duplicates": "duplicate",
    "articles.deadletter": "deadletter",
    "articles.stories": "story-update",
}


def sample(index: int) -> Path:
    return SAMPLES[index]


def envelope(path: Path, **fields: Any) -> bytes:
    return orjson.dumps({"id": path.stem, "body": path.read_text("utf-8"), **fields})


@dataclass
class Worker:
    """A worker process (``python -m streams.cli.main worker``) on a real broker."""

    settings: Settings
    data_dir: Path
    name: str = "w1"
    web_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)  # ingest worker's options
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def start(self, wait: bool = True, timeout_s: float = 60.0) -> Worker:
        env = dict(os.environ)
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=self.settings.kafka_bootstrap_servers,
            INGEST_DATA_DIR=str(self.data_dir),
            INGEST_WEB_PORT=str(self.web_port),
            INGEST_WORKER_ID=self.name,
            INGEST_PARTITIONS=str(self.settings.partitions),
            INGEST_LOG_LEVEL="info",
            INGEST_BROKER_PROFILE="tansu",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir.parent / f"{self.name}-{time.time_ns()}.log"
        log = open(self.log_path, "wb")  # noqa: SIM115
        self.process = spawn(
            [sys.executable, "-m", "streams.cli.main", "worker", *self.args],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready(timeout_s)
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    def wait_metric(self, name: str, at_least: float, timeout_s: float = 30.0) -> None:
        """Wait until the worker reports ``name >= at_least`` (an observable state, no guess)."""
        deadline = time.monotonic() + timeout_s
        while (self.metric(name) or 0.0) < at_least:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {name} < {at_least} after {timeout_s} s")
            time.sleep(0.2)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url(path), timeout=2) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 0, b""

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.log_tail()}")
            status, body = self.get("/readyz")
            if status == 200 and orjson.loads(body).get("assigned_partitions"):
                return
            time.sleep(0.2)
        raise AssertionError(f"worker {self.name} not ready in {timeout_s} s:\n{self.log_tail()}")

    def metric(self, name: str, **labels: str) -> float | None:
        """Sum of the samples of ``name`` with these labels on /metrics (None: no sample)."""
        status, body = self.get("/metrics")
        if status != 200:
            return None
        values = [sample.value
                  for family in text_string_to_metric_families(body.decode())
                  for sample in family.samples
                  if sample.name == name and labels.items() <= sample.labels.items()]
        return sum(values) if values else None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path else ""

    def stop(self, timeout_s: float = 30.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def wait_exited(pid: int, timeout_s: float) -> bool:
    """Whether process ``pid`` exits within ``timeout_s`` (True at once if already gone).

    Waits on a pidfd, which becomes readable when the process terminates, whoever its parent
    is and whether or not it has been reaped yet: an event, not a polling loop.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout_s)
        return bool(readable)
    finally:
        os.close(fd)


def wait_for_child(pid: int, name: str, timeout_s: float = 30.0) -> int:
    """The pid of ``pid``'s child ``name``, once it exists (a state polled, not a sleep)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = children(pid, name)
        if found:
            return found[0]
        if wait_exited(pid, 0.05):
            raise AssertionError(f"process {pid} exited before starting {name}")
    raise AssertionError(f"process {pid} started no {name} in {timeout_s} s")


def produce(settings: Settings, values: Iterable[bytes], partition: int | None = None,
            key: bytes | None = None) -> list[tuple[int, int]]:
    """Produce values in order; return (partition, offset) of each."""
    producer = make_producer(settings)
    placed = []
    # Strictly increasing timestamps: "earlier" is well defined.
    first_ms = int(time.time() * 1000)
    for i, value in enumerate(values):
        meta = producer.send(settings.topic_raw, value=value, key=key, partition=partition,
                             timestamp_ms=first_ms + i).get(timeout=30)
        placed.append((meta.partition, meta.offset))
    producer.close(timeout=10)
    return placed


def produce_placed(
    settings: Settings, messages: Iterable[tuple[bytes, int, int]]
) -> list[tuple[int, int]]:
    """Produce (value, partition, timestamp_ms) triples; return (partition, offset) of each."""
    producer = make_producer(settings)
    futures = [producer.send(settings.topic_raw, value=value, partition=partition,
                             timestamp_ms=timestamp_ms)
               for value, partition, timestamp_ms in messages]
    placed = [(m.partition, m.offset) for m in (f.get(timeout=30) for f in futures)]
    producer.close(timeout=10)
    return placed


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll an observable state until it holds; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.05)


def final_kept(got: Collected) -> set[str]:
    """Ids with an enriched record and no duplicates record (corrections included).

    Verdicts only move from kept to duplicate, never back, so this needs no ordering
    between the two topics: it is how consumers are told to read them (README, Guarantees).
    """
    dropped = {v["id"] for v in got.by_topic("articles.duplicates")}
    return {v["id"] for v in got.by_topic("articles.enriched")} - dropped


@dataclass
class Collected:
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    keys: list[bytes | None] = field(default_factory=list)  # Kafka key of each record

    def by_topic(self, topic: str) -> list[dict[str, Any]]:
        return [v for t, v in self.records if t == topic]

    def verdicts(self) -> dict[tuple[int, int], tuple[str, dict[str, Any]]]:
        """(partition, offset) of the raw message -> (topic, record), corrections excluded."""
        out: dict[tuple[int, int], tuple[str, dict[str, Any]]] = {}
        for topic, value in self.records:
            if value.get("supersedes"):
                continue
            origin = value["origin"]
            out[(origin["partition"], origin["offset"])] = (topic, value)
        return out


def collect(settings: Settings, until: Callable[[Collected], bool],
            timeout_s: float = 60.0, *, topics: Sequence[str] | None = None) -> Collected:
    """Read all output topics (or ``topics``) from the beginning until ``until`` holds, then
    to their ends.

    No fixed wait for stray records: once ``until`` holds, the true end offset of every
    output partition is measured (Tansu-proof, as ``streams.kafka.lag`` does) and reading
    goes on to it, so every record published before that moment is in the result. To be
    sure nothing more comes, stop the workers first and call :func:`read_all`.
    """
    reader = make_reader(settings, list(topics or settings.output_topics), from_beginning=True)
    got = Collected()
    deadline = time.monotonic() + timeout_s
    ends: dict[TopicPartition, int] | None = None
    try:
        while time.monotonic() < deadline:
            for record in poll_records(reader):
                got.records.append((record.topic, orjson.loads(record.value)))
                got.keys.append(record.key)
            if ends is None and until(got):
                ends = true_end_offsets(settings, reader.assignment())
            if ends is not None and all(reader.position(tp) >= end for tp, end in ends.items()):
                return got
        raise AssertionError(f"timed out; collected {len(got.records)} records: {got.records}")
    finally:
        reader.close()


def story_resolver(updates: Collected) -> Callable[[str], str]:
    """Each story id to the story the updates (``articles.stories`` records) join it into:
    a consumer's union of the updates, in any order (merges only join)."""
    parent: dict[str, str] = {}

    def find(story: str) -> str:
        while (up := parent.get(story, story)) != story:
            parent[story] = parent.get(up, up)  # path halving
            story = up
        return story

    for update in updates.records:
        a, b = find(update[1]["story_id"]), find(update[1]["merged_into"])
        if a != b:
            parent[a] = b
    return find


def story_conflicts(got: Collected, updates: Collected) -> dict[str, set[str]]:
    """Articles whose records name stories that the story updates do not join: article id ->
    its stories, each resolved through every merge and rename (:func:`story_resolver`)."""
    find = story_resolver(updates)
    stories: dict[str, set[str]] = {}
    for _, value in got.records:
        if value.get("story_id"):
            stories.setdefault(value["id"], set()).add(value["story_id"])
    resolved = {article: {find(s) for s in named} for article, named in stories.items()}
    return {article: named for article, named in resolved.items() if len(named) > 1}


def read_all(settings: Settings, timeout_s: float = 60.0, *,
             topics: Sequence[str] | None = None) -> Collected:
    """Every output record published so far (after the workers stopped: every one)."""
    return collect(settings, lambda _: True, timeout_s, topics=topics)


def true_end_offsets(settings: Settings, partitions: Iterable[TopicPartition]
                     ) -> dict[TopicPartition, int]:
    """End offsets read from the last batch: Tansu's "latest" can be that batch's first + 1."""
    probe = KafkaConsumer(group_id=None, enable_auto_commit=False,
                          **KafkaConnection.from_settings(settings).kafka_python_options())
    try:
        return read_true_end_offsets(probe, partitions)
    finally:
        probe.close()


def schema_errors(topic: str, record: dict[str, Any]) -> list[str]:
    validator = SCHEMAS[SCHEMA_FOR_TOPIC[topic]]
    return [e.message for e in validator.iter_errors(record)]
