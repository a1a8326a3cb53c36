"""How each long-running program of one instance is launched: one ``Managed`` per program.

Every process carries ``INSTANCE_MARKER`` in its environment, so ``Stack.down`` finds the
leftovers of a crashed run; pid files and logs live under the instance's ``run/`` and ``logs/``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from headwater_ops.runtime import postgres
from headwater_ops.runtime.binaries import RuntimeBinaries
from headwater_ops.runtime.procs import INSTANCE_MARKER, Managed, port_open
from headwater_ops.runtime.sentry import sentry_argv, trust_anchors
from headwater_ops.runtime.settings import RuntimeSettings

__all__ = ["Daemons"]

SCHEDULER_ID = "dapr-scheduler-server-0"


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
            # per member name: an etcd made under another name (before mTLS: scheduler-0) is not reused;
            # the planner registers its jobs again at start
            f"--etcd-data-dir={data / f'etcd-{SCHEDULER_ID}'}",
            "--etcd-client-listen-address=127.0.0.1",
            f"--etcd-client-port={p.etcd_client}",
            # the name Sentry's certificate for a scheduler carries (its etcd checks it under TLS)
            f"--id={SCHEDULER_ID}",
            f"--etcd-initial-cluster={SCHEDULER_ID}=http://127.0.0.1:{p.etcd_peer}",
            f"--identity-directory-write={data / 'identity'}",
            "--mode=standalone",
            # sidecars with mTLS speak TLS to the scheduler too: its identity comes from Sentry
            "--tls-enabled",
            f"--sentry-address=127.0.0.1:{p.sentry}",
            f"--trust-anchors-file={trust_anchors(self.dir)}",
        ]
        return self.managed("scheduler", argv, cwd=data)

    def sentry(self, binary: Path) -> Managed:
        """Dapr Sentry, the instance's certificate authority for mTLS identities (``sentry``)."""
        p = self.ports
        argv = sentry_argv(binary, self.dir, p.sentry, p.sentry_healthz, p.sentry_metrics)
        return self.managed("sentry", argv, cwd=self.dir / "sentry")

    def start_database(self, rt: RuntimeBinaries, timeout: float, report: Callable[[str], None]) -> None:
        """PostgreSQL with DocumentDB (extension installed, cluster made when missing), then FerretDB."""
        if not postgres.documentdb_installed():
            if rt.pg_extensions is None:
                raise postgres.PostgresError(
                    "the DocumentDB extension is not installed in PostgreSQL 15 and this runtime "
                    f"source ({rt.source}) does not carry it: run `make setup` with the offline bundle"
                )
            postgres.install_extensions(rt.pg_extensions)
        if postgres.ensure_cluster(self.dir / "postgres"):
            report(f"postgresql   initialised {self.dir / 'postgres'}")
        pg = self.postgres()
        pg.start()
        pg.wait_ready(lambda: postgres.pg_ready(self.ports.postgres), timeout, "postgresql")
        postgres.create_documentdb_extension(self.ports.postgres, self.dir / "postgres" / ".documentdb")
        report(f"postgresql   127.0.0.1:{self.ports.postgres}")
        ferret = self.ferretdb(rt)
        ferret.start()
        ferret.wait_ready(lambda: port_open(self.ports.ferretdb), timeout, "ferretdb port")
        report(f"ferretdb     mongodb://127.0.0.1:{self.ports.ferretdb}/")

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
        with the instance's Dapr tokens in their environment and Sentry's root in the sidecars'."""
        argv = [python, "-m", "headwater_ops.runtime.supervisor", str(run_file), "--daprd", str(rt.daprd)]
        argv += ["--state", str(self.supervisor_state), "--log-dir", str(self.log_dir)]
        argv += ["--tokens", str(self.tokens_file), "--trust-anchors", str(trust_anchors(self.dir))]
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
