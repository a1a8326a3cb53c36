"""Policies the rendered manifests must keep, beyond schema validity: probes reach the app,
every Secret a manifest names exists (dev) or is documented (production), scopes and access
policies name real apps and allow every call the code makes, topic scopes match the local
stack's, pods run non-root and read-only, and the sidecar takes an upload as large as the
app accepts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from deploy_support import (
    OVERLAYS,
    ROOT,
    SERVICES,
    component_metadata,
    compose,
    local_component,
    named,
    of_kind,
    rendered,
    scopes,
)

from collection_model.settings import Settings as CollectionSettings

SIZES = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]
    return pod


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_probe_reaches_a_port_the_app_binds_on_all_interfaces(overlay: str) -> None:
    deployments = named(rendered(overlay), "Deployment")
    assert set(deployments) == set(SERVICES)
    for app_id, port in SERVICES.items():
        pod = _pod(deployments[app_id])
        notes = pod["metadata"]["annotations"]
        assert (notes["dapr.io/app-id"], notes["dapr.io/app-port"], notes["dapr.io/config"]) == (
            app_id,
            str(port),
            app_id,
        )
        container = pod["spec"]["containers"][0]
        env = _env(container)
        assert env["HEADWATER_BIND_ADDRESS"] == "0.0.0.0" and env["APP_PORT"] == str(port)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            target = container[probe]["httpGet"]
            assert target["path"] == "/healthz" and ports.get(target["port"], target["port"]) == port, probe
        assert pod["metadata"]["labels"].items() >= deployments[app_id]["spec"]["selector"]["matchLabels"].items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_non_root_read_only_without_capabilities(overlay: str) -> None:
    for deployment in of_kind(rendered(overlay), "Deployment") + of_kind(rendered(overlay), "StatefulSet"):
        spec = _pod(deployment)["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, deployment["metadata"]["name"]
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_a_disruption_budget_and_ingress_is_denied_by_default(overlay: str) -> None:
    docs = rendered(overlay)
    budgets = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for d in of_kind(docs, "PodDisruptionBudget")
    }
    assert budgets == set(SERVICES)
    deny = named(docs, "NetworkPolicy")["default-deny-ingress"]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def _secret_references(docs: tuple[dict[str, Any], ...]) -> set[str]:
    names: set[str] = set()
    for doc in docs:
        text = str(doc)
        names |= set(re.findall(r"'secretKeyRef': \{'name': '([^']+)'", text))
        names |= {ref["name"] for ref in doc.get("spec", {}).get("secretTargetRef", [])}
        if doc["kind"] == "Deployment":
            notes = _pod(doc)["metadata"]["annotations"]
            names |= {notes[k] for k in ("dapr.io/api-token-secret", "dapr.io/app-token-secret")}
        if doc["kind"] == "Role":
            names |= {n for rule in doc["rules"] for n in rule.get("resourceNames", [])}
        if doc["kind"] == "Configuration":
            names |= {n for s in doc["spec"].get("secrets", {}).get("scopes", []) for n in s.get("allowedSecrets", [])}
    return names


def test_every_secret_the_dev_overlay_names_is_generated() -> None:
    docs = rendered("dev")
    assert _secret_references(docs) <= set(named(docs, "Secret"))


def test_every_secret_production_names_is_documented_as_a_prerequisite() -> None:
    guide = (ROOT / "docs/deploy.md").read_text()
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", guide, flags=re.M))
    missing = _secret_references(rendered("production")) - documented
    assert not missing, f"docs/deploy.md does not list the Secrets {sorted(missing)}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_scopes_and_access_policies_name_real_apps(overlay: str) -> None:
    docs = rendered(overlay)
    for component in of_kind(docs, "Component"):
        assert set(component.get("scopes", [])) <= set(SERVICES), component["metadata"]["name"]
        meta = component_metadata(component)
        for key in ("publishingScopes", "subscriptionScopes"):
            assert set(scopes(meta.get(key, ""))) <= set(SERVICES), key
    for config in of_kind(docs, "Configuration"):
        assert config["metadata"]["name"] in SERVICES
        control = config["spec"]["accessControl"]
        assert control["defaultAction"] == "deny"
        assert {p["appId"] for p in control["policies"]} <= set(SERVICES)


def _code_invocations() -> set[tuple[str, str, str, str]]:
    """(caller, callee, verb, path) of every service invocation the code makes."""
    calls = set()
    for app_id in SERVICES:
        source = "\n".join(p.read_text() for p in (ROOT / "services" / app_id / "src").rglob("*.py"))
        if "PlannerConfigClient(" in source:  # headwater.edge.configs: GET api/v1/sources/<id>
            calls.add((app_id, "planner", "GET", "/api/v1/sources/x"))
    cli = "\n".join(p.read_text() for p in (ROOT / "libs/headwater-ops/src/headwater_ops/cli").rglob("*.py"))
    if "/worker/method" in cli:  # the CLI reaches the worker through the planner's sidecar
        calls |= {
            ("planner", "worker", "GET", "/api/v1/records/history"),
            ("planner", "worker", "GET", "/api/v1/summary"),
        }
        calls |= {("planner", "worker", "POST", "/api/v1/dead-letters/replay")}
    if "uploads" in cli:
        calls.add(("planner", "collection-model", "POST", "/api/v1/sources/x/uploads"))
    assert calls, "no invocation found: the scan is broken"
    return calls


def _matches(pattern: str, path: str) -> bool:
    """Dapr's operation names: ``*`` is one path segment, ``**`` any number of them."""
    regex = re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.fullmatch(regex, path) is not None


