"""The record format of the fingerprint log (``ingest.fingerprints``).

The log is the shared, replicated state of the dedup index: every worker appends one record
per decided article (key: article id) and every worker reads all of it. A fence record
(key prefixed ``FENCE_PREFIX``, no value) marks a point a reader waits for: see
:mod:`streams.shell.replica`.

Version 2 adds optional fields: the verification profile (``pk`` paragraph keys, ``ps``
shingles per paragraph, ``fg`` figures, ``sh`` the shingles of a short article) and the
verdict as published (``m`` match, ``sim`` similarity, ``mv`` moved_by), and ``cor``, the ids
whose corrections the worker published when it decided the article (the kept copies it
superseded and their duplicates: no other worker publishes them again, see
:meth:`streams.core.pipeline.Deduplicator.apply_remote`). Every version-1
field keeps its meaning, and a version-1 record still decodes: to an entry without a
profile, which verification then judges on the MinHash estimate alone (as version 1 did).
A version-1 worker refuses version-2 records ("unknown version"): upgrade every worker of a
deployment together (a started worker replays the whole log, old records included).

Revisions (:mod:`streams.core.dedup.revision`) added optional fields to version 2: ``rv``
the revision (absent: 1), ``ph`` the content hash of the revision it follows, ``fh`` the
hash over every paragraph when learned boilerplate was left out of ``h``, and ``dl`` (a
list of ``[revision, origin, revision key, content hash]``: ``IndexEntry.delivered``, absent
when empty).
Older version-2 readers ignore them; ids became scoped ids (``source:id``, up to
MAX_LOG_ID_CHARS).

Issue 14 added ``ns`` (true: the entry is not searchable, ``IndexEntry.searchable``; absent:
it is) and changed what a change of root writes: one record for each superseded article
(its new root), none for its duplicates, which follow it by indirection. An older reader
ignores ``ns`` (it then also looks up those copies: more candidates, the same verdicts) and
resolves roots through chains already.

``ap`` (optional, list of ``[partition, next offset]``): the part of this log the record's
worker had applied when it decided the article (``LogRecord.applied``). Another worker skips
re-deciding a kept article when none of its own unapplied kept articles could race with it
(:mod:`streams.core.dedup.race_window`); without ``ap`` it re-decides, as older readers do.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from streams.core.dedup.config import MinHashConfig
from streams.core.dedup.model import Delivered, Fingerprint, IndexEntry, Profile
from streams.core.dedup.revision import MAX_DELIVERED
from streams.core.envelope import MAX_FIELD_CHARS
from streams.core.errors import InvalidLogRecordError
from streams.core.identity import MAX_SCOPED_ID_CHARS
from streams.core.stories import codec as story_codec
from streams.core.stories.model import StoryNote, StoryUpdate

FENCE_PREFIX = b"\x00fence:"
# Header naming the worker that appended a record: a replica skips its own records without
# decoding them (the same id is also inside the value, which stays authoritative).
WORKER_HEADER = "w"
LOG_VERSION = 2
READABLE_LOG_VERSIONS = frozenset({1, 2})
# Paragraph keys a record carries for learned boilerplate: an article with more paragraphs
# logs its first and last halves of this many (footers are at the end). Real articles have
# tens of paragraphs; 1.2 MB of distinct lines made a 3.9 MB record before the cap. With
# it, a record stays under ~100 KB: ids and source are capped too.
MAX_LOGGED_PARAGRAPH_KEYS = 4096
# Characters of the corrected ids one record announces (<= 6 KB even of 3-byte characters:
# some 100 ids of news sizes, a kept copy of a race and its duplicates). Ids past it go
# unannounced, and another worker may publish their corrections a second time (never not
# at all).
MAX_LOGGED_CORRECTED_CHARS = 2048
# Partitions an ``ap`` list may name: far more than a fingerprint log has.
MAX_LOGGED_PARTITIONS = 4096
# Ids in the log are scoped ids: (source, id), see streams.core.identity.
MAX_LOG_ID_CHARS = MAX_SCOPED_ID_CHARS
_U64 = 1 << 64
_CONTENT_HASH = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class LogMark:
    """One record of the log by its place and what it is: offset, timestamp and key.

    A snapshot keeps the last record it applied on each partition, and at a restart the log
    must hold that same record there. A topic deleted and created again under its name (an
    in-memory broker restarted, a new cluster) can be as long as the snapshot's offsets: until
    2026-12-06 such a snapshot was used, and every new article was decided against articles
    that log never held (a new-user trial: 166 of 166 new pages published as duplicates).
    """

    offset: int
    timestamp_ms: int
    key: bytes | None

    def to_json(self) -> list[Any]:
        return [self.offset, self.timestamp_ms, None if self.key is None else _b64(self.key)]

    @classmethod
    def from_json(cls, value: Any) -> LogMark:
        """Raises ValueError (or TypeError) when ``value`` is not what :meth:`to_json` wrote."""
        offset, timestamp_ms, key = value
        if not isinstance(offset, int) or not isinstance(timestamp_ms, int):
            raise ValueError(f"log mark {value!r}: offset and timestamp must be integers")
        return cls(offset, timestamp_ms, None if key is None else base64.b64decode(key))

    def differs(self, offset: int, timestamp_ms: int, key: bytes | None) -> bool:
        """Whether the record read at ``offset`` shows another record where the marked one
        was; one at another offset shows nothing (the marked one was compacted or deleted)."""
        return offset == self.offset and (timestamp_ms, key) != (self.timestamp_ms, self.key)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One decided article as the log carries it.

    ``paragraph_keys`` are the paragraphs it adds to the learned-boilerplate counts: all of a
    kept article's, the ones a duplicate adds to its group.
    """

    entry: IndexEntry
    paragraph_keys: tuple[int, ...]
    worker: str
    story: StoryNote | None = None  # a kept article's story and vector (streams.core.stories)
    # Ids whose corrections its worker published when it decided this article (the kept
    # copies it superseded, their duplicates): another worker's replica must not publish
    # them again (README, "Tie-break and races").
    corrected: tuple[str, ...] = ()
    # (partition, next offset) of this log that the record's worker had applied when it
    # decided the article; None: not known (streams.core.dedup.race_window).
    applied: tuple[tuple[int, int], ...] | None = None


