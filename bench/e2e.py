"""End-to-end runs through the embedded Tansu broker: corpus, processes, measurements.

Every throughput run gets a fresh broker with the same pre-produced corpus on a 4-partition
raw topic, then starts its worker process(es) and waits until one output record per raw
message exists. Rates come from the output records' Kafka timestamps (first to last), CPU
from ``/proc/<pid>/stat`` sampled during the run and interpolated at those two instants,
so neither worker start-up nor the final read of the output topics is counted. Output
topics are read with a kafka-python ``assign()`` reader after the run (Tansu's end offsets
are unreliable, so records are counted, never offsets).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bench import corpus, procfs
from streams import settings as settings_mod
from streams.core.decoding import decode_bytes
from streams.kafka.broker import EmbeddedBroker, ensure_topics, free_port
from streams.kafka.clients import make_producer, make_reader, poll_records
from streams.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 4
SAMPLE_INTERVAL_S = 0.25
# Share of generated originals that get one or two duplicate variants (see build_corpus).
ONE_DUPLICATE, TWO_DUPLICATES = 0.20, 0.08

# -- corpus -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Corpus:
    """Raw message values in arrival order, with what they are."""

    values: list[bytes]
    kinds: dict[str, int]  # original / same_story / duplicate kinds
    formats: dict[str, int]  # plain / page / fragment / bare
    left_out: int = 0  # messages a builder left out (pages over the message limit)

    @property
    def duplicate_share(self) -> float:
        dups = sum(n for k, n in self.kinds.items() if k in corpus.DUPLICATE_KINDS)
        return dups / len(self.values)

    @property
    def mean_bytes(self) -> float:
        return sum(map(len, self.values)) / len(self.values)

    def summary(self) -> dict[str, Any]:
        return {"messages": len(self.values), "mean_bytes": round(self.mean_bytes),
                "duplicate_share": round(self.duplicate_share, 3), "kinds": self.kinds,
                "formats": self.formats, "left_out": self.left_out}


def html_page(paragraphs: Sequence[str], title: str, publication: str,
              rng: random.Random) -> str:
    """A whole publisher page: head with scripts, nav, byline, related links, footer."""
    related = "".join(
        f"<li><a href='/news/{rng.randrange(10**6)}'>{rng.choice(corpus.TOPICS).capitalize()} "
        f"in {rng.choice(corpus.PLACES)}</a></li>" for _ in range(5)
    )
    body = "".join(f"<p>{p.replace('&', '&amp;')}</p>\n" for p in paragraphs)
    slug = publication.lower().replace(" ", "")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title} | {publication}</title>"
        f"<meta property='og:title' content='{title}'>"
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        "</script><style>body{font-family:serif}.nav li{display:inline}</style></head><body>"
        f"<header><a class='logo' href='/'>{publication}</a><ul class='nav'>"
        "<li><a href='/'>Home</a></li><li><a href='/news'>News</a></li>"
        "<li><a href='/sport'>Sport</a></li><li><a href='/business'>Business</a></li>"
        "<li><a href='/opinion'>Opinion</a></li><li><a href='/subscribe'>Subscribe</a></li>"
        "</ul></header><main><nav class='breadcrumb'><a href='/'>Home</a> › "
        "<a href='/news'>News</a></nav><article>"
        f"<h1>{title}</h1><p class='byline'>By {rng.choice(corpus.FIRST)} "
        f"{rng.choice(corpus.LAST)}</p><time datetime='2024-08-1{rng.randrange(10)}T09:30:00Z'>"
        f"{rng.choice(corpus.DAYS)}</time>\n{body}</article>"
        f"<aside><h2>Related stories</h2><ul>{related}</ul>"
        "<form action='/newsletter'><label>Get our morning briefing</label>"
        "<input type='email' name='email'><button>Sign up</button></form></aside></main>"
        f"<footer><ul><li><a href='/about'>About {publication}</a></li>"
        "<li><a href='/contact'>Contact us</a></li><li><a href='/privacy'>Privacy policy</a>"
        "</li><li><a href='/terms'>Terms</a></li></ul>"
        f"<p>© {publication} 2024. All rights reserved.</p></footer>"
        f"<script src='https://cdn.{slug}.example/app.js'></script></body></html>"
    )


def _value(article_id: str, body: str, *, content_type: str | None, title: str,
           publication: str, fmt: str) -> bytes:
    if fmt == "bare":
        return body.encode("utf-8")
    envelope: dict[str, Any] = {
        "id": article_id, "source": publication, "title": title, "body": body,
        "url": f"https://{publication.lower().replace(' ', '')}.example/{article_id}",
    }
    if content_type:
        envelope["content_type"] = content_type
    return orjson.dumps(envelope)


def build_corpus(count: int, seed: int = 7) -> Corpus:
    """``count`` raw messages: 300-1,500-word articles of ``bench.corpus``, ~25 % duplicates.

    Originals come 1-3 per story (later ones are hard negatives sharing quotes and facts).
    28 % of originals get duplicate variants of ``corpus.DUPLICATE_KINDS``. Formats: 70 %
    plain-text envelopes, 15 % whole HTML pages, 10 % HTML fragments, 5 % bare bodies.
    Arrival order is random, so a copy can arrive before its original.
    """
    rng = random.Random(seed)
    messages: list[tuple[str, bytes, str]] = []  # (kind, value, format)
    kinds: dict[str, int] = {}
    formats: dict[str, int] = {}
    story_no = 0
    while len(messages) < count:
        story = corpus._story(rng, story_no)
        story_no += 1
        for article in range(rng.randint(1, 3)):
            paragraphs = corpus._article(rng, story, rng.randint(300, 1500))
            title = f"{story['topic'].capitalize()} in {story['place']}: update {article + 1}"
            publication = rng.choice(corpus.PUBLICATIONS)
            article_id = f"{story['id']}a{article}-{story_no}"
            fmt = rng.choices(("plain", "page", "fragment", "bare"), (70, 15, 10, 5))[0]
            if fmt == "page":
                body, ctype = html_page(paragraphs, title, publication, rng), "text/html"
            elif fmt == "fragment":
                body, ctype = "".join(f"<p>{p}</p>" for p in paragraphs), "text/html"
            else:
                body, ctype = "\n".join(paragraphs), None
            kind = "original" if article == 0 else "same_story"
            value = _value(article_id, body, content_type=ctype, title=title,
                           publication=publication, fmt=fmt)
            messages.append((kind, value, fmt))
            roll = rng.random()
            copies = 2 if roll < TWO_DUPLICATES else 1 if roll < TWO_DUPLICATES + ONE_DUPLICATE \
                else 0
            for dup_kind in rng.sample(corpus.DUPLICATE_KINDS, copies):
                body, ctype = corpus._variant(dup_kind, paragraphs, rng, title)
                dup_fmt = "page" if dup_kind == "html" else "plain"
                value = _value(f"{article_id}-{dup_kind}", body, content_type=ctype,
                               title=title, publication=rng.choice(corpus.PUBLICATIONS),
                               fmt=dup_fmt)
                messages.append((dup_kind, value, dup_fmt))
    del messages[count:]
    rng.shuffle(messages)
    for kind, _, fmt in messages:
        kinds[kind] = kinds.get(kind, 0) + 1
        formats[fmt] = formats.get(fmt, 0) + 1
    return Corpus([v for _, v, _ in messages], kinds, formats)


def build_page_corpus(pages: Path, count: int, max_bytes: int = 900_000) -> Corpus:
    """Up to ``count`` real whole pages (the ``*.html`` of a third-party set such as WCXB's,
    in name order) as JSON envelopes with ``content_type: text/html``: the expensive case of
    the stateless step, on markup nobody here wrote. Pages are decoded as the shell decodes
    bytes; a page whose envelope exceeds ``max_bytes`` (under the topics' 1 MiB message
    limit) is left out."""
    values: list[bytes] = []
    skipped = 0
    for path in sorted(pages.glob("*.html")):
        if len(values) >= count:
            break
        body = decode_bytes(path.read_bytes()).text
        value = orjson.dumps({"id": f"page-{path.stem}", "body": body,
                              "content_type": "text/html"})
        if len(value) > max_bytes:
            skipped += 1
            continue
        values.append(value)
    if not values:
        raise FileNotFoundError(f"no *.html pages under {pages}")
    return Corpus(values, {"page": len(values)}, {"page": len(values)}, left_out=skipped)


# -- processes ------------------------------------------------------------------------------

_LIVE: list[Proc] = []


@dataclass
class Proc:
    """A child process in its own session, so stopping it stops everything it started."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    web_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    samples: list[tuple[float, float]] = field(default_factory=list)  # (epoch s, cpu s)

    def start(self) -> Proc:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=ROOT,
            )
        _LIVE.append(self)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def sample(self) -> None:
        cpu = cpu_seconds(self.pid)
        if cpu is not None:
            self.samples.append((time.time(), cpu))

    def cpu_between(self, start: float, end: float) -> float:
        return _interpolate(self.samples, end) - _interpolate(self.samples, start)

    def peak_rss_bytes(self) -> int:
        """Peak RSS of the worker plus the current RSS of its prepare processes."""
        children = sum(procfs.status_kb(child.pid, "VmRSS")
                       for child in procfs.descendants(self.pid))
        return (procfs.status_kb(self.pid, "VmHWM") + children) * 1024

    def get(self, path: str, timeout_s: float = 2.0) -> tuple[int, bytes]:
        url = f"http://127.0.0.1:{self.web_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 0, b""

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM the process group, then SIGKILL it after ``timeout_s``."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        _signal_group(self.process.pid, signal.SIGKILL)  # leftovers of the group, if any
        with contextlib.suppress(ValueError):
            _LIVE.remove(self)
        return self.process.returncode


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def stop_all() -> None:
    """Stop every child still running (called on exit, errors and signals)."""
    for proc in list(_LIVE):
        proc.stop(timeout_s=5)


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of ``pid`` and its live descendants (the prepare pool) from /proc."""
    own = procfs.process(pid)
    if own is None:
        return None
    return own.cpu_s + sum(child.cpu_s for child in procfs.descendants(pid))


def _interpolate(samples: list[tuple[float, float]], at: float) -> float:
    if not samples:
        return 0.0
    if at <= samples[0][0]:
        return samples[0][1]
    for (t0, c0), (t1, c1) in itertools.pairwise(samples):
        if t0 <= at <= t1:
            return c0 + (c1 - c0) * (at - t0) / (t1 - t0) if t1 > t0 else c1
    return samples[-1][1]


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


WORKER = python_module("streams.cli", "worker")
FORWARD = python_module("bench.baselines", "forward")
DATASKETCH = python_module("bench.baselines", "datasketch")
DAYONE = python_module("bench.dayone")
# The pipeline worker with story clustering off (``env`` execs it: same pid, same group).
NO_STORIES = ["env", "INGEST_STORIES=false", *WORKER]
# The pipeline worker with trafilatura's fast mode (no fallback extractors).
FAST_EXTRACTION = ["env", "INGEST_EXTRACTION=fast", *WORKER]


def allowed_cores() -> list[int]:
    """The CPUs this process may run on (affinity, cpusets), in order."""
    return sorted(os.sched_getaffinity(0))


def one_core_no_pool(worker: int) -> list[str]:
    """Worker ``worker`` pinned to the ``worker``-th allowed CPU, without its prepare pool
    (``taskset`` and ``env`` exec it: same pid, same group)."""
    core = allowed_cores()[worker]
    return ["taskset", "-c", str(core), "env", "INGEST_PROCESSES=0", *WORKER]


# The shell's cost (issue 14): the worker on one core without its prepare pool, against the
# pure core's rate on one core.
ONE_CORE_NO_POOL = one_core_no_pool(0)


def worker_env(bootstrap: str, run: str, name: str, *, web_port: int, data_dir: Path,
               raw_topic: str = "articles.raw") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("INGEST_", "KAFKA_"))}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        INGEST_APP_ID=f"bench-{run}",
        INGEST_WORKER_ID=name,
        INGEST_DATA_DIR=str(data_dir),
        INGEST_WEB_HOST="127.0.0.1",
        INGEST_WEB_PORT=str(web_port),
        INGEST_TOPIC_RAW=raw_topic,
        INGEST_PARTITIONS=str(PARTITIONS),
        # Tansu holds a group join for session_timeout/2 (README, "Running on Tansu").
        INGEST_BROKER_SESSION_TIMEOUT_S="2",
        INGEST_BROKER_HEARTBEAT_INTERVAL_S="0.5",
        INGEST_LOG_LEVEL="warn",  # Faust spells it "warn",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
    )
    return env


# -- broker, producing, reading --------------------------------------------------------------


@contextlib.contextmanager
def fresh_broker(workdir: Path, name: str) -> Iterator[tuple[EmbeddedBroker, Settings]]:
    """A new in-memory Tansu with the ingester's topics (4 partitions each)."""
    with EmbeddedBroker(log_path=workdir / f"{name}-broker.log") as broker:
        settings = settings_mod.load({}, kafka_bootstrap_servers=broker.bootstrap,
                                     partitions=PARTITIONS)
        ensure_topics(settings)
        yield broker, settings


