"""Assembles a worker: broker, topics, app, replica, agent, web pages, timers.

Each part lives in its own module; this one only builds them and connects them:
``pages.py`` (/healthz, /readyz), ``housekeeping.py`` (expiry, gauges), ``lifecycle.py``
(watchdog, fatal errors, exit codes).
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust
import mode
from faust.sensors.prometheus import setup_prometheus_sensors

from streams import __version__
from streams.core.clock import SYSTEM_CLOCK, Clock, now_ms
from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.index import FingerprintIndex, Index
from streams.core.dedup.spill import SpillFactory
from streams.core.errors import ConfigError
from streams.core.fingerprint_log import LogRecord
from streams.core.guard import DeadLetterGuard
from streams.core.pipeline import Deduplicator
from streams.core.stories.model import StoryUpdate
from streams.core.stories.state import StoryState
from streams.core.text.learned import ParagraphStats
from streams.kafka.broker import broker_for, ensure_topics, reachable_async, wait_for_broker
from streams.kafka.connection import KafkaConnection
from streams.kafka.faust_compat import committed_offsets
from streams.kafka.lag import EndOffsetProbe
from streams.kafka.process import (
    keep_freed_memory_off_the_heap,
    raise_open_files_limit,
    resident_bytes,
    return_freed_memory,
)
from streams.settings import Settings
from streams.shell.agents import Publisher, register_agent
from streams.shell.app import create_app
from streams.shell.collector import collect_less_often
from streams.shell.config import core_config
from streams.shell.corrections import Corrections
from streams.shell.gate import StateGate
from streams.shell.housekeeping import Housekeeping, register_housekeeping
from streams.shell.lifecycle import (
    BrokerWatchdog,
    FatalState,
    fatal_handler,
    interruptible_worker,
    register_watchdog,
)
from streams.shell.metrics import Metrics
from streams.shell.pages import is_ready, register_pages
from streams.shell.pool import PreparePool
from streams.shell.replica import IndexReplica
from streams.shell.snapshot import SnapshotStore, load_or_none
from streams.shell.snapshotter import Snapshotter
from streams.shell.spill_files import file_spill
from streams.shell.topics import declare_topics

log = logging.getLogger(__name__)


class ReplicaService(mode.Service):
    """Runs the index replica and the end-offset probe inside the worker's service tree.

    Before the replica starts, the state is restored from the newest snapshot when one is
    usable; at a clean stop, a last snapshot is written.
    """

    def __init__(self, replica: IndexReplica, probe: EndOffsetProbe, *,
                 dedup: Deduplicator | None = None, store: SnapshotStore | None = None,
                 snapshotter: Snapshotter | None = None,
                 corrections: Corrections | None = None, **kwargs: Any) -> None:
        self.replica = replica
        self.probe = probe
        self.dedup = dedup
        self.store = store
        self.snapshotter = snapshotter
        self.corrections = corrections
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        if (self.dedup is not None and self.store is not None and self.snapshotter is not None
                and self.snapshotter.enabled):
            snapshot = await asyncio.to_thread(load_or_none, self.store)
            if snapshot is not None:
                self.dedup.index = snapshot.index
                self.dedup.stats = snapshot.stats
                if snapshot.stories is not None:
                    self.dedup.stories = snapshot.stories
                self.replica.start_offsets = snapshot.offsets
                self.replica.start_marks = snapshot.marks
        await self.replica.start()
        await self.probe.start()

    async def on_stop(self) -> None:
        if self.corrections is not None:
            self.corrections.log_races()  # the races since the last summary line
        if self.snapshotter is not None and self.replica.ready.is_set():
            try:
                await self.snapshotter.snapshot()
            except Exception:  # a failed last snapshot only costs a longer next start
                log.exception("index snapshot at stop failed")
        await self.probe.stop()
        await self.replica.stop()


class PoolService(mode.Service):
    """Starts the prepare processes with the worker (before the agent) and stops them."""

    def __init__(self, pool: PreparePool, **kwargs: Any) -> None:
        self.pool = pool
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        await self.pool.start()

    async def on_stop(self) -> None:
        await self.pool.stop()


# Builds the stateful step from the core's configuration: the default, or a benchmark variant
# with another index backend or MinHash implementation.
DedupFactory = Callable[[CoreConfig, str], Deduplicator]


def new_index(config: CoreConfig, backend: str, spill: SpillFactory | None = None) -> Index:
    """An empty index of ``backend`` (``INGEST_INDEX_BACKEND``); a compact one spills its
    rows' cold bytes to ``spill()`` when given."""
    if backend == "memory":
        return FingerprintIndex(config.dedup.lsh)
    return CompactIndex(config.dedup.lsh, spill=spill() if spill is not None else None)


