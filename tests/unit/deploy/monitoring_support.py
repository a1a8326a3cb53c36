"""The PromQL of deploy/monitoring (alert rules and the Grafana dashboard) and the metric names
each expression reads, from the parsed expression (promql-parser)."""

from __future__ import annotations

import json
from typing import Any

import promql_parser
import yaml
from deploy_support import ROOT

from headwater.metric_names import METRICS

MONITORING = ROOT / "deploy/monitoring"
# the Dapr sidecars' metrics the rules and the dashboard read (a scrape of a real daprd 1.18.3
# lists them: tests/integration/test_monitoring_scrape.py)
DAPR_METRICS = {
    "dapr_component_pubsub_ingress_count",
    "dapr_component_pubsub_egress_count",
    "dapr_runtime_service_invocation_req_sent_total",
}
OTHER_METRICS = {"up", "redis_stream_group_lag"}  # Prometheus' own; redis_exporter's (documented)


def headwater_metrics() -> set[str]:
    names = set()
    for spec in METRICS:
        names.add(spec.prometheus)
        if spec.kind == "histogram":
            names |= {f"{spec.prometheus}_{part}" for part in ("bucket", "sum", "count")}
    return names


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((MONITORING / "headwater-rules.yaml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """Every metric name an expression selects (raises ValueError when it does not parse)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if node is None:
            return
        if type(node).__name__ == "VectorSelector":
            if node.name:
                found.add(node.name)
            return
        for attr in ("lhs", "rhs", "expr", "vector_selector", "param"):
            walk(getattr(node, attr, None))
        for arg in getattr(node, "args", None) or []:
            walk(arg)

    walk(promql_parser.parse(expr))
    return found
