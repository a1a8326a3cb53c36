"""``headwater subscribers``: let a new app receive the domain events of the local stack.

The pub/sub component ``pubsub`` is scoped to the apps that use it (a sidecar whose app id is
not in ``scopes`` does not load the component and silently receives nothing), and its topics
to the apps that may publish or subscribe to each (``publishingScopes``, ``subscriptionScopes``).
``add`` puts an app id into ``scopes``, lets it subscribe to ``ingestion-events`` and publish
only its own dead letters (``ingestion-events.dlq``, which its sidecar publishes for it) — in
``deploy/dapr/components/pubsub.yaml`` (a text edit that keeps the file's comments) and in the
running instance's rendered copy, so a sidecar started now with ``--resources-path
.headwater/<instance>/components`` loads it. It writes the app's own ``DAPR_API_TOKEN`` and
``APP_API_TOKEN`` to ``.headwater/<instance>/subscribers/<app id>.env`` (mode 0600) and prints
the ``dapr run`` command that starts app and sidecar with them. See docs/subscribers.md.
"""

from __future__ import annotations

import re
import secrets
import shlex
from pathlib import Path
from typing import Annotated

import typer
import yaml

from headwater.contracts.topics import INGESTION_EVENTS, PUBSUB, dead_letter
from headwater_ops.cli.common import console, fail
from headwater_ops.runtime.binaries import RuntimeNotFoundError, resolve_runtime
from headwater_ops.runtime.render import project_python
from headwater_ops.runtime.settings import RuntimeSettings
from headwater_ops.runtime.tokens import APP_API_TOKEN, DAPR_API_TOKEN, read_env_file, write_env_file

__all__ = ["add_scope", "add_topic_scope", "app", "scopes_of", "topic_scopes_of"]

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


def topic_scopes_of(text: str, key: str) -> dict[str, list[str]] | None:
    """The ``app=topic,topic;…`` metadata ``key`` (publishingScopes, subscriptionScopes) by app
    id; None when the component does not have it."""
    doc = yaml.safe_load(text) or {}
    for item in (doc.get("spec") or {}).get("metadata") or []:
        if item.get("name") == key:
            scopes: dict[str, list[str]] = {}
            for part in str(item.get("value") or "").split(";"):
                if "=" in part:
                    app_id, topics = part.split("=", 1)
                    scopes[app_id.strip()] = [t.strip() for t in topics.split(",") if t.strip()]
            return scopes
    return None


def add_topic_scope(text: str, key: str, app_id: str, topics: list[str]) -> str:
    """``text`` with ``app_id=topics`` appended to the metadata value ``key`` (unchanged when the
    app id is there already or the component has no such key)."""
    scopes = topic_scopes_of(text, key)
    if scopes is None or app_id in scopes:
        return text
    lines = text.splitlines(keepends=True)
    named = next(i for i, line in enumerate(lines) if re.match(rf"^\s*-\s*name:\s*{key}\s*$", line))
    value = next(i for i in range(named + 1, len(lines)) if re.match(r"^\s*value:", lines[i]))
    match = re.match(r'^(\s*value:\s*)"?(.*?)"?\s*$', lines[value])
    assert match is not None
    current = match.group(2)
    entry = f"{app_id}={','.join(topics)}"
    lines[value] = f'{match.group(1)}"{current + ";" if current else ""}{entry}"\n'
    return "".join(lines)


def subscriber_scopes(text: str, app_id: str) -> str:
    """``text`` (the pub/sub component) letting ``app_id`` load the component, subscribe to
    ``ingestion-events`` and publish nothing but its own dead letters."""
    text = add_scope(text, app_id)
    text = add_topic_scope(text, "subscriptionScopes", app_id, [INGESTION_EVENTS])
    return add_topic_scope(text, "publishingScopes", app_id, [dead_letter(INGESTION_EVENTS)])


def _update(path: Path, app_id: str) -> bool:
    if not path.is_file():
        return False
    text = path.read_text()
    new = subscriber_scopes(text, app_id)
    if new != text:
        path.write_text(new)
    return True


def _tokens_file(settings: RuntimeSettings, app_id: str) -> Path:
    """The subscriber's own tokens (created once): its sidecar requires ``DAPR_API_TOKEN`` and
    sends ``APP_API_TOKEN`` to the app, which should refuse any call without it."""
    path = settings.instance_dir / "subscribers" / f"{app_id}.env"
    current = read_env_file(path) if path.is_file() else {}
    if not (current.get(DAPR_API_TOKEN) and current.get(APP_API_TOKEN)):
        write_env_file(path, {DAPR_API_TOKEN: secrets.token_urlsafe(32), APP_API_TOKEN: secrets.token_urlsafe(32)})
    return path


AppId = Annotated[str, typer.Argument(help="the subscriber's Dapr app id")]


@app.command("add")
def add(
    app_id: AppId,
    app_port: int = typer.Option(7001, help="the port your app listens on (for the printed command)"),
    save: bool = typer.Option(True, help="also write deploy/dapr/components/pubsub.yaml (kept by `headwater up`)"),
) -> None:
    """Let APP_ID subscribe to ingestion-events (pub/sub scopes), give it tokens of its own and
    print how to start it with its sidecar."""
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
    tokens = _tokens_file(settings, app_id)
    console.print(f"its DAPR_API_TOKEN and APP_API_TOKEN: {tokens} (mode 0600)")
    python = project_python(settings.project)
    command = [
        *_dapr_cli(settings, python, tokens),
        *("run", "--app-id", app_id, "--app-port", str(app_port), "--dapr-listen-addresses", "127.0.0.1"),
        *("--resources-path", str(rendered.parent), "--config", str(settings.instance_dir / "config.yaml")),
        *("--scheduler-host-address", f"127.0.0.1:{settings.ports.scheduler}", "--placement-host-address", ""),
    ]
    console.print("start your app and its sidecar with:", soft_wrap=True)
    console.print(f"  {shlex.join(command)} -- <your app's command>", soft_wrap=True, markup=False)


def _dapr_cli(settings: RuntimeSettings, python: str, tokens: Path) -> list[str]:
    """The stack's Dapr CLI with its slim runtime (``DAPR_RUNTIME_PATH``), else ``dapr`` on the
    PATH, run with the variables of ``tokens`` in its environment (``dapr run`` passes them on
    to daprd and the app)."""
    with_tokens = [python, "-m", "headwater_ops.runtime.tokens", str(tokens)]
    try:
        rt = resolve_runtime(settings, report=lambda _: None)
    except RuntimeNotFoundError:
        return [*with_tokens, "dapr"]
    return ["env", f"DAPR_RUNTIME_PATH={rt.slim_dir}", *with_tokens, str(rt.dapr)]


@app.command("list")
def list_subscribers() -> None:
    """The app ids the pub/sub component is scoped to (in deploy/dapr/components)."""
    committed = RuntimeSettings().project / "deploy" / "dapr" / "components" / COMPONENT_FILE
    scopes = scopes_of(committed.read_text())
    console.print("every app (no scopes)" if scopes is None else "\n".join(scopes))
