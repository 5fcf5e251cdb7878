"""The functional core end to end, without Kafka: samples, replays, late arrivals, errors."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from streams.core import prepare as prepare_module
from streams.core.domains import PUBLISHING_PLATFORMS
from streams.core.fingerprint_log import decode_log_value, encode_log_record
from streams.core.pipeline import CoreConfig, Deduplicator, Outcome
from streams.core.records import RawMessage
from tests.harness import SAMPLES, envelope


def raw(value: bytes, offset: int, ts: int, partition: int = 0) -> RawMessage:
    return RawMessage("articles.raw", partition, offset, None, value, ts)


def run(dedup: Deduplicator, values: list[bytes], start_ts: int = 1_000) -> list[Outcome]:
    return [dedup.process(raw(v, i, start_ts + i), now_ms=10_000 + i)
            for i, v in enumerate(values)]


@pytest.fixture
def dedup() -> Deduplicator:
    return Deduplicator(CoreConfig(), worker="test")


def test_samples_four_kept_and_004_duplicate_of_001(dedup: Deduplicator) -> None:
    outcomes = run(dedup, [envelope(p) for p in SAMPLES])
    assert [o.verdict for o in outcomes] == ["enriched"] * 4 + ["duplicate"]
    dup = outcomes[4].outputs[0].value
    assert dup["duplicate_of"] == SAMPLES[1].stem
    assert dup["match"] == "exact"
    assert dup["similarity"] == 1.0


def test_enriched_record_fields(dedup: Deduplicator) -> None:
    [outcome] = run(dedup, [envelope(SAMPLES[3], url="https://bbc.test/a", source="bbc")])
    value: dict[str, Any] = outcome.outputs[0].value
    assert value["title"] == "Foreign Office official resigns over Israel arms sales"
    assert value["published_at"] == "2024-08-18T00:00:00+00:00"
    assert value["title_source"] == "page"
    assert (value["source_encoding"], value["encoding_detected"]) == ("utf-8", False)
    assert value["language"] == "en"
    assert value["origin"] == {"topic": "articles.raw", "partition": 0, "offset": 0}
    assert value["source"] == "bbc" and value["url"] == "https://bbc.test/a"
    assert value["word_count"] == len(value["text"].split())
    # The id as sent; the identity (and the index's, the log's and the Kafka key) is scoped.
    assert value["id"] == SAMPLES[3].stem
    assert value["scoped_id"] == f"bbc:{SAMPLES[3].stem}" == outcome.outputs[0].key
    assert (value["revision"], value["previous_content_hash"]) == (1, None)
    assert value["paywalled"] is None  # the page says nothing of it
    assert outcome.log_records[0].entry.id == f"bbc:{SAMPLES[3].stem}"


def test_envelope_title_wins_over_extracted(dedup: Deduplicator) -> None:
    [outcome] = run(dedup, [envelope(SAMPLES[3], title="Given title")])
    assert outcome.outputs[0].value["title"] == "Given title"


def test_replay_of_the_same_message_repeats_the_verdict(dedup: Deduplicator) -> None:
    values = [envelope(SAMPLES[1]), envelope(SAMPLES[4])]
    first = run(dedup, values)
    again = run(dedup, values)  # same origins and timestamps: a replay after a crash
    strip = lambda o: [(x.kind, x.key, {k: v for k, v in x.value.items()  # noqa: E731
                                         if k != "processed_at"}) for x in o.outputs]
    assert [strip(o) for o in again] == [strip(o) for o in first]


def test_earlier_copy_arriving_late_supersedes_the_kept_one(dedup: Deduplicator) -> None:
    late = dedup.process(raw(envelope(SAMPLES[4]), 0, ts=5_000), now_ms=10_000)
    assert late.verdict == "enriched"
    early = dedup.process(raw(envelope(SAMPLES[1]), 1, ts=1_000), now_ms=10_001)
    assert early.verdict == "enriched"
    kinds = [(o.kind, o.key, o.value.get("supersedes")) for o in early.outputs]
    assert kinds == [("enriched", SAMPLES[1].stem, None),
                     ("duplicates", SAMPLES[4].stem, "kept"),
                     ("stories", SAMPLES[4].stem, None)]  # the story takes the earlier id
    assert early.corrections == 1
    assert dedup.index.get(SAMPLES[4].stem).root == SAMPLES[1].stem  # type: ignore[union-attr]


def test_derived_id_is_the_origin(dedup: Deduplicator) -> None:
    [outcome] = run(dedup, [SAMPLES[0].read_bytes()])
    assert outcome.outputs[0].key == "articles.raw/0/0"


def test_bad_input_becomes_a_dead_letter_with_its_code(dedup: Deduplicator) -> None:
    outcomes = run(dedup, [b"\xff\xfe\xfa", orjson.dumps({"x": 1}), b"<p> </p>"])
    assert [(o.verdict, o.error_code) for o in outcomes] == [
        ("deadletter", "not_utf8"), ("deadletter", "missing_body"), ("deadletter", "empty_body")
    ]


def test_unexpected_exception_is_an_internal_error_dead_letter(
    dedup: Deduplicator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(prepare_module, "normalize_article", boom)
    [outcome] = run(dedup, [envelope(SAMPLES[0])])
    assert (outcome.verdict, outcome.error_code) == ("deadletter", "internal_error")
    assert outcome.outputs[0].value["detail"] == "ValueError: boom"


_STORIES = (
    "The council approved the harbour wall on Monday after a long debate about flooding.",
    "Farmers protested outside the ministry over drought relief that arrived months late.",
    "The railway tunnel reopened after repairs that cost twice the original estimate.",
    "Teachers voted to accept the pay offer, ending a dispute that closed schools for weeks.",
    "The museum unveiled a restored castle model built by prisoners in the nineteenth century.",
)
_FOOTER = ("Support independent local journalism: become a member of the Courier today and "
           "get every story first, with no adverts and a weekly newsletter from our editors.")


def _courier(i: int, url: str | None, source: str | None = None, copy: int = 0) -> bytes:
    fields: dict[str, Any] = {"id": f"c{i}-{copy}", "body": f"{_STORIES[i]}\n\n{_FOOTER}"}
    if url:
        fields["url"] = url
    if source:
        fields["source"] = source
    return orjson.dumps(fields)


def test_source_is_the_registrable_domain_of_the_url(dedup: Deduplicator) -> None:
    [kept, dup] = run(dedup, [_courier(0, "https://www.bbc.co.uk/news/a"),
                              _courier(0, "https://news.bbc.co.uk/b", copy=1)])
    assert kept.outputs[0].value["source"] == "bbc.co.uk"
    assert (dup.verdict, dup.outputs[0].value["source"]) == ("duplicate", "bbc.co.uk")


@pytest.mark.parametrize(("platforms", "sources", "learned"), [
    (PUBLISHING_PLATFORMS, ["n0", "n1", "n2", "n3"], [0, 0, 0, 0]),
    (frozenset(), ["substack.com"] * 4, [0, 0, 0, 1]),
])
def test_newsletters_of_one_platform_are_sources_of_their_own(
    platforms: frozenset[str], sources: list[str], learned: list[int]
) -> None:
    """Four newsletters on one platform quoting one paragraph: four sources, so the
    paragraph is learned as boilerplate of none; with the platform's registrable domain
    as the one source, the fourth newsletter lost it (README, Text normalization,
    ``source``)."""
    dedup = Deduplicator(CoreConfig(publishing_platforms=platforms), worker="test")
    outcomes = run(dedup, [_courier(i, f"https://n{i}.substack.com/p/a") for i in range(4)])
    expected = [s if "." in s else f"{s}.substack.com" for s in sources]
    assert [o.outputs[0].value["source"] for o in outcomes] == expected
    assert [o.learned_removed for o in outcomes] == learned


def test_producer_source_wins_over_the_url(dedup: Deduplicator) -> None:
    [outcome] = run(dedup, [_courier(0, "https://www.bbc.co.uk/news/a", source="BBC")])
    assert outcome.outputs[0].value["source"] == "BBC"


def test_metadata_in_the_envelope_wins_over_the_pages(dedup: Deduplicator) -> None:
    """A feed reader or an export knows the byline, tags and summary of a text body: the
    envelope's metadata fields fill the record (and stay in extra, as every other field
    does); the page's fill only what the producer left out."""
    page = ('<html><head><meta property="og:description" content="The page says so.">'
            '<meta property="og:site_name" content="The Courier">'
            '<meta name="author" content="Page Author"></head><body><article>'
            + "".join(f"<p>{s}</p>" for s in _STORIES) + "</article></body></html>")
    given = {"author": "By Jane Doe and John Roe", "tags": "harbour, Flooding ,harbour",
             "description": "Council backs the wall.", "image": "/img/wall.jpg",
             "section": "Local", "modified_at": "2024-05-01T10:00:00+02:00", "desk": 7}
    value = orjson.dumps({"id": "p1", "url": "https://www.courier.example/news/1",
                          "body": page, **given})
    [outcome] = run(dedup, [value])
    record = outcome.outputs[0].value
    assert {k: record[k] for k in ("authors", "tags", "description", "image", "section",
                                   "modified_at", "site_name")} == {
        "authors": ["Jane Doe", "John Roe"], "tags": ["harbour", "Flooding"],
        "description": "Council backs the wall.",
        "image": "https://www.courier.example/img/wall.jpg", "section": "Local",
        "modified_at": "2024-05-01T10:00:00+02:00",
        "site_name": "The Courier"}  # not in the envelope: the page's
    assert record["extra"] == given


