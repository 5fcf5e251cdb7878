"""The kill trials' stream and checks (bench/kill_trials.py), without a broker."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import orjson
import pytest

from bench import kill_trials
from tests.harness import Collected


def test_the_stream_holds_every_article_and_its_extras_deterministically() -> None:
    values = [orjson.dumps({"id": f"a{i}", "body": f"text {i}"}) for i in range(200)]
    values.append(b"not an envelope")  # resent only: it has no body to revise
    first = kill_trials.stream(values, random.Random(3), resend=0.2, revise=0.2, bare=0.2)
    again = kill_trials.stream(values, random.Random(3), resend=0.2, revise=0.2, bare=0.2)
    assert first == again
    sent = [orjson.loads(v) for v, _, _ in first if v != b"not an envelope"]
    assert {e["id"] for e in sent if "id" in e} == {f"a{i}" for i in range(200)}
    revised = [e for e in sent if e["body"].endswith(kill_trials.REVISION)]
    bare = [e for e in sent if "id" not in e]
    resent = len(first) - len(values) - len(revised) - len(bare)
    assert len(revised) > 20 and len(bare) > 20 and resent > 20
    assert all(0 <= p < kill_trials.PARTITIONS for _, p, _ in first)
    # A resend goes to the next partition, the same bytes.
    by_value: dict[bytes, list[int]] = {}
    for value, partition, _ in first:
        by_value.setdefault(value, []).append(partition)
    assert all(len(set(ps)) == len(ps) for ps in by_value.values())


def test_a_duplicate_whose_story_no_update_joins_to_its_originals_is_reported() -> None:
    got = Collected(records=[
        ("articles.enriched", {"id": "a", "story_id": "a"}),
        ("articles.enriched", {"id": "b", "story_id": "b"}),
        ("articles.duplicates", {"id": "c", "duplicate_of": "a", "story_id": "a"}),
        ("articles.duplicates", {"id": "d", "duplicate_of": "b", "story_id": "a"}),
        ("articles.duplicates", {"id": "e", "duplicate_of": "x", "story_id": "a"}),  # unknown
    ])
    assert kill_trials._duplicates_elsewhere(got, Collected()) == [("d", "b")]
    joined = Collected(records=[("articles.stories", {"story_id": "b", "merged_into": "a"})])
    assert kill_trials._duplicates_elsewhere(got, joined) == []


def test_the_first_kill_is_a_range_of_the_stream_before_its_middle() -> None:
    assert kill_trials._fractions("0.02-0.06") == (0.02, 0.06)
    assert kill_trials._fractions("0.1") == (0.1, 0.1)
    for bad in ("0.3-0.2", "0.2-0.5", "-0.1"):
        with pytest.raises(argparse.ArgumentTypeError):
            kill_trials._fractions(bad)


def test_seeds_are_ranges_and_lists() -> None:
    assert kill_trials._seeds("1-3,7,9-10") == [1, 2, 3, 7, 9, 10]


def test_a_trial_passes_only_with_every_verdict_no_conflict_and_clean_exits() -> None:
    good = kill_trials.Trial(1, 10, 10, 2, 1, {}, [], [0, 0])
    assert good.passed and "PASS" in good.line()
    assert not kill_trials.Trial(1, 10, 9, 2, 1, {}, [], [0, 0]).passed
    assert not kill_trials.Trial(1, 10, 10, 2, 1, {"a": {"s", "t"}}, [], [0, 0]).passed
    assert not kill_trials.Trial(1, 10, 10, 2, 1, {}, [("d", "b")], [0, 0]).passed
    assert not kill_trials.Trial(1, 10, 10, 2, 1, {}, [], [0, 1]).passed


def test_a_message_is_answered_by_its_verdict_or_a_correction_of_it() -> None:
    got = Collected(records=[
        ("articles.enriched", {"id": "a", "origin": {"topic": "articles.raw", "partition": 0,
                                                     "offset": 1}}),
        ("articles.duplicates", {"id": "b", "supersedes": "kept", "origin": {
            "topic": "articles.raw", "partition": 3, "offset": 79}}),
        ("articles.stories", {"story_id": "s", "merged_into": "t"}),
    ])
    assert kill_trials._answered(got) == {(0, 1), (3, 79)}


def test_the_trace_summary_finds_dropped_fetches_of_partitions_with_no_committed_offset(
    tmp_path: Path,
) -> None:
    # the lines bench/faust_trace writes, in a worker's log format (seed 106's race, shortened)
    (tmp_path / "w1-1.log").write_text(
        "[t] [629] [INFO] generation id 1 app consumers id 1 \n"
        "[t] [629] [WARNING] faust_trace seek committed={'articles.raw:2': 33} "
        "read={'articles.raw:1': None, 'articles.raw:2': 33} \n"
        "[t] [629] [WARNING] faust_trace dropped-fetch {'articles.raw:1': (0, 84), "
        "'articles.raw:2': (33, 40)} committed={'articles.raw:2': 33} \n"
        "[t] [629] [WARNING] faust_trace seek committed={'articles.raw:2': 33} "
        "read={'articles.raw:1': None, 'articles.raw:2': 33} \n"
        "[t] [629] [WARNING] faust_trace commit articles.raw:1 -> 87 (committed None, "
        "acked from [85, 86]) \n")
    (tmp_path / "w0-1.log").write_text(
        "[t] [1] [WARNING] faust_trace dropped-fetch {'articles.raw:0': (5, 9)} "
        "committed={} \n"
        "[t] [1] [WARNING] exception performing seek when flow not active boom \n"
        "[t] [1] [WARNING] faust_trace dropped-fetch {'articles.raw:3': (0, 9)} "
        "committed={} \n"
        "[t] [1] [WARNING] faust_trace dropped-fetch {'articles.raw:0': (5, 9)} "
        "committed={} \n"
        "[t] [1] [WARNING] faust_trace seek committed={'articles.raw:0': 5} read={} \n"
        "[t] [1] [WARNING] faust_trace skipped Skipping message <m> with generation_id 3 \n"
        "[t] [1] [WARNING] faust_trace dropped-inactive {'articles.raw:3': (7, 9)} "
        "committed={'articles.raw:3': 7} \n")
    summary = kill_trials.trace_summary(tmp_path.glob("w*.log"))
    assert summary.dropped_fetches == 4
    # the first drop of w0 has no seek after it (Faust's seek failed): not matched to the next
    assert summary.uncommitted == ["w0-1.log: articles.raw:3 from 0",
                                   "w1-1.log: articles.raw:1 from 0"]
    assert summary.skipped == 1
    assert summary.inactive == 1
    assert summary.line() == (
        "traced: 4 dropped fetch(es), 2 on a partition with no committed offset "
        "['w0-1.log: articles.raw:3 from 0', 'w1-1.log: articles.raw:1 from 0'], "
        "1 with paused partitions' records, "
        "1 skipped message(s)")
