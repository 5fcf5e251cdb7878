"""Static checks of the container and monitoring setup (no Docker engine, no network).

docker-compose.yml, the Dockerfile and deploy/ cannot be run here, so these tests read them
and check that their parts agree with each other and with the code: settings, ports, the
broker listener, the console script, metric names and file references.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import PurePosixPath
from typing import Any, ClassVar

import pytest

from streams.settings import env_names
from tests.deploy.promql import (
    DASHBOARD_JSON,
    DEPLOY,
    PROMETHEUS_YML,
    ROOT,
    alert_exprs,
    alert_rules,
    dashboard_exprs,
    declared_series,
    is_known_metric,
    load_yaml,
    metric_names,
)

COMPOSE_YML = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
_DEFAULTED = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(COMPOSE_YML)
    return loaded


def service(name: str) -> dict[str, Any]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services[name]


def environment(name: str) -> dict[str, str]:
    """A service's environment as strings, ${VAR:-default} resolved to its default."""
    env = service(name).get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: _DEFAULTED.sub(lambda m: m.group(2) or "", str(v)) for k, v in env.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines()
             if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for parts in (line.strip().split(None, 1) for line in joined.splitlines())
        if parts
    ]


def dockerfile(instruction: str) -> list[str]:
    return [args for name, args in dockerfile_instructions() if name == instruction]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in dockerfile("ENV"):
        for item in shlex.split(args):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def worker_setting(var: str) -> str:
    """What the worker container sees: compose environment over the image's ENV."""
    return {**dockerfile_env(), **environment("worker")}[var]


def published(name: str) -> list[tuple[str, int, int]]:
    """A service's published ports as (host address, host port, container port), with
    ${VAR:-default} resolved to its default."""
    out = []
    for spec in service(name).get("ports", []):
        resolved = _DEFAULTED.sub(lambda m: m.group(2) or "", str(spec))
        address, host_port, container_port = resolved.rsplit(":", 2)
        out.append((address, int(host_port), int(container_port)))
    return out


def listeners(value: str) -> dict[str, tuple[str, int]]:
    """'NAME://host:port,...' -> {NAME: (host, port)}."""
    out = {}
    for item in value.split(","):
        name, _, address = item.partition("://")
        host, _, port = address.rpartition(":")
        out[name] = (host, int(port))
    return out


def test_compose_has_the_four_services_on_pinned_images() -> None:
    services = compose()["services"]
    assert set(services) == {"kafka", "worker", "prometheus", "grafana"}
    for name in ("kafka", "prometheus", "grafana"):
        image = services[name]["image"]
        assert ":" in image and not image.endswith(":latest"), image
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    assert services["worker"]["build"] == "."


def test_every_worker_env_var_is_a_setting() -> None:
    known = set(env_names().values())
    assert set(environment("worker")) - known == set()
    assert {k for k in dockerfile_env() if k.startswith(("INGEST_", "KAFKA_"))} - known == set()


def test_worker_is_scalable() -> None:
    worker = service("worker")
    assert "container_name" not in worker
    assert "ports" not in worker  # a fixed host port would clash between replicas
    assert "INGEST_WORKER_ID" not in environment("worker")
    assert "INGEST_WORKER_ID" not in dockerfile_env()
    assert worker_setting("INGEST_WEB_HOST") == "0.0.0.0"


def test_prometheus_scrapes_every_worker_on_its_web_port() -> None:
    web_port = int(worker_setting("INGEST_WEB_PORT"))
    jobs = {job["job_name"]: job for job in load_yaml(PROMETHEUS_YML)["scrape_configs"]}
    (sd,) = jobs["ingest-worker"]["dns_sd_configs"]
    assert sd["type"] == "A"
    assert sd["names"] == ["worker"]  # the compose service name: one A record per replica
    assert sd["port"] == web_port
    assert str(web_port) in [str(p) for p in service("worker")["expose"]]
    assert dockerfile("EXPOSE") == [str(web_port)]


