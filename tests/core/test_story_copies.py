"""A story copied many times (issue 14): each copy costs the same whatever the size of its
group, and a late copy that is earliest writes one log record per superseded article, not
one per member; two workers exchanging those records end in the same state."""

from __future__ import annotations

from typing import cast

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.config import DedupConfig
from streams.core.dedup.decide import apply_decision, decide, find_matches, resolve_root
from streams.core.dedup.index import FingerprintIndex, Index
from streams.core.dedup.match import Candidate
from streams.core.dedup.model import Decision, IndexEntry
from streams.core.fingerprint_log import LogRecord, decode_log_value, encode_log_record
from streams.core.pipeline import Deduplicator
from streams.core.prepare import Prepared, prepare_total
from streams.core.records import RawMessage
from tests.core.dedup.helpers import document, edited
from tests.core.test_pipeline_races import letters

WORDS = document(500, words=300)
ORIGINAL = letters(WORDS)


def copy_text(i: int) -> str:
    """Every third copy exact, the others a 3 % copy-edit of the original."""
    return ORIGINAL if i % 3 == 0 else letters(edited(WORDS, 0.03, seed=100 + i))


def raw(article_id: str, body: str, ts: int, offset: int) -> RawMessage:
    return RawMessage("articles.raw", 0, offset, None,
                      orjson.dumps({"id": article_id, "body": body}), ts)


def new_index(backend: str, config: CoreConfig) -> Index:
    if backend == "compact":
        return CompactIndex(config.dedup.lsh)
    return FingerprintIndex(config.dedup.lsh)


def wire(record: LogRecord) -> LogRecord:
    """Through the log's codec, as a replica reads it."""
    return cast(LogRecord, decode_log_value(encode_log_record(record)[1]))


def encoded(entry: IndexEntry | None) -> bytes:
    """An entry as comparable bytes (its signature is a numpy array)."""
    assert entry is not None
    return encode_log_record(LogRecord(entry, (), ""))[1]


def state(worker: Deduplicator, ids: list[str]) -> dict[str, bytes]:
    return {i: encoded(worker.index.get(i)) for i in ids if i in worker.index}


def feed_story(worker: Deduplicator, copies: int) -> list[str]:
    ids = ["original"] + [f"copy-{i:03d}" for i in range(copies)]
    worker.process(raw("original", ORIGINAL, 10_000, 0), now_ms=50_000)
    for i in range(copies):
        outcome = worker.process(raw(ids[i + 1], copy_text(i), 11_000 + i, i + 1),
                                 now_ms=50_001 + i)
        assert outcome.verdict == "duplicate"
    return ids


@pytest.mark.parametrize("backend", ["memory", "compact"])
@pytest.mark.parametrize("copies", [24, 60])
def test_a_big_group_re_rooted_late_writes_one_record_and_both_workers_agree(
    backend: str, copies: int
) -> None:
    config = CoreConfig()
    a = Deduplicator(config, worker="A", index=new_index(backend, config))
    b = Deduplicator(config, worker="B", index=new_index(backend, config))
    ids = feed_story(a, copies)
    for article_id in ids:  # B's replica reads A's records
        entry = a.index.get(article_id)
        assert entry is not None
        assert b.apply_remote(wire(LogRecord(entry, (), "A")), now_ms=60_000) is None
    late = b.process(raw("late", letters(edited(WORDS, 0.03, seed=7)), 9_000, 99),
                     now_ms=70_000)
    assert late.verdict == "enriched"
    # one record for the late copy, one for the kept article it superseded: not per member
    assert [(r.entry.id, r.entry.root) for r in late.log_records] == [
        ("late", "late"), ("original", "late")]
    assert (late.corrections, late.root_changes) == (1, copies)
    corrections = [(o.key, o.value["duplicate_of"], o.value["supersedes"])
                   for o in late.outputs if o.kind == "duplicates"]
    assert corrections == [("original", "late", "kept")] + [
        (i, "late", "duplicate_of") for i in ids[1:]]
    assert [a.apply_remote(wire(r), now_ms=70_050) for r in late.log_records] == [None, None]
    everyone = [*ids, "late"]
    assert state(a, everyone) == state(b, everyone)
    for worker in (a, b):
        assert {resolve_root(worker.index, i) for i in everyone} == {"late"}, worker.worker
        # the members kept their entries: they follow the original by indirection
        assert {worker.index.get(i).root for i in ids[1:]} == {"original"}  # type: ignore[union-attr]
    after = [w.process(raw("after", copy_text(1), 20_000, 100), now_ms=80_000) for w in (a, b)]
    assert [(o.verdict, o.outputs[0].value["duplicate_of"]) for o in after] == [
        ("duplicate", "late"), ("duplicate", "late")]
    assert encoded(after[0].log_records[0].entry) == encoded(after[1].log_records[0].entry)