def spill_for(settings: Settings) -> SpillFactory | None:
    """Spills in the data directory (``INGEST_INDEX_SPILL``), or None: rows on the heap."""
    if not settings.index_spill:
        return None
    return lambda: file_spill(settings.data_dir)


def default_dedup(config: CoreConfig, worker: str) -> Deduplicator:
    return Deduplicator(config, worker=worker, index=new_index(config, "compact"))


def dedup_for(settings: Settings) -> DedupFactory:
    """The stateful step with the index backend the settings choose."""

    def factory(config: CoreConfig, worker: str) -> Deduplicator:
        return Deduplicator(config, worker=worker,
                            index=new_index(config, settings.index_backend, spill_for(settings)))

    return factory


def build_worker_app(
    settings: Settings,
    metrics: Metrics | None = None,
    fatal: FatalState | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
    dedup_factory: DedupFactory | None = None,
) -> faust.App:
    """The Faust app with everything wired; settings must point at a reachable broker."""
    connection = KafkaConnection.from_settings(settings)
    # The given state also learns of a Ctrl-C (exit code 130).
    app = create_app(settings, connection,
                     worker=interruptible_worker(fatal) if fatal is not None else None)
    topics = declare_topics(app, settings)
    metrics = metrics or Metrics.create()
    metrics.worker.info({"worker": settings.worker_id, "version": __version__})
    factory = dedup_factory if dedup_factory is not None else dedup_for(settings)
    dedup = factory(core_config(settings), settings.worker_id)
    on_fatal = fatal_handler(fatal if fatal is not None else FatalState())
    # The replica's corrections get their own publisher (its own pending sends): a flush of
    # them must not take the agent's batch's sends out of that batch's own flush (the batch
    # would be acknowledged before they are confirmed).
    publisher, corrections_publisher = (
        Publisher(topics, metrics, app.producer, retries=settings.publish_retries,
                  backoff_s=settings.publish_backoff_s, on_fatal=on_fatal,
                  on_logged=dedup.logged) for _ in range(2))
    pool = PreparePool(dedup.config, settings.pool_processes, settings.processing_budget_s,
                       dedup.fingerprinter)

    checks = dedup.remote_checks
    corrections = Corrections(corrections_publisher, metrics)

    async def on_log_record(record: LogRecord | StoryUpdate, catching_up: bool) -> None:
        redecided, skipped = checks.decided, checks.skipped
        outcome = dedup.on_log_record(record, catching_up=catching_up, now_ms=now_ms(clock))
        if checks.decided != redecided:
            metrics.remote_checks.labels(result="redecided").inc()
        elif checks.skipped != skipped:
            metrics.remote_checks.labels(result="skipped").inc()
        if outcome is not None:
            await corrections.after_log_record(outcome)

    def start_over(reason: str) -> None:
        # The snapshot was loaded but the log no longer matches it: rebuild from nothing.
        replaced = dedup.index
        dedup.index = new_index(dedup.config, settings.index_backend, spill_for(settings))
        if isinstance(replaced, CompactIndex):
            replaced.close()  # its spill files now, not when the collector finds the index
        dedup.stats = ParagraphStats(dedup.config.learned)
        dedup.stories = StoryState(dedup.config.stories, window_ms=dedup.config.window_ms)

    gate = StateGate()
    replica = IndexReplica(settings, on_log_record, gate=gate, on_fallback=start_over,
                           on_rewound=on_fatal,
                           on_invalid=lambda _: metrics.index_invalid_records.inc(),
                           connection=connection, on_own=dedup.read_back)
    probe = EndOffsetProbe(settings, settings.topic_raw, connection)
    store = SnapshotStore(settings.data_dir, dedup.config, settings.topic_fingerprints,
                          spill=spill_for(settings))
    snapshotter = Snapshotter(store=store, dedup=dedup, gate=gate,
                              covered=replica.covered_offsets,
                              last_records=replica.covered_marks,
                              interval_s=settings.snapshot_interval_s, clock=clock)
    if settings.snapshot_interval_s and not snapshotter.enabled:
        log.warning("index snapshots need INGEST_INDEX_BACKEND=compact: every start replays "
                    "the whole fingerprint log")
    service = ReplicaService(replica, probe, dedup=dedup, store=store, snapshotter=snapshotter,
                             corrections=corrections,
                             loop=app.loop, beacon=app.beacon)
    app.service(service)  # type: ignore[arg-type]
    app.service(PoolService(pool, loop=app.loop, beacon=app.beacon))  # type: ignore[arg-type]
    guard = DeadLetterGuard(settings.deadletter_max_ratio, settings.deadletter_window,
                            pause_ms=int(settings.deadletter_pause_s * 1000))

    register_agent(app=app, topics=topics, settings=settings, dedup=dedup, pool=pool,
                   replica=replica,
                   publisher=publisher, guard=guard, gate=gate)
    register_pages(app, settings, replica, pool)
    register_housekeeping(app, Housekeeping(
        dedup=dedup, metrics=metrics, replica=replica, probe=probe,
        raw_topic=topics.raw.get_topic_name,
        assignment=lambda: app.consumer.assignment(),  # noqa: PLW0108 - created at start
        committed=lambda: committed_offsets(app.consumer),
        ready=lambda: is_ready(app, replica, pool),
        clock=clock,
        gate=gate,
        snapshotter=snapshotter,
        publish_owed=corrections.owed,
        trim=return_freed_memory,
        resident=resident_bytes,
    ))
    watchdog = BrokerWatchdog(settings, on_fatal, probe=reachable_async,
                              servers=connection.bootstrap, clock=clock)
    register_watchdog(app, watchdog)
    setup_prometheus_sensors(app, name_prefix="faust")
    return app


