"""Smoke test of the benchmark pieces on a tiny corpus, so ``make test`` catches breakage.

The real numbers come from ``make bench``; nothing here asserts a rate.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from pyinstrument import Profiler

from bench import backends, capacity, copies, e2e, growth, live_memory, replica, run, sharding
from bench.baselines import (
    DatasketchIndex,
    collected_as_a_worker,
    core_rates,
    datasketch_fingerprint,
    hotspots,
    worker_core_rate,
)
from streams.core.dedup.config import DedupConfig
from streams.core.dedup.decide import decide
from streams.core.dedup.model import IndexEntry
from streams.shell import collector

pytestmark = pytest.mark.bench_smoke


@pytest.fixture(scope="module")
def values() -> list[bytes]:
    return e2e.build_corpus(60, seed=3).values


def test_corpus_has_duplicates_and_pages() -> None:
    corpus = e2e.build_corpus(200, seed=3)
    assert len(corpus.values) == 200
    assert 0.15 <= corpus.duplicate_share <= 0.35
    assert corpus.formats["page"] > 0
    assert e2e.build_corpus(200, seed=3).values == corpus.values  # deterministic


def test_core_rates_and_growth_run(values: list[bytes], tmp_path: Path) -> None:
    assert core_rates(values[:8], repeat=1)["core_per_s"] > 0
    stream = worker_core_rate(values[:8])
    assert stream["articles"] == 8 and stream["worker_core_per_s"] > 0
    rows = growth.measure([100, 300], values[:4], rounds=1)
    assert [r["entries"] for r in rows] == [100, 300]
    assert all(r["process_us"] > 0 and r["rss_bytes_per_entry"] >= 0 for r in rows)
    spilled = growth.measure([300], values[:4], rounds=1, backend="compact",
                             spill_dir=str(tmp_path), restart_dir=str(tmp_path / "restart"))
    assert spilled[0]["spill"] and spilled[0]["spilled_bytes_per_entry"] > 0
    assert spilled[0]["restart"]["same_decisions"]


def test_datasketch_index_finds_a_near_duplicate() -> None:
    config = DedupConfig()
    words = [f"w{i % 97}x{i}" for i in range(300)]
    edited = [*words[:150], "changed", *words[151:]]
    original = datasketch_fingerprint(words, " ".join(words), config.minhash)
    copy = datasketch_fingerprint(edited, " ".join(edited), config.minhash)
    assert original.signature.dtype == np.uint32
    index = DatasketchIndex(config.lsh)
    index.add(IndexEntry("a", 1, original, root="a"))
    assert [e.id for e in index.candidates(copy)] == ["a"]
    decision = decide(copy, 2, "b", index, config)
    assert (decision.kept, decision.duplicate_of, decision.match) == (False, "a", "near")
    index.remove("a")
    assert index.candidates(copy) == []


def test_hotspots_of_a_profile() -> None:
    profiler = Profiler(interval=0.0005)
    profiler.start()
    sum(i * i for i in range(300_000))
    profiler.stop()
    assert profiler.last_session is not None
    found = hotspots(profiler.last_session.root_frame())
    assert found["total_s"] > 0 and found["self"]


def _report_results() -> dict[str, Any]:
    """A whole run's results, every run and measurement present, with round numbers."""
    results: dict[str, Any] = {
        "date": "today", "args": "", "elapsed_s": 60.0,
        "machine": {"nproc": 2, "cpu": "x", "ram_gb": 1, "python": "3.11", "kernel": "k",
                    "loadavg_start": 0.1, "loadavg_end": 0.2, "commit": "abc", "dirty": False},
        "corpus": {"messages": 10, "mean_bytes": 100, "duplicate_share": 0.2, "kinds": {},
                   "formats": {}},
        "runs": {name: {"articles_per_s": rate, "worker_cpu_s_per_1000": 1.0,
                        "broker_cpu_s_per_1000": 0.1, "peak_rss_mb": 100.0}
                 # in the order of run_plan (the interpolations read it)
                 for name, rate in (("trivial_faust", 1000.0), ("pipeline_1w", 600.0),
                                    ("dayone", 200.0), ("pipeline_1w_nostories", 690.0),
                                    ("pipeline_2w", 900.0), ("pipeline_1w_again", 642.0),
                                    ("pipeline_1core_nopool", 300.0),
                                    ("pipeline_2w_1core_each", 544.0),
                                    ("pipeline_1core_nopool_again", 340.0),
                                    ("datasketch", 100.0),
                                    ("pipeline_pages", 30.0), ("dayone_pages", 20.0),
                                    ("pipeline_pages_fast", 40.0),
                                    ("pipeline_pages_again", 34.0),
                                    ("pipeline_pages_1core", 14.0),
                                    ("pipeline_pages_2w_1core_each", 27.0),
                                    ("pipeline_pages_1core_again", 16.0))},
        "core": {"text_path_per_s": 500.0, "core_per_s": 400.0, "articles": 10,
                 "text_path_first_pass_per_s": 450.0, "core_first_pass_per_s": 375.0},
        "core_stream": {"worker_core_per_s": 360.0, "articles": 20},
        "core_stream_again": {"worker_core_per_s": 380.0, "articles": 20},
        "growth": [{"entries": 10_000, "process_us": 100.0, "decide_apply_us": 10.0,
                    "rss_bytes_per_entry": 1.0, "approx_bytes_per_entry": 1.0, "fill_s": 0.1},
                   {"entries": 1_000_000, "process_us": 110.0, "decide_apply_us": 11.0,
                    "rss_bytes_per_entry": 1_100.0, "approx_bytes_per_entry": None,
                    "spilled_bytes_per_entry": 540.0, "fill_s": 9.0,
                    "process_ratio_to_smallest_median": 1.1}],
        "copies": {"rows": [{"copies": 10, "ms_per_copy": 0.3, "ratio_to_smallest": 1.0,
                             "ratio_pooled": 1.0, "late_ms": 1.0, "late_log_records": 2,
                             "late_outputs": 13}],
                   "ratio_largest_to_smallest": 1.1, "smallest": 10, "largest": 10_000,
                   "late_log_records": 2},
        "capacity": {"cores": 2, "capacity": 1.9},
        "replica": {"messages": 10, "lag": 20, "rounds": 2, "remote_records": 5,
                    "us_per_remote_record_without": 500.0, "us_per_remote_record_with": 300.0,
                    "ratio_with_to_without": 0.6, "redecided_with": 1, "skipped_with": 3,
                    "redecided_without": 4, "same_outputs": True},
        "state": {"messages": 12_000, "warm_up": 8_000, "entries_added": 11_500, "stories": 9,
                  "rss_bytes_per_entry": 6_543.2},
    }
    results["runs"]["pipeline_1core_nopool_again"]["worker_cpu_s_per_1000"] = 1.2
    results["ratios"] = run.ratios(results)
    results["targets"] = run.verdicts(results["ratios"])
    return results


