"""Revisions and source-scoped ids through the public API of the stateful step.

An id that reappears with other content is a new revision of its article, never a silent
replacement and never a duplicate of itself; the counter travels through the fingerprint log,
so workers exchanging log records (handed over by hand, as the replica would) agree. Ids are
scoped by source: two producers' id "1" are two articles.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from streams.core.fingerprint_log import decode_log_value, encode_log_record
from streams.core.pipeline import CoreConfig, Deduplicator, Outcome
from streams.core.records import RawMessage
from tests.core.dedup.helpers import document
from tests.core.test_pipeline_races import COPY_EDIT, ORIGINAL, letters

OTHER = letters(document(900, words=300))
NOW = 10_000


def raw(article_id: str, body: str, ts: int, offset: int, *, source: str | None = None,
        partition: int = 0) -> RawMessage:
    envelope: dict[str, Any] = {"id": article_id, "body": body}
    if source is not None:
        envelope["source"] = source
    return RawMessage("articles.raw", partition, offset, None, orjson.dumps(envelope), ts)


def record(outcome: Outcome) -> dict[str, Any]:
    return outcome.outputs[0].value


def revision(outcome: Outcome) -> tuple[str, int, str | None]:
    value = record(outcome)
    return outcome.verdict, value["revision"], value["previous_content_hash"]


def through_the_log(outcome: Outcome, receiver: Deduplicator, now_ms: int) -> None:
    """Encode, decode and apply every log record, as another worker's replica does."""
    for item in outcome.log_records:
        decoded = decode_log_value(encode_log_record(item)[1])
        assert receiver.on_log_record(decoded, catching_up=False, now_ms=now_ms) is None


def test_other_content_under_a_known_id_is_the_next_revision() -> None:
    dedup = Deduplicator(CoreConfig(), worker="A")
    first = dedup.process(raw("x", ORIGINAL, 1_000, offset=0), NOW)
    second = dedup.process(raw("x", OTHER, 2_000, offset=1), NOW)
    assert revision(first) == ("enriched", 1, None)
    assert revision(second) == ("enriched", 2, record(first)["content_hash"])
    assert record(second)["content_hash"] != record(first)["content_hash"]
    third = dedup.process(raw("x", ORIGINAL, 3_000, offset=2), NOW)  # back to the first text
    assert revision(third) == ("enriched", 3, record(second)["content_hash"])
    assert [r.entry.revision for r in third.log_records] == [3]
    assert len(dedup.index) == 1


def test_a_redelivery_repeats_its_revision_and_verdict() -> None:
    dedup = Deduplicator(CoreConfig(), worker="A")
    dedup.process(raw("x", ORIGINAL, 1_000, offset=0), NOW)
    second = dedup.process(raw("x", OTHER, 2_000, offset=1), NOW)
    replay = dedup.process(raw("x", OTHER, 2_000, offset=1), NOW + 5)  # the same message
    resend = dedup.process(raw("x", OTHER, 4_000, offset=9), NOW + 9)  # a re-send of it
    for again in (replay, resend):
        assert revision(again) == revision(second)
        assert again.outputs[0].key == "x"
    assert dedup.index.get("x").revision == 2  # type: ignore[union-attr]


def test_redelivered_earlier_revisions_repeat_their_numbers_and_leave_the_index() -> None:
    """x revisions 1 and 2, delivered again after a crash before their offsets were
    committed. Until 2026-12-05 they became revisions 3 and 4 (a restart trial: 77 messages
    of one run)."""
    dedup = Deduplicator(CoreConfig(), worker="A")
    messages = [raw("x", ORIGINAL, 1_000, offset=0), raw("x", OTHER, 2_000, offset=1),
                raw("x", COPY_EDIT, 3_000, offset=2)]
    first = [dedup.process(message, NOW) for message in messages]
    hashes = [record(outcome)["content_hash"] for outcome in first]
    assert [revision(o) for o in first] == [
        ("enriched", 1, None), ("enriched", 2, hashes[0]), ("enriched", 3, hashes[1])]
    again = [dedup.process(message, NOW + 5) for message in messages]
    assert [revision(o) for o in again] == [revision(o) for o in first]
    assert [record(o)["content_hash"] for o in again] == hashes
    assert [len(o.log_records) for o in again] == [0, 0, 1]  # the newest is decided again
    entry = dedup.index.get("x")
    assert entry is not None
    assert (entry.revision, entry.fingerprint.content_hash) == (3, hashes[2])
    assert entry.delivered == ((1, "articles.raw/0/0", hashes[0], hashes[0]),
                               (2, "articles.raw/0/1", hashes[1], hashes[1]))
    # A producer's revert, a new message with revision 1's text, is a new revision.
    revert = dedup.process(raw("x", ORIGINAL, 4_000, offset=3), NOW + 9)
    assert revision(revert) == ("enriched", 4, hashes[2])


