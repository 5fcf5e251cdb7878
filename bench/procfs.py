"""The process table from /proc, for the benchmarks and the test harness.

This kernel has no ``/proc/<pid>/task/<tid>/children``, so parents come from ``/proc/*/stat``.
The command name is in parentheses and may itself contain spaces or parentheses: the fields
after it are found from the *last* ``)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    ppid: int
    name: str  # the kernel's command name (comm), at most 15 characters
    state: str  # R, S, D, Z, ...
    cpu_s: float  # utime + stime


def parse_stat(pid: int, stat: str) -> Process:
    fields = stat[stat.rindex(")") + 2 :].split()
    return Process(
        pid=pid,
        ppid=int(fields[1]),
        name=stat[stat.index("(") + 1 : stat.rindex(")")],
        state=fields[0],
        cpu_s=(int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
    )


def process(pid: int) -> Process | None:
    """``pid``'s entry, or None once it has exited."""
    try:
        return parse_stat(pid, Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError):
        return None


def processes() -> list[Process]:
    """Every process visible now (one that exits while the table is read is left out)."""
    table = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := process(int(entry.name))) is not None:
            table.append(found)
    return table


def descendants(pid: int) -> list[Process]:
    """Every live descendant of ``pid`` (children, their children, ...)."""
    by_parent: dict[int, list[Process]] = {}
    for proc in processes():
        by_parent.setdefault(proc.ppid, []).append(proc)
    found: list[Process] = []
    todo = [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def children(pid: int, name: str) -> list[int]:
    """Live (not zombie) child processes of ``pid`` whose command name is ``name``."""
    return [p.pid for p in processes() if p.ppid == pid and p.name == name and p.state != "Z"]


def status_kb(pid: int | str, key: str) -> int:
    """A ``kB`` field of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``), 0 if unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