def test_shell_cost_pairs_each_one_core_run_with_the_core_measured_before_it() -> None:
    results = _report_results()
    # only the first pair measured: 300 / 360, not the runs' mean over it (320 / 360)
    del results["core_stream_again"]
    assert run.ratios(results)["one_core_no_pool_vs_core"] == 0.833
    # the first one-core run missing: the second pair alone, 340 / 380
    results["core_stream_again"] = {"worker_core_per_s": 380.0, "articles": 20}
    del results["runs"]["pipeline_1core_nopool"]
    assert run.ratios(results)["one_core_no_pool_vs_core"] == 0.895
    del results["core_stream"], results["core_stream_again"]
    assert run.ratios(results)["one_core_no_pool_vs_core"] is None


def test_report_renders_ratios_and_targets() -> None:
    results = _report_results()
    # the pipeline's defaults (600, then 642 four runs later) interpolated at the place of
    # each run between them: day-one 1/4 of the way (610.5), stories off 1/2 (621), 2 workers
    # 3/4 (631.5); the runs outside the bracket against the mean, 621
    assert results["ratios"]["pipeline_vs_trivial"] == 0.621
    assert results["ratios"]["pipeline_vs_dayone"] == 3.053
    assert results["ratios"]["two_vs_one_worker"] == 1.425
    assert results["ratios"]["stories_on_vs_off"] == 0.9  # 621 / 690
    # the shell's cost: each one-core run without the pool against the pure core as a worker
    # builds it, measured just before it on the same messages, mean of 300 / 360 and
    # 340 / 380; the informative rows divide the runs' mean (320) by the prefix's best pass
    # with the in-memory index, 320 / 400, and by its first pass
    assert results["ratios"]["one_core_no_pool_vs_core"] == 0.864
    assert results["ratios"]["one_core_no_pool_vs_core_prefix"] == 0.8
    assert results["ratios"]["one_core_no_pool_vs_core_first_pass"] == 0.853
    # one worker keeps 600/s and 642/s x 1.1 ms = 0.66 and 0.706 cores busy: 2 workers can
    # give 2 / 0.683
    assert results["ratios"]["cores_busy_1w"] == 0.68
    assert results["ratios"]["two_vs_one_ceiling"] == 2.928
    # every core busy at the one-core runs' mean 1.2 ms per article (1.1 and 1.3, broker
    # included): 1,667/s against the day-one 200/s
    assert results["ratios"]["dayone_ceiling"] == 8.333
    assert results["ratios"]["host_capacity"] == 1.9
    # scale-out with a core per worker, all without the pool: 544 / 320
    assert results["ratios"]["two_vs_one_worker_1core_each"] == 1.7
    # real pages: the default runs (30, 34) at day-one's place, a third of the way, 31.33 / 20;
    # fast two thirds of the way, 40 / 32.67, and against the day-one run before it, 40 / 20
    assert results["ratios"]["pipeline_vs_dayone_pages"] == 1.567
    assert results["ratios"]["fast_vs_thorough_extraction_pages"] == 1.224
    assert results["ratios"]["pipeline_fast_vs_dayone_pages"] == 2.0
    # real pages, scale-out with a core per worker: 27 / mean(14, 16)
    assert results["ratios"]["two_vs_one_worker_1core_each_pages"] == 1.8
    assert [t["met"] for t in results["targets"]] == [
        True, True, True, False, True, True, True, True, True, False]
    assert results["targets"][-1]["by"] == "missed by 76.00 over the limit"  # 1,100 vs 1,024
    assert results["targets"][3]["by"] == "missed by 11% (needs 1.1x)"  # 1.425 < 1.6 <= 2.93
    # a target above what the host allows says so, and why
    capped = run.verdicts({"two_vs_one_worker": 0.8, "two_vs_one_ceiling": 1.16,
                           "pipeline_vs_dayone": 0.5, "dayone_ceiling": 0.89})
    assert capped[3]["met"] is False
    assert capped[3]["by"] == ("missed by 50% (needs 2.0x); out of reach here: at most ~1.16 "
                               "(one worker already keeps its cores busy: cores / cores busy; "
                               "an estimate from this run's CPU)")
    assert capped[2]["by"].startswith("missed by 80% (needs 5.0x); out of reach here: at most "
                                      "~0.89 (at the pipeline's own CPU per article")
    # a ceiling at or above the target adds nothing
    assert run.verdicts({"two_vs_one_worker": 0.8, "two_vs_one_ceiling": 1.6})[3]["by"] == (
        "missed by 50% (needs 2.0x)")
    text = run.render_markdown(results, "hand-written")
    assert "| 1,000,000 | 110.0 | 11.0 | 1,100 | - | 540 | 9.0 |" in text
    assert "missed by" in text and "hand-written" in text
    assert ("| pipeline, 1 worker on one core, pool off (INGEST_PROCESSES=0) | 300.0 |"
            in text)
    assert "| (c) whole pure core, first pass only (each message once) | 375.0 | 2.67 |" in text
    assert "in-memory index) | 0.85 | - | informative |" in text
    assert "(c) whole pure core as a worker builds it" in text
    assert "until 2026-12-03) | 0.80 | - | informative |" in text
    assert "both busy at once (`bench.capacity`) | 1.90 | - | informative |" in text
    assert "remote kept article (`bench.replica`) | 0.60 | - | informative |" in text
    assert ("500.0 us a remote record re-deciding every kept article (4), 300.0 us with log "
            "positions (1 re-decided, 3 skipped): 0.6x; same outputs: True") in text
    assert "| ceiling of 2 workers / 1 worker: cores / cores busy | 2.93 |" in text
    assert ("bench corpus, 11,500 entries after 8,000 messages; not a ratio) | 6,543 | - | "
            "informative |") in text
    assert "| real pages (WCXB): day-one alternative | 20.0 |" in text
    assert "| real pages (WCXB): pipeline, 2 workers on a core each, pool off | 27.0 |" in text
    assert "on real whole pages (WCXB dev; A-B-A) | 1.80 | - | informative |" in text
    assert "copies: 10,000 vs 10 per copy = 1.10 (target <= 1.2: met)" in text
    assert "re-root records: 2 (target O(1): met)" in text
    assert "### Runs that failed" not in text  # none failed


