"""``ingest produce``: publish files or stdin as raw article messages."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sys
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path

import orjson
from kafka.errors import MessageSizeTooLargeError

from streams.cli.inputs import GZIP_SUFFIX, Input, resolve_inputs
from streams.core.decoding import DecodedText, decode_bytes
from streams.core.domains import PUBLISHING_PLATFORMS, registrable_domain
from streams.core.envelope import (
    BODY_NAMES,
    FIELD_ALIASES,
    body_name,
    holds_wide_integer,
    loads_json,
    parse_envelope,
)
from streams.core.errors import BinaryContentError, ConfigError, IngestError, NotUtf8Error
from streams.core.identity import scoped_id
from streams.kafka.broker import ensure_topics, wait_for_broker
from streams.kafka.clients import make_producer
from streams.settings import Settings

PROGRESS_EVERY_S = 10.0


class Progress:
    """A line on stderr every ``every_s`` seconds while ``ingest produce`` sends: a
    directory of a million files or a large export takes minutes (until 2026-12-06 the
    command printed nothing until it was done)."""

    def __init__(self, inputs: int, *, every_s: float = PROGRESS_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._inputs = inputs
        self._every_s = every_s
        self._clock = clock
        self._due = clock() + every_s

    def line(self, sent: int, inputs_read: int) -> str | None:
        """The line to print now, or None before it is due; ``inputs_read``: the inputs
        sent whole so far (the one being sent is not)."""
        now = self._clock()
        if now < self._due:
            return None
        self._due = now + self._every_s
        return (f"ingest: {sent} message{'s' if sent != 1 else ''} sent so far, "
                f"{inputs_read} of {self._inputs} input{'s' if self._inputs != 1 else ''} done")


def _is_json_object(data: bytes) -> bool:
    """Whether ``data`` is one JSON object, in UTF-8 or a legacy charset (read as Latin-1
    here, which keeps JSON's structure; the worker decodes it by its charset)."""
    try:
        return isinstance(loads_json(data.decode("latin-1"))[0], dict)
    except orjson.JSONDecodeError:
        return False


def messages_from_bytes(
    data: bytes, name: str, *, raw: bool, source: str | None = None,
    delimiter: str | None = None,
) -> Iterator[bytes]:
    """One file's messages: a JSON envelope, JSON Lines of envelopes, or text/HTML.

    Text and HTML files are wrapped in an envelope that names the file in a passthrough
    field, ``file`` (records carry it in ``extra``), and carries ``source`` only when one is
    given: the source is the publisher, so without one the worker takes the registrable
    domain of the page's URL (a file name there would split one publisher's articles into
    as many sources as files, each learning its own boilerplate). ``raw`` sends the bytes
    verbatim. A file of several lines that all start like a JSON object is JSON Lines: each
    line is one message, a malformed one included, which the worker dead-letters as
    ``invalid_envelope`` (one bad line of an export must not turn the file into one article).
    A given ``source`` also fills the envelopes that name none; one that names its own
    keeps it. A text or HTML file that is not UTF-8 is decoded first (:func:`file_text`) and
    wrapped the same way; bytes that are not text go verbatim. ``delimiter`` reads the data
    as a table whatever its name (``--format``, stdin's only way to be one).
    """
    if raw:
        yield data
        return
    if (delimiter := delimiter or table_delimiter(name)) is not None:
        text = file_text(data)
        if text is None:
            raise ConfigError(f"{name}: not text, so not a {Path(name).suffix} table")
        yield from table_envelopes(text.text, name, delimiter, source)
        return
    envelopes = _envelopes(data.removeprefix(b"\xef\xbb\xbf"))  # a UTF-8 byte-order mark
    if envelopes is not None:
        yield from (_with_source(envelope, source) for envelope in envelopes)
        return
    text = file_text(data)
    if text is None:
        yield data
        return
    envelope = {"body": text.text, "file": name}
    if text.encoding not in UTF8_CODECS:
        envelope["file_encoding"] = text.encoding
    if source:
        envelope["source"] = source
    yield orjson.dumps(envelope)


UTF8_CODECS = ("utf-8", "utf-8-sig")

# -- tables: one article a row --------------------------------------------------------------
# A .csv or .tsv file is an export of many articles, one a row: sent whole it would be one
# article made of every row (with the header as its first line). Its header names the
# columns; the body's is required, the envelope fields' are read under these names, and
# every other column is passed through.
_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
TABLE_FORMATS = {"csv": ",", "tsv": "\t"}  # --format
BODY_COLUMNS = BODY_NAMES
_FIELD_COLUMNS = {
    "id": "id", "url": "url", "source": "source", "title": "title",
    "published_at": "published_at", "content_type": "content_type", **FIELD_ALIASES,
}
_TABLE_HEAD_BYTES = 1 << 16


def table_delimiter(name: str) -> str | None:
    """The field delimiter of a table file by its suffix, ``.gz`` aside (a .csv one may use
    ; or tab, as spreadsheet exports do: sniffed from its header), or None for any other
    file."""
    name = name.lower()
    return _TABLE_SUFFIXES.get(Path(name.removesuffix(GZIP_SUFFIX)).suffix)


def _dialect(head: str, delimiter: str) -> type[csv.Dialect]:
    """Excel's dialect (fields in double quotes, a quote doubled inside one) with the table's
    delimiter: the sniffer reads only the header line's delimiter (its guesses at quoting
    from a line without quotes are wrong)."""
    if delimiter == ",":
        with contextlib.suppress(csv.Error):  # one column: no delimiter to find
            delimiter = csv.Sniffer().sniff(head.split("\n", 1)[0], ",;\t|").delimiter
    return type("TableDialect", (csv.excel,), {"delimiter": delimiter})


def table_columns(head: str, name: str, delimiter: str) -> tuple[list[str], str]:
    """A table's header and its body column; ConfigError naming what is missing."""
    header = next(csv.reader(io.StringIO(head), _dialect(head, delimiter)), [])
    columns = [column.strip() for column in header]
    seen: dict[str, int] = {}
    for number, column in enumerate(columns, start=1):
        if column and (first := seen.setdefault(column.lower(), number)) != number:
            # Which cell is the row's value would be a guess (the last one, until 2026-12-05).
            raise ConfigError(
                f"{name}: its header row names column {column!r} twice (columns {first} and "
                f"{number})")
    body = next((c for c in columns if c.lower() in BODY_COLUMNS), None)
    if body is None:
        raise ConfigError(
            f"{name}: a table needs a body column in its header row (one of "
            f"{', '.join(BODY_COLUMNS)}); its header is {', '.join(columns) or 'empty'}")
    return columns, body


def _table_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """A table's rows after its header, numbered from 1, blank lines left out."""
    csv.field_size_limit(sys.maxsize)  # bodies are long; the broker's limit applies later
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text, delimiter))
    next(reader, None)  # the header
    for number, cells in enumerate(reader, start=1):
        if any(cell.strip() for cell in cells):
            yield number, cells


