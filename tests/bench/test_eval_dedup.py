"""The dedup evaluation runs end to end on the shipped real text and meets its targets.

A label-keyed evaluation is where a change of identity shows: roots come back as scoped ids
(``source:id``) and must map to the labels' ids, or scoring fails outright.
"""

from __future__ import annotations

from bench.eval_dedup import real_passed, real_scores
from bench.evaluation import prepare_items, run
from bench.realnews import fomc
from streams.core.config import CoreConfig


def test_fomc_statements_have_no_false_merge_and_every_copy_found() -> None:
    config = CoreConfig()
    real = fomc()
    result = run(prepare_items(real.items, config), config)
    scores = real_scores(real, result)
    assert set(result.roots) == {item.id for item in real.items}
    assert real_passed(real, scores)
    assert (scores.precision, scores.recall) == (1.0, 1.0)
