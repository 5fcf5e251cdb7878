"""Assembles a worker: broker, topics, app, replica, agent, web pages, timers."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faust
import mode
from faust.sensors.prometheus import setup_prometheus_sensors

from streams import __version__
from streams.core.config import CoreConfig
from streams.core.errors import BrokerUnavailableError, IngestError
from streams.core.fingerprint_log import LogRecord
from streams.core.guard import DeadLetterGuard
from streams.core.pipeline import Deduplicator
from streams.core.stories.model import StoryUpdate
from streams.kafka.broker import broker_for, ensure_topics, reachable_async, wait_for_broker
from streams.kafka.connection import KafkaConnection
from streams.kafka.lag import EndOffsetProbe
from streams.settings import Settings
from streams.shell.agents import Publisher, now_ms, register_agent
from streams.shell.app import create_app
from streams.shell.config import core_config
from streams.shell.metrics import Metrics, count_stories
from streams.shell.replica import IndexReplica
from streams.shell.topics import Topics, declare_topics

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_S = 5.0
FATAL_EXIT_GRACE_S = 10.0
# Exit codes a supervisor can tell apart (2 is "could not start": bad settings, no broker).
FATAL_EXIT_CODES = {"broker_unavailable": 3, "deadletter_rate_exceeded": 4}


def exit_after(seconds: float, code: int) -> None:
    """Exit the process with ``code`` in ``seconds`` unless it has exited by then."""

    def hard_exit() -> None:
        logging.shutdown()
        os._exit(code)

    timer = threading.Timer(seconds, hard_exit)
    timer.daemon = True
    timer.start()


class ReplicaService(mode.Service):
    """Runs the index replica and the end-offset probe inside the worker's service tree."""

    def __init__(self, replica: IndexReplica, probe: EndOffsetProbe, **kwargs: Any) -> None:
        self.replica = replica
        self.probe = probe
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        await self.replica.start()
        await self.probe.start()

    async def on_stop(self) -> None:
        await self.probe.stop()
        await self.replica.stop()


@dataclass
class FatalState:
    """The error that stopped the worker on purpose, if any; decides the exit code."""

    error: IngestError | None = None

    @property
    def exit_code(self) -> int | None:
        if self.error is None:
            return None
        return FATAL_EXIT_CODES.get(self.error.code, 1)


# Builds the stateful step from the core's configuration: the default, or a benchmark variant
# with another index backend or MinHash implementation.
DedupFactory = Callable[[CoreConfig, str], Deduplicator]


def default_dedup(config: CoreConfig, worker: str) -> Deduplicator:
    return Deduplicator(config, worker=worker)


def build_worker_app(
    settings: Settings,
    metrics: Metrics | None = None,
    fatal: FatalState | None = None,
    dedup_factory: DedupFactory = default_dedup,
) -> faust.App:
    """The Faust app with everything wired; settings must point at a reachable broker."""
    app = create_app(settings)
    topics = declare_topics(app, settings)
    metrics = metrics or Metrics.create()
    metrics.worker.info({"worker": settings.worker_id, "version": __version__})
    dedup = dedup_factory(core_config(settings), settings.worker_id)
    publisher = Publisher(topics, metrics)

    async def on_log_record(record: LogRecord | StoryUpdate, catching_up: bool) -> None:
        outcome = dedup.on_log_record(record, catching_up=catching_up, now_ms=now_ms())
        if outcome is not None and outcome.outputs:
            log.warning("race with another worker: %d verdict(s) corrected, %d story merge(s)",
                        outcome.corrections, len(outcome.story_updates))
            await publisher.publish(outcome)
            metrics.corrections.inc(outcome.corrections)
            count_stories(metrics, outcome)

    security = KafkaConnection.from_settings(settings).aiokafka_options()
    replica = IndexReplica(settings, on_log_record, client_options=security)
    probe = EndOffsetProbe(settings, settings.topic_raw, security)
    service = ReplicaService(replica, probe, loop=app.loop, beacon=app.beacon)
    app.service(service)  # type: ignore[arg-type]
    guard = DeadLetterGuard(settings.deadletter_max_ratio, settings.deadletter_window)

    state = fatal if fatal is not None else FatalState()

    async def on_fatal(exc: IngestError) -> None:
        if state.error is not None:
            return
        state.error = exc
        log.error("%s", exc.detail, extra={"code": exc.code})
        # A graceful stop (what SIGTERM does) rather than app.crash, which would re-raise,
        # print a traceback and exit 1. Faust's shutdown can wait forever on a producer flush
        # when the broker is gone: a supervisor needs the exit, so it is forced after a grace
        # period with the same code.
        exit_after(FATAL_EXIT_GRACE_S, state.exit_code or 1)
        os.kill(os.getpid(), signal.SIGTERM)

    register_agent(app=app, topics=topics, settings=settings, dedup=dedup, replica=replica,
                   publisher=publisher, guard=guard, on_fatal=on_fatal)
    _register_pages(app, settings, replica)
    _register_housekeeping(app, topics, dedup, replica, probe, metrics)
    _register_broker_watchdog(app, settings, on_fatal)
    setup_prometheus_sensors(app, name_prefix="faust")
    return app


def is_ready(app: faust.App, replica: IndexReplica) -> bool:
    """Ready to process: the index replica has caught up and no rebalance is under way."""
    return replica.ready.is_set() and not app.rebalancing