# Rows named in a table's problem, at most.
_ROWS_NAMED = 5


def _unclosed_quote(text: str, delimiter: str) -> tuple[int, int] | None:
    """The row (numbered as :func:`_table_rows` numbers them) and line where a quoted cell
    opens that never closes, if one does: read as Excel reads it, that cell takes the rest
    of the file, every later row with it."""
    strict = type("StrictTable", (_dialect(text[:_TABLE_HEAD_BYTES], delimiter),),
                  {"strict": True})
    reader = csv.reader(io.StringIO(text, newline=""), strict)
    row = 0  # the header is row 0
    while True:
        line = reader.line_num + 1
        try:
            next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                return row, line
            # Other strict complaints (text after a closing quote) read as before.
        row += 1


def table_rows_problem(text: str, name: str, delimiter: str) -> str | None:
    """What is wrong with a table's rows: a quoted cell that never closes (the rest of the
    file would be its text: until 2026-12-06 sent so, one message for every later row), or
    one with more cells than its header has, not all empty (an unquoted delimiter in a
    cell, "voted; then"), whose text would be cut at it (until 2026-12-06 sent so, silently:
    a trial's semicolon export lost the rest of a sentence)."""
    columns, _ = table_columns(text[:_TABLE_HEAD_BYTES], name, delimiter)
    if (unclosed := _unclosed_quote(text, delimiter)) is not None:
        row, line = unclosed
        return (f"{name}: row {row} (line {line}) opens a quoted cell that never closes, so "
                "the rest of the file would be that cell (a stray '\"'?)")
    # Empty cells past the header's columns are a trailing delimiter ("a,b,c,"), not text.
    over = [(number, len(cells)) for number, cells in _table_rows(text, delimiter)
            if any(cell.strip() for cell in cells[len(columns):])]
    if not over:
        return None
    named = ", ".join(f"row {number} has {cells}" for number, cells in over[:_ROWS_NAMED])
    more = f" and {len(over) - _ROWS_NAMED} more" if len(over) > _ROWS_NAMED else ""
    sniffed = _dialect(text[:_TABLE_HEAD_BYTES], delimiter).delimiter
    return (f"{name}: {len(over)} row(s) with more cells than the header's {len(columns)} "
            f"columns ({named}{more}; a cell holding an unquoted {sniffed!r}?)")


