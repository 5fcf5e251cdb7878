"""Child processes that never outlive their parent, and SIGTERM as a clean stop.

Every process the ingester starts (the embedded Tansu broker, the demo's worker) is started
by :func:`spawn`: in its own session, so a Ctrl-C at the terminal reaches only the parent,
which then stops its children in order; and with Linux's parent-death signal
(``prctl(PR_SET_PDEATHSIG)``), so that when the parent dies without cleaning up (SIGKILL,
OOM killer, a crash) the kernel kills the child too. Measured before this module existed:
``ingest broker`` stopped with SIGTERM, and a worker SIGKILLed after starting the embedded
broker, both left Tansu running with nobody to stop it.

Commands that hold children call :func:`stop_on_sigterm`, which turns SIGTERM (what Docker,
systemd and supervisors send) into :class:`Terminated` so their ``finally`` blocks stop the
children before the process exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import FrameType
from typing import IO, Any

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM inside stop_on_sigterm.

    A ``BaseException`` like ``KeyboardInterrupt``, so ``except Exception`` blocks do not
    swallow a request to stop.
    """


def parent_death_signal(sig: int) -> Callable[[], None]:
    """A ``preexec_fn`` that has the kernel send ``sig`` to the child when its parent dies.

    Linux ties the signal to the *thread* that forked: spawn from the main thread (every
    caller does), or the child dies when the spawning thread ends.
    """
    if not sys.platform.startswith("linux"):  # pragma: no cover - Linux is the target
        return lambda: None
    # Resolved before fork: the child only calls it, it loads nothing.
    prctl = _prctl()
    parent = os.getpid()
    return lambda: _die_with(prctl, sig, parent)


def die_with_parent(sig: int, parent: int) -> None:
    """Called in a child (e.g. a ``multiprocessing`` spawn target, which cannot take a
    ``preexec_fn``): the kernel sends ``sig`` to this process when ``parent`` dies."""
    if sys.platform.startswith("linux"):
        _die_with(_prctl(), sig, parent)


# glibc's mallopt parameter (<malloc.h>) and the value we set: 128 KiB, its initial default.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def keep_freed_memory_off_the_heap() -> bool:
    """Fix glibc's mmap threshold at 128 KiB; True when set (False off glibc).

    By default glibc raises the threshold to the size of every mapped block that is freed,
    up to 32 MiB, so after the index has grown a few arrays (tens of MB each, mapped and
    then freed) later blocks of that size come from the heap, and the heap keeps them
    resident after they are freed. A fixed threshold maps and unmaps them instead
    (``bench/growth.py``, RSS per indexed entry at 1 M entries: 1,050 B by default, 991 B
    with the fixed threshold). Called once when a worker starts.
    """
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def return_freed_memory() -> bool | None:
    """glibc's ``malloc_trim(0)``: give the free pages of every malloc arena back to the
    system. True when some were, None off glibc (musl, macOS: nothing to call).
    ``streams.core.idle_trim`` says when."""
    malloc_trim = _glibc("malloc_trim", ctypes.c_size_t)
    return None if malloc_trim is None else bool(malloc_trim(0))


def _glibc(name: str, *argtypes: Any) -> Any:
    """glibc's function ``name`` returning an int, or None off glibc (musl, macOS)."""
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = list(argtypes)
    function.restype = ctypes.c_int
    return function


def resident_bytes() -> int | None:
    """This process's resident set size (``/proc/self/statm``), None where there is none."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def raise_open_files_limit() -> tuple[int, int] | None:
    """Raise the soft limit of open files to the hard limit; ``(before, after)``, or None
    when it cannot change.

    The index spill holds one descriptor per 16 MiB segment (``streams.shell.spill_files``):
    ~1,000 for 14 M articles of real news, past the soft limit of 1,024 many systems set,
    with the Kafka clients' sockets on top. The hard limit is what the administrator allows.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft >= hard:
        return (soft, soft)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return None
    return (soft, target)


def _prctl() -> Any:
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def _die_with(prctl: Any, sig: int, parent: int) -> None:
    if prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    # The parent may have died before prctl: no signal would ever come.
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    death_signal: int = signal.SIGKILL,
) -> subprocess.Popen[bytes]:
    """Start a child in its own session that the kernel kills when this process dies.

    SIGKILL by default: when the parent dies uncleanly nobody stops the children in order,
    the broker they share may be gone too, and a graceful stop can then hang (Faust waits
    forever on a producer flush to a dead broker). Orderly stops go through :func:`stop`.
    """
    return subprocess.Popen(
        list(argv),
        env=None if env is None else dict(env),
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        # Safe with threads: it imports nothing and takes no lock another thread could hold;
        # it calls a prctl resolved before fork, os.getppid and os.kill.
        preexec_fn=parent_death_signal(death_signal),  # noqa: PLW1509
    )


def stop(process: subprocess.Popen[bytes], *, grace_s: float = 5.0) -> int:
    """SIGTERM, then SIGKILL if the child has not exited after ``grace_s``; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Within the block, the first SIGTERM raises :class:`Terminated` in the main thread.

    Later SIGTERMs are ignored so they cannot interrupt the cleanup the first one started;
    a supervisor that loses patience sends SIGKILL, and the children die with us anyway.
    """

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