def test_report_lists_the_runs_that_failed() -> None:
    results = _report_results()
    results["failed_runs"] = {"pipeline_2w": "stalled: 14017 of 20000 messages consumed, none "
                              "for 91 s\npipeline_2w-w1: /readyz 200 {}; consumed 9000\n\n"
                              "  stacks and log tail: /tmp/x/pipeline_2w-w1.stall.txt\nmore"}
    text = run.render_markdown(results, "")
    assert ("### Runs that failed\n\n- `pipeline_2w`: stalled: 14017 of 20000 messages "
            "consumed, none for 91 s / pipeline_2w-w1: /readyz 200 {}; consumed 9000 / stacks "
            "and log tail: /tmp/x/pipeline_2w-w1.stall.txt\n") in text


def test_the_readme_summary_is_rewritten_from_the_same_results(tmp_path: Path) -> None:
    results = _report_results()
    summary = run.readme_summary(results)
    assert summary.startswith(
        "From `make bench` on today (commit `abc`, 1.0 min, load average 0.10 at start and "
        "0.20 at end); BENCHMARKS.md has the whole run.\n")
    # the targets as BENCHMARKS.md gives them, then the ratios a reader of the README needs
    assert ("| pipeline / day-one alternative (articles/s) | 3.05 | >= 2.5 | met, +22% over |"
            in summary)
    assert "| per-article cost (process) at 1M / at 10k entries | 1.10 | <= 1.2 |" in summary
    assert "| real whole pages (WCXB dev): pipeline / day-one | 1.57 | - | informative |" in summary
    assert "| ceiling of pipeline / day-one on this host | 8.33 | - | informative |" in summary
    # every run behind a ratio shown, not the pure core's rates, and the growth of the index
    assert "| (b') day-one alternative: one Faust agent, trafilatura defaults" in summary
    assert "| real pages (WCXB): pipeline, 1 worker, INGEST_EXTRACTION=fast | 40.0 |" in summary
    assert "| pipeline, 2 workers | 900.0 |" in summary
    assert "(c) whole pure core" not in summary
    assert "| 1,000,000 | 110.0 | 11.0 | 1,100 | - | 540 | 9.0 |" in summary
    readme = tmp_path / "README.md"
    readme.write_text(f"# R\n\n{run.SUMMARY_START}\nold numbers\n{run.SUMMARY_END}\nafter\n")
    assert run.update_readme(results, readme) is True
    assert readme.read_text() == (
        f"# R\n\n{run.SUMMARY_START}\n{summary}{run.SUMMARY_END}\nafter\n")
    assert run.update_readme(results, readme) is True  # a second run replaces its own block
    assert readme.read_text().count("From `make bench`") == 1


