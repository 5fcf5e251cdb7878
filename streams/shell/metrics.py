"""Every metric the ingester exports, declared once with what it means.

Names follow ``ingest_<noun>_<unit>``; seconds for time, ``_total`` for counters; label
values are bounded (error codes, match kinds, stage names, partitions). Metrics are built
against an injected registry so tests can use a fresh one; workers use the default registry,
which Faust's Prometheus sensor serves on the same ``/metrics`` page.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, Info

from streams.core.errors import message_error_codes
from streams.core.outcome import Outcome

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
E2E_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
SIZE_BUCKETS = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)
STORY_SIZE_BUCKETS = (1, 2, 3, 5, 10, 20, 50, 100, 500, 1000)


def counted(counter: Counter) -> int:
    """A counter's total (all its series), read through its public ``collect``."""
    return int(sum(sample.value for family in counter.collect() for sample in family.samples
                   if sample.name.endswith("_total")))


# ingest_stage_seconds' stages: the stateless step's (prepare.py), the decision's, the
# stateful step around it, and the publishing.
STAGES = ("parse", "normalize", "fingerprint", "stories", "decide", "process", "publish")


@dataclass(frozen=True)
class Metrics:
    """The ingester's metrics; one instance per process."""

    worker: Info
    consumed: Counter
    enriched: Counter
    duplicates: Counter
    corrections: Counter
    owed_corrections: Counter
    owed_watched: Gauge
    deadletters: Counter
    publish_failures: Counter
    skipped_offsets: Counter
    one_offset_gaps: Counter
    boilerplate_removed: Counter
    stage_seconds: Histogram
    end_to_end_seconds: Histogram
    article_bytes: Histogram
    index_entries: Gauge
    index_bytes: Gauge
    index_spill_bytes: Gauge
    index_spill_errors: Gauge
    partition_committed: Gauge
    partition_end: Gauge
    partition_lag: Gauge
    replica_lag: Gauge
    index_invalid_records: Counter
    remote_checks: Counter
    ready: Gauge
    guard_trips: Counter
    paused_partitions: Gauge
    stories_opened: Counter
    story_articles: Counter
    story_merges: Counter
    story_size: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry = REGISTRY) -> Metrics:
        metrics = cls._declare(registry)
        # Series of these labels exist from the start (at 0), so rates over them are 0, not
        # absent, until the first merge.
        for verdict in ("enriched", "duplicate"):
            metrics.story_articles.labels(verdict=verdict)
        for reason in ("bridge", "race", "rename"):
            metrics.story_merges.labels(reason=reason)
        for result in ("redecided", "skipped"):
            metrics.remote_checks.labels(result=result)
        # Until 2026-12-06 a code's series appeared with its first dead letter, at 1, so
        # rate() and increase() never counted that one (an operator trial).
        for code in message_error_codes():
            metrics.deadletters.labels(code=code)
        for match in ("exact", "near"):
            metrics.duplicates.labels(match=match)
        for layer in ("rules", "learned"):
            metrics.boilerplate_removed.labels(layer=layer)
        for stage in STAGES:
            metrics.stage_seconds.labels(stage=stage)
        return metrics

    @classmethod
    def _declare(cls, registry: CollectorRegistry) -> Metrics:
        r = registry
        return cls(
            # Identity of this worker process (its id and version) as labels on a constant 1.
            worker=Info("ingest_worker", "Identity of this ingester worker.", registry=r),
            # Raw messages taken from the input topic, whatever their outcome.
            consumed=Counter(
                "ingest_articles_consumed_total", "Raw messages consumed.", registry=r
            ),
            # Articles published to the enriched topic (kept).
            enriched=Counter(
                "ingest_articles_enriched_total", "Articles published as kept.", registry=r
            ),
            # Articles published to the duplicates topic, by match kind (exact|near).
            duplicates=Counter(
                "ingest_duplicates_total", "Articles dropped as duplicates.", ["match"],
                registry=r,
            ),
            # Corrections: an article published as kept and later found to be a duplicate.
            corrections=Counter(
                "ingest_corrections_total",
                "Earlier kept verdicts superseded by a duplicates record.",
                registry=r,
            ),
            # Of those, corrections another worker owed (it lost a race to one of our kept
            # articles) and had not published within INGEST_RACE_FALLBACK_S: it stopped?
            owed_corrections=Counter(
                "ingest_owed_corrections_total",
                "Corrections published for another worker that did not publish them in time.",
                registry=r,
            ),
            # Races other workers lost to this worker's kept articles, watched until their
            # corrections come (or INGEST_RACE_FALLBACK_S passes and this worker publishes).
            owed_watched=Gauge(
                "ingest_owed_corrections_watched",
                "Races other workers lost to this worker's articles, awaiting their corrections.",
                registry=r,
            ),
            # Messages dead-lettered, by stable error code.
            deadletters=Counter(
                "ingest_deadletters_total", "Messages dead-lettered.", ["code"], registry=r
            ),
            # Paragraphs or lines of publisher chrome removed, by layer (rules|learned).
            # Output records the broker refused after every retry; each was replaced by a
            # small publish_failed dead letter (not counted in ingest_deadletters_total, which
            # counts messages). Labelled by the topic that refused it (a handful of topics).
            publish_failures=Counter(
                "ingest_publish_failures_total",
                "Records the broker refused after every retry, dead-lettered publish_failed.",
                ["topic"], registry=r,
            ),
            # Raw messages the agent never saw: offsets skipped between the committed offset
            # (or the last message seen) and the next message of a partition
            # (streams.core.continuity). Each is lost unless re-published: never expected.
            skipped_offsets=Counter(
                "ingest_skipped_offsets_total",
                "Raw-topic offsets skipped: messages the worker never saw (lost).",
                registry=r,
            ),
            # One offset skipped: a transactional producer's commit marker, or one message
            # lost (streams.core.continuity). Without transactional producers: never expected.
            one_offset_gaps=Counter(
                "ingest_one_offset_gaps_total",
                "Raw-topic gaps of one offset: a transaction's commit marker, or one message "
                "the worker never saw (lost, if no producer of the topic is transactional).",
                registry=r,
            ),
            boilerplate_removed=Counter(
                "ingest_boilerplate_removed_total",
                "Boilerplate paragraphs removed.",
                ["layer"],
                registry=r,
            ),
            # Time spent per message and stage: parse, normalize, fingerprint, stories (the
            # stateless step, in the pool), decide; process (the stateful step per message,
            # failures included); publish.
            stage_seconds=Histogram(
                "ingest_stage_seconds", "Processing time per stage.", ["stage"],
                buckets=LATENCY_BUCKETS, registry=r,
            ),
            # From the raw message's Kafka timestamp to the output being handed to the producer.
            end_to_end_seconds=Histogram(
                "ingest_end_to_end_seconds", "Raw message timestamp to publish.",
                buckets=E2E_BUCKETS, registry=r,
            ),
            # Size of raw message values.
            article_bytes=Histogram(
                "ingest_article_bytes", "Raw message value size.", buckets=SIZE_BUCKETS,
                registry=r,
            ),
            # Articles held in this worker's replica of the fingerprint index.
            index_entries=Gauge(
                "ingest_index_entries", "Articles in the fingerprint index replica.", registry=r
            ),
            # Approximate memory of the fingerprint index replica.
            index_bytes=Gauge(
                "ingest_index_bytes", "Approximate bytes of the fingerprint index.", registry=r
            ),
            # Its rows' cold bytes in spill files (INGEST_INDEX_SPILL), not in the heap.
            index_spill_bytes=Gauge(
                "ingest_index_spill_bytes",
                "Bytes of the fingerprint index in spill files of the data directory.",
                registry=r,
            ),
            # Spill writes that failed (disk full, no file descriptors): those rows stayed on
            # the heap. A count the index keeps, so a gauge (it restarts with the index).
            index_spill_errors=Gauge(
                "ingest_index_spill_errors",
                "Index spill writes that failed since the index was built; rows stayed in memory.",
                registry=r,
            ),
            # Last committed offset per assigned raw partition (lag = end - committed).
            partition_committed=Gauge(
                "ingest_partition_committed_offset",
                "Committed offset of the consumer group per raw partition.",
                ["topic", "partition"], registry=r,
            ),
            # End offset per raw partition, fenced to be exact even on Tansu (see README).
            partition_end=Gauge(
                "ingest_partition_end_offset", "End offset per raw partition.",
                ["topic", "partition"], registry=r,
            ),
            # end - committed, per assigned raw partition.
            partition_lag=Gauge(
                "ingest_consumer_lag_messages", "Messages not yet processed per raw partition.",
                ["topic", "partition"], registry=r,
            ),
            # Fingerprint-log records not yet applied to this worker's replica.
            replica_lag=Gauge(
                "ingest_replica_lag_messages",
                "Fingerprint-log records not yet applied to the local replica.",
                registry=r,
            ),
            # Fingerprint-log records the replica skipped because they failed validation
            # (foreign producer, corrupt or older layout); the index lacks those articles.
            index_invalid_records=Counter(
                "ingest_index_invalid_records_total",
                "Fingerprint-log records skipped as invalid by the index replica.",
                registry=r,
            ),
            # Other workers' new kept articles, by check: redecided against the whole index
            # (a race with one of ours was possible), or skipped (none of our kept articles
            # that worker had not applied could be superseded: streams.core.dedup.race_window).
            remote_checks=Counter(
                "ingest_remote_kept_checks_total",
                "Other workers' kept articles checked for a race with ours, by result.",
                ["result"], registry=r,
            ),
            # 1 once partitions are assigned and the index replica has caught up (and still
            # follows the log).
            ready=Gauge("ingest_ready", "1 when the worker is ready to process.", registry=r),
            # Times the dead-letter guard paused a raw partition (most of its window
            # dead-lettered); the partition resumes after INGEST_DEADLETTER_PAUSE_S.
            guard_trips=Counter(
                "ingest_guard_trips_total", "Raw partitions paused by the dead-letter guard.",
                registry=r,
            ),
            # Raw partitions this worker holds paused by the dead-letter guard right now.
            paused_partitions=Gauge(
                "ingest_paused_partitions", "Raw partitions paused by the dead-letter guard.",
                registry=r,
            ),
            # Stories opened by articles this worker decided (an article on no known story).
            stories_opened=Counter(
                "ingest_stories_opened_total", "Stories opened.", registry=r
            ),
            # Articles given a story_id, by verdict (enriched: assigned by its terms;
            # duplicate: its kept article's story).
            story_articles=Counter(
                "ingest_story_articles_total", "Articles assigned to a story.", ["verdict"],
                registry=r,
            ),
            # Story merges this worker published, by reason (bridge: an article matched two
            # stories; race: two workers opened one event's story at once; rename: an earlier
            # article joined a story, which takes its id).
            story_merges=Counter(
                "ingest_story_merges_total", "Stories merged into another.", ["reason"],
                registry=r,
            ),
            # Size (kept articles) of the story an article was given, observed once per
            # article (kept or duplicate): story sizes as the articles see them.
            story_size=Histogram(
                "ingest_story_size_articles", "Kept articles of an article's story.",
                buckets=STORY_SIZE_BUCKETS, registry=r,
            ),
        )


def count_stories(metrics: Metrics, outcome: Outcome) -> None:
    """The story part of one outcome (a decided article, or merges after a log record)."""
    story = outcome.story
    if story is not None:
        metrics.story_articles.labels(verdict=outcome.verdict).inc()
        metrics.story_size.observe(story.size)
        if story.opened and outcome.verdict == "enriched":
            metrics.stories_opened.inc()
    for update in outcome.story_updates:
        metrics.story_merges.labels(reason=update.reason).inc()
