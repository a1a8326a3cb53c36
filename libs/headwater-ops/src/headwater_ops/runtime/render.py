"""Render one instance's Dapr files from the committed ``dapr.yaml`` and ``deploy/dapr/``.

Rendering only fills in the instance's ports and absolute paths, so the committed files
stay the single description of the apps, their components and their configuration.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from headwater_ops.runtime.settings import Ports

__all__ = ["REDIS_TYPES", "AppEndpoint", "app_endpoints", "project_python", "render_instance"]

REDIS_TYPES = {"pubsub.redis", "state.redis", "lock.redis"}
# on an app's config-<app id>.yaml: allow every key of the instance's development secret store
# outside the `headwater:` group (the credentials of local sources)
DEV_SOURCE_SECRETS = "headwater.dev/allow-dev-source-secrets"


@dataclass(frozen=True)
class AppEndpoint:
    """One app and its sidecar, as rendered for an instance."""

    app_id: str
    app_port: int
    dapr_http_port: int
    dapr_grpc_port: int
    dapr_internal_grpc_port: int
    metrics_port: int
    app_dir: Path
    replica: int = 0  # 0: the app; k > 0: its k-th extra replica (runtime/replicas.py)

    @property
    def name(self) -> str:
        """``worker``, or ``worker-2`` for a replica: its log files and supervisor entries."""
        return f"{self.app_id}-{self.replica}" if self.replica else self.app_id

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def dapr_url(self) -> str:
        return f"http://127.0.0.1:{self.dapr_http_port}"

    @property
    def invoke_url(self) -> str:
        """The app's methods through its own sidecar, which adds the app's ``APP_API_TOKEN``
        (the app refuses a direct call to anything but ``/healthz``); send ``DAPR_API_TOKEN``."""
        return f"{self.dapr_url}/v1.0/invoke/{self.app_id}/method"


def app_endpoints(project: Path, offset: int) -> dict[str, AppEndpoint]:
    """Every app of ``dapr.yaml`` with its ports shifted by ``offset``, by app id."""
    source = yaml.safe_load((project / "dapr.yaml").read_text())
    return {
        app["appID"]: AppEndpoint(
            app_id=app["appID"],
            app_port=app["appPort"] + offset,
            dapr_http_port=app["daprHTTPPort"] + offset,
            dapr_grpc_port=app["daprGRPCPort"] + offset,
            dapr_internal_grpc_port=app["daprInternalGRPCPort"] + offset,
            metrics_port=app["metricsPort"] + offset,
            app_dir=(project / app["appDirPath"]).resolve(),
        )
        for app in source["apps"]
    }


def project_python(project: Path) -> str:
    """The checkout's virtualenv interpreter, else the one running this code."""
    venv = project / ".venv/bin/python"
    return str(venv) if venv.exists() else sys.executable