def test_a_run_between_two_is_compared_with_them_interpolated_at_its_place() -> None:
    runs = {name: {"articles_per_s": rate} for name, rate in
            (("a", 100.0), ("b", 50.0), ("c", 60.0), ("a2", 140.0), ("after", 1.0))}
    assert run.interpolated(runs, "a", "a2", "b") == pytest.approx(100.0 + 40.0 / 3)
    assert run.interpolated(runs, "a", "a2", "c") == pytest.approx(100.0 + 80.0 / 3)
    # outside the bracket, or a run missing: no estimate (the ratio is "not measured")
    assert run.interpolated(runs, "a", "a2", "after") is None
    assert run.interpolated(runs, "a", "missing", "b") is None
    partial = run.ratios({**_report_results(), "runs": {
        name: value for name, value in _report_results()["runs"].items()
        if name != "pipeline_1w_again"}})
    assert partial["pipeline_vs_dayone"] is None and partial["stories_on_vs_off"] is None
    assert partial["pipeline_vs_trivial"] == 0.6  # the mean of the one default run left


def test_the_second_default_run_is_left_out_when_it_brackets_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    measured: list[str] = []
    monkeypatch.setattr(run, "_measure", lambda results, name, *a, **k: measured.append(name))
    monkeypatch.setattr(run, "_core_stream", lambda *a: None)
    run._run_e2e([b"x"], {"trivial", "onecore", "datasketch", "dayone", "nostories", "scale"},
                 tmp_path, {"runs": {}})
    assert measured == ["pipeline_1w"]
    measured.clear()
    run._run_e2e([b"x"], {"trivial", "onecore", "datasketch", "nostories", "scale"},
                 tmp_path, {"runs": {}})
    assert measured == ["pipeline_1w", "dayone", "pipeline_1w_again"]


