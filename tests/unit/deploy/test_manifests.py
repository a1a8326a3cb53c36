"""deploy/k8s and docker-compose.yml are valid by the rules of what runs them, checked statically
(no cluster or Docker engine on the CI machines): every overlay renders with ``kubectl kustomize``;
core kinds pass ``kubernetes-validate --strict``; Dapr and KEDA kinds pass JSON Schemas generated
from their upstream CRDs (deploy/schemas, scripts/crd_schemas.py); compose passes the
compose-spec JSON Schema."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest
from deploy_support import (
    CUSTOM_KINDS,
    KUBERNETES_VERSION,
    OVERLAYS,
    ROOT,
    SERVICES,
    compose,
    named,
    rendered,
    schema,
)
from jsonschema import Draft7Validator, Draft202012Validator


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_core_kind_passes_kubernetes_validate_strict(overlay: str) -> None:
    problems = []
    for doc in rendered(overlay):
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_dapr_and_keda_kind_passes_its_crd_schema(overlay: str) -> None:
    problems, seen = [], set()
    for doc in rendered(overlay):
        key = (doc["apiVersion"], doc["kind"])
        if key[0].startswith(("dapr.io/", "keda.sh/")):
            assert key in CUSTOM_KINDS, f"no CRD schema for {key}: add it to scripts/crd_schemas.py"
            seen.add(key[1])
            validator = Draft202012Validator(schema(CUSTOM_KINDS[key]))
            problems += [
                f"{key[1]}/{doc['metadata']['name']} {list(e.path)}: {e.message}" for e in validator.iter_errors(doc)
            ]
    assert not problems, "\n".join(problems)
    assert {"Component", "Configuration", "Resiliency"} <= seen


def test_the_crd_schemas_reject_what_the_crds_reject() -> None:
    validator = Draft202012Validator(schema(CUSTOM_KINDS[("dapr.io/v1alpha1", "Component")]))
    good = {"apiVersion": "dapr.io/v1alpha1", "kind": "Component", "metadata": {"name": "x"}}
    good["spec"] = {"type": "pubsub.redis", "version": "v1", "metadata": [{"name": "a", "value": "b"}]}
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({**good, "spec": {**good["spec"], "metdata": []}}))  # a typo
    assert list(validator.iter_errors({**good, "spec": {"version": "v1"}}))  # no type
    assert "github.com/dapr/dapr v1.18.3" in schema(CUSTOM_KINDS[("dapr.io/v1alpha1", "Component")])["x-source"]


def test_production_renders_the_prerequisites_it_documents_and_no_example_secret() -> None:
    docs = rendered("production")
    assert not named(docs, "Secret"), "production must not ship Secret values"
    assert set(named(docs, "ScaledObject")) == {"collection-model", "worker"}
    assert not named(docs, "StatefulSet"), "production expects managed MongoDB and Redis"


def test_dev_renders_in_cluster_stores_and_example_secrets() -> None:
    docs = rendered("dev")
    assert set(named(docs, "StatefulSet")) == {"redis", "mongodb"}
    assert set(named(docs, "HorizontalPodAutoscaler")) == {"collection-model", "worker"}
    assert {"mongodb", "redis", "headwater", "app-api-token", "dapr-api-token"} <= set(named(docs, "Secret"))


def test_compose_passes_the_compose_spec_schema() -> None:
    validator = Draft7Validator(schema("compose-spec.json"))
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert not errors, "\n".join(errors)
    assert list(validator.iter_errors({"services": {"x": {"imagee": "redis"}}})), "the schema must be strict"


def test_compose_runs_every_service_with_a_sidecar_sharing_its_network() -> None:
    services = compose()["services"]
    for app_id, port in SERVICES.items():
        sidecar = services[f"{app_id}-dapr"]
        assert sidecar["network_mode"] == f"service:{app_id}"
        cmd = sidecar["command"]
        assert cmd[cmd.index("--app-id") + 1] == app_id
        assert cmd[cmd.index("--app-port") + 1] == str(port)
        assert "--enable-app-health-check" in cmd
        assert services[app_id]["environment"]["APP_PORT"] == str(port)
        assert "healthcheck" in services[app_id]
    for service in ("redis", "mongodb"):
        assert "healthcheck" in services[service]
    assert "127.0.0.1:3501:3500" in services["planner"]["ports"], "the CLI reaches the planner's sidecar"


def test_compose_mounts_only_files_that_exist_or_that_make_compose_secrets_writes() -> None:
    made = {"./.headwater/compose/secrets.json", "./.headwater/compose/tokens.env"}
    script = (ROOT / "scripts/compose_secrets.py").read_text()
    assert "secrets.json" in script and "tokens.env" in script
    for name, service in compose()["services"].items():
        sources = [v.split(":")[0] for v in service.get("volumes", [])] + list(service.get("env_file", []))
        for source in sources:
            if source.startswith("./"):
                assert source in made or (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_every_image_is_pinned() -> None:
    images = [s["image"] for s in compose()["services"].values() if "image" in s]
    for overlay in OVERLAYS:
        for doc in rendered(overlay):
            pod = doc.get("spec", {}).get("template", {}).get("spec", {})
            images += [c["image"] for c in pod.get("containers", [])]
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest" and "/" not in tag, f"{image} has no pinned tag"
    assert "daprio/daprd:1.18.3" in images and "daprio/scheduler:1.18.3" in images


def test_the_image_holds_no_dev_tools() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    assert len(stages) == 2, "a build stage and a runtime stage"
    assert "-r requirements.lock" not in dockerfile, "the image installs the services' dependencies only"
    assert "COPY --from=build /opt/headwater /opt/headwater" in stages[1]
    assert "USER 10001" in stages[1]
    dockerignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert dockerignore[1] == "**" or "**" in dockerignore, ".dockerignore admits only what the image needs"
    dev = set(
        re.findall(r'"([a-zA-Z0-9_.-]+)==', (ROOT / "pyproject.toml").read_text().split("[dependency-groups]")[1])
    )
    for package in ("libs/headwater", *(f"services/{s}" for s in SERVICES)):
        declared = (ROOT / package / "pyproject.toml").read_text().split("[build-system]")[0]
        assert not dev & set(re.findall(r'"([a-zA-Z0-9_.-]+)==', declared)), f"{package} declares a dev tool"
