"""Two workers' cores exchanging fingerprint-log records, and expiry, through the public API.

Each ``Deduplicator`` stands for one worker; what a worker would publish on
``ingest.fingerprints`` (``Outcome.log_records``) is handed to the other's ``apply_remote``,
as the replica does. Time is the ``now_ms`` argument: nothing sleeps.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from typing import Any, cast

import orjson
import pytest

from streams.core.dedup.decide import resolve_root
from streams.core.fingerprint_log import LogRecord, decode_log_value, encode_log_record
from streams.core.pipeline import CoreConfig, Deduplicator, Outcome
from streams.core.records import RawMessage
from tests.core.dedup.helpers import document, edited


def letters(tokens: list[str]) -> str:
    """The tokens as letter-only words: figures are content (issue 12), so a text path test
    of near copies must not differ in numbers."""
    def word(token: str) -> str:
        number, out = int(token[1:]), ""
        while True:
            number, digit = divmod(number, 26)
            out += chr(ord("a") + digit)
            if not number:
                return "x" + out
    return " ".join(word(t) for t in tokens)


ORIGINAL = letters(document(500, words=300))
COPY_EDIT = letters(edited(document(500, words=300), 0.03, seed=5))  # a near copy
SECOND_EDIT = letters(edited(document(500, words=300), 0.03, seed=6))  # another one


def raw(article_id: str, body: str, ts: int, partition: int, offset: int = 0) -> RawMessage:
    value = orjson.dumps({"id": article_id, "body": body})
    return RawMessage("articles.raw", partition, offset, None, value, ts)


def outputs(outcomes: list[Outcome | None]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(o.kind, o.key, o.value) for x in outcomes if x is not None for o in x.outputs]


def exchange(sender: Outcome, receiver: Deduplicator, now_ms: int) -> list[Outcome | None]:
    return [receiver.apply_remote(record, now_ms) for record in sender.log_records]


@pytest.mark.parametrize(("early_ts", "late_ts"), [(1_000, 2_000), (1_000, 1_000)])
@pytest.mark.parametrize("early_on", ["A", "B"])
def test_a_race_between_two_workers_ends_in_one_correction_and_agreeing_verdicts(
    early_ts: int, late_ts: int, early_on: str
) -> None:
    """``x`` is earlier (by event time, else by id); both copies are first kept."""
    workers = {name: Deduplicator(CoreConfig(), worker=name) for name in "AB"}
    late_on = "B" if early_on == "A" else "A"
    x = workers[early_on].process(raw("x", ORIGINAL, early_ts, partition=0), now_ms=10_000)
    y = workers[late_on].process(raw("y", COPY_EDIT, late_ts, partition=1, offset=7),
                                 now_ms=10_000)
    assert (x.verdict, y.verdict) == ("enriched", "enriched")  # neither saw the other yet

    at_late = exchange(x, workers[late_on], now_ms=10_050)
    at_early = exchange(y, workers[early_on], now_ms=10_050)

    assert outputs(at_early) == []  # the earlier copy's worker has nothing to correct
    [(kind, key, correction)] = outputs(at_late)
    assert (kind, key) == ("duplicates", "y")
    assert (correction["duplicate_of"], correction["supersedes"]) == ("x", "kept")
    assert correction["origin"] == {"topic": "articles.raw", "partition": 1, "offset": 7}
    corrected = [o for o in at_late if o is not None]
    assert sum(o.corrections for o in corrected) == 1

    # The correction's own log records reach the other worker and change nothing more there.
    for outcome in corrected:
        assert [workers[early_on].apply_remote(r, now_ms=10_100)
                for r in outcome.log_records] == [None] * len(outcome.log_records)
    for worker in workers.values():
        roots = {i: entry.root for i in "xy" if (entry := worker.index.get(i)) is not None}
        assert roots == {"x": "x", "y": "x"}, worker.worker


def test_a_correction_states_the_similarity_of_the_pair() -> None:
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_000)
    b.process(raw("y", COPY_EDIT, 2_000, partition=1), now_ms=10_000)
    [(_, _, correction)] = outputs(exchange(x, b, now_ms=10_050))
    assert correction["match"] == "near"
    assert 0.65 <= correction["similarity"] < 1.0


def test_records_of_a_worker_itself_or_of_a_duplicate_correct_nothing() -> None:
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_000)
    y = a.process(raw("y", COPY_EDIT, 2_000, partition=0, offset=1), now_ms=10_000)
    assert (x.verdict, y.verdict) == ("enriched", "duplicate")
    assert exchange(x, a, now_ms=10_050) == [None]  # our own record, seen again
    assert exchange(x, b, now_ms=10_050) + exchange(y, b, now_ms=10_050) == [None, None]
    assert {i: e.root for i in "xy" if (e := b.index.get(i))} == {"x": "x", "y": "x"}


def test_an_expired_article_no_longer_matches_a_resend() -> None:
    window_ms = 60_000
    seen_ms = 100_000
    dedup = Deduplicator(CoreConfig(window_ms=window_ms), worker="A")
    assert dedup.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=seen_ms).verdict == (
        "enriched")
    assert dedup.expire(now_ms=seen_ms + window_ms) == 0  # seen exactly at the cutoff: kept
    assert dedup.index.get("x") is not None
    assert dedup.expire(now_ms=seen_ms + window_ms + 1) == 1
    assert dedup.index.get("x") is None
    resend = dedup.process(raw("x2", ORIGINAL, 2_000, partition=0, offset=1),
                           now_ms=seen_ms + window_ms + 2)
    assert resend.verdict == "enriched"


@pytest.mark.parametrize("wire", [False, True])
@pytest.mark.parametrize("superseded_record_first", [False, True])
def test_an_earlier_copy_decided_after_the_later_one_was_replicated_is_corrected_once(
    superseded_record_first: bool, wire: bool
) -> None:
    """The interleaving the real-broker race test often takes: A's replica already holds
    B's kept ``y`` when A decides the earlier ``x``. A corrects ``y`` and its record of
    ``x`` says so (``corrected``), so B does not correct it again, whichever of A's two
    records (keyed by different ids, so maybe on different partitions) B reads first."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    y = b.process(raw("y", COPY_EDIT, 2_000, partition=1), now_ms=10_000)
    assert exchange(y, a, now_ms=10_010) == [None]
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_020)
    assert [(r.entry.id, r.entry.root, r.corrected) for r in x.log_records] == [
        ("x", "x", ("y",)), ("y", "x", ())]
    records = x.log_records[::-1] if superseded_record_first else x.log_records
    if wire:  # through the log's codec, as a replica reads them
        records = [cast(LogRecord, decode_log_value(encode_log_record(r)[1])) for r in records]
    at_b = [b.apply_remote(record, now_ms=10_030) for record in records]
    assert at_b == [None, None]
    corrections = [(kind, key, value["duplicate_of"]) for kind, key, value in outputs([x])
                   if value.get("supersedes")]
    assert corrections == [("duplicates", "y", "x")]
    assert x.corrections == 1
    for worker in (a, b):
        assert {i: e.root for i in "xy" if (e := worker.index.get(i))} == {"x": "x", "y": "x"}


