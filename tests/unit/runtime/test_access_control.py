"""Who may call what on the local stack: instance tokens, secret scopes per app, topic scopes
(docs/dapr.md "Who may call what"). The real sidecars are probed in
tests/integration/test_security_probes.py."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import yaml

from headwater_ops.cli.subscribers_cmds import scopes_of, subscriber_scopes, topic_scopes_of
from headwater_ops.runtime.render import dev_secret_names
from headwater_ops.runtime.restarts import RestartPolicy
from headwater_ops.runtime.runfile import read_run_file
from headwater_ops.runtime.settings import RuntimeSettings, project_dir
from headwater_ops.runtime.stack import Stack
from headwater_ops.runtime.supervisor import children_of
from headwater_ops.runtime.tokens import InstanceTokens, read_env_file, write_env_file

PUBSUB = project_dir() / "deploy/dapr/components/pubsub.yaml"


def _stack(tmp_path: Path) -> Stack:
    return Stack(RuntimeSettings(home=tmp_path, instance="s", port_offset=1000), report=lambda _m: None)


def test_instance_tokens_are_random_private_and_made_once(tmp_path: Path) -> None:
    tokens = InstanceTokens(tmp_path / "i" / "tokens.json")
    assert tokens.env() == {}
    tokens.ensure()
    first = tokens.env()
    tokens.ensure()

    assert tokens.env() == first
    assert set(first) == {"DAPR_API_TOKEN", "APP_API_TOKEN"}
    assert first["DAPR_API_TOKEN"] != first["APP_API_TOKEN"] and len(first["DAPR_API_TOKEN"]) >= 32
    assert stat.S_IMODE(tokens.path.stat().st_mode) == 0o600
    other = InstanceTokens(tmp_path / "j" / "tokens.json")
    other.ensure()
    assert other.env()["DAPR_API_TOKEN"] != first["DAPR_API_TOKEN"]


def test_env_files_round_trip_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "subscribers" / "a.env"
    write_env_file(path, {"DAPR_API_TOKEN": "x=y", "APP_API_TOKEN": "z"})
    assert read_env_file(path) == {"DAPR_API_TOKEN": "x=y", "APP_API_TOKEN": "z"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_tokens_reach_every_daprd_and_app_through_the_environment_only(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    stack.tokens.ensure()
    run_file = stack.render()
    tokens = stack.tokens.env()
    captured = children_of(run_file, Path("/opt/daprd"), tmp_path / "logs", RestartPolicy(), stack.tokens.path)
    assert {c.spec.role for c in captured} == {"daprd", "app"}
    for child in captured:
        assert child.spec.env["DAPR_API_TOKEN"] == tokens["DAPR_API_TOKEN"]
        assert child.spec.env["APP_API_TOKEN"] == tokens["APP_API_TOKEN"]
        assert not any(t in " ".join(child.spec.argv) for t in tokens.values())
    assert not any(t in run_file.read_text() for t in tokens.values())


def test_each_app_reads_only_its_own_secrets_and_the_others_none(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    stack.write_secrets({"e2e": {"api_key": "k"}})
    run_file = stack.render()
    specs = {s.app_id: s for s in read_run_file(run_file, Path("/opt/daprd")) if s.role == "daprd"}

    def scope(app_id: str) -> dict[str, object]:
        config_path = Path(specs[app_id].argv[specs[app_id].argv.index("--config") + 1])
        config = yaml.safe_load(config_path.read_text())
        assert config["spec"]["nameResolution"]["component"] == "sqlite"  # the shared spec is kept
        (found,) = [s for s in config["spec"]["secrets"]["scopes"] if s["storeName"] == "secretstore"]
        return dict(found)

    for app_id in ("planner", "worker"):
        assert scope(app_id) == {
            "storeName": "secretstore",
            "defaultAccess": "deny",
            "allowedSecrets": ["headwater"],
        }
    allowed = scope("collection-model")["allowedSecrets"]
    assert isinstance(allowed, list)
    assert {"headwater", "e2e", "products-api", "google-sheets"} <= set(allowed)
    for app_id in ("plantation-mcp", "event-subscriber"):
        assert scope(app_id) == {"storeName": "secretstore", "defaultAccess": "deny"}
    store = yaml.safe_load((tmp_path / "s" / "components" / "secretstore.yaml").read_text())
    assert store["scopes"] == ["planner", "collection-model", "worker"]


def test_dev_secret_names_are_the_secrets_local_file_makes(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"a": {"b": "1", "c": {"d": "2"}}, "top": "3", "headwater-canary": {"value": "x"}}))
    assert dev_secret_names(path) == ["a", "top", "headwater-canary"]


def test_topics_have_one_publisher_set_each_and_subscribers_only_ingestion_events() -> None:
    text = PUBSUB.read_text()
    publish = topic_scopes_of(text, "publishingScopes")
    subscribe = topic_scopes_of(text, "subscriptionScopes")
    assert publish is not None and subscribe is not None
    publishers: dict[str, set[str]] = {}
    for app_id, topics in publish.items():
        for topic in topics:
            publishers.setdefault(topic, set()).add(app_id)
    assert publishers["raw-documents"] == {"collection-model", "worker"}  # the worker replays dead letters
    assert publishers["work-items"] == {"planner"}
    assert publishers["task-results"] == {"collection-model", "worker"}
    assert publishers["ingestion-events"] == {"collection-model", "worker"}  # task.failed of a fetch
    assert publish["event-subscriber"] == ["ingestion-events.dlq"]
    assert subscribe["event-subscriber"] == ["ingestion-events"]
    protected = yaml.safe_load(text)["spec"]["metadata"]
    values = {m["name"]: m["value"] for m in protected}
    every_topic = {t for topics in [*publish.values(), *subscribe.values()] for t in topics}
    assert every_topic <= set(values["protectedTopics"].split(","))
    assert values["protectedTopics"] == values["allowedTopics"]


def test_subscribers_add_lets_the_app_subscribe_to_ingestion_events_and_publish_only_its_dead_letters() -> None:
    text = subscriber_scopes(PUBSUB.read_text(), "my-sub")

    assert "my-sub" in (scopes_of(text) or [])
    assert (topic_scopes_of(text, "subscriptionScopes") or {})["my-sub"] == ["ingestion-events"]
    assert (topic_scopes_of(text, "publishingScopes") or {})["my-sub"] == ["ingestion-events.dlq"]
    assert subscriber_scopes(text, "my-sub") == text
    assert text.count("#") == PUBSUB.read_text().count("#")  # comments kept


def test_the_env_runner_is_importable_as_a_module() -> None:
    assert sys.modules["headwater_ops.runtime.tokens"].main