def check_data_dir(path: Path) -> None:
    """Create the data directory, or refuse it (ConfigError, exit 2) before anything starts:
    a file there, or a path that cannot be created or written, failed later with a traceback
    (the index spill's first file)."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"INGEST_DATA_DIR={str(path)!r} is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"INGEST_DATA_DIR={str(path)!r} cannot be created: {exc.strerror or exc}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"INGEST_DATA_DIR={str(path)!r} is not writable")


LOCK_FILE = "LOCK"
# What flock raises where the file system has no locks: the worker runs, with a warning.
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)
# The open lock file of this process's data directory: the lock lasts as long as it is open.
_held_locks: list[Any] = []


def lock_data_dir(path: Path) -> None:
    """Hold an exclusive lock on ``path`` for the life of the process, or refuse it
    (ConfigError, exit 2) while another worker on this host holds it.

    Two workers in one data directory wrote their index snapshots over each other's, each
    then restarting from the other's (until 2026-12-06 nothing stopped it: an operator
    trial, and the README's own local two-worker recipe). ``flock``: the kernel releases it
    when the process ends, SIGKILL included; the pool's spawned processes do not inherit it.
    """
    try:
        lock = (path / LOCK_FILE).open("a+")
    except OSError as exc:  # LOCK is a directory, or not ours to write (a review)
        raise ConfigError(f"INGEST_DATA_DIR={str(path)!r}: its {LOCK_FILE} file cannot be "
                          f"opened: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in _NO_LOCKS:  # a file system without flock (some network mounts)
            log.warning("INGEST_DATA_DIR=%r cannot be locked (%s): nothing stops a second "
                        "worker from sharing it", str(path), exc.strerror or exc)
            lock.close()
            return
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            lock.close()
            raise ConfigError(f"INGEST_DATA_DIR={str(path)!r} cannot be locked: "
                              f"{exc.strerror or exc}") from exc
        lock.seek(0)
        holder = lock.read().strip() or "unknown"
        lock.close()
        raise ConfigError(
            f"INGEST_DATA_DIR={str(path)!r} is in use by another worker (pid {holder}): "
            "give each worker on a host its own data directory") from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    _held_locks.append(lock)


def run_worker(settings: Settings, dedup_factory: DedupFactory | None = None) -> int:
    """``ingest worker``: start the embedded broker if needed, then Faust's worker command."""
    check_data_dir(settings.data_dir)
    lock_data_dir(settings.data_dir)
    check_web_port(settings.web_host, settings.web_port)
    keep_freed_memory_off_the_heap()  # the index's freed growth buffers leave RSS
    collect_less_often()  # streams.shell.collector
    raise_open_files_limit()  # the index spill holds a descriptor per segment
    with broker_for(settings) as live:
        if settings.embedded:
            log.warning(
                "KAFKA_BOOTSTRAP_SERVERS is unset: started the embedded Tansu broker on %s "
                "(in-memory; for development only)", live.kafka_bootstrap_servers,
            )
        wait_for_broker(live)
        ensure_topics(live, worker=True)
        fatal = FatalState()
        app = build_worker_app(live, fatal=fatal, dedup_factory=dedup_factory)
        sys.argv = faust_argv(live)
        code = 0
        try:
            app.main()
        except SystemExit as exc:
            code = int(exc.code or 0)
    return fatal.exit_code or code


