"""The harness's own checks can fail: each is shown a case it must catch."""

from __future__ import annotations

from typing import Any

from tests.harness import Collected, story_conflicts


def _records(*values: dict[str, Any], topic: str = "articles.enriched") -> Collected:
    return Collected(records=[(topic, value) for value in values])


def _update(story: str, into: str) -> dict[str, Any]:
    return {"story_id": story, "merged_into": into}


def test_story_conflicts_names_an_article_in_two_stories_no_update_joins() -> None:
    got = _records({"id": "a", "story_id": "s1"}, {"id": "a", "story_id": "s2"},
                   {"id": "b", "story_id": "s1"})
    assert story_conflicts(got, _records()) == {"a": {"s1", "s2"}}


def test_story_conflicts_follows_merges_and_renames_in_any_order() -> None:
    got = _records({"id": "a", "story_id": "s1"}, {"id": "a", "story_id": "s3"},
                   {"id": "c"})  # a record without a story (stories off) names none
    # s1 -> s2 -> s3, read out of order: one story.
    assert story_conflicts(got, _records(_update("s2", "s3"), _update("s1", "s2"))) == {}
    # s1 and s3 joined to different stories that nothing joins: still two.
    assert story_conflicts(got, _records(_update("s1", "x"), _update("s3", "y"))) == {
        "a": {"x", "y"}}
