"""Logging setup: readable text by default, one JSON object per line with ``log_format=json``."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

import orjson

from streams.settings import Settings

# Fields callers attach with ``extra=``; they appear as keys in JSON logs.
CONTEXT_FIELDS = ("topic", "partition", "offset", "article_id", "code", "worker")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            if hasattr(record, name):
                payload[name] = getattr(record, name)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(payload).decode()


class RepeatFilter(logging.Filter):
    """Let one record per (logger, message template) through every ``interval_s`` seconds.

    A broker outage makes the Kafka clients log the same connection error hundreds of times
    a second; one line per interval, with the count suppressed, says the same thing.
    """

    def __init__(self, interval_s: float = 10.0) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._last: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        now = time.monotonic()
        last, suppressed = self._last.get(key, (0.0, 0))
        if now - last < self.interval_s:
            self._last[key] = (last, suppressed + 1)
            return False
        if suppressed:
            record.msg = f"{record.msg} (and {suppressed} more like it in {self.interval_s:.0f} s)"
        self._last[key] = (now, 0)
        return True


# The client libraries' modules that log per connection attempt.
CHATTY_LOGGERS = (
    "aiokafka", "aiokafka.conn", "aiokafka.client", "aiokafka.cluster",
    "aiokafka.consumer.fetcher", "aiokafka.consumer.group_coordinator",
    "aiokafka.producer.sender", "aiokafka.producer.producer", "kafka",
)


def quiet_client_libraries() -> None:
    repeat = RepeatFilter()
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(repeat)


def faust_logging_config(settings: Settings) -> dict[str, Any] | None:
    """A dictConfig for Faust's worker, which replaces the root handlers when it starts.

    None keeps Faust's own (coloured text) logging.
    """
    if settings.log_format != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": settings.log_level.upper(), "handlers": ["default"]},
    }


def make_handler(settings: Settings) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
        )
    return handler


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    root.handlers[:] = [make_handler(settings)]
    root.setLevel(settings.log_level.upper())
    # Client libraries log every connection at INFO; keep their warnings only.
    for noisy in ("kafka", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    quiet_client_libraries()
    threading.excepthook = log_thread_exception


def log_thread_exception(args: threading.ExceptHookArgs) -> None:
    """A thread's uncaught exception as one log record, its traceback in it.

    Python's default hook writes the traceback to stderr, which Faust's worker turns into a
    log record per write: when the broker went away, the client's thread ended in 133 records,
    68 of them a lone ``^`` (a new-user trial, 2026-12-05).
    """
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "unknown"
    error = args.exc_value
    logging.getLogger("streams.threads").error(
        "thread %s stopped: %r", name, error if error is not None else args.exc_type,
        exc_info=error,
    )
