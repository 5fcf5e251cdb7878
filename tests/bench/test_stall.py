"""The benchmark's stall watch: a run whose workers stop consuming ends with their stacks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from bench import e2e


def test_progress_watch_reports_only_after_the_stall_limit() -> None:
    watch = e2e.ProgressWatch(stall_s=90.0)
    assert watch.stalled_for(0, now=0.0) is None
    assert watch.stalled_for(0, now=90.0) is None  # not over the limit yet
    assert watch.stalled_for(0, now=90.5) == 90.5
    assert watch.stalled_for(5, now=91.0) is None  # progress restarts the clock
    assert watch.stalled_for(5, now=181.0) is None
    assert watch.stalled_for(5, now=182.0) == 91.0


def test_a_stalled_run_is_reported_with_the_workers_stacks(tmp_path: Path) -> None:
    """A silent process stands for a stalled worker: no web server (consumed 0, /readyz
    unanswered), blocked in a function the report must name."""
    script = tmp_path / "stuck.py"
    script.write_text("import time\n\ndef waiting_for_partitions():\n    time.sleep(60)\n\n"
                      "print('started', flush=True)\nwaiting_for_partitions()\n")
    proc = e2e.Proc("run-w1", [sys.executable, str(script)], {}, tmp_path / "run-w1.log",
                    web_port=e2e.free_port())
    proc.start()
    try:
        for _ in range(100):  # until it is inside the function
            if "started" in proc.log_path.read_text():
                break
            time.sleep(0.05)
        summary = e2e.stall_report([proc], 14017, 20000, 95.2, tmp_path)
    finally:
        proc.stop(timeout_s=5)
    report = tmp_path / "run-w1.stall.txt"
    assert summary.splitlines()[:2] == [
        "stalled: 14017 of 20000 messages consumed, none for 95 s",
        "run-w1: /readyz 0 no answer; consumed 0",
    ]
    assert f"stacks and log tail: {report}" in summary
    text = report.read_text()
    assert "waiting_for_partitions (stuck.py:4)" in text
    assert text.endswith("--- log tail ---\nstarted\n")


def test_py_spy_is_installed_with_the_dev_dependencies() -> None:
    assert e2e.py_spy() is not None, "make install installs py-spy (pyproject.toml, dev)"


@pytest.mark.parametrize("count", [0, 3])
def test_no_progress_from_the_start_counts_as_a_stall_too(count: int) -> None:
    watch = e2e.ProgressWatch(stall_s=1.0)
    watch.stalled_for(count, now=10.0)
    assert watch.stalled_for(count, now=11.5) == 1.5