def test_a_redelivery_is_told_by_its_offset_from_a_revert_and_resends_count_alike() -> None:
    """x: revision 1 sent twice (offsets 0 and 1), revision 2, then a producer's revert to
    revision 1's text (revision 3). Delivered again, each message repeats its revision:
    offsets only grow on a partition, so a message at or before a revision's latest one on
    its partition is that revision's, even with the current revision's text."""
    dedup = Deduplicator(CoreConfig(), worker="A")
    messages = [raw("x", ORIGINAL, 1_000, offset=0), raw("x", ORIGINAL, 1_500, offset=1),
                raw("x", OTHER, 2_000, offset=2), raw("x", ORIGINAL, 3_000, offset=3)]
    first = [dedup.process(message, NOW) for message in messages]
    assert [revision(o)[1] for o in first] == [1, 1, 2, 3]
    again = [dedup.process(message, NOW + 5) for message in messages]
    assert [revision(o) for o in again] == [revision(o) for o in first]
    # Revision 2's text from another partition: not known to be a redelivery, a revert.
    elsewhere = dedup.process(raw("x", OTHER, 2_000, offset=0, partition=3), NOW + 9)
    assert revision(elsewhere)[1] == 4


def test_an_id_sent_on_two_partitions_is_told_redelivered_on_either() -> None:
    """A producer that does not key by id: x's revision 1 on partitions 0 and 1, revision 2
    on partition 0. The entry keeps the latest message of each revision on each partition,
    so revision 1's message on partition 1, delivered again, repeats revision 1."""
    dedup = Deduplicator(CoreConfig(), worker="A")
    messages = [raw("x", ORIGINAL, 1_000, offset=0), raw("x", ORIGINAL, 1_000, offset=0,
                                                         partition=1),
                raw("x", OTHER, 2_000, offset=1), raw("x", OTHER, 2_000, offset=1, partition=1)]
    first = [dedup.process(message, NOW) for message in messages]
    assert [revision(o)[1] for o in first] == [1, 1, 2, 2]
    entry = dedup.index.get("x")
    assert entry is not None and entry.origin == "articles.raw/1/1"
    assert [(number, origin) for number, origin, _, _ in entry.delivered] == [
        (1, "articles.raw/0/0"), (1, "articles.raw/1/0"), (2, "articles.raw/0/1")]
    again = [dedup.process(message, NOW + 5) for message in messages]
    assert [revision(o) for o in again] == [revision(o) for o in first]


def test_a_message_another_worker_numbered_before_it_knew_a_newer_revision_repeats_it() -> None:
    """x's revisions 1 and 2 decided by A (partition 1) while B, not knowing them yet,
    decided x's text of revision 1 from partition 2 as revision 1. B's record reaches A
    after A's revision 2 (stale: the entry stays), then B stops and A is delivered B's
    message again: revision 1, as B published it (a kill trial with three workers: it
    became revision 3)."""
    a, b = (Deduplicator(CoreConfig(), worker=name) for name in "AB")
    first = a.process(raw("x", ORIGINAL, 1_000, offset=0, partition=1), NOW)
    a.process(raw("x", OTHER, 2_000, offset=1, partition=1), NOW + 1)
    theirs = b.process(raw("x", ORIGINAL, 1_000, offset=7, partition=2), NOW + 1)
    assert revision(theirs) == revision(first) == ("enriched", 1, None)
    through_the_log(theirs, a, NOW + 2)
    entry = a.index.get("x")
    assert entry is not None and entry.revision == 2
    assert entry.delivered[-1][:2] == (1, "articles.raw/2/7")
    again = a.process(raw("x", ORIGINAL, 1_000, offset=7, partition=2), NOW + 3)
    assert revision(again) == revision(theirs)
    assert again.log_records == []


