"""The failure classes of issue 12, through the whole core (text path, learned boilerplate,
decision): templated reports, shared footers without a source, short articles, the root a
duplicate points at, and verdicts held until the copies decided meanwhile are known."""

from __future__ import annotations

from typing import Any

import orjson

from streams.core.config import CoreConfig
from streams.core.fingerprint_log import decode_record, encode_record
from streams.core.hold import decision_order
from streams.core.outcome import Outcome
from streams.core.pipeline import Deduplicator
from streams.core.prepare import prepare_total
from streams.core.records import RawMessage
from tests.core.dedup.test_match import short_pair

CONFIG = CoreConfig()
CLOSE = (
    "The FTSE 100 closed {} at {} points on {}, with {} risers and {} fallers.",
    "Harlow Mining led the board, {} at {}p, after a broker upgrade.",
    "Sterling rose {} against the dollar to ${}, while Brent crude traded at ${} a barrel.",
    "The mid-cap FTSE 250 ended {} at {}, and AIM closed at {}.",
)
MONDAY = ("up 0.54%", "8,108.56", "Monday", "29", "49", "up 11p", "3,743", "0.59%", "1.2926",
          "86.42", "down 1.15%", "21,171.34", "728.90")
TUESDAY = ("down 0.21%", "8,091.30", "Tuesday", "41", "58", "down 4p", "3,739", "0.12%",
           "1.2911", "85.97", "up 0.32%", "21,238.02", "731.15")
FOOTER = (
    "Ellen Marsh reports on coastal communities for the Courier Trust, a charity that funds "
    "local reporting in the north-west; her work is free to read and free to republish.",
    "Tips and corrections go to the desk at any hour and we read every message; the Trust "
    "answers complaints within ten working days and publishes its corrections every Friday.",
    "The Courier Trust takes no money from the councils, ports or companies it reports on, "
    "and its accounts, its donors over a hundred pounds and its editorial code are online.",
)
STORIES = (
    "The evening ferry to Mull was cancelled for a third day as gales kept the harbour shut.",
    "A new bakery opened on Quay Street, the first shop to open there since the flood.",
    "Volunteers cleared two tonnes of plastic from the beach at Ardmore on Saturday morning.",
    "The lifeboat crew rescued two kayakers who were swept past the point by the ebb tide.",
)


class Stream:
    """One worker's core, fed envelopes with increasing offsets."""

    def __init__(self, worker: str = "w") -> None:
        self.dedup = Deduplicator(CONFIG, worker=worker)
        self.offset = 0

    def raw(self, article_id: str, paragraphs: tuple[str, ...] | list[str], ts: int,
            **fields: Any) -> RawMessage:
        value = orjson.dumps({"id": article_id, "body": "\n".join(paragraphs), **fields})
        self.offset += 1
        return RawMessage("articles.raw", 0, self.offset, None, value, ts)

    def send(self, article_id: str, paragraphs: tuple[str, ...] | list[str], ts: int,
             **fields: Any) -> Outcome:
        return self.dedup.process(self.raw(article_id, paragraphs, ts, **fields),
                                  now_ms=10_000 + self.offset)


def report(figures: tuple[str, ...]) -> list[str]:
    values = iter(figures)
    return [line.format(*(next(values) for _ in range(line.count("{}")))) for line in CLOSE]


def verdict(outcome: Outcome) -> tuple[str, str | None]:
    return outcome.verdict, outcome.outputs[0].value.get("duplicate_of")


# -- templated reports -----------------------------------------------------------------------
def test_templated_reports_with_other_figures_are_different_articles() -> None:
    stream = Stream()
    assert verdict(stream.send("mon", report(MONDAY), 1_000)) == ("enriched", None)
    assert verdict(stream.send("tue", report(TUESDAY), 2_000)) == ("enriched", None)


def test_a_report_re_sent_with_the_same_figures_is_a_duplicate() -> None:
    stream = Stream()
    stream.send("mon", report(MONDAY), 1_000)
    reflowed = [line.replace(", ", ",  ") for line in report(MONDAY)]
    outcome = stream.send("mon-again", ["Markets report", *reflowed], 2_000)
    assert verdict(outcome) == ("duplicate", "mon")


