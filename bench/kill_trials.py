"""Kill trials: workers SIGKILLed mid-stream on a real broker, then every output checked.

    python -m bench.kill_trials --seeds 1-5                      # the bench.e2e corpus
    python -m bench.kill_trials --seeds 1-5 --ecbplus DIR        # real news (ECB+, local copy)
    python -m bench.kill_trials --seeds 3 --workers 2 --resend 0.2
    python -m bench.kill_trials --seeds 1-5 --kill-starting     # a third kill, while starting
    python -m bench.kill_trials --seeds 1-5 --first-kill 0.02-0.06  # before the first commit
    python -m bench.kill_trials --seeds 1-5 --trace    # Faust's offset bookkeeping, summed up

Each trial starts an embedded Tansu broker and ``--workers`` worker processes on a
4-partition topic, produces the corpus in chunks (with extra messages: ``--resend``, the same
bytes again on another partition; ``--revise``, the same id with a sentence added; ``--bare``,
the body alone, its id derived from its content), SIGKILLs the last worker twice (at 15-35 %,
``--first-kill``, and 50-70 % of the messages) and restarts it on its data directory after
1-4 s. Once every message has a verdict the workers stop and all output topics are read. A
trial fails when:

* a message no record answers (a verdict, a correction or a dead letter): a lost message;
* an article's records name stories that the story updates never join
  (``tests.harness.story_conflicts``: a consumer's union of ``articles.stories``);
* a duplicate's story is not its ``duplicate_of``'s story, both resolved through every update.

With ``--ecbplus`` it also reports the labelled copy pairs (``python -m bench.ecbplus_pairs``)
whose two articles both ended kept, to compare with one worker's ``make eval`` (order decides
some of them: copies are not transitive). Each trial leaves its worker logs and every output
record (``records.jsonl``) in a temporary folder it names. A developer tool run from the
repository root (it uses the test harness); a trial takes 1-3 minutes on 2 cores. Exit status
1 when a trial fails.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench import e2e
from streams import settings as settings_mod
from streams.core.fingerprint_log import LogRecord, decode_log_value
from streams.core.stories.model import StoryUpdate
from streams.kafka.broker import EmbeddedBroker, ensure_topics
from streams.kafka.clients import make_reader, poll_records
from streams.settings import Settings
from tests.harness import (
    Collected,
    Worker,
    collect,
    produce_placed,
    read_all,
    story_conflicts,
    story_resolver,
    true_end_offsets,
)

BASE_MS = 1_780_000_000_000
PARTITIONS = 4
CHUNK = 40  # messages produced at a time, 0.25 s apart
REVISION = "\nThis story has been updated with more details."
TRACE = Path(__file__).resolve().parent / "faust_trace"  # --trace: on the workers' PYTHONPATH
_TRACED = re.compile(r"faust_trace (seek|dropped-fetch|dropped-inactive|skipped) (.*)$")


@dataclass
class TraceSummary:
    """What ``bench/faust_trace`` logged in a trial's workers (``--trace``)."""

    dropped_fetches: int = 0
    # dropped fetches holding a partition the next seek found with no committed offset: the
    # race ``streams.kafka.faust_compat.rewind_uncommitted_partitions`` mends
    uncommitted: list[str] = field(default_factory=list)  # "log file: partition from offset"
    skipped: int = 0  # messages Faust skipped as stale or dropped as already read
    inactive: int = 0  # fetches with records of paused partitions, dropped without a seek

    def line(self) -> str:
        return (f"traced: {self.dropped_fetches} dropped fetch(es), "
                f"{len(self.uncommitted)} on a partition with no committed offset "
                f"{self.uncommitted[:3] or ''}, {self.inactive} with paused partitions' "
                f"records, {self.skipped} skipped message(s)")


def trace_summary(logs: Iterable[Path]) -> TraceSummary:
    """Read the ``faust_trace`` lines of worker logs (see :class:`TraceSummary`)."""
    summary = TraceSummary()
    for path in sorted(logs):
        dropped: dict[str, int] | None = None  # the last dropped fetch, until a seek
        for line in path.read_text("utf-8", errors="replace").splitlines():
            if "exception performing seek" in line:  # Faust's: no seek follows that drop
                dropped = None
            found = _TRACED.search(line)
            if found is None:
                continue
            kind, rest = found.groups()
            if kind == "skipped":
                summary.skipped += 1
            elif kind == "dropped-inactive":
                summary.inactive += 1
            elif kind == "dropped-fetch":
                summary.dropped_fetches += 1
                ranges = ast.literal_eval(rest.split(" committed=")[0])
                dropped = dropped or {}
                for tp, (first, _) in ranges.items():
                    dropped[tp] = min(first, dropped.get(tp, first))
            elif dropped is not None:  # the seek after a dropped fetch
                committed = ast.literal_eval(rest.split(" read=")[0].removeprefix("committed="))
                summary.uncommitted += [f"{path.name}: {tp} from {first}"
                                        for tp, first in dropped.items()
                                        if not committed.get(tp)]
                dropped = None
    return summary


