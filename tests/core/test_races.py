"""Two workers' states exchanging fingerprint-log records, deterministically, without Kafka.

Each :class:`Deduplicator` plays one worker. What one appends to the log, the other reads
through :meth:`Deduplicator.on_log_record`, in the order we choose: so the race windows the
real-broker tests can only provoke are set up exactly here.
"""

from __future__ import annotations

import dataclasses

import orjson

from streams.core.config import CoreConfig
from streams.core.fingerprint_log import (
    LogRecord,
    decode_log_value,
    decode_record,
    encode_log_record,
)
from streams.core.outcome import Outcome
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage
from tests.harness import SAMPLES, envelope

CONFIG = CoreConfig()
ORIGINAL, COPY = SAMPLES[1], SAMPLES[4]  # 004 is 001 without its footer: an exact duplicate


def raw(path_value: bytes, offset: int, ts: int, partition: int) -> RawMessage:
    return RawMessage("articles.raw", partition, offset, None, path_value, ts)


def via_log(records: list[LogRecord]) -> list[LogRecord]:
    """What the log gives a reader: the records as they were encoded and decoded."""
    return [decode_record(encode_log_record(r)[1]) for r in records]


def deliver(outcome: Outcome, to: Deduplicator, now_ms: int) -> list[Outcome]:
    corrections = []
    for record in via_log(outcome.log_records):
        result = to.on_log_record(record, catching_up=False, now_ms=now_ms)
        if result is not None:
            corrections.append(result)
    return corrections


def test_both_copies_first_kept_then_the_later_one_is_corrected_once() -> None:
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    # Decided at the same moment: neither has seen the other's record yet.
    first = a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    second = b.process(raw(envelope(COPY), 0, ts=2_000, partition=1), now_ms=5_000)
    assert (first.verdict, second.verdict) == ("enriched", "enriched")

    at_a = deliver(second, a, now_ms=5_100)  # a decided the earlier copy: nothing to correct
    at_b = deliver(first, b, now_ms=5_100)  # b lost the race: it corrects its own verdict
    assert at_a == []
    [correction] = at_b
    # The copy had opened a story of its own at b: the same record merges it (stories).
    [output, merge] = correction.outputs
    assert (merge.kind, merge.key, merge.value["merged_into"]) == (
        "stories", COPY.stem, ORIGINAL.stem)
    assert (output.kind, output.key) == ("duplicates", COPY.stem)
    assert output.value["duplicate_of"] == ORIGINAL.stem
    assert output.value["supersedes"] == "kept"
    assert output.value["story_id"] == first.outputs[0].value["story_id"]
    assert correction.corrections == 1

    # The re-rooted entry travels back; afterwards both replicas agree on every root.
    deliver(correction, a, now_ms=5_200)
    for state in (a, b):
        assert state.index.get(COPY.stem).root == ORIGINAL.stem  # type: ignore[union-attr]
        assert state.index.get(ORIGINAL.stem).root == ORIGINAL.stem  # type: ignore[union-attr]


def test_the_winner_by_id_at_equal_event_time_is_the_smaller_id() -> None:
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    body = envelope(ORIGINAL).replace(ORIGINAL.stem.encode(), b"zz-late-id")
    mine = a.process(raw(body, 0, ts=1_000, partition=0), now_ms=5_000)
    theirs = b.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=1), now_ms=5_000)
    assert (mine.verdict, theirs.verdict) == ("enriched", "enriched")
    assert deliver(mine, b, now_ms=5_100) == []  # b holds the smaller id: b won
    [correction] = deliver(theirs, a, now_ms=5_100)
    assert correction.outputs[0].key == "zz-late-id"
    assert correction.outputs[0].value["duplicate_of"] == ORIGINAL.stem


def test_a_race_is_corrected_only_by_the_worker_that_decided_the_loser() -> None:
    a, b, c = (Deduplicator(CONFIG, worker=w) for w in "abc")
    first = a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    second = b.process(raw(envelope(COPY), 0, ts=2_000, partition=1), now_ms=5_000)
    deliver(second, c, now_ms=5_050)
    assert deliver(first, c, now_ms=5_100) == []  # c decided neither: it only applies


