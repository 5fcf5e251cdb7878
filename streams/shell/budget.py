"""A CPU-time budget for one message, enforced by a virtual-time interval timer.

``ITIMER_VIRTUAL`` counts the process's user CPU time and delivers ``SIGVTALRM`` when the
budget is spent; the handler raises :class:`BudgetSpent` at the next Python bytecode if the
block's own thread has spent it (``time.thread_time``), else re-arms the timer for the rest:
other threads' CPU time (a snapshot being written while a message is prepared inline) is
not charged to the message. It is a
``BaseException`` so that libraries catching ``Exception`` (trafilatura does) cannot swallow
it. Code stuck inside one C call (a regex, a parser) does not return to the interpreter, so
the process pool also enforces a wall-clock deadline by replacing the child. Signals only
reach the main thread: elsewhere the budget is not enforced.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

from streams.core.config import CoreConfig
from streams.core.errors import ProcessingTimeoutError
from streams.core.prepare import Fingerprinter, Prepared, Rejected, prepare_total
from streams.core.records import RawMessage


class BudgetSpent(BaseException):
    """Raised inside the block when its CPU-time budget is spent."""


# Re-armed for at least this long: the signal's own cost stays negligible.
_MIN_REARM_S = 0.005


@contextlib.contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Raise :class:`BudgetSpent` inside the block after ``seconds`` of this thread's CPU
    time."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    started = time.thread_time()

    def expired(signum: int, frame: FrameType | None) -> None:
        left = seconds - (time.thread_time() - started)
        if left <= 0:
            raise BudgetSpent
        signal.setitimer(signal.ITIMER_VIRTUAL, max(left, _MIN_REARM_S))

    previous = signal.signal(signal.SIGVTALRM, expired)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


def prepare_within(
    raw: RawMessage, config: CoreConfig, budget_s: float, fingerprinter: Fingerprinter
) -> Prepared | Rejected:
    """The stateless step under a CPU-time budget: over budget is a ``processing_timeout``."""
    try:
        with cpu_budget(budget_s):
            return prepare_total(raw, config, fingerprinter)
    except BudgetSpent:
        return Rejected(raw, ProcessingTimeoutError(
            f"processing exceeded its budget of {budget_s:g} s of CPU time"))
