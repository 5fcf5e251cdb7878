"""Plain data of the story clustering: what the log carries and what an assignment says."""

from __future__ import annotations

from dataclasses import dataclass, field

# An article's published vector summary: (term key, weight) pairs, heaviest first, unit length.
Summary = tuple[tuple[int, float], ...]


@dataclass(frozen=True, slots=True)
class StoryNote:
    """The story part of a kept article's fingerprint-log record.

    ``story`` is the story the article joined (its own id when it opened one, or when it is
    earlier than every member of the story it joined) and ``story_time_ms`` that story's
    founding event time, so a reader that has not yet seen the founder still orders stories
    the same way. ``vector`` is what the article adds to the story's centroid in every
    worker. ``renamed`` is the story this article renamed (its former id and founding time):
    every reader renames it before adding the vector, as the deciding worker did, whatever
    the order the rename's update record arrives in.
    """

    story: str
    story_time_ms: int
    vector: Summary
    renamed: tuple[str, int] | None = None
    # A templated report's subject terms (``streams.core.stories.template``): the race check
    # of another worker applies the same rule to it as the deciding worker did.
    subjects: tuple[int, ...] = ()
    # The article's term keys, packed as little-endian uint32 (a tenth of the memory of a
    # tuple of ints while a record waits to be read back), and the positions among them of
    # its repeats (``StoryTerms``): every reader counts the article in its document
    # frequencies as the deciding worker did (``streams.core.stories.vector``). Empty in
    # notes written before.
    terms: bytes = b""
    repeats: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryUpdate:
    """A late merge: story ``story`` is now part of story ``into`` (the earlier founder).

    Published on the fingerprint log (every worker applies it) and, for consumers, on the
    stories topic (``schemas/story-update.schema.json``). Merges only join: applying a set of
    updates in any order gives the same stories.

    ``rename``: an article earlier than all members of ``story`` joined it, and the story
    is now named ``into`` after it: a story is always named after its earliest article by
    ``(event time, id)``.
    """

    story: str
    story_time_ms: int
    into: str
    into_time_ms: int
    at_ms: int
    worker: str
    # "bridge": an article matched both; "race": opened concurrently; "rename": an earlier
    # article joined ``story``, which takes its id ``into``.
    reason: str = "bridge"

    @property
    def log_key(self) -> bytes:
        return f"\x00story:{self.story}>{self.into}".encode()


@dataclass(frozen=True, slots=True)
class Assignment:
    """The story of one decided article."""

    story: str  # the story id published on the article's record
    opened: bool  # the article opened this story
    size: int  # kept articles in the story after this one
    note: StoryNote | None  # for the article's log record (kept articles only)
    updates: tuple[StoryUpdate, ...] = field(default=())
    # The article's heaviest head name (its subject, ``state._subjects``), templated or not.
    subjects: frozenset[int] = frozenset()