def broker_pid(broker: EmbeddedBroker) -> int:
    process = broker._process  # the broker's CPU is reported next to the workers'
    return process.pid if process is not None else 0


def produce_all(settings: Settings, values: Sequence[bytes], topic: str | None = None) -> float:
    """Produce ``values`` round-robin over the partitions as fast as possible; seconds."""
    producer = make_producer(settings, linger_ms=20, batch_size=512 * 1024)
    started = time.perf_counter()
    try:
        futures = [producer.send(topic or settings.topic_raw, value=v, partition=i % PARTITIONS)
                   for i, v in enumerate(values)]
        producer.flush(timeout=120)
        for future in futures:
            future.get(timeout=60)
    finally:
        producer.close(timeout=10)
    return time.perf_counter() - started


def produce_paced(settings: Settings, values: Sequence[bytes], rate: float,
                  topic: str) -> float:
    """Produce at ``rate`` messages/s (timestamps set at send); returns the achieved rate."""
    producer = make_producer(settings)
    started = time.perf_counter()
    try:
        for i, value in enumerate(values):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            producer.send(topic, value=value, partition=i % PARTITIONS)
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=10)
    return len(values) / (time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class OutRecord:
    topic: str
    timestamp_ms: int
    value: bytes


def read_outputs(settings: Settings, topics: list[str], expected: int,
                 count: Callable[[list[OutRecord]], int], *, timeout_s: float = 120.0,
                 idle_s: float = 3.0) -> list[OutRecord]:
    """Every record of ``topics`` from the beginning, until ``count`` reaches ``expected``."""
    reader = make_reader(settings, topics, from_beginning=True)
    got: list[OutRecord] = []
    deadline = time.monotonic() + timeout_s
    last_new = time.monotonic()
    try:
        while time.monotonic() < deadline:
            before = len(got)
            got.extend(OutRecord(r.topic, r.timestamp, r.value)
                       for r in poll_records(reader, timeout_ms=500))
            if len(got) > before:
                last_new = time.monotonic()
                continue
            if count(got) >= expected or time.monotonic() - last_new > idle_s * 10:
                break
    finally:
        reader.close()
    return got


def verdict_origins(records: list[OutRecord]) -> dict[tuple[int, int], OutRecord]:
    """(partition, offset) of the raw message -> its first verdict record (corrections out).

    A whole duplicates record that supersedes a kept verdict (it has ``received_at``: a
    replay or a resend of a kept article, README "Record contracts") is its message's
    verdict: a resend decided by another worker than the kept copy's can have no other (a
    new-user trial's run waited for it until its timeout)."""
    out: dict[tuple[int, int], OutRecord] = {}
    for record in records:
        value = orjson.loads(record.value)
        if value.get("supersedes") and "received_at" not in value:
            continue
        origin = value["origin"]
        out.setdefault((origin["partition"], origin["offset"]), record)
    return out


def count_verdicts(records: list[OutRecord]) -> int:
    return len(verdict_origins(records))


def count_all(records: list[OutRecord]) -> int:
    return len(records)


# -- measurements ----------------------------------------------------------------------------


def scrape_metrics(proc: Proc) -> dict[str, float]:
    """Unlabelled samples of the worker's /metrics page (name -> value)."""
    status, body = proc.get("/metrics")
    out: dict[str, float] = {}
    if status != 200:
        return out
    for line in body.decode(errors="replace").splitlines():
        if line.startswith("#") or "{" in line:
            continue
        name, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[name] = float(value)
    return out


def progress(proc: Proc) -> int:
    """Messages a worker has consumed: its /metrics counter, or the baseline's /count."""
    if proc.argv in (FORWARD, DAYONE):
        status, body = proc.get("/count")
        return int(orjson.loads(body)["forwarded"]) if status == 200 else 0
    return int(scrape_metrics(proc).get("ingest_articles_consumed_total", 0))


# Workers that consume nothing for this long have stalled: the run stops there, with what
# they were doing (``stall_report``), instead of waiting out its whole timeout. The slowest
# healthy progress measured is a 256-page batch of whole pages (~15 s); a start replays a
# fresh log in seconds.
STALL_S = 90.0


@dataclass
class ProgressWatch:
    """When the consumed count last moved; ``stalled_for`` says how long it has not."""

    stall_s: float = STALL_S
    count: int = -1
    since: float = 0.0

    def stalled_for(self, count: int, now: float) -> float | None:
        """Seconds without progress once that exceeds ``stall_s``, else None."""
        if count != self.count:
            self.count, self.since = count, now
            return None
        waited = now - self.since
        return waited if waited > self.stall_s else None


def wait_processed(procs: list[Proc], broker_process: int, expected: int, timeout_s: float,
                   samples: dict[str, list[tuple[float, float]]], *,
                   stall_s: float = STALL_S, report_dir: Path | None = None) -> int:
    """Sample CPU until the workers have consumed ``expected`` messages; returns the count.

    Raises RuntimeError when no worker consumed anything for ``stall_s`` (the workers' stacks,
    assignments and metrics are written to ``report_dir``, see ``stall_report``).
    """
    deadline = time.monotonic() + timeout_s
    next_progress = 0.0
    done = 0
    watch = ProgressWatch(stall_s)
    while time.monotonic() < deadline:
        for proc in procs:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
            proc.sample()
        broker_cpu = cpu_seconds(broker_process)
        if broker_cpu is not None:
            samples.setdefault("broker", []).append((time.time(), broker_cpu))
        if time.monotonic() >= next_progress:
            done = sum(progress(p) for p in procs)
            if done >= expected:
                break
            stalled = watch.stalled_for(done, time.monotonic())
            if stalled is not None:
                raise RuntimeError(stall_report(procs, done, expected, stalled, report_dir))
            next_progress = time.monotonic() + 1.0
        time.sleep(SAMPLE_INTERVAL_S)
    for proc in procs:  # one sample after the end, for interpolation
        proc.sample()
    broker_cpu = cpu_seconds(broker_process)
    if broker_cpu is not None:
        samples.setdefault("broker", []).append((time.time(), broker_cpu))
    return done


def py_spy() -> str | None:
    """The py-spy executable (a dev dependency) beside this interpreter, or on the PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def stall_report(procs: list[Proc], done: int, expected: int, stalled_s: float,
                 report_dir: Path | None) -> str:
    """What stalled workers were doing: each one's assignment (/readyz), consumed count, and
    the Python stacks of it and its prepare processes (``py-spy dump``), written to
    ``report_dir/<worker>.stall.txt``; returns a summary naming those files."""
    lines = [f"stalled: {done} of {expected} messages consumed, none for {stalled_s:.0f} s"]
    spy = py_spy()
    for proc in procs:
        status, body = proc.get("/readyz")
        ready = body.decode("utf-8", "replace") if body else "no answer"
        lines.append(f"{proc.name}: /readyz {status} {ready[:300]}; consumed {progress(proc)}")
        if report_dir is None:
            continue
        if spy is None:
            stacks = "py-spy not installed (make install adds it): no stacks\n"
        else:
            dumped = subprocess.run([spy, "dump", "--subprocesses", "--pid", str(proc.pid)],
                                    capture_output=True, text=True, timeout=60, check=False)
            stacks = dumped.stdout + dumped.stderr
        path = report_dir / f"{proc.name}.stall.txt"
        path.write_text(f"{lines[-1]}\n\n{stacks}\n--- log tail ---\n{proc.log_tail(20000)}")
        lines.append(f"  stacks and log tail: {path}")
    return "\n".join(lines)


def wait_ready(procs: list[Proc], timeout_s: float = 90.0) -> None:
    """Until every worker's /readyz is 200 and the group's partitions are all assigned."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assigned = 0
        for proc in procs:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
            status, body = proc.get("/readyz")
            if status == 200:
                assigned += len(orjson.loads(body).get("assigned_partitions", []))
        if assigned >= PARTITIONS:
            return
        time.sleep(0.2)
    raise RuntimeError("workers not ready in time:\n" + procs[0].log_tail())


def index_state(proc: Proc, expected_entries: int, timeout_s: float = 12.0) -> dict[str, float]:
    """ingest_index_bytes / ingest_index_entries once housekeeping (every 5 s) has seen all."""
    deadline = time.monotonic() + timeout_s
    metrics: dict[str, float] = {}
    while time.monotonic() < deadline:
        metrics = scrape_metrics(proc)
        if metrics.get("ingest_index_entries", 0) >= expected_entries:
            break
        time.sleep(0.5)
    entries = metrics.get("ingest_index_entries", 0.0)
    size = metrics.get("ingest_index_bytes", 0.0)
    spilled = metrics.get("ingest_index_spill_bytes", 0.0)
    return {"index_entries": entries, "index_bytes": size, "index_spill_bytes": spilled,
            "state_bytes_per_article": size / entries if entries else 0.0,
            "spill_bytes_per_article": spilled / entries if entries else 0.0}


@dataclass
class RunResult:
    name: str
    messages: int
    outputs: int
    seconds: float
    rate: float
    worker_cpu_s: float
    broker_cpu_s: float
    peak_rss_mb: float
    # Output records in the measured window (``steady_start`` to the last).
    counted: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu_s_per_1000(self) -> float:
        return self.worker_cpu_s / self.counted * 1000 if self.counted else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "messages": self.messages, "outputs": self.outputs,
                "counted": self.counted, "seconds": round(self.seconds, 3),
                "articles_per_s": round(self.rate, 1),
                "worker_cpu_s": round(self.worker_cpu_s, 2),
                "worker_cpu_s_per_1000": round(self.cpu_s_per_1000, 3),
                "broker_cpu_s_per_1000": round(
                    self.broker_cpu_s / max(1, self.counted) * 1000, 3),
                "peak_rss_mb": round(self.peak_rss_mb, 1), **self.extra}


