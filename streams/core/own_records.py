"""What a worker keeps of the records it wrote, so its replica and its outputs agree with
the log: its log records not read back yet (:class:`InFlight`) and what its newest
duplicates record of each article named (:class:`Named`).

Both are used by :class:`streams.core.pipeline.Deduplicator` (README, "Shared fingerprint
index" and "Tie-break and races").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streams.core.fingerprint_log import LogRecord
from streams.core.records import Output


@dataclass(slots=True)
class _Unread:
    count: int  # our records of the article not read back yet
    newest: LogRecord
    overtaken: bool = False  # another worker's record of it was applied meanwhile


class InFlight:
    """Our log records of each article that the replica has not read back yet.

    A worker applies its own records when it decides, before the log orders them; another
    worker's record of the article is applied when it is read. One id's records share a
    partition, so a record of another worker read before our last one is earlier in the
    log: a replay (a restart) applies it first and ours over it. :meth:`read_back` says when
    ours must be applied again so that this replica ends as a replay would.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit  # articles tracked at once; the oldest is dropped past this
        self._unread: dict[str, _Unread] = {}

    def sent(self, records: list[LogRecord]) -> list[LogRecord]:
        """Note records of ours that the shell publishes (applied here already)."""
        unread = self._unread
        for record in records:
            article_id = record.entry.id
            known = unread.get(article_id)
            if known is None:
                if len(unread) >= self.limit:
                    del unread[next(iter(unread))]
                unread[article_id] = _Unread(1, record)
            else:
                known.count += 1
                known.newest = record
        return records

    def overtaken(self, article_id: str) -> None:
        """Another worker's record of ``article_id`` is being applied."""
        unread = self._unread.get(article_id)
        if unread is not None:
            unread.overtaken = True

    def read_back(self, article_id: str) -> LogRecord | None:
        """One of our records of ``article_id`` was read back; our newest one, to apply
        again, when it was the last in flight and another worker's record came in between."""
        unread = self._unread.get(article_id)
        if unread is None:
            return None
        unread.count -= 1
        if unread.count > 0:
            return None
        del self._unread[article_id]
        return unread.newest if unread.overtaken else None

    def __contains__(self, article_id: object) -> bool:
        """Whether a record of ours of ``article_id`` is not read back yet."""
        return article_id in self._unread

    def __len__(self) -> int:
        return len(self._unread)


class Named:
    """The article our newest duplicates record of each article named, and the reverse.

    Our index moves a duplicate with its kept article when that article stops being kept,
    and we publish the move. In a race another worker's record can have taken the duplicate
    out of that group first: no move then, and our record, the newest, names an article that
    is itself a duplicate. :meth:`naming` finds such records when an article changes.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit  # articles remembered; the oldest is forgotten past this
        self._named: dict[str, str] = {}
        self._named_by: dict[str, set[str]] = {}

    def published(self, outputs: Iterable[Output]) -> None:
        """Note what each of our enriched and duplicates records in ``outputs`` says."""
        for output in outputs:
            if output.kind == "duplicates":
                self.name(output.key, output.value.get("duplicate_of_scoped_id"))
            elif output.kind == "enriched":
                self.name(output.key, None)

    def name(self, article_id: str, kept_id: str | None) -> None:
        """Our newest record of ``article_id`` names ``kept_id`` (None: none, or kept)."""
        before = self._named.pop(article_id, None)
        if before is not None:
            named = self._named_by[before]
            named.discard(article_id)
            if not named:
                del self._named_by[before]
        if kept_id is None:
            return
        if len(self._named) >= self.limit:
            self.name(next(iter(self._named)), None)
        self._named[article_id] = kept_id
        self._named_by.setdefault(kept_id, set()).add(article_id)

    def naming(self, kept_id: str) -> list[str]:
        """The articles whose newest record of ours names ``kept_id``, in id order."""
        named = self._named_by.get(kept_id)
        return sorted(named) if named else []

    def __len__(self) -> int:
        return len(self._named)
