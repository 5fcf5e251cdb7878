"""Stories on a decided article's outcome: its ``story_id``, its log note, merges to publish.

The one place the dedup pipeline meets the story state, so :mod:`streams.core.pipeline` only
calls :func:`attach_story` after a decision and :func:`race_outcome` after another worker's
record.
"""

from __future__ import annotations

import dataclasses

from streams.core.outcome import Outcome
from streams.core.records import Output, story_update_record
from streams.core.stories.model import Assignment, StoryUpdate
from streams.core.stories.state import StoryState
from streams.core.stories.terms import StoryTerms


def attach_story(
    outcome: Outcome, state: StoryState, *, article_id: str, event_time_ms: int, root: str,
    terms: StoryTerms, now_ms: int, worker: str, templated: bool = False,
) -> None:
    """Assign the decided article and stamp ``story_id`` on its records (in place).

    A kept article is assigned by its terms; a duplicate takes its kept article's story, and
    so do the corrections the decision publishes (their new root is this article's root).
    """
    known = state.story_of(root) if root != article_id else None
    if known is not None:
        assignment = Assignment(known, opened=False, size=state.size_of(known), note=None)
    else:
        # A kept article, or a copy of one the stories never saw (a record written before
        # stories existed): the copy stands for it.
        assignment = state.assign(article_id, event_time_ms, terms, now_ms=now_ms, worker=worker,
                                  templated=templated)
    if assignment.note is not None and outcome.log_records:
        own = outcome.log_records[0]
        outcome.log_records[0] = dataclasses.replace(own, story=assignment.note)
    stamp_story(outcome, assignment.story)
    _add_updates(outcome, assignment.updates)
    outcome.story = assignment


def stamp_story(outcome: Outcome, story: str) -> None:
    """``story_id`` on the enriched and duplicates records of an outcome."""
    for output in outcome.outputs:
        if output.kind in ("enriched", "duplicates"):
            output.value["story_id"] = story


def race_outcome(updates: list[StoryUpdate]) -> Outcome:
    """What to publish for merges owed after another worker's record (see ``race_merges``).

    The verdict of an outcome of a log record is not read (the metrics count its parts).
    """
    outcome = Outcome(verdict="duplicate", outputs=[])
    _add_updates(outcome, updates)
    return outcome


def _add_updates(outcome: Outcome, updates: tuple[StoryUpdate, ...] | list[StoryUpdate]) -> None:
    for update in updates:
        outcome.outputs.append(Output("stories", update.story, story_update_record(update)))
        outcome.story_updates.append(update)
