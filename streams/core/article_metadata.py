"""The metadata an output record carries: what the producer said wins over what the page
says, and the publisher (``source``) is derived when the producer gave none.

Pure and stateless, computed once per message in :func:`streams.core.pipeline.prepare`, so
the derived ``source`` also keys learned boilerplate and the index entry.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from streams.core.domains import PUBLISHING_PLATFORMS, publisher_domain
from streams.core.envelope import Envelope
from streams.core.text.dates import iso_datetime
from streams.core.text.language import language_of_tag
from streams.core.text.metadata import from_producer, merge
from streams.core.text.model import NormalizedArticle


@dataclass(frozen=True, slots=True)
class ArticleMetadata:
    """Record-level metadata of one article (see README, Record contracts)."""

    url: str | None
    source: str | None
    title: str | None
    title_source: str | None  # "envelope" | "page" | "first_line" | None
    published_at: str | None
    modified_at: str | None
    authors: tuple[str, ...] = ()
    site_name: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    image: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    paywalled: bool | None = None
    # The producer's language tag when it names an ISO 639-1 language ("envelope"), else
    # the text's detected language ("detected", "und" when undetermined). Only the record
    # shows it: fingerprints, word counts and story terms follow the detected language, so
    # a copy with a hint and one without are fingerprinted alike.
    language: str = "und"
    language_source: str = "detected"  # "envelope" | "detected"


def resolve_metadata(
    envelope: Envelope, article: NormalizedArticle,
    platforms: AbstractSet[str] = PUBLISHING_PLATFORMS,
) -> ArticleMetadata:
    """Envelope fields first (its metadata fields among the passed-through ones too), then
    the page's; ``source`` from the first URL we have (the publication's host on one of the
    publishing ``platforms``)."""
    page = article.metadata
    if envelope.extra:
        page = merge(from_producer(envelope.extra, envelope.url), page)
    title: str | None = envelope.title
    title_source: str | None = "envelope"
    if not title:
        title, title_source = article.title, article.title_source if article.title else None
    # Read from the passed-through fields, where it stays as sent (consumers read it there).
    language, language_source = language_of_tag(envelope.extra.get("language")), "envelope"
    if language is None:
        language, language_source = article.language, "detected"
    return ArticleMetadata(
        url=envelope.url,
        source=envelope.source or publisher_domain(envelope.url, page.canonical_url,
                                                      platforms=platforms),
        title=title,
        title_source=title_source,
        published_at=_producer_date(envelope.published_at) or iso_datetime(article.published_at),
        modified_at=page.modified_at,
        authors=page.authors,
        site_name=page.site_name,
        canonical_url=page.canonical_url,
        description=page.description,
        image=page.image,
        section=page.section,
        tags=page.tags,
        paywalled=page.paywalled,
        language=language,
        language_source=language_source,
    )


def _producer_date(value: str | None) -> str | None:
    # A producer's value we cannot read as a date is passed on unchanged, as before
    # normalization existed: dropping it would lose what the producer said.
    if not value:
        return None
    return iso_datetime(value) or value