@dataclass
class Trial:
    """One trial's outcome."""

    seed: int
    messages: int
    verdicts: int
    replays: int  # verdicts published more than once (a killed worker's uncommitted batch)
    updates: int  # story merge records
    conflicts: dict[str, set[str]]
    duplicates_elsewhere: list[tuple[str, str]]  # (duplicate, its duplicate_of)
    exit_codes: list[int]
    copies_kept_twice: list[tuple[str, str]] | None = None  # with ECB+ labels
    workdir: Path | None = None  # worker logs and records.jsonl (every output record)
    trace: TraceSummary | None = None  # with --trace

    @property
    def passed(self) -> bool:
        return (self.verdicts == self.messages and not self.conflicts
                and not self.duplicates_elsewhere and not any(self.exit_codes))

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (f"seed {self.seed}: {verdict}: verdicts {self.verdicts}/{self.messages}, "
                f"replayed {self.replays}, story updates {self.updates}, story conflicts "
                f"{len(self.conflicts)} {dict(list(self.conflicts.items())[:3]) or ''}, "
                f"duplicates in another story {len(self.duplicates_elsewhere)} "
                f"{self.duplicates_elsewhere[:3] or ''}, exit codes {self.exit_codes}"
                + (f", labelled copies both kept {len(self.copies_kept_twice)}"
                   if self.copies_kept_twice is not None else "")
                + (f", {self.trace.line()}" if self.trace is not None else "")
                + (f" ({self.workdir})" if self.workdir is not None else ""))


def envelopes(ecbplus: Path | None, count: int) -> list[bytes]:
    """The stream's articles: ECB+ rows as envelopes, or the bench.e2e corpus."""
    if ecbplus is None:
        return e2e.build_corpus(count).values
    values = []
    for line in (ecbplus / "ecbplus.jsonl").read_bytes().splitlines()[:count]:
        row = orjson.loads(line)
        envelope = {"id": row["id"], "body": row["text"] or row["title"] or ""}
        if row.get("title"):
            envelope["title"] = row["title"]
        values.append(orjson.dumps(envelope))
    return values


def stream(values: Sequence[bytes], rng: random.Random, *, resend: float, revise: float,
           bare: float) -> list[tuple[bytes, int, int]]:
    """(value, partition, timestamp) of every message, extras included, a little disordered."""
    messages = []
    for i, value in enumerate(rng.sample(list(values), len(values))):
        partition, at = rng.randrange(PARTITIONS), BASE_MS + i * 500
        messages.append((value, partition, at))
        envelope = _envelope(value)
        draw = rng.random()
        if draw < resend:
            messages.append((value, (partition + 1) % PARTITIONS, at))
        elif draw < resend + revise and envelope is not None:
            revised = dict(envelope, body=envelope["body"] + REVISION)
            messages.append((orjson.dumps(revised), partition, at + 1))
        elif draw < resend + revise + bare and envelope is not None:
            messages.append((orjson.dumps({"body": envelope["body"]}),
                             rng.randrange(PARTITIONS), at + 2))
    for i in range(len(messages) - 1):  # local disorder: neighbours swapped
        if rng.random() < 0.1:
            messages[i], messages[i + 1] = messages[i + 1], messages[i]
    return messages


def _envelope(value: bytes) -> dict[str, Any] | None:
    try:
        envelope = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if isinstance(envelope, dict) and isinstance(envelope.get("body"), str):
        return envelope
    return None


