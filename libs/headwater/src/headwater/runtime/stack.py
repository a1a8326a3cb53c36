"""Start and stop a whole local stack: scheduler, Redis, PostgreSQL + FerretDB, ``dapr run -f``.

An *instance* (``dev`` for ``make up``, ``test`` for the integration tests) keeps its data,
pid files, logs and rendered Dapr files under ``.headwater/<instance>/``. The committed
``dapr.yaml`` and ``deploy/dapr/`` are the source; rendering only fills in the instance's
ports and absolute paths, so they stay the single description of the apps.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from headwater.runtime import postgres
from headwater.runtime.binaries import RuntimeBinaries, resolve_runtime
from headwater.runtime.procs import (
    INSTANCE_MARKER,
    Managed,
    check_ports_free,
    marked_processes,
    port_open,
    read_pid,
    stop_pidfile,
    sweep,
    terminate,
)
from headwater.runtime.settings import RuntimeSettings

__all__ = ["AppEndpoint", "Stack", "StackInfo"]

Report = Callable[[str], None]
REDIS_TYPES = {"pubsub.redis", "state.redis", "lock.redis"}


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

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def dapr_url(self) -> str:
        return f"http://127.0.0.1:{self.dapr_http_port}"


@dataclass
class StackInfo:
    """What runs where: returned by ``Stack.up`` and printed by ``headwater up``."""

    instance_dir: Path
    mongodb_uri: str
    mongodb_database: str
    redis_address: str
    scheduler_address: str
    apps: dict[str, AppEndpoint] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    runtime_source: str = ""
    secrets_file: Path | None = None


class Stack:
    """The local runtime of one instance."""

    def __init__(self, settings: RuntimeSettings, report: Report = print) -> None:
        self.settings = settings
        self.report = report
        self.dir = settings.instance_dir
        self.ports = settings.ports
        self.run_dir = self.dir / "run"
        self.log_dir = self.dir / "logs"

    # ------------------------------------------------------------------ rendering
    @property
    def mongodb_uri(self) -> str:
        return self.settings.mongodb_uri or f"mongodb://127.0.0.1:{self.ports.ferretdb}/"

    @property
    def mongodb_database(self) -> str:
        return f"headwater_{self.settings.instance}".replace("-", "_")

    @property
    def secrets_file(self) -> Path:
        return self.dir / "secrets.json"

    @property
    def run_file(self) -> Path:
        return self.dir / "dapr.yaml"

    def apps(self) -> dict[str, AppEndpoint]:
        source = yaml.safe_load((self.settings.project / "dapr.yaml").read_text())
        offset = self.ports.offset
        return {
            app["appID"]: AppEndpoint(
                app_id=app["appID"],
                app_port=app["appPort"] + offset,
                dapr_http_port=app["daprHTTPPort"] + offset,
                dapr_grpc_port=app["daprGRPCPort"] + offset,
                dapr_internal_grpc_port=app["daprInternalGRPCPort"] + offset,
                metrics_port=app["metricsPort"] + offset,
                app_dir=(self.settings.project / app["appDirPath"]).resolve(),
            )
            for app in source["apps"]
        }

    def render(self, extra_env: dict[str, str] | None = None) -> Path:
        """Write the instance's components, configuration and run file; return the run file."""
        project = self.settings.project
        comp_dir = self.dir / "components"
        comp_dir.mkdir(parents=True, exist_ok=True)
        for old in comp_dir.glob("*.yaml"):
            old.unlink()
        for path in sorted((project / "deploy/dapr/components").glob("*.yaml")):
            docs = [self._render_component(d) for d in yaml.safe_load_all(path.read_text()) if d]
            (comp_dir / path.name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
        config = yaml.safe_load((project / "deploy/dapr/config.yaml").read_text())
        resolution = config["spec"].get("nameResolution", {})
        if resolution.get("component") == "sqlite":
            resolution["configuration"]["connectionString"] = str(self.dir / "nameresolution.db")
        (self.dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

        run = yaml.safe_load((project / "dapr.yaml").read_text())
        common = run.setdefault("common", {})
        common["resourcesPaths"] = [str(comp_dir)]
        common["configFilePath"] = str(self.dir / "config.yaml")
        common["schedulerHostAddress"] = f"127.0.0.1:{self.ports.scheduler}"
        common["env"] = {**common.get("env", {}), **self._app_env(), **(extra_env or {})}
        endpoints = self.apps()
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
            app["command"] = [self._python() if c.endswith(".venv/bin/python") else c for c in app["command"]]
        self.run_file.write_text(yaml.safe_dump(run, sort_keys=False))
        return self.run_file

    def _render_component(self, doc: dict[str, Any]) -> dict[str, Any]:
        kind = doc.get("spec", {}).get("type")
        for item in doc.get("spec", {}).get("metadata", []) or []:
            if kind in REDIS_TYPES and item["name"] == "redisHost":
                item["value"] = f"127.0.0.1:{self.ports.redis}"
            if kind == "secretstores.local.file" and item["name"] == "secretsFile":
                item["value"] = str(self.secrets_file)
        return doc

    def _python(self) -> str:
        venv = self.settings.project / ".venv/bin/python"
        return str(venv) if venv.exists() else sys.executable

    def _app_env(self) -> dict[str, str]:
        apps = self.apps()
        env = {
            INSTANCE_MARKER: str(self.dir),
            "MONGODB_URI": self.mongodb_uri,
            "MONGODB_DATABASE": self.mongodb_database,
            "HEADWATER_INSTANCE": self.settings.instance,
            "PYTHONUNBUFFERED": "1",
        }
        for app_id, ep in apps.items():
            env[f"HEADWATER_{app_id.upper().replace('-', '_')}_URL"] = ep.app_url
        return env

    # ------------------------------------------------------------------ processes
    def _redis(self) -> Managed:
        data = self.dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        argv = [
            "redis-server",
            "--port",
            str(self.ports.redis),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--daemonize",
            "no",
        ]
        argv += (
            ["--appendonly", "yes", "--save", "60 1"]
            if self.settings.persistent
            else ["--appendonly", "no", "--save", ""]
        )
        return Managed("redis", argv, self.run_dir, self.log_dir, env=self._marker())

    def _scheduler(self, rt: RuntimeBinaries) -> Managed:
        p = self.ports
        data = self.dir / "scheduler"
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(0o700)
        argv = [
            str(rt.scheduler),
            "--listen-address=127.0.0.1",
            f"--port={p.scheduler}",
            "--healthz-listen-address=127.0.0.1",
            f"--healthz-port={p.scheduler_healthz}",
            "--metrics-listen-address=127.0.0.1",
            f"--metrics-port={p.scheduler_metrics}",
            f"--etcd-data-dir={data / 'etcd'}",
            "--etcd-client-listen-address=127.0.0.1",
            f"--etcd-client-port={p.etcd_client}",
            "--id=scheduler-0",
            f"--etcd-initial-cluster=scheduler-0=http://127.0.0.1:{p.etcd_peer}",
            f"--identity-directory-write={data / 'identity'}",
            "--mode=standalone",
        ]
        return Managed("scheduler", argv, self.run_dir, self.log_dir, env=self._marker(), cwd=data)

    def _postgres(self) -> Managed:
        sock = self.dir / "pg-socket"
        sock.mkdir(parents=True, exist_ok=True)
        user = postgres.run_user()
        if user:
            import pwd

            pw = pwd.getpwnam(user)
            os.chown(sock, pw.pw_uid, pw.pw_gid)
        argv = postgres.postgres_argv(self.dir / "postgres", self.ports.postgres, sock)
        return Managed(
            "postgres",
            argv,
            self.run_dir,
            self.log_dir,
            env=self._marker(),
            user=user,
            cwd=Path("/"),
            stop_signal=signal.SIGINT,
        )

    def _ferretdb(self, rt: RuntimeBinaries) -> Managed:
        state = self.dir / "ferretdb"
        state.mkdir(parents=True, exist_ok=True)
        argv = [
            str(rt.ferretdb),
            f"--postgresql-url=postgres://{postgres.DB_USER}@127.0.0.1:{self.ports.postgres}/postgres",
            f"--listen-addr=127.0.0.1:{self.ports.ferretdb}",
            "--no-auth",
            "--telemetry=disable",
            "--debug-addr=-",
            f"--state-dir={state}",
            "--log-level=warn",
        ]
        return Managed("ferretdb", argv, self.run_dir, self.log_dir, env=self._marker())

    def _dapr(self, rt: RuntimeBinaries) -> Managed:
        env = {**self._marker(), "DAPR_RUNTIME_PATH": str(rt.slim_dir)}
        return Managed(
            "dapr", [str(rt.dapr), "run", "-f", str(self.run_file)], self.run_dir, self.log_dir, env=env, cwd=self.dir
        )

    def _marker(self) -> dict[str, str]:
        return {INSTANCE_MARKER: str(self.dir)}

    # ------------------------------------------------------------------ lifecycle
    def up(self, extra_env: dict[str, str] | None = None) -> StackInfo:
        """Start everything and wait until every sidecar and service is healthy."""
        started = time.monotonic()
        rt = resolve_runtime(self.settings, self.report)
        if (self.run_dir / "dapr.pid").exists() and self._dapr(rt).alive():
            self.report(f"stack '{self.settings.instance}' is already running; `make down` first to restart")
            return self.info(rt)
        self.down(quiet=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._ensure_secrets_file()
        ports = self.ports.infrastructure()
        if self.settings.mongodb_uri:
            ports = {k: v for k, v in ports.items() if k not in ("postgresql", "ferretdb")}
        for ep in self.apps().values():
            ports |= {
                f"{ep.app_id} app": ep.app_port,
                f"{ep.app_id} dapr http": ep.dapr_http_port,
                f"{ep.app_id} dapr grpc": ep.dapr_grpc_port,
                f"{ep.app_id} metrics": ep.metrics_port,
                f"{ep.app_id} dapr internal grpc": ep.dapr_internal_grpc_port,
            }
        check_ports_free(ports)
        timeout = self.settings.start_timeout_seconds

        redis, scheduler = self._redis(), self._scheduler(rt)
        redis.start()
        scheduler.start()
        if not self.settings.mongodb_uri:
            self._start_database(rt, timeout)
        redis.wait_ready(lambda: port_open(self.ports.redis), timeout, "redis port")
        self.report(f"redis        127.0.0.1:{self.ports.redis}")
        scheduler.wait_ready(self._scheduler_healthy, timeout, "scheduler /healthz")
        self.report(f"scheduler    127.0.0.1:{self.ports.scheduler}")

        self.render(extra_env)
        dapr = self._dapr(rt)
        dapr.start()
        for ep in self.apps().values():
            sidecar_up = functools.partial(_answers, f"{ep.dapr_url}/v1.0/healthz", 204)
            app_up = functools.partial(_answers, f"{ep.app_url}/healthz", 200)
            dapr.wait_ready(
                sidecar_up,
                timeout,
                f"{ep.app_id} sidecar /v1.0/healthz",
            )
            dapr.wait_ready(app_up, timeout, f"{ep.app_id} /healthz")
            self.report(f"{ep.app_id:<12} app {ep.app_url}  sidecar {ep.dapr_url}")
        self.report(f"stack '{self.settings.instance}' up in {time.monotonic() - started:.1f}s")
        return self.info(rt)

    def _start_database(self, rt: RuntimeBinaries, timeout: float) -> None:
        if not postgres.documentdb_installed():
            if rt.pg_extensions is None:
                raise postgres.PostgresError(
                    "the DocumentDB extension is not installed in PostgreSQL 15 and this runtime "
                    f"source ({rt.source}) does not carry it: run `make setup` with the offline bundle"
                )
            postgres.install_extensions(rt.pg_extensions)
        created = postgres.ensure_cluster(self.dir / "postgres")
        if created:
            self.report(f"postgresql   initialised {self.dir / 'postgres'}")
        pg = self._postgres()
        pg.start()
        pg.wait_ready(lambda: postgres.pg_ready(self.ports.postgres), timeout, "postgresql")
        postgres.create_documentdb_extension(self.ports.postgres, self.dir / "postgres" / ".documentdb")
        self.report(f"postgresql   127.0.0.1:{self.ports.postgres}")
        ferret = self._ferretdb(rt)
        ferret.start()
        ferret.wait_ready(lambda: port_open(self.ports.ferretdb), timeout, "ferretdb port")
        self.report(f"ferretdb     {self.mongodb_uri}")

    def _scheduler_healthy(self) -> bool:
        return _http_status(f"http://127.0.0.1:{self.ports.scheduler_healthz}/healthz") == 200

    def _ensure_secrets_file(self) -> None:
        """The development secret store, with a generated planner API token (``headwater:api_token``)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.secrets_file.exists():
            self.secrets_file.write_text("{}\n")
            self.secrets_file.chmod(0o600)
        current = json.loads(self.secrets_file.read_text() or "{}")
        changed = False
        # the planner API token, and development keys for the example sources (demo-data checks them)
        for group in ("headwater", "products-api", "google-sheets"):
            name = "api_token" if group == "headwater" else "api_key"
            if not current.get(group, {}).get(name):
                current.setdefault(group, {})[name] = secrets.token_urlsafe(24)
                changed = True
        if changed:
            self.secrets_file.write_text(json.dumps(current, indent=2) + "\n")

    def api_token(self) -> str:
        self._ensure_secrets_file()
        return str(json.loads(self.secrets_file.read_text())["headwater"]["api_token"])

    def write_secrets(self, new: dict[str, Any]) -> None:
        """Merge ``new`` into the development secret store (daprd reads it when it starts)."""
        self._ensure_secrets_file()
        current = json.loads(self.secrets_file.read_text() or "{}")
        for key, value in new.items():
            if isinstance(value, dict) and isinstance(current.get(key), dict):
                current[key].update(value)
            else:
                current[key] = value
        self.secrets_file.write_text(json.dumps(current, indent=2) + "\n")

    def down(self, quiet: bool = False) -> list[str]:
        """Stop everything of this instance; safe to call when nothing runs."""
        stopped: list[str] = []
        if self.run_file.exists():
            with contextlib.suppress(Exception):
                rt = resolve_runtime(self.settings, lambda _msg: None)
                subprocess.run(
                    [str(rt.dapr), "stop", "-f", str(self.run_file)],
                    capture_output=True,
                    timeout=30,
                    env={**os.environ, "DAPR_RUNTIME_PATH": str(rt.slim_dir)},
                )
        for name in ("demo-data", "dapr", "ferretdb", "postgres", "scheduler", "redis"):
            sig = signal.SIGINT if name == "postgres" else signal.SIGTERM
            if stop_pidfile(self.run_dir / f"{name}.pid", sig):
                stopped.append(name)
        leftovers = sweep(self.dir) if self.dir.exists() else []
        leftovers += self._stray_redis(kill=True)
        if leftovers:
            stopped.append(f"{len(leftovers)} leftover process(es)")
        if not quiet:
            self.report(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        return stopped

    def info(self, rt: RuntimeBinaries | None = None) -> StackInfo:
        apps = self.apps()
        logs = {name: self.log_dir / f"{name}.log" for name in ("dapr", "scheduler", "redis", "postgres", "ferretdb")}
        for ep in apps.values():
            logs[f"{ep.app_id} (app and daprd)"] = ep.app_dir / ".dapr" / "logs"
        return StackInfo(
            instance_dir=self.dir,
            mongodb_uri=self.mongodb_uri,
            mongodb_database=self.mongodb_database,
            redis_address=f"127.0.0.1:{self.ports.redis}",
            scheduler_address=f"127.0.0.1:{self.ports.scheduler}",
            apps=apps,
            logs=logs,
            runtime_source=rt.source if rt else "",
            secrets_file=self.secrets_file,
        )

    @property
    def demo_port(self) -> int:
        return 8190 + self.ports.offset

    def start_demo_data(self, timeout: float = 30.0) -> str:
        """Start the example data server (examples/demo-data); return its base URL."""
        url = f"http://127.0.0.1:{self.demo_port}"
        demo = Managed(
            "demo-data",
            [self._python(), "-m", "demo_data"],
            self.run_dir,
            self.log_dir,
            env={**self._marker(), "DEMO_PORT": str(self.demo_port), "DEMO_SECRETS_FILE": str(self.secrets_file)},
        )
        if demo.alive():
            return url
        check_ports_free({"demo-data": self.demo_port})
        demo.start()
        demo.wait_ready(lambda: _http_status(f"{url}/healthz") == 200, timeout, "demo-data /healthz")
        return url

    def restart_app(self, app_id: str, timeout: float = 30.0) -> int:
        """Restart one app process (not its sidecar), as a crash and restart would; returns the new pid.

        The app is relaunched with the environment, command line and folder it had."""
        ep = self.apps()[app_id]
        pid = self._app_pid(ep)
        proc = Path(f"/proc/{pid}")
        env = dict(item.split("=", 1) for item in (proc / "environ").read_bytes().decode().split("\0") if "=" in item)
        argv = [a for a in (proc / "cmdline").read_bytes().decode().split("\0") if a]
        cwd = (proc / "cwd").resolve()
        terminate([pid])
        app = Managed(f"{app_id}-restarted", argv, self.run_dir, self.log_dir, env=env, cwd=cwd)
        app.start()
        app.wait_ready(lambda: _http_status(f"{ep.app_url}/healthz") == 200, timeout, f"{app_id} /healthz")
        new_pid = read_pid(app.pid_file)
        assert new_pid is not None
        return new_pid

    def _app_pid(self, ep: AppEndpoint) -> int:
        app_marker = f"APP_ID={ep.app_id}".encode()
        for proc in marked_processes(self.dir):
            if app_marker in proc.environ and proc.name not in ("daprd", "dapr"):
                return proc.pid
        raise LookupError(f"no running process for app {ep.app_id}")

    def _stray_redis(self, kill: bool = False) -> list[int]:
        """Redis rewrites its process title over its environment, so the marker cannot find it:
        look for ``redis-server 127.0.0.1:<our port>`` instead."""
        title = f"redis-server 127.0.0.1:{self.ports.redis}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(title):
                    found.append(int(entry.name))
            except OSError:
                continue
        return terminate(found) if kill else found

    def pids(self) -> dict[str, int]:
        """Pids of the processes this instance runs, found through their environment marker."""
        found: dict[str, int] = {f"redis-server {pid}": pid for pid in self._stray_redis()}
        found |= {f"{proc.name} {proc.pid}": proc.pid for proc in marked_processes(self.dir)}
        return found


def _answers(url: str, status: int) -> bool:
    return _http_status(url) == status


def _http_status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2.0).status_code
    except httpx.HTTPError:
        return None
