"""``headwater status`` flags an app that was killed -9 and exits non-zero until the supervisor
has it back (issue 17 item 3), on the fault stack."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from headwater_ops.runtime.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _status(stack: Stack) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HEADWATER_INSTANCE": stack.settings.instance,
        "HEADWATER_PORT_OFFSET": str(stack.ports.offset),
        "COLUMNS": "220",
    }
    argv = [sys.executable, "-m", "headwater_ops.cli.main", "status"]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)


def test_status_flags_a_killed_app_and_exits_non_zero_until_it_is_back(stack: Stack) -> None:
    healthy = _status(stack)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    # kill -9 the worker until a `status` sees it down: each kill in a row doubles the
    # supervisor's backoff, so the window in which it is down only grows
    flagged: subprocess.CompletedProcess[str] | None = None
    for _ in range(6):
        with contextlib.suppress(LookupError):  # already down, waiting for its restart
            os.kill(stack.app_pid("worker"), signal.SIGKILL)
        seen = _status(stack)
        if seen.returncode != 0 and "worker app is down" in seen.stderr:
            flagged = seen
            break
    assert flagged is not None, "status never flagged the killed worker"
    print(f"\n[status, worker killed] exit {flagged.returncode}\n{flagged.stdout}{flagged.stderr}")
    assert flagged.returncode == 1
    assert "DOWN" in flagged.stdout and "http://127.0.0.1:" in flagged.stdout
    deadline, back = time.monotonic() + 90, _status(stack)
    while back.returncode != 0 and time.monotonic() < deadline:
        time.sleep(1)
        back = _status(stack)
    assert back.returncode == 0, back.stdout + back.stderr
    assert "all" in back.stdout and "checks healthy" in back.stdout