def run_trial(seed: int, values: Sequence[bytes], options: argparse.Namespace,
              copy_pairs: Sequence[tuple[str, str]] | None) -> Trial:
    rng = random.Random(seed)
    messages = stream(values, rng, resend=options.resend, revise=options.revise,
                      bare=options.bare)
    workdir = Path(tempfile.mkdtemp(prefix=f"kill-trial-{seed}-"))
    with EmbeddedBroker(log_path=workdir / "broker.log") as broker:
        settings = settings_mod.load({}, kafka_bootstrap_servers=broker.bootstrap,
                                     partitions=PARTITIONS)
        ensure_topics(settings)
        # Not each awaited ready: Tansu may leave a third member without partitions until
        # the next rebalance (README, Running on Tansu).
        env = _worker_env(options)
        workers = [Worker(settings, workdir / f"data{i}", name=f"w{i}", extra_env=env).start(
            wait=False) for i in range(options.workers)]
        workers[0].wait_ready(90)
        time.sleep(10)
        kills = sorted([rng.uniform(*options.first_kill), rng.uniform(0.5, 0.7)])
        # With --kill-starting, the worker restarted after the first kill is killed again
        # 0-1.5 s after its first assignment: its replica is catching up, or just did.
        starting_kill: float | None = None
        kill_when_assigned = False
        placed: list[tuple[int, int]] = []

        def kill_and_restart(start: int) -> None:
            victim = workers[-1]
            victim.kill()
            print(f"  seed {seed}: killed {victim.name} at message {start} of "
                  f"{len(messages)}", file=sys.stderr, flush=True)
            time.sleep(rng.uniform(1, 4))
            workers[-1] = Worker(settings, victim.data_dir, name=victim.name,
                                 extra_env=env).start(wait=False)

        for start in range(0, len(messages), CHUNK):
            placed += produce_placed(settings, messages[start:start + CHUNK])
            time.sleep(0.25)
            if starting_kill is None and kill_when_assigned and _assigned(workers[-1]):
                kill_when_assigned = False
                starting_kill = time.monotonic() + rng.uniform(0.0, 1.5)
            if starting_kill is not None and time.monotonic() >= starting_kill:
                starting_kill = None
                kill_and_restart(start)
            elif kills and start / len(messages) >= kills[0]:
                first = len(kills) == 2
                kills.pop(0)
                kill_and_restart(start)
                kill_when_assigned = first and options.kill_starting
        _wait_for_verdicts(settings, set(placed), options.verdict_timeout_s)
        # What a surviving worker publishes for a killed one (owed corrections and story
        # merges) is due ``race_fallback_s`` after it noticed: wait past it.
        time.sleep(options.race_fallback_s + 5)
        exit_codes = [worker.stop() for worker in workers]
        got = read_all(settings)
        updates = read_all(settings, topics=[settings.topic_stories])
        log_records = _fingerprint_log(settings)
    trial = Trial(seed, len(placed), len(set(placed) & _answered(got)),
                  _replays(got), len(updates.records), story_conflicts(got, updates),
                  _duplicates_elsewhere(got, updates), exit_codes)
    # Every output record, in the order read, and the workers' logs stay for a post-mortem.
    with open(workdir / "records.jsonl", "wb") as out:
        for topic, value in [*got.records, *updates.records]:
            out.write(orjson.dumps({"topic": topic, "value": value}) + b"\n")
        for record in log_records:
            out.write(orjson.dumps({"topic": "fingerprint log", "value": record}) + b"\n")
    trial.workdir = workdir
    if options.trace:
        trial.trace = trace_summary(workdir.glob("w*.log"))
    if copy_pairs is not None:
        dropped = {v["id"] for v in got.by_topic(settings.topic_duplicates)}
        kept = {v["id"] for v in got.by_topic(settings.topic_enriched)} - dropped
        trial.copies_kept_twice = [(a, b) for a, b in copy_pairs if a in kept and b in kept]
    return trial


def _worker_env(options: argparse.Namespace) -> dict[str, str]:
    env = {"INGEST_RACE_FALLBACK_S": str(options.race_fallback_s)}
    if options.trace:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(TRACE), os.environ.get("PYTHONPATH")) if p)
    return env


def _fingerprint_log(settings: Settings) -> list[dict[str, Any]]:
    """Every fingerprint-log record, summed up: where it is, who wrote it, what it says."""
    reader = make_reader(settings, [settings.topic_fingerprints], from_beginning=True)
    try:
        ends = true_end_offsets(settings, reader.assignment())
        out: list[dict[str, Any]] = []
        while any(reader.position(tp) < end for tp, end in ends.items()):
            for record in poll_records(reader):
                summary: dict[str, Any] = {"partition": record.partition,
                                           "offset": record.offset}
                try:
                    decoded = decode_log_value(record.value)
                except Exception as exc:  # a fence, or a record of another kind
                    summary["undecoded"] = str(exc)[:80]
                else:
                    summary.update(_log_summary(decoded))
                out.append(summary)
        return out
    finally:
        reader.close()


def _log_summary(record: LogRecord | StoryUpdate) -> dict[str, Any]:
    if isinstance(record, StoryUpdate):
        return {"merge": record.story, "into": record.into, "reason": record.reason,
                "worker": record.worker}
    entry = record.entry
    return {"id": entry.id, "root": entry.root, "kept": entry.is_kept, "worker": record.worker,
            "story": record.story.story if record.story is not None else None,
            "applied": record.applied}