def make_proc(run: str, number: int, argv: list[str], settings: Settings, workdir: Path, *,
              raw_topic: str = "articles.raw") -> Proc:
    """Worker ``number`` of run ``run``: its own web port, data directory and log."""
    name, port = f"{run}-w{number}", free_port()
    env = worker_env(settings.kafka_bootstrap_servers, run, name, web_port=port,
                     data_dir=workdir / name, raw_topic=raw_topic)
    return Proc(name, argv, env, workdir / f"{name}.log", web_port=port)


def run_throughput(name: str, argv: list[str], values: Sequence[bytes], workdir: Path, *,
                   workers: int = 1, timeout_s: float = 600.0,
                   per_worker: Callable[[int], list[str]] | None = None) -> RunResult:
    """Pre-produce ``values``, start ``workers`` processes of ``argv`` (worker ``i``'s command
    is ``per_worker(i)`` when given), measure until done."""
    with fresh_broker(workdir, name) as (broker, settings):
        produce_all(settings, values)
        procs = [make_proc(name, i + 1, per_worker(i) if per_worker else argv, settings, workdir)
                 for i in range(workers)]
        samples: dict[str, list[tuple[float, float]]] = {}
        try:
            for proc in procs:
                proc.start()
            wait_processed(procs, broker_pid(broker), len(values), timeout_s, samples,
                           report_dir=workdir)
            is_forward = argv == FORWARD
            # The forwarding baseline writes the raw bytes to the enriched topic's name.
            topics = [settings.topic_enriched] if is_forward else list(settings.output_topics)
            records = read_outputs(settings, topics, len(values),
                                   count_all if is_forward else count_verdicts)
            state = {} if is_forward or argv == DAYONE else index_state(procs[0], len(values))
            peak = max(p.peak_rss_bytes() for p in procs) / 2**20
            assignments = _assignments(procs) if workers > 1 and not is_forward else {}
        finally:
            for proc in procs:
                proc.stop()
    return _result(name, values, records, procs=procs, samples=samples, peak_mb=peak,
                   state=state, assignments=assignments, is_forward=is_forward)


