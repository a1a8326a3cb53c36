"""Rendering an instance keeps dapr.yaml the single description and only shifts ports/paths."""

from __future__ import annotations

from pathlib import Path

import yaml

from headwater_ops.runtime.settings import RuntimeSettings, project_dir
from headwater_ops.runtime.stack import Stack


def test_render_shifts_every_port_and_points_components_at_the_instance(tmp_path: Path) -> None:
    stack = Stack(RuntimeSettings(home=tmp_path, instance="t", port_offset=1000), report=lambda _m: None)

    run = yaml.safe_load(stack.render().read_text())
    source = yaml.safe_load((project_dir() / "dapr.yaml").read_text())

    assert [a["appID"] for a in run["apps"]] == [a["appID"] for a in source["apps"]]
    for rendered, original in zip(run["apps"], source["apps"], strict=True):
        for key in ("appPort", "daprHTTPPort", "daprGRPCPort", "daprInternalGRPCPort", "metricsPort"):
            assert rendered[key] == original[key] + 1000
        assert Path(rendered["appDirPath"]).is_absolute()
    assert run["common"]["schedulerHostAddress"] == "127.0.0.1:4606"
    assert run["common"]["env"]["MONGODB_URI"] == "mongodb://127.0.0.1:28018/"
    comps = {p.name: yaml.safe_load(p.read_text()) for p in (tmp_path / "t" / "components").glob("*.yaml")}
    redis = {m["name"]: m["value"] for m in comps["pubsub.yaml"]["spec"]["metadata"]}
    assert redis["redisHost"] == "127.0.0.1:7380"
    secrets = {m["name"]: m["value"] for m in comps["secretstore.yaml"]["spec"]["metadata"]}
    assert secrets["secretsFile"] == str(tmp_path / "t" / "secrets.json")
    config = yaml.safe_load((tmp_path / "t" / "config.yaml").read_text())
    assert config["spec"]["nameResolution"]["configuration"]["connectionString"] == str(
        tmp_path / "t" / "nameresolution.db"
    )


def test_every_subscription_topic_has_inbound_retries_for_its_pubsub() -> None:
    resiliency = yaml.safe_load((project_dir() / "deploy/dapr/components/resiliency.yaml").read_text())
    inbound = resiliency["spec"]["targets"]["components"]["pubsub"]["inbound"]["retry"]
    policy = resiliency["spec"]["policies"]["retries"][inbound]
    assert policy["maxRetries"] >= 1  # -1 (the default) would retry forever and never dead-letter