def render_instance(
    project: Path,
    instance_dir: Path,
    ports: Ports,
    secrets_file: Path,
    env: dict[str, str],
    resolver: dict[str, str] | None = None,
    pubsub: dict[str, str] | None = None,
    replicas: list[AppEndpoint] | None = None,
) -> Path:
    """Write the instance's ``components/``, ``config.yaml`` (and ``config-<app id>.yaml`` for each
    app with its own configuration in ``deploy/dapr``) and run file; return the run file.

    ``resolver`` overrides keys of the sqlite name resolution's configuration, ``pubsub`` of the
    pub/sub component's metadata (tests shorten their intervals); ``replicas`` are extra copies of
    apps (``runtime/replicas.py``), each an entry of its own with its ports and ``replica``."""
    comp_dir = instance_dir / "components"
    _render_components(project, comp_dir, ports, secrets_file, pubsub or {})
    base = _render_config(project, instance_dir, resolver or {}, env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    app_configs = _render_app_configs(project, instance_dir, base, secrets_file)
    run = yaml.safe_load((project / "dapr.yaml").read_text())
    common = run.setdefault("common", {})
    common["resourcesPaths"] = [str(comp_dir)]
    common["configFilePath"] = str(instance_dir / "config.yaml")
    common["schedulerHostAddress"] = f"127.0.0.1:{ports.scheduler}"
    # mTLS identities from the instance's Sentry (runtime/sentry.py): access control needs them
    common["sentryAddress"] = f"127.0.0.1:{ports.sentry}"
    common["enableMTLS"] = True
    common["env"] = {**common.get("env", {}), **env}
    endpoints = app_endpoints(project, ports.offset)
    python = project_python(project)
    for app in run["apps"]:
        ep = endpoints[app["appID"]]
        app.update(
            appDirPath=str(ep.app_dir),
            appPort=ep.app_port,
            daprHTTPPort=ep.dapr_http_port,
            daprGRPCPort=ep.dapr_grpc_port,
            daprInternalGRPCPort=ep.dapr_internal_grpc_port,
            metricsPort=ep.metrics_port,
        )
        app["command"] = [python if c.endswith(".venv/bin/python") else c for c in app["command"]]
        if app["appID"] in app_configs:
            app["configFilePath"] = str(app_configs[app["appID"]])
    run["apps"] += [_replica_entry(run["apps"], ep) for ep in replicas or []]
    run_file = instance_dir / "dapr.yaml"
    run_file.write_text(yaml.safe_dump(run, sort_keys=False))
    return run_file


def _replica_entry(apps: list[dict[str, Any]], ep: AppEndpoint) -> dict[str, Any]:
    primary = next(app for app in apps if app["appID"] == ep.app_id)
    return {
        **primary,
        "replica": ep.replica,
        "appPort": ep.app_port,
        "daprHTTPPort": ep.dapr_http_port,
        "daprGRPCPort": ep.dapr_grpc_port,
        "daprInternalGRPCPort": ep.dapr_internal_grpc_port,
        "metricsPort": ep.metrics_port,
        "env": {**(primary.get("env") or {}), "HEADWATER_REPLICA": str(ep.replica)},
    }


def _render_components(project: Path, comp_dir: Path, ports: Ports, secrets_file: Path, pubsub: dict[str, str]) -> None:
    comp_dir.mkdir(parents=True, exist_ok=True)
    for old in comp_dir.glob("*.yaml"):
        old.unlink()
    for path in sorted((project / "deploy/dapr/components").glob("*.yaml")):
        docs = [_render_component(d, ports, secrets_file, pubsub) for d in yaml.safe_load_all(path.read_text()) if d]
        # one line per value: `headwater subscribers add` edits the topic scopes line by line
        (comp_dir / path.name).write_text(yaml.safe_dump_all(docs, sort_keys=False, width=1 << 16))


def _render_component(doc: dict[str, Any], ports: Ports, secrets_file: Path, pubsub: dict[str, str]) -> dict[str, Any]:
    kind = doc.get("spec", {}).get("type")
    items = doc.get("spec", {}).get("metadata", []) or []
    if str(kind).startswith("pubsub.") and pubsub:
        known = {item["name"] for item in items}
        items += [{"name": name, "value": value} for name, value in pubsub.items() if name not in known]
        for item in items:
            if item["name"] in pubsub:
                item["value"] = pubsub[item["name"]]
        doc["spec"]["metadata"] = items
    for item in items:
        if kind in REDIS_TYPES and item["name"] == "redisHost":
            item["value"] = f"127.0.0.1:{ports.redis}"
        if kind == "secretstores.local.file" and item["name"] == "secretsFile":
            item["value"] = str(secrets_file)
    return doc


def _render_config(project: Path, instance_dir: Path, resolver: dict[str, str], otlp: str | None) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((project / "deploy/dapr/config.yaml").read_text())
    if otlp:  # Dapr's own spans to the apps' collector (docs/observability.md)
        url = urlsplit(otlp)
        exporter = {"endpointAddress": url.netloc, "isSecure": url.scheme == "https", "protocol": "http"}
        config["spec"].setdefault("tracing", {})["otel"] = exporter
    resolution = config["spec"].get("nameResolution", {})
    if resolution.get("component") == "sqlite":
        resolution["configuration"] |= resolver
        resolution["configuration"]["connectionString"] = str(instance_dir / "nameresolution.db")
    (instance_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return config


def _render_app_configs(project: Path, instance_dir: Path, base: dict[str, Any], secrets_file: Path) -> dict[str, Path]:
    """``config-<app id>.yaml`` of every app that has one in ``deploy/dapr``: the shared spec
    with the app's own keys (its secret scopes) on top; by app id."""
    for old in instance_dir.glob("config-*.yaml"):
        old.unlink()
    rendered: dict[str, Path] = {}
    for path in sorted((project / "deploy/dapr").glob("config-*.yaml")):
        own: dict[str, Any] = yaml.safe_load(path.read_text())
        app_id = path.stem.removeprefix("config-")
        annotations = (own.get("metadata") or {}).get("annotations") or {}
        spec = {**base["spec"], **own.get("spec", {})}
        if str(annotations.get(DEV_SOURCE_SECRETS, "")).lower() == "true":
            # the sources' development keys; `headwater` and `headwater-*` are the platform's own
            extra = [n for n in dev_secret_names(secrets_file) if n != "headwater" and not n.startswith("headwater-")]
            for scope in spec.get("secrets", {}).get("scopes", []):
                allowed = scope.setdefault("allowedSecrets", [])
                allowed.extend(k for k in extra if k not in allowed)
        config = {**base, "metadata": {**base["metadata"], **own.get("metadata", {})}, "spec": spec}
        target = instance_dir / path.name
        target.write_text(yaml.safe_dump(config, sort_keys=False))
        rendered[app_id] = target
    return rendered


def dev_secret_names(secrets_file: Path) -> list[str]:
    """The secrets ``secretstores.local.file`` with ``multiValued`` makes of a JSON file: its
    top-level keys (each holding its own keys, as a Kubernetes Secret does), in file order."""
    try:
        data = json.loads(secrets_file.read_text() or "{}")
    except (OSError, ValueError):
        return []
    return [str(name) for name in data] if isinstance(data, dict) else []
