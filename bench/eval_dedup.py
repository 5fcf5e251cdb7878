"""Precision and recall of the dedup core on the labelled stream of ``bench/corpus.py``.

    python -m bench.eval_dedup            # defaults of streams.core.dedup.config; exit 1 on a miss
    python -m bench.eval_dedup --sweep    # shingle size x num_perm x bands/rows x thresholds
    python -m bench.eval_dedup --pairs    # exact Jaccard/containment per variant kind

Messages arrive in a random order independent of their event times; each goes through the
text step, ``fingerprint``, ``decide`` and ``apply_decision`` exactly as in the shell.
"""

from __future__ import annotations

import argparse
import html
import itertools
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script: make ``bench`` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasketch import MinHash

from bench.corpus import DUPLICATE_KINDS, NEGATIVE_KINDS, Message, arrival_order, generate
from streams.core.dedup.config import DedupConfig, LSHConfig, MinHashConfig, VerifyConfig
from streams.core.dedup.decide import apply_decision, decide
from streams.core.dedup.index import FingerprintIndex
from streams.core.dedup.minhash import content_hash, minhash_signature, shingle_hashes
from streams.core.dedup.model import Fingerprint

try:  # the real text path, while it is being written alongside
    from streams.core.text.article import normalize_article
    from streams.core.text.normalize import fingerprint_text, fingerprint_tokens

    HAVE_TEXT_PATH = True
except ImportError:
    HAVE_TEXT_PATH = False

TARGET_PRECISION = 0.995
TARGET_RECALL = 0.97
TARGET_PER_KIND = 0.9

TextStep = Callable[[str, str | None], tuple[list[str], str]]

_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
_WORD = re.compile(r"[^\W\d_]+")


def _standin_text_step(body: str, content_type: str | None) -> tuple[list[str], str]:
    """Until streams.core.text lands: drop tags, casefold, keep letter runs as tokens."""
    text = html.unescape(_TAG.sub(" ", body))
    tokens = _WORD.findall(text.casefold())
    return tokens, " ".join(tokens)


def text_step(standin: bool = False) -> tuple[str, TextStep]:
    """The real text path when importable (unless ``standin``), else the stand-in."""
    if standin or not HAVE_TEXT_PATH:
        return "stand-in (casefold, letters only)", _standin_text_step

    def real(body: str, content_type: str | None) -> tuple[list[str], str]:
        article = normalize_article(body, content_type=content_type)
        fp_text = fingerprint_text(article.paragraphs)
        return list(fingerprint_tokens(fp_text, article.language)), fp_text

    return "streams.core.text", real


@dataclass(frozen=True, slots=True)
class Prepared:
    message: Message
    tokens: list[str]
    fp_text: str


def prepare(messages: Sequence[Message], step: TextStep) -> tuple[list[Prepared], list[str]]:
    prepared, rejected = [], []
    for message in messages:
        try:
            tokens, fp_text = step(message.body, message.content_type)
        except Exception:
            rejected.append(message.id)
            continue
        prepared.append(Prepared(message, tokens, fp_text))
    return prepared, rejected


def fingerprints(prepared: Sequence[Prepared], config: MinHashConfig) -> dict[str, Fingerprint]:
    out = {}
    for item in prepared:
        hashes = shingle_hashes(item.tokens, config.shingle_size)
        out[item.message.id] = Fingerprint(
            content_hash(item.fp_text), minhash_signature(hashes, config), int(hashes.size)
        )
    return out


def run_stream(
    prepared: Sequence[Prepared], prints: dict[str, Fingerprint], config: DedupConfig
) -> tuple[dict[str, str], FingerprintIndex]:
    """Feed messages in list order; returns the final root of every message id."""
    index = FingerprintIndex(config.lsh)
    for now_ms, item in enumerate(prepared):
        message = item.message
        fp = prints[message.id]
        decision = decide(fp, message.event_time_ms, message.id, index, config)
        apply_decision(index, fp, message.event_time_ms, message.id, decision, now_ms=now_ms)
    roots = {}
    for item in prepared:
        entry = index.get(item.message.id)
        assert entry is not None
        root = entry.root
        while (parent := index.get(root)) is not None and parent.root != root:
            root = parent.root  # roots stay kept by construction; follow chains defensively
        roots[item.message.id] = root
    return roots, index


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    per_kind: dict[str, float]  # duplicate kinds: pair recall; negative kinds: kept apart
    counts: dict[str, int]

    @property
    def passed(self) -> bool:
        return (
            self.precision >= TARGET_PRECISION
            and self.recall >= TARGET_RECALL
            and all(v >= TARGET_PER_KIND for v in self.per_kind.values())
        )


