"""Reading the PromQL of the deploy files: expressions, the metric names they use, operands.

Shared by the static checks (tests/deploy) and the real-Prometheus test (tests/monitoring).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from faust.sensors.prometheus import FaustMetrics
from prometheus_client import CollectorRegistry

from streams.shell.metrics import Metrics

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
PROMETHEUS_YML = DEPLOY / "prometheus" / "prometheus.yml"
ALERTS_YML = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD_JSON = DEPLOY / "grafana" / "dashboards" / "ingester.json"

# Grafana fills these in before a query reaches Prometheus; any range that spans a few scrapes
# is faithful enough for checking that a query returns data.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}

# Series a histogram, counter, gauge or info family exposes (prometheus_client's naming).
_SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "info": ("_info",),
}
# Series we may query that streams/shell/metrics.py does not declare: Prometheus's own target
# health.
OTHER_METRICS = frozenset({"up"})
# Faust's Prometheus sensor (streams/shell/worker.py installs it with this prefix) serves on
# the same page; its series are read from the installed sensor, so a misspelt or vanished
# faust_ metric fails like an ingest_ one.
FAUST_PREFIX = "faust"


@dataclass(frozen=True)
class Expr:
    """One PromQL expression of the deploy files and where it comes from."""

    where: str
    promql: str


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def dashboard_exprs(path: Path = DASHBOARD_JSON) -> list[Expr]:
    """Every target expression of every panel (rows' nested panels included)."""
    dashboard = json.loads(path.read_text())

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    return [
        Expr(f"panel {panel['title']!r} target {target['refId']}", target["expr"])
        for panel in panels(dashboard["panels"])
        for target in panel.get("targets", [])
    ]


def alert_rules(path: Path = ALERTS_YML) -> list[dict[str, Any]]:
    return [rule for group in load_yaml(path)["groups"] for rule in group["rules"]]


def alert_exprs(path: Path = ALERTS_YML) -> list[Expr]:
    return [
        Expr(f"rule {rule.get('alert') or rule.get('record')}", rule["expr"].strip())
        for rule in alert_rules(path)
    ]


def with_grafana_variables(promql: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        promql = promql.replace(name, value)
    return promql


def declared_series() -> frozenset[str]:
    """Every series name a worker's /metrics can expose: ours and Faust's sensor's."""
    registry = CollectorRegistry()
    Metrics.create(registry)
    FaustMetrics.create(registry, FAUST_PREFIX)
    return frozenset(
        family.name + suffix
        for family in registry.collect()
        for suffix in _SERIES_SUFFIXES[family.type]
    )


_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
# An identifier not preceded by a word character, dot or $ (numbers, durations, Grafana
# variables) and not followed by "(" (functions and aggregations).
_IDENTIFIER = re.compile(r"(?<![\w.$])[A-Za-z_:][\w:]*(?![\w:])(?!\s*\()")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
     "group_left", "group_right", "inf", "nan"}
)


def metric_names(promql: str) -> set[str]:
    """Metric names a PromQL expression selects (label names, functions, keywords removed)."""
    text = _STRINGS.sub('""', promql)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    return {
        name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS
    }


def is_known_metric(name: str, declared: frozenset[str]) -> bool:
    return name in declared or name in OTHER_METRICS


# Binary operators that filter or combine whole vectors, lowest precedence first: an alert
# expression is "<signal> <comparison> <threshold>" joined by these, so its data lives in the
# operands. Two-character comparisons are listed before their one-character prefixes.
_PRECEDENCE: tuple[tuple[str, ...], ...] = (
    ("or",),
    ("and", "unless"),
    ("==", "!=", ">=", "<=", ">", "<"),
)
_MODIFIERS = re.compile(
    r"^\s*(?:bool\b|(?:on|ignoring|group_left|group_right)\b\s*(?:\([^)]*\))?)\s*"
)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$", re.IGNORECASE)
_ABSENT = re.compile(r"^absent(?:_over_time)?\s*\(")


def _top_level(promql: str) -> Iterator[int]:
    """Indexes of characters outside parentheses, brackets, braces and strings."""
    depth, quote = 0, ""
    for i, char in enumerate(promql):
        if quote:
            if char == quote and promql[i - 1] != "\\":
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0:
            yield i


def _is_word(char: str) -> bool:
    return char.isalnum() or char in ("_", ":")


def _split(promql: str, operators: tuple[str, ...]) -> list[str]:
    parts, start, skip_to = [], 0, -1
    for i in _top_level(promql):
        if i < skip_to:
            continue
        for op in operators:
            if not promql.startswith(op, i):
                continue
            after = promql[i + len(op): i + len(op) + 1]
            if op.isalpha() and (_is_word(promql[i - 1: i]) or _is_word(after)):
                continue  # part of an identifier such as "errors" or "android"
            parts.append(promql[start:i])
            start = skip_to = i + len(op)
            break
    parts.append(promql[start:])
    return parts


def _unwrap(promql: str) -> str:
    """Strip whitespace and parentheses that enclose the whole expression."""
    promql = promql.strip()
    while promql.startswith("(") and promql.endswith(")"):
        depth = 0
        for i, char in enumerate(promql):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and i < len(promql) - 1:
                return promql  # "(a) / (b)": the first parenthesis closes early
        promql = promql[1:-1].strip()
    return promql


def operands(promql: str) -> list[str]:
    """The signals an alert expression compares, which hold data even when nothing fires.

    Splits recursively at top-level ``or``, ``and``/``unless`` and comparison operators
    (dropping ``bool``/``on(...)``/``group_left`` modifiers and numeric thresholds), and
    looks inside ``absent(...)``. An expression without such operators is its own operand.
    """
    promql = _unwrap(promql)
    for operators in _PRECEDENCE:
        parts = _split(promql, operators)
        if len(parts) > 1:
            found: list[str] = []
            for part in parts:
                found.extend(operands(_MODIFIERS.sub("", part, count=1)))
            return found
    if _NUMBER.match(promql):
        return []
    if _ABSENT.match(promql) and promql.endswith(")"):
        return operands(promql[promql.index("(") + 1: -1])
    return [promql]