def _register_pages(app: faust.App, settings: Settings, replica: IndexReplica) -> None:
    @app.page("/healthz")
    async def healthz(self: Any, request: Any) -> Any:
        return self.json({"status": "alive", "worker": settings.worker_id})

    @app.page("/readyz")
    async def readyz(self: Any, request: Any) -> Any:
        assigned = sorted(tp.partition for tp in app.consumer.assignment()
                          if tp.topic == settings.topic_raw)
        ready = is_ready(app, replica)
        body = {"ready": ready, "replica_caught_up": replica.ready.is_set(),
                "rebalancing": app.rebalancing, "assigned_partitions": assigned,
                "worker": settings.worker_id}
        return self.json(body, status=200 if ready else 503)


def _register_housekeeping(  # noqa: PLR0917 - one call site, all six are needed
    app: faust.App,
    topics: Topics,
    dedup: Deduplicator,
    replica: IndexReplica,
    probe: EndOffsetProbe,
    metrics: Metrics,
) -> None:
    reported: set[int] = set()

    @app.timer(HOUSEKEEPING_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def housekeeping() -> None:
        # Metrics and expiry must never take the worker down: a timer that raises crashes
        # the whole Faust app.
        try:
            dedup.expire(now_ms())
            await _update_gauges()
        except Exception:
            log.exception("housekeeping failed; will retry in %.0f s", HOUSEKEEPING_INTERVAL_S)

    async def _update_gauges() -> None:
        metrics.index_entries.set(len(dedup.index))
        metrics.index_bytes.set(dedup.index.stats().approx_bytes)
        metrics.replica_lag.set(await replica.lag())
        metrics.ready.set(1 if is_ready(app, replica) else 0)
        raw_topic = topics.raw.get_topic_name()
        assigned = [tp for tp in app.consumer.assignment() if tp.topic == raw_topic]
        # Partitions another worker took over: their gauges would freeze at old values.
        for partition in reported - {tp.partition for tp in assigned}:
            for gauge in (metrics.partition_committed, metrics.partition_end,
                          metrics.partition_lag):
                with contextlib.suppress(KeyError):
                    gauge.remove(raw_topic, str(partition))
        reported.clear()
        reported.update(tp.partition for tp in assigned)
        committed = getattr(app.consumer, "_committed_offset", {})
        ends = await probe.end_offsets(tp.partition for tp in assigned)
        for tp in assigned:
            labels = {"topic": tp.topic, "partition": str(tp.partition)}
            end = ends.get(tp.partition)
            # Nothing committed yet (absent or None) means nothing processed: lag is all of it.
            done = committed.get(tp) or 0
            metrics.partition_committed.labels(**labels).set(done)
            if end is not None:
                metrics.partition_end.labels(**labels).set(end)
                metrics.partition_lag.labels(**labels).set(max(0, end - done))


def _register_broker_watchdog(
    app: faust.App,
    settings: Settings,
    on_fatal: Callable[[IngestError], Awaitable[None]],
) -> None:
    """Exit non-zero when the broker stays unreachable: a supervisor restarts us, and the
    outage is visible (worker down) instead of a worker that silently hangs."""
    servers = list(KafkaConnection.from_settings(settings).bootstrap)
    down_since: list[float] = []

    @app.timer(1.0)  # type: ignore[untyped-decorator]
    async def broker_watchdog() -> None:
        if await reachable_async(servers):
            if down_since:
                log.warning("broker reachable again after %.0f s", time.monotonic() - down_since[0])
            down_since.clear()
            return
        if not down_since:
            down_since.append(time.monotonic())
            log.error("broker %s unreachable; exiting if it stays away for %.0f s",
                      settings.kafka_bootstrap_servers, settings.broker_lost_s)
        elif time.monotonic() - down_since[0] > settings.broker_lost_s:
            await on_fatal(BrokerUnavailableError(
                f"broker {settings.kafka_bootstrap_servers} unreachable for "
                f"{settings.broker_lost_s:.0f} s; exiting so the supervisor can restart the worker"
            ))


def run_worker(
    settings: Settings, faust_args: Sequence[str], dedup_factory: DedupFactory = default_dedup
) -> int:
    """``ingest worker``: start the embedded broker if needed, then Faust's worker command."""
    if "--help" in faust_args:
        return _faust_worker_help(settings, faust_args)
    with broker_for(settings) as live:
        if settings.embedded:
            log.warning(
                "KAFKA_BOOTSTRAP_SERVERS is unset: started the embedded Tansu broker on %s "
                "(in-memory; for development only)", live.kafka_bootstrap_servers,
            )
        wait_for_broker(live)
        ensure_topics(live)
        fatal = FatalState()
        app = build_worker_app(live, fatal=fatal, dedup_factory=dedup_factory)
        # Faust's click command line reads sys.argv.
        sys.argv = ["ingest", "worker", *_default_worker_args(live, faust_args)]
        code = 0
        try:
            app.main()
        except SystemExit as exc:
            code = int(exc.code or 0)
    return fatal.exit_code or code


def _faust_worker_help(settings: Settings, faust_args: Sequence[str]) -> int:
    """Faust's worker options, without starting or contacting any broker."""
    app = create_app(settings.with_bootstrap(settings.kafka_bootstrap_servers or "localhost:9092"))
    sys.argv = ["ingest", "worker", *faust_args]
    try:
        app.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _default_worker_args(settings: Settings, args: Sequence[str]) -> list[str]:
    args = list(args)
    if not any(a in ("-l", "--loglevel") or a.startswith("--loglevel=") for a in args):
        args += ["--loglevel", settings.log_level]
    if not any(a == "--web-port" or a.startswith("--web-port=") for a in args):
        args += ["--web-port", str(settings.web_port)]
    return args
