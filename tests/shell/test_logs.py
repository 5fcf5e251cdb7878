from __future__ import annotations

import logging
import threading

import orjson
import pytest

from streams.settings import load
from streams.shell.logs import (
    JsonFormatter,
    RepeatFilter,
    faust_logging_config,
    log_thread_exception,
)


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("streams.shell.agents", logging.WARNING, __file__, 1, msg, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_lines_carry_the_message_origin() -> None:
    line = JsonFormatter().format(
        _record("dead-lettered", topic="articles.raw", partition=3, offset=17, code="not_utf8")
    )
    payload = orjson.loads(line)
    assert {k: payload[k] for k in ("level", "logger", "message", "topic", "partition",
                                    "offset", "code")} == {
        "level": "warning", "logger": "streams.shell.agents", "message": "dead-lettered",
        "topic": "articles.raw", "partition": 3, "offset": 17, "code": "not_utf8"}


def test_faust_gets_our_json_formatter_only_when_asked() -> None:
    assert faust_logging_config(load({})) is None
    config = faust_logging_config(load({"INGEST_LOG_FORMAT": "json"}))
    assert config is not None
    assert config["formatters"]["json"]["()"] is JsonFormatter
    assert config["root"]["handlers"] == ["default"]


def test_repeated_client_errors_are_collapsed() -> None:
    repeat = RepeatFilter(interval_s=60)
    passed = [repeat.filter(_record("Unable connect to node %s")) for _ in range(100)]
    assert passed.count(True) == 1


def test_secrets_do_not_reach_log_lines() -> None:
    settings = load({"KAFKA_SASL_PASSWORD": "s3cr3t-value"})
    record = logging.LogRecord("streams", logging.INFO, __file__, 1, "settings: %r %s",
                               (settings, settings.kafka_sasl_password), None)
    line = JsonFormatter().format(record)
    assert "s3cr3t-value" not in line
    assert "**********" in line


def test_an_uncaught_thread_exception_is_one_record_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Python's own hook writes it to stderr, a Faust log record per write (133 when the
    # broker went away: a new-user trial, 2026-12-05).
    def fail() -> None:
        raise ConnectionError("broker gone")

    thread = threading.Thread(target=fail, name="Thread-9")
    previous = threading.excepthook
    threading.excepthook = log_thread_exception
    try:
        with caplog.at_level(logging.ERROR, logger="streams.threads"):
            thread.start()
            thread.join()
    finally:
        threading.excepthook = previous
    [record] = caplog.records
    assert record.getMessage() == "thread Thread-9 stopped: ConnectionError('broker gone')"
    assert record.exc_info is not None and record.exc_info[1] is not None
    assert "raise ConnectionError" in JsonFormatter().format(record)