def test_a_record_announcing_other_corrections_still_lets_a_worker_correct_its_own() -> None:
    """Only the corrections a record names are left to its worker: B still corrects its
    ``y`` when A's record of ``x`` names some other id (A never held ``y``: a true race)."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_000)
    b.process(raw("y", COPY_EDIT, 2_000, partition=1), now_ms=10_000)
    [own] = x.log_records
    announced = dataclasses.replace(own, corrected=("z",))
    [outcome] = [b.apply_remote(announced, now_ms=10_050)]
    assert outcome is not None and outcome.corrections == 1
    assert [(k, key, v["duplicate_of"], v["supersedes"]) for k, key, v in outputs([outcome])] == [
        ("duplicates", "y", "x", "kept")]


def test_a_copy_corrected_by_the_other_worker_moves_its_duplicates_once() -> None:
    """B kept ``y`` and made ``y2`` its duplicate; A's replica holds both when A decides the
    earlier ``x``: A corrects ``y`` and moves ``y2``, B publishes nothing more."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    y = b.process(raw("y", COPY_EDIT, 2_000, partition=1), now_ms=10_000)
    y2 = b.process(raw("y2", SECOND_EDIT, 3_000, partition=1, offset=1), now_ms=10_000)
    assert (y.verdict, y2.verdict) == ("enriched", "duplicate")
    assert exchange(y, a, now_ms=10_010) + exchange(y2, a, now_ms=10_010) == [None, None]
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_020)
    assert [(k, key, v["duplicate_of"], v["supersedes"]) for k, key, v in outputs([x])
            if v.get("supersedes")] == [("duplicates", "y", "x", "kept"),
                                        ("duplicates", "y2", "x", "duplicate_of")]
    assert exchange(x, b, now_ms=10_030) == [None] * len(x.log_records)
    assert len(x.log_records) == 2  # x and y: y2 follows y by indirection
    for worker in (a, b):
        assert {i: e.root for i in ("x", "y", "y2") if (e := worker.index.get(i))} == {
            "x": "x", "y": "x", "y2": "y"}, worker.worker
        assert resolve_root(worker.index, "y2") == "x", worker.worker


def test_a_held_copy_the_other_worker_corrected_is_released_as_a_duplicate() -> None:
    """B holds its kept ``y``; A, whose replica has it, decides the earlier ``x`` and
    announces it. B corrects nothing but its index follows, so the release says duplicate."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    y = b.process(raw("y", COPY_EDIT, 2_000, partition=1), now_ms=10_000, hold=True)
    [own] = y.log_records
    assert a.apply_remote(own, now_ms=10_010) is None
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_020)
    [own_x, _] = x.log_records
    assert b.apply_remote(own_x, now_ms=10_030) is None  # before A's record of y arrives
    [released] = b.release([y], now_ms=10_250)
    assert released.verdict == "duplicate"
    assert [(k, key, v["duplicate_of"]) for k, key, v in outputs([released])] == [
        ("duplicates", "y", "x")]


def test_a_duplicate_the_other_worker_did_not_know_is_moved_by_this_one() -> None:
    """A's replica holds B's kept ``y`` but not yet its duplicate ``y2`` when A decides the
    earlier ``x``: A corrects ``y``, B moves ``y2``; one record for each."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    y = b.process(raw("y", COPY_EDIT, 2_000, partition=1), now_ms=10_000)
    y2 = b.process(raw("y2", SECOND_EDIT, 3_000, partition=1, offset=1), now_ms=10_000)
    assert exchange(y, a, now_ms=10_010) == [None]
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_020)
    at_b = exchange(x, b, now_ms=10_030)
    assert [(key, v["duplicate_of"], v["supersedes"]) for _, key, v in outputs([x, *at_b])
            if v.get("supersedes")] == [("y", "x", "kept"), ("y2", "x", "duplicate_of")]
    assert [o.key for o in x.outputs if o.value.get("supersedes")] == ["y"]
    assert sum(o.corrections for o in [x, *at_b] if o is not None) == 1
    assert exchange(y2, a, now_ms=10_040) == [None]
    for worker in (a, b):
        assert {i: resolve_root(worker.index, i) for i in ("y", "y2")} == {"y": "x", "y2": "x"}