def test_a_readme_without_the_markers_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# R\n{run.SUMMARY_END} before {run.SUMMARY_START}\n")
    assert run.update_readme(_report_results(), readme) is False
    assert readme.read_text() == f"# R\n{run.SUMMARY_END} before {run.SUMMARY_START}\n"
    assert "README summary not updated: markers" in capsys.readouterr().out


def test_page_corpus_wraps_real_pages_and_leaves_out_oversized_ones(tmp_path: Path) -> None:
    (tmp_path / "b.html").write_bytes("<html><body><p>Zürich</p></body></html>".encode())
    (tmp_path / "a.html").write_bytes("<html><body><p>caf\xe9</p></body></html>".encode("cp1252"))
    (tmp_path / "c.html").write_bytes(b"<html><body><p>" + b"x" * 2000 + b"</p></body></html>")
    (tmp_path / "notes.txt").write_text("not a page")
    corpus = e2e.build_page_corpus(tmp_path, count=5, max_bytes=1000)
    envelopes = [orjson.loads(v) for v in corpus.values]
    assert [e["id"] for e in envelopes] == ["page-a", "page-b"]  # name order, c too large
    assert envelopes[0]["body"] == "<html><body><p>caf\u00e9</p></body></html>"  # cp1252 decoded
    assert envelopes[1]["content_type"] == "text/html"
    assert corpus.kinds == {"page": 2} and corpus.left_out == 1
    assert corpus.summary()["left_out"] == 1
    assert len(e2e.build_page_corpus(tmp_path, count=1).values) == 1
    with pytest.raises(FileNotFoundError):
        e2e.build_page_corpus(tmp_path / "missing", count=1)


def test_capacity_alternates_one_core_and_two(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, ...]] = []
    rates = iter([100.0, 190.0, 110.0, 170.0, 90.0])

    def together(cores: list[int], messages: int) -> float:
        calls.append(tuple(cores))
        return next(rates)

    monkeypatch.setattr(capacity, "_together", together)
    monkeypatch.setattr(capacity.os, "sched_getaffinity", lambda pid: {5, 3, 9})
    result = capacity.measure(messages=10, rounds=2)
    assert calls == [(3,), (3, 5), (3,), (3, 5), (3,)]  # A-B-A on the first allowed cores
    assert result["alone_per_s"] == [100.0, 110.0, 90.0]
    assert result["pair_per_s"] == [190.0, 170.0]
    assert result["capacity"] == 1.8  # mean pair 180 / mean alone 100
    monkeypatch.setattr(capacity.os, "sched_getaffinity", lambda pid: {4})
    assert capacity.measure(messages=10, rounds=1) == {"cores": 1, "capacity": None}
    with pytest.raises(ValueError):
        capacity.measure(messages=0)


