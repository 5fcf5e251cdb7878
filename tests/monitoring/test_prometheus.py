"""The dashboard and alert rules against a real Prometheus scraping a real worker.

A worker on the embedded Tansu broker processes the sample articles, an exact re-send and
two bad messages (non-UTF-8 bytes, an envelope without a body), so every metric family has
series; then the same messages again, all of them duplicates or dead letters now. Prometheus
(Debian's package; ``make prometheus`` installs it) scrapes the worker every second with the
job names of deploy/prometheus/prometheus.yml and evaluates the real
deploy/prometheus/alerts.yml. The second wave comes after Prometheus has seen the first, so
every counter, labelled ones included (a labelled series is born at its first increment),
rises inside the rate windows. Then every query must return data, at least one sample that
is a number (not the NaN of a rate over an idle window):

* each dashboard target, with Grafana's ``$__rate_interval`` replaced by a range;
* each alert rule, split into the signals it compares (``tests.deploy.promql.operands``):
  an alert is ``<signal> <comparison> <threshold>`` joined by ``and``/``or``/``unless``,
  and is rightly empty while the system is healthy, so the check is that every signal
  has data (``delta(lag) > 0 and on(instance) rate(consumed) == 0`` gives
  ``delta(lag)`` and ``rate(consumed)``; ``absent(up == 1)`` gives ``up``; numeric
  thresholds are dropped). The whole expression must still evaluate without error, and
  Prometheus must report every rule group healthy.

The binaries missing is a failure, not a skip: ``make test`` installs them.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from streams.kafka.broker import EmbeddedBroker, free_port
from tests.conftest import broker_settings
from tests.deploy.promql import (
    ALERTS_YML,
    PROMETHEUS_YML,
    Expr,
    alert_exprs,
    dashboard_exprs,
    load_yaml,
    operands,
    with_grafana_variables,
)
from tests.harness import SAMPLES, Collected, Worker, collect, envelope, produce

pytestmark = pytest.mark.prometheus

WORKER_JOB = "ingest-worker"
STARTUP_TIMEOUT_S = 20.0
DATA_TIMEOUT_S = 60.0


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found on PATH: run `make prometheus` "
                    "(apt-get install prometheus) to install the server and promtool")
    return path


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("promtool"), *map(str, args)], capture_output=True,
                          text=True, timeout=60, check=False)


def test_promtool_accepts_the_deploy_config() -> None:
    done = promtool("check", "config", PROMETHEUS_YML)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_accepts_the_alert_rules() -> None:
    done = promtool("check", "rules", ALERTS_YML)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


class Prometheus:
    """A Prometheus server on a loopback port; queries through its HTTP API."""

    def __init__(self, port: int) -> None:
        self.port = port

    def get(self, path: str, **params: str) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read())
        return body

    def query(self, promql: str) -> dict[str, Any]:
        return self.get("/api/v1/query", query=promql)

    def result(self, promql: str) -> list[Any]:
        answer = self.query(promql)
        assert answer["status"] == "success", (promql, answer)
        result: list[Any] = answer["data"]["result"]
        return result


def local_config(deploy: dict[str, Any], worker_port: int, own_port: int) -> dict[str, Any]:
    """The deploy config with static targets instead of Docker DNS and a 1 s interval."""
    config = dict(deploy)
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    jobs = {job["job_name"]: dict(job) for job in deploy["scrape_configs"]}
    jobs[WORKER_JOB].pop("dns_sd_configs")
    jobs[WORKER_JOB]["static_configs"] = [{"targets": [f"127.0.0.1:{worker_port}"]}]
    jobs["prometheus"]["static_configs"] = [{"targets": [f"127.0.0.1:{own_port}"]}]
    config["scrape_configs"] = list(jobs.values())
    return config


@contextmanager
def prometheus_server(directory: Path, worker_port: int) -> Iterator[Prometheus]:
    deploy = load_yaml(PROMETHEUS_YML)
    port = free_port()
    for rule_file in deploy["rule_files"]:
        shutil.copy(PROMETHEUS_YML.parent / rule_file, directory / rule_file)
    config = directory / "prometheus.yml"
    config.write_text(yaml.safe_dump(local_config(deploy, worker_port, port)))
    log_path = directory / "prometheus.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [binary("prometheus"), f"--config.file={config}",
             f"--storage.tsdb.path={directory / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        server = Prometheus(port)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text(errors="replace")
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def queries() -> list[Expr]:
    """Every dashboard target, and the signals of every alert rule (module docstring)."""
    found = [Expr(e.where, with_grafana_variables(e.promql)) for e in dashboard_exprs()]
    for rule in alert_exprs():
        signals = operands(rule.promql)
        assert signals, rule
        found += [Expr(f"{rule.where} operand {i}", s) for i, s in enumerate(signals)]
    return found


def verdicts_at_least(count: int) -> Callable[[Collected], bool]:
    return lambda got: len(got.verdicts()) >= count


def values_by(prometheus: Prometheus, promql: str, label: str) -> dict[str, float]:
    return {sample["metric"].get(label, ""): float(sample["value"][1])
            for sample in prometheus.result(promql)}


def assert_counters_match(prometheus: Prometheus, got: Collected, consumed: int) -> None:
    """Counters after a known input: the numbers of messages and of records published."""
    wait_until(prometheus, f"sum(ingest_articles_consumed_total) == {consumed}")
    primary = [(topic, v) for topic, v in got.records if not v.get("supersedes")]
    dup_by_match: dict[str, float] = {}
    for topic, v in primary:
        if topic == "articles.duplicates":
            dup_by_match[v["match"]] = dup_by_match.get(v["match"], 0) + 1
    enriched = sum(1 for topic, _ in primary if topic == "articles.enriched")
    # Each wave: sample 001 loses 14 lines to the rules (3 promo, 11 footer), 004 its 3 promo
    # lines (README, Text normalization): 17 a wave.
    expected = {
        "sum(ingest_articles_consumed_total)": {"": consumed},
        "sum(ingest_articles_enriched_total)": {"": enriched},
        "sum by (match) (ingest_duplicates_total > 0)": dup_by_match,
        "sum by (code) (ingest_deadletters_total > 0)": {"not_utf8": 2, "missing_body": 2},
        "sum by (layer) (ingest_boilerplate_removed_total > 0)": {"rules": 34},
    }
    label = {"match": "match", "code": "code", "layer": "layer"}
    for promql, want in expected.items():
        by = next((name for name in label if f"({name})" in promql), "")
        assert values_by(prometheus, promql, by) == want, promql
    assert enriched + sum(dup_by_match.values()) == consumed - 4
    assert not prometheus.result("ingest_corrections_total > 0")
    # The gauge is set by housekeeping every 5 s: five distinct articles are indexed.
    wait_until(prometheus, "ingest_index_entries == 5")


def has_number(result: list[Any]) -> bool:
    return any(math.isfinite(float(sample["value"][1])) for sample in result)


def wait_until(prometheus: Prometheus, promql: str) -> None:
    """Poll until an instant query has a sample: Prometheus has scraped that state."""
    deadline = time.monotonic() + DATA_TIMEOUT_S
    while not prometheus.result(promql):
        assert time.monotonic() < deadline, f"no data for {promql}"
        time.sleep(0.5)


def wait_for_data(prometheus: Prometheus, exprs: list[Expr]) -> dict[str, str]:
    """Poll until every query has a numeric sample; return those without one at the deadline."""
    deadline = time.monotonic() + DATA_TIMEOUT_S
    while True:
        empty = {e.where: e.promql for e in exprs
                 if not has_number(prometheus.result(e.promql))}
        if not empty or time.monotonic() > deadline:
            return empty
        time.sleep(1.0)


def wait_for_rules(prometheus: Prometheus) -> list[dict[str, Any]]:
    deadline = time.monotonic() + DATA_TIMEOUT_S
    while True:
        rules = [rule for group in prometheus.get("/api/v1/rules")["data"]["groups"]
                 for rule in group["rules"]]
        if all(rule["health"] == "ok" for rule in rules) or time.monotonic() > deadline:
            return rules
        time.sleep(0.5)


@pytest.mark.broker
@pytest.mark.timeout(150)
def test_every_dashboard_and_alert_query_returns_data(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = broker_settings(broker)
    worker = Worker(settings, tmp_path / "w1").start()
    messages = [
        *(envelope(path) for path in SAMPLES),
        envelope(SAMPLES[0]),  # exact re-send: an exact duplicate
        random.Random(12).randbytes(1024),  # dead letter: not_utf8 (no encoding decides it)
        orjson.dumps({"id": "no-body", "title": "An envelope without a body"}),
    ]
    try:
        with prometheus_server(tmp_path, worker.web_port) as prometheus:
            for wave in (1, 2):
                wait_until(prometheus, f"sum(ingest_articles_consumed_total) >= "
                                       f"{(wave - 1) * len(messages)}")
                # One partition: processed in the order sent, so the verdicts are known.
                produce(settings, messages, partition=0)
                got = collect(settings, verdicts_at_least(wave * len(messages)))
            codes = {r["error"] for r in got.by_topic("articles.deadletter")}
            assert codes == {"not_utf8", "missing_body"}, got.records
            assert_counters_match(prometheus, got, consumed=2 * len(messages))
            # The worker joined the group once: one completed rebalance (the panel read 0).
            [rebalances] = [e.promql for e in dashboard_exprs()
                            if e.where.startswith("panel 'Consumer-group rebalances'")]
            assert [float(v["value"][1]) for v in prometheus.result(rebalances)] == [1.0]

            empty = wait_for_data(prometheus, queries())
            assert empty == {}, f"queries without data: {empty}\n{worker.log_tail()}"

            for rule in alert_exprs():  # whole expressions evaluate, even when empty
                assert prometheus.query(rule.promql)["status"] == "success", rule

            rules = wait_for_rules(prometheus)
            assert {r["name"] for r in rules} == {
                e.where.removeprefix("rule ") for e in alert_exprs()
            }
            assert [(r["name"], r.get("lastError")) for r in rules
                    if r["health"] != "ok"] == []

            (target,) = [t for t in prometheus.get("/api/v1/targets")["data"]["activeTargets"]
                         if t["labels"]["job"] == WORKER_JOB]
            assert target["health"] == "up", target
    finally:
        worker.stop()