# -- records that say what their worker had applied (streams.core.dedup.race_window) ---------
def with_applied(outcome: Outcome, applied: dict[int, int]) -> list[LogRecord]:
    """The outcome's records as the worker's publisher sends them, through the codec."""
    return [cast(LogRecord, decode_log_value(encode_log_record(
        dataclasses.replace(r, applied=tuple(applied.items())))[1])) for r in outcome.log_records]


def test_a_kept_article_decided_knowing_ours_is_not_decided_again() -> None:
    """A had applied B's ``y`` (offset 0 of partition 3) when it kept ``z``, which does not
    match it: B applies A's record without deciding ``z`` again."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    y = b.process(raw("y", COPY_EDIT, 2_000, partition=1), now_ms=10_000)
    b.logged("y", 3, 0)
    assert exchange(y, a, now_ms=10_010) == [None]
    z = a.process(raw("z", letters(document(900, words=300)), 1_000, partition=0),
                  now_ms=10_020)
    assert z.verdict == "enriched"
    assert [b.apply_remote(r, now_ms=10_030) for r in with_applied(z, {3: 1})] == [None]
    assert (b.remote_checks.decided, b.remote_checks.skipped) == (0, 1)
    assert b.index.get("z") is not None


@pytest.mark.parametrize("superseded_record_first", [False, True])
def test_a_record_announcing_the_correction_of_ours_is_decided_again(
    superseded_record_first: bool,
) -> None:
    """A had applied B's ``y`` when it decided the earlier ``x`` and superseded ``y`` itself
    (``cor``). B still decides ``x`` again: that re-roots ``y`` here at once, before A's
    record of ``y`` (another partition) arrives, and publishes nothing A did not."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    y = b.process(raw("y", COPY_EDIT, 2_000, partition=1), now_ms=10_000)
    b.logged("y", 3, 0)
    assert exchange(y, a, now_ms=10_010) == [None]
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_020)
    records = with_applied(x, {3: 1})
    records = records[::-1] if superseded_record_first else records
    assert [b.apply_remote(r, now_ms=10_030) for r in records] == [None, None]
    assert (b.remote_checks.decided, b.remote_checks.skipped) == (1, 0)
    for worker in (a, b):
        assert {i: e.root for i in "xy" if (e := worker.index.get(i))} == {"x": "x", "y": "x"}


def test_a_copy_decided_between_the_correction_and_its_re_root_record_is_unchanged() -> None:
    """B decides a copy ``d`` after A's record of ``x`` (which superseded B's ``y``) and
    before A's record of ``y``: what B publishes for ``d`` is what it published before
    positions existed (a review found a second, conflicting correction of ``y`` when the
    re-decision was skipped)."""
    def run(positions: bool) -> tuple[Any, ...]:
        a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
        y = b.process(raw("y", COPY_EDIT, 3_000, partition=1), now_ms=10_000)
        b.logged("y", 3, 0)
        exchange(y, a, now_ms=10_010)
        x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_020)
        records = with_applied(x, {3: 1}) if positions else x.log_records
        b.apply_remote(records[0], now_ms=10_030)
        d = b.process(raw("d", SECOND_EDIT, 2_000, partition=1, offset=1), now_ms=10_040)
        b.apply_remote(records[1], now_ms=10_050)
        for record in d.log_records:
            a.apply_remote(record, now_ms=10_070)
        return (outputs([d]), [(r.entry.id, r.entry.root, r.entry.superseded_by)
                               for r in d.log_records],
                {w.worker: {i: (e.root, e.superseded_by) for i in "xyd"
                            if (e := w.index.get(i))} for w in (a, b)})

    assert run(positions=True) == run(positions=False)


def test_a_kept_article_decided_before_ours_was_applied_is_decided_again() -> None:
    """The same records, but A had not applied offset 0 of partition 3: a true race, which B
    settles as it always did."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_000)
    b.process(raw("y", COPY_EDIT, 2_000, partition=1, offset=7), now_ms=10_000)
    b.logged("y", 3, 0)
    [outcome] = [b.apply_remote(r, now_ms=10_050) for r in with_applied(x, {3: 0, 1: 9})]
    assert outcome is not None and outcome.corrections == 1
    assert [(k, key, v["duplicate_of"]) for k, key, v in outputs([outcome])] == [
        ("duplicates", "y", "x")]
    assert (b.remote_checks.decided, b.remote_checks.skipped) == (1, 0)


def test_duplicates_the_other_worker_had_not_applied_are_still_moved_here() -> None:
    """A had applied ``y`` but not its duplicate ``y2``: A corrects ``y`` and announces it;
    B must still move ``y2``, so it decides ``x`` again despite the positions."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    y = b.process(raw("y", COPY_EDIT, 2_000, partition=1), now_ms=10_000)
    b.logged("y", 3, 0)
    b.process(raw("y2", SECOND_EDIT, 3_000, partition=1, offset=1), now_ms=10_000)
    assert exchange(y, a, now_ms=10_010) == [None]
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_020)
    at_b = [b.apply_remote(r, now_ms=10_030) for r in with_applied(x, {3: 1})]
    assert [(key, v["duplicate_of"], v["supersedes"]) for _, key, v in outputs(at_b)] == [
        ("y2", "x", "duplicate_of")]
    assert b.remote_checks.decided == 1