def test_pair_rate_spans_the_first_start_to_the_last_end() -> None:
    passes = [{"messages": 100, "started": 10.0, "ended": 11.0},
              {"messages": 100, "started": 10.2, "ended": 12.0}]
    assert capacity.pair_rate(passes) == 100.0  # 200 messages in 2 s, not 100/1 + 100/1.8


def test_the_plan_brackets_the_runs_it_compares(monkeypatch: pytest.MonkeyPatch) -> None:
    names = [name for _, name, _, _, _ in run.run_plan()]
    # day-one, stories off and two workers between the two runs of the defaults
    between = [names.index(n) for n in ("dayone", "pipeline_1w_nostories", "pipeline_2w")]
    assert names.index("pipeline_1w") < min(between) < max(between) < names.index(
        "pipeline_1w_again")
    assert names.index("pipeline_1core_nopool") < names.index("pipeline_2w_1core_each") < (
        names.index("pipeline_1core_nopool_again"))
    pinned = {name: (workers, per_worker) for _, name, _, workers, per_worker in run.run_plan()}
    assert pinned["pipeline_2w_1core_each"] == (2, e2e.one_core_no_pool)
    assert all(p is None for n, (_, p) in pinned.items() if n != "pipeline_2w_1core_each")
    monkeypatch.setattr(e2e, "allowed_cores", lambda: [2, 7])
    assert e2e.one_core_no_pool(1)[:5] == ["taskset", "-c", "7", "env", "INGEST_PROCESSES=0"]


