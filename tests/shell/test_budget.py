"""The CPU-time budget of one message (streams.shell.budget): its own thread's time only."""

from __future__ import annotations

import threading
import time

import pytest

from streams.shell.budget import BudgetSpent, cpu_budget


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_the_blocks_own_cpu_time_past_the_budget_raises() -> None:
    with pytest.raises(BudgetSpent), cpu_budget(0.05):
        _spin(2.0)


def test_another_threads_cpu_time_is_not_charged_to_the_block() -> None:
    """A thread spinning for 0.3 s of CPU while the block, with a 0.05 s budget, mostly
    sleeps: the process's CPU time passes the budget several times over, the block's own
    does not."""
    spinner = threading.Thread(target=_spin, args=(0.3,))
    with cpu_budget(0.05):
        own = time.thread_time()
        spinner.start()
        while spinner.is_alive():
            time.sleep(0.002)  # bytecode between sleeps: the handler gets its turn
        own = time.thread_time() - own
    spinner.join()
    assert own < 0.05


def test_the_timer_is_off_and_the_handler_restored_after_the_block() -> None:
    import signal

    before = signal.getsignal(signal.SIGVTALRM)
    with cpu_budget(0.05):
        pass
    assert signal.getitimer(signal.ITIMER_VIRTUAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGVTALRM) is before
