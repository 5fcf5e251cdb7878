"""Child processes never outlive their parent; SIGTERM unwinds. Real processes throughout."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from streams.kafka.process import (
    Terminated,
    parent_death_signal,
    spawn,
    stop,
    stop_on_sigterm,
)
from tests.harness import wait_exited

# A parent that spawns `sleep` through spawn(), prints the child's pid and waits forever.
PARENT = textwrap.dedent("""
    import signal, sys
    from streams.kafka.process import spawn
    child = spawn(["sleep", "600"])
    print(child.pid, flush=True)
    signal.pause()
""")


def test_a_child_dies_when_its_parent_is_sigkilled() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert not wait_exited(child, 0)  # running while the parent lives
        parent.kill()
        parent.wait(timeout=10)
        assert wait_exited(child, 10), "the child outlived its SIGKILLed parent"
    finally:
        parent.kill()
        parent.wait(timeout=10)


def test_a_child_whose_parent_died_before_prctl_signals_itself() -> None:
    # In a forked process, a death signal armed for "this process's parent" while the
    # parent is already someone else: the child must not wait for a signal that never comes.
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            parent_death_signal(signal.SIGKILL)()  # captured pid is ours, getppid() is not
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_children_run_in_their_own_session() -> None:
    child = spawn(["sleep", "600"])
    try:
        assert os.getsid(child.pid) == child.pid != os.getsid(0)
    finally:
        assert stop(child) == -signal.SIGTERM


def test_stop_kills_a_child_that_ignores_sigterm() -> None:
    script = ("import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
              "print('ready', flush=True); signal.pause()")
    child = spawn([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline() == b"ready\n"  # SIGTERM is ignored from here on
    assert stop(child, grace_s=0.5) == -signal.SIGKILL
    child.stdout.close()


def test_stop_of_an_exited_child_returns_its_code() -> None:
    child = spawn(["true"])
    child.wait(timeout=10)
    assert stop(child) == 0


def test_sigterm_raises_terminated_once_then_is_ignored_until_the_block_ends() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), stop_on_sigterm():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # not reached: the handler raises at the next bytecode
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_second_sigterm_does_not_interrupt_cleanup() -> None:
    cleaned = []
    with pytest.raises(Terminated), stop_on_sigterm():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)  # not reached
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # ignored: cleanup goes on
            cleaned.append(True)
    assert cleaned == [True]


_HEAP_PROBE = """
import sys
from streams.kafka.process import keep_freed_memory_off_the_heap
if sys.argv[1] == "fixed":
    assert keep_freed_memory_off_the_heap()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
grown = bytearray(16 << 20)  # a mapped block freed: glibc's default raises its threshold
del grown
base = rss()
blocks, pins = [], []
for _ in range(64):  # 64 MiB in 1 MiB blocks, each followed by a small block that stays
    blocks.append(bytearray(1 << 20))
    pins.append(bytearray(1024))  # over pymalloc's 512 bytes: from malloc, after the block
del blocks
print(rss() - base)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_freed_blocks_leave_rss_with_the_fixed_mmap_threshold() -> None:
    def retained(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", _HEAP_PROBE, mode], capture_output=True,
                              text=True, check=True, timeout=60)
        return int(done.stdout.strip())

    assert retained("default") > 48 << 20  # glibc's default keeps the freed blocks resident
    assert retained("fixed") < 8 << 20



_TRIM_PROBE = """
import sys
from streams.kafka.process import keep_freed_memory_off_the_heap, return_freed_memory
keep_freed_memory_off_the_heap()  # as a worker: blocks under 128 KiB come from the heap
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
base = rss()
kept, freed = [], []
for i in range(40_000):  # 80 MiB of 2 KiB blocks; one in 64 stays, pinning the heap's top
    (kept if i % 64 == 63 else freed).append(bytearray(2048))
del freed
before = rss() - base
released = return_freed_memory() if sys.argv[1] == "trim" else None
print(before, rss() - base, released)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_freed_heap_leaves_rss_when_trimmed() -> None:
    def rss_mib(mode: str) -> tuple[float, float, str]:
        done = subprocess.run([sys.executable, "-c", _TRIM_PROBE, mode], capture_output=True,
                              text=True, check=True, timeout=60)
        before, after, released = done.stdout.split()
        return int(before) / 2**20, int(after) / 2**20, released

    before, after, released = rss_mib("keep")
    assert before > 60 and after > 60  # freed, yet resident: glibc keeps it in its arena
    before, after, released = rss_mib("trim")
    assert before > 60 and after < 10 and released == "True"


_LIMIT_PROBE = """
import json, resource
from streams.kafka.process import raise_open_files_limit
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
print(json.dumps([raise_open_files_limit(), resource.getrlimit(resource.RLIMIT_NOFILE), hard]))
"""


def test_the_open_files_limit_is_raised_to_the_hard_limit() -> None:
    done = subprocess.run([sys.executable, "-c", _LIMIT_PROBE], capture_output=True, text=True,
                          check=True)
    changed, limits, hard = json.loads(done.stdout)
    raised = hard if hard != resource.RLIM_INFINITY else 1 << 20
    assert changed == [256 if hard == resource.RLIM_INFINITY else min(256, hard), raised]
    assert limits == [raised, hard]
