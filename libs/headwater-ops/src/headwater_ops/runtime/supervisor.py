"""``python -m headwater_ops.runtime.supervisor RUN_FILE``: keep every app and sidecar of a run file up.

``headwater up`` starts one supervisor per instance (its pid file is ``run/supervisor.pid``).
It starts each app's daprd and the app (``runfile``), each in a session of its own; when one
exits (a crash, ``kill -9``, ``Host registration lost``) it logs the exit and starts it again
after a backoff (``restarts.RestartPolicy``). Its state — pid, restarts, last exit code and
time of every process — is written to ``run/supervisor.json`` for ``headwater status``.
With ``--tokens`` (``headwater up`` passes the instance's ``tokens.json``) every daprd and app
gets ``DAPR_API_TOKEN`` and ``APP_API_TOKEN`` in its environment, never on a command line.
SIGTERM or SIGINT stops every child (SIGTERM, SIGKILL after a grace period) before it exits,
so ``headwater down`` leaves nothing behind; children carry the instance marker, so even a
killed supervisor's children are found by ``procs.sweep``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from headwater_ops.runtime.restarts import RestartPolicy, RestartRecord
from headwater_ops.runtime.runfile import ProcessSpec, read_run_file
from headwater_ops.runtime.tokens import InstanceTokens

__all__ = ["Child", "Supervisor", "children_of", "main", "read_state"]


@dataclass
class Child:
    """One supervised process and its restart record."""

    spec: ProcessSpec
    log_file: Path
    record: RestartRecord
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = field(default=None, repr=False)

    def start(self, now: float) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        if self.log is None:
            self.log = self.log_file.open("ab")
        self.log.write(f"\n--- {_stamp(now)} start: {' '.join(self.spec.argv)}\n".encode())
        self.log.flush()
        try:
            self.proc = subprocess.Popen(
                list(self.spec.argv),
                stdout=self.log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.spec.cwd,
                env={**os.environ, **self.spec.env},
                start_new_session=True,
            )
        except OSError as exc:  # a missing binary is a crash like any other: retried with backoff
            self.proc = None
            self.log.write(f"--- cannot start: {exc}\n".encode())
            self.record.started(now)
            self.record.exited(127, now)
            return
        self.record.started(now)

    def state(self) -> dict[str, Any]:
        running = self.proc is not None and self.proc.poll() is None
        pid = self.proc.pid if running and self.proc is not None else None
        status = "running" if running else ("waiting" if self.record.next_start_at is not None else "stopped")
        own = {"app_id": self.spec.app_id, "role": self.spec.role, "replica": self.spec.replica}
        return own | {"pid": pid, "state": status} | (self.record.as_dict())


class Supervisor:
    """Runs the children of one run file until told to stop."""

    def __init__(self, children: list[Child], state_file: Path, interval: float = 0.1) -> None:
        self.children = children
        self.state_file = state_file
        self.interval = interval
        self.stopping = False

    def request_stop(self, *_: object) -> None:
        self.stopping = True

    def run(self) -> None:
        now = time.time()
        for child in self.children:
            child.start(now)
            _say(f"started {child.spec.name} pid {child.proc.pid if child.proc else '-'}")
        self.write_state()
        while not self.stopping:
            if self.tick(time.time()):
                self.write_state()
            time.sleep(self.interval)
        self.stop_all()
        self.write_state()

    def tick(self, now: float) -> bool:
        """Notice exits and start whatever is due; True when something changed."""
        changed = False
        for child in self.children:
            code = child.proc.poll() if child.proc is not None else None
            if child.proc is not None and code is not None:
                wait = child.record.exited(code, now)
                child.proc = None
                _say(
                    f"{child.spec.name} exited with code {code}; restart #{child.record.restarts + 1} "
                    f"in {wait:.1f}s (streak {child.record.streak})"
                )
                changed = True
            if child.proc is None and child.record.due(now) and not self.stopping:
                child.start(now)
                if child.proc is not None:
                    _say(f"restarted {child.spec.name} pid {child.proc.pid} (restart #{child.record.restarts})")
                changed = True
        return changed

    def stop_all(self, grace: float = 10.0) -> None:
        running = [c for c in self.children if c.proc is not None and c.proc.poll() is None]
        for child in running:
            _signal_group(child.proc, signal.SIGTERM)  # type: ignore[arg-type]
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(c.proc.poll() is None for c in running):  # type: ignore[union-attr]
            time.sleep(0.05)
        for child in running:
            if child.proc is not None and child.proc.poll() is None:
                _signal_group(child.proc, signal.SIGKILL)
                child.proc.wait(5)
        for child in self.children:
            child.record.next_start_at = None
            child.proc = None
        _say("stopped every process")

    def write_state(self) -> None:
        state = {"pid": os.getpid(), "updated_at": time.time(), "processes": [c.state() for c in self.children]}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.state_file)


def read_state(state_file: Path) -> dict[str, Any] | None:
    """The last state a supervisor wrote, or None."""
    try:
        state: dict[str, Any] = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return None
    return state


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def _stamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now))


def _say(message: str) -> None:
    print(f"{_stamp(time.time())} supervisor: {message}", flush=True)


def children_of(
    run_file: Path,
    daprd: Path,
    log_dir: Path,
    policy: RestartPolicy,
    tokens_file: Path | None = None,
    anchors_file: Path | None = None,
) -> list[Child]:
    """Every process of ``run_file``, with the tokens of ``tokens_file`` in its environment and,
    for each daprd, the mTLS trust anchors of ``anchors_file`` (``DAPR_TRUST_ANCHORS``)."""
    tokens = InstanceTokens(tokens_file).env() if tokens_file else {}
    anchors = {"DAPR_TRUST_ANCHORS": anchors_file.read_text()} if anchors_file and anchors_file.exists() else {}
    children = []
    for spec in read_run_file(run_file, daprd):
        env = {**spec.env, **tokens, **(anchors if spec.role == "daprd" else {})}
        children.append(Child(replace(spec, env=env), log_dir / spec.log_name, RestartRecord(policy)))
    return children


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_file", type=Path)
    parser.add_argument("--daprd", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True, help="where to write the state (JSON)")
    parser.add_argument("--log-dir", type=Path, required=True, help="one log per process: <app>[-<replica>].<role>.log")
    parser.add_argument(
        "--tokens",
        type=Path,
        help="the instance's tokens.json: DAPR_API_TOKEN and APP_API_TOKEN for every daprd and app",
    )
    parser.add_argument(
        "--trust-anchors", type=Path, help="Sentry's root certificate (ca.crt): DAPR_TRUST_ANCHORS for every daprd"
    )
    parser.add_argument("--initial-delay", type=float, default=RestartPolicy.initial)
    parser.add_argument("--max-delay", type=float, default=RestartPolicy.max_delay)
    args = parser.parse_args(argv)
    policy = RestartPolicy(initial=args.initial_delay, max_delay=args.max_delay)
    children = children_of(args.run_file, args.daprd, args.log_dir, policy, args.tokens, args.trust_anchors)
    supervisor = Supervisor(children, args.state)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    supervisor.run()
    sys.exit(0)


if __name__ == "__main__":
    main()
