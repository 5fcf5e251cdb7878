"""A worker's bookkeeping of its own records: in flight until read back, and what its newest
duplicates records named."""

from __future__ import annotations

import numpy as np

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.fingerprint_log import LogRecord
from streams.core.own_records import InFlight, Named
from streams.core.records import Output


def record(article_id: str, root: str) -> LogRecord:
    fingerprint = Fingerprint("0" * 32, np.zeros(128, dtype=np.uint32), 3)
    return LogRecord(IndexEntry(article_id, 1, fingerprint, root), (), "me")


def test_our_last_record_read_back_is_applied_again_only_when_another_came_between() -> None:
    in_flight = InFlight(limit=10)
    first, second = record("x", "x"), record("x", "a")
    in_flight.sent([first])
    in_flight.sent([second])
    in_flight.overtaken("x")
    assert in_flight.read_back("x") is None  # our second record is still in flight
    assert in_flight.read_back("x") is second
    assert len(in_flight) == 0
    in_flight.sent([record("y", "y")])
    assert "y" in in_flight and "x" not in in_flight
    assert in_flight.read_back("y") is None  # nobody else's record came in between
    assert "y" not in in_flight
    assert in_flight.read_back("z") is None  # not ours, or forgotten
    only = record("w", "w")
    in_flight.sent([only])
    in_flight.overtaken("w")
    assert in_flight.read_back("w") is only  # one record of ours, another's came between


def test_in_flight_records_past_the_limit_forget_the_oldest_article() -> None:
    in_flight = InFlight(limit=2)
    in_flight.sent([record("a", "a"), record("b", "b")])
    in_flight.overtaken("a")
    in_flight.sent([record("c", "c")])
    assert len(in_flight) == 2
    assert in_flight.read_back("a") is None  # dropped: its overtaking is not known any more


def duplicate(article_id: str, kept_id: str) -> Output:
    return Output("duplicates", article_id, {"duplicate_of_scoped_id": kept_id})


def test_named_follows_the_newest_record_of_each_article() -> None:
    named = Named(limit=10)
    named.published([duplicate("c", "k"), duplicate("b", "k"), duplicate("d", "j")])
    assert named.naming("k") == ["b", "c"]
    named.published([duplicate("c", "j")])  # c's newest record names j now
    assert (named.naming("k"), named.naming("j")) == (["b"], ["c", "d"])
    named.published([Output("enriched", "b", {})])  # b's newest record says it is kept
    assert (named.naming("k"), len(named)) == ([], 2)


def test_named_past_the_limit_forgets_the_oldest_article() -> None:
    named = Named(limit=2)
    named.published([duplicate("a", "k"), duplicate("b", "k"), duplicate("c", "k")])
    assert (named.naming("k"), len(named)) == (["b", "c"], 2)
