"""What the deploy tests read: every Kubernetes overlay rendered by ``kubectl kustomize``, the
compose file, the apps of ``dapr.yaml`` and the JSON Schemas under ``deploy/schemas``."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from headwater_ops.runtime.settings import project_dir

ROOT = project_dir()
OVERLAYS = ("dev", "production")
KUBERNETES_VERSION = "1.33.0"  # the oldest Kubernetes the manifests are checked against
SERVICES = {
    a["appID"]: a["appPort"]
    for a in yaml.safe_load((ROOT / "dapr.yaml").read_text())["apps"]
    if a["appDirPath"].startswith("./services/")
}  # the examples run locally only
CUSTOM_KINDS = {
    ("dapr.io/v1alpha1", "Component"): "component-dapr.io-v1alpha1.json",
    ("dapr.io/v1alpha1", "Configuration"): "configuration-dapr.io-v1alpha1.json",
    ("dapr.io/v1alpha1", "Resiliency"): "resiliency-dapr.io-v1alpha1.json",
    ("dapr.io/v2alpha1", "Subscription"): "subscription-dapr.io-v2alpha1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda.sh-v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication-keda.sh-v1alpha1.json",
}


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    """The documents of ``kubectl kustomize deploy/k8s/overlays/<overlay>``."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is not on PATH: the deploy tests render the overlays with `kubectl kustomize`")
    done = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy/k8s/overlays" / overlay)], capture_output=True, text=True
    )
    assert done.returncode == 0, f"kubectl kustomize {overlay} failed:\n{done.stderr}"
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d)


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in of_kind(docs, kind)}


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "deploy/schemas" / name).read_text())
    return loaded


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def component_metadata(component: dict[str, Any]) -> dict[str, Any]:
    return {m["name"]: m.get("value", m.get("secretKeyRef")) for m in component["spec"].get("metadata", [])}


def scopes(value: str) -> dict[str, set[str]]:
    """Dapr's ``app1=t1,t2;app2=t3`` topic-scope format."""
    out: dict[str, set[str]] = {}
    for part in filter(None, value.split(";")):
        app, _, topics = part.partition("=")
        out[app.strip()] = {t.strip() for t in topics.split(",") if t.strip()}
    return out


def local_component(name: str, folder: str = "deploy/dapr/components") -> dict[str, Any]:
    """A component by name, of the local stack (or of another folder: deploy/compose/components)."""
    for path in (ROOT / folder).glob("*.yaml"):
        doc: dict[str, Any] = yaml.safe_load(path.read_text())
        if doc["metadata"]["name"] == name:
            return doc
    raise LookupError(name)