def table_envelopes(text: str, name: str, delimiter: str, source: str | None) -> list[bytes]:
    """One envelope per row of a table file (see :data:`BODY_COLUMNS`), each naming the file
    and its row (passthrough ``file`` and ``row``, 1 for the first after the header).

    A column whose field an earlier column filled (``url`` then ``link``) is passed through
    under its own name, as is one without a name (``column3``, a table's index column);
    until 2026-12-06 both were dropped. A row with fewer cells than the header has its last
    columns empty; one with more is a :func:`table_rows_problem`, refused before sending.
    """
    columns, body = table_columns(text[:_TABLE_HEAD_BYTES], name, delimiter)
    body_at = columns.index(body)
    # Each column's key: its field under its own name first, then aliases (``link``) where
    # that field is still free, else their own name; a column without a name by position.
    keys: dict[int, str] = {}
    for at, column in enumerate(columns):
        field = _FIELD_COLUMNS.get(column.lower(), column)
        if at != body_at and column and field.lower() == column.lower():
            # A second body-named column ("text" then "body") must not replace the body.
            keys[at] = field if field.lower() != "body" else f"column{at + 1}"
    for at, column in enumerate(columns):
        if at == body_at or at in keys:
            continue
        field = _FIELD_COLUMNS.get(column.lower(), column) if column else f"column{at + 1}"
        keys[at] = field if field not in keys.values() else column
    envelopes = []
    for number, cells in _table_rows(text, delimiter):
        envelope: dict[str, object] = {"body": cells[body_at] if body_at < len(cells) else ""}
        for at, value in enumerate(cells[: len(columns)]):
            if at != body_at and value.strip():
                envelope[keys[at]] = value.strip()
        envelope.setdefault("file", name)
        envelope.setdefault("row", number)
        if source:
            envelope.setdefault("source", source)
        envelopes.append(orjson.dumps(envelope))
    return envelopes


def file_text(data: bytes) -> DecodedText | None:
    """A text or HTML file's text, decoded as the worker decodes a raw value (a byte-order
    mark, UTF-8, the page's declared charset, a detector), or None for bytes to send
    verbatim: binary or undecidable ones, which the worker dead-letters (``binary_content``,
    ``not_utf8``), and JSON envelopes in UTF-16 or UTF-32, which it decodes itself.

    Decoded here, not by the worker, so that a file in a legacy charset is wrapped like a
    UTF-8 one and keeps ``file`` and ``--source``. The envelope then is UTF-8, which is what
    records' ``source_encoding`` describes; the file's own codec travels as the passthrough
    ``file_encoding``.
    """
    if not data:
        return DecodedText("", "utf-8")
    try:
        decoded = decode_bytes(data)
    except (BinaryContentError, NotUtf8Error):
        return None
    if decoded.encoding not in UTF8_CODECS and _holds_envelopes(decoded.text):
        return None
    return decoded