def test_a_failed_run_is_left_out_and_the_rest_counts(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("worker exited")

    monkeypatch.setattr(e2e, "run_throughput", fail)
    results: dict[str, Any] = {"runs": {"dayone": {"articles_per_s": 1.0}}}
    run._measure(results, "pipeline_1w", e2e.WORKER, [b"x"], tmp_path)
    assert results["runs"] == {"dayone": {"articles_per_s": 1.0}}
    assert results["failed_runs"] == {"pipeline_1w": "worker exited"}


def test_capacity_compares_two_pinned_cores_with_one() -> None:
    result = capacity.measure(messages=12, rounds=1)
    if result["cores"] < 2:
        assert result["capacity"] is None
        return
    assert len(result["alone_per_s"]) == 2 and len(result["pair_per_s"]) == 1
    assert result["capacity"] > 0


def test_copies_of_one_story_are_measured_with_their_late_records() -> None:
    result = copies.measure([3, 12], decisions=12, chunks=4)
    assert [r["copies"] for r in result["rows"]] == [3, 12]
    assert all(r["ms_per_copy"] > 0 for r in result["rows"])
    assert result["rows"][0]["ratio_to_smallest"] == 1.0
    assert result["ratio_largest_to_smallest"] == result["rows"][1]["ratio_to_smallest"] > 0
    # the late earliest copy: its own record and the superseded kept article's, at any size
    assert [r["late_log_records"] for r in result["rows"]] == [2, 2]
    # enriched, the kept article's correction, one per copy, the story renamed
    assert [r["late_outputs"] for r in result["rows"]] == [6, 15]
    lines = copies.summary_lines(result)
    assert lines[-1] == "re-root records: 2 (target O(1): met)"
    assert lines[-2].startswith("copies: 12 vs 3 per copy = ")


@pytest.mark.broker
def test_one_pipeline_worker_end_to_end(values: list[bytes], tmp_path: Path) -> None:
    # Batches of 4: the rate and CPU are measured between the first and the last verdict, and
    # one batch's verdicts can share one millisecond (a fresh-clone run measured no CPU).
    worker = ["env", "INGEST_BATCH_SIZE=4", *e2e.WORKER]
    result = e2e.run_throughput("pipeline_1w", worker, values[:24], tmp_path, timeout_s=60)
    assert result.outputs == 24
    assert result.rate > 0 and result.worker_cpu_s > 0
    assert result.extra["state_bytes_per_article"] > 0


def test_backends_decide_identically(values: list[bytes]) -> None:
    summary = backends.compare(values[:40])
    assert summary["identical"], summary
    assert set(summary["scenarios"]) == {"arrival", "replay", "resend", "two_workers", "expiry"}


def test_sharding_simulation_matches_the_unsharded_index(values: list[bytes]) -> None:
    result = sharding.simulate(values[:30], shards=4, replicas=2, bytes_per_entry=1000.0)
    assert result["identical_to_unsharded"]
    assert result["records_per_article"]["probe_delivered"] == 4.0
    assert result["window_10M_per_day_14_days"]["gb_per_shard"] == 35.0


def test_replica_bench_skips_re_decisions_and_publishes_the_same() -> None:
    items = replica.prepared_corpus(60)
    without = replica.exchange(items, lag=5, positions=False)
    with_positions = replica.exchange(items, lag=5, positions=True)
    assert with_positions["digest"] == without["digest"]
    assert without["skipped"] == 0 < with_positions["skipped"]
    assert with_positions["redecided"] + with_positions["skipped"] == without["redecided"]
    assert with_positions["remote_records"] == without["remote_records"] > 0


def test_the_rate_is_measured_from_the_end_of_every_workers_first_batch() -> None:
    # One worker: a first batch of 3 records at once (and one 200 ms later), then batches.
    one = [1000, 1000, 1010, 1200, 2000, 2000, 3000]
    assert e2e.steady_start([one]) == 1200
    # Two workers: the later one's first batch ends at 1600; its records at 1500 and 1600
    # are before the window, those of the other worker after 1600 are in it.
    assert e2e.steady_start([one, [1500, 1600, 2500]]) == 1600
    # A worker that outputs record by record loses its first 250 ms of records and time.
    steady = list(range(0, 1000, 10))
    assert e2e.steady_start([steady]) == 250


def test_the_pure_core_is_timed_under_a_workers_collector_settings() -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    with collected_as_a_worker():
        assert gc.get_threshold() == collector.THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    # what a caller froze before stays frozen
    gc.freeze()
    frozen = gc.get_freeze_count()
    try:
        with collected_as_a_worker():
            pass
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()


def test_state_memory_splits_the_growth_by_layer(tmp_path: Path) -> None:
    from bench import state_memory

    assert state_memory.layer_of("/x/streams/core/stories/state.py") == "stories"
    assert state_memory.layer_of("/x/streams/core/dedup/lsh.py") == "index"
    assert state_memory.layer_of("/x/streams/core/text/learned.py") == "learned boilerplate"
    assert state_memory.layer_of("/x/streams/core/text/normalize.py") == "text path caches"
    assert state_memory.layer_of("/usr/lib/python3.11/heapq.py") == "other"
    texts = tmp_path / "texts.jsonl"
    texts.write_bytes(b"".join(
        orjson.dumps({"id": f"t{i}", "text": f"Story {i} about harbour number {i * 7}. "
                      f"The council met on day {i} and voted {i} to {i + 1}.\n" * 4}) + b"\n"
        for i in range(12)))
    values = state_memory.messages(texts, 12)
    assert len(values) == 12 and orjson.loads(values[3])["id"] == "t3"
    result = state_memory.measure(values, 4, traced=True)
    assert (result["messages"], result["warm_up"], result["entries_added"]) == (8, 4, 8)
    assert result["stories"] >= 1 and "stories" in result["by_layer"]
    assert result["traced_bytes_per_entry"] == pytest.approx(
        sum(result["by_layer"].values()), abs=1.0)


def test_live_memory_fits_a_line_through_its_points() -> None:
    # RSS 100 MB + 3,000 B an entry, the heap above, below, below, above the line.
    points = [(1000.0, 100e6 + 3e6 + 5e5), (2000.0, 100e6 + 6e6 - 5e5),
              (3000.0, 100e6 + 9e6 - 5e5), (4000.0, 100e6 + 12e6 + 5e5)]
    assert live_memory.slope(points) == pytest.approx(3000.0)  # noise symmetric: no slope
    with pytest.raises(ValueError, match="two different x"):
        live_memory.slope([(5.0, 1.0), (5.0, 2.0)])
