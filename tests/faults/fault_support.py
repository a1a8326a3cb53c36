"""Faults to inject into a running stack, touching only the processes of its instance.

`Faults` kills an app or its sidecar (`kill -9`; the supervisor restarts it), Redis, PostgreSQL
(behind FerretDB) or the scheduler, and brings them back; every wait polls.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from headwater_ops.runtime import postgres
from headwater_ops.runtime.binaries import resolve_runtime
from headwater_ops.runtime.daemons import Daemons
from headwater_ops.runtime.procs import answers, port_open, redis_server_pids, wait_until
from headwater_ops.runtime.stack import Stack

__all__ = ["PUBSUB_OVERRIDES", "RECOVERY_TIMEOUT", "Faults", "push_source"]

RECOVERY_TIMEOUT = 60.0
# Redis redelivers a message that was read but not acknowledged (its reader was killed) once it
# has been pending processingTimeout, checked every redeliverInterval: 60 s / 30 s committed,
# compressed on the fault stacks so that each fault settles in ~20 s instead of ~75 s (the same
# mechanism)
PUBSUB_OVERRIDES = {"processingTimeout": "15s", "redeliverInterval": "5s"}


def push_source(sid: str) -> str:
    """A push source of price rows (sku, name, price): what the fault tests upload."""
    return f"""\
source_id: {sid}
ingestion: {{mode: push}}
parse: {{format: csv}}
map:
  fields: {{sku: sku, name: name, price: price}}
validate:
  fields:
    price: {{type: number, required: true, min: 0}}
store: {{key: [sku], history: scd2}}
"""


class Faults:
    """Kill or stop one part of the fault stack, and bring it back. Every wait polls."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.ports = stack.ports
        self._rt = resolve_runtime(stack.settings, lambda _msg: None)

    # ------------------------------------------------------------------ apps and sidecars
    def pid(self, app_id: str, role: str = "app") -> int:
        """The pid of an app (`role="app"`) or of its sidecar (`role="daprd"`)."""
        return self.stack.app_pid(app_id, role)

    def kill(self, app_id: str, role: str = "app") -> int:
        """`kill -9` an app or its sidecar; returns the killed pid (the supervisor restarts it)."""
        pid = self.pid(app_id, role)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), 10)
        return pid

    def wait_restarted(self, app_id: str, old_pid: int, role: str = "app", timeout: float = RECOVERY_TIMEOUT) -> int:
        """Wait until a new process serves `app_id` (`role`) and answers its health check; its pid."""
        ep = self.stack.apps()[app_id]
        health = (f"{ep.app_url}/healthz", 200) if role == "app" else (f"{ep.dapr_url}/v1.0/healthz", 204)

        def back() -> bool:
            with contextlib.suppress(LookupError):
                return self.pid(app_id, role) != old_pid and answers(*health)
            return False

        if not wait_until(back, timeout):
            raise AssertionError(f"{app_id} {role} not back within {timeout:.0f}s (old pid {old_pid})")
        return self.pid(app_id, role)

    def marked_down(self, app_id: str) -> int:
        """How often `app_id`'s sidecar has logged the app unhealthy (its app health check failed)."""
        log = self.stack.log_dir / f"{app_id}.daprd.log"
        return log.read_text(errors="replace").count("App entered un-healthy status") if log.exists() else 0

    def wait_marked_down(self, app_id: str, before: int, timeout: float = 15.0) -> None:
        """Wait until the sidecar noticed its app is gone: from then on it holds deliveries."""
        if not wait_until(lambda: self.marked_down(app_id) > before, timeout):
            raise AssertionError(f"{app_id}'s sidecar did not mark its app unhealthy within {timeout:.0f}s")

    def app_answers(self, app_id: str) -> bool:
        return answers(f"{self.stack.apps()[app_id].app_url}/healthz", 200)

    def sidecar_healthy(self, app_id: str) -> bool:
        return answers(f"{self.stack.apps()[app_id].dapr_url}/v1.0/healthz", 204)

    def supervised(self, app_id: str, role: str = "app") -> dict[str, Any]:
        """The supervisor's record of one process: restarts, last exit code and time."""
        for proc in self.stack.supervised():
            if proc["app_id"] == app_id and proc["role"] == role:
                return proc
        raise LookupError(f"the supervisor does not run {app_id} {role}")

    # ------------------------------------------------------------------ Redis
    def kill_redis(self) -> None:
        for pid in redis_server_pids(self.ports.redis):
            os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: not port_open(self.ports.redis), 10), "redis still answers"

    def start_redis(self, persistent: bool = False) -> None:
        """Start Redis again: as the instance runs it, or (`persistent`) with its append-only file
        on, as `make up` runs it, reading back what `persist_redis` had it write."""
        settings = self.stack.settings.model_copy(update={"persistent": True}) if persistent else self.stack.settings
        redis = Daemons(settings).redis() if persistent else self.stack.daemons.redis()
        redis.start()
        redis.wait_ready(lambda: port_open(self.ports.redis), 30, "redis port")

    def persist_redis(self) -> None:
        """Turn the running Redis' append-only file on (the fault stack runs it without
        persistence), so a `kill -9` loses nothing it acknowledged, as with `make up`; wait until
        the file holds the current data set. Restart it with `start_redis(persistent=True)`."""
        self._redis_cli("CONFIG", "SET", "appendonly", "yes")

        def written() -> bool:
            info = self._redis_cli("INFO", "persistence")
            return "aof_enabled:1" in info and "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info

        assert wait_until(written, 30), "redis did not write its append-only file"

    def _redis_cli(self, *args: str) -> str:
        argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.ports.redis), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=True).stdout

    @contextlib.contextmanager
    def redis_down(self) -> Iterator[None]:
        self.kill_redis()
        try:
            yield
        finally:
            self.start_redis()

    # ------------------------------------------------------------------ PostgreSQL (FerretDB stays up)
    def stop_postgres(self) -> None:
        assert self.stack.daemons.postgres().stop(), "postgresql was not running"

    def start_postgres(self) -> None:
        pg = self.stack.daemons.postgres()
        pg.start()
        pg.wait_ready(lambda: postgres.pg_ready(self.ports.postgres), 60, "postgresql")

    @contextlib.contextmanager
    def postgres_down(self) -> Iterator[None]:
        self.stop_postgres()
        try:
            yield
        finally:
            self.start_postgres()

    # ------------------------------------------------------------------ the Dapr scheduler
    def stop_scheduler(self) -> None:
        assert self.stack.daemons.scheduler(self._rt).stop(), "the scheduler was not running"

    def start_scheduler(self) -> None:
        scheduler = self.stack.daemons.scheduler(self._rt)
        scheduler.start()
        url = f"http://127.0.0.1:{self.ports.scheduler_healthz}/healthz"
        scheduler.wait_ready(lambda: answers(url, 200), 60, "scheduler /healthz")

    @contextlib.contextmanager
    def scheduler_down(self) -> Iterator[None]:
        self.stop_scheduler()
        try:
            yield
        finally:
            self.start_scheduler()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True