def test_envelope_metadata_of_another_shape_is_only_passed_through(
    dedup: Deduplicator,
) -> None:
    given = {"authors": 42, "tags": {"a": 1}, "image": "javascript:alert(1)"}
    value = orjson.dumps({"id": "p2", "body": _STORIES[1], **given})
    [outcome] = run(dedup, [value])
    record = outcome.outputs[0].value
    assert (outcome.verdict, record["authors"], record["tags"], record["image"]) == (
        "enriched", [], [], None)
    assert record["extra"] == given


@pytest.mark.parametrize("url", ["https://www.courier.example/news/1",
                                 "www.courier.example/news/1", "//www.courier.example/news/1"])
def test_relative_links_resolve_against_the_envelope_url(dedup: Deduplicator, url: str) -> None:
    """A scraper's fragment or a page without <base>, canonical link or og:url: its relative
    links and image resolve against the address the producer gave (they were dropped)."""
    fragment = (f"<p>{_STORIES[0]} <a href='/news/2'>More</a> <a href='3?x=1'>and</a> "
                "<a href='mailto:desk@courier.example'>desk</a></p>")
    page = ('<html><head><meta property="og:image" content="/img/wall.jpg"></head><body>'
            f"<article><p>{_STORIES[1]} <a href='../sport/4'>Sport</a></p>"
            + "".join(f"<p>{s}</p>" for s in _STORIES[2:]) + "</article></body></html>")
    [frag, whole] = run(dedup, [orjson.dumps({"id": "f", "url": url, "body": fragment}),
                                orjson.dumps({"id": "w", "url": url, "body": page})])
    assert frag.outputs[0].value["outlinks"] == [
        "https://www.courier.example/news/2", "https://www.courier.example/news/3?x=1"]
    assert whole.outputs[0].value["outlinks"] == ["https://www.courier.example/sport/4"]
    assert whole.outputs[0].value["image"] == "https://www.courier.example/img/wall.jpg"


