"""Learned boilerplate: paragraphs that recur across many articles of one source.

A publisher footer no rule knows ("Support our journalism ...", a staff bio) shows up in
every article of that source. :class:`ParagraphStats` counts, per source, in how many
distinct kept articles each paragraph key (:func:`streams.core.text.normalize.paragraph_key`)
appeared; keys seen in at least ``min_articles`` articles within ``window_ms`` are
boilerplate for that source and are left out of the fingerprint
(:func:`fingerprint_paragraphs`), never out of the stored text.

Memory is bounded by two LRU levels: at most ``max_keys_per_source`` keys per source (the
least recently observed key is evicted; a real footer is observed with every article, so
it stays) and at most ``max_sources`` sources (the least recently observed source goes),
and by ``max_bytes`` in all: least recently observed sources go until the estimate fits.
Per key only the latest ``min_articles`` timestamps are kept: enough to decide the rule.

Articles without a source (no ``source``, no ``url`` to derive one from) share one fallback
table, :data:`NO_SOURCE`, with room for ``max_keys_without_source`` keys. Why one table and
not none: a paragraph that recurs verbatim in several *distinct* articles (the caller only
feeds it kept articles and the paragraphs a duplicate adds to its group, never the text a
copy shares with its original) is a shared block whatever its publisher: a footer, a
newsletter pitch, agency boilerplate, a stock quote. Leaving it out of the fingerprint of
the articles that carry it only removes text other, different articles also have, so it can
separate different articles but never split an article from its copy (both lose the same
paragraph; when every paragraph is learned, all are kept). The larger table holds the
footers of the many publishers that share it.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

from streams.core.errors import InternalError
from streams.core.text.normalize import paragraph_key

_DAY_MS = 86_400_000
_STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class LearnedBoilerplateConfig:
    """Knobs of learned boilerplate."""

    min_articles: int = 3
    window_ms: int = 14 * _DAY_MS
    max_keys_per_source: int = 4096
    max_sources: int = 4096
    max_keys_without_source: int = 65_536  # the fallback table: see the module docstring
    # Estimated memory of all tables (INGEST_BOILERPLATE_MAX_BYTES). The count caps alone
    # allow 4,096 x 4,096 keys x ~210 B = 3.3 GiB, filled by any producer that sends many
    # sources.
    max_bytes: int = 256 * 1024 * 1024


DEFAULT_LEARNED_CONFIG = LearnedBoilerplateConfig()
# The fallback table's key: control characters never survive in an envelope's source, so no
# publisher can collide with it.
NO_SOURCE = "\x00no-source"
# Measured with tracemalloc on CPython 3.11 (2026-12-02): a key with its timestamp list in a
# source's OrderedDict costs ~210 B; a source's own OrderedDict and entry ~330 B, plus the
# source string (sys.getsizeof).
_KEY_BYTES = 210
_SOURCE_BYTES = 330

# Per source: key -> latest timestamps (ascending, at most min_articles), in LRU order.
_SourceTable = OrderedDict[int, list[int]]


class ParagraphStats:
    """Per-source paragraph recurrence counts over a time window; plain in-memory state."""

    def __init__(self, config: LearnedBoilerplateConfig = DEFAULT_LEARNED_CONFIG) -> None:
        self.config = config
        self._sources: OrderedDict[str, _SourceTable] = OrderedDict()
        self._keys = 0  # keys over all sources
        self._source_bytes = 0  # per-source overhead and names

    @property
    def approx_bytes(self) -> int:
        """Estimated memory of the tables (what ``max_bytes`` bounds)."""
        return self._keys * _KEY_BYTES + self._source_bytes

    def _drop_source(self, source: str) -> None:
        table = self._sources.pop(source)
        self._keys -= len(table)
        self._source_bytes -= _SOURCE_BYTES + sys.getsizeof(source)

    def observe(self, source: str | None, paragraph_keys: Iterable[int], at_ms: int) -> None:
        """Record that one distinct article of ``source`` contained these paragraphs."""
        source = NO_SOURCE if source is None else source
        table = self._sources.get(source)
        if table is None:
            table = OrderedDict()
            self._sources[source] = table
            self._source_bytes += _SOURCE_BYTES + sys.getsizeof(source)
            while len(self._sources) > self.config.max_sources:
                self._drop_source(next(iter(self._sources)))
        else:
            self._sources.move_to_end(source)
        keep = self.config.min_articles
        before = len(table)
        for key in dict.fromkeys(paragraph_keys):
            stamps = table.get(key)
            if stamps is None:
                stamps = []
                table[key] = stamps
            else:
                table.move_to_end(key)
            stamps.append(at_ms)
            stamps.sort()
            del stamps[:-keep]
        # The byte cap also bounds one source on its own, whatever max_keys_per_source says.
        own_limit = max(1, (self.config.max_bytes - self._source_bytes) // _KEY_BYTES)
        key_limit = (
            self.config.max_keys_without_source if source == NO_SOURCE
            else self.config.max_keys_per_source
        )
        while len(table) > min(key_limit, own_limit):
            table.popitem(last=False)
        self._keys += len(table) - before
        # Least recent sources first; never this one (it was just moved to the end), which
        # own_limit has already cut to fit alone.
        while self.approx_bytes > self.config.max_bytes and len(self._sources) > 1:
            self._drop_source(next(iter(self._sources)))

    def boilerplate_keys(
        self, source: str | None, paragraph_keys: Iterable[int], now_ms: int,
        *, min_articles: int | None = None,
    ) -> frozenset[int]:
        """The given keys seen in >= ``min_articles`` (default: the config's) articles of
        ``source`` within the window.

        A stamp later than ``now_ms`` counts: it comes from a worker whose clock runs ahead
        of ours, and every worker must know the same boilerplate at once."""
        table = self._sources.get(NO_SOURCE if source is None else source)
        if table is None:
            return frozenset()
        oldest = now_ms - self.config.window_ms
        need = self.config.min_articles if min_articles is None else min_articles
        found: set[int] = set()
        for key in paragraph_keys:
            stamps = table.get(key)
            if stamps is not None and sum(1 for t in stamps if t >= oldest) >= need:
                found.add(key)
        return frozenset(found)

    def expire(self, now_ms: int) -> None:
        """Forget timestamps older than the window, then keys and sources left empty."""
        oldest = now_ms - self.config.window_ms
        for source in list(self._sources):
            table = self._sources[source]
            for key in list(table):
                stamps = [t for t in table[key] if t >= oldest]
                if stamps:
                    table[key] = stamps
                else:
                    del table[key]
                    self._keys -= 1
            if not table:
                self._drop_source(source)

    def __len__(self) -> int:
        """Number of (source, key) entries held."""
        return sum(len(table) for table in self._sources.values())

    def to_bytes(self) -> bytes:
        """Serialize the state (LRU order included) as JSON bytes."""
        return orjson.dumps(
            {
                "version": _STATE_VERSION,
                "sources": [
                    [source, [[key, stamps] for key, stamps in table.items()]]
                    for source, table in self._sources.items()
                ],
            }
        )

    @classmethod
    def from_bytes(
        cls, data: bytes, config: LearnedBoilerplateConfig = DEFAULT_LEARNED_CONFIG
    ) -> ParagraphStats:
        """Restore state written by :meth:`to_bytes`; InternalError when it is not ours."""
        stats = cls(config)
        try:
            state = orjson.loads(data)
            if state["version"] != _STATE_VERSION:
                raise InternalError(f"unknown paragraph-stats version {state['version']!r}")
            for source, entries in state["sources"]:
                for key, stamps in entries:
                    # Through observe, so that the caps and the byte count hold as they would
                    # have when the state was built.
                    for stamp in sorted(int(t) for t in stamps)[-config.min_articles :]:
                        stats.observe(str(source), (int(key),), stamp)
        except InternalError:
            raise
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise InternalError(f"corrupt paragraph-stats state: {err}") from err
        return stats


def fingerprint_paragraphs(
    paragraphs: Sequence[str],
    learned_keys: frozenset[int] | set[int],
    keys: Sequence[int] | None = None,
) -> list[str]:
    """Paragraphs minus learned boilerplate; all of them when every one is boilerplate.

    ``keys`` are the paragraphs' :func:`paragraph_key` values when the caller has them.
    """
    if keys is None:
        keys = [paragraph_key(p) for p in paragraphs]
    kept = [p for p, k in zip(paragraphs, keys, strict=True) if k not in learned_keys]
    return kept if kept else list(paragraphs)
