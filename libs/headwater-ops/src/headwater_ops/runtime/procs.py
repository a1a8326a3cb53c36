"""Detached processes with pid files, logs and readiness checks.

Every process the stack starts carries ``HEADWATER_INSTANCE_DIR`` in its environment
(the Dapr CLI passes its environment on to daprd and the apps), so ``sweep`` can find
and stop whatever is left of an instance even after a crash lost the pid files.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "INSTANCE_MARKER",
    "Managed",
    "PortInUseError",
    "ProcessInfo",
    "StartError",
    "alive",
    "check_ports_free",
    "marked_processes",
    "port_open",
    "read_pid",
    "redis_server_pids",
    "stop_pidfile",
    "sweep",
    "terminate",
    "wait_until",
]

INSTANCE_MARKER = "HEADWATER_INSTANCE_DIR"


class StartError(RuntimeError):
    """A process did not start or did not become ready; the message ends with its log tail."""


class PortInUseError(RuntimeError):
    """A port the stack needs is already taken."""


@dataclass
class Managed:
    """One detached process: command, log file, pid file."""

    name: str
    argv: Sequence[str]
    run_dir: Path
    log_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None
    stop_signal: int = signal.SIGTERM

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env}
        with self.log_file.open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(self.argv)}\n".encode())
            log.flush()
            try:
                proc = subprocess.Popen(
                    list(self.argv),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=self.cwd,
                    start_new_session=True,
                    user=self.user,
                )
            except OSError as exc:
                raise StartError(f"{self.name}: cannot run {self.argv[0]}: {exc}") from exc
        self.pid_file.write_text(f"{proc.pid}\n")
        return proc.pid

    def alive(self) -> bool:
        pid = read_pid(self.pid_file)
        return pid is not None and alive(pid)

    def log_tail(self, lines: int = 25) -> str:
        if not self.log_file.exists():
            return "(no log)"
        text = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(text)

    def wait_ready(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until ``check`` is true; fail early if the process died."""

        def ready() -> bool:
            if not self.alive():
                raise StartError(f"{self.name} exited while starting; see {self.log_file}:\n{self.log_tail()}")
            return check()

        if not wait_until(ready, timeout):
            raise StartError(
                f"{self.name}: {what} not ready after {timeout:.0f}s; see {self.log_file}:\n{self.log_tail()}"
            )

    def stop(self, timeout: float = 15.0) -> bool:
        return stop_pidfile(self.pid_file, self.stop_signal, timeout)


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def answers(url: str, status: int) -> bool:
    """Whether ``GET url`` answers ``status`` within 2 s (a health check)."""
    import httpx

    try:
        return httpx.get(url, timeout=2.0).status_code == status
    except httpx.HTTPError:
        return False


def check_ports_free(ports: Mapping[str, int]) -> None:
    """Refuse to start when a port is taken: a clear error instead of a hang later."""
    taken = []
    for name, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # like the servers themselves: a port in TIME_WAIT is free to listen on
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                taken.append(f"{port} ({name})")
    if taken:
        raise PortInUseError(
            f"port(s) already in use: {', '.join(taken)}. Stop whatever uses them "
            "(`make down` if it is an earlier stack) or choose other ports with HEADWATER_PORT_OFFSET."
        )


def stop_pidfile(pid_file: Path, sig: int = signal.SIGTERM, timeout: float = 15.0) -> bool:
    """Stop the process group of the pid in ``pid_file``; SIGKILL after ``timeout``."""
    pid = read_pid(pid_file)
    stopped = False
    if pid is not None and alive(pid):
        _signal_group(pid, sig)
        if not wait_until(lambda: not alive(pid), timeout):
            _signal_group(pid, signal.SIGKILL)
            wait_until(lambda: not alive(pid), 5)
        stopped = True
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    return stopped


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    environ: frozenset[bytes]
    argv: tuple[bytes, ...]

    @property
    def name(self) -> str:
        return Path(self.argv[0].decode()).name if self.argv else "?"

    def option(self, flag: str) -> str | None:
        """The value after ``flag`` on the command line (``--app-id planner`` → ``planner``)."""
        key = flag.encode()
        if key in self.argv and self.argv.index(key) + 1 < len(self.argv):
            return self.argv[self.argv.index(key) + 1].decode()
        return None


def marked_processes(instance_dir: Path) -> list[ProcessInfo]:
    """Live processes whose environment carries ``HEADWATER_INSTANCE_DIR=<instance_dir>``."""
    marker = f"{INSTANCE_MARKER}={instance_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = frozenset((entry / "environ").read_bytes().split(b"\0"))
            argv = tuple(a for a in (entry / "cmdline").read_bytes().split(b"\0") if a)
        except OSError:
            continue
        if marker in environ and alive(int(entry.name)):
            found.append(ProcessInfo(int(entry.name), environ, argv))
    return found


def redis_server_pids(port: int) -> list[int]:
    """Redis rewrites its process title over its environment, so the marker cannot find it:
    look for ``redis-server 127.0.0.1:<port>`` instead."""
    title = f"redis-server 127.0.0.1:{port}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(title):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def terminate(pids: list[int], timeout: float = 10.0) -> list[int]:
    """SIGTERM each pid, SIGKILL whatever still lives after ``timeout``; return the pids."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not any(alive(p) for p in pids), timeout)
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return pids


def sweep(instance_dir: Path, timeout: float = 10.0) -> list[int]:
    """Stop every process whose environment names ``instance_dir``; return their pids."""
    return terminate([p.pid for p in marked_processes(instance_dir)], timeout)


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            return False
        return True
    except (FileNotFoundError, IndexError):
        return False


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(os.getpgid(pid), sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
