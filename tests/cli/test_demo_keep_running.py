"""``ingest demo --keep-running`` stops cleanly on every signal and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.broker


def start_demo(tmp_path: Path) -> tuple[subprocess.Popen[bytes], list[str]]:
    """A running ``ingest demo --keep-running`` in ``tmp_path`` and the lines it printed up
    to the one saying it keeps running."""
    # As in a terminal's foreground: a test run started in the background of a
    # non-interactive shell (a CI runner, `make test &`) has Ctrl-C ignored, and one started
    # by `nohup` SIGHUP; a child inherits an ignored signal (a handled one is reset to the
    # default), and the demo rightly keeps ignoring it: the Ctrl-C case then waited for ever,
    # and the SIGHUP case until its timeout (a fresh-clone run under nohup, 2026-12-05).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_hangup = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        demo = subprocess.Popen(
            [sys.executable, "-m", "streams.cli.main", "demo", "--keep-running"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "", "TMPDIR": str(tmp_path)},
        )
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGHUP, previous_hangup)
    assert demo.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != "broker and worker keep running; Ctrl-C to stop":
        line = demo.stdout.readline()
        assert line, f"demo ended early: {demo.wait()} {demo.communicate()[1].decode()[-2000:]}"
        lines.append(line.decode().rstrip("\n"))
    return demo, lines


def ended(demo: subprocess.Popen[bytes], timeout_s: float = 120.0) -> tuple[int, str]:
    """The demo's exit code and stderr, its pipes drained meanwhile (a full pipe would block
    it); on a timeout, what it had written, to say where it stood."""
    try:
        _, stderr = demo.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        demo.terminate()  # its own clean-up stops its worker and broker (a kill orphans them)
        try:
            _, stderr = demo.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            _, stderr = demo.communicate()
        raise AssertionError(f"the demo did not stop in {timeout_s} s; stderr:\n"
                             f"{stderr.decode()[-3000:]}") from None
    return demo.returncode, stderr.decode()


def metrics_url(lines: list[str]) -> str:
    [line] = [line for line in lines if line.startswith("metrics: ")]
    return line.split()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def worker_pid(demo: subprocess.Popen[bytes]) -> int:
    children = Path(f"/proc/{demo.pid}/task/{demo.pid}/children").read_text().split()
    [pid] = [int(c) for c in children
             if b"worker" in Path(f"/proc/{c}/cmdline").read_bytes().split(b"\0")]
    return pid


@pytest.mark.parametrize(("sig", "code"), [
    (signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 143),
], ids=["ctrl-c", "sigterm", "sighup"])
def test_a_stopped_keep_running_demo_removes_its_directory_and_stops_its_worker(
    tmp_path: Path, sig: signal.Signals, code: int,
) -> None:
    demo, lines = start_demo(tmp_path)
    url = metrics_url(lines)
    [workdir] = list(tmp_path.iterdir())
    assert workdir.name.startswith("ingest-demo-")
    assert f"worker log: {workdir / 'worker.log'} (removed when the demo stops)" in lines
    assert answers(url)
    demo.send_signal(sig)
    assert ended(demo)[0] == code
    assert list(tmp_path.iterdir()) == []  # until 2026-12-05 the whole directory stayed
    assert not answers(url)


def test_a_worker_that_dies_under_a_keep_running_demo_is_a_failure_with_its_log_kept(
    tmp_path: Path,
) -> None:
    demo, _ = start_demo(tmp_path)
    [workdir] = list(tmp_path.iterdir())
    os.kill(worker_pid(demo), signal.SIGKILL)
    code, output = ended(demo)
    assert code == 2
    stderr = output.splitlines()
    log = workdir / "worker.log"
    assert (f"ingest: error [demo_failed]: the worker exited with code -9 while the demo kept "
            f"running; its log: {log}") in stderr
    assert f"ingest: demo logs kept in {workdir}" in stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["broker.log", "worker.log"]
