"""The PromQL readers the deploy and monitoring tests rely on."""

from __future__ import annotations

from tests.deploy.promql import declared_series, metric_names, operands, with_grafana_variables


def test_metric_names_ignore_functions_labels_ranges_and_numbers() -> None:
    promql = (
        'histogram_quantile(0.99, sum by (le, stage) '
        '(rate(ingest_stage_seconds_bucket{stage="process", job=~"a.b"}[5m]))) > 1e3'
    )
    assert metric_names(promql) == {"ingest_stage_seconds_bucket"}


def test_metric_names_ignore_grafana_variables_and_vector_matching() -> None:
    promql = (
        "sum by (instance) (delta(ingest_consumer_lag_messages[$__rate_interval])) > 0 "
        "and on (instance) sum by (instance) (rate(ingest_articles_consumed_total[10m])) == 0"
    )
    assert metric_names(promql) == {
        "ingest_consumer_lag_messages", "ingest_articles_consumed_total"
    }


def test_metric_names_find_a_misspelt_metric() -> None:
    assert metric_names("sum(rate(ingest_articles_consumd_total[5m]))") == {
        "ingest_articles_consumd_total"
    }


def test_declared_series_have_the_suffixes_of_their_type() -> None:
    series = declared_series()
    assert {"ingest_articles_consumed_total", "ingest_stage_seconds_bucket",
            "ingest_index_entries", "ingest_worker_info"} <= series
    assert "ingest_stage_seconds" not in series  # a histogram has no bare series


def test_declared_series_include_those_of_fausts_installed_sensor() -> None:
    series = declared_series()
    assert {"faust_rebalance_done_latency_count", "faust_assignment_operations_total",
            "faust_total_rebalances"} <= series
    assert "faust_rebalances_total" not in series  # a faust_ name is no longer enough


def test_operands_of_a_threshold_drop_the_number() -> None:
    assert operands("sum(rate(a_total[5m])) / sum(rate(b_total[5m])) > 0.05") == [
        "sum(rate(a_total[5m])) / sum(rate(b_total[5m]))"
    ]


def test_operands_split_set_operators_and_drop_matching_modifiers() -> None:
    promql = "(sum by (i) (delta(lag[10m])) > 0) and on (i) (sum by (i) (rate(c[10m])) == 0)"
    assert operands(promql) == ["sum by (i) (delta(lag[10m]))", "sum by (i) (rate(c[10m]))"]


def test_operands_look_inside_absent() -> None:
    assert operands('absent(up{job="ingest-worker"} == 1)') == ['up{job="ingest-worker"}']


def test_operands_ignore_operators_inside_matchers_and_strings() -> None:
    assert operands('up{job!="a>b"} == 0') == ['up{job!="a>b"}']


def test_operands_keep_an_expression_without_comparison() -> None:
    assert operands("(sum(rate(x_total[5m])))") == ["sum(rate(x_total[5m]))"]


def test_grafana_variables_are_replaced_by_a_range() -> None:
    assert with_grafana_variables("rate(x[$__rate_interval])") == "rate(x[1m])"