def test_a_message_whose_entry_another_workers_record_replaced_is_still_told_redelivered(
) -> None:
    """A and B both decide x's revision 1 (a resend on two partitions), then B its revision
    2. B's records replace A's entry of x, and B never knew A's message: A's entry keeps
    remembering it, so A's message delivered again repeats revision 1 (a kill trial with
    three workers: it became revision 3). Every replica holds the same entry whatever the
    order it learned the messages in."""
    a, b = (Deduplicator(CoreConfig(), worker=name) for name in "AB")
    ours = raw("x", ORIGINAL, 1_000, offset=4, partition=1)
    first = a.process(ours, NOW)
    theirs = [b.process(raw("x", ORIGINAL, 1_000, offset=4, partition=3), NOW),
              b.process(raw("x", OTHER, 2_000, offset=148, partition=3), NOW + 1)]
    for outcome in theirs:
        through_the_log(outcome, a, NOW + 2)
    through_the_log(first, b, NOW + 3)  # stale at b: remembered there too
    held = [(e.revision, e.origin, e.delivered) for worker in (a, b)
            if (e := worker.index.get("x")) is not None]
    assert len(held) == 2 and held[0] == held[1]
    assert held[0][:2] == (2, "articles.raw/3/148")
    assert [(number, origin) for number, origin, _, _ in held[0][2]] == [
        (1, "articles.raw/1/4"), (1, "articles.raw/3/4")]
    for worker in (a, b):
        assert revision(worker.process(ours, NOW + 5)) == revision(first) == ("enriched", 1, None)


def test_a_redelivered_earlier_revision_is_published_with_the_articles_verdict_now() -> None:
    """x's revision 2 is a copy of y: revision 1 redelivered says so too (the index holds
    the article as it is now), and carries its own revision number and content hash."""
    dedup = Deduplicator(CoreConfig(), worker="A")
    dedup.process(raw("y", ORIGINAL, 500, offset=0), NOW)
    kept = dedup.process(raw("x", OTHER, 1_000, offset=1), NOW)
    copy = dedup.process(raw("x", COPY_EDIT, 2_000, offset=2), NOW)
    assert (copy.verdict, record(copy)["duplicate_of"], record(copy)["revision"]) == (
        "duplicate", "y", 2)
    again = dedup.process(raw("x", OTHER, 1_000, offset=1), NOW + 5, hold=True)
    [released] = dedup.release([again], NOW + 300)
    assert released.outputs == again.outputs and len(released.outputs) == 1
    assert (released.verdict, record(released)["duplicate_of"]) == ("duplicate", "y")
    assert revision(released)[1:] == (1, None)
    assert record(released)["content_hash"] == record(kept)["content_hash"]
    assert record(released)["story_id"] == record(copy)["story_id"]


def test_a_redelivery_to_another_worker_repeats_the_revision_from_the_log() -> None:
    """After a rebalance another worker is delivered the uncommitted messages: the entry's
    earlier revisions came with the log records."""
    a, b = (Deduplicator(CoreConfig(), worker=name) for name in "AB")
    messages = [raw("x", ORIGINAL, 1_000, offset=0), raw("x", OTHER, 2_000, offset=1)]
    first = [a.process(message, NOW) for message in messages]
    for outcome in first:
        through_the_log(outcome, b, NOW + 1)
    assert [revision(b.process(message, NOW + 2)) for message in messages] == [
        revision(o) for o in first]


def test_only_the_latest_earlier_revisions_are_remembered() -> None:
    """An id revised often (a live blog): the entry remembers the origins of the latest 16
    revisions before its own (3 to 18 of 19). The oldest of them has lost the hash it
    followed, so it and anything older, redelivered, is numbered as a new revision, as
    before 2026-12-05."""
    dedup = Deduplicator(CoreConfig(), worker="A")
    texts = [letters(document(2_000 + n, words=120)) for n in range(19)]
    firsts = [dedup.process(raw("x", text, 1_000 + n, offset=n), NOW)
              for n, text in enumerate(texts)]
    assert [record(o)["revision"] for o in firsts] == list(range(1, 20))
    entry = dedup.index.get("x")
    assert entry is not None
    assert [origin for _, origin, _, _ in entry.delivered] == [
        f"articles.raw/0/{n}" for n in range(2, 18)]
    fourth = dedup.process(raw("x", texts[3], 1_003, offset=3), NOW + 5)
    assert revision(fourth) == revision(firsts[3])
    third = dedup.process(raw("x", texts[2], 1_002, offset=2), NOW + 6)  # the oldest one
    assert revision(third) == ("enriched", 20, record(firsts[18])["content_hash"])


