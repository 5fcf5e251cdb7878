"""Templated reports: paragraphs whose wording recurs with other names and figures.

Machine-written and house-style reports (earnings snapshots, match reports, daily market
closes, a publisher's stock lede) share most of their words with every other issue of their
template; what tells two issues apart is who and how much. Their TF-IDF vectors are close
(cosine 0.3-0.4 between two companies' earnings reports, measured), so on words alone every
issue of a template would join the first issue's story.

A paragraph's *skeleton* is its words with every run of capitalized words replaced by a
placeholder and its figures left out: "Acme Corp. (ACME) on Wednesday reported profit of
$412.5 million" and
"Zenith Inc. (ZEN) on Wednesday reported profit of $87.1 million" have one skeleton. The
stateful step counts skeleton keys per source beside learned boilerplate
(:class:`streams.core.text.learned.ParagraphStats`, carried on the fingerprint log like
paragraph keys, so every worker knows the same templates) and calls an article *templated*
when much of its lede is in paragraphs whose skeleton another article of its source had but
whose words it had not (:func:`is_templated`). A templated article joins a story only if
the story holds its subject, its heaviest name (:mod:`.state`): two issues of one template
name different subjects, two reports of one event the same one.

A verbatim repeat is no evidence: a standing paragraph, or the background an outlet keeps
under each new top of one running story (a new-user trial on ECB+ text: with verbatim
repeats counted, 270 of 745 such updates were templated and ten events split, recall 0.99
-> 0.95, because the heaviest name of real prose is often not its subject: "brazen escape",
"paris").
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass

import xxhash

# A skeleton needs this many plain (lowercase, non-figure) words: "By John Smith" or a
# dateline is no template, a sentence is.
MIN_PLAIN_WORDS = 8
# Share of the lede's characters in paragraphs with a known skeleton that makes an article
# templated (a short article of a source whose every page opens with the same two
# boilerplate paragraphs has 44 %: FakeNewsCorpus's beforeitsnews.com).
TEMPLATED_SHARE = 0.4
# Skeleton keys are hashed with this prefix: they never equal a paragraph key in the shared
# per-source table.
_PREFIX = b"\x1fskeleton\x1f"
_NAME = "\x01"


def _uppercase_class() -> str:
    """A regex character class body of every uppercase or titlecase letter in the BMP."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x41, 0x10000):
        if unicodedata.category(chr(code)) in ("Lu", "Lt"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in ranges
    )


UPPERCASE = _uppercase_class()
# A run of capitalized words is one name ("Harbor Freight Lines" and "Acme" fill one slot).
_NAMES = re.compile(f"[{UPPERCASE}][^\\W_]*(?:[ -][{UPPERCASE}][^\\W_]*)*")
# ASCII punctuation to spaces and ASCII digits deleted, on the UTF-8 bytes (a byte table, in
# C: a str.translate costs 5x more, a regex substitution of figures as much): "Acme Corp."
# and "Harbor Freight Lines" fill one slot alike, "$412.5 million" and "$87 million" read
# "million".
_PUNCTUATION = bytes(0x20 if chr(b) in string.punctuation else b for b in range(256))
_DIGITS = b"0123456789"
_NAME_BYTES = _NAME.encode()

# An article's lede skeletons: (skeleton key, index of its paragraph, characters read).
Skeletons = tuple[tuple[int, int, int], ...]
# The same with each paragraph's key (``paragraph_key``) for its index: (skeleton key,
# paragraph key, characters read), what the templated test reads.
Lede = tuple[tuple[int, int, int], ...]


def skeleton_key(paragraph: str) -> int | None:
    """The key of the paragraph's skeleton; None when it has fewer than
    :data:`MIN_PLAIN_WORDS` plain words.

    ~13 us a 1,000-character lede: a substitution, a byte table and a split, all in C.
    """
    # Words left after the names start in lower case: no case folding (an "iPhone" reads the
    # same in every issue).
    shape = _NAMES.sub(_NAME, paragraph).encode("utf-8")
    tokens = shape.translate(_PUNCTUATION, _DIGITS).split()
    if len(tokens) - tokens.count(_NAME_BYTES) < MIN_PLAIN_WORDS:
        return None
    return int(xxhash.xxh3_64_intdigest(_PREFIX + b" ".join(tokens)))


