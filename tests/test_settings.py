from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import pytest

from streams import settings as settings_mod
from streams.core.domains import PUBLISHING_PLATFORMS
from streams.core.errors import ConfigError
from streams.settings import Secret, Settings, env_names, load
from streams.shell.config import core_config


def test_defaults_embedded_and_fast_group_timing() -> None:
    s = load({})
    assert s.embedded
    assert (s.session_timeout_s, s.heartbeat_interval_s) == (2.0, 0.5)
    assert s.topic_raw == "articles.raw"
    assert s.output_topics == ("articles.enriched", "articles.duplicates", "articles.deadletter")


def test_environment_and_overrides() -> None:
    s = load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "INGEST_DATA_DIR": "/d",
              "INGEST_WEB_PORT": "7000", "INGEST_PARTITIONS": "8"}, web_port=7001)
    assert (s.kafka_bootstrap_servers, s.data_dir, s.web_port, s.partitions) == (
        "k:9092", Path("/d"), 7001, 8)
    assert not s.embedded
    assert s.session_timeout_s == 10.0  # real Kafka rejects session timeouts under 6 s


def test_invalid_values_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="INGEST_WEB_PORT"):
        load({"INGEST_WEB_PORT": "eighty"})
    with pytest.raises(ConfigError, match="INGEST_PARTITIONS must be >= 1"):
        load({"INGEST_PARTITIONS": "0"})