def check_web_port(host: str, port: int) -> None:
    """ConfigError when the worker's HTTP port cannot be had, before anything starts: taken
    (another worker on this host with the same INGEST_WEB_PORT), a host that does not resolve
    or is not an address of this machine. Until 2026-12-05 Faust found these after the
    embedded broker had started: an OSError (gaierror) traceback and exit 1.

    Resolved and bound as asyncio's server does (every address of ``host``, "" for all
    interfaces, SO_REUSEADDR, IPv6 only on IPv6 sockets, an address family this machine
    lacks skipped); port 0 binds any free port, so the host is still checked.
    """
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ConfigError(f"web host {host} cannot be resolved (INGEST_WEB_HOST, --web-host): "
                          f"{exc.strerror or exc}") from None
    for family, kind, proto, _, address in addresses:
        try:
            sock = socket.socket(family, kind, proto)
        except OSError:
            continue
        with sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise _bind_error(host, port, exc) from None


def _bind_error(host: str, port: int, exc: OSError) -> ConfigError:
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(f"port {port} on {host} is in use (INGEST_WEB_PORT, --web-port): "
                           "another worker on this host needs a port of its own")
    if exc.errno == errno.EADDRNOTAVAIL:
        return ConfigError(f"web host {host} is not an address of this machine "
                           f"(INGEST_WEB_HOST, --web-host): {exc.strerror}")
    return ConfigError(f"port {port} on {host} cannot be bound (INGEST_WEB_HOST, "
                       f"INGEST_WEB_PORT): {exc.strerror}")


def faust_argv(settings: Settings) -> list[str]:
    """The command line Faust's click interface reads from ``sys.argv`` for the worker.

    The app carries every other setting (web host and port included), so only the log level
    goes this way, and ``--quiet`` with JSON logs: Faust's 16-line banner (and its "OK ^")
    is plain text on stderr and stdout, so the log was not one JSON object per line.
    """
    quiet = ["--quiet"] if settings.log_format == "json" else []
    return ["ingest", *quiet, "worker", "--loglevel", faust_log_level(settings.log_level)]


# Faust's worker command knows crit|error|warn|info|debug.
_FAUST_LOG_LEVELS = {"warning": "warn", "critical": "crit", "fatal": "crit"}


def faust_log_level(level: str) -> str:
    """``INGEST_LOG_LEVEL`` (Python's level names) as Faust's ``--loglevel`` takes it."""
    level = level.lower()
    return _FAUST_LOG_LEVELS.get(level, level)
