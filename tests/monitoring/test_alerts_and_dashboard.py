"""The Prometheus rules and the Grafana dashboard parse and use only what the API exports.

promtool is not available, so each PromQL expression is checked by hand: label selectors,
ranges and strings are set aside, and every remaining name must be a PromQL function or keyword
or a series serving/metrics.py really exports (histograms
as _bucket/_count/_sum, counters with _total); each selector's label names must be labels of
that metric.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from loanops.settings import REPO_ROOT
from serving import metrics

FOLDER = REPO_ROOT / "k8s" / "monitoring"
PROMQL_WORDS = {
    "sum", "rate", "increase", "histogram_quantile", "abs", "by", "without", "or", "and",
    "unless", "ignoring", "on", "group_left", "group_right", "avg", "max", "min", "count",
    "absent", "irate", "le", "bool",
}  # fmt: skip
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def exported() -> dict[str, set[str]]:
    """Every series name the API's registry exports, with its label names."""
    names: dict[str, set[str]] = {}
    for metric in vars(metrics).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        labels = set(metric._labelnames)
        base = metric._name
        if metric._type == "counter":
            names[f"{base}_total"] = labels
        elif metric._type == "histogram":
            names |= {f"{base}_count": labels, f"{base}_sum": labels,
                      f"{base}_bucket": labels | {"le"}}  # fmt: skip
        else:
            names[base] = labels
    return names


def check_expression(expr: str, series: dict[str, set[str]]) -> set[str]:
    """The exported metrics an expression uses; fails on anything unknown."""
    used = set()
    for name, matchers in SELECTOR.findall(expr):
        assert name in series, f"{name} is not exported by serving/metrics.py"
        for matcher in filter(None, (m.strip() for m in matchers.split(","))):
            label = NAME.match(matcher).group(0)
            assert label in series[name], f"{name} has no label {label}"
    bare = re.sub(r'"[^"]*"', "", SELECTOR.sub(r"\1", expr))  # strings and selectors out
    bare = re.sub(r"\[[^\]]*\]", "", bare)  # range durations out
    bare = re.sub(r"\b(by|without|ignoring|on)\s*\([^)]*\)", "", bare)  # label lists out
    for word in NAME.findall(bare):
        if word in PROMQL_WORDS:
            continue
        assert word in series, f"{word!r} in {expr!r} is neither PromQL nor an exported metric"
        used.add(word)
    return used


def rules() -> list[dict]:
    """Every rule of the PrometheusRule."""
    document = yaml.safe_load((FOLDER / "prometheus-rules.yaml").read_text())
    assert document["kind"] == "PrometheusRule"
    return [rule for group in document["spec"]["groups"] for rule in group["rules"]]


def test_registry_names_include_histogram_suffixes():
    series = exported()
    assert "loanops_http_request_duration_seconds_bucket" in series
    assert "loanops_prediction_probability_sum" in series
    assert "loanops_http_requests_total" in series
    assert "loanops_model_info" in series


def test_the_checker_rejects_unknown_metrics_and_labels():
    series = exported()
    with pytest.raises(AssertionError):
        check_expression("rate(http_requests_total[5m])", series)
    with pytest.raises(AssertionError):
        check_expression('sum(loanops_model_info{pod="x"})', series)


def test_alert_rules_parse_and_reference_exported_metrics():
    series = exported()
    found = {rule["alert"]: rule for rule in rules()}
    for name in ("LoanopsHighErrorRate", "LoanopsSlowPredictions", "LoanopsNotReady",
                 "LoanopsScoreDrift"):  # fmt: skip
        assert name in found
    used = set()
    for rule in found.values():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        assert rule["expr"].count("(") == rule["expr"].count(")")
        used |= check_expression(rule["expr"], series)
    assert "loanops_prediction_probability_sum" in used
    assert "loanops_http_request_duration_seconds_bucket" in used


def test_dashboard_parses_and_references_exported_metrics():
    dashboard = json.loads((FOLDER / "grafana-dashboard.json").read_text())
    series = exported()
    used = set()
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) >= 8
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used |= check_expression(target["expr"], series)
    wanted = {"loanops_http_requests_total", "loanops_http_request_duration_seconds_bucket",
              "loanops_decisions_total", "loanops_model_info",
              "loanops_prediction_probability_bucket"}  # fmt: skip
    assert wanted <= used


def test_kustomization_renders_the_rules_and_the_dashboard():
    done = subprocess.run(
        ["kubectl", "kustomize", str(FOLDER)], capture_output=True, text=True, check=True
    )
    objects = list(yaml.safe_load_all(done.stdout))
    kinds = {o["kind"]: o for o in objects}
    assert set(kinds) == {"PrometheusRule", "ConfigMap"}
    config_map = kinds["ConfigMap"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["grafana-dashboard.json"])["uid"] == "loanops-api"
