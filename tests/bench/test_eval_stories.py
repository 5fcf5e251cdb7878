"""The story evaluation's arithmetic and its smallest set."""

from __future__ import annotations

import pytest

from bench.eval_stories import Article, cluster, pairwise, samples, templates
from streams.core.config import CoreConfig

pytestmark = pytest.mark.bench_smoke


def article(i: str, label: str, topic: str = "") -> Article:
    return Article(i, None, "text", 0, label, topic)


def test_pairwise_counts_pairs_of_each_clustering() -> None:
    articles = [article("a", "x", "t"), article("b", "x", "t"), article("c", "x", "t"),
                article("d", "y", "t"), article("e", "z", "u")]
    predicted = {"a": "1", "b": "1", "c": "2", "d": "2", "e": "3"}
    scores = pairwise(predicted, articles)
    # gold pairs ab ac bc; predicted ab cd; shared ab
    assert (scores.precision, scores.recall) == (0.5, 1 / 3)
    assert scores.f1 == pytest.approx(0.4)
    assert (scores.stories, scores.events) == (3, 3)
    # same topic, other event: ad bd cd; predicted together: cd
    assert scores.hard_negative_merged == pytest.approx(1 / 3)


def test_the_samples_are_one_story() -> None:
    articles = samples()
    predicted, _ = cluster(articles, CoreConfig(), seed=1)
    # One story, named after its earliest article (002 was decided first in this order).
    assert set(predicted.values()) == {"000_3b3aba6de96ebd2b"}
    assert pairwise(predicted, articles).f1 == 1.0


def test_each_templated_report_is_its_own_story_and_copies_join_it() -> None:
    articles = templates()
    predicted, _ = cluster(articles, CoreConfig(), seed=1)
    scores = pairwise(predicted, articles)
    assert (scores.precision, scores.recall, scores.stories, scores.events) == (1.0, 1.0, 40, 40)
