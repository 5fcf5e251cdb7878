"""``promtool test rules``: every alert of deploy/prometheus/alerts.yml fires on a case made
for it and stays silent on a near miss (deploy/prometheus/alerts.test.yml)."""

from __future__ import annotations

import subprocess

import pytest

from tests.deploy.promql import ALERTS_YML, alert_exprs, load_yaml
from tests.monitoring.test_prometheus import binary

ALERTS_TEST_YML = ALERTS_YML.with_name("alerts.test.yml")


def cases() -> list[dict[str, object]]:
    return [case for test in load_yaml(ALERTS_TEST_YML)["tests"]
            for case in test["alert_rule_test"]]


@pytest.mark.prometheus
def test_promtool_runs_the_alert_unit_tests() -> None:
    done = subprocess.run([binary("promtool"), "test", "rules", str(ALERTS_TEST_YML)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_firing_and_a_silent_case() -> None:
    alerts = {e.where.removeprefix("rule ") for e in alert_exprs()}
    firing = {c["alertname"] for c in cases() if c["exp_alerts"]}
    silent = {c["alertname"] for c in cases() if not c["exp_alerts"]}
    assert firing == alerts
    assert silent == alerts