def _envelopes(data: bytes) -> list[bytes] | None:
    """The messages of a JSON envelope (one), of JSON Lines (a line each, malformed ones
    too: see :func:`messages_from_bytes`) or of a JSON array of envelopes (an element each),
    or None when ``data`` is none of these."""
    stripped = data.strip()
    if stripped.startswith(b"{") and _is_json_object(stripped):
        elements = _listed_elements(stripped)
        return elements if elements is not None else [stripped]
    if stripped.startswith(b"[") and (elements := _array_elements(stripped)) is not None:
        return elements
    lines = [line.strip() for line in stripped.splitlines() if line.strip()]
    if len(lines) > 1 and all(line.startswith(b"{") for line in lines):
        return lines
    if _ENVELOPE_START.match(stripped):
        # An envelope that is not JSON (a trailing comma, a line break inside a string): as
        # it is, for the worker to dead-letter like any value that starts like a JSON
        # object and is not one. Until 2026-12-05 it was wrapped as an article's text.
        # Text that only starts with a brace ("{Updated} Storm hits") is still text.
        return [stripped]
    return None


# A JSON object's start: a brace, then its first key's quote (or its end).
_ENVELOPE_START = re.compile(rb'\{\s*["}]')


def _array_elements(data: bytes) -> list[bytes] | None:
    """Each element of a UTF-8 JSON array that holds an object (an export of envelopes), as
    a message of its own; None for any other bytes. Until 2026-12-05 such a file was wrapped
    whole as one article's text, JSON syntax and all.

    Read and written by the standard library's reader, which keeps integers beyond 64 bits
    exact (orjson would make them floats): each element goes as it was, for the worker to
    decide, dead-letter (an element that is not an object, such an integer) included.
    """
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(parsed, list) or not any(isinstance(e, dict) for e in parsed):
        return None
    return [_json_bytes(element) for element in parsed]


def _listed_elements(data: bytes) -> list[bytes] | None:
    """Each element of the one list of envelopes a UTF-8 JSON object wraps (an API's
    response: NewsAPI's ``{"status": "ok", "totalResults": 2, "articles": [...]}``), as a
    message of its own; None for an envelope or any other object.

    The object is a wrapper only when it has no body of its own and exactly one of its
    values is a list whose objects have one (:data:`BODY_NAMES`): sent whole, such a
    response was dead-lettered ``missing_body`` and its articles never read (a new-user
    trial, 2026-12-06). The list's elements go as they were, like an array's.
    """
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict) or _has_body(parsed):
        return None
    lists = [value for value in parsed.values()
             if isinstance(value, list) and any(_has_body(e) for e in value)]
    if len(lists) == 1:
        return [_json_bytes(element) for element in lists[0]]
    if any(parsed.get(name) == [] for name in _RESULT_LISTS) and not any(
            isinstance(value, list) and value for value in parsed.values()):
        return []  # a page of results with none in it: nothing to send (not one dead letter)
    return None


# The names APIs give their list of results under, for a page with none.
_RESULT_LISTS = ("articles", "results", "items", "data", "docs", "entries", "news", "stories",
                 "hits", "posts")


def _has_body(value: object) -> bool:
    """Whether ``value`` is an object the worker reads as an envelope (:func:`body_name`)."""
    return isinstance(value, dict) and body_name(value) is not None


def _json_bytes(value: object) -> bytes:
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (valid JSON, not UTF-8): kept escaped
        return json.dumps(value).encode("ascii")


def _holds_envelopes(text: str) -> bool:
    """Whether decoded text is a JSON envelope or JSON Lines (the byte checks above see
    neither in UTF-16 or UTF-32)."""
    return _envelopes(text.encode("utf-8", "surrogatepass")) is not None


def _with_source(envelope: bytes, source: str | None) -> bytes:
    """``envelope`` with ``source`` when it names none (null or empty counts as none).

    Only UTF-8 JSON (what RFC 8259 allows) is rewritten; an envelope in a legacy charset, a
    malformed line, one with an integer beyond 64 bits (orjson would write it back as a
    float) or with lone surrogate escapes goes as it is, for the worker to decode or
    dead-letter.
    """
    if not source:
        return envelope
    try:
        original = envelope.decode("utf-8")
        parsed, text = loads_json(original)
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        return envelope
    if not isinstance(parsed, dict) or parsed.get("source") not in (None, ""):
        return envelope
    # Lone surrogates read as U+FFFD: written back, an id holding one would pass as changed.
    if text is not original or holds_wide_integer(parsed, text):
        return envelope
    return orjson.dumps({**parsed, "source": source})


