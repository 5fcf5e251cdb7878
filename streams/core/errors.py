"""One root error for the ingester; every subclass carries a stable snake_case ``code``.

The code appears unchanged in dead-letter records (``error``) and in metric labels
(``ingest_deadletters_total{code=...}``), so never rename one: add a new class instead.
"""

from __future__ import annotations


class IngestError(Exception):
    """Root of every error the ingester raises on purpose."""

    code = "ingest_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InputError(IngestError):
    """Raised when a raw message cannot become an article; the message is dead-lettered."""

    code = "invalid_input"


class TooLargeError(InputError):
    """Raised when a raw value or body exceeds ``max_body_bytes``."""

    code = "too_large"


class NotUtf8Error(InputError):
    """Raised when the raw value is neither UTF-8 nor text with a byte-order mark."""

    code = "not_utf8"


class BinaryContentError(InputError):
    """Raised when the value is binary data (gzip, images, archives) rather than text."""

    code = "binary_content"


class InvalidEnvelopeError(InputError):
    """Raised when a JSON envelope is malformed: not an object, wrong field types, too deep."""

    code = "invalid_envelope"


class MissingBodyError(InputError):
    """Raised when a JSON envelope has no ``body`` field."""

    code = "missing_body"


class EmptyBodyError(InputError):
    """Raised when the body holds no article text (empty, whitespace or markup only)."""

    code = "empty_body"


class UnsupportedFormatError(InputError):
    """Raised when the body is a document of many articles (an RSS or Atom feed), not one."""

    code = "unsupported_format"


class ExtractionError(InputError):
    """Raised when an HTML body cannot be parsed or yields no main text."""

    code = "extraction_failed"


class RecordTooLargeError(InputError):
    """Raised when an output record cannot be cut to fit the topic's message size limit."""

    code = "record_too_large"


class InvalidLogRecordError(IngestError):
    """Raised when a fingerprint-log record is malformed (types, sizes, signature length)."""

    code = "invalid_log_record"


class InternalError(IngestError):
    """Raised for a bug on the processing path; the message is dead-lettered, not lost."""

    code = "internal_error"


class ConfigError(IngestError):
    """Raised at start-up when a setting is invalid."""

    code = "invalid_setting"


class DeadLetterRateExceededError(IngestError):
    """Raised when too large a share of recent messages dead-lettered: stop, do not drain."""

    code = "deadletter_rate_exceeded"


class BrokerUnavailableError(IngestError):
    """Raised when the Kafka broker cannot be reached within the configured retries."""

    code = "broker_unavailable"


class ProcessingTimeoutError(InputError):
    """Raised when one message exceeds the per-message processing budget; it is dead-lettered
    and the worker moves on (a safety net behind linear-time processing)."""

    code = "processing_timeout"


class SnapshotUnusableError(IngestError):
    """Raised when an index snapshot is missing, corrupt, incompatible or stale; the worker
    then rebuilds its index from the whole fingerprint log instead."""

    code = "snapshot_unusable"


class SnapshotMissingError(SnapshotUnusableError):
    """Raised when the data directory has no index snapshot yet: a first start, not a fault."""

    code = "snapshot_missing"


class LogRewoundError(IngestError):
    """Raised when the fingerprint log holds a record at an offset this worker's replica has
    already read past: the topic was recreated or emptied under the running worker (an
    in-memory broker restarted in place), so its index no longer follows the log. The
    worker stops (exit 6); its next start finds the snapshot's records gone and replays the
    log, as every new worker does."""

    code = "fingerprint_log_rewound"


class PublishFailedError(IngestError):
    """Raised when the broker refused an output record after every retry (too large for the
    topic, a broker error); a small dead letter then stands for it, the worker moves on."""

    code = "publish_failed"


def message_error_codes() -> tuple[str, ...]:
    """The codes a raw message can be dead-lettered with: every input error's and the
    internal error's (``ingest_deadletters_total`` counts these; ``publish_failed`` is an
    output's, counted apart), sorted."""
    found: set[str] = {InternalError.code}
    pending: list[type[IngestError]] = list(InputError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.add(cls.code)
        pending += cls.__subclasses__()
    return tuple(sorted(found))
