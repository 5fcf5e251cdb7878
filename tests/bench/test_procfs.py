"""bench/procfs.py reads the process table the benchmarks and the harness rely on."""

from __future__ import annotations

import os
import subprocess
import sys

from bench import procfs


def test_a_command_name_with_spaces_and_parentheses_is_parsed_from_the_last_parenthesis() -> None:
    stat = "4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 150 0 0 20 0 1 0 9 0 0"
    parsed = procfs.parse_stat(4242, stat)
    assert (parsed.pid, parsed.ppid, parsed.name, parsed.state) == (4242, 17, "a) b (c)", "S")
    assert parsed.cpu_s == 400 / procfs.CLOCK_TICKS


def test_a_child_is_found_as_child_and_descendant_until_it_exits() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        name = procfs.process(child.pid).name  # type: ignore[union-attr]
        assert child.pid in procfs.children(os.getpid(), name)
        assert child.pid in [p.pid for p in procfs.descendants(os.getpid())]
    finally:
        child.communicate(b"")
    assert child.pid not in procfs.children(os.getpid(), name)
    assert procfs.process(child.pid) is None