def lede_skeletons(paragraphs: Iterable[str]) -> Skeletons:
    """The skeleton keys of the lede's paragraphs that have one, with their paragraphs'
    indexes and lengths."""
    found = []
    for index, paragraph in enumerate(paragraphs):
        key = skeleton_key(paragraph)
        if key is not None:
            found.append((key, index, len(paragraph)))
    return tuple(found)


def keyed_lede(skeletons: Skeletons, paragraph_keys: Sequence[int]) -> Lede:
    """The lede's skeletons with the keys of their paragraphs."""
    return tuple((key, paragraph_keys[index], size) for key, index, size in skeletons)


def is_templated(lede: Lede, known: Set[int], repeated: Set[int], lede_chars: int) -> bool:
    """Whether :data:`TEMPLATED_SHARE` of the lede is in paragraphs whose skeleton is
    ``known`` (another article of the source had it) and whose paragraph key is not
    ``repeated`` (another article had it word for word): a template is the same wording with
    other names and figures; a verbatim repeat is a standing paragraph or the background a
    newsroom keeps under each update of one story, no evidence of a template."""
    if not known or lede_chars <= 0:
        return False
    chars = sum(size for skeleton, paragraph, size in lede
                if skeleton in known and paragraph not in repeated)
    return chars >= TEMPLATED_SHARE * lede_chars


@dataclass(frozen=True, slots=True)
class Founder:
    """What the race check needs of an article that opened a story here: its subject terms
    and its lede as (skeleton key, paragraph key, characters).

    Two workers deciding the first issues of a template at once know no template yet, so
    neither article is templated; the worker that opened the later story then reads, in the
    other's log record, its own founder's skeletons with other words (:meth:`shares_template`)
    and keeps the stories apart unless the other article names the founder's subject.
    """

    subjects: frozenset[int]
    lede: Lede
    lede_chars: int

    def shares_template(self, keys: Set[int]) -> bool:
        """Whether an article whose log record carries ``keys`` (its paragraph and skeleton
        keys) is another issue of this founder's template: the founder's lede judged by
        :func:`is_templated` against the article's skeletons and words."""
        return is_templated(self.lede, keys, keys, self.lede_chars)

    def apart(self, keys: Set[int], terms: Set[int]) -> bool:
        """Whether an article with log-record ``keys`` and summary ``terms`` is an issue of
        this founder's template on another subject."""
        return bool(self.subjects) and self.subjects.isdisjoint(terms) and (
            self.shares_template(keys))


class Founders:
    """The founders of a worker's latest stories (the oldest forgotten past ``limit``), for
    the race check of templated reports; plain state, not in snapshots (a restarted worker
    checks races of its earlier stories as before templates)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._founders: OrderedDict[str, Founder] = OrderedDict()

    def __len__(self) -> int:
        return len(self._founders)

    def remember(
        self, story_id: str, subjects: frozenset[int], lede: Lede, lede_chars: int
    ) -> None:
        """The article that opened (or renamed) ``story_id``: its subject terms and lede."""
        self._founders[story_id] = Founder(subjects, lede, lede_chars)
        self._founders.move_to_end(story_id)
        while len(self._founders) > self.limit:
            self._founders.popitem(last=False)

    def apart(self, keys: Iterable[int], terms: Iterable[int]) -> Callable[[str], bool] | None:
        """Which of our stories an article with log-record ``keys`` and summary ``terms`` is
        another issue of the founder's template of, on another subject (None: none can be)."""
        if not self._founders:
            return None
        record_keys, summary_terms = frozenset(keys), frozenset(terms)

        def apart(story_id: str) -> bool:
            founder = self._founders.get(story_id)
            return founder is not None and founder.apart(record_keys, summary_terms)

        return apart
