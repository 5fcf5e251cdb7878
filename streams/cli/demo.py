"""``ingest demo``: the whole pipeline on the bundled samples, with zero configuration.

Starts the embedded broker and one worker process, publishes the five sample articles,
waits until every one has a verdict, prints them as a table and exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import orjson

from streams.core.errors import IngestError
from streams.kafka import process
from streams.kafka.broker import EmbeddedBroker, ensure_topics, free_port
from streams.kafka.clients import close_quietly, make_producer, make_reader, poll_records
from streams.settings import Settings


class DemoError(IngestError):
    """Raised when the demo cannot complete (worker did not start, verdicts missing)."""

    code = "demo_failed"


def sample_files() -> list[Path]:
    return sorted((Path(__file__).parent.parent / "samples").glob("*.txt"))


_last_progress = [0.0]


def _progress(message: str) -> None:
    """A live status line on a terminal; a line every 2 s (and final lines) otherwise."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{message}")
    elif message.endswith("\n") or time.monotonic() - _last_progress[0] > 2:
        _last_progress[0] = time.monotonic()
        sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_worker(settings: Settings, workdir: Path, web_port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
        INGEST_DATA_DIR=str(workdir / "data"),
        INGEST_WEB_PORT=str(web_port),
        INGEST_LOG_LEVEL="info",
        INGEST_BROKER_PROFILE="tansu",
    )
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115 - lives as long as the worker
    # Killed by the kernel if the demo dies first (streams/kafka/process.py).
    return process.spawn(
        [sys.executable, "-m", "streams.cli", "worker"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def wait_ready(process: subprocess.Popen[bytes], url: str, timeout_s: float, log: Path) -> None:
    started = time.monotonic()
    spinner = "|/-\\"
    while not _http_ok(url):
        elapsed = time.monotonic() - started
        if process.poll() is not None or elapsed > timeout_s:
            tail = log.read_text(errors="replace")[-3000:]
            raise DemoError(f"worker did not become ready in {elapsed:.0f} s; log tail:\n{tail}")
        _progress(f"{spinner[int(elapsed * 4) % 4]} starting worker ({elapsed:.0f} s)")
        time.sleep(0.25)
    _progress(f"worker ready after {time.monotonic() - started:.1f} s\n")


def publish_samples(settings: Settings) -> dict[int, tuple[str, int, int, str]]:
    """Publish the samples in order; return {index: (id, partition, offset, first words)}."""
    producer = make_producer(settings)
    sent = {}
    for i, path in enumerate(sample_files()):
        body = path.read_text("utf-8")
        envelope = {"id": path.stem, "body": body, "source": "samples"}
        meta = producer.send(settings.topic_raw, key=path.stem.encode(),
                             value=orjson.dumps(envelope)).get(timeout=30)
        sent[i] = (path.stem, meta.partition, meta.offset, _first_words(body))
        time.sleep(0.01)  # distinct timestamps: the earlier copy is the one kept
    producer.close(timeout=10)
    return sent


def collect_verdicts(
    settings: Settings, expected: set[tuple[int, int]], timeout_s: float
) -> dict[tuple[int, int], dict[str, Any]]:
    reader = make_reader(settings, list(settings.output_topics), from_beginning=True)
    verdicts: dict[tuple[int, int], dict[str, Any]] = {}
    started = time.monotonic()
    try:
        while not expected <= verdicts.keys():
            if time.monotonic() - started > timeout_s:
                raise DemoError(f"only {len(verdicts)} of {len(expected)} verdicts arrived")
            for record in poll_records(reader):
                value = orjson.loads(record.value)
                if value.get("supersedes"):
                    continue
                value["_topic"] = record.topic
                origin = value["origin"]
                verdicts[(origin["partition"], origin["offset"])] = value
            _progress(f"waiting for verdicts: {len(verdicts)}/{len(expected)}")
    finally:
        close_quietly(reader)
    _progress(f"all {len(expected)} articles accounted for\n")
    return verdicts


def _first_words(body: str) -> str:
    text = re.sub(r"<[^>]+>|[A-Z](?:-[A-Z])+\.|\bdate \d{4}-\d\d-\d\d|\d{4,}", " ", body)
    return "“" + " ".join(text.split()[:12]) + "…”"


SUMMARY_METRICS = (
    ("consumed", "ingest_articles_consumed_total"),
    ("enriched", "ingest_articles_enriched_total"),
    ("duplicates", "ingest_duplicates_total"),
    ("dead letters", "ingest_deadletters_total"),
)


def metric_summary(base: str) -> str:
    """A one-line reading of the worker's counters from its /metrics page."""
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            page = response.read().decode("utf-8")
    except OSError as exc:
        return f"(could not read metrics: {exc})"
    totals = dict.fromkeys((name for _, name in SUMMARY_METRICS), 0.0)
    for line in page.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in totals:
            totals[name] += float(line.rsplit(" ", 1)[1])
    return ", ".join(f"{label} {totals[name]:.0f}" for label, name in SUMMARY_METRICS)


def format_table(rows: list[dict[str, Any]]) -> str:
    columns = ["id", "title", "source", "verdict", "duplicate_of", "similarity", "story_id"]
    # Untitled articles show their first words in quotes.
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(row.rstrip() for row in out)


def _cell(value: Any, limit: int = 48) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _verdict_row(value: dict[str, Any], excerpt: str) -> dict[str, Any]:
    verdict = {
        "articles.enriched": "kept", "articles.duplicates": "duplicate",
        "articles.deadletter": "dead letter",
    }.get(value.pop("_topic"), "?")
    if verdict == "dead letter":
        value["title"] = value.get("error")
    return {**value, "title": value.get("title") or excerpt, "verdict": verdict}


def run_demo(settings: Settings, *, timeout_s: float = 120.0, keep_running: bool = False) -> int:
    logging.getLogger("streams").setLevel(logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="ingest-demo-"))
    keep_logs = os.environ.get("INGEST_DEMO_KEEP_LOGS") is not None
    failed = False
    broker = EmbeddedBroker(log_path=workdir / "broker.log")
    worker = None
    try:
        with _hangup_stops():
            broker.start(timeout_s=settings.broker_wait_s)
            live = settings.with_bootstrap(broker.bootstrap)
            print(f"embedded Tansu broker on {broker.bootstrap}")
            ensure_topics(live)
            web_port = free_port()
            worker = start_worker(live, workdir, web_port)
            base = f"http://127.0.0.1:{web_port}"
            wait_ready(worker, f"{base}/readyz", timeout_s, workdir / "worker.log")
            sent = publish_samples(live)
            print(f"published {len(sent)} sample articles to {live.topic_raw}")
            verdicts = collect_verdicts(
                live, {(p, o) for _, p, o, _ in sent.values()}, timeout_s)
            rows = [_verdict_row(verdicts[(p, o)], ex) for _, p, o, ex in sent.values()]
            print()
            print(format_table(rows))
            print()
            print(f"metrics: {base}/metrics   health: {base}/healthz   ready: {base}/readyz")
            print(f"  {metric_summary(base)}")
            if keep_running:
                note = "" if keep_logs else " (removed when the demo stops)"
                print(f"worker log: {workdir / 'worker.log'}{note}")
                print("broker and worker keep running; Ctrl-C to stop", flush=True)
                _serve(worker, workdir / "worker.log")
            else:
                print("  (served until the demo exits; `ingest demo --keep-running` keeps "
                      "them up)")
                if keep_logs:
                    print(f"worker log: {workdir / 'worker.log'}")
            return 0
    except Exception:
        failed = True
        raise
    finally:
        _clean_up(worker, broker, workdir, failed=failed, keep_logs=keep_logs)


def _serve(worker: subprocess.Popen[bytes], log: Path) -> NoReturn:
    """Wait for Ctrl-C, SIGTERM or SIGHUP (which raise); a worker that exits meanwhile is a
    failure, whose log is kept."""
    code = worker.wait()
    raise DemoError(f"the worker exited with code {code} while the demo kept running; "
                    f"its log: {log}")


@contextlib.contextmanager
def _hangup_stops() -> Iterator[None]:
    """SIGHUP (the demo's terminal closed) stops it as SIGTERM does, through the clean-up;
    by default it would end the process at once and leave the temporary directory behind.
    Unless SIGHUP is ignored (``nohup``)."""

    def on_hangup(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        raise process.Terminated

    previous = signal.getsignal(signal.SIGHUP) or signal.SIG_DFL  # None: set outside Python
    if previous == signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGHUP, on_hangup)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


def _clean_up(
    worker: subprocess.Popen[bytes] | None, broker: EmbeddedBroker, workdir: Path, *,
    failed: bool, keep_logs: bool,
) -> None:
    """Stop the worker and the broker, then remove the temporary directory: all of it after
    a demo that worked or was stopped (Ctrl-C, SIGTERM, SIGHUP, at any point), all but the
    logs after one that failed (named on stderr), none of it with INGEST_DEMO_KEEP_LOGS.

    Signals that would stop the demo are ignored meanwhile: a second Ctrl-C would otherwise
    cut the clean-up short and leave the directory (and, for the worker's grace period, the
    worker) behind. The stop is bounded: the worker's grace, then SIGKILL."""
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in stops}
    try:
        if worker is not None:
            process.stop(worker, grace_s=20.0)
        broker.stop()
        if failed or keep_logs:
            print(f"ingest: demo logs kept in {workdir}", file=sys.stderr)
        if not keep_logs:
            # A demo that worked leaves nothing behind (every run used to leave its logs in
            # /tmp); one that failed keeps its logs.
            shutil.rmtree(workdir / "data" if failed else workdir, ignore_errors=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler or signal.SIG_DFL)  # None: set outside Python