# -- shared footer, no source -----------------------------------------------------------------
def test_different_short_articles_sharing_a_footer_without_source_stay_apart() -> None:
    stream = Stream()
    outcomes = [stream.send(f"s{i}", (story, *FOOTER), 1_000 * (i + 1))
                for i, story in enumerate(STORIES)]
    assert [o.verdict for o in outcomes] == ["enriched"] * 4  # from the first pair on
    assert outcomes[3].learned_removed == 3  # by then the fallback table knows the footer


def test_a_copy_with_the_footer_still_matches_its_original() -> None:
    stream = Stream()
    stream.send("original", STORIES, 1_000)
    copy = stream.send("copy", (*STORIES, FOOTER[0]), 2_000)
    assert verdict(copy) == ("duplicate", "original")


def test_a_footer_that_only_copies_carry_is_learned_from_them() -> None:
    stream = Stream()
    towns = (("Oban", "harbour", "pier"), ("Tobermory", "distillery", "car park"),
             ("Portree", "school", "sports hall"))
    for i, (town, place, building) in enumerate(towns):
        body = (
            f"Councillors in {town} approved plans for the {place} after a long debate that "
            f"ran late into the evening and divided the chamber.",
            f"Objectors said the new {building} would bring traffic to narrow streets, while "
            f"supporters of the {place} pointed to the jobs it would create in {town}.",
            f"Work on the {building} in {town} is expected to begin in the spring, subject to "
            f"a final review by the planning committee.",
        )
        stream.send(f"wire{i}", body, 1_000 + i, source="wire")
        copy = stream.send(f"courier{i}", (*body, FOOTER[0]), 2_000 + i, source="courier")
        assert verdict(copy) == ("duplicate", f"wire{i}")
    # the copies counted what they added (the footer), never the story they share
    prepared = prepare_total(stream.raw("x", ("An own story.", FOOTER[0]), 0), CONFIG)
    keys = prepared.paragraph_keys  # type: ignore[union-attr]
    learned = stream.dedup.stats.boilerplate_keys("courier", keys, 20_000)
    assert learned == frozenset(keys[1:])
    assert stream.dedup.stats.boilerplate_keys("wire", keys, 20_000) == frozenset()


NEWSLETTER = (
    "Sign up to the Courier's morning briefing for the day's local stories, weather warnings, "
    "ferry times and road closures, sent before seven o'clock every weekday.",
    "Our reporters cover eleven island communities from four offices, and readers can suggest "
    "a story, a correction or a photograph through the form on every page.",
    "Community notices, from lost dogs to ceilidh dates, are published free of charge each "
    "Thursday when they reach the Quay Street office by noon on Tuesday.",
)


SIDEBAR = (
    "Most read this week: the harbour master's last day, the Ardmore beach clean, the new "
    "timetable for the winter ferries and the row over parking charges at the pier.",
    "The Courier is printed in Oban on recycled paper and delivered to every island shop by "
    "the first boat, or by post to readers abroad for a small yearly subscription.",
    "Advertising enquiries, photograph sales and back issues are handled by the front desk, "
    "open from nine to five on weekdays and from ten to one on Saturdays.",
)


def test_a_copy_is_an_exact_duplicate_after_its_source_learned_more_boilerplate() -> None:
    """The original was decided with one block learned, its copy with two: their
    fingerprints differ, their whole texts do not (found by a user on WCXB pages sent under
    one source, 2026-12-04: the copy was kept)."""
    stream = Stream()
    first = (*FOOTER, *SIDEBAR)
    for i, story in enumerate(STORIES[1:]):
        stream.send(f"x{i}", (story, *first), 1_000 + i, source="courier")
    article = (STORIES[0], *first, *NEWSLETTER)
    original = stream.send("original", article, 2_000, source="courier")
    assert (verdict(original), original.learned_removed) == (("enriched", None), 6)
    for i, story in enumerate(STORIES[1:3]):
        stream.send(f"y{i}", (story, *NEWSLETTER), 3_000 + i, source="courier")
    copy = stream.send("copy", article, 4_000, source="courier")
    assert (verdict(copy), copy.learned_removed, copy.match) == (
        ("duplicate", "original"), 9, "exact")


