"""deploy/monitoring: the alert rules and the Grafana dashboard are valid PromQL and read only
metrics that exist (the services' list in headwater.metric_names, the Dapr sidecars' own)."""

from __future__ import annotations

import pytest
from monitoring_support import (
    DAPR_METRICS,
    OTHER_METRICS,
    dashboard_exprs,
    headwater_metrics,
    metric_names,
    rules,
)

KNOWN = headwater_metrics() | DAPR_METRICS | OTHER_METRICS


def test_every_rule_is_an_alert_with_severity_summary_and_valid_promql() -> None:
    names = []
    for rule in rules():
        names.append(rule["alert"])
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        unknown = metric_names(rule["expr"]) - KNOWN
        assert not unknown, f"{rule['alert']} reads metrics nobody exports: {sorted(unknown)}"
    assert len(names) == len(set(names))
    for wanted in ("SourceStale", "DocumentFailureRatio", "DeadLettersGrowing", "ConsumerLag", "SidecarDown"):
        assert f"Headwater{wanted}" in names


def test_every_dashboard_query_is_valid_promql_on_exported_metrics() -> None:
    exprs = dashboard_exprs()
    assert len(exprs) >= 10
    read = set()
    for expr in exprs:
        names = metric_names(expr)
        assert names, expr
        assert not names - KNOWN, f"{expr} reads metrics nobody exports: {sorted(names - KNOWN)}"
        read |= names
    per_source = {n for n in read if n.startswith("headwater_")}
    assert len(per_source) >= 10, "the dashboard shows the per-source metrics"


def test_the_checks_catch_a_broken_expression_and_an_unknown_metric() -> None:
    with pytest.raises(ValueError):
        metric_names("sum(rate(headwater_documents_total[5m])")
    assert metric_names("rate(headwater_documnets_total[5m]) > 0") - KNOWN == {"headwater_documnets_total"}
