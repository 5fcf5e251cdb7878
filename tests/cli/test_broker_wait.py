"""Every command that contacts a broker gives up after INGEST_BROKER_WAIT_S with one line.

No Tansu needed: a closed port, and a listener that is not Kafka.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from streams.kafka.broker import free_port
from tests.harness import SAMPLES

COMMANDS = {
    "tail": ["tail"],
    "produce": ["produce", str(SAMPLES[0])],
    "worker": ["worker"],
}


def ingest(args: list[str], servers: str, wait_s: str = "1") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": servers, "INGEST_BROKER_WAIT_S": wait_s}
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def assert_one_error_line(result: subprocess.CompletedProcess[str], message: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert lines[-1].startswith(f"ingest: error [broker_unavailable]: {message}"), lines[-1]
    # The error once; before it at most our own retry lines, never a client library's logs.
    assert [line for line in lines if line.startswith("ingest: error")] == [lines[-1]]
    assert [line for line in lines[:-1] if "unreachable (attempt" not in line] == []
    assert result.stdout == ""


@pytest.mark.parametrize("command", COMMANDS)
def test_nothing_listening_is_one_line_and_exit_2(command: str) -> None:
    port = free_port()  # nothing listens here
    result = ingest(COMMANDS[command], f"127.0.0.1:{port}")
    assert_one_error_line(
        result, f"no Kafka broker reachable at 127.0.0.1:{port} after 1 s (3 attempts)"
    )


@pytest.fixture
def not_kafka(request: pytest.FixtureRequest) -> Iterator[int]:
    """A TCP listener that accepts and then says nothing (``silent``) or hangs up (``hangs_up``)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return  # closed by the fixture
            if request.param == "hangs_up":
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    for conn in held:
        conn.close()


@pytest.mark.parametrize(
    ("command", "not_kafka"),
    [("tail", "silent"), ("tail", "hangs_up"), ("produce", "silent"), ("worker", "silent")],
    indirect=["not_kafka"],
)
def test_a_listener_that_is_not_kafka_is_one_line_and_exit_2(command: str, not_kafka: int) -> None:
    result = ingest(COMMANDS[command], f"127.0.0.1:{not_kafka}")
    assert_one_error_line(
        result, f"no Kafka broker answered at 127.0.0.1:{not_kafka} within 1 s (KafkaTimeoutError"
    )


def test_sigterm_while_waiting_for_the_broker_exits_143_without_a_traceback() -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
           "INGEST_BROKER_WAIT_S": "120"}
    process = subprocess.Popen([sys.executable, "-m", "streams.cli", "tail"], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        assert "unreachable (attempt 1)" in process.stderr.readline()  # it is waiting
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 143
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.wait(timeout=10)