def test_an_edit_the_fingerprint_form_does_not_see_repeats_the_revision_with_its_text() -> None:
    """README: the latest record of the highest revision is current, its text the new one."""
    dedup = Deduplicator(CoreConfig(), worker="A")
    first = dedup.process(raw("x", ORIGINAL, 1_000, offset=0), NOW)
    shouted = "  " + ORIGINAL.upper().replace(" ", "   ") + "\n\n"
    again = dedup.process(raw("x", shouted, 2_000, offset=1), NOW + 5)
    assert revision(again) == revision(first) == ("enriched", 1, None)
    assert record(again)["content_hash"] == record(first)["content_hash"]
    assert record(again)["text"] != record(first)["text"]
    assert record(again)["text"].startswith(ORIGINAL.upper().split(" ", 1)[0])


def test_a_revision_is_not_a_duplicate_of_its_earlier_revision_or_of_its_copies() -> None:
    dedup = Deduplicator(CoreConfig(), worker="A")
    dedup.process(raw("x", ORIGINAL, 1_000, offset=0), NOW)
    copy = dedup.process(raw("y", ORIGINAL, 2_000, offset=1), NOW)
    assert (copy.verdict, record(copy)["duplicate_of"]) == ("duplicate", "x")
    corrected = dedup.process(raw("x", COPY_EDIT, 3_000, offset=2), NOW)  # near copy of rev 1
    assert revision(corrected)[:2] == ("enriched", 2)
    assert corrected.outputs[1:] == []  # nothing else changes: y stays x's duplicate
    entry = dedup.index.get("x")
    assert entry is not None and entry.event_time_ms == 1_000  # its place in the order stays
    later = dedup.process(raw("z", COPY_EDIT, 5_000, offset=3), NOW)
    assert (later.verdict, record(later)["duplicate_of"]) == ("duplicate", "x")
    assert (record(later)["revision"], record(later)["previous_content_hash"]) == (1, None)


def test_two_workers_exchanging_log_records_count_revisions_alike() -> None:
    a, b = (Deduplicator(CoreConfig(), worker=name) for name in "AB")
    first = a.process(raw("x", ORIGINAL, 1_000, offset=0), NOW)
    through_the_log(first, b, NOW)
    second = b.process(raw("x", OTHER, 2_000, offset=0, partition=1), NOW + 1)
    assert revision(second) == ("enriched", 2, record(first)["content_hash"])
    through_the_log(second, a, NOW + 2)
    third = a.process(raw("x", COPY_EDIT, 3_000, offset=1), NOW + 3)
    assert revision(third) == ("enriched", 3, record(second)["content_hash"])
    through_the_log(third, b, NOW + 4)
    # The last revision redelivered to the other worker (a rebalance) is the same revision.
    again = b.process(raw("x", COPY_EDIT, 3_000, offset=1), NOW + 5)
    assert revision(again) == revision(third)
    for worker in (a, b):
        entry = worker.index.get("x")
        assert entry is not None
        assert (entry.revision, entry.previous_hash, entry.fingerprint.content_hash) == (
            3, record(second)["content_hash"], record(third)["content_hash"])


def test_the_same_id_from_two_sources_is_two_articles() -> None:
    dedup = Deduplicator(CoreConfig(), worker="A")
    a = dedup.process(raw("1", ORIGINAL, 1_000, offset=0, source="a.example"), NOW)
    b = dedup.process(raw("1", OTHER, 2_000, offset=1, source="b.example"), NOW)
    assert [revision(o) for o in (a, b)] == [("enriched", 1, None)] * 2
    assert [(o.outputs[0].key, record(o)["id"], record(o)["scoped_id"]) for o in (a, b)] == [
        ("a.example:1", "1", "a.example:1"), ("b.example:1", "1", "b.example:1")]
    assert sorted(r.entry.id for o in (a, b) for r in o.log_records) == [
        "a.example:1", "b.example:1"]
    # Same source, same id, other content: a revision of that source's article only, here
    # a near copy of the other source's article, decided like any article.
    revised = dedup.process(raw("1", COPY_EDIT, 3_000, offset=2, source="b.example"), NOW)
    assert revision(revised) == ("duplicate", 2, record(b)["content_hash"])
    assert record(revised)["duplicate_of_scoped_id"] == "a.example:1"
    assert dedup.index.get("a.example:1").revision == 1  # type: ignore[union-attr]