def test_worker_bootstrap_is_kafkas_in_network_listener() -> None:
    kafka = environment("kafka")
    advertised = listeners(kafka["KAFKA_ADVERTISED_LISTENERS"])
    bound = listeners(kafka["KAFKA_LISTENERS"])
    in_network = kafka["KAFKA_INTER_BROKER_LISTENER_NAME"]
    host, port = advertised[in_network]
    assert host == "kafka" and "kafka" in compose()["services"]
    assert environment("worker")["KAFKA_BOOTSTRAP_SERVERS"] == f"{host}:{port}"
    assert bound[in_network][1] == port


def test_kafka_listeners_agree_with_each_other() -> None:
    kafka = environment("kafka")
    advertised = listeners(kafka["KAFKA_ADVERTISED_LISTENERS"])
    bound = listeners(kafka["KAFKA_LISTENERS"])
    protocols = dict(item.split(":") for item in
                     kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(bound) == set(protocols)
    controller = kafka["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert set(advertised) == set(bound) - {controller}
    node, _, voter = kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"].partition("@")
    assert node == str(kafka["KAFKA_NODE_ID"])
    assert voter == f"kafka:{bound[controller][1]}"
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    # Host clients reach the advertised localhost listener through the published port.
    (host_listener,) = [n for n, (h, _) in advertised.items() if h == "localhost"]
    port = advertised[host_listener][1]
    assert ("127.0.0.1", port, bound[host_listener][1]) in published("kafka")


def test_worker_waits_for_a_healthy_kafka() -> None:
    assert service("worker")["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "kafka-broker-api-versions" in " ".join(service("kafka")["healthcheck"]["test"])


def test_dockerfile_installs_from_pyproject_and_runs_the_worker() -> None:
    (base,) = dockerfile("FROM")
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", base), base
    (run, *_) = dockerfile("RUN")
    steps = [step.strip() for step in run.split("&&")]
    # Hashed dependencies first, then the package with no index: nothing unhashed gets in.
    assert steps[0] == "pip install --require-hashes --no-deps -r requirements.lock"
    assert steps[1] == "pip install --no-deps --no-build-isolation --no-index ."
    copied = {src for args in dockerfile("COPY") for src in args.split()[:-1]}
    assert {"requirements.lock", "pyproject.toml", "README.md", "streams"} <= copied
    assert dockerfile("CMD") == ['["ingest", "worker"]']
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["ingest"] == "streams.cli.main:main"


def test_pip_install_ships_every_module_and_data_file() -> None:
    """The image runs the installed package, not the source tree: nothing may be left out."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["packages"]["find"]["include"] == ["streams*"]
    package = ROOT / "streams"
    for directory in {p.parent for p in package.rglob("*.py")}:
        assert (directory / "__init__.py").is_file(), f"{directory} is not a package"
    globs = setuptools["package-data"]["streams"]
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and p.name != "README.md"]
    assert [f for f in data if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


def test_dockerfile_runs_as_a_non_root_user() -> None:
    (user,) = dockerfile("USER")
    assert user not in ("root", "0")
    assert re.search(rf"useradd\b.*\b{user}\b", " ".join(dockerfile("RUN")))


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a match on a parent directory counts."""
    candidates = [path, *(str(p) for p in PurePosixPath(path).parents if str(p) != ".")]
    ignored = False
    for line in patterns:
        negated = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            ignored = not negated
    return ignored


def test_dockerignore_sends_the_build_inputs_and_nothing_else() -> None:
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    needed = ["pyproject.toml", "README.md", "requirements.lock"] + [
        str(p.relative_to(ROOT)) for p in (ROOT / "streams").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert [p for p in needed if _dockerignored(p, patterns)] == []
    for unwanted in (".venv/bin/python", ".git/HEAD", "tests/conftest.py",
                     "streams/__pycache__/cli.cpython-311.pyc", ".ingest-data/x"):
        assert _dockerignored(unwanted, patterns), unwanted


def test_healthchecks_use_healthz_in_the_image_and_readyz_in_compose() -> None:
    (image_check,) = dockerfile("HEALTHCHECK")
    assert "/healthz" in image_check
    assert "/readyz" in " ".join(service("worker")["healthcheck"]["test"])


class _Pages(BaseHTTPRequestHandler):
    status: ClassVar[dict[str, int]] = {"/healthz": 200, "/readyz": 503}

    def do_GET(self) -> None:
        self.send_response(self.status.get(self.path, 404))
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def pages() -> Iterator[int]:
    """A loopback stand-in for the worker's web pages: alive, not ready."""
    server = HTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _run_check(argv: list[str], port: int) -> int:
    assert argv[0] == "python"  # the image's interpreter; ours stands in for it here
    env = {"INGEST_WEB_PORT": str(port), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, *argv[1:]], env=env, timeout=30, check=False)
    return done.returncode


def test_image_healthcheck_passes_on_a_live_worker(pages: int) -> None:
    (image_check,) = dockerfile("HEALTHCHECK")
    argv = json.loads(image_check.split("CMD", 1)[1])
    assert _run_check(argv, pages) == 0


def test_compose_healthcheck_fails_on_a_worker_that_is_not_ready(pages: int) -> None:
    kind, *argv = service("worker")["healthcheck"]["test"]
    assert kind == "CMD"
    assert _run_check(argv, pages) != 0


def test_compose_healthcheck_passes_on_a_ready_worker(
    pages: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(_Pages.status, "/readyz", 200)
    _, *argv = service("worker")["healthcheck"]["test"]
    assert _run_check(argv, pages) == 0


def test_prometheus_config_and_rule_files_are_mounted() -> None:
    prometheus = service("prometheus")
    mounts = dict(v.split(":")[:2] for v in prometheus["volumes"])
    config_dir = DEPLOY / "prometheus"
    container_dir = mounts[f"./{config_dir.relative_to(ROOT)}"]
    assert f"--config.file={container_dir}/prometheus.yml" in prometheus["command"]
    for rule_file in load_yaml(PROMETHEUS_YML)["rule_files"]:
        assert (config_dir / rule_file).is_file(), rule_file


def test_grafana_provisioning_points_at_the_mounted_dashboards_and_prometheus() -> None:
    mounts = dict(v.split(":")[:2] for v in service("grafana")["volumes"])
    provisioning = ROOT / mounts_from(mounts, "/etc/grafana/provisioning")
    (provider,) = load_yaml(provisioning / "dashboards" / "dashboards.yml")["providers"]
    dashboards_dir = ROOT / mounts_from(mounts, provider["options"]["path"])
    assert (dashboards_dir / DASHBOARD_JSON.name).samefile(DASHBOARD_JSON)
    (datasource,) = load_yaml(provisioning / "datasources" / "prometheus.yml")["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
    assert published("prometheus") == [("127.0.0.1", 9090, 9090)]
    uids = {t["datasource"]["uid"] for p in json.loads(DASHBOARD_JSON.read_text())["panels"]
            for t in p["targets"]}
    assert uids == {datasource["uid"]}


def mounts_from(mounts: dict[str, str], target: str) -> str:
    (source,) = [src for src, dst in mounts.items() if dst == target]
    return source


def test_dashboard_is_valid_json_with_unique_panels_and_queries() -> None:
    dashboard = json.loads(DASHBOARD_JSON.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(p["targets"] and all(t["expr"].strip() for t in p["targets"])
               for p in dashboard["panels"])
    assert dashboard["uid"] == "article-ingester"


def test_dashboard_shows_what_operators_need() -> None:
    used = set().union(*(metric_names(e.promql) for e in dashboard_exprs()))
    assert {
        "ingest_articles_consumed_total", "ingest_articles_enriched_total",
        "ingest_duplicates_total", "ingest_deadletters_total",
        "ingest_end_to_end_seconds_bucket", "ingest_stage_seconds_bucket",
        "ingest_consumer_lag_messages", "ingest_index_entries", "ingest_index_bytes",
        "ingest_corrections_total", "ingest_boilerplate_removed_total", "up",
        "ingest_stories_opened_total", "ingest_story_articles_total",
        "ingest_story_merges_total", "ingest_story_size_articles_bucket",
    } <= used


def test_every_source_file_the_deploy_files_name_exists() -> None:
    # alerts.yml said its metrics were declared in streams/metrics.py, a file that is not.
    named = {
        (path.relative_to(ROOT).as_posix(), source)
        for path in sorted(DEPLOY.rglob("*")) if path.is_file()
        for source in re.findall(r"\b(?:streams|tests|bench)/[\w/]+\.py\b", path.read_text())
    }
    assert ("deploy/prometheus/alerts.yml", "streams/shell/metrics.py") in named
    assert [(where, source) for where, source in named if not (ROOT / source).is_file()] == []


def test_the_rebalance_panel_counts_completed_rebalances() -> None:
    # faust_total_rebalances, its query until 2026-12-04, is a gauge of rebalances in
    # progress (up at the start, down when the consumer has its assignment): ~0 whatever
    # happened. faust_assignment_operations_total counts on the group leader only.
    [expr] = [e for e in dashboard_exprs()
              if e.where.startswith("panel 'Consumer-group rebalances'")]
    assert metric_names(expr.promql) == {"faust_rebalance_done_latency_count"}


@pytest.mark.parametrize("expr", dashboard_exprs() + alert_exprs(), ids=lambda e: e.where)
def test_every_queried_metric_exists(expr: Any) -> None:
    names = metric_names(expr.promql)
    assert names, "no metric found in the expression"
    declared = declared_series()
    assert {n for n in names if not is_known_metric(n, declared)} == set()


def test_alerts_cover_lag_deadletters_latency_and_workers() -> None:
    exprs = {e.where.removeprefix("rule "): e.promql for e in alert_exprs()}
    assert "ingest_consumer_lag_messages" in exprs["IngestLagGrowingWithoutProgress"]
    assert "ingest_deadletters_total" in exprs["IngestDeadLetterRatioHigh"]
    assert "histogram_quantile" in exprs["IngestEndToEndLatencyHigh"]
    assert "histogram_quantile" in exprs["IngestStageLatencyHigh"]
    assert exprs["IngestWorkerDown"] == 'up{job="ingest-worker"} == 0'


def test_every_alert_says_what_happened_and_what_to_do() -> None:
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]
        assert rule.get("for"), rule["alert"]


def test_job_labels_in_queries_match_the_scrape_jobs() -> None:
    jobs = {job["job_name"] for job in load_yaml(PROMETHEUS_YML)["scrape_configs"]}
    used = {job for e in dashboard_exprs() + alert_exprs()
            for job in re.findall(r'job="([^"]+)"', e.promql)}
    assert used and used <= jobs


def test_published_ports_bind_to_loopback_unless_configured() -> None:
    """Kafka's host listener has no authentication: nothing is published on every interface
    by default, and one variable moves all of them."""
    specs = [str(spec) for svc in compose()["services"].values()
             for spec in svc.get("ports", [])]
    assert specs and all(spec.startswith("${PUBLISH_ADDRESS:-127.0.0.1}:") for spec in specs)
    assert {name for name, svc in compose()["services"].items() if svc.get("ports")} == {
        "kafka", "prometheus", "grafana"}


def test_prometheus_lifecycle_api_is_off() -> None:
    assert not [arg for arg in service("prometheus")["command"] if "lifecycle" in arg]


def test_grafana_requires_an_admin_password_from_a_file_and_has_no_anonymous_access() -> None:
    env = service("grafana")["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "GF_AUTH_ANONYMOUS_ORG_ROLE" not in env
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env  # no default password, not in the env
    (secret,) = service("grafana")["secrets"]
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == f"/run/secrets/{secret}"
    source = compose()["secrets"][secret]["file"]
    # ${VAR:?message}: compose refuses to start when the file is not named.
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD_FILE:\?[^}]+\}", source), source


def test_no_password_is_written_into_the_compose_file() -> None:
    """Passwords come from files (GF_*__FILE, KAFKA_SASL_PASSWORD_FILE), never as values."""
    for name, svc in compose()["services"].items():
        env = svc.get("environment", {})
        for var, value in env.items():
            if re.search(r"PASSWORD|SECRET", var):
                assert var.endswith("_FILE") and str(value).startswith("/run/secrets/"), (
                    name, var)