def score(messages: Sequence[Message], roots: dict[str, str]) -> Scores:
    by_id = {m.id: m for m in messages if m.id in roots}
    earliest: dict[str, tuple[int, str]] = {}
    for m in by_id.values():
        key = (m.event_time_ms, m.id)
        earliest[m.cluster] = min(earliest.get(m.cluster, key), key)
    tp = fp = truth_dups = 0
    for m in by_id.values():
        is_truth_dup = earliest[m.cluster] != (m.event_time_ms, m.id)
        truth_dups += is_truth_dup
        root = roots[m.id]
        if root != m.id:
            if by_id[root].cluster == m.cluster:
                tp += 1
            else:
                fp += 1
    clusters_by_root: dict[str, set[str]] = defaultdict(set)
    for m in by_id.values():
        clusters_by_root[roots[m.id]].add(m.cluster)
    hits: dict[str, list[bool]] = defaultdict(list)
    for m in by_id.values():
        if m.kind in DUPLICATE_KINDS or m.kind == "seed_dup":
            if m.original_id in roots:
                hits[m.kind].append(roots[m.id] == roots[m.original_id])
        elif m.kind in NEGATIVE_KINDS:
            hits[m.kind].append(len(clusters_by_root[roots[m.id]]) == 1)
    return Scores(
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / truth_dups if truth_dups else 1.0,
        per_kind={kind: sum(v) / len(v) for kind, v in sorted(hits.items())},
        counts={"messages": len(by_id), "truth_dups": truth_dups, "tp": tp, "fp": fp},
    )


def throughput(prepared: Sequence[Prepared], config: MinHashConfig) -> tuple[float, float]:
    """Docs/s of shingling + signature: this module vs datasketch's defaults, same shingles."""
    # ~700-word articles, the size the 3,000 docs/s target is stated for
    token_lists = [p.tokens for p in prepared if 600 <= len(p.tokens) <= 800]
    start = time.perf_counter()
    for tokens in token_lists:
        minhash_signature(shingle_hashes(tokens, config.shingle_size), config)
    ours = len(token_lists) / (time.perf_counter() - start)
    k = config.shingle_size
    start = time.perf_counter()
    for tokens in token_lists:
        grams = {" ".join(tokens[i : i + k]).encode() for i in range(max(1, len(tokens) - k + 1))}
        sketch = MinHash(num_perm=config.num_perm)
        sketch.update_batch(grams)
    theirs = len(token_lists) / (time.perf_counter() - start)
    return ours, theirs


def _describe(config: DedupConfig) -> str:
    mh, lsh, vf = config.minhash, config.lsh, config.verify
    return (
        f"shingle={mh.shingle_size} num_perm={mh.num_perm} seed={mh.seed} "
        f"bands x rows={lsh.bands}x{lsh.rows} (S-curve threshold {lsh.threshold:.2f}, "
        f"P(0.5)={lsh.candidate_probability(0.5):.3f} P(0.7)={lsh.candidate_probability(0.7):.4f})"
        f" verify: jaccard>={vf.jaccard_threshold} or containment>={vf.containment_threshold}"
        f" (min {vf.min_shingles_for_containment} shingles)"
    )


def report(prepared: Sequence[Prepared], messages: Sequence[Message], config: DedupConfig) -> bool:
    prints = fingerprints(prepared, config.minhash)
    start = time.perf_counter()
    roots, index = run_stream(prepared, prints, config)
    elapsed = time.perf_counter() - start
    scores = score(messages, roots)
    stats = index.stats()
    print(f"parameters: {_describe(config)}")
    print(f"counts: {scores.counts}")
    print(f"precision {scores.precision:.4f} (target {TARGET_PRECISION})")
    print(f"recall    {scores.recall:.4f} (target {TARGET_RECALL})")
    for kind, value in scores.per_kind.items():
        label = "kept apart" if kind in NEGATIVE_KINDS else "pair recall"
        print(f"  {kind:<14} {label:<12} {value:.4f}")
    print(f"decide+apply: {len(prepared) / elapsed:,.0f} msgs/s")
    ours, theirs = throughput(prepared, config.minhash)
    print(
        f"signature docs/s (600-800 tokens): numpy minhash {ours:,.0f} "
        f"vs datasketch defaults {theirs:,.0f}"
    )
    print(
        f"index: {stats.entries} entries, {stats.band_keys} band keys, "
        f"~{stats.bytes_per_entry:,.0f} bytes/entry"
    )
    print("PASS" if scores.passed else "FAIL: targets missed")
    return scores.passed


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    pick = [values[int(q * (len(values) - 1))] for q in (0.0, 0.1, 0.5, 0.9, 1.0)]
    return " ".join(f"{v:.3f}" for v in pick)


