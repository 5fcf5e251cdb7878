"""The dedup identity of an article: ``(source, id)``, as one string (the scoped id).

Ids are the producers' own, so two producers may both send id ``"1"``; scoped by source
they stay two articles. The source is the envelope's, else the registrable domain of the
URL (:mod:`streams.core.article_metadata`). The scoped id keys the index, the fingerprint
log and the output records; records keep the ``id`` as sent and add ``scoped_id``.

Format: ``<source>:<id>``, with ``%`` and ``:`` percent-escaped in the source, so the first
``:`` ends it; ``bbc.co.uk:1``. Without a source the id stands alone (``1``), or behind a
leading ``:`` when it contains a ``:`` itself, so no unsourced id can read as a sourced one.
Envelope ids, derived ids and sources of messages without ``:`` in them, the common case,
need no escaping.
"""

from __future__ import annotations

from streams.core.envelope import MAX_FIELD_CHARS

# Ids are at most 512 characters: an envelope id (<= 256) or a derived topic/partition/offset
# (Kafka topic names have <= 249 characters).
_MAX_ID_CHARS = 512
# An escaped source (each character at most 3) and ":" before the id.
MAX_SCOPED_ID_CHARS = 3 * MAX_FIELD_CHARS["source"] + 1 + _MAX_ID_CHARS


def _escape(source: str) -> str:
    return source.replace("%", "%25").replace(":", "%3A")


def _unescape(source: str) -> str:
    return source.replace("%3A", ":").replace("%25", "%")


def scoped_id(source: str | None, article_id: str) -> str:
    """The identity of ``article_id`` sent by ``source`` (None: no source is known)."""
    if source:
        return f"{_escape(source)}:{article_id}"
    return f":{article_id}" if ":" in article_id else article_id


def split_scoped(scoped: str) -> tuple[str | None, str]:
    """``(source, id)`` of a scoped id; the inverse of :func:`scoped_id`."""
    head, sep, tail = scoped.partition(":")
    if not sep:
        return None, scoped
    if not head:
        return None, tail
    return _unescape(head), tail


def sent_id(scoped: str) -> str:
    """The id as the producer sent it."""
    return split_scoped(scoped)[1]