def test_a_record_that_announces_many_corrections_is_decided_again() -> None:
    """An announcement near its cap may have been cut short: B cannot tell what is missing."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    x = a.process(raw("x", ORIGINAL, 1_000, partition=0), now_ms=10_000)
    [own] = with_applied(x, {})
    assert b.apply_remote(dataclasses.replace(own, corrected=("z" * 800,)), 10_050) is None
    assert (b.remote_checks.decided, b.remote_checks.skipped) == (1, 0)


STORIES = [letters(document(600 + s, words=250)) for s in range(6)]


def _variants(rng: random.Random) -> list[tuple[str, str, int]]:
    """(id, body, event time): each story's original and two or three near copies, in a
    shuffled arrival order with event times that disagree with it."""
    items = []
    for s, story in enumerate(STORIES):
        tokens = story.split()
        for v in range(rng.randint(3, 4)):
            body = story if v == 0 else " ".join(
                rng.choice(tokens) if rng.random() < 0.03 else t for t in tokens)
            items.append((f"s{s}v{v}", body, rng.randrange(1_000, 9_000)))
    rng.shuffle(items)
    return items


class _SharedLog:
    """A 2-partition fingerprint log between in-memory workers: their appends, with the
    publisher's acknowledgements as the shell gives them (or none, without ``positions``),
    and what each replica has read; ``on_outcome`` gets what reading a record made a worker
    publish (its log records are appended here)."""

    def __init__(self, workers: dict[str, Deduplicator],
                 on_outcome: Callable[[str, Outcome], None], *, positions: bool = True) -> None:
        self.workers = workers
        self.on_outcome = on_outcome
        self.positions = positions
        self.partitions: list[list[LogRecord]] = [[], []]
        self.read = {w: [0, 0] for w in workers}

    def ends(self) -> list[int]:
        return [len(records) for records in self.partitions]

    def applied(self, worker: str) -> tuple[tuple[int, int], ...] | None:
        """What ``worker``'s replica had applied, as its records carry it."""
        return tuple(enumerate(self.read[worker])) if self.positions else None

    def append(self, worker: str, records: list[LogRecord]) -> None:
        for record in records:
            partition = sum(record.entry.id.encode()) % 2
            self.partitions[partition].append(record)
            if self.positions and record.entry.is_kept:
                self.workers[worker].logged(record.entry.id, partition,
                                            len(self.partitions[partition]) - 1)

    def catch_up(self, worker: str, marks: list[int], now_ms: int) -> None:
        read = self.read[worker]
        for p in (0, 1):
            while read[p] < marks[p]:
                record = self.partitions[p][read[p]]
                read[p] += 1
                outcome = self.workers[worker].on_log_record(record, catching_up=False,
                                                              now_ms=now_ms)
                if outcome is not None:
                    self.on_outcome(worker, outcome)
                    self.append(worker, outcome.log_records)


def _two_workers(items: list[tuple[str, str, int]], lag: int, *, positions: bool
                 ) -> tuple[list[tuple[str, str, str, Any]], dict[str, dict[str, str]], int]:
    """Two workers over a 2-partition log; each replica reads ``lag`` messages behind; the
    publisher's acknowledgements and positions as the shell gives them (or none)."""
    workers = {w: Deduplicator(CoreConfig(), worker=w) for w in "AB"}
    published: list[tuple[str, str, str, Any]] = []

    def publish(worker: str, outcome: Outcome) -> None:
        published.extend((worker, o.kind, o.key, o.value.get("duplicate_of"))
                         for o in outcome.outputs)

    log = _SharedLog(workers, publish, positions=positions)
    marks: list[list[int]] = []
    for i, (article_id, body, event_ms) in enumerate(items):
        name = "AB"[i % 2]
        outcome = workers[name].process(raw(article_id, body, event_ms, partition=i % 2),
                                        now_ms=20_000 + i)
        applied = log.applied(name)
        log.append(name, [dataclasses.replace(r, applied=applied) for r in outcome.log_records])
        publish(name, outcome)
        marks.append(log.ends())
        if len(marks) > lag:
            for w in "AB":
                log.catch_up(w, marks[-1 - lag], 20_000 + i)
    for w in "AB":
        log.catch_up(w, log.ends(), 30_000)
    roots = {w: {i: resolve_root(d.index, i) for i, _, _ in items} for w, d in workers.items()}
    return published, roots, sum(d.remote_checks.skipped for d in workers.values())


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("lag", [0, 2, 6])
def test_positions_skip_re_decisions_without_changing_anything_published(
    seed: int, lag: int,
) -> None:
    """Every record published and every root the same with and without positions, with
    races (corrections) in every run."""
    items = _variants(random.Random(seed))
    published, roots, skipped = _two_workers(items, lag, positions=True)
    assert (published, roots) == _two_workers(items, lag, positions=False)[:2]
    assert len(published) > len(items)  # corrections among them
    assert skipped >= len(STORIES) - 1  # most stories' kept articles were not decided again