def test_a_copy_from_another_source_names_the_kept_articles_id_and_identity() -> None:
    dedup = Deduplicator(CoreConfig(), worker="A")
    dedup.process(raw("1", ORIGINAL, 1_000, offset=0, source="a.example"), NOW)
    copy = dedup.process(raw("1", ORIGINAL, 2_000, offset=1, source="b.example"), NOW)
    value = record(copy)
    assert (copy.verdict, value["id"], value["scoped_id"]) == ("duplicate", "1", "b.example:1")
    assert (value["duplicate_of"], value["duplicate_of_scoped_id"]) == ("1", "a.example:1")


def test_the_source_derived_from_the_url_scopes_ids_without_a_source() -> None:
    dedup = Deduplicator(CoreConfig(), worker="A")
    value = orjson.dumps({"id": "1", "url": "https://www.bbc.co.uk/news/x", "body": ORIGINAL})
    outcome = dedup.process(RawMessage("articles.raw", 0, 0, None, value, 1_000), NOW)
    assert (outcome.outputs[0].key, record(outcome)["source"]) == ("bbc.co.uk:1", "bbc.co.uk")


SHORT = ("The harbour board approved the new ferry timetable on Monday after two years of "
         "complaints from islanders about missed connections to the mainland trains.")
SHORT_CORRECTED = SHORT.replace("Monday", "Tuesday")


def test_a_copy_of_the_version_a_revision_replaced_is_a_duplicate_of_the_article() -> None:
    """A short article corrected by one word: the two versions are below the near-duplicate
    threshold. A copy of the first version, syndicated before the correction, arrives later
    under its own id: it is a copy of the article (exact, of the version the revision
    replaced), on this worker and on one that rebuilt its index from the log (a soak trial
    found it kept: the first version's hash left the index with the revision)."""
    dedup = Deduplicator(CoreConfig(), worker="A")
    first = dedup.process(raw("x", SHORT, 1_000, offset=0), NOW)
    second = dedup.process(raw("x", SHORT_CORRECTED, 1_000, offset=1), NOW + 1)
    assert revision(second) == ("enriched", 2, record(first)["content_hash"])
    replica = Deduplicator(CoreConfig(), worker="B")
    for outcome in (first, second):
        for item in outcome.log_records:
            replica.on_log_record(decode_log_value(encode_log_record(item)[1]),
                                  catching_up=True, now_ms=NOW + 2)
    for worker, offset in ((dedup, 2), (replica, 0)):
        copy = worker.process(raw("syndicated", SHORT, 5_000, offset=offset, partition=1),
                              NOW + 3)
        assert (copy.verdict, record(copy)["duplicate_of"], record(copy)["match"]) == (
            "duplicate", "x", "exact")


def test_a_held_duplicate_and_its_kept_revision_released_together_stay_two_verdicts() -> None:
    """A worker holds its verdicts (the agent always does): x is a duplicate of y, then x's
    next revision (other content) is kept, and the batch is released at once. Until
    2026-12-05 the first release compared x's revision 1 with the index, which held
    revision 2 by then, and published "x revision 2 duplicate_of x": x was no one's
    duplicate and, by the consumer rule, not kept either (a review found it)."""
    dedup = Deduplicator(CoreConfig(), worker="A")
    held = [dedup.process(raw(i, body, ts, off), now_ms=NOW + off, hold=True)
            for off, (i, body, ts) in enumerate([("y", ORIGINAL, 1_000), ("x", COPY_EDIT, 2_000),
                                                 ("x", OTHER, 3_000)])]
    released = dedup.release(held, now_ms=NOW + 300)
    assert [(o.kind, o.key, o.value.get("revision"), o.value.get("duplicate_of"))
            for outcome in released for o in outcome.outputs if o.kind != "stories"] == [
        ("enriched", "y", 1, None), ("duplicates", "x", 1, "y"), ("enriched", "x", 2, None)]


