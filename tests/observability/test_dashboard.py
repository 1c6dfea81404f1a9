"""The Grafana dashboard only asks for metrics the code defines, and shows every one operations need."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "renewals.json"
DEFINITION = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary|CounterMetricFamily|GaugeMetricFamily|HistogramMetricFamily)\(\s*"
    r"\"([a-zA-Z_:][a-zA-Z0-9_:]*)\""
)
SUFFIXES = {
    "Counter": ("_total", "_created"),
    "CounterMetricFamily": ("_total",),
    "Gauge": ("",),
    "GaugeMetricFamily": ("",),
    "Histogram": ("_bucket", "_count", "_sum", "_created"),
    "HistogramMetricFamily": ("_bucket", "_count", "_sum"),
    "Summary": ("", "_count", "_sum", "_created"),
}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}
NEEDED = {
    "renewals_http_request_duration_seconds_count",
    "renewals_http_request_duration_seconds_bucket",
    "renewals_events_published_total",
    "renewals_events_consumed_total",
    "renewals_events_dead_lettered_total",
    "renewals_outbox_backlog",
    "renewals_outbox_oldest_age_seconds",
    "renewals_reminders_sent_total",
    "renewals_emails_total",
    "renewals_orders_total",
    "renewals_revenue_minor_units_total",
    "renewals_login_failures_total",
    "renewals_link_resolve_failures_total",
}


def defined_series() -> set[str]:
    """Every series name the code can expose, from the metric definitions in shared/ and services/."""
    names: set[str] = set()
    sources = [
        *ROOT.joinpath("shared", "renewals_shared").rglob("*.py"),
        *ROOT.joinpath("services").glob("*/*/**/*.py"),
    ]
    for path in sources:
        if "tests" in path.parts:
            continue
        for kind, name in DEFINITION.findall(path.read_text()):
            base = name.removesuffix("_total") if kind.startswith("Counter") else name
            names.update(base + suffix for suffix in SUFFIXES[kind])
    return names


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """The series an expression selects: what is left once label matchers, ranges, grouping and calls are gone."""
    bare = re.sub(r"\{[^}]*\}", "", expr)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", bare)
    bare = re.sub(r"\"[^\"]*\"", "", bare)
    bare = re.sub(r"[a-zA-Z_:][a-zA-Z0-9_:]*\s*\(", "(", bare)  # function calls
    words = re.findall(r"(?<![0-9.])[a-zA-Z_:][a-zA-Z0-9_:]*", bare)
    return {w for w in words if w not in PROMQL_WORDS}


def test_the_parser_finds_the_series_of_an_expression():
    expr = 'histogram_quantile(0.95, sum by (le, route) (rate(renewals_x_bucket{status=~"5.."}[5m])))'
    assert metric_names(expr) == {"renewals_x_bucket"}


def test_every_dashboard_expression_references_only_metrics_the_code_defines():
    defined = defined_series()
    assert "renewals_orders_total" in defined and "renewals_http_request_duration_seconds_bucket" in defined
    exprs = expressions()
    assert exprs
    for expr in exprs:
        names = metric_names(expr)
        assert names, f"no metric in {expr!r}"
        assert names <= defined, f"{expr!r} asks for {sorted(names - defined)}, which no code defines"


def test_the_dashboard_covers_what_operations_watch():
    used = set().union(*(metric_names(expr) for expr in expressions()))
    assert NEEDED <= used, f"missing panels for {sorted(NEEDED - used)}"


def test_the_dashboard_is_importable_grafana_json():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        assert all(t["refId"] for t in panel["targets"])
