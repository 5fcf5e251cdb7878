"""``ingest broker`` never leaves its Tansu process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from streams.kafka.broker import free_port
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