def check_paths(
    paths: Sequence[str], *, table: str | None = None, stdin: bytes | None = None,
) -> list[Input]:
    """The inputs ``paths`` name (:func:`streams.cli.inputs.resolve_inputs`), or a
    ConfigError naming every one that cannot be read or is a table without a body column,
    before anything is sent: a partial send makes the corrected re-run send the good files
    twice. ``table``: a --format every input is read as."""
    inputs = resolve_inputs(paths, stdin)
    problems = [problem for item in inputs if (problem := _table_problem(item, table))]
    if problems:
        raise ConfigError("; ".join(problems) + " (nothing sent)")
    return inputs


def table_delimiter_of(item: Input, table: str | None) -> str | None:
    """The delimiter ``item`` is read with as a table: --format's, else its name's."""
    return TABLE_FORMATS[table] if table else table_delimiter(item.inner_name)


def _table_problem(item: Input, table: str | None) -> str | None:
    """What keeps a table from being sent (its header has no body column), if any."""
    if (delimiter := table_delimiter_of(item, table)) is None:
        return None
    data = item.head(_TABLE_HEAD_BYTES)
    if len(data) == _TABLE_HEAD_BYTES:  # whole lines: no character cut in two
        data = data[: data.rfind(b"\n") + 1] or data
    head = file_text(data)
    if head is None:
        kind = f".{table}" if table else Path(item.inner_name).suffix
        return f"{item.label}: not text, so not a {kind} table"
    try:
        table_columns(head.text, item.label, delimiter)
    except ConfigError as exc:
        return exc.detail
    whole = file_text(item.read())  # every row, before anything is sent
    return table_rows_problem(whole.text, item.label, delimiter) if whole is not None else None


def check_topic(
    topic: str, topics: set[str], raw_topic: str, workers_write: Collection[str] = (),
) -> None:
    """Refuse a ``--topic`` the broker does not have: sending would create it (a typo of the
    raw topic then takes messages that no worker reads); and one the workers write (an
    output topic, the fingerprint log), whose consumers read only records of its schema."""
    if topic in workers_write:
        raise ConfigError(f"--topic {topic}: the workers write that topic, whose readers "
                          f"expect only their records; producers write {raw_topic}; "
                          "nothing sent")
    if topic in topics:
        return
    ours = sorted(t for t in topics if not t.startswith("__"))
    raise ConfigError(f"--topic {topic}: no such topic (the broker has {', '.join(ours)}; "
                      f"workers read {raw_topic}); nothing sent")


def check_partition(partition: int, topic: str, partitions: set[int] | None) -> None:
    """Refuse a ``--partition`` that ``topic`` does not have (kafka-python raises a bare
    ValueError from the first send)."""
    if partitions and partition in partitions:
        return
    if not partitions:
        raise ConfigError(f"--partition {partition}: the broker reports no partitions of {topic}")
    low, high = min(partitions), max(partitions)
    held = (f"{low}-{high}" if len(partitions) == high - low + 1
            else ", ".join(map(str, sorted(partitions))))
    raise ConfigError(f"--partition {partition}: {topic} has partitions {held}")


def message_key(
    value: bytes, max_bytes: int, platforms: AbstractSet[str] = PUBLISHING_PLATFORMS
) -> bytes | None:
    """The Kafka key of a raw message: its article's scoped id, when the envelope names one.

    Messages of one article (a resend, an edited revision) then share a partition, so one
    worker decides them in order. Unkeyed, the client's partitioner spread them, and two
    workers could decide one id at the same moment: one its duplicate, the other (its
    message earlier by event time) kept, superseding the article the first named; since a
    duplicates record is never taken back, that group was left with no kept article (a soak
    trial, 2026-12-06; README, Guarantees, *Known, not fixed*). The source is the envelope's,
    else its URL's registrable domain, as the worker scopes ids in the common case. None
    (the partitioner's choice) for a message without an id, whose id is its own origin, and
    for one that is not a UTF-8 JSON object (a wrapped file is one; bytes sent verbatim are
    not parsed here: a legacy charset would cost the worker's detector per message)."""
    if value.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] != b"{":
        return None
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        envelope = parse_envelope(value, max_bytes=max_bytes)
    except IngestError:
        return None
    if envelope.id is None:
        return None
    source = envelope.source or registrable_domain(envelope.absolute_url, platforms)
    return scoped_id(source, envelope.id).encode()