def is_fence(key: bytes | None) -> bool:
    return key is not None and key.startswith(FENCE_PREFIX)


def logged_paragraph_keys(keys: Sequence[int]) -> tuple[int, ...]:
    """The distinct paragraph keys a log record carries: at most MAX_LOGGED_PARAGRAPH_KEYS."""
    distinct = tuple(dict.fromkeys(keys))
    if len(distinct) <= MAX_LOGGED_PARAGRAPH_KEYS:
        return distinct
    half = MAX_LOGGED_PARAGRAPH_KEYS // 2
    return distinct[:half] + distinct[-half:]


def logged_corrected_ids(ids: Sequence[str]) -> list[str]:
    """The first corrected ids that fit in MAX_LOGGED_CORRECTED_CHARS characters."""
    logged: list[str] = []
    chars = 0
    for article_id in ids:
        chars += len(article_id)
        if chars > MAX_LOGGED_CORRECTED_CHARS:
            break
        logged.append(article_id)
    return logged


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode_record(
    entry: IndexEntry, paragraph_keys: Sequence[int], worker: str,
    *, story: StoryNote | None = None, corrected: Sequence[str] = (),
    applied: Sequence[tuple[int, int]] | None = None,
) -> bytes:
    fp = entry.fingerprint
    value: dict[str, Any] = {
        "v": LOG_VERSION,
        "id": entry.id,
        "t": entry.event_time_ms,
        "h": fp.content_hash,
        "s": _b64(fp.signature.astype("<u4").tobytes()),
        "n": fp.shingle_count,
        "r": entry.root,
        "src": entry.source,
        "seen": entry.seen_at_ms,
        "o": entry.origin,
        "p": [k & 0xFFFFFFFFFFFFFFFF for k in logged_paragraph_keys(paragraph_keys)],
        "w": worker,
        "sb": entry.superseded_by,
    }
    profile = entry.profile
    if profile is not None:
        value["pk"] = _b64(profile.keys)
        value["ps"] = _b64(profile.starts)
        if profile.figures:
            value["fg"] = _b64(profile.figures)
        if profile.shingles is not None:
            value["sh"] = _b64(profile.shingles)
    if entry.match is not None:
        value["m"] = entry.match
        value["sim"] = entry.similarity
    if entry.moved_by is not None:
        value["mv"] = entry.moved_by
    value.update(_revision_fields(entry))
    if not entry.searchable:
        value["ns"] = True
    if story is not None:
        value["st"] = story_codec.encode_note(story)
    if corrected:
        value["cor"] = logged_corrected_ids(corrected)
    if applied is not None:
        value["ap"] = [[partition, offset] for partition, offset in applied]
    return orjson.dumps(value)