def _wait_for_verdicts(settings: Settings, placed: set[tuple[int, int]], timeout_s: float
                       ) -> None:
    """Until every message has a verdict, or ``timeout_s`` without a new one (then the
    trial reports the messages without one: lost)."""
    seen, last_new = 0, time.monotonic()
    while time.monotonic() - last_new < timeout_s:
        got = collect(settings, lambda _: True)
        have = len(placed & _answered(got))
        if have == len(placed):
            return
        if have > seen:
            seen, last_new = have, time.monotonic()
        time.sleep(5)


def _assigned(worker: Worker) -> bool:
    """Whether the worker's log says it got partitions (Faust's assignment line)."""
    if worker.log_path is None or not worker.log_path.exists():
        return False
    return b"Executing _on_partitions_assigned" in worker.log_path.read_bytes()


def _answered(got: Collected) -> set[tuple[int, int]]:
    """The messages some record answers. Corrections count: a kept verdict held when its
    worker died is lost with it, and the message's replay may publish only the correction
    of that verdict (``"supersedes": "kept"``), the message's final verdict all the same."""
    return {(origin["partition"], origin["offset"]) for _, value in got.records
            if isinstance(origin := value.get("origin"), dict)
            and origin.get("topic") == "articles.raw"}


def _replays(got: Collected) -> int:
    first = sum(1 for _, value in got.records if not value.get("supersedes"))
    return first - len(got.verdicts())


def _duplicates_elsewhere(got: Collected, updates: Collected) -> list[tuple[str, str]]:
    find = story_resolver(updates)
    story: dict[str, str] = {}
    duplicate_of: dict[str, str] = {}
    for topic, value in got.records:
        if value.get("story_id"):
            story[value["id"]] = value["story_id"]
        if topic.endswith("duplicates") and value.get("duplicate_of"):
            duplicate_of[value["id"]] = value["duplicate_of"]
    return [(dup, of) for dup, of in duplicate_of.items()
            if dup in story and of in story and find(story[dup]) != find(story[of])]


def _fractions(text: str) -> tuple[float, float]:
    """``0.15-0.35``: a range of the stream's length."""
    low, _, high = text.partition("-")
    try:
        bounds = float(low), float(high or low)
    except ValueError:
        bounds = (1.0, 0.0)
    if not 0 <= bounds[0] <= bounds[1] < 0.5:
        raise argparse.ArgumentTypeError(f"{text!r}: want FROM-TO with 0 <= FROM <= TO < 0.5")
    return bounds


def _seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        seeds += range(int(first), int(last or first) + 1)
    return seeds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=_seeds, default=_seeds("1-3"),
                        help="trials, one per seed: 1-5 or 1,4,7 (default 1-3)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--messages", type=int, default=1000,
                        help="articles before extras (ECB+ has 982; default 1,000)")
    parser.add_argument("--ecbplus", type=Path, metavar="DIR",
                        help="ECB+ from a local copy (bench/data/realnews/README.md)")
    parser.add_argument("--resend", type=float, default=0.08)
    parser.add_argument("--revise", type=float, default=0.05)
    parser.add_argument("--bare", type=float, default=0.05)
    parser.add_argument("--kill-starting", action="store_true",
                        help="also kill the first restarted worker 0-1.5 s after it is assigned")
    parser.add_argument("--first-kill", type=_fractions, default=(0.15, 0.35), metavar="FROM-TO",
                        help="when the first kill comes, as a fraction of the stream (default "
                             "0.15-0.35; 0.02-0.06 kills a worker before its first commit)")
    parser.add_argument("--trace", action="store_true",
                        help="workers log Faust's offset bookkeeping (bench/faust_trace); "
                             "each trial line sums it up")
    parser.add_argument("--verdict-timeout-s", type=float, default=120.0,
                        help="give up waiting for verdicts after this long without a new one")
    parser.add_argument("--race-fallback-s", type=float, default=5.0,
                        help="the workers' INGEST_RACE_FALLBACK_S (default 5; 60 in production)")
    options = parser.parse_args(argv)
    values = envelopes(options.ecbplus, options.messages)
    copy_pairs = None
    if options.ecbplus is not None and (options.ecbplus / "ecbplus_dup_pairs.jsonl").is_file():
        rows = map(orjson.loads,
                   (options.ecbplus / "ecbplus_dup_pairs.jsonl").read_bytes().splitlines())
        copy_pairs = [(p["a"], p["b"]) for p in rows if p["label"] == "copy"]
    trials = []
    for seed in options.seeds:
        trial = run_trial(seed, values, options, copy_pairs)
        print(trial.line(), flush=True)
        trials.append(trial)
    failed = [t.seed for t in trials if not t.passed]
    print(f"{len(trials) - len(failed)} of {len(trials)} trials passed"
          + (f"; failed: seeds {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