def test_secrets_never_render() -> None:
    s = load({"KAFKA_SASL_PASSWORD": "hunter2", "KAFKA_SASL_MECHANISM": "PLAIN",
              "KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.kafka_sasl_password)
    assert isinstance(s.kafka_sasl_password, Secret)
    assert s.kafka_sasl_password.reveal() == "hunter2"


def test_every_setting_has_an_env_var_and_a_readme_row() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [var for var in env_names().values() if f"`{var}`" not in readme]
    assert missing == []


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("INGEST_WEB_PORT", "70000", "INGEST_WEB_PORT must be in 0..65535"),
        ("INGEST_EMBEDDED_BROKER_PORT", "-1", "INGEST_EMBEDDED_BROKER_PORT must be in 0..65535"),
        ("INGEST_BROKER_WAIT_S", "0", "INGEST_BROKER_WAIT_S must be > 0"),
        ("INGEST_DEDUP_WINDOW_DAYS", "0", "INGEST_DEDUP_WINDOW_DAYS must be > 0"),
        ("INGEST_NEAR_THRESHOLD", "1.5", "INGEST_NEAR_THRESHOLD must be in [0, 1]"),
        ("INGEST_EXTRACTION", "quick", "INGEST_EXTRACTION must be 'thorough' or 'fast'"),
        ("INGEST_EVENT_TIME", "kafka",
         "INGEST_EVENT_TIME must be 'received' or 'published'"),
        ("INGEST_MAX_MESSAGE_BYTES", "100000", "INGEST_MAX_MESSAGE_BYTES must be >= 262144"),
        ("INGEST_MAX_BODY_BYTES", "1048577", "INGEST_MAX_BODY_BYTES (1048577) must be <= "
         "INGEST_MAX_MESSAGE_BYTES (1048576)"),
        ("INGEST_BOILERPLATE_MAX_BYTES", "1000",
         "INGEST_BOILERPLATE_MAX_BYTES must be >= 1048576"),
        ("INGEST_WORKER_ID", "w" * 257, "INGEST_WORKER_ID must have 1..256 characters"),
        ("INGEST_LOG_LEVEL", "crit", "INGEST_LOG_LEVEL must be debug, info, warning (warn), "
         "error or critical (fatal)"),
        # found by a new-user trial: accepted, then a crash or a misbehaving worker
        ("INGEST_DEADLETTER_WINDOW", "0", "INGEST_DEADLETTER_WINDOW must be >= 1"),
        ("INGEST_DEADLETTER_PAUSE_S", "600", "INGEST_DEADLETTER_PAUSE_S must be <= 290 (Faust "
         "reports a partition not fetched for 300 s as stalled)"),
        ("INGEST_VERDICT_HOLD_MS", "-1", "INGEST_VERDICT_HOLD_MS must be >= 0"),
        ("INGEST_RACE_FALLBACK_S", "-1", "INGEST_RACE_FALLBACK_S must be >= 0"),
        ("INGEST_REPLICATION_FACTOR", "0", "INGEST_REPLICATION_FACTOR must be >= 1"),
        ("INGEST_BOILERPLATE_MIN_ARTICLES", "1", "INGEST_BOILERPLATE_MIN_ARTICLES must be >= 2"),
        ("INGEST_BROKER_SESSION_TIMEOUT_S", "-1", "INGEST_BROKER_SESSION_TIMEOUT_S must be >= 0"),
        ("INGEST_BROKER_HEARTBEAT_INTERVAL_S", "5", "INGEST_BROKER_HEARTBEAT_INTERVAL_S must be "
         "less than the session timeout"),
        ("INGEST_STORIES", "nope", "INGEST_STORIES='nope' is not a valid bool: one of 1, true, "
         "yes, on or 0, false, no, off"),
        ("INGEST_INDEX_SPILL", "ture", "INGEST_INDEX_SPILL='ture' is not a valid bool"),
    ],
)
def test_out_of_range_settings_are_refused(var: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load({var: value})


def test_password_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    settings = load({"KAFKA_SASL_PASSWORD_FILE": str(secret)})
    assert settings.kafka_sasl_password.reveal() == "s3cret"
    with pytest.raises(ConfigError, match="KAFKA_SASL_PASSWORD_FILE"):
        load({"KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "missing")})


def test_body_limit_defaults_under_the_message_limit() -> None:
    settings = load({})
    assert (settings.max_body_bytes, settings.max_message_bytes) == (983_040, 1_048_576)
    raised = load({"INGEST_MAX_MESSAGE_BYTES": "8388608", "INGEST_MAX_BODY_BYTES": "8388608"})
    assert raised.max_body_bytes == raised.max_message_bytes == 8 * 1024 * 1024


def test_a_cfs_quota_reads_as_cores() -> None:
    assert settings_mod.cpu_limit("150000", "100000") == 1.5
    assert settings_mod.cpu_limit("200000", "100000") == 2.0
    assert settings_mod.cpu_limit("max", "100000") is None  # cgroup v2: no limit
    assert settings_mod.cpu_limit("-1", "100000") is None  # cgroup v1: no limit
    assert settings_mod.cpu_limit("garbage", "") is None


def _cgroup_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **files: str) -> None:
    for name, attr in (("cpu.max", "CGROUP_CPU_MAX"), ("quota", "CGROUP_V1_QUOTA"),
                       ("period", "CGROUP_V1_PERIOD")):
        path = tmp_path / name
        if name.replace(".", "_") in files:
            path.write_text(files[name.replace(".", "_")] + "\n")
        monkeypatch.setattr(settings_mod, attr, path)


def test_the_container_cpu_limit_comes_from_cgroup_v2_then_v1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _cgroup_files(monkeypatch, tmp_path, cpu_max="100000 100000", quota="300000",
                  period="100000")
    assert settings_mod.cgroup_cpu_limit() == 1.0
    (tmp_path / "v1").mkdir()
    _cgroup_files(monkeypatch, tmp_path / "v1", quota="300000", period="100000")
    assert settings_mod.cgroup_cpu_limit() == 3.0
    (tmp_path / "none").mkdir()
    _cgroup_files(monkeypatch, tmp_path / "none")  # no files: not in a cgroup we can read
    assert settings_mod.cgroup_cpu_limit() is None


def test_the_default_pool_is_the_cores_the_worker_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings_mod.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(settings_mod, "cgroup_cpu_limit", lambda: None)
    assert load({}).pool_processes == 4
    # three workers scaled out on a 4-core host, each limited to 1.5 CPUs: one process each
    monkeypatch.setattr(settings_mod, "cgroup_cpu_limit", lambda: 1.5)
    assert load({}).pool_processes == 1
    monkeypatch.setattr(settings_mod, "cgroup_cpu_limit", lambda: 0.5)
    assert load({}).pool_processes == 1  # at least one
    monkeypatch.setattr(settings_mod, "cgroup_cpu_limit", lambda: 16.0)
    assert load({}).pool_processes == 4  # never more than the affinity allows
    assert load({"INGEST_PROCESSES": "3"}).pool_processes == 3  # set: taken as is


@pytest.mark.parametrize("level", ["debug", "INFO", "warn", "Warning", "error", "critical"])
def test_log_levels_are_python_s_names_in_any_case(level: str) -> None:
    assert load({"INGEST_LOG_LEVEL": level}).log_level == level


@pytest.mark.parametrize(("value", "stories"), [("1", True), ("ON", True), (" yes ", True),
                                                  ("0", False), ("off", False), ("No", False)])
def test_booleans_are_read_in_any_case(value: str, stories: bool) -> None:
    assert load({"INGEST_STORIES": value}).stories is stories


def test_every_problem_is_named_by_its_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        load({"INGEST_BATCH_SIZE": "0", "INGEST_PARTITIONS": "0"})
    assert raised.value.detail == "INGEST_PARTITIONS must be >= 1; INGEST_BATCH_SIZE must be >= 1"


TOPIC_VARS = ["INGEST_TOPIC_RAW", "INGEST_TOPIC_ENRICHED", "INGEST_TOPIC_DUPLICATES",
              "INGEST_TOPIC_DEADLETTER", "INGEST_TOPIC_FINGERPRINTS", "INGEST_TOPIC_STORIES"]


def test_the_topic_settings_are_the_six_topics() -> None:
    assert load({}).topics == {
        "topic_raw": "articles.raw", "topic_enriched": "articles.enriched",
        "topic_duplicates": "articles.duplicates", "topic_deadletter": "articles.deadletter",
        "topic_fingerprints": "ingest.fingerprints", "topic_stories": "articles.stories",
    }
    assert sorted(env_names()[name] for name in load({}).topics) == sorted(TOPIC_VARS)


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(TOPIC_VARS, 2)))
def test_two_topic_settings_naming_one_topic_are_refused(first: str, second: str) -> None:
    # Found by a new-user trial: INGEST_TOPIC_DEADLETTER=articles.raw dead-lettered its own
    # dead letters for ever (641 in 60 s); an enriched topic that is the raw one read every
    # kept article back.
    with pytest.raises(ConfigError) as raised:
        load({first: "same.topic", second: "same.topic"})
    assert raised.value.detail == (
        f"{first} and {second} name the same topic, 'same.topic': each needs a topic of its own")