def test_a_held_verdict_is_checked_whatever_the_positions_say() -> None:
    """Near duplicates are not transitive: ``b`` and ``c`` each match ``s``, not each other,
    and both are earlier. W applied V's held ``s``, kept ``c`` (superseding ``s``) and then
    ``b``; ``b``'s record reaches V first. V decides it again though W's positions cover
    ``s``, so ``s`` is released as a duplicate, as it was before positions (a review found
    it released as kept)."""
    base = document(500, words=300)
    s_text, c_text = letters(base), letters(edited(base, 0.08, seed=1))
    b_text = letters(edited(base, 0.08, seed=2))

    def run(positions: bool) -> tuple[Any, ...]:
        v, w = Deduplicator(CoreConfig(), worker="V"), Deduplicator(CoreConfig(), worker="W")
        s = v.process(raw("s", s_text, 3_000, partition=3), now_ms=10_000, hold=True)
        v.logged("s", 3, 0)
        exchange(s, w, now_ms=10_001)
        c = w.process(raw("c", c_text, 1_000, partition=0), now_ms=10_002)
        b = w.process(raw("b", b_text, 2_000, partition=0, offset=1), now_ms=10_003)
        assert (c.verdict, b.verdict) == ("enriched", "enriched")
        b_records = with_applied(b, {3: 1}) if positions else b.log_records
        at_v = [v.apply_remote(r, now_ms=10_010) for r in b_records]
        [released] = v.release([s], now_ms=10_015)
        return released.verdict, outputs([released]), outputs(at_v)

    assert run(positions=True) == run(positions=False)
    assert run(positions=True)[0] == "duplicate"


_EVERY = 1_000_000  # a release "at" this message releases every held verdict


def _worker_stops(items: list[tuple[str, str, int]], lag: int, stop_at: int, *,
                  fallback: bool, hold: int | None = None,
                  published: list[Outcome] | None = None,
                  ) -> tuple[set[str], dict[str, str]]:
    """Two workers as in :func:`_two_workers` (with positions); B stops for good after its
    ``stop_at``-th message, with every offset it processed committed (nothing replays), and
    A takes every later message. With ``hold``, verdicts are held (as the shell holds them
    in a backlog) and released ``hold`` messages later; B releases its own when it stops.
    Returns the final kept articles by the consumer rule (an enriched record and no
    duplicates record) and A's roots; ``published`` gets every outcome published."""
    workers = {w: Deduplicator(CoreConfig(), worker=w) for w in "AB"}
    enriched: set[str] = set()
    duplicates: set[str] = set()

    def publish(outcome: Outcome) -> None:
        if published is not None:
            published.append(outcome)
        for o in outcome.outputs:
            (enriched if o.kind == "enriched" else duplicates if o.kind == "duplicates"
             else set()).add(o.key)

    log = _SharedLog(workers, lambda _, outcome: publish(outcome))
    held: dict[str, list[tuple[int, Outcome]]] = {w: [] for w in "AB"}

    def release(worker: str, now: int) -> None:
        due = [outcome for at, outcome in held[worker] if at <= now]
        held[worker] = [(at, outcome) for at, outcome in held[worker] if at > now]
        for fresh in workers[worker].release(due, now_ms=20_000 + now):
            publish(fresh)

    alive = "AB"
    marks: list[list[int]] = []
    for i, (article_id, body, event_ms) in enumerate(items):
        if i > stop_at and alive == "AB":
            alive = "A"
            release("B", _EVERY)
        name = alive[i % len(alive)]
        outcome = workers[name].process(raw(article_id, body, event_ms, partition=i % 2),
                                        now_ms=20_000 + i, hold=hold is not None)
        applied = log.applied(name)
        log.append(name, [dataclasses.replace(r, applied=applied) for r in outcome.log_records])
        if hold is None:
            publish(outcome)
        else:
            held[name].append((i + hold, outcome))
        marks.append(log.ends())
        if len(marks) > lag:
            for w in alive:
                log.catch_up(w, marks[-1 - lag], 20_000 + i)
        for w in alive:
            release(w, i)
    for w in alive:
        release(w, _EVERY)
    log.catch_up("A", log.ends(), 30_000)
    if fallback:
        owed = workers["A"].owed_corrections(now_ms=30_000 + CoreConfig().race_fallback_ms)
        if owed is not None:
            publish(owed)
            log.append("A", owed.log_records)
    roots = {i: resolve_root(workers["A"].index, i) for i, _, _ in items}
    return enriched - duplicates, roots


def test_the_races_a_stopped_worker_lost_are_corrected_by_the_other() -> None:
    """B stops mid-stream with its offsets committed, before the records of articles that
    beat its kept copies reach it. With the fallback every story ends with one kept
    article, its earliest; without it some stories keep two (what a new-user trial saw:
    an article and its exact copy both kept after a worker was SIGKILLed)."""
    missed = 0
    for seed in (1, 2, 3):
        items = _variants(random.Random(seed))
        earliest = {f"s{s}": min((t, i) for i, _, t in items if i.startswith(f"s{s}v"))[1]
                    for s in range(len(STORIES))}
        for lag in (2, 6):
            for stop_at in (5, 9, 13):
                kept, roots = _worker_stops(items, lag, stop_at, fallback=True)
                assert kept == set(earliest.values()), (seed, lag, stop_at)
                assert all(roots[i] == earliest[i.split("v")[0]] for i in roots)
                kept_without, _ = _worker_stops(items, lag, stop_at, fallback=False)
                missed += kept_without != kept
    assert missed > 0


def _chains(rng: random.Random) -> list[tuple[str, str, int]]:
    """Near copies that do not chain: per story, c0 ~ c1 ~ c2 with c0 !~ c2 (one end of c1
    edited in each), at random event times, so which are kept depends on the times."""
    items = []
    for s in range(3):
        base = document(800 + s, words=400)
        bodies = [[f"w{(s + 1) * 100_000 + i}" for i in range(100)] + base[100:], base,
                  base[:300] + [f"w{(s + 1) * 200_000 + i}" for i in range(100)]]
        items += [(f"c{s}v{v}", letters(body), rng.randrange(1_000, 9_000))
                  for v, body in enumerate(bodies)]
    rng.shuffle(items)
    return items


