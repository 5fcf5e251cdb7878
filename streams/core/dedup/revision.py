"""Revisions: an id that reappears with different content is a new version of its article.

A producer re-sends an article it corrected under the same id; that is neither a duplicate
(of itself) nor a silent replacement: its records say ``revision`` (1 for the first version)
and ``previous_content_hash`` (the ``content_hash`` of the revision it follows). The counter
lives in the index entry and so travels through the fingerprint log: every worker that
replays the log numbers the next revision alike.

Content is compared by the hash over every paragraph, before learned boilerplate is left
out (:attr:`IndexEntry.revision_key`; the entry keeps it as ``full_hash`` when it differs
from its ``content_hash``): learned boilerplate changes while the worker runs, and a
redelivered message must not become a revision because a paragraph of it was learned in
between.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.dedup.model import IndexEntry


@dataclass(frozen=True, slots=True)
class Revision:
    """Which version of its article a decided message is."""

    number: int = 1
    previous_hash: str | None = None  # content_hash of the revision it follows
    is_new: bool = False  # a new version of an indexed article (not its first, not a replay)


def next_revision(previous: IndexEntry | None, full_hash: str) -> Revision:
    """The revision of a message with content ``full_hash`` whose id is indexed as
    ``previous`` (None: unknown id). Same content: the indexed revision, repeated."""
    if previous is None:
        return Revision()
    if previous.revision_key == full_hash:
        return Revision(previous.revision, previous.previous_hash)
    return Revision(previous.revision + 1, previous.fingerprint.content_hash, is_new=True)
