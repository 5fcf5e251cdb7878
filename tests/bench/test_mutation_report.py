"""The mutation report's bookkeeping: equivalents matched to survivors, stale entries shown."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import mutation
from bench.mutation import BY_NAME, Result, Survivor

pytestmark = pytest.mark.bench_smoke


def test_a_listed_survivor_is_equivalent_and_an_unmatched_entry_is_stale(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = ("decide", "decide", ("a < b",), ("a <= b",))
    gone = ("decide", "resolve_root", ("break",), ("return",))
    other = ("index", "stats", ("x",), ("y",))
    monkeypatch.setattr(mutation, "load_equivalents",
                        lambda: {listed: "ids are unique", gone: "old", other: "other module"})
    result = Result(BY_NAME["decide"], Counter({"killed": 8, "survived": 2}), [
        Survivor("m_1", "decide", ("a < b",), ("a <= b",)),
        Survivor("m_2", "decide", ("c",), ("d",)),
    ])
    mutation.explain(result)
    assert [s.reason for s in result.survivors] == ["ids are unique", None]
    assert result.stale == [("resolve_root", ("break",), ("return",))]
    assert (result.killed, result.equivalent, round(result.score, 4)) == (8, 1, 0.8889)
    section = mutation._section(result)
    assert "`m_2` (survived; **not explained: write a test**)" in section
    assert ("- stale entry of `bench/mutation_equivalents.toml` (no survivor matches it: "
            "remove it): `resolve_root`, `break` -> `return`") in section
