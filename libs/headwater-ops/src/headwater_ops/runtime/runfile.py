"""Read a Multi-App Run file (``dapr.yaml``) into the commands of each app and its sidecar.

``headwater up`` supervises every daprd and app itself (``supervisor``) instead of ``dapr run -f``,
which only logs an exit; the run file stays the one description of the apps, and this module
turns it into the same daprd flags and app environment the Dapr CLI 1.18 derives from it
(``pkg/runfileconfig``, ``pkg/standalone/run.go``), listen addresses and health checks included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ProcessSpec", "read_run_file"]

# run-file key -> daprd flag, for the values passed through unchanged when present
_DAPRD_FLAGS = {
    "appProtocol": "--app-protocol",
    "appChannelAddress": "--app-channel-address",
    "daprHTTPPort": "--dapr-http-port",
    "daprGRPCPort": "--dapr-grpc-port",
    "daprInternalGRPCPort": "--dapr-internal-grpc-port",
    "metricsPort": "--metrics-port",
    "configFilePath": "--config",
    "schedulerHostAddress": "--scheduler-host-address",
    "placementHostAddress": "--placement-host-address",
    "logLevel": "--log-level",
    "maxBodySize": "--max-body-size",
    "readBufferSize": "--read-buffer-size",
    "appMaxConcurrency": "--app-max-concurrency",
    "apiListenAddresses": "--dapr-listen-addresses",
    # not keys of the Dapr CLI's run file (which ignores unknown keys and always lets these two
    # listen on every interface): Headwater's supervisor passes them on
    "daprInternalGRPCListenAddress": "--dapr-internal-grpc-listen-address",
    "metricsListenAddress": "--metrics-listen-address",
    "sentryAddress": "--sentry-address",
    "appHealthCheckPath": "--app-health-check-path",
    "appHealthProbeInterval": "--app-health-probe-interval",
    "appHealthProbeTimeout": "--app-health-probe-timeout",
    "appHealthThreshold": "--app-health-threshold",
}
# what the Dapr CLI tells the app about itself
_APP_ENV = {
    "APP_PORT": "appPort",
    "DAPR_HTTP_PORT": "daprHTTPPort",
    "DAPR_GRPC_PORT": "daprGRPCPort",
    "DAPR_METRICS_PORT": "metricsPort",
    "APP_PROTOCOL": "appProtocol",
    "APP_CHANNEL_ADDRESS": "appChannelAddress",
}


@dataclass(frozen=True)
class ProcessSpec:
    """One supervised process: ``<app id>/app`` or ``<app id>/daprd``."""

    app_id: str
    role: str
    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    replica: int = 0  # an extra replica of the app (runtime/replicas.py)

    @property
    def name(self) -> str:
        return f"{self.app_id}{f'#{self.replica}' if self.replica else ''}/{self.role}"

    @property
    def log_name(self) -> str:
        """``worker.app.log``; ``worker-2.app.log`` for replica 2."""
        return f"{self.app_id}{f'-{self.replica}' if self.replica else ''}.{self.role}.log"


def read_run_file(run_file: Path, daprd: Path) -> list[ProcessSpec]:
    """Every app of ``run_file`` as two processes: its sidecar (``daprd``), then the app."""
    run = yaml.safe_load(run_file.read_text())
    if not isinstance(run, dict) or not run.get("apps"):
        raise ValueError(f"{run_file}: a run file needs a non-empty `apps` list")
    common = run.get("common") or {}
    base = run_file.parent
    specs: list[ProcessSpec] = []
    for index, raw in enumerate(run["apps"]):
        if "appID" not in raw or "appDirPath" not in raw:
            raise ValueError(f"{run_file}: apps[{index}] needs `appID` and `appDirPath`")
        app = {**{k: v for k, v in common.items() if k != "env"}, **raw}
        app_dir = (base / raw["appDirPath"]).resolve()
        replica = int(app.get("replica") or 0)
        specs.append(ProcessSpec(app["appID"], "daprd", tuple(_daprd_argv(daprd, app, base)), app_dir, replica=replica))
        env = {**(common.get("env") or {}), **(raw.get("env") or {}), "APP_ID": app["appID"]}
        env |= {name: str(app[key]) for name, key in _APP_ENV.items() if app.get(key) not in (None, "")}
        command = [str(c) for c in raw.get("command") or []]
        if not command:
            raise ValueError(f"{run_file}: app {app['appID']} has no `command`")
        app_env = {k: str(v) for k, v in env.items()}
        specs.append(ProcessSpec(app["appID"], "app", tuple(command), app_dir, app_env, replica=replica))
    return specs


def _daprd_argv(daprd: Path, app: dict[str, Any], base: Path) -> list[str]:
    argv = [str(daprd), "--app-id", str(app["appID"])]
    if app.get("appPort"):
        argv += ["--app-port", str(app["appPort"])]
    for path in app.get("resourcesPaths") or []:
        argv += ["--resources-path", str((base / path).resolve())]
    for key, flag in _DAPRD_FLAGS.items():
        value = app.get(key)
        if value in (None, ""):
            continue
        if key == "configFilePath":
            value = (base / str(value)).resolve()
        argv += [flag, str(value)]
    if app.get("enableAppHealthCheck"):
        argv.append("--enable-app-health-check")
    if app.get("enableMTLS"):  # Headwater's key as well: the Dapr CLI's run file has none for mTLS
        argv.append("--enable-mtls")
    if app.get("enableApiLogging"):
        argv.append("--enable-api-logging")
    return argv
