"""Label pairs of ECB+ articles as copies or not, from their sentences alone.

    python -m bench.ecbplus_pairs DIR     # DIR/ecbplus.jsonl -> DIR/ecbplus_dup_pairs.jsonl

``ecbplus.jsonl`` comes from ``bench/convert_ecbplus.py``. The pair file that
``bench/realnews.py`` reads with it was first built outside this repository, by a procedure
nobody here can rerun; this module rebuilds one by a rule written down, so the ECB+ half of
``make eval REALNEWS_DIR=DIR`` can be reproduced from the public corpus alone.

The rule (no fingerprint, no MinHash: nothing the ingester computes):

* candidates: two documents of one ECB+ topic (either of its two events) that share at
  least ``CANDIDATE_SHARE`` of the shorter one's word 5-shingles (lowercased ``\\w+`` words);
  every other pair of one topic is left to ``bench/realnews.py`` (``same_event``,
  ``same_topic``: different articles);
* content sentences: the text's lines (one sentence a line; the title is not in the text)
  of at least ``MIN_WORDS`` words; the shorter document has fewer content characters;
* a sentence of the shorter document is matched when one of the longer one's has a
  ``difflib`` character ratio of at least ``SENTENCE_RATIO`` with it;
* ``copy``: at least ``MATCHED_SHARE`` of the shorter's sentences matched, at least
  ``MIN_SENTENCES`` of them, and the shorter at least ``LENGTH_RATIO`` of the longer's length;
  ``excerpt``: the same but shorter; otherwise ``partial overlap`` (``bench/realnews.py``
  calls it undecided when half its sentences or more matched, or it has under 3).
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

CANDIDATE_SHARE = 0.2
MIN_WORDS = 4
SENTENCE_RATIO = 0.9
MATCHED_SHARE = 0.8
MIN_SENTENCES = 3
LENGTH_RATIO = 0.6

_WORD = re.compile(r"\w+")


def label_pairs(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The labelled candidate pairs of ``rows`` (``id``, ``text``, ``topic``), in row order."""
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_topic[row["topic"]].append(row)
    pairs = []
    for members in by_topic.values():
        shingles = {row["id"]: _shingles(row["text"] or "") for row in members}
        for a, b in itertools.combinations(members, 2):
            first, second = shingles[a["id"]], shingles[b["id"]]
            if not first or not second:
                continue
            shared = len(first & second) / min(len(first), len(second))
            if shared >= CANDIDATE_SHARE:
                pairs.append({"a": a["id"], "b": b["id"], **_aligned(a["text"], b["text"]),
                              "shared_5shingles": round(shared, 4)})
    return pairs


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def _content(text: str | None) -> list[str]:
    return [line for line in (text or "").split("\n") if len(line.split()) >= MIN_WORDS]


def _aligned(text_a: str | None, text_b: str | None) -> dict[str, Any]:
    a, b = _content(text_a), _content(text_b)
    size_a, size_b = sum(map(len, a)), sum(map(len, b))
    shorter, longer = (a, b) if size_a <= size_b else (b, a)
    matched = sum(_matched(sentence, longer) for sentence in shorter)
    share = matched / len(shorter) if shorter else 0.0
    length = min(size_a, size_b) / max(size_a, size_b) if max(size_a, size_b) else 0.0
    label = "partial overlap"
    if share >= MATCHED_SHARE and len(shorter) >= MIN_SENTENCES:
        label = "copy" if length >= LENGTH_RATIO else "excerpt"
    return {"label": label, "shorter_sent_match_frac": round(share, 4),
            "shorter_content_sents": len(shorter), "length_ratio": round(length, 4)}


def _matched(sentence: str, others: Sequence[str]) -> bool:
    for other in others:
        matcher = difflib.SequenceMatcher(None, sentence, other, autojunk=False)
        # The cheap upper bounds first: most sentence pairs are far apart.
        if (matcher.real_quick_ratio() >= SENTENCE_RATIO
                and matcher.quick_ratio() >= SENTENCE_RATIO
                and matcher.ratio() >= SENTENCE_RATIO):
            return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="holds ecbplus.jsonl; the pairs go there")
    args = parser.parse_args(argv)
    source = args.directory / "ecbplus.jsonl"
    if not source.is_file():
        print(f"{source} not found: build it with bench/convert_ecbplus.py", file=sys.stderr)
        return 2
    rows = [orjson.loads(line) for line in source.read_bytes().splitlines() if line.strip()]
    pairs = label_pairs(rows)
    target = args.directory / "ecbplus_dup_pairs.jsonl"
    target.write_bytes(b"".join(orjson.dumps(pair) + b"\n" for pair in pairs))
    counts = Counter(pair["label"] for pair in pairs)
    print(f"{len(rows)} documents, {len(pairs)} candidate pairs ({dict(sorted(counts.items()))})"
          f" -> {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