def _allowed(config: dict[str, Any], caller: str, verb: str, path: str) -> bool:
    for policy in config["spec"]["accessControl"]["policies"]:
        if policy["appId"] != caller:
            continue
        for op in policy.get("operations", []):
            if verb in op.get("httpVerb", ["*"]) and _matches(op["name"], path):
                return bool(op["action"] == "allow")
        return bool(policy.get("defaultAction") == "allow")
    return bool(config["spec"]["accessControl"]["defaultAction"] == "allow")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_invocation_the_code_makes_is_allowed_and_others_are_not(overlay: str) -> None:
    configs = named(rendered(overlay), "Configuration")
    for caller, callee, verb, path in _code_invocations():
        assert _allowed(configs[callee], caller, verb, path), f"{caller} → {callee} {verb} {path} is denied"
    assert not _allowed(configs["planner"], "worker", "PUT", "/api/v1/sources/x"), "the worker may not apply sources"
    assert not _allowed(configs["worker"], "collection-model", "GET", "/api/v1/summary")


def test_topic_scopes_are_the_local_stacks_in_every_deployment() -> None:
    local = component_metadata(local_component("pubsub"))
    others = [("compose", component_metadata(local_component("pubsub", "deploy/compose/components")))]
    others += [(o, component_metadata(named(rendered(o), "Component")["pubsub"])) for o in OVERLAYS]
    for key in ("publishingScopes", "subscriptionScopes"):
        want = {app: topics for app, topics in scopes(local[key]).items() if app in SERVICES}
        for where, meta in others:
            assert scopes(meta[key]) == want, f"{where} {key} differs from deploy/dapr/components/pubsub.yaml"
    for key in ("allowedTopics", "protectedTopics"):
        assert all(meta[key] == local[key] for _, meta in others), key


def _bytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([KMG]i)", size).groups()  # type: ignore[union-attr]
    return int(number) * SIZES[unit]


def test_the_collection_model_sidecar_takes_the_largest_upload_the_app_accepts() -> None:
    limit = CollectionSettings().max_upload_bytes
    for overlay in OVERLAYS:
        notes = _pod(named(rendered(overlay), "Deployment")["collection-model"])["metadata"]["annotations"]
        assert _bytes(notes["dapr.io/max-body-size"]) >= limit
    cmd = compose()["services"]["collection-model-dapr"]["command"]
    assert _bytes(cmd[cmd.index("--max-body-size") + 1]) >= limit