def _starts_like_envelope(data: bytes, raw: bool) -> bool:
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    return not raw and _ENVELOPE_START.match(head) is not None


def run_produce(
    settings: Settings,
    paths: Sequence[str],
    *,
    topic: str | None = None,
    partition: int | None = None,
    raw: bool = False,
    source: str | None = None,
    table: str | None = None,
) -> int:
    inputs = check_paths(paths, table=table)
    if settings.embedded:
        raise ConfigError(
            "KAFKA_BOOTSTRAP_SERVERS is not set: start a broker (ingest broker) and point "
            "KAFKA_BOOTSTRAP_SERVERS or --bootstrap-servers at it"
        )
    wait_for_broker(settings)
    topics = ensure_topics(settings)
    target = topic or settings.topic_raw
    check_topic(target, topics, settings.topic_raw, (
        *settings.output_topics, settings.topic_stories, settings.topic_fingerprints))
    producer = make_producer(settings)
    platforms = settings.publishing_platform_set
    sent = skipped = 0
    progress = Progress(len(inputs))
    try:
        if partition is not None:
            check_partition(partition, target, producer.partitions_for(target))
        for number, item in enumerate(inputs):
            path = item.label
            try:
                data = item.read()
            except ConfigError as exc:  # changed since it was checked
                raise ConfigError(f"{exc.detail} ({sent} message(s) sent before it)") from exc
            messages = list(messages_from_bytes(data, item.name, raw=raw, source=source,
                                                delimiter=table_delimiter_of(item, table)))
            # Only JSON Lines, JSON arrays and files that start like an envelope give messages
            # that are not checked (the others are wrapped bodies, tables or --raw).
            malformed = sum(1 for value in messages if not _is_json_object(value)) if (
                len(messages) > 1 or _starts_like_envelope(data, raw)) else 0
            if not messages:
                what = ("a table without rows" if table_delimiter_of(item, table)
                        else "an API response with an empty list of results")
                print(f"ingest: {path}: {what}: nothing to send", file=sys.stderr)
            if malformed:
                unit = "element(s)" if data.lstrip()[:1] == b"[" else "line(s)"
                print(f"ingest: {path}: {malformed} {unit} not a JSON object: sent as they "
                      "are; the worker dead-letters them (invalid_envelope)", file=sys.stderr)
            for value in messages:
                if len(value) > settings.max_body_bytes:
                    # The worker's limit: it would dead-letter the message (too_large). A
                    # file under it can be over once wrapped (JSON escapes its markup).
                    skipped += 1
                    print(f"ingest: skipped a {len(value)}-byte message from {path}: over "
                          f"INGEST_MAX_BODY_BYTES ({settings.max_body_bytes}), which workers "
                          "dead-letter as too_large", file=sys.stderr)
                    continue
                try:
                    producer.send(target, value=value, partition=partition,
                                  key=message_key(value, settings.max_body_bytes, platforms))
                except MessageSizeTooLargeError:
                    # The topics' limit: the broker would refuse it anyway.
                    skipped += 1
                    print(f"ingest: skipped a {len(value)}-byte message from {path}: over "
                          f"INGEST_MAX_MESSAGE_BYTES ({settings.max_message_bytes})",
                          file=sys.stderr)
                    continue
                sent += 1
                if (line := progress.line(sent, number)) is not None:
                    print(line, file=sys.stderr)
        producer.flush(timeout=60)
    finally:
        producer.close(timeout=10)
    note = f" ({skipped} skipped: too large)" if skipped else ""
    print(f"sent {sent} message{'s' if sent != 1 else ''} to {target}{note}")
    return 1 if skipped else 0