def test_without_a_url_relative_links_are_dropped(dedup: Deduplicator) -> None:
    fragment = f"<p>{_STORIES[0]} <a href='/news/2'>More</a> <a href='https://x.example/a'>x</a></p>"
    [outcome] = run(dedup, [orjson.dumps({"id": "f", "body": fragment})])
    assert outcome.outputs[0].value["outlinks"] == ["https://x.example/a"]


def test_learned_boilerplate_works_with_a_url_and_no_source(dedup: Deduplicator) -> None:
    """The derived source keys learned boilerplate: after three articles of one publisher
    the shared footer is left out of the fourth's fingerprint (issue 12)."""
    urls = [f"https://www.courier.co.uk/news/{i}" for i in range(5)]
    outcomes = run(dedup, [_courier(i, urls[i]) for i in range(4)])
    assert [o.verdict for o in outcomes] == ["enriched"] * 4
    assert [o.learned_removed for o in outcomes] == [0, 0, 0, 1]
    [other] = run(dedup, [_courier(4, "https://other.example.com/x")], start_ts=2_000)
    assert other.learned_removed == 0


def test_a_backfill_with_event_time_published_compares_only_articles_of_one_window() -> None:
    # A new-user trial (2026-12-05): an archive sent at once is one day by received time, so
    # templated documents years apart were compared (160 of 387 FOMC statements dropped).
    # One article and its copy, re-sent a second apart but published two years apart.
    values = [envelope(SAMPLES[1], id="a", published_at="2022-03-01T12:00:00+00:00"),
              envelope(SAMPLES[4], id="b", published_at="2024-03-01T12:00:00+00:00"),
              envelope(SAMPLES[4], id="c", published_at="2024-03-05T12:00:00+00:00")]
    now = 1_800_000_000_000  # 2027: every message received after its publication
    received = run(Deduplicator(CoreConfig(), worker="test"), values, start_ts=now)
    assert [o.verdict for o in received] == ["enriched", "duplicate", "duplicate"]
    published = run(Deduplicator(CoreConfig(event_time_from_published=True), worker="test"),
                    values, start_ts=now)
    assert [o.verdict for o in published] == ["enriched", "enriched", "duplicate"]
    assert published[2].outputs[0].value["duplicate_of"] == "b"


