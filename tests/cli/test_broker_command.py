"""``ingest broker`` never leaves its Tansu process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from streams.kafka.broker import EmbeddedBroker, free_port
from tests.harness import wait_exited, wait_for_child

pytestmark = pytest.mark.broker


@pytest.fixture
def broker_command() -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A running ``ingest broker`` and its Tansu's pid, once it says it is listening."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "broker", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        assert lines[1] == f"export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{port}\n", lines
        yield process, wait_for_child(process.pid, "tansu")
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_sigterm_stops_tansu_and_exits_0(
    broker_command: tuple[subprocess.Popen[str], int],
) -> None:
    process, tansu = broker_command
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert wait_exited(tansu, 0), "Tansu still running after ingest broker exited"


def test_sigkill_takes_tansu_down_too(broker_command: tuple[subprocess.Popen[str], int]) -> None:
    process, tansu = broker_command
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert wait_exited(tansu, 10), "Tansu outlived its SIGKILLed parent"


def test_a_port_in_use_by_a_running_broker_is_refused(broker: EmbeddedBroker) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "broker", "--port", str(broker.port)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"ingest: error [invalid_setting]: port {broker.port} on 127.0.0.1 is in use\n")


def test_a_worker_whose_embedded_broker_port_is_taken_exits_2(broker: EmbeddedBroker) -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "",
           "INGEST_EMBEDDED_BROKER_PORT": str(broker.port)}
    result = subprocess.run([sys.executable, "-m", "streams.cli", "worker"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"ingest: error [invalid_setting]: port {broker.port} on 127.0.0.1 is in use")


def test_tansu_exiting_on_its_own_is_reported_with_its_output_and_exit_1() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "broker", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        assert [process.stdout.readline() for _ in range(2)][1] == (
            f"export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{port}\n")
        os.kill(wait_for_child(process.pid, "tansu"), signal.SIGKILL)
        assert process.wait(timeout=30) == 1
        lines = process.stderr.read().splitlines()
    finally:
        process.kill()
        process.wait(timeout=10)
    start = lines.index(f"ingest: error [broker_unavailable]: the embedded Tansu broker on "
                        f"127.0.0.1:{port} exited on its own with code -9; its last output:")
    assert lines[start + 1:-1] == [
        "  tansu broker 0.6.0",
        f"  listening on: tcp://127.0.0.1:{port} (advertised: tcp://127.0.0.1:{port})",
        '  storage: memory://tansu/ ["dynostore"]',
    ]
    assert lines[-1].startswith("  ready in ")