def test_every_group_of_topic_settings_sharing_a_topic_is_named() -> None:
    with pytest.raises(ConfigError) as raised:
        load({"INGEST_TOPIC_DEADLETTER": "articles.raw", "INGEST_TOPIC_STORIES": "articles.raw",
              "INGEST_TOPIC_FINGERPRINTS": "articles.enriched"})
    assert raised.value.detail == (
        "INGEST_TOPIC_RAW, INGEST_TOPIC_DEADLETTER and INGEST_TOPIC_STORIES name the same "
        "topic, 'articles.raw': each needs a topic of its own; INGEST_TOPIC_ENRICHED and "
        "INGEST_TOPIC_FINGERPRINTS name the same topic, 'articles.enriched': each needs a topic "
        "of its own")


FLOAT_VARS = [env_names()[f.name] for f in dataclasses.fields(Settings) if f.type == "float"]


def test_the_float_settings_are_the_thirteen_numbers() -> None:
    assert FLOAT_VARS == [
        "INGEST_BATCH_WINDOW_S", "INGEST_DEDUP_WINDOW_DAYS", "INGEST_NEAR_THRESHOLD",
        "INGEST_RACE_FALLBACK_S", "INGEST_PROCESSING_BUDGET_S", "INGEST_SNAPSHOT_INTERVAL_S",
        "INGEST_BROKER_WAIT_S", "INGEST_BROKER_LOST_S", "INGEST_DEADLETTER_MAX_RATIO",
        "INGEST_DEADLETTER_PAUSE_S", "INGEST_PUBLISH_BACKOFF_S",
        "INGEST_BROKER_SESSION_TIMEOUT_S", "INGEST_BROKER_HEARTBEAT_INTERVAL_S",
    ]