def test_the_event_time_follows_published_at_only_when_set_and_earlier() -> None:
    def event_time(config: CoreConfig, published: str | None) -> int:
        fields = {} if published is None else {"published_at": published}
        value = envelope(SAMPLES[0], **fields)
        prepared = prepare_module.prepare(raw(value, 0, 1_700_000_000_000), config)
        return prepared.event_time_ms

    on = CoreConfig(event_time_from_published=True)
    assert event_time(on, "2023-11-14T22:13:19+00:00") == 1_699_999_999_000
    assert event_time(on, "2023-11-14T23:13:19+01:00") == 1_699_999_999_000  # its offset
    assert event_time(on, "2030-01-01T00:00:00+00:00") == 1_700_000_000_000  # never later
    assert event_time(on, None) == 1_700_000_000_000
    assert event_time(CoreConfig(), "2023-11-14T22:13:19+00:00") == 1_700_000_000_000


def test_an_article_of_40000_paragraphs_is_logged_within_the_record_size_and_replays_alike(
) -> None:
    """A hostile trial's 700 KB body of one-line paragraphs: its verification profile (789 KB)
    made a fingerprint-log record over Kafka's 1 MiB until 2026-12-06 (published, then
    dead-lettered; a copy kept again after a replay). The index keeps no profile for it,
    live and replayed alike, and a copy of it is still its duplicate."""
    config = CoreConfig()
    body = "\n".join(f"Harbour {i} vote." for i in range(40_000))
    live = Deduplicator(config, worker="w1")
    kept = run(live, [orjson.dumps({"id": "big-1", "source": "t", "body": body})])[0]
    assert kept.verdict == "enriched"
    [record] = kept.log_records
    assert record.entry.profile is None
    key, value = encode_log_record(record)
    assert len(key) + len(value) <= config.max_record_bytes
    replayed = Deduplicator(config, worker="w2")
    replayed.apply_remote(decode_log_value(value), 20_000)
    for dedup in (live, replayed):
        copy = run(dedup, [orjson.dumps({"id": "big-2", "source": "t", "body": body})])[0]
        assert (copy.verdict, copy.outputs[0].value["duplicate_of"]) == ("duplicate", "big-1")
