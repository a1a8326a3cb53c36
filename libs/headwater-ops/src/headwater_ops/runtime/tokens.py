"""The Dapr tokens of one instance: ``DAPR_API_TOKEN`` and ``APP_API_TOKEN``.

``headwater up`` creates them once, at random, in ``<instance>/tokens.json`` (mode 0600) and the
supervisor puts both into the environment of every daprd and app it starts. Every sidecar then
refuses an API call without ``dapr-api-token: <DAPR_API_TOKEN>`` (except ``/v1.0/healthz``),
and sends ``dapr-api-token: <APP_API_TOKEN>`` on every call to its app, which refuses a call
without it (``headwater.edge.service.create_service_app``). Neither token is ever printed or
logged; the CLI, tests and benches read ``DAPR_API_TOKEN`` from this file (``StackInfo``).

An app onboarded with ``headwater subscribers add`` gets tokens of its own
(``<instance>/subscribers/<app id>.env``), so it never learns the stack's.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

__all__ = ["InstanceTokens", "read_env_file", "write_env_file"]

DAPR_API_TOKEN = "DAPR_API_TOKEN"
APP_API_TOKEN = "APP_API_TOKEN"


def _new() -> str:
    return secrets.token_urlsafe(32)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)


class InstanceTokens:
    """``<instance>/tokens.json``: created once, read by the supervisor, the CLI and the tests."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def ensure(self) -> None:
        """Create the file with two random tokens unless it holds both already."""
        current = self._read()
        if current.get(DAPR_API_TOKEN) and current.get(APP_API_TOKEN):
            return
        current = {
            DAPR_API_TOKEN: current.get(DAPR_API_TOKEN) or _new(),
            APP_API_TOKEN: current.get(APP_API_TOKEN) or _new(),
        }
        _write_private(self.path, json.dumps(current, indent=1) + "\n")

    def env(self) -> dict[str, str]:
        """``{"DAPR_API_TOKEN": …, "APP_API_TOKEN": …}``, empty when the file does not exist."""
        found = self._read()
        return {k: str(found[k]) for k in (DAPR_API_TOKEN, APP_API_TOKEN) if found.get(k)}

    @property
    def dapr_api_token(self) -> str | None:
        return self.env().get(DAPR_API_TOKEN)

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """``KEY=VALUE`` lines, mode 0600."""
    _write_private(path, "".join(f"{k}={v}\n" for k, v in values.items()))


def read_env_file(path: Path) -> dict[str, str]:
    """The ``KEY=VALUE`` lines of ``path`` (blank lines and ``#`` comments skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def main(argv: list[str] | None = None) -> None:
    """``python -m headwater_ops.runtime.tokens ENV_FILE [--] COMMAND...``: run COMMAND with the
    variables of ENV_FILE in its environment (so a token never appears on a command line)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        raise SystemExit("usage: python -m headwater_ops.runtime.tokens ENV_FILE [--] COMMAND...")
    env_file, command = Path(args[0]), args[1:]
    if command and command[0] == "--":
        command = command[1:]
    os.execvpe(command[0], command, {**os.environ, **read_env_file(env_file)})


if __name__ == "__main__":
    main()