def _assignments(procs: list[Proc]) -> dict[str, list[int]]:
    out = {}
    for proc in procs:
        _, body = proc.get("/readyz")
        out[proc.name] = orjson.loads(body).get("assigned_partitions", []) if body else []
    return out


def _result(name: str, values: Sequence[bytes], records: list[OutRecord], *,
            procs: list[Proc], samples: dict[str, list[tuple[float, float]]], peak_mb: float,
            state: dict[str, float], assignments: dict[str, list[int]],
            is_forward: bool) -> RunResult:
    if is_forward:
        stamps = sorted(r.timestamp_ms for r in records)
        per_partition: dict[int, list[int]] = {}
    else:
        verdicts = verdict_origins(records)
        stamps = sorted(r.timestamp_ms for r in verdicts.values())
        per_partition = {}
        for (partition, _), record in verdicts.items():
            per_partition.setdefault(partition, []).append(record.timestamp_ms)
    if len(stamps) < 2:
        raise RuntimeError(f"{name}: only {len(stamps)} output records\n{procs[0].log_tail()}")
    last = stamps[-1] / 1000
    by_worker = {worker: sorted(t for p in partitions for t in per_partition.get(p, []))
                 for worker, partitions in assignments.items()}
    first = steady_start([t for t in by_worker.values() if t] or [stamps]) / 1000
    counted = sum(1 for t in stamps if t / 1000 > first)
    if counted < 1:  # a run of one batch: its span, as a run of record-by-record outputs
        first, counted = stamps[0] / 1000, len(stamps) - 1
    seconds = max(last - first, 1e-3)
    worker_cpu = sum(p.cpu_between(first, last) for p in procs)
    broker_cpu = (_interpolate(samples.get("broker", []), last)
                  - _interpolate(samples.get("broker", []), first))
    extra: dict[str, Any] = dict(state)
    extra["complete"] = len(stamps) >= len(values)
    if assignments:
        extra["assignments"] = assignments
        extra["worker_first_output_s"] = {
            worker: round((times[0] - stamps[0]) / 1000, 2)
            for worker, times in by_worker.items() if times}
    return RunResult(name, len(values), len(stamps), seconds, counted / seconds,
                     worker_cpu, broker_cpu, peak_mb, counted, extra)


