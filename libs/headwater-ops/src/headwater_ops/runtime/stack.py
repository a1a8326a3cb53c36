"""Start and stop a whole local stack: scheduler, Redis, PostgreSQL + FerretDB, apps and sidecars.

An *instance* (``dev`` for ``make up``, ``test`` for the integration tests) keeps its data,
pid files, logs and rendered Dapr files under ``.headwater/<instance>/``. The committed
``dapr.yaml`` and ``deploy/dapr/`` are the source (``render``); ``daemons`` says how each
program is launched, ``supervisor`` keeps every app and daprd of the run file up, and
``dev_secrets`` keeps the development secret store.
"""

from __future__ import annotations

import functools
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headwater_ops.runtime.binaries import RuntimeBinaries, resolve_runtime
from headwater_ops.runtime.daemons import Daemons
from headwater_ops.runtime.dev_secrets import DevSecrets
from headwater_ops.runtime.procs import (
    INSTANCE_MARKER,
    Managed,
    StartError,
    alive,
    answers,
    check_ports_free,
    marked_processes,
    port_open,
    redis_server_pids,
    stop_pidfile,
    sweep,
    terminate,
    wait_until,
)
from headwater_ops.runtime.render import AppEndpoint, app_endpoints, project_python, render_instance
from headwater_ops.runtime.replicas import replica_endpoints
from headwater_ops.runtime.sentry import sentry_binary, trust_anchors
from headwater_ops.runtime.settings import RuntimeSettings, check_port_range
from headwater_ops.runtime.stack_info import StackInfo
from headwater_ops.runtime.supervisor import read_state
from headwater_ops.runtime.tokens import InstanceTokens

__all__ = ["AppEndpoint", "Stack", "StackInfo"]

Report = Callable[[str], None]
# "dapr" is the `dapr run -f` of a stack started before the supervisor existed
_STOP_ORDER = ("demo-data", "supervisor", "dapr", "ferretdb", "postgres", "sentry", "scheduler", "redis")
_LOGS = ("supervisor", "scheduler", "sentry", "redis", "postgres", "ferretdb")


