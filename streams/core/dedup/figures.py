"""Figures: two reports of one template that differ in their numbers are different reports.

A daily market close, a rate decision, a match result: the words repeat, the figures change.
Their shingles can still be 80-90 % alike when the figures are a few words of a long text.
What tells them apart is a *substitution*: at the same place (the same words around it) one
text has a figure where the other has another. Copies do not substitute figures; they add or
drop them (a dateline, a timestamp, a truncated paragraph), which this rule ignores.

A figure is a run of consecutive number tokens of the fingerprint form (``4 1 4`` for
"4-1/4"), placed by its context: the word before and the word after the run. Two articles
*agree* on a context when both have the same figure there, and *conflict* when both have a
figure there but different ones. A figure whose digits begin the other's is the same figure
written with more precision ("4 p.m." and "4:00 p.m."; "2.6" and "R26" read as 26): no
conflict. The pair is a near duplicate only if conflicts are at most ``max_figure_conflicts``
of the contexts both carry figures in (measured: copies <= 0.08, templated reports >= 0.25).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence

import xxhash

_MAX_DIGITS = 32
_NOT_DIGIT = re.compile(r"[^0-9]")
_DIGIT = re.compile(r"[0-9]")
_LOW32 = 0xFFFFFFFF

FigureRuns = Counter[tuple[int, str]]


def encode_figures(tokens: Sequence[str], text: str | None = None) -> bytes:
    """Each run of number tokens as (context hash: uint32 LE, digit count: 1 byte, digits).

    ``text``, when given, must be ``" ".join(tokens)``: the number tokens are then found
    from its digits rather than by testing every token.
    """
    out = bytearray()
    if text is None:
        numbered = [i for i, token in enumerate(tokens) if _DIGIT.search(token)]
    else:
        numbered = _numbered_tokens(text)
    n, k = len(tokens), 0
    while k < len(numbered):
        i = j = numbered[k]
        while k < len(numbered) and numbered[k] == j:  # the run of consecutive number tokens
            j += 1
            k += 1
        left = tokens[i - 1] if i else "^"
        right = tokens[j] if j < n else "$"
        context = xxhash.xxh3_64_intdigest(f"{left}\x00{right}".encode()) & _LOW32
        digits = _NOT_DIGIT.sub("", "".join(tokens[i:j]))[:_MAX_DIGITS].encode("ascii")
        out += context.to_bytes(4, "little") + bytes((len(digits),)) + digits
    return bytes(out)


def _numbered_tokens(text: str) -> list[int]:
    """Indices of the space-separated tokens of ``text`` that hold a digit: one scan of the
    digits and of the spaces before each number token, in C, instead of a test per token."""
    numbered: list[int] = []
    index = last = token_end = 0
    for match in _DIGIT.finditer(text):
        position = match.start()
        if position < token_end:  # another digit of the same token
            continue
        index += text.count(" ", last, position)
        last = position
        numbered.append(index)
        token_end = text.find(" ", position)
        if token_end < 0:
            break
    return numbered


def decode_figures(data: bytes) -> FigureRuns:
    runs: FigureRuns = Counter()
    for context, digits in _runs(data):
        runs[(context, digits)] += 1
    return runs


@functools.lru_cache(maxsize=4096)
def _by_context(data: bytes) -> dict[int, list[str]]:
    """Runs by context. Cached: an indexed article is compared with many new ones (callers
    only read the result)."""
    out: dict[int, list[str]] = {}
    for context, digits in _runs(data):
        out.setdefault(context, []).append(digits)
    return out


def _runs(data: bytes) -> list[tuple[int, str]]:
    runs = []
    i, size = 0, len(data)
    while i + 5 <= size:
        length = data[i + 4]
        runs.append((int.from_bytes(data[i : i + 4], "little"),
                     data[i + 5 : i + 5 + length].decode("ascii")))
        i += 5 + length
    return runs


def figure_conflicts(a: bytes, b: bytes) -> tuple[int, int]:
    """(agreements, conflicts) between the figures of two articles."""
    if a == b:
        return len(_runs(a)), 0
    by_context_a, by_context_b = _by_context(a), _by_context(b)
    agree = conflict = 0
    for context in by_context_a.keys() & by_context_b.keys():
        left_runs, right_runs = by_context_a[context], by_context_b[context]
        if left_runs == right_runs:
            agree += len(left_runs)
            continue
        if len(left_runs) == 1 == len(right_runs):  # the common case, without the Counters
            left_digits, right_digits = left_runs[0], right_runs[0]
            if left_digits.startswith(right_digits) or right_digits.startswith(left_digits):
                agree += 1
            else:
                conflict += 1
            continue
        left, right = Counter(left_runs), Counter(right_runs)
        agree += sum((left & right).values())
        only_left = list((left - right).elements())
        only_right = list((right - left).elements())
        for digits in list(only_left):
            match = next((d for d in only_right if d.startswith(digits) or digits.startswith(d)),
                         None)
            if match is not None:
                only_left.remove(digits)
                only_right.remove(match)
                agree += 1
        conflict += min(len(only_left), len(only_right))
    return agree, conflict


def figures_agree(a: bytes, b: bytes, max_conflicts: float) -> bool:
    """Whether conflicting figures are at most ``max_conflicts`` of the shared contexts."""
    if max_conflicts >= 1.0 or not a or not b:
        return True
    agree, conflict = figure_conflicts(a, b)
    return conflict <= max_conflicts * (agree + conflict)