def test_catching_up_applies_everything_and_corrects_nothing() -> None:
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    first = a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    restarted = Deduplicator(CONFIG, worker="a")
    for record in via_log(first.log_records):  # its own records, replayed at start-up
        assert restarted.on_log_record(record, catching_up=True, now_ms=6_000) is None
    assert ORIGINAL.stem in restarted.index
    copy = restarted.process(raw(envelope(COPY), 1, ts=2_000, partition=0), now_ms=6_100)
    assert copy.verdict == "duplicate"
    assert copy.outputs[0].value["duplicate_of"] == ORIGINAL.stem
    assert len(b.index) == 0


def test_own_records_read_back_live_are_skipped() -> None:
    a = Deduplicator(CONFIG, worker="a")
    first = a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    before = a.index.get(ORIGINAL.stem)
    assert deliver(first, a, now_ms=5_100) == []
    assert a.index.get(ORIGINAL.stem) is before


def test_a_race_whose_loser_died_is_corrected_when_its_message_is_replayed() -> None:
    """Two copies kept at once by two workers; the worker that decided the later one dies
    before the earlier one's record reaches it, so nobody corrects the race. The worker that
    takes over its partition replays the later copy: that replay corrects it, instead of
    repeating "kept" (found by a new-user trial: SIGKILL of one of two workers mid-stream
    left an article and its exact copy both kept, 2026-12-04)."""
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    first = a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    copy_raw = raw(envelope(COPY), 0, ts=2_000, partition=1)
    second = b.process(copy_raw, now_ms=5_000)
    assert (first.verdict, second.verdict) == ("enriched", "enriched")
    assert deliver(second, a, now_ms=5_100) == []  # a decided the earlier copy: not a's to fix
    # b is SIGKILLed here, before first's record reaches it; a takes over partition 1.
    replay = a.process(copy_raw, now_ms=20_000)
    assert replay.verdict == "duplicate"
    [output] = replay.outputs
    assert (output.kind, output.key, output.value["duplicate_of"], output.value["match"]) == (
        "duplicates", COPY.stem, ORIGINAL.stem, "exact")
    assert output.value["supersedes"] == "kept"  # it was published as kept before
    assert replay.corrections == 1
    assert output.value["story_id"] == first.outputs[0].value["story_id"]
    assert a.index.get(COPY.stem).root == ORIGINAL.stem  # type: ignore[union-attr]
    # the new root travels on the log: a restarted b (or any worker) reads it
    restarted = Deduplicator(CONFIG, worker="b")
    for outcome in (first, second, replay):
        for record in via_log(outcome.log_records):
            restarted.on_log_record(record, catching_up=True, now_ms=20_100)
    assert restarted.index.get(COPY.stem).root == ORIGINAL.stem  # type: ignore[union-attr]
    # and a second replay repeats the correction's verdict
    again = a.process(copy_raw, now_ms=20_200)
    assert (again.verdict, again.outputs[0].value["duplicate_of"]) == ("duplicate", ORIGINAL.stem)


FALLBACK_MS = CONFIG.race_fallback_ms


def test_a_race_whose_loser_stopped_after_committing_is_corrected_by_the_winner() -> None:
    """Two copies kept at once by two workers; the worker that decided the later one stops
    (SIGKILL) after committing its offset and before the earlier one's record reaches it:
    nothing replays the copy, so it would stay kept. The worker that decided the earlier one
    knew the race was lost by the other and publishes the correction itself once it is
    overdue: the record the other worker would have published."""
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    first = a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    second = b.process(raw(envelope(COPY), 0, ts=2_000, partition=1), now_ms=5_000)
    assert deliver(second, a, now_ms=5_100) == []  # b's to correct, when first reaches it
    assert a.owed == 1
    assert a.owed_corrections(now_ms=5_100 + FALLBACK_MS - 1) is None  # not overdue yet
    # b stopped: no correction from it came. a corrects the copy.
    owed = a.owed_corrections(now_ms=5_100 + FALLBACK_MS)
    assert owed is not None and a.owed == 0
    # The copy had opened a story of its own at b: it is merged into the original's.
    [output, merge] = owed.outputs
    assert (output.kind, output.key, output.value["duplicate_of"], output.value["match"],
            output.value["supersedes"]) == ("duplicates", COPY.stem, ORIGINAL.stem, "exact",
                                             "kept")
    assert output.value["story_id"] == first.outputs[0].value["story_id"]
    assert (merge.kind, merge.key, merge.value["merged_into"], merge.value["reason"]) == (
        "stories", COPY.stem, ORIGINAL.stem, "race")
    assert (owed.corrections, owed.root_changes, len(owed.story_updates)) == (1, 0, 1)
    assert a.index.get(COPY.stem).root == ORIGINAL.stem  # type: ignore[union-attr]
    assert a.stories.story_of(COPY.stem) == ORIGINAL.stem
    assert a.owed_corrections(now_ms=10 * FALLBACK_MS) is None  # once
    # the records b would have published, but for their time of publication and worker
    [by_b] = deliver(first, b, now_ms=5_100)
    assert [(o.kind, o.key, _timeless(o.value)) for o in owed.outputs] == [
        (o.kind, o.key, _timeless(o.value)) for o in by_b.outputs]
    # its new root and the merge travel on the log: a restarted b reads them
    restarted = Deduplicator(CONFIG, worker="b")
    for outcome in (first, second, owed):
        for record in [*outcome.log_records, *outcome.story_updates]:
            restarted.on_log_record(decode_log_value(encode_log_record(record)[1]),
                                    catching_up=True, now_ms=70_000)
    assert restarted.index.get(COPY.stem).root == ORIGINAL.stem  # type: ignore[union-attr]
    assert restarted.stories.story_of(COPY.stem) == ORIGINAL.stem


