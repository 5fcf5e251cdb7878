"""How a running worker stops on purpose: the broker watchdog, fatal errors, exit codes.

A worker that cannot do its job exits non-zero so a supervisor restarts it and the outage is
visible (worker down) instead of a worker that silently hangs. Child processes are handled
in ``streams/kafka/process.py``; the CLI's own exit codes are in ``streams/cli/main.py``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faust

from streams.core.clock import Clock
from streams.core.errors import BrokerUnavailableError, IngestError
from streams.core.outage import Outage, OutageTracker
from streams.settings import Settings

log = logging.getLogger(__name__)

# Exit codes a supervisor can tell apart (2 is "could not start": bad settings, no broker).
FATAL_EXIT_CODES = {"broker_unavailable": 3, "deadletter_rate_exceeded": 4, "publish_failed": 5,
                    "fingerprint_log_rewound": 6}
INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT: the worker and every CLI command (cli/main.py)
# Faust's shutdown can wait forever on a producer flush when the broker is gone.
FATAL_EXIT_GRACE_S = 10.0
BROKER_PROBE_INTERVAL_S = 1.0

FatalHandler = Callable[[IngestError], Awaitable[None]]


def exit_after(seconds: float, code: int) -> None:
    """Exit the process with ``code`` in ``seconds`` unless it has exited by then."""

    def hard_exit() -> None:
        logging.shutdown()
        os._exit(code)

    timer = threading.Timer(seconds, hard_exit)
    timer.daemon = True
    timer.start()


def request_stop() -> None:
    """Ask the running Faust worker for its graceful stop, exactly as SIGTERM does."""
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class FatalState:
    """The error that stopped the worker on purpose, or a Ctrl-C; decides the exit code."""

    error: IngestError | None = None
    interrupted: bool = False  # SIGINT asked for the (graceful) stop

    @property
    def exit_code(self) -> int | None:
        if self.error is not None:
            return FATAL_EXIT_CODES.get(self.error.code, 1)
        return INTERRUPTED_EXIT_CODE if self.interrupted else None


def interruptible_worker(state: FatalState) -> type[faust.Worker]:
    """Faust's worker class, noting a SIGINT in ``state``.

    Faust stops the same graceful way on SIGINT and SIGTERM and exits 0 after both; a shell,
    ``timeout`` or a supervisor reads 130 as "interrupted", and SIGTERM (the orderly stop a
    supervisor sends) keeps 0. ``_on_sigint`` is the handler mode's worker installs on the
    event loop (mode 0.x, faust-streaming 0.x).
    """

    class IngestWorker(faust.Worker):
        def _on_sigint(self) -> None:
            state.interrupted = True
            super()._on_sigint()

    return IngestWorker


def fatal_handler(
    state: FatalState,
    *,
    stop: Callable[[], None] = request_stop,
    force_exit: Callable[[float, int], None] = exit_after,
) -> FatalHandler:
    """What the worker does with an error it cannot continue after: log it once and stop.

    A graceful stop (what SIGTERM does) rather than ``app.crash``, which would re-raise, print
    a traceback and exit 1; forced after :data:`FATAL_EXIT_GRACE_S` with the same code.
    """

    async def on_fatal(exc: IngestError) -> None:
        if state.error is not None:
            return
        state.error = exc
        log.error("%s", exc.detail, extra={"code": exc.code})
        force_exit(FATAL_EXIT_GRACE_S, state.exit_code or 1)
        stop()

    return on_fatal


class BrokerWatchdog:
    """Probes the broker and ends the worker once it stays unreachable for ``broker_lost_s``.

    ``check`` runs once per :data:`BROKER_PROBE_INTERVAL_S` on a Faust timer; the decision
    is :class:`OutageTracker`'s, on the injected clock.
    """

    def __init__(
        self,
        settings: Settings,
        on_fatal: FatalHandler,
        *,
        probe: Callable[[Sequence[str]], Awaitable[bool]],
        servers: Sequence[str],
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.on_fatal = on_fatal
        self.probe = probe
        self.servers = servers
        self.tracker = OutageTracker(settings.broker_lost_s, clock)

    async def check(self) -> None:
        report = self.tracker.observe(await self.probe(self.servers))
        where = self.settings.kafka_bootstrap_servers
        if report.state is Outage.RECOVERED:
            log.warning("broker reachable again after %.0f s", report.down_for_s)
        elif report.state is Outage.STARTED:
            log.error("broker %s unreachable; exiting if it stays away for %.0f s",
                      where, self.settings.broker_lost_s)
        elif report.state is Outage.LOST:
            await self.on_fatal(BrokerUnavailableError(
                f"broker {where} unreachable for {self.settings.broker_lost_s:.0f} s; "
                "exiting so the supervisor can restart the worker"
            ))


def register_watchdog(app: Any, watchdog: BrokerWatchdog) -> None:
    """Run the watchdog's probe on the app's timer."""

    @app.timer(BROKER_PROBE_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def broker_watchdog() -> None:
        await watchdog.check()
