"""``ingest tail``: print output records as JSON lines."""

from __future__ import annotations

import sys
import time

from streams.core.errors import ConfigError
from streams.kafka.broker import wait_for_broker
from streams.kafka.clients import close_quietly, make_reader, poll_records
from streams.settings import Settings


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
    printed = 0
    last = time.monotonic()
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
    finally:
        close_quietly(consumer)
    return 0