def _timeless(value: dict[str, object]) -> dict[str, object]:
    """A record without the fields that say when and by whom it was published."""
    return {k: v for k, v in value.items() if k not in ("processed_at", "merged_at", "worker")}


def test_a_race_its_loser_corrected_in_time_is_not_corrected_again() -> None:
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    first = a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    second = b.process(raw(envelope(COPY), 0, ts=2_000, partition=1), now_ms=5_000)
    deliver(second, a, now_ms=5_100)
    [correction] = deliver(first, b, now_ms=5_100)
    assert deliver(correction, a, now_ms=5_200) == []
    assert a.owed_corrections(now_ms=5_100 + FALLBACK_MS) is None
    assert a.owed == 0


def test_no_correction_is_owed_for_a_later_article_that_is_not_a_copy() -> None:
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    a.process(raw(envelope(SAMPLES[0]), 0, ts=1_000, partition=0), now_ms=5_000)
    second = b.process(raw(envelope(SAMPLES[2]), 0, ts=2_000, partition=1), now_ms=5_000)
    deliver(second, a, now_ms=5_100)
    assert a.owed_corrections(now_ms=5_100 + FALLBACK_MS) is None


def test_the_fallback_can_be_turned_off() -> None:
    config = dataclasses.replace(CONFIG, race_fallback_ms=0)
    a, b = Deduplicator(config, worker="a"), Deduplicator(config, worker="b")
    a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    second = b.process(raw(envelope(COPY), 0, ts=2_000, partition=1), now_ms=5_000)
    deliver(second, a, now_ms=5_100)
    assert (a.owed, a.owed_corrections(now_ms=10 * FALLBACK_MS)) == (0, None)


def test_a_race_between_workers_that_had_learned_different_boilerplate_is_corrected() -> None:
    """Worker a had learned a source's footer block when it decided an article, worker b had
    not when it decided the article's exact copy at the same moment: their hashes and bands
    differ, only the hash over every paragraph is shared. b corrects its copy when a's record
    arrives."""
    from tests.core.test_verdicts import FOOTER, SIDEBAR, STORIES

    def message(article_id: str, paragraphs: tuple[str, ...], offset: int, ts: int,
                partition: int) -> RawMessage:
        value = orjson.dumps({"id": article_id, "source": "courier", "body": "\n".join(paragraphs)})
        return raw(value, offset, ts, partition)

    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    block = (*FOOTER, *SIDEBAR)
    learning = [a.process(message(f"x{i}", (story, *block), i, 100 + i, 0), now_ms=1_000)
                for i, story in enumerate(STORIES[1:])]
    article = (STORIES[0], *block)
    first = a.process(message("original", article, 10, 1_000, 0), now_ms=5_000)
    second = b.process(message("copy", article, 0, 2_000, 1), now_ms=5_000)
    assert (first.verdict, first.learned_removed, second.verdict, second.learned_removed) == (
        "enriched", 6, "enriched", 0)
    assert deliver(second, a, now_ms=5_100) == []  # a decided the earlier one: not a's to fix
    for outcome in learning:  # b reads a's records in log order (story merges aside)
        deliver(outcome, b, now_ms=5_100)
    outputs = [o for c in deliver(first, b, now_ms=5_100) for o in c.outputs
               if o.kind == "duplicates"]
    assert [(o.key, o.value["duplicate_of"], o.value["supersedes"]) for o in outputs] == [
        ("courier:copy", "original", "kept")]
