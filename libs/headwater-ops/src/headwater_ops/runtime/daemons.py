"""How each long-running program of one instance is launched: one ``Managed`` per program.

Every process carries ``INSTANCE_MARKER`` in its environment, so ``Stack.down`` finds the
leftovers of a crashed run; pid files and logs live under the instance's ``run/`` and ``logs/``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from headwater_ops.runtime import postgres
from headwater_ops.runtime.binaries import RuntimeBinaries
from headwater_ops.runtime.procs import INSTANCE_MARKER, Managed
from headwater_ops.runtime.settings import RuntimeSettings

__all__ = ["Daemons"]


class Daemons:
    """Builds the ``Managed`` process of each program for the instance of ``settings``."""

    def __init__(self, settings: RuntimeSettings) -> None:
        self.settings = settings
        self.dir = settings.instance_dir
        self.ports = settings.ports
        self.run_dir = self.dir / "run"
        self.log_dir = self.dir / "logs"

    def marker(self) -> dict[str, str]:
        return {INSTANCE_MARKER: str(self.dir)}

    def managed(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> Managed:
        """``argv`` as a process of this instance (marked, with its pid file and log)."""
        return Managed(
            name,
            argv,
            self.run_dir,
            self.log_dir,
            env={**self.marker(), **(env or {})},
            cwd=cwd,
            user=user,
            stop_signal=stop_signal,
        )

    def redis(self) -> Managed:
        data = self.dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", str(self.ports.redis), "--bind", "127.0.0.1"]
        argv += ["--dir", str(data), "--daemonize", "no"]
        argv += (
            ["--appendonly", "yes", "--save", "60 1"]
            if self.settings.persistent
            else ["--appendonly", "no", "--save", ""]
        )
        return self.managed("redis", argv)

    def scheduler(self, rt: RuntimeBinaries) -> Managed:
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
        return self.managed("scheduler", argv, cwd=data)

    def postgres(self) -> Managed:
        sock = self.dir / "pg-socket"
        sock.mkdir(parents=True, exist_ok=True)
        user = postgres.run_user()
        if user:
            import pwd

            pw = pwd.getpwnam(user)
            os.chown(sock, pw.pw_uid, pw.pw_gid)
        argv = postgres.postgres_argv(self.dir / "postgres", self.ports.postgres, sock)
        return self.managed("postgres", argv, user=user, cwd=Path("/"), stop_signal=signal.SIGINT)

    def ferretdb(self, rt: RuntimeBinaries) -> Managed:
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
        return self.managed("ferretdb", argv)

    def supervisor(self, rt: RuntimeBinaries, run_file: Path, python: str) -> Managed:
        """Every app and sidecar of the rendered run file, restarted when they exit (``supervisor``),
        with the instance's Dapr tokens in their environment."""
        argv = [python, "-m", "headwater_ops.runtime.supervisor", str(run_file), "--daprd", str(rt.daprd)]
        argv += ["--state", str(self.supervisor_state), "--log-dir", str(self.log_dir)]
        argv += ["--tokens", str(self.tokens_file)]
        return self.managed("supervisor", argv, cwd=self.dir)

    @property
    def tokens_file(self) -> Path:
        return self.dir / "tokens.json"

    @property
    def supervisor_state(self) -> Path:
        return self.run_dir / "supervisor.json"

    def demo_data(self, python: str, port: int, secrets_file: Path) -> Managed:
        env = {"DEMO_PORT": str(port), "DEMO_SECRETS_FILE": str(secrets_file)}
        return self.managed("demo-data", [python, "-m", "demo_data"], env=env)