def _kept_in_event_time_order(items: list[tuple[str, str, int]]) -> set[str]:
    """The rule's answer (kept iff no earlier article matches it): one worker deciding in
    event-time order needs no correction."""
    one = Deduplicator(CoreConfig(), worker="one")
    ordered = sorted(items, key=lambda item: (item[2], item[0]))
    return {article_id for i, (article_id, body, ts) in enumerate(ordered)
            if one.process(raw(article_id, body, ts, 0, i), now_ms=20_000 + i).verdict
            == "enriched"}


def test_a_stopped_workers_races_end_as_the_rule_says_on_chains_of_near_copies() -> None:
    """As above, with near copies that do not chain and plain copies mixed: whatever B had
    decided when it stopped (or, at ``len(items)``, when the stream ended without B reading
    the last records), the kept articles are the rule's. 1,475 runs (seeds 1-59, lags 0-10,
    five stop points) agree since 2026-12-05 (/tmp script); 6 did not before."""
    # Seeds 2, 6 and 19 failed before (seed 2 also without a stop: a duplicate's record was
    # not looked at; 6 and 19 when B stopped: our duplicates were not watched as winners).
    for seed in (1, 2, 6, 19):
        rng = random.Random(seed)
        items = _chains(rng) + _variants(rng)[:10]
        rng.shuffle(items)
        expected = _kept_in_event_time_order(items)
        for lag in (2, 6, 10):
            for stop_at in (3, 7, 11, len(items)):
                kept, _ = _worker_stops(items, lag, stop_at, fallback=True)
                assert kept == expected, (seed, lag, stop_at)
            for hold in (2, 5):  # verdicts held as in a backlog (648 /tmp runs agree)
                kept, _ = _worker_stops(items, lag, 7, fallback=True, hold=hold)
                assert kept == expected, (seed, lag, hold)


def _newest(published: list[Outcome]) -> dict[str, str | None]:
    """Per article: None when kept (an enriched and no duplicates record), else the
    duplicate_of of its newest duplicates record."""
    newest: dict[str, str | None] = {}
    for outcome in published:
        for o in outcome.outputs:
            if o.kind == "enriched":
                newest.setdefault(o.key, None)
            elif o.kind == "duplicates":
                newest[o.key] = o.value["duplicate_of"]
    return newest


def _final_roots(published: list[Outcome]) -> dict[str, str | None]:
    """The consumer rule: :func:`_newest`, followed while it names a duplicate (README,
    Tie-break and races)."""
    newest = _newest(published)
    roots: dict[str, str | None] = {}
    for article_id, first in newest.items():
        seen, root = {article_id}, first
        while root is not None and newest.get(root) is not None and root not in seen:
            seen.add(root)
            root = newest[root]
        roots[article_id] = root
    return roots


@pytest.mark.parametrize("superseded_record_first", [False, True])
@pytest.mark.parametrize("hold", [False, True])
def test_a_correction_naming_an_article_that_lost_its_own_race_is_moved(
    hold: bool, superseded_record_first: bool
) -> None:
    """w < x < y, all near copies. B keeps y, then decides w (superseding y, announced).
    A, which had applied y but not w's records, decides x: kept, superseding y (announced
    too); x lost a race to w. Every replica and every consumer ends with w the kept article
    of all three. With x held and A's re-root of y read first, B's re-decision of x took y
    into x's group although A had announced it: y's released record named x, a duplicate,
    for good (a review found it; fixed by leaving announced ids to their worker)."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    published: list[Outcome] = []
    y = b.process(raw("y", SECOND_EDIT, 3_000, partition=1), now_ms=10_000)
    published.append(y)
    for r in y.log_records:
        assert a.on_log_record(r, catching_up=False, now_ms=10_001) is None
    w = b.process(raw("w", ORIGINAL, 1_000, partition=1, offset=1), now_ms=10_002)
    published.append(w)
    x = a.process(raw("x", COPY_EDIT, 2_000, partition=0), now_ms=10_002, hold=hold)
    assert (w.verdict, x.verdict) == ("enriched", "enriched")
    assert (x.log_records[0].entry.id, x.log_records[0].corrected) == ("x", ("y",))
    queue_a, queue_b = list(w.log_records), list(x.log_records)
    if superseded_record_first:  # keyed by other ids: maybe on another partition
        queue_b.reverse()
    while queue_a or queue_b:
        while queue_a:
            out = a.on_log_record(queue_a.pop(0), catching_up=False, now_ms=10_010)
            if out is not None:
                published.append(out)
                queue_b += out.log_records
        while queue_b:
            out = b.on_log_record(queue_b.pop(0), catching_up=False, now_ms=10_010)
            if out is not None:
                published.append(out)
                queue_a += out.log_records
    published += a.release([x], now_ms=10_300) if hold else [x]
    for d in (a, b):
        owed = d.owed_corrections(now_ms=10_010 + CoreConfig().race_fallback_ms + 1)
        if owed is not None:
            published.append(owed)
            for r in owed.log_records:
                (b if d is a else a).on_log_record(r, catching_up=False, now_ms=80_000)
    roots = {d.worker: {i: resolve_root(d.index, i) for i in "wxy"} for d in (a, b)}
    assert roots == {"A": {"w": "w", "x": "w", "y": "w"}, "B": {"w": "w", "x": "w", "y": "w"}}
    assert _final_roots(published) == {"w": None, "x": "w", "y": "w"}
    if hold:  # y's released record names the kept article itself
        assert _newest(published) == {"w": None, "x": "w", "y": "w"}


Entries = dict[str, tuple[str, int] | None]


def _replicas_against_a_replay(
    items: list[tuple[str, str, int]], lag: int, names: str
) -> tuple[dict[str, Entries], Entries, list[Outcome]]:
    """Workers ``names`` take the messages in turn over a shared log, each replica ``lag``
    messages behind, then read it to its end; a fresh worker then replays the whole log, as
    a restart does. Every article's indexed (root, revision) in each worker and in the
    replay, and every outcome published."""
    workers = {w: Deduplicator(CoreConfig(), worker=w) for w in names}
    published: list[Outcome] = []
    log = _SharedLog(workers, lambda _, outcome: published.append(outcome))
    marks: list[list[int]] = []
    for i, (article_id, body, event_ms) in enumerate(items):
        name = names[i % len(names)]
        outcome = workers[name].process(raw(article_id, body, event_ms, partition=i % 2),
                                        now_ms=20_000 + i)
        published.append(outcome)
        applied = log.applied(name)
        log.append(name, [dataclasses.replace(r, applied=applied) for r in outcome.log_records])
        marks.append(log.ends())
        if len(marks) > lag:
            for w in names:
                log.catch_up(w, marks[-1 - lag], 20_000 + i)
    while any(log.read[w] != log.ends() for w in names):  # corrections append records
        for w in names:
            log.catch_up(w, log.ends(), 30_000)
    replay = Deduplicator(CoreConfig(), worker="restarted")
    for partition in log.partitions:
        for record in partition:
            replay.on_log_record(record, catching_up=True, now_ms=30_000)

    def entries(d: Deduplicator) -> Entries:
        return {i: None if (e := d.index.get(i)) is None else (e.root, e.revision)
                for i, _, _ in items}

    return {w: entries(d) for w, d in workers.items()}, entries(replay), published


@pytest.mark.parametrize(("seed", "lag", "names"), [(3, 6, "ABC"), (4, 6, "AB"), (5, 2, "AB"),
                                                    (5, 2, "ABC")])
def test_live_replicas_end_with_the_entries_a_replay_of_the_log_gives(
    seed: int, lag: int, names: str
) -> None:
    """Two workers re-rooting one article at once: each applied its own re-root when it
    decided and the other's when it read it, so each kept the other's root until a restart
    (21 of 120 such runs, seeds 1-15, /tmp script, 2026-12-05). Our own record read back
    after another worker's of the same article is applied again: it is later in the log."""
    rng = random.Random(seed)
    items = _chains(rng) + _variants(rng)[:10]
    rng.shuffle(items)
    live, replayed, _ = _replicas_against_a_replay(items, lag, names)
    for worker, entries in live.items():
        assert entries == replayed, worker