@pytest.mark.parametrize("value", ["inf", "Infinity", "1e400", "-inf", "nan"])
@pytest.mark.parametrize("var", FLOAT_VARS)
def test_a_float_setting_that_is_not_finite_is_refused(var: str, value: str) -> None:
    # Found by a new-user trial: "inf" passed "> 0", then INGEST_DEDUP_WINDOW_DAYS=inf and
    # INGEST_BROKER_WAIT_S=1e400 crashed the worker (OverflowError turning them into ms).
    with pytest.raises(ConfigError) as raised:
        load({var: value})
    assert raised.value.detail == f"{var} must be a finite number"


# The largest value accepted (limit: the largest whose milliseconds fit 64 bits, exact for
# days; seconds above 2**53 are even floats, so the test takes the even numbers around it).
@pytest.mark.parametrize(("var", "accepted", "refused", "limit"), [
    ("INGEST_DEDUP_WINDOW_DAYS", "106751991167", "106751991168", 106_751_991_167),
    ("INGEST_BROKER_WAIT_S", "9223372036854774", "9223372036854776", 9_223_372_036_854_775),
    ("INGEST_RACE_FALLBACK_S", "9223372036854774", "1e16", 9_223_372_036_854_775),
    ("INGEST_SNAPSHOT_INTERVAL_S", "9223372036854774", "9223372036854776",
     9_223_372_036_854_775),
])
def test_a_duration_whose_milliseconds_do_not_fit_64_bits_is_refused(
    var: str, accepted: str, refused: str, limit: int,
) -> None:
    load({var: accepted})
    with pytest.raises(ConfigError) as raised:
        load({var: refused})
    assert raised.value.detail == (
        f"{var} must be at most {limit}: its milliseconds must fit a 64-bit integer")


def test_the_longest_dedup_window_fits_the_retention_of_the_fingerprint_log() -> None:
    assert load({"INGEST_DEDUP_WINDOW_DAYS": "106751991167"}).dedup_window_ms == (
        9_223_372_036_828_800_000)
    assert 9_223_372_036_828_800_000 <= 2**63 - 1


def test_a_processing_budget_beyond_a_day_is_refused() -> None:
    # Trial 2026-12-05: INGEST_PROCESSING_BUDGET_S=1e10 passed the start, then every
    # message's CPU timer raised OverflowError (time_t) in the prepare step.
    assert load({"INGEST_PROCESSING_BUDGET_S": "86400"}).processing_budget_s == 86_400
    with pytest.raises(ConfigError) as raised:
        load({"INGEST_PROCESSING_BUDGET_S": "1e10"})
    assert raised.value.detail == "INGEST_PROCESSING_BUDGET_S must be at most 86400 (a day)"


def test_publishing_platforms_add_to_the_built_in_ones() -> None:
    extra = load({"INGEST_PUBLISHING_PLATFORMS": " Blogs.Example. , news-sites.example.org,"})
    assert extra.publishing_platform_set == PUBLISHING_PLATFORMS | {
        "blogs.example", "news-sites.example.org"}
    assert load({}).publishing_platform_set == PUBLISHING_PLATFORMS
    assert core_config(extra).publishing_platforms == extra.publishing_platform_set


@pytest.mark.parametrize("value", ["localhost", "blogs..example", "-x.example", "x_y.example",
                                   "https://blogs.example", "blogs.example/a"])
def test_a_publishing_platform_must_be_a_domain_name(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load({"INGEST_PUBLISHING_PLATFORMS": f"ok.example,{value}"})
    assert raised.value.detail == (
        f"INGEST_PUBLISHING_PLATFORMS: {value.lower()!r} is not a domain name")
