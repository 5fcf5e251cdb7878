"""The one settings object, and the only module that reads the environment.

Every setting has a default, an environment variable and a row in the README's settings
table. CLI flags override the environment by passing keyword overrides to :func:`load`.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from streams.core.domains import PUBLISHING_PLATFORMS, platform_problems
from streams.core.errors import ConfigError


class Secret(str):
    """A string that never shows its value in repr() or logs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"

    def reveal(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return "**********" if self else ""


# Smallest INGEST_MAX_MESSAGE_BYTES accepted (see Settings.validate).
MIN_MESSAGE_BYTES = 256 * 1024
# The worker id is written into every fingerprint-log record, whose readers refuse longer.
MAX_WORKER_ID_CHARS = 256
# The largest CPU budget of one message, in seconds.
MAX_PROCESSING_BUDGET_S = 86_400
# The longest dead-letter guard pause: Faust's event-path checks report a partition with no
# fetch response (or no event while messages wait) for ``stream_processing_timeout`` (300 s)
# as stalled, and a paused partition gets neither (streams.kafka.faust_compat.pause_fetching).
MAX_DEADLETTER_PAUSE_S = 290
# Durations turned into integer milliseconds go to Kafka (retention.ms is a 64-bit long) and
# to the index's int64 time columns: their milliseconds must fit 64 bits.
MAX_MS = 2**63 - 1
# Settings converted to milliseconds, and the milliseconds in one unit of each.
MS_PER_UNIT = {"dedup_window_days": 86_400_000, "broker_wait_s": 1000, "race_fallback_s": 1000,
               "deadletter_pause_s": 1000, "snapshot_interval_s": 1000}


# A container's CPU limit (compose ``cpus:``, ``docker run --cpus``), cgroup v2 then v1: the
# container's own cgroup is mounted there. Outside a container they are the root cgroup's,
# which has no limit (v2 has no cpu.max at the root; v1's quota is -1).
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def cpu_limit(quota: str, period: str) -> float | None:
    """Cores a CFS quota allows (``"max"`` or a negative quota: no limit, None)."""
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_limit() -> float | None:
    """This process's container CPU limit in cores, or None when it has none."""
    cpu_max = _read(CGROUP_CPU_MAX)
    if cpu_max is not None:
        quota, _, period = cpu_max.partition(" ")
        return cpu_limit(quota, period)
    quota_v1, period_v1 = _read(CGROUP_V1_QUOTA), _read(CGROUP_V1_PERIOD)
    if quota_v1 is None or period_v1 is None:
        return None
    return cpu_limit(quota_v1, period_v1)


def usable_cores() -> int:
    """The cores this process may use: its CPU affinity, capped by its container's CPU limit
    (whole cores, at least 1). Without the cap, each of N workers scaled out on one host
    started a prepare process per host core, each loading trafilatura and the language model."""
    cores = len(os.sched_getaffinity(0))
    limit = cgroup_cpu_limit()
    return cores if limit is None else max(1, min(cores, int(limit)))


def _env_name(name: str) -> str:
    return name.upper() if name.startswith("kafka_") else f"INGEST_{name.upper()}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime configuration of a worker and of the CLI."""

    # Broker. Unset bootstrap servers mean: start the embedded Tansu broker.
    kafka_bootstrap_servers: str = ""
    kafka_security_protocol: str = "PLAINTEXT"  # PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    kafka_sasl_mechanism: str = ""  # PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
    kafka_sasl_username: str = ""
    kafka_sasl_password: Secret = field(default_factory=lambda: Secret(""))
    kafka_ssl_cafile: str = ""
    embedded_broker_port: int = 0  # 0: pick a free loopback port

    # Identity and local state.
    app_id: str = "article-ingester"
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    data_dir: Path = Path(".ingest-data")
    web_host: str = "127.0.0.1"
    web_port: int = 6066

    # Topics.
    topic_raw: str = "articles.raw"
    topic_enriched: str = "articles.enriched"
    topic_duplicates: str = "articles.duplicates"
    topic_deadletter: str = "articles.deadletter"
    topic_fingerprints: str = "ingest.fingerprints"
    topic_stories: str = "articles.stories"
    partitions: int = 4
    replication_factor: int = 1

    # Processing.
    batch_size: int = 256
    batch_window_s: float = 0.05
    # Raw values over this are dead-lettered; it must fit the raw topic's message limit, with
    # room for the key and Kafka's framing (64 KiB under the default limit).
    max_body_bytes: int = 1024 * 1024 - 64 * 1024
    # max.message.bytes of the topics the ingester creates; every output record is cut to fit.
    max_message_bytes: int = 1024 * 1024
    dedup_window_days: float = 14.0
    near_threshold: float = 0.0  # 0: use the evaluated default of streams.core.dedup.config
    # Output records of a batch wait this long after its last decision while another worker
    # is live, so a copy it decided meanwhile arrives first (streams.core.hold); 0: off.
    verdict_hold_ms: int = 250
    # A race another worker lost to one of this worker's kept articles and did not correct
    # within this long (it stopped after committing its copy) is corrected here; 0: never.
    race_fallback_s: float = 60.0
    boilerplate_min_articles: int = 3
    # Processes for the stateless step (parse, normalize, fingerprint): -1 = one per core this
    # process may use, 0 = in the worker's own process.
    processes: int = -1
    processing_budget_s: float = 5.0  # CPU seconds one message may take before dead-lettering
    boilerplate_max_bytes: int = 256 * 1024 * 1024  # learned-boilerplate tables, estimated
    # The fingerprint index: "compact" (numpy arrays, < 1 KB per article, snapshots) or
    # "memory" (Python dicts, ~3.4 KB per article; kept as the reference implementation).
    index_backend: str = "compact"
    # The compact index's cold bytes (verification profiles, verdict fields: most of a row)
    # in unlinked temporary files under the data directory instead of the heap
    # (streams.core.dedup.spill); read only when a row is a candidate or fetched by id.
    index_spill: bool = True
    # Seconds between index snapshots in the data directory (and one at a clean stop);
    # 0 turns snapshots off, so a restart replays the whole fingerprint log.
    snapshot_interval_s: float = 300.0
    # Whole-page extraction: "thorough" (trafilatura in recall mode with its fallback
    # extractors, the evaluated default) or "fast" (the same without the fallbacks: about a
    # fifth less extraction CPU, 0.009 less main-text F1 on WCXB dev; README, Text
    # normalization).
    extraction: str = "thorough"
    # An article's event time (the dedup order and window, story time): "received", the raw
    # message's timestamp (the raw topic's append time: a producer cannot back-date a copy),
    # or "published", its published_at (envelope, else page) when it is earlier, for loading
    # an archive whose dates the operator trusts (README, Near duplicates).
    event_time: str = "received"
    # Story clustering (story_id on records, merges on the stories topic). Its state is in the
    # index snapshot with the index; a snapshot written with other story settings (or with
    # stories off) is not used: that start replays the whole log.
    stories: bool = True
    # Hosting platforms, besides the built-in ones (streams.core.domains.PUBLISHING_PLATFORMS),
    # whose subdomains are publications of their own: comma-separated domain names. The
    # source derived from a URL on one is the publication's host (jane.example-blogs.com),
    # not the platform's registrable domain.
    publishing_platforms: str = ""

    # Safety.
    broker_wait_s: float = 60.0  # give up starting when no broker answers for this long
    broker_lost_s: float = 30.0  # exit non-zero when the broker stays unreachable this long
    deadletter_max_ratio: float = 0.5
    deadletter_window: int = 200
    deadletter_pause_s: float = 60.0  # how long the guard pauses a partition
    # An output the broker refuses (too large for the topic, a broker error) is sent again this
    # many times, waiting publish_backoff_s, then twice that, ... before it is dead-lettered
    # small (publish_failed). The defaults wait 0.2 + 0.4 + 0.8 s: longer than a leader
    # election on a healthy cluster, short enough not to stall a batch for long.
    publish_retries: int = 3
    publish_backoff_s: float = 0.2

    # Consumer-group timing. "tansu" (the default for the embedded broker): 2 s session,
    # 0.5 s heartbeat, 4 s rebalance timeout, because Tansu holds a join for session_timeout/2
    # and for members that left; "kafka": 10 s / 3 s / 60 s (Kafka rejects sessions < 6 s).
    broker_profile: str = "auto"  # auto | tansu | kafka
    broker_session_timeout_s: float = 0.0  # 0: from the profile
    broker_heartbeat_interval_s: float = 0.0  # 0: from the profile

    # Logs.
    log_level: str = "info"
    log_format: str = "text"  # text | json

    @property
    def embedded(self) -> bool:
        return not self.kafka_bootstrap_servers

    @property
    def tansu(self) -> bool:
        return self.broker_profile == "tansu" or (self.broker_profile == "auto" and self.embedded)

    @property
    def session_timeout_s(self) -> float:
        if self.broker_session_timeout_s:
            return self.broker_session_timeout_s
        return 2.0 if self.tansu else 10.0

    @property
    def heartbeat_interval_s(self) -> float:
        if self.broker_heartbeat_interval_s:
            return self.broker_heartbeat_interval_s
        return 0.5 if self.tansu else 3.0

    @property
    def rebalance_timeout_s(self) -> float:
        """How long the group waits for members to (re)join during a rebalance.

        Tansu holds a join until every member it still knows has rejoined or this runs out,
        so a member that left (or was killed) stalls the next join by up to this long.
        """
        return 4.0 if self.tansu else 60.0

    @property
    def pool_processes(self) -> int:
        """How many prepare processes to run (``processes`` with -1 resolved: the cores this
        process may use, :func:`usable_cores`)."""
        if self.processes >= 0:
            return self.processes
        return usable_cores()

    @property
    def dedup_window_ms(self) -> int:
        return int(self.dedup_window_days * MS_PER_UNIT["dedup_window_days"])

    @property
    def publishing_platform_set(self) -> frozenset[str]:
        """The built-in publishing platforms and those of ``publishing_platforms``."""
        return PUBLISHING_PLATFORMS | frozenset(_extra_platforms(self.publishing_platforms))

    @property
    def output_topics(self) -> tuple[str, str, str]:
        return (self.topic_enriched, self.topic_duplicates, self.topic_deadletter)

    @property
    def topics(self) -> dict[str, str]:
        """Every topic setting -> the topic it names (the worker reads or writes each)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name.startswith("topic_")}

    def with_bootstrap(self, servers: str) -> Settings:
        return replace(self, kafka_bootstrap_servers=servers)

    def validate(self) -> Settings:
        """Refuse settings out of range at start (the CLI exits 2 with every problem listed,
        each named by its environment variable)."""
        infinite = _non_finite(self)  # named once, as not finite, whatever else they fail
        ports = [(name, "must be in 0..65535", 0 <= getattr(self, name) <= 65535)
                 for name in ("web_port", "embedded_broker_port")]
        positive = [(name, "must be > 0", getattr(self, name) > 0)
                    for name in ("broker_wait_s", "broker_lost_s", "dedup_window_days",
                                 "batch_window_s", "processing_budget_s", "deadletter_pause_s")]
        at_least_one = [(name, "must be >= 1", getattr(self, name) >= 1)
                        for name in ("partitions", "replication_factor", "batch_size",
                                     "deadletter_window")]
        not_negative = [(name, "must be >= 0", getattr(self, name) >= 0)
                        for name in ("snapshot_interval_s", "publish_retries",
                                     "publish_backoff_s", "verdict_hold_ms", "race_fallback_s")]
        checks = [
            ("deadletter_max_ratio", "must be in (0, 1]", 0 < self.deadletter_max_ratio <= 1),
            ("deadletter_pause_s", f"must be <= {MAX_DEADLETTER_PAUSE_S} (Faust reports a "
             "partition not fetched for 300 s as stalled)",
             self.deadletter_pause_s <= MAX_DEADLETTER_PAUSE_S),
            ("worker_id", f"must have 1..{MAX_WORKER_ID_CHARS} characters",
             0 < len(self.worker_id) <= MAX_WORKER_ID_CHARS),
            ("broker_profile", "must be 'auto', 'tansu' or 'kafka'",
             self.broker_profile in ("auto", "tansu", "kafka")),
            ("broker_session_timeout_s", "must be >= 0 (0: from the broker profile)",
             self.broker_session_timeout_s >= 0),
            ("broker_heartbeat_interval_s", "must be >= 0 (0: from the broker profile)",
             self.broker_heartbeat_interval_s >= 0),
            ("broker_heartbeat_interval_s", "must be less than the session timeout",
             self.heartbeat_interval_s < self.session_timeout_s
             or "broker_session_timeout_s" in infinite),
            ("log_format", "must be 'text' or 'json'", self.log_format in ("text", "json")),
            ("log_level", "must be debug, info, warning (warn), error or critical (fatal)",
             self.log_level.lower() in _LOG_LEVELS),
            ("processes", "must be -1 (one per core), 0 (off) or more", self.processes >= -1),
            # The CPU timer takes at most ~9.2e9 s (time_t); a day says "no limit" enough.
            ("processing_budget_s", f"must be at most {MAX_PROCESSING_BUDGET_S} (a day)",
             self.processing_budget_s <= MAX_PROCESSING_BUDGET_S),
            ("near_threshold", "must be in [0, 1]", 0 <= self.near_threshold <= 1),
            ("index_backend", "must be 'compact' or 'memory'",
             self.index_backend in ("compact", "memory")),
            ("extraction", "must be 'thorough' or 'fast'", self.extraction in ("thorough", "fast")),
            ("event_time", "must be 'received' or 'published'",
             self.event_time in ("received", "published")),
            # One article would make every paragraph boilerplate as soon as it is seen.
            ("boilerplate_min_articles", "must be >= 2", self.boilerplate_min_articles >= 2),
            *at_least_one,
            *not_negative,
            *ports,
            *positive,
        ]
        problems = [f"{_env_name(name)} {text}" for name, text, ok in checks
                    if not ok and name not in infinite]
        problems += [f"{_env_name(name)} must be a finite number" for name in infinite]
        problems += _ms_problems(self, infinite)
        problems += self._size_problems()
        problems += _topic_problems(self)
        problems += [f"INGEST_PUBLISHING_PLATFORMS: {problem}" for problem
                     in platform_problems(_extra_platforms(self.publishing_platforms))]
        if problems:
            raise ConfigError("; ".join(problems))
        return self

    def _size_problems(self) -> list[str]:
        problems = []
        if self.max_body_bytes < 1024:
            problems.append("INGEST_MAX_BODY_BYTES must be >= 1024")
        if self.max_message_bytes < MIN_MESSAGE_BYTES:
            # Below this the fixed part of a record (capped metadata, 64 KiB of extra) might
            # not leave room for any text.
            problems.append(f"INGEST_MAX_MESSAGE_BYTES must be >= {MIN_MESSAGE_BYTES}")
        if self.max_body_bytes > self.max_message_bytes:
            problems.append(
                f"INGEST_MAX_BODY_BYTES ({self.max_body_bytes}) must be <= "
                f"INGEST_MAX_MESSAGE_BYTES ({self.max_message_bytes}): Kafka refuses larger "
                "raw messages before the ingester could dead-letter them"
            )
        if self.boilerplate_max_bytes < 1024 * 1024:
            problems.append("INGEST_BOILERPLATE_MAX_BYTES must be >= 1048576")
        return problems


def _extra_platforms(listed: str) -> list[str]:
    """``INGEST_PUBLISHING_PLATFORMS``'s domains, lower case, without a trailing dot."""
    return [name.strip().lower().rstrip(".") for name in listed.split(",") if name.strip()]


def _non_finite(settings: Settings) -> list[str]:
    """The float settings that are infinite or NaN (``float()`` reads "inf" and "1e400" as
    infinity, which passes every ``> 0``: until 2026-12-05 INGEST_DEDUP_WINDOW_DAYS=inf
    crashed the worker with an OverflowError)."""
    return [f.name for f in fields(settings)
            if f.type == "float" and not math.isfinite(getattr(settings, f.name))]


def _ms_problems(settings: Settings, infinite: list[str]) -> list[str]:
    problems = []
    for name, ms_per_unit in MS_PER_UNIT.items():
        value = getattr(settings, name)
        if name not in infinite and value > MAX_MS // ms_per_unit:
            problems.append(f"{_env_name(name)} must be at most {MAX_MS // ms_per_unit}: its "
                            "milliseconds must fit a 64-bit integer")
    return problems


def _topic_problems(settings: Settings) -> list[str]:
    """Topic settings that name the same topic. The worker would read its own output back
    (a dead-letter topic that is the raw topic dead-letters its dead letters for ever), or
    mix one kind of record into another's topic."""
    sharing: dict[str, list[str]] = {}
    for name, topic in settings.topics.items():
        sharing.setdefault(topic, []).append(_env_name(name))
    problems = []
    for topic, names in sharing.items():
        if len(names) > 1:
            both = f"{', '.join(names[:-1])} and {names[-1]}"
            problems.append(f"{both} name the same topic, {topic!r}: each needs a topic of its "
                            "own")
    return problems


def _coerce(raw: str, target: Any, name: str) -> Any:
    try:
        if target is bool:
            word = raw.strip().lower()
            if word not in _TRUE + _FALSE:
                # A typo ("ture") must not turn a feature off without a word.
                raise ConfigError(f"{_env_name(name)}={raw!r} is not a valid bool: one of "
                                  f"{', '.join(_TRUE)} or {', '.join(_FALSE)}")
            return word in _TRUE
        if target is Path:
            return Path(raw)
        if target is Secret:
            return Secret(raw)
        return target(raw)
    except ValueError as exc:
        raise ConfigError(f"{_env_name(name)}={raw!r} is not a valid {target.__name__}") from exc


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_TYPES: dict[str, Any] = {
    "str": str, "int": int, "float": float, "bool": bool, "Path": Path, "Secret": Secret,
}


def env_names() -> dict[str, str]:
    """Setting name -> environment variable, for docs and tests."""
    return {f.name: _env_name(f.name) for f in fields(Settings)}


# Python's level names (logging reads the setting; Faust's spelling is mapped from them):
# the ones ``ingest worker -l`` offers, and the aliases Python's logging also accepts.
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_LOG_LEVELS = frozenset({*LOG_LEVELS, "warn", "fatal"})


def load(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment (``os.environ`` by default) and explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in fields(Settings):
        var = _env_name(f.name)
        if var in env and env[var] != "":
            values[f.name] = _coerce(env[var], _TYPES[str(f.type)], f.name)
    secret_file = env.get("KAFKA_SASL_PASSWORD_FILE", "")
    if secret_file:
        # Secrets from a file (Docker/Kubernetes secrets) rather than the environment.
        try:
            values["kafka_sasl_password"] = Secret(Path(secret_file).read_text().strip())
        except OSError as exc:
            raise ConfigError(f"KAFKA_SASL_PASSWORD_FILE={secret_file!r}: {exc}") from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "kafka_sasl_password" in values and not isinstance(values["kafka_sasl_password"], Secret):
        values["kafka_sasl_password"] = Secret(values["kafka_sasl_password"])
    return Settings(**values).validate()
