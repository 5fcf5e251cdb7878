"""``ingest tail``: print output records as JSON lines."""

from __future__ import annotations

import logging
import select
import sys
import time

from streams.core.clock import SYSTEM_CLOCK
from streams.core.errors import ConfigError
from streams.core.outage import Outage, OutageTracker
from streams.kafka.broker import reachable, wait_for_broker
from streams.kafka.clients import close_quietly, make_reader, poll_records
from streams.kafka.connection import KafkaConnection
from streams.settings import Settings

# A broker that stays unreachable this long (INGEST_BROKER_LOST_S) ends the command with
# this code, as it ends a worker (streams/shell/lifecycle.py).
EXIT_BROKER_LOST = 3
_PROBE_EVERY_S = 1.0


def run_tail(
    settings: Settings,
    output: str,
    *,
    from_beginning: bool,
    limit: int | None,
    idle_timeout_s: float | None,
) -> int:
    if settings.embedded:
        raise ConfigError("KAFKA_BOOTSTRAP_SERVERS is not set: point it at the broker to read")
    topic = {
        "enriched": settings.topic_enriched,
        "duplicates": settings.topic_duplicates,
        "deadletter": settings.topic_deadletter,
        "stories": settings.topic_stories,
    }[output]
    wait_for_broker(settings)
    consumer = make_reader(settings, [topic], from_beginning=from_beginning)
    if not consumer.assignment():
        close_quietly(consumer)
        # Until 2026-12-05: a traceback with --from-beginning, else read nothing for ever
        # (the partitions are assigned once: the topic created later was never read).
        raise ConfigError(f"{topic}: no such topic yet (a worker, or `ingest produce`, "
                          "creates the topics when it starts); nothing to read")
    # The client logs every failed connection at ERROR (~45 lines before an outage is
    # declared); the outage is this command's to report, in one line.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    printed = 0
    last = probed = time.monotonic()
    servers = KafkaConnection.from_settings(settings).bootstrap
    outage = OutageTracker(settings.broker_lost_s, SYSTEM_CLOCK)
    try:
        while limit is None or printed < limit:
            got = False
            for record in poll_records(consumer):
                got = True
                sys.stdout.write(record.value.decode("utf-8") + "\n")
                printed += 1
                if limit is not None and printed >= limit:
                    break
            sys.stdout.flush()
            if got:
                last = time.monotonic()
            elif idle_timeout_s is not None and time.monotonic() - last > idle_timeout_s:
                break
            else:
                _check_reader()
                if time.monotonic() - probed >= _PROBE_EVERY_S:
                    # Until 2026-12-05 a tail whose broker died retried for ever, printing
                    # the client's connection errors; the worker exits 3 (README, Guarantees).
                    probed = time.monotonic()
                    if outage.observe(reachable(servers)).state is Outage.LOST:
                        print(f"ingest: error [broker_unavailable]: broker {','.join(servers)} "
                              f"unreachable for {settings.broker_lost_s:.0f} s; tail stops",
                              file=sys.stderr)
                        return EXIT_BROKER_LOST
    finally:
        close_quietly(consumer)
    return 0


def _check_reader() -> None:
    """Raise BrokenPipeError when stdout is a pipe whose reader went away (``| head -1``
    after its line), as ``tail -f`` does: without a record to write, nothing else would
    notice, and the command would wait for ever (until 2026-12-05 it did, when the records
    it printed were the topic's last)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)  # POLLERR and POLLHUP are always reported
        events = poller.poll(0)
    except (OSError, ValueError):  # no file descriptor (a test's capture): nothing to check
        return
    if any(mask & (select.POLLERR | select.POLLHUP) for _, mask in events):
        raise BrokenPipeError
