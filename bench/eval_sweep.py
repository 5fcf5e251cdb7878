"""Evidence behind the dedup parameters: labelled-pair similarity and a parameter sweep.

    python -m bench.eval_dedup --pairs [--realnews-dir D]
    python -m bench.eval_dedup --sweep [--realnews-dir D]

``--pairs`` prints, per class of labelled pair (generated duplicate kinds and hard negatives,
real copies and distinct articles), the quantiles of what each rule looks at: exact Jaccard
and containment of the shingle sets, the error of the MinHash estimate, figure containment,
the share of the smaller side outside shared paragraphs and the similarity of the two
remainders; then what verification decides (and the rule that rejects) by class, and the
estimated-vs-exact disagreements by article size (the evidence for ``exact_below_shingles``).
``--sweep`` runs both evaluations for each parameter set and prints one line each.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from bench.corpus import Message, generate
from bench.eval_dedup import (
    GENERATED_DUP_KINDS,
    generated_items,
    generated_passed,
    real_passed,
    real_scores,
)
from bench.evaluation import Item, prepare_items, reprofile, run, score
from bench.realnews import COPY_CLASSES, UNDECIDED_CLASSES, fomc, real_sets
from streams.core.config import CoreConfig
from streams.core.dedup.blocks import (
    _kept_shingles,
    estimated_remainder_similarity,
    remainders,
    set_similarity,
)
from streams.core.dedup.config import DedupConfig, LSHConfig
from streams.core.dedup.figures import figure_conflicts
from streams.core.dedup.match import Candidate, verify_candidate
from streams.core.dedup.model import IndexEntry, Profile
from streams.core.dedup.profile import build_profile
from streams.core.dedup.similarity import estimated_jaccard, judge
from streams.core.prepare import Prepared

Pair = tuple[str, str]
NEGATIVE_SAMPLE = 400  # pairs per large negative class, sampled among the most similar


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    return " ".join(f"{values[int(q * (len(values) - 1))]:.2f}" for q in (0, 0.1, 0.5, 0.9, 1))


def _generated_pairs(messages: Sequence[Message]) -> dict[str, list[Pair]]:
    pairs: dict[str, list[Pair]] = defaultdict(list)
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for m in messages:
        if m.id != m.original_id:
            pairs[m.kind].append((m.original_id, m.id))
        if m.kind in ("original", "same_story") and m.group:
            groups[("same_story", m.group)].append(m.id)
        elif m.kind in ("shared_footer", "shared_block", "templated"):
            groups[(m.kind, m.group)].append(m.id)
    for (kind, _), ids in groups.items():
        pairs[kind].extend(itertools.combinations(sorted(ids), 2))
    return pairs


def _full_profile(item: Prepared) -> Profile:
    """The profile with every shingle kept, for exact measurements."""
    return build_profile(item.forms, item.article.language, 3)


def _pair_row(a: Prepared, b: Prepared, config: DedupConfig) -> dict[str, float | str]:
    fa, fb = _full_profile(a), _full_profile(b)
    sa, sb = set(fa.shingle_array().tolist()), set(fb.shingle_array().tolist())  # type: ignore[union-attr]
    jaccard, containment = set_similarity(sa, sb)
    estimate = estimated_jaccard(a.fingerprint.signature, b.fingerprint.signature)
    row: dict[str, float | str] = {
        "J": jaccard, "C": containment, "est_err": estimate - jaccard,
        "size": min(len(sa), len(sb)),
        "conflicts": _figure_conflicts(fa, fb),
    }
    parts = remainders(fa, fb, config.minhash.shingle_size)
    if parts is not None:
        small = min((parts.a_remainder / max(1, parts.a_total)),
                    (parts.b_remainder / max(1, parts.b_total)))
        row["remainder_share"] = small
        ra = _kept_shingles(fa.shingle_array(), fa.start_array(), parts.a_keep)  # type: ignore[arg-type]
        rb = _kept_shingles(fb.shingle_array(), fb.start_array(), parts.b_keep)  # type: ignore[arg-type]
        row["rem_J"], row["rem_C"] = set_similarity(ra, rb)
        est = estimated_remainder_similarity(
            estimate, a.fingerprint.shingle_count, b.fingerprint.shingle_count,
            dataclasses.replace(parts, shared_shingles=parts.shared_shingles),
        )
        row["rem_C_est"] = est[1]
    entry = IndexEntry(b.id, b.event_time_ms, b.fingerprint, b.id,
                       profile=b.profile.for_index(config.verify.exact_below_shingles))
    verdict = verify_candidate(Candidate(a.fingerprint, a.event_time_ms, a.profile), entry, config)
    row["verdict"] = "dup" if verdict.is_dup else f"no:{verdict.rejected}"
    exact_verdict = judge(jaccard, containment, min(len(sa), len(sb)), config.verify).is_dup
    smaller = min(len(sa), len(sb))
    estimated_containment = estimate * (len(sa) + len(sb)) / (1 + estimate) / max(1, smaller)
    estimated_verdict = judge(
        estimate, min(1.0, estimated_containment), smaller, config.verify
    ).is_dup
    row["estimate_flips"] = "yes" if exact_verdict != estimated_verdict else "no"
    return row


def _figure_conflicts(a: Profile, b: Profile) -> float:
    """Share of the contexts with a figure on both sides where the figures differ."""
    agree, conflict = figure_conflicts(a.figures, b.figures)
    return conflict / (agree + conflict) if agree + conflict else 0.0


def _class_rows(
    prepared: dict[str, Prepared], pairs: dict[str, list[Pair]], config: DedupConfig
) -> dict[str, list[dict[str, float | str]]]:
    rows: dict[str, list[dict[str, float | str]]] = {}
    for name, class_pairs in sorted(pairs.items()):
        present = [(a, b) for a, b in class_pairs if a in prepared and b in prepared]
        if len(present) > NEGATIVE_SAMPLE:
            present = _most_similar(prepared, present, NEGATIVE_SAMPLE)
        rows[name] = [_pair_row(prepared[a], prepared[b], config) for a, b in present]
    return rows


def _most_similar(prepared: dict[str, Prepared], pairs: list[Pair], keep: int) -> list[Pair]:
    """The pairs with the highest estimated Jaccard: the hard part of a large negative class."""
    scored = sorted(
        pairs,
        key=lambda p: -estimated_jaccard(prepared[p[0]].fingerprint.signature,
                                         prepared[p[1]].fingerprint.signature),
    )
    return scored[:keep]


def _print_rows(title: str, rows: dict[str, list[dict[str, float | str]]]) -> None:
    print(title)
    print("  quantiles min p10 p50 p90 max")
    for name, class_rows in rows.items():
        print(f"  {name} (n={len(class_rows)})")
        for column in ("J", "C", "est_err", "conflicts", "remainder_share", "rem_J", "rem_C",
                       "rem_C_est"):
            values = [float(r[column]) for r in class_rows if column in r]
            if values:
                print(f"    {column:<16} {_quantiles(values)}  (n={len(values)})")
        verdicts = Counter(str(r["verdict"]) for r in class_rows)
        print(f"    verdicts         {dict(sorted(verdicts.items()))}")
    flips: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for class_rows in rows.values():
        for r in class_rows:
            bucket = min(400, int(float(r["size"])) // 50 * 50)
            flips[bucket][0] += r["estimate_flips"] == "yes"
            flips[bucket][1] += 1
    print("  estimate vs exact verdict flips, by the smaller article's shingles:")
    for bucket in sorted(flips):
        flipped, total = flips[bucket]
        print(f"    {bucket:>3}-{bucket + 49:<4} {flipped}/{total}")


def _prepared_by_id(items: Sequence[Item], config: CoreConfig) -> dict[str, Prepared]:
    return {p.id: p for p in prepare_items(items, config) if isinstance(p, Prepared)}


def pairs_report(seed: int, arrival_seed: int, realnews_dir: Path | None) -> None:
    config = CoreConfig()
    messages = generate(seed)
    items = generated_items(seed, arrival_seed)
    prepared = _prepared_by_id(items, config)
    _print_rows(f"generated stream (seed {seed})",
                _class_rows(prepared, _generated_pairs(messages), config.dedup))
    for real in [*real_sets(realnews_dir), fomc(same_day=True)]:
        prepared = _prepared_by_id(real.items, config)
        _print_rows(f"real text: {real.name}", _class_rows(prepared, real.pairs, config.dedup))


# -- the sweep ------------------------------------------------------------------------------
SWEEP_VERIFY = {
    "jaccard_threshold": (0.5, 0.55, 0.6, 0.65, 0.7),
    "containment_threshold": (0.8, 0.84, 0.87, 0.9, 0.95),
    "exact_below_shingles": (0, 128, 256, 512),
    "max_figure_conflicts": (0.1, 0.2, 0.3, 1.0),
    "negligible_remainder": (0.0, 0.05, 0.1, 0.15),
    "remainder_jaccard": (0.3, 0.5, 0.7),
    "remainder_containment": (0.5, 0.6, 0.7, 0.8, 1.0),
}
SWEEP_BANDS = ((32, 4), (42, 3), (25, 5), (20, 6))


def sweep_report(seed: int, arrival_seed: int, realnews_dir: Path | None) -> None:
    """One knob at a time around the defaults, then the band shapes."""
    base = CoreConfig()
    streams = [("generated", generated_items(seed, arrival_seed), None)]
    streams += [(r.name, r.items, r) for r in real_sets(realnews_dir)]
    prepared = {name: prepare_items(items, base) for name, items, _ in streams}
    print("real text cells: FM <messages merged into another article>/<pairs of different "
          "articles merged> copies <copy pairs merged>/<copy pairs>")
    print("knob                     value   " + "  ".join(
        f"{name:<26}" for name, _, _ in streams) + " pass")
    configs: list[tuple[str, str, CoreConfig]] = [("defaults", "", base)]
    for knob, values in SWEEP_VERIFY.items():
        for value in values:
            verify = dataclasses.replace(base.dedup.verify, **{knob: value})
            configs.append((knob, str(value), dataclasses.replace(
                base, dedup=dataclasses.replace(base.dedup, verify=verify))))
    for bands, rows in SWEEP_BANDS:
        configs.append(("bands x rows", f"{bands}x{rows}", dataclasses.replace(
            base, dedup=dataclasses.replace(base.dedup, lsh=LSHConfig(bands, rows)))))
    for knob, value, config in configs:
        cells, passed = [], True
        for name, items, real in streams:
            stream = prepared[name]
            if config.dedup.verify.exact_below_shingles != base.dedup.verify.exact_below_shingles:
                stream = reprofile(stream, config)
            result = run(stream, config)
            if real is None:
                s = score(items, result.roots, GENERATED_DUP_KINDS)
                worst = min(s.per_kind.items(), key=lambda kv: kv[1])
                passed &= generated_passed(s)
                cells.append(f"P {s.precision:.4f} R {s.recall:.4f} {worst[0][:8]} {worst[1]:.2f}")
            else:
                s = real_scores(real, result)
                merged = sum(m for k, (m, _) in s.merged_pairs.items() if k in COPY_CLASSES)
                total = sum(n for k, (_, n) in s.merged_pairs.items() if k in COPY_CLASSES)
                distinct = sum(m for k, (m, _) in s.merged_pairs.items()
                               if k not in (*COPY_CLASSES, *UNDECIDED_CLASSES))
                passed &= real_passed(real, s)
                cells.append(f"FM {s.false_merges}/{distinct} copies {merged}/{total}".ljust(26))
        print(f"{knob:<24} {value:<7} " + "  ".join(c.ljust(26) for c in cells)
              + f" {'yes' if passed else 'no'}", flush=True)
