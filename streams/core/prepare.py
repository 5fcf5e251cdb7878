"""The stateless step: one raw message parsed, normalized and fingerprinted, no state consulted.

Safe to run in another process: inputs and outputs are plain, picklable data, and it never
raises (:func:`prepare_total`). The stateful step (:mod:`streams.core.pipeline`) then removes
learned boilerplate, which needs the shared state, and decides.

The fingerprint is computed here over every paragraph. When the stateful step finds learned
boilerplate among the paragraphs it recomputes the fingerprint without them; otherwise (most
articles) the MinHash work stays in this step, off the worker's event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from streams.core.article_metadata import ArticleMetadata, resolve_metadata
from streams.core.config import CoreConfig
from streams.core.dedup.config import MinHashConfig
from streams.core.dedup.minhash import fingerprint as minhash_fingerprint
from streams.core.dedup.minhash import fingerprint_of_hashes
from streams.core.dedup.model import Fingerprint, Profile
from streams.core.dedup.profile import build_profile, profile_of
from streams.core.dedup.shingles import shingle_forms
from streams.core.envelope import Envelope, parse_envelope
from streams.core.errors import ExtractionError, IngestError, InputError, InternalError
from streams.core.identity import scoped_id
from streams.core.records import RawMessage
from streams.core.stories.terms import EMPTY_TERMS, StoryTerms, story_terms
from streams.core.text.article import normalize_article
from streams.core.text.dates import epoch_ms
from streams.core.text.model import NormalizedArticle
from streams.core.text.normalize import fingerprint_text, fingerprint_tokens, form_key

log = logging.getLogger(__name__)

# (tokens, fingerprint text, MinHash parameters) -> Fingerprint; injectable so a benchmark
# can swap in another MinHash implementation without patching module globals.
Fingerprinter = Callable[[Sequence[str], str, MinHashConfig], Fingerprint]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message parsed, normalized and fingerprinted (over all of its paragraphs)."""

    raw: RawMessage
    id: str
    envelope: Envelope
    article: NormalizedArticle
    metadata: ArticleMetadata  # envelope fields over page metadata; source derived from url
    forms: tuple[str, ...]  # fingerprint form of each paragraph
    paragraph_keys: tuple[int, ...]  # form_key of each paragraph (learned boilerplate)
    fingerprint: Fingerprint  # of all paragraphs
    profile: Profile  # of all paragraphs: keys, shingle counts, figures, every shingle
    timings: tuple[tuple[str, float], ...] = ()  # seconds per stage
    story_terms: StoryTerms = EMPTY_TERMS  # streams.core.stories: terms for the story
    # published_at in epoch ms, when the event time follows it (CoreConfig)
    published_ms: int | None = None

    @property
    def event_time_ms(self) -> int:
        """The message's timestamp, or the article's publication time when that is known
        and earlier (``CoreConfig.event_time_from_published``): never later than received."""
        if self.published_ms is not None and self.published_ms < self.raw.timestamp_ms:
            return self.published_ms
        return self.raw.timestamp_ms

    @property
    def scoped_id(self) -> str:
        """The article's dedup identity, ``(source, id)`` (:mod:`streams.core.identity`)."""
        return scoped_id(self.metadata.source, self.id)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message the stateless step could not turn into an article; it is dead-lettered."""

    raw: RawMessage
    error: IngestError


def prepare(
    raw: RawMessage, config: CoreConfig, fingerprinter: Fingerprinter = minhash_fingerprint
) -> Prepared:
    """Parse, normalize and fingerprint one message. Raises an :class:`InputError`."""
    clock = time.perf_counter
    started = clock()
    envelope = parse_envelope(raw.value, max_bytes=config.max_body_bytes)
    parsed = clock()
    article = normalize_article(
        envelope.body, content_type=envelope.content_type, config=config.text,
        base_url=envelope.absolute_url,
    )
    metadata = resolve_metadata(envelope, article, config.publishing_platforms)
    normalized = clock()
    # The fingerprint form of the whole is the forms of its paragraphs joined by a space, so
    # each paragraph is simplified once, for its boilerplate key and for the fingerprint.
    forms = tuple(fingerprint_text((p,)) for p in article.paragraphs)
    fingerprint, profile = fingerprint_and_profile(
        forms, article.language, config, fingerprinter
    )
    fingerprinted = clock()
    terms = story_terms(
        envelope.title or article.title, article.paragraphs, forms, article.language,
        config.stories,
    ) if config.stories.enabled else EMPTY_TERMS
    return Prepared(
        raw=raw,
        id=envelope.id or raw.derived_id(),
        envelope=envelope,
        article=article,
        metadata=metadata,
        forms=forms,
        paragraph_keys=tuple(form_key(form) for form in forms),
        fingerprint=fingerprint,
        profile=profile,
        timings=(("parse", parsed - started), ("normalize", normalized - parsed),
                 ("fingerprint", fingerprinted - normalized),
                 ("stories", clock() - fingerprinted)),
        story_terms=terms,
        published_ms=(
            epoch_ms(metadata.published_at) if config.event_time_from_published else None
        ),
    )


def fingerprint_and_profile(
    forms: Sequence[str], language: str, config: CoreConfig,
    fingerprinter: Fingerprinter = minhash_fingerprint,
) -> tuple[Fingerprint, Profile]:
    """The fingerprint and the verification profile of an article from the fingerprint forms
    of the paragraphs it keeps, from one tokenization and one pass of shingle hashing."""
    shingled = shingle_forms(forms, language, config.dedup.minhash.shingle_size)
    if fingerprinter is minhash_fingerprint:
        fingerprint = fingerprint_of_hashes(shingled.hashes, shingled.text, config.dedup.minhash)
    else:
        fingerprint = fingerprinter(shingled.tokens, shingled.text, config.dedup.minhash)
    return fingerprint, profile_of(shingled)


def fingerprint_forms(
    forms: Sequence[str], language: str, config: CoreConfig,
    fingerprinter: Fingerprinter = minhash_fingerprint,
) -> Fingerprint:
    """The fingerprint of an article from the fingerprint forms of the paragraphs it keeps."""
    fp_text = " ".join(form for form in forms if form)
    return fingerprinter(fingerprint_tokens(fp_text, language), fp_text, config.dedup.minhash)


def profile_forms(forms: Sequence[str], language: str, config: CoreConfig) -> Profile:
    """The verification profile of an article from the fingerprint forms it keeps."""
    return build_profile(forms, language, config.dedup.minhash.shingle_size)


def prepare_total(
    raw: RawMessage, config: CoreConfig, fingerprinter: Fingerprinter = minhash_fingerprint
) -> Prepared | Rejected:
    """:func:`prepare` that never raises: every failure is a :class:`Rejected` with its code."""
    try:
        return prepare(raw, config, fingerprinter)
    except InputError as exc:
        return Rejected(raw, exc)
    except RecursionError:
        # Deeply nested markup exhausts a parser's recursion.
        return Rejected(raw, ExtractionError("input nests too deeply to process"))
    except Exception as exc:
        log.exception(
            "internal error processing %s", raw.origin_str,
            extra={"topic": raw.topic, "partition": raw.partition, "offset": raw.offset,
                   "code": InternalError.code},
        )
        return Rejected(raw, InternalError(f"{type(exc).__name__}: {exc}"))