def pair_distribution(prepared: Sequence[Prepared], k: int) -> None:
    """Exact Jaccard and containment of each labelled pair, by kind (min p10 p50 p90 max)."""
    sets = {p.message.id: set(shingle_hashes(p.tokens, k).tolist()) for p in prepared}
    by_id = {p.message.id: p.message for p in prepared}
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for m in by_id.values():
        if (m.kind in DUPLICATE_KINDS or m.kind == "seed_dup") and m.original_id in sets:
            pairs[m.kind].append((m.original_id, m.id))
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for m in by_id.values():
        if m.kind in ("original", "same_story") and m.group:
            groups[("same_story", m.group)].append(m.id)
        elif m.kind == "shared_footer":
            groups[("shared_footer", m.group)].append(m.id)
    for (kind, _), ids in groups.items():
        pairs[kind].extend(itertools.combinations(sorted(ids), 2))
    print(f"exact pair similarity, word {k}-shingles (min p10 p50 p90 max)")
    for kind, kind_pairs in sorted(pairs.items()):
        jac, con = [], []
        for a, b in kind_pairs:
            sa, sb = sets[a], sets[b]
            inter = len(sa & sb)
            jac.append(inter / len(sa | sb) if sa | sb else 1.0)
            con.append(inter / min(len(sa), len(sb)) if sa and sb else 0.0)
        print(f"  {kind:<14} n={len(kind_pairs):<4} J {_quantiles(jac)} | C {_quantiles(con)}")


SWEEP_BANDS = {
    64: ((21, 3), (16, 4), (12, 5), (8, 8)),
    128: ((42, 3), (32, 4), (25, 5), (20, 6), (9, 13)),
}
SWEEP_JACCARD = (0.5, 0.6, 0.65, 0.7, 0.8)
SWEEP_CONTAINMENT = (0.8, 0.85, 0.9, 0.95)


def sweep(prepared: Sequence[Prepared], messages: Sequence[Message]) -> None:
    print("k perm bands rows thr   J>=  C>=  precision recall worst_kind      pass")
    for k, num_perm in itertools.product((3, 4, 5), (64, 128)):
        minhash = MinHashConfig(num_perm=num_perm, shingle_size=k)
        prints = fingerprints(prepared, minhash)
        for bands, rows in SWEEP_BANDS[num_perm]:
            for jaccard, containment in itertools.product(SWEEP_JACCARD, SWEEP_CONTAINMENT):
                config = DedupConfig(
                    minhash, LSHConfig(bands, rows), VerifyConfig(jaccard, containment)
                )
                roots, _ = run_stream(prepared, prints, config)
                s = score(messages, roots)
                worst = min(s.per_kind.items(), key=lambda kv: kv[1])
                print(
                    f"{k} {num_perm:>4} {bands:>5} {rows:>4} {config.lsh.threshold:.2f} "
                    f"{jaccard:.2f} {containment:.2f} {s.precision:9.4f} {s.recall:6.4f} "
                    f"{worst[0]:<10} {worst[1]:.3f} {'yes' if s.passed else 'no'}",
                    flush=True,
                )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=20240818, help="corpus seed")
    parser.add_argument("--arrival-seed", type=int, default=7)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--pairs", action="store_true", help="print the pair distribution")
    parser.add_argument("--standin", action="store_true", help="use the stand-in text step")
    args = parser.parse_args(argv)
    messages = generate(args.seed)
    name, step = text_step(args.standin)
    ordered = arrival_order(messages, args.arrival_seed)
    prepared, rejected = prepare(ordered, step)
    words = statistics.median(len(p.tokens) for p in prepared)
    print(
        f"text step: {name}; {len(prepared)} messages ({len(rejected)} rejected), "
        f"median {words:.0f} tokens"
    )
    config = DedupConfig()
    if args.pairs or args.sweep:
        pair_distribution(prepared, config.minhash.shingle_size)
    if args.sweep:
        sweep(prepared, messages)
        return 0
    return 0 if report(prepared, messages, config) else 1


if __name__ == "__main__":
    sys.exit(main())
