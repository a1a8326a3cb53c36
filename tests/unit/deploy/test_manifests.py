"""docker-compose.yml and deploy/k8s describe the same apps as dapr.yaml (checked
statically: there is no Docker engine or cluster on the CI machines)."""

from __future__ import annotations

from typing import Any

import yaml

from headwater_ops.runtime.settings import project_dir

ROOT = project_dir()
APPS = {
    a["appID"]: a["appPort"]
    for a in yaml.safe_load((ROOT / "dapr.yaml").read_text())["apps"]
    if a["appDirPath"].startswith("./services/")
}  # examples run locally only


def _k8s_docs() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((ROOT / "deploy/k8s/kustomization.yaml").read_text())
    docs = []
    for resource in kustomization["resources"]:
        path = ROOT / "deploy/k8s" / resource
        assert path.is_file(), f"kustomization lists missing {resource}"
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_every_app_has_a_kubernetes_deployment_with_matching_dapr_annotations() -> None:
    deployments = {d["metadata"]["name"]: d for d in _k8s_docs() if d["kind"] == "Deployment"}
    assert set(deployments) == set(APPS)
    for app_id, port in APPS.items():
        pod = deployments[app_id]["spec"]["template"]
        notes = pod["metadata"]["annotations"]
        assert notes["dapr.io/enabled"] == "true"
        assert notes["dapr.io/app-id"] == app_id
        assert notes["dapr.io/app-port"] == str(port)
        container = pod["spec"]["containers"][0]
        assert container["ports"][0]["containerPort"] == port
        assert container["resources"]["limits"]["memory"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
        assert pod["metadata"]["labels"] == deployments[app_id]["spec"]["selector"]["matchLabels"]


def test_kubernetes_components_keep_the_local_component_names() -> None:
    local = {
        yaml.safe_load(p.read_text())["metadata"]["name"] for p in (ROOT / "deploy/dapr/components").glob("*.yaml")
    }
    k8s = {d["metadata"]["name"] for d in _k8s_docs() if d["kind"] in ("Component", "Resiliency")}
    assert local <= k8s


def test_compose_runs_every_app_with_a_sidecar_sharing_its_network() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for app_id, port in APPS.items():
        assert app_id in services
        sidecar = services[f"{app_id}-dapr"]
        assert sidecar["network_mode"] == f"service:{app_id}"
        cmd = sidecar["command"]
        assert cmd[cmd.index("--app-id") + 1] == app_id
        assert cmd[cmd.index("--app-port") + 1] == str(port)
        assert sidecar["image"].endswith(":1.18.3")
        assert services[app_id]["environment"]["APP_PORT"] == str(port)
    for volume in [v for s in services.values() for v in s.get("volumes", [])]:
        source = volume.split(":")[0]
        if source.startswith("./") and ".headwater" not in source:
            assert (ROOT / source).exists(), f"compose mounts missing {source}"