@pytest.mark.parametrize(("seed", "lag", "names"), [(4, 2, "ABC"), (4, 6, "AB"), (4, 10, "ABC")])
def test_every_newest_duplicates_record_names_a_kept_article_in_random_races(
    seed: int, lag: int, names: str
) -> None:
    """The consumer rule without chains (README, Guarantees): the newest duplicates record
    of an article names its kept article, and the kept articles are the rule's. Runs that
    published a record naming a duplicate until 2026-12-05 (/tmp script)."""
    rng = random.Random(seed)
    items = _chains(rng) + _variants(rng)[:10]
    rng.shuffle(items)
    _, _, published = _replicas_against_a_replay(items, lag, names)
    newest = _newest(published)
    assert {a for a, kept_of in newest.items() if kept_of is None} == \
        _kept_in_event_time_order(items)
    assert _final_roots(published) == newest


@pytest.mark.parametrize("re_root_first", [False, True])
def test_a_duplicate_named_by_our_newest_record_follows_its_article_out_of_a_lost_race(
    re_root_first: bool,
) -> None:
    """v2 < v3 < v1 by event time, all near copies. B keeps v1, then v2 (which supersedes
    v1: "v1 -> v2"). A, which had applied v1 but not v2, keeps v3 and publishes "v1 -> v3";
    then B's records reach it: v3 lost its race to v2, and v1's entry, re-rooted by B, is no
    longer in v3's group here, so the usual move of v3's duplicates leaves it out. A's
    "v1 -> v3" was v1's newest record and named a duplicate; A now follows it with
    "v1 -> v2" (until 2026-12-05 it did not: 35 of 160 random runs published such a
    record)."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    published: list[Outcome] = []
    v1 = b.process(raw("v1", SECOND_EDIT, 3_000, partition=1), now_ms=10_000)
    published.append(v1)
    for r in v1.log_records:
        a.on_log_record(r, catching_up=False, now_ms=10_001)
    v2 = b.process(raw("v2", ORIGINAL, 1_000, partition=1, offset=1), now_ms=10_002)
    v3 = a.process(raw("v3", COPY_EDIT, 2_000, partition=0), now_ms=10_002)
    published += [v2, v3]
    assert [(o.key, o.value.get("duplicate_of")) for o in v3.outputs
            if o.kind == "duplicates"] == [("v1", "v3")]
    from_b = list(v2.log_records)
    assert [r.entry.id for r in from_b] == ["v2", "v1"]
    if re_root_first:  # keyed by other ids: maybe on another partition
        from_b.reverse()
    for record in from_b:
        out = a.on_log_record(record, catching_up=False, now_ms=10_010)
        if out is not None:
            published.append(out)
    for record in v3.log_records:
        out = b.on_log_record(record, catching_up=False, now_ms=10_010)
        if out is not None:
            published.append(out)
    newest = _newest(published)
    assert newest == {"v1": "v2", "v2": None, "v3": "v2"}
    assert _final_roots(published) == newest


@pytest.mark.parametrize(("seed", "lag", "hold"), [(1, 3, 2), (6, 3, 2)])
def test_a_held_verdict_released_names_kept_articles_only(seed: int, lag: int, hold: int) -> None:
    """A held outcome's corrections name articles as they were when it was decided; one
    that stopped being kept before the release is followed, at the release, by the record
    naming its kept article now (10 of 180 random runs with held verdicts ended with a
    record naming a duplicate before, /tmp script, 2026-12-05)."""
    rng = random.Random(seed)
    items = _chains(rng) + _variants(rng)[:10]
    rng.shuffle(items)
    published: list[Outcome] = []
    kept, _ = _worker_stops(items, lag, len(items), fallback=True, hold=hold,
                            published=published)
    assert kept == _kept_in_event_time_order(items)
    newest = _newest(published)
    assert _final_roots(published) == newest


def test_a_re_decision_that_re_roots_only_a_held_article_still_logs_it() -> None:
    """b < s < z, near copies. W keeps z; V keeps s, held, before z reaches it; W keeps b,
    which supersedes z (announced), never having applied s. V's re-decision of b re-roots s
    (no output yet: s is held; the release says it). Until 2026-12-05 V then dropped the
    log record of that re-root, since nothing was left to publish: every other replica, and
    a replay, kept s, and W corrected it 60 s later as a race owed by a stopped worker (a
    review found it)."""
    v, w = Deduplicator(CoreConfig(), worker="V"), Deduplicator(CoreConfig(), worker="W")
    z = w.process(raw("z", SECOND_EDIT, 3_000, 1, 0), now_ms=10_000)
    s = v.process(raw("s", COPY_EDIT, 2_000, 0, 0), now_ms=10_000, hold=True)
    b = w.process(raw("b", ORIGINAL, 1_000, 1, 1), now_ms=10_001)
    assert [(r.entry.id, r.corrected) for r in b.log_records] == [("b", ("z",)), ("z", ())]
    logged = []
    for record in z.log_records + b.log_records:
        out = v.on_log_record(record, catching_up=False, now_ms=10_010)
        if out is not None:
            logged += out.log_records
    assert [(r.entry.id, r.entry.root) for r in logged] == [("s", "b")]
    [released] = v.release([s], now_ms=10_300)
    assert [(o.key, o.value["duplicate_of"]) for o in released.outputs
            if o.kind == "duplicates"] == [("s", "b")]
    for record in s.log_records + logged:
        w.on_log_record(record, catching_up=False, now_ms=10_020)
    assert resolve_root(w.index, "s") == "b"
    assert w.owed_corrections(now_ms=10_020 + CoreConfig().race_fallback_ms) is None


def test_an_outcome_whose_records_cannot_be_written_is_a_dead_letter_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The net behind the envelope's checks: an error writing an output record in the
    stateful step stopped the worker, and the redelivered message stopped it again. Now the
    message is an internal_error dead letter; the decision stands in the index and its log
    records still go out."""
    dedup = Deduplicator(CoreConfig(), worker="A")

    def unwritable(*_: Any) -> Outcome:
        raise TypeError("Recursion limit reached")

    monkeypatch.setattr("streams.core.pipeline.fit_or_deadletter", unwritable)
    outcome = dedup.process(raw("x", ORIGINAL, 1_000, partition=0, offset=7), now_ms=10_000)
    assert (outcome.verdict, outcome.error_code) == ("deadletter", "internal_error")
    [letter] = outcome.outputs
    assert letter.kind == "deadletter"
    assert letter.value["detail"] == (
        "an output record cannot be written: TypeError: Recursion limit reached")
    assert [r.entry.id for r in outcome.log_records] == ["x"]
    assert dedup.index.get("x") is not None


