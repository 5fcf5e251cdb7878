"""The worker's HTTP pages for orchestrators: /healthz (alive) and /readyz (ready).

``/metrics`` is served on the same port by Faust's Prometheus sensor (``worker.py``).
"""

from __future__ import annotations

from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted

from streams.settings import Settings
from streams.shell.pool import PreparePool
from streams.shell.replica import IndexReplica


def is_ready(app: faust.App, replica: IndexReplica, pool: PreparePool) -> bool:
    """Ready to process: the prepare pool's processes have loaded their resources, the index
    replica has caught up and still follows the log, and no rebalance is under way."""
    return pool.started and replica.alive and not app.rebalancing


def readiness(
    app: faust.App, replica: IndexReplica, pool: PreparePool, settings: Settings
) -> dict[str, Any]:
    """The body of /readyz: the verdict and what it was made of. Before the consumer's thread
    has started (the pages are served first) no partition is assigned and the worker is not
    ready: until 2026-12-06 such a request was answered 500 with a traceback in the log."""
    try:
        assignment = app.consumer.assignment()
    except ConsumerNotStarted:
        assignment = None
    assigned = sorted(tp.partition for tp in assignment or ()
                      if tp.topic == settings.topic_raw)
    started = assignment is not None
    return {"ready": started and is_ready(app, replica, pool),
            "prepare_pool_started": pool.started,
            "replica_caught_up": replica.ready.is_set(),
            "replica_error": replica.failure, "rebalancing": app.rebalancing,
            "assigned_partitions": assigned, "worker": settings.worker_id}


def register_pages(
    app: faust.App, settings: Settings, replica: IndexReplica, pool: PreparePool
) -> None:
    @app.page("/healthz")
    async def healthz(self: Any, request: Any) -> Any:
        return self.json({"status": "alive", "worker": settings.worker_id})

    @app.page("/readyz")
    async def readyz(self: Any, request: Any) -> Any:
        body = readiness(app, replica, pool, settings)
        return self.json(body, status=200 if body["ready"] else 503)