def _revision_fields(entry: IndexEntry) -> dict[str, Any]:
    """The optional fields of revisions (module docstring), set when not their default."""
    fields: dict[str, Any] = {}
    if entry.revision != 1:
        fields["rv"] = entry.revision
    if entry.previous_hash is not None:
        fields["ph"] = entry.previous_hash
    if entry.full_hash is not None:
        fields["fh"] = entry.full_hash
    if entry.delivered:
        fields["dl"] = [list(item) for item in entry.delivered]
    return fields


def decode_record(value: bytes, num_perm: int = MinHashConfig().num_perm) -> LogRecord:
    """Decode and validate one article record; :class:`InvalidLogRecordError` when it is not one.

    Everything the index and the decision read is checked (types, id and hash formats, the
    signature's length): a record from a foreign producer, an older layout or a bug must be
    refused here, not crash the replica when the decision compares signatures.
    """
    return _decode_article(_load(value), num_perm)


def _load(value: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidLogRecordError(f"fingerprint-log record is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise InvalidLogRecordError("fingerprint-log record is not a JSON object")
    if obj.get("v", LOG_VERSION) not in READABLE_LOG_VERSIONS:
        raise InvalidLogRecordError(f"unknown fingerprint-log version {obj.get('v')!r}")
    return obj


def _decode_article(obj: dict[str, Any], num_perm: int) -> LogRecord:
    content_hash = _hash(obj, "h")
    entry = IndexEntry(
        id=_id(obj, "id"),
        event_time_ms=_field(obj, "t", int),
        fingerprint=Fingerprint(
            content_hash=content_hash,
            signature=_signature(obj, num_perm),
            shingle_count=_non_negative(obj, "n"),
        ),
        root=_id(obj, "r"),
        source=_source(obj),
        seen_at_ms=_non_negative(obj, "seen", 0),
        origin=_text(obj, "o", MAX_LOG_ID_CHARS),
        superseded_by=None if obj.get("sb") is None else _id(obj, "sb"),
        profile=_profile(obj),
        match=_match(obj),
        similarity=_similarity(obj),
        moved_by=None if obj.get("mv") is None else _id(obj, "mv"),
        revision=_revision(obj),
        previous_hash=_optional_hash(obj, "ph"),
        full_hash=_optional_hash(obj, "fh"),
        searchable=not _field(obj, "ns", bool, False),
        delivered=_delivered(obj),
    )
    keys = obj.get("p", [])
    if not isinstance(keys, list) or not all(
        type(k) is int and 0 <= k < _U64 for k in keys
    ):
        raise InvalidLogRecordError("'p' is not a list of unsigned 64-bit paragraph keys")
    return LogRecord(entry, logged_paragraph_keys(keys), _text(obj, "w", MAX_LOG_ID_CHARS),
                     _story_note(obj), _corrected(obj), _applied(obj))


def _applied(obj: dict[str, Any]) -> tuple[tuple[int, int], ...] | None:
    """The positions, or None (not known) when absent or malformed: only a hint, which must
    not cost the index the article."""
    pairs = obj.get("ap")
    if not isinstance(pairs, list) or len(pairs) > MAX_LOGGED_PARTITIONS or not all(
        isinstance(pair, list) and len(pair) == 2
        and all(type(n) is int and 0 <= n < _U64 for n in pair) for pair in pairs
    ):
        return None
    return tuple((partition, offset) for partition, offset in pairs)


def _corrected(obj: dict[str, Any]) -> tuple[str, ...]:
    ids = obj.get("cor", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids) or sum(
        map(len, ids)
    ) > MAX_LOGGED_CORRECTED_CHARS:
        raise InvalidLogRecordError(
            f"'cor' is not a list of ids of at most {MAX_LOGGED_CORRECTED_CHARS} characters"
        )
    return tuple(ids)


def _story_note(obj: dict[str, Any]) -> StoryNote | None:
    note = obj.get("st")
    if note is None:
        return None
    if not isinstance(note, dict):
        raise InvalidLogRecordError("'st' is not a story note object")
    try:
        decoded = story_codec.decode_note(note)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise InvalidLogRecordError(f"'st' is not a story note: {exc}") from exc
    if not decoded.story or len(decoded.story) > MAX_LOG_ID_CHARS:
        raise InvalidLogRecordError("'st' has an empty or over-long story id")
    return decoded


# -- story merges: a second kind of record on the same log (streams.core.stories) ----------------
def encode_log_record(record: LogRecord | StoryUpdate) -> tuple[bytes, bytes]:
    """Key and value of any record the workers append to the log."""
    if isinstance(record, StoryUpdate):
        return record.log_key, orjson.dumps(story_codec.encode_update(record, LOG_VERSION))
    value = encode_record(record.entry, record.paragraph_keys, record.worker,
                          story=record.story, corrected=record.corrected, applied=record.applied)
    return record.entry.id.encode("utf-8"), value


def decode_log_value(
    value: bytes, num_perm: int = MinHashConfig().num_perm
) -> LogRecord | StoryUpdate:
    """Any record of the log: an article's, or a story merge (validated alike)."""
    obj = _load(value)
    if not story_codec.is_update(obj):
        return _decode_article(obj, num_perm)
    try:
        update = story_codec.decode_update(obj)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidLogRecordError(f"malformed story merge: {exc}") from exc
    for name, text in (("story", update.story), ("into", update.into)):
        if not text or len(text) > MAX_LOG_ID_CHARS:
            raise InvalidLogRecordError(f"story merge {name!r} is empty or over-long")
    return update


def _bytes(obj: dict[str, Any], name: str, unit: int) -> bytes:
    try:
        data = base64.b64decode(_field(obj, name, str), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidLogRecordError(f"{name!r} is not base64: {exc}") from exc
    if len(data) % unit:
        raise InvalidLogRecordError(f"{name!r} holds {len(data)} bytes, not items of {unit}")
    return data


def _profile(obj: dict[str, Any]) -> Profile | None:
    if "pk" not in obj:
        return None
    keys, starts = _bytes(obj, "pk", 8), _bytes(obj, "ps", 2)
    if len(keys) != 4 * len(starts):
        raise InvalidLogRecordError("'pk' and 'ps' describe different numbers of paragraphs")
    figures = _bytes(obj, "fg", 1) if "fg" in obj else b""
    shingles = _bytes(obj, "sh", 4) if "sh" in obj else None
    return Profile(keys=keys, starts=starts, figures=figures, shingles=shingles)


def _hash(obj: dict[str, Any], name: str) -> str:
    value: str = _field(obj, name, str)
    if not _CONTENT_HASH.fullmatch(value):
        raise InvalidLogRecordError(f"{name!r} is not a 32-digit lowercase hex content hash")
    return value


def _optional_hash(obj: dict[str, Any], name: str) -> str | None:
    return None if obj.get(name) is None else _hash(obj, name)


def _delivered(obj: dict[str, Any]) -> tuple[Delivered, ...]:
    delivered = obj.get("dl", [])
    if not isinstance(delivered, list) or len(delivered) > MAX_DELIVERED or not all(
        isinstance(item, list) and len(item) == 4
        and type(item[0]) is int and item[0] >= 1
        and isinstance(item[1], str) and len(item[1]) <= MAX_LOG_ID_CHARS
        and all(isinstance(h, str) and _CONTENT_HASH.fullmatch(h) for h in item[2:])
        for item in delivered
    ):
        raise InvalidLogRecordError(
            f"'dl' is not a list of at most {MAX_DELIVERED} [revision, origin, revision key, "
            "content hash]"
        )
    return tuple((number, origin, key, content_hash)
                 for number, origin, key, content_hash in delivered)


def _revision(obj: dict[str, Any]) -> int:
    revision = _field(obj, "rv", int, 1)
    if revision < 1:
        raise InvalidLogRecordError(f"'rv' must be >= 1, got {revision}")
    return int(revision)


def _match(obj: dict[str, Any]) -> Any:
    match = obj.get("m")
    if match not in (None, "exact", "near"):
        raise InvalidLogRecordError(f"'m' must be 'exact' or 'near', got {match!r:.40}")
    return match


def _similarity(obj: dict[str, Any]) -> float | None:
    value = obj.get("sim")
    if value is None:
        return None
    if type(value) not in (int, float) or not 0 <= value <= 1:
        raise InvalidLogRecordError(f"'sim' must be a number in [0, 1], got {value!r:.40}")
    return float(value)


def _field(obj: dict[str, Any], name: str, kind: type[Any], default: Any = None) -> Any:
    value = obj.get(name, default)
    # bool is an int subclass: a true "t" is a producer bug, not the timestamp 1.
    if type(value) is not kind:
        raise InvalidLogRecordError(f"{name!r} must be {kind.__name__}, got {value!r:.40}")
    return value


def _non_negative(obj: dict[str, Any], name: str, default: int | None = None) -> int:
    value: int = _field(obj, name, int, default)
    if value < 0:
        raise InvalidLogRecordError(f"{name!r} must be >= 0, got {value}")
    return value


def _text(obj: dict[str, Any], name: str, max_chars: int) -> str:
    value: str = _field(obj, name, str, "")
    if len(value) > max_chars:
        raise InvalidLogRecordError(f"{name!r} is longer than {max_chars} characters")
    return value


def _id(obj: dict[str, Any], name: str) -> str:
    value = _text(obj, name, MAX_LOG_ID_CHARS)
    if not value:
        raise InvalidLogRecordError(f"{name!r} is empty")
    return value


def _source(obj: dict[str, Any]) -> str | None:
    source = obj.get("src")
    if source is None:
        return None
    if not isinstance(source, str):
        raise InvalidLogRecordError(f"'src' must be a string, got {source!r:.40}")
    # Records written before sources were capped: cut like a new envelope's source.
    return source[: MAX_FIELD_CHARS["source"]]


def _signature(obj: dict[str, Any], num_perm: int) -> np.ndarray[Any, np.dtype[np.uint32]]:
    encoded: str = _field(obj, "s", str)
    if len(encoded) != 4 * ((4 * num_perm + 2) // 3):
        raise InvalidLogRecordError(
            f"'s' has {len(encoded)} base64 characters, not a {num_perm}-permutation signature"
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidLogRecordError(f"'s' is not base64: {exc}") from exc
    if len(raw) != 4 * num_perm:
        raise InvalidLogRecordError(f"'s' holds {len(raw)} bytes, not {4 * num_perm}")
    return np.frombuffer(raw, dtype="<u4").astype(np.uint32)
