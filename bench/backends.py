"""Both index backends decide the same streams identically: every outcome is compared.

    python -m bench.backends --messages 400    # JSON summary on stdout; exit 1 on a difference

The same prepared messages go through ``Deduplicator(config, worker=..., index=...)`` with
:class:`FingerprintIndex`, with :class:`CompactIndex` (a small pair buffer, so the sorted
levels, merges and row reuse are exercised at this size) and with a compact index that
spills its rows' cold bytes (:mod:`streams.core.dedup.spill`, small segments), in five
scenarios:

* ``arrival``: the corpus in its random arrival order (copies before their originals);
* ``replay``: the stream, then its first half again at the same offsets (crash replay);
* ``resend``: the first half again at new offsets (a producer re-sending);
* ``two_workers``: two workers deciding alternate messages, each reading the other's log
  records a few messages late (races, corrections, re-rooting);
* ``expiry``: a one-hour window over a stream spread across five hours, expiring as it goes.

Compared per message: verdict, match, counts, every output record (JSON) and every
fingerprint-log record (encoded bytes); at the end, every indexed entry.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from bench.e2e import build_corpus
from streams.core.config import CoreConfig
from streams.core.dedup.compact_index import CompactIndex
from streams.core.dedup.index import FingerprintIndex, Index
from streams.core.dedup.spill import MemorySegments, Spill
from streams.core.fingerprint_log import decode_record, encode_record
from streams.core.outcome import Outcome
from streams.core.pipeline import Deduplicator
from streams.core.prepare import Prepared, Rejected, prepare_total
from streams.core.records import RawMessage

BASE_MS = 1_700_000_000_000
HOUR_MS = 3_600_000
IndexFactory = Callable[[CoreConfig], Index]
BACKENDS: dict[str, IndexFactory] = {
    "memory": lambda config: FingerprintIndex(config.dedup.lsh),
    "compact": lambda config: CompactIndex(config.dedup.lsh, buffer_pairs=512),
    # rows' cold bytes in a spill of small segments: appends, drops and moves all happen
    "compact+spill": lambda config: CompactIndex(
        config.dedup.lsh, buffer_pairs=512, spill=Spill(MemorySegments(), segment_bytes=4096)),
}


@dataclass(frozen=True, slots=True)
class Step:
    """One message for one worker at one wall-clock time."""

    worker: int
    item: Prepared | Rejected
    now_ms: int


def outcome_key(outcome: Outcome | None) -> bytes:
    """Everything an outcome publishes, as comparable bytes (timings left out)."""
    if outcome is None:
        return b"none"
    return orjson.dumps({
        "verdict": outcome.verdict, "match": outcome.match, "error": outcome.error_code,
        "corrections": outcome.corrections, "rules": outcome.rules_removed,
        "learned": outcome.learned_removed,
        "outputs": [[o.kind, o.key, orjson.dumps(o.value, option=orjson.OPT_SORT_KEYS).decode()]
                    for o in outcome.outputs],
        "log": [encode_record(r.entry, r.paragraph_keys, r.worker).decode()
                for r in outcome.log_records],
    }, option=orjson.OPT_SORT_KEYS)


def index_key(index: Index, ids: Sequence[str]) -> list[bytes]:
    out = []
    for article_id in sorted(set(ids)):
        entry = index.get(article_id)
        out.append(b"-" if entry is None else encode_record(entry, (), ""))
    return out


def run(steps: Sequence[Step], config: CoreConfig, factory: IndexFactory, *, workers: int = 1,
        delay: int = 3, expire_every: int = 0) -> tuple[list[bytes], list[bytes]]:
    """Outcome keys in order (decisions and log-record deliveries), then the final index."""
    states = [Deduplicator(config, worker=f"w{n}", index=factory(config))
              for n in range(workers)]
    in_flight: list[tuple[int, int, Any]] = []  # (deliver at step, to worker, record)
    keys: list[bytes] = []
    ids: list[str] = []
    for number, step in enumerate(steps):
        for due in [f for f in in_flight if f[0] <= number]:
            in_flight.remove(due)
            keys.append(outcome_key(states[due[1]].on_log_record(
                due[2], catching_up=False, now_ms=step.now_ms)))
        outcome = states[step.worker].decide(step.item, step.now_ms)
        keys.append(outcome_key(outcome))
        for record in outcome.log_records:
            ids.append(record.entry.id)
            wire = decode_record(encode_record(record.entry, record.paragraph_keys,
                                               record.worker))
            for other in range(workers):
                if other != step.worker:
                    in_flight.append((number + delay, other, wire))
        if expire_every and number % expire_every == 0:
            for state in states:
                keys.append(str(state.expire(step.now_ms)).encode())
    final = [k for state in states for k in index_key(state.index, ids)]
    return keys, final


def scenarios(values: Sequence[bytes], config: CoreConfig) -> Iterator[tuple[str, dict[str, Any],
                                                                               list[Step]]]:
    raws = [RawMessage("articles.raw", i % 4, i // 4, None, v, BASE_MS + (i * 7919) % 86_400_000)
            for i, v in enumerate(values)]
    items = [prepare_total(r, config) for r in raws]
    half = len(items) // 2
    now = [BASE_MS + 86_400_000 + i * 1000 for i in range(2 * len(items))]
    yield "arrival", {}, [Step(0, item, now[i]) for i, item in enumerate(items)]
    replayed = items + items[:half]
    yield "replay", {}, [Step(0, item, now[i]) for i, item in enumerate(replayed)]
    resent_raws = [replace(r, offset=r.offset + 10_000) for r in raws[:half]]
    resent = items + [prepare_total(r, config) for r in resent_raws]
    yield "resend", {}, [Step(0, item, now[i]) for i, item in enumerate(resent)]
    yield "two_workers", {"workers": 2, "delay": 3}, [
        Step(i % 2, item, now[i]) for i, item in enumerate(items)]
    spread = [BASE_MS + 86_400_000 + i * (5 * HOUR_MS // max(1, len(items)))
              for i in range(len(items))]
    yield "expiry", {"expire_every": 7}, [Step(0, item, spread[i]) for i, item in
                                           enumerate(items)]


def compare(values: Sequence[bytes]) -> dict[str, Any]:
    """Run every scenario with every backend; the first difference of each from the
    reference (``memory``), if any."""
    config = CoreConfig()
    expiring = replace(config, window_ms=HOUR_MS)
    summary: dict[str, Any] = {"messages": len(values), "scenarios": {}}
    for name, options, steps in scenarios(values, config):
        scenario_config = expiring if name == "expiry" else config
        results = {backend: run(steps, scenario_config, factory, **options)
                   for backend, factory in BACKENDS.items()}
        (memory_keys, memory_final), *others = results.values()
        differences = {
            backend: next((i for i, (a, b) in enumerate(zip(memory_keys, keys, strict=False))
                           if a != b), None)
            for backend, (keys, _) in zip(list(results)[1:], others, strict=True)}
        summary["scenarios"][name] = {
            "outcomes": len(memory_keys),
            "identical": all(keys == memory_keys and final == memory_final
                             for keys, final in others),
            "first_difference": differences,
            "entries_compared": len(memory_final),
            "duplicates": sum(b'"verdict":"duplicate"' in k for k in memory_keys),
            "corrections": sum(k.count(b'supersedes') for k in memory_keys),
        }
    summary["identical"] = all(s["identical"] for s in summary["scenarios"].values())
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    summary = compare(build_corpus(args.messages, seed=args.seed).values)
    sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    return 0 if summary["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