# A worker publishes a batch's output records at once: those within this of its first record
# are its first batch (the 600 WCXB pages: 111 records in 70 ms).
FIRST_BATCH_S = 0.25


def steady_start(stamps_by_worker: list[list[int]]) -> int:
    """When every worker has published its first batch (ms): the rate is measured from here.

    A worker's first output records come only after it has processed its whole first batch,
    and that work lies before them. Counting those records over a window that starts at them
    inflated the rate by the first batch's share: 111 of 600 WCXB pages in one worker's
    first batch, 189 of 600 in two workers' (2 workers / 1 worker on those pages 2.28 where
    it was ~1.8). From the end of the last worker's first batch on, every worker is past its
    start, and the records and the CPU counted are those of the same window. A worker that
    outputs record by record loses its first ``FIRST_BATCH_S`` of records and time alike."""
    return max(next(t for t in reversed(stamps) if t <= stamps[0] + FIRST_BATCH_S * 1000)
               for stamps in stamps_by_worker)


def run_latency(values: Sequence[bytes], rate: float, workdir: Path,
                warmup: Sequence[bytes] = ()) -> dict[str, Any]:
    """One pipeline worker; produce at ``rate``; latency = output minus raw Kafka timestamp."""
    name = "latency"
    topic = "bench.latency.raw"
    with fresh_broker(workdir, name) as (broker, settings):
        proc = make_proc(name, 1, WORKER, settings, workdir, raw_topic=topic)
        try:
            proc.start()
            wait_ready([proc])
            if warmup:  # first-call costs (language model, caches) are not steady state
                produce_all(settings, warmup, topic=topic)
                wait_processed([proc], broker_pid(broker), len(warmup), 60, {})
            achieved = produce_paced(settings, values, rate, topic)
            expected = len(warmup) + len(values)
            wait_processed([proc], broker_pid(broker), expected, 120 + len(values) / rate, {})
            records = read_outputs(settings, list(settings.output_topics), expected,
                                   count_verdicts)
        finally:
            proc.stop()
    latencies, waits, services = [], [], []
    for (_, offset), record in verdict_origins(records).items():
        value = orjson.loads(record.value)
        received = value.get("received_at")
        if received is None or offset < len(warmup) // PARTITIONS:
            continue
        raw_ms = datetime.fromisoformat(received).timestamp() * 1000
        started_ms = datetime.fromisoformat(value["processed_at"]).timestamp() * 1000
        latencies.append(record.timestamp_ms - raw_ms)
        waits.append(started_ms - raw_ms)  # until the agent starts on it: fetch + queue
        services.append(record.timestamp_ms - started_ms)  # process + hand to the producer
    latencies.sort()
    waits.sort()
    services.sort()
    return {"target_rate": round(rate, 1), "achieved_rate": round(achieved, 1),
            "messages": len(values), "measured": len(latencies),
            "p50_ms": _percentile(latencies, 50), "p95_ms": _percentile(latencies, 95),
            "p99_ms": _percentile(latencies, 99),
            "max_ms": round(latencies[-1], 1) if latencies else None,
            "wait_p50_ms": _percentile(waits, 50), "wait_p99_ms": _percentile(waits, 99),
            "service_p50_ms": _percentile(services, 50),
            "service_p99_ms": _percentile(services, 99)}


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, round(q / 100 * (len(sorted_values) - 1)))
    return round(sorted_values[index], 1)


def run_profile(values: Sequence[bytes], workdir: Path) -> dict[str, Any]:
    """The pipeline worker under pyinstrument on pre-produced ``values``; its hotspots."""
    name = "profile"
    out = workdir / "profile"
    skip = min(100, len(values) // 5)
    argv = python_module("bench.baselines", "profile", str(out), str(skip),
                         str(len(values) - skip))
    with fresh_broker(workdir, name) as (broker, settings):
        produce_all(settings, values)
        proc = make_proc(name, 1, argv, settings, workdir)
        try:
            proc.start()
            wait_processed([proc], broker_pid(broker), len(values), 600, {})
            records = read_outputs(settings, list(settings.output_topics), len(values),
                                   count_verdicts)
        finally:
            proc.stop(timeout_s=60)  # the profiler renders its report on the way out
    stamps = sorted(r.timestamp_ms for r in verdict_origins(records).values())
    result: dict[str, Any] = json_or_empty(out.with_suffix(".json"))
    result["report"] = str(out.with_suffix(".txt"))
    if len(stamps) > 1:
        result["rate_under_profiler"] = round((len(stamps) - 1) / (stamps[-1] - stamps[0])
                                              * 1000, 1)
    return result


def json_or_empty(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return loaded