def test_a_resend_of_the_same_content_keeps_its_place_in_the_order() -> None:
    """x at 1,000, sent again unchanged at 3,000 (a producer's retry), then a late copy v at
    1,500: v is x's duplicate. Until 2026-12-05 the resend took the later time, so v was
    kept and x corrected to a duplicate of v (a review found it)."""
    dedup = Deduplicator(CoreConfig(), worker="A")
    outcomes = [dedup.process(raw(i, body, ts, off), now_ms=NOW + off)
                for off, (i, body, ts) in enumerate([("x", ORIGINAL, 1_000), ("x", ORIGINAL, 3_000),
                                                     ("v", COPY_EDIT, 1_500)])]
    assert [o.verdict for o in outcomes] == ["enriched", "enriched", "duplicate"]
    assert [(o.key, o.value["duplicate_of"]) for o in outcomes[2].outputs
            if o.kind == "duplicates"] == [("v", "x")]
    assert dedup.index.get("x").event_time_ms == 1_000


@pytest.mark.parametrize("ours_first", [True, False])
def test_a_held_copy_whose_id_another_worker_kept_earlier_is_released_as_the_log_ends(
    ours_first: bool,
) -> None:
    """x is sent twice (a producer's retry) and two workers decide it at once. Worker A holds
    a batch with y (a near copy) and its copy of x at 3,000: x a duplicate of y. Worker B's
    copy of x at 1,000, kept, reaches A before A releases. Until 2026-12-05 A published
    "x duplicate_of x" (x kept nowhere: a new-user trial with three workers).

    With A's record of x first, the log ends with B's kept x: A, which has read its own
    record back, decides B's x again as a new article, and y (held) is released as x's
    duplicate. Until 2026-12-05 y stayed kept until B published its correction after
    INGEST_RACE_FALLBACK_S. With B's record first, the log ends with A's: x is y's
    duplicate everywhere, as published (A's record is in flight when B's arrives: re-rooting
    y under x then looped x and y)."""
    a, b = Deduplicator(CoreConfig(), worker="A"), Deduplicator(CoreConfig(), worker="B")
    held = [a.process(raw("y", COPY_EDIT, 2_000, 0, partition=2), now_ms=NOW, hold=True),
            a.process(raw("x", ORIGINAL, 3_000, 1, partition=2), now_ms=NOW + 1, hold=True)]
    assert [(o.verdict, record(o).get("duplicate_of")) for o in held] == [
        ("enriched", None), ("duplicate", "y")]
    kept_by_b = b.process(raw("x", ORIGINAL, 1_000, 0, partition=1), now_ms=NOW + 1)
    assert kept_by_b.verdict == "enriched"
    # The log holds A's y, then x's two records in either order; each worker reads it all,
    # and what they publish on reading it is appended.
    xs = [*held[1].log_records, *kept_by_b.log_records]
    log = [*held[0].log_records, *(xs if ours_first else xs[::-1])]
    outcomes: list[Outcome] = []
    read = {"A": 0, "B": 0}

    def read_all() -> None:
        while any(at < len(log) for at in read.values()):
            for worker in (a, b):
                while read[worker.worker] < len(log):
                    item = log[read[worker.worker]]
                    read[worker.worker] += 1
                    found = worker.on_log_record(decode_log_value(encode_log_record(item)[1]),
                                                 catching_up=False, now_ms=NOW + 100)
                    if found is not None:
                        outcomes.append(found)
                        log.extend(found.log_records)

    read_all()
    released = a.release(held, now_ms=NOW + 300)
    owed = b.owed_corrections(now_ms=NOW + 300 + CoreConfig().race_fallback_ms + 1)
    assert owed is None
    published = [(o.kind, o.key, o.value.get("duplicate_of"), o.value.get("supersedes"))
                 for outcome in [*outcomes, *released]
                 for o in outcome.outputs if o.kind != "stories"]
    if ours_first:  # the log ends with B's kept x
        assert published == [("duplicates", "y", "x", None), ("enriched", "x", None, None)]
    else:  # the log ends with A's x, a duplicate of y
        assert published == [("enriched", "y", None, None), ("duplicates", "x", "y", None)]
    read_all()
    for worker in (a, b):  # one kept article, no loop
        x, y = worker.index.get("x"), worker.index.get("y")
        assert (x.root, y.root) == (("x", "x") if ours_first else ("y", "y"))