class Stack:
    """The local runtime of one instance."""

    def __init__(self, settings: RuntimeSettings, report: Report = print) -> None:
        self.settings = settings
        self.report = report
        self.dir = settings.instance_dir
        self.ports = settings.ports
        self.daemons = Daemons(settings)
        self.run_dir = self.daemons.run_dir
        self.log_dir = self.daemons.log_dir
        self.secrets = DevSecrets(self.secrets_file)
        self.tokens = InstanceTokens(self.daemons.tokens_file)

    # ------------------------------------------------------------------ what runs where
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

    @property
    def demo_port(self) -> int:
        return 8190 + self.ports.offset

    def apps(self) -> dict[str, AppEndpoint]:
        return app_endpoints(self.settings.project, self.ports.offset)

    def replicas(self) -> list[AppEndpoint]:
        """The apps' extra replicas (``runtime/replicas.py``)."""
        return replica_endpoints(self.apps(), self.settings.replicas)

    def endpoints(self) -> list[AppEndpoint]:
        """Every app and sidecar the stack runs: the apps, then their extra replicas."""
        return [*self.apps().values(), *self.replicas()]

    def render(self, extra_env: dict[str, str] | None = None) -> Path:
        """Write the instance's components, configuration and run file; return the run file."""
        otlp = {k: v for k, v in os.environ.items() if k == "OTEL_EXPORTER_OTLP_ENDPOINT"}
        env = {**self._app_env(), **otlp, **(extra_env or {})}
        resolver, pubsub, extra = (
            self.settings.name_resolution,
            self.settings.pubsub,
            self.replicas(),
        )
        return render_instance(
            self.settings.project, self.dir, self.ports, self.secrets_file, env, resolver, pubsub, extra
        )

    def _app_env(self) -> dict[str, str]:
        env = {
            INSTANCE_MARKER: str(self.dir),
            "MONGODB_URI": self.mongodb_uri,
            "MONGODB_DATABASE": self.mongodb_database,
            "HEADWATER_INSTANCE": self.settings.instance,
            "PYTHONUNBUFFERED": "1",
        }
        for app_id, ep in self.apps().items():
            env[f"HEADWATER_{app_id.upper().replace('-', '_')}_URL"] = ep.app_url
        return env

    def info(self, rt: RuntimeBinaries | None = None) -> StackInfo:
        apps = self.apps()
        logs = {name: self.log_dir / f"{name}.log" for name in _LOGS}
        for ep in self.endpoints():
            logs[f"{ep.name} app"] = self.log_dir / f"{ep.name}.app.log"
            logs[f"{ep.name} daprd"] = self.log_dir / f"{ep.name}.daprd.log"
        return StackInfo(
            instance_dir=self.dir,
            mongodb_uri=self.mongodb_uri,
            mongodb_database=self.mongodb_database,
            redis_address=f"127.0.0.1:{self.ports.redis}",
            scheduler_address=f"127.0.0.1:{self.ports.scheduler}",
            apps=apps,
            replicas=self.replicas(),
            logs=logs,
            runtime_source=rt.source if rt else "",
            secrets_file=self.secrets_file,
            dapr_api_token=self.dapr_api_token(),
        )

    # ------------------------------------------------------------------ secrets
    def api_token(self) -> str:
        """The planner API token of the development secret store (generated on first use)."""
        return self.secrets.api_token()

    def dapr_api_token(self) -> str | None:
        """The instance's ``DAPR_API_TOKEN`` (every sidecar requires it), once ``up`` created it."""
        return self.tokens.dapr_api_token

    def write_secrets(self, new: dict[str, Any]) -> None:
        """Merge ``new`` into the development secret store (daprd reads it when it starts)."""
        self.secrets.merge(new)

    # ------------------------------------------------------------------ lifecycle
    def up(self, extra_env: dict[str, str] | None = None) -> StackInfo:
        """Start everything and wait until every sidecar and service is healthy."""
        started = time.monotonic()
        rt = resolve_runtime(self.settings, self.report)
        if self._supervisor(rt).alive():
            self.report(f"stack '{self.settings.instance}' is already running; `make down` first to restart")
            return self.info(rt)
        self.down(quiet=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.secrets.ensure()
        self.tokens.ensure()
        check_port_range(self._ports_needed())
        check_ports_free(self._ports_needed())
        self._start_infrastructure(rt)
        self.render(extra_env)
        self._start_apps(rt)
        self.report(f"stack '{self.settings.instance}' up in {time.monotonic() - started:.1f}s")
        return self.info(rt)

    def _ports_needed(self) -> dict[str, int]:
        ports = self.ports.infrastructure()
        if self.settings.mongodb_uri:
            ports = {k: v for k, v in ports.items() if k not in ("postgresql", "ferretdb")}
        for ep in self.endpoints():
            ports |= {
                f"{ep.name} app": ep.app_port,
                f"{ep.name} dapr http": ep.dapr_http_port,
                f"{ep.name} dapr grpc": ep.dapr_grpc_port,
                f"{ep.name} metrics": ep.metrics_port,
                f"{ep.name} dapr internal grpc": ep.dapr_internal_grpc_port,
            }
        return ports

    def _start_infrastructure(self, rt: RuntimeBinaries) -> None:
        timeout = self.settings.start_timeout_seconds
        redis, sentry = self.daemons.redis(), self.daemons.sentry(sentry_binary(self.settings, self.report))
        redis.start()
        sentry.start()  # first: the scheduler and every sidecar take their mTLS identity from it
        if not self.settings.mongodb_uri:
            self.daemons.start_database(rt, timeout, self.report)
        healthz = f"http://127.0.0.1:{self.ports.sentry_healthz}/healthz"
        sentry.wait_ready(lambda: answers(healthz, 200) and trust_anchors(self.dir).exists(), timeout, "sentry")
        self.report(f"sentry       127.0.0.1:{self.ports.sentry} (mTLS identities)")
        scheduler = self.daemons.scheduler(rt)
        scheduler.start()
        redis.wait_ready(lambda: port_open(self.ports.redis), timeout, "redis port")
        self.report(f"redis        127.0.0.1:{self.ports.redis}")
        scheduler.wait_ready(self._scheduler_healthy, timeout, "scheduler /healthz")
        self.report(f"scheduler    127.0.0.1:{self.ports.scheduler}")

    def _start_apps(self, rt: RuntimeBinaries) -> None:
        timeout = self.settings.start_timeout_seconds
        dapr = self._supervisor(rt)
        dapr.start()
        for ep in self.endpoints():
            sidecar_up = functools.partial(answers, f"{ep.dapr_url}/v1.0/healthz", 204)
            app_up = functools.partial(answers, f"{ep.app_url}/healthz", 200)
            dapr.wait_ready(sidecar_up, timeout, f"{ep.app_id} sidecar /v1.0/healthz")
            dapr.wait_ready(app_up, timeout, f"{ep.app_id} /healthz")
            self.report(f"{ep.name:<12} app {ep.app_url}  sidecar {ep.dapr_url}")

    def _supervisor(self, rt: RuntimeBinaries) -> Managed:
        return self.daemons.supervisor(rt, self.run_file, project_python(self.settings.project))

    def supervised(self) -> list[dict[str, Any]]:
        """Each supervised app and daprd: pid, state, restarts, last exit code and time (``run/supervisor.json``)."""
        state = read_state(self.daemons.supervisor_state)
        if state is None or not alive(int(state.get("pid", 0))):
            return []
        return list(state.get("processes", []))

    def _scheduler_healthy(self) -> bool:
        return answers(f"http://127.0.0.1:{self.ports.scheduler_healthz}/healthz", 200)

    def down(self, quiet: bool = False) -> list[str]:
        """Stop everything of this instance; safe to call when nothing runs."""
        stopped: list[str] = []
        for name in _STOP_ORDER:
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

    # ------------------------------------------------------------------ single processes
    def start_demo_data(self, timeout: float = 30.0) -> str:
        """Start the example data server (examples/demo-data); return its base URL."""
        url = f"http://127.0.0.1:{self.demo_port}"
        demo = self.daemons.demo_data(project_python(self.settings.project), self.demo_port, self.secrets_file)
        if demo.alive():
            return url
        check_ports_free({"demo-data": self.demo_port})
        demo.start()
        demo.wait_ready(lambda: answers(f"{url}/healthz", 200), timeout, "demo-data /healthz")
        return url

    def restart_app(self, app_id: str, timeout: float = 30.0) -> int:
        """Stop one app process (not its sidecar) and let the supervisor start it again, as after a
        crash; returns the new pid once the app's ``/healthz`` answers."""
        ep = self.apps()[app_id]
        old = self.app_pid(app_id)
        terminate([old])

        def restarted() -> bool:
            try:
                return self.app_pid(app_id) != old and answers(f"{ep.app_url}/healthz", 200)
            except LookupError:
                return False

        if not wait_until(restarted, timeout):
            raise StartError(f"{app_id} was not restarted within {timeout:.0f}s; see {self.log_dir / 'supervisor.log'}")
        return self.app_pid(app_id)

    def app_pid(self, app_id: str, role: str = "app", replica: int = 0) -> int:
        """The pid of an app (``role="app"``) or of its sidecar (``role="daprd"``); ``replica`` k of it."""
        ep = next(e for e in self.endpoints() if (e.app_id, e.replica) == (app_id, replica))
        for proc in marked_processes(self.dir):
            if role == "daprd" and proc.name == "daprd" and proc.option("--dapr-http-port") == str(ep.dapr_http_port):
                return proc.pid
            if (
                role == "app"
                and f"APP_PORT={ep.app_port}".encode() in proc.environ
                and proc.name not in ("daprd", "dapr")
            ):
                return proc.pid
        raise LookupError(f"no running {role} process for app {ep.name}")

    def _stray_redis(self, kill: bool = False) -> list[int]:
        found = redis_server_pids(self.ports.redis)
        return terminate(found) if kill else found

    def pids(self) -> dict[str, int]:
        """Pids of the processes this instance runs, found through their environment marker."""
        found: dict[str, int] = {f"redis-server {pid}": pid for pid in self._stray_redis()}
        found |= {f"{proc.name} {proc.pid}": proc.pid for proc in marked_processes(self.dir)}
        return found