@pytest.mark.parametrize("backend", ["memory", "compact"])
def test_copies_past_the_searchable_share_are_found_by_id_not_by_lookups(backend: str) -> None:
    config = CoreConfig(dedup=DedupConfig(searchable_copies=3))
    worker = Deduplicator(config, worker="A", index=new_index(backend, config))
    outcomes = [worker.process(raw("original", ORIGINAL, 10_000, 0), now_ms=50_000)]
    for i in range(9):
        outcomes.append(worker.process(raw(f"copy-{i}", ORIGINAL, 11_000 + i, i + 1),
                                       now_ms=50_001 + i))
    searchable = [o.log_records[0].entry.searchable for o in outcomes]
    assert searchable == [True, True, True, True] + [False] * 6
    content_hash = outcomes[0].log_records[0].entry.fingerprint.content_hash
    fingerprint = outcomes[0].log_records[0].entry.fingerprint
    looked_up = ["original", "copy-0", "copy-1", "copy-2"]
    assert [e.id for e in worker.index.by_content_hash(content_hash)] == looked_up
    assert [e.id for e in worker.index.candidates(fingerprint)] == looked_up
    assert [e.id for e in worker.index.members("original")] == [f"copy-{i}" for i in range(9)]
    assert encoded(worker.index.get("copy-8")) == encoded(outcomes[-1].log_records[0].entry)
    # the flag travels in the log, so another worker's lookups return the same entries
    record = outcomes[-1].log_records[0]
    assert orjson.loads(encode_log_record(record)[1])["ns"] is True
    assert "ns" not in orjson.loads(encode_log_record(outcomes[1].log_records[0])[1])
    assert encoded(wire(record).entry) == encoded(record.entry)
    assert wire(record).entry.searchable is False
    # a replay keeps the flag
    replay = worker.process(raw("copy-8", ORIGINAL, 11_008, 9), now_ms=60_000)
    assert replay.log_records[0].entry.searchable is False


def test_a_superseded_article_outlives_the_duplicates_that_follow_it() -> None:
    """Its duplicates resolve their root through it: it is re-dated when superseded, so
    expiry (by the time an entry was indexed) cannot drop it before them."""
    window_ms = 100_000
    worker = Deduplicator(CoreConfig(window_ms=window_ms), worker="A")
    feed_story(worker, 3)  # indexed at 50,000-50,003
    worker.process(raw("late", ORIGINAL, 9_000, 50), now_ms=90_000)
    assert worker.index.get("original").seen_at_ms == 90_000  # type: ignore[union-attr]
    assert worker.expire(now_ms=50_003 + window_ms + 1) == 3  # the three copies
    assert worker.index.get("original") is not None
    assert worker.expire(now_ms=90_000 + window_ms + 1) == 2


def prepared(article_id: str, body: str) -> Prepared:
    item = prepare_total(raw(article_id, body, 0, 0), CoreConfig())
    assert isinstance(item, Prepared)
    return item


# The original, nine copies (exact and edited) and an unrelated article.
ARTICLES = {f"c{i}": prepared(f"c{i}", copy_text(i) if i else ORIGINAL) for i in range(10)}
ARTICLES["other"] = prepared("other", letters(document(501, words=300)))


def verify_everything(article: Prepared, ts: int, index: Index, config: DedupConfig
                      ) -> Decision:
    """The rule from every verified candidate (the code before issue 14), new articles only."""
    key = (ts, article.id)
    matches = find_matches(Candidate(article.fingerprint, ts, article.profile), article.id,
                           index, config)
    superseded = sorted((m for m in matches if m.entry.order_key > key and m.entry.is_kept),
                        key=lambda m: m.entry.id)
    earlier = [m for m in matches if m.entry.order_key < key]
    supersedes = tuple(m.entry.id for m in superseded)
    kinds = tuple((m.kind, m.similarity) for m in superseded)
    if not earlier:
        return Decision(kept=True, supersedes=supersedes, superseded_matches=kinds)
    first = min(earlier, key=lambda m: m.entry.order_key)
    return Decision(False, resolve_root(index, first.entry.root), first.kind, first.similarity,
                    supersedes, kinds)


@settings(max_examples=30, deadline=None)
@given(st.permutations(sorted(ARTICLES)),
       st.lists(st.integers(0, 5), min_size=len(ARTICLES), max_size=len(ARTICLES)))
def test_decide_verifies_less_but_decides_as_verifying_every_candidate(
    order: list[str], times: list[int]
) -> None:
    """Shuffled arrivals with ties in event time: the early-stopping decision equals the one
    from every verified candidate (supersessions, match and similarity included)."""
    config = DedupConfig()
    index = FingerprintIndex(config.lsh)
    for article_id, ts in zip(order, times, strict=True):
        article = ARTICLES[article_id]
        decision = decide(article.fingerprint, ts, article_id, index, config,
                          profile=article.profile)
        expected = verify_everything(article, ts, index, config)
        assert (decision, decision.superseded_matches) == (expected, expected.superseded_matches)
        apply_decision(index, article.fingerprint, ts, article_id, decision, now_ms=0,
                       profile=article.profile)