# -- short articles ----------------------------------------------------------------------------
def test_short_articles_just_under_the_threshold_are_not_merged_on_a_noisy_estimate() -> None:
    base, other = short_pair()  # exact Jaccard 0.509, MinHash estimate 0.672
    stream = Stream()
    stream.send("a", [" ".join(base)], 1_000)
    assert verdict(stream.send("b", [" ".join(other)], 2_000)) == ("enriched", None)


# -- duplicate_of is the root, the same on every replay -------------------------------------
def test_a_change_of_root_is_published_and_replays_repeat_the_current_root() -> None:
    stream = Stream()
    body = (STORIES[0], STORIES[1], STORIES[2])
    stream.send("later", body, 3_000)
    dup = stream.send("copy", body, 4_000)
    assert verdict(dup) == ("duplicate", "later")
    earliest = stream.send("earliest", body, 1_000)  # arrives last, is earliest
    records = [(o.key, o.value.get("duplicate_of"), o.value.get("supersedes"))
               for o in earliest.outputs]
    assert records == [
        ("earliest", None, None),
        ("later", "earliest", "kept"),  # published kept, now a duplicate
        ("copy", "earliest", "duplicate_of"),  # its root changed: never silently
        ("later", None, None),  # the stories topic: story "later" is renamed "earliest"
    ]
    assert (earliest.corrections, earliest.root_changes) == (1, 1)
    replayed_copy = stream.dedup.process(stream.raw("copy", body, 4_000), now_ms=20_000)
    assert verdict(replayed_copy) == ("duplicate", "earliest")
    replayed = stream.dedup.process(stream.raw("earliest", body, 1_000), now_ms=20_001)
    assert [(o.key, o.value.get("supersedes")) for o in replayed.outputs] == [
        ("earliest", None), ("later", "kept"), ("copy", "duplicate_of")]


# -- fewer corrections: event-time order and held verdicts ----------------------------------
def test_a_batch_is_decided_in_event_time_order() -> None:
    stream = Stream()
    body = (STORIES[0], STORIES[1])
    batch = [stream.raw("late", body, 5_000), stream.raw("early", body, 1_000)]
    ordered = decision_order([prepare_total(raw, CONFIG) for raw in batch])
    outcomes = [stream.dedup.decide(p, now_ms=9_000) for p in ordered]
    assert [verdict(o) for o in outcomes] == [("enriched", None), ("duplicate", "early")]
    assert sum(o.corrections for o in outcomes) == 0


def test_a_held_verdict_overturned_before_release_is_published_corrected() -> None:
    stream = Stream()
    body = (STORIES[0], STORIES[1])
    held = stream.dedup.process(stream.raw("late", body, 5_000), now_ms=9_000, hold=True)
    earlier = stream.dedup.process(stream.raw("early", body, 1_000), now_ms=9_001, hold=True)
    # No correction for a verdict not yet published; the story takes the earlier id.
    assert [(o.kind, o.key) for o in earlier.outputs[1:]] == [("stories", "late")]
    released = stream.dedup.release([held, earlier], now_ms=9_100)
    assert [verdict(o) for o in released] == [("duplicate", "early"), ("enriched", None)]
    assert sum(o.corrections for o in released) == 0
    # the rewritten record carries its story, now named after its earliest article
    assert held.outputs[0].value["story_id"] == "late"
    assert [o.outputs[0].value["story_id"] for o in released] == ["early", "early"]


def test_a_race_with_another_worker_inside_the_hold_needs_no_correction() -> None:
    a, b = Stream("a"), Stream("b")
    body = (STORIES[0], STORIES[1])
    held = a.dedup.process(a.raw("late", body, 5_000), now_ms=9_000, hold=True)
    early = b.send("early", body, 1_000)  # decided at the same time elsewhere
    assert verdict(held) == ("enriched", None) and verdict(early) == ("enriched", None)
    for record in early.log_records:  # reaches worker a's replica during the hold
        copy = decode_record(encode_record(record.entry, record.paragraph_keys, record.worker))
        result = a.dedup.on_log_record(copy, catching_up=False, now_ms=9_050)
        assert result is not None and result.outputs == []
    [released] = a.dedup.release([held], now_ms=9_300)
    assert verdict(released) == ("duplicate", "early")
    assert a.dedup.hold.live_workers(9_300) == ["b"]