def test_a_stopped_workers_duplicate_naming_a_superseded_article_is_followed_up() -> None:
    """x < y < z, near copies. B keeps y; A, which had applied y, keeps x and corrects
    "y -> x". Before that reaches B, B decides z a duplicate of y, then stops for good with
    its offsets committed: z's only duplicates record names y, a duplicate, and B is not
    there to follow it up (it would: :meth:`Deduplicator._repointed`). After
    INGEST_RACE_FALLBACK_S A publishes "z -> x" (42 of 5,400 random runs with a stop ended
    with such a record newest until 2026-12-05, a review's harness)."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    published: list[Outcome] = []
    y = b.process(raw("y", COPY_EDIT, 2_000, 1, 0), now_ms=10_000)
    published.append(y)
    for record in y.log_records:
        a.on_log_record(record, catching_up=False, now_ms=10_001)
    x = a.process(raw("x", ORIGINAL, 1_000, 0, 0), now_ms=10_002)
    z = b.process(raw("z", SECOND_EDIT, 3_000, 1, 1), now_ms=10_003)
    published += [x, z]
    for record in z.log_records:
        out = a.on_log_record(record, catching_up=False, now_ms=10_010)
        if out is not None:
            published.append(out)
    fallback = CoreConfig().race_fallback_ms
    assert a.owed_corrections(now_ms=10_010 + fallback - 1) is None  # not due yet
    owed = a.owed_corrections(now_ms=10_010 + fallback)
    assert owed is not None
    assert [(o.key, o.value["duplicate_of"], o.value["supersedes"]) for o in owed.outputs] == [
        ("z", "x", "duplicate_of")]
    assert (owed.corrections, owed.root_changes, owed.log_records) == (0, 1, [])
    published.append(owed)
    assert _newest(published) == {"x": None, "y": "x", "z": "x"}
    assert a.owed_corrections(now_ms=10_010 + 2 * fallback) is None  # once
