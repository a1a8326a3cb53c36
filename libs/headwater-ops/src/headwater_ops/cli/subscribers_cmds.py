"""``headwater subscribers``: let a new app receive the domain events of the local stack.

The pub/sub component ``pubsub`` is scoped to the apps that use it (a sidecar whose app id is
not in ``scopes`` does not load the component and silently receives nothing). ``add`` puts an
app id into the scopes of ``deploy/dapr/components/pubsub.yaml`` (a text edit that keeps the
file's comments) and of the running instance's rendered copy, so a sidecar started now with
``--resources-path .headwater/<instance>/components`` loads it; it then prints that
``dapr run`` command. See docs/subscribers.md.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Annotated

import typer
import yaml

from headwater.contracts.topics import PUBSUB
from headwater_ops.cli.common import console, fail
from headwater_ops.runtime.binaries import RuntimeNotFoundError, resolve_runtime
from headwater_ops.runtime.settings import RuntimeSettings

__all__ = ["add_scope", "app", "scopes_of"]

app = typer.Typer(help="Apps that subscribe to Headwater's events (pub/sub component scopes).", no_args_is_help=True)
APP_ID = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
COMPONENT_FILE = "pubsub.yaml"


def scopes_of(text: str) -> list[str] | None:
    """The app ids the component is scoped to (None: no ``scopes``, every app loads it)."""
    doc = yaml.safe_load(text) or {}
    scopes = doc.get("scopes")
    return None if scopes is None else [str(s) for s in scopes]


def add_scope(text: str, app_id: str) -> str:
    """``text`` with ``app_id`` appended to its ``scopes`` list (unchanged when already there
    or when the component has no scopes)."""
    scopes = scopes_of(text)
    if scopes is None or app_id in scopes:
        return text
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("scopes:"))
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "-")) or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    indent = re.match(r"^(\s*)-", lines[end - 1]) if end > start + 1 else None
    item = f"{indent.group(1) if indent else '  '}- {app_id}\n"
    if not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    return "".join([*lines[:end], item, *lines[end:]])


def _update(path: Path, app_id: str) -> bool:
    if not path.is_file():
        return False
    text = path.read_text()
    new = add_scope(text, app_id)
    if new != text:
        path.write_text(new)
    return True


AppId = Annotated[str, typer.Argument(help="the subscriber's Dapr app id")]


@app.command("add")
def add(
    app_id: AppId,
    app_port: int = typer.Option(7001, help="the port your app listens on (for the printed command)"),
    save: bool = typer.Option(True, help="also write deploy/dapr/components/pubsub.yaml (kept by `headwater up`)"),
) -> None:
    """Add APP_ID to the pub/sub component's scopes and print how to start its sidecar."""
    if not APP_ID.match(app_id):
        raise fail(f"app_id {app_id!r} is not a valid Dapr app id (lower-case letters, digits and '-', ≤ 63)")
    settings = RuntimeSettings()
    committed = settings.project / "deploy" / "dapr" / "components" / COMPONENT_FILE
    rendered = settings.instance_dir / "components" / COMPONENT_FILE
    if save and _update(committed, app_id):
        console.print(f"scopes of component {PUBSUB!r} in {committed} include {app_id}")
    if _update(rendered, app_id):
        console.print(f"scopes of component {PUBSUB!r} in {rendered} include {app_id} (instance {settings.instance})")
    else:
        console.print(f"instance {settings.instance!r} is not rendered yet: `headwater up` renders it with the scope")
    command = [
        *_dapr_cli(settings),
        *("run", "--app-id", app_id, "--app-port", str(app_port)),
        *("--resources-path", str(rendered.parent), "--config", str(settings.instance_dir / "config.yaml")),
        *("--scheduler-host-address", f"127.0.0.1:{settings.ports.scheduler}", "--placement-host-address", ""),
    ]
    console.print("start your app and its sidecar with:", soft_wrap=True)
    console.print(f"  {shlex.join(command)} -- <your app's command>", soft_wrap=True, markup=False)


def _dapr_cli(settings: RuntimeSettings) -> list[str]:
    """The stack's Dapr CLI with its slim runtime (``DAPR_RUNTIME_PATH``), else ``dapr`` on the PATH."""
    try:
        rt = resolve_runtime(settings, report=lambda _: None)
    except RuntimeNotFoundError:
        return ["dapr"]
    return ["env", f"DAPR_RUNTIME_PATH={rt.slim_dir}", str(rt.dapr)]


@app.command("list")
def list_subscribers() -> None:
    """The app ids the pub/sub component is scoped to (in deploy/dapr/components)."""
    committed = RuntimeSettings().project / "deploy" / "dapr" / "components" / COMPONENT_FILE
    scopes = scopes_of(committed.read_text())
    console.print("every app (no scopes)" if scopes is None else "\n".join(scopes))
