"""mTLS identities on the local stack: every sidecar (and the scheduler) takes its certificate
from the instance's Sentry, so each app's access-control policy can name its callers. The real
policies are probed in tests/integration/test_security_probes.py."""

from __future__ import annotations

from pathlib import Path

import yaml

from headwater_ops.runtime.daemons import SCHEDULER_ID, Daemons
from headwater_ops.runtime.restarts import RestartPolicy
from headwater_ops.runtime.runfile import read_run_file
from headwater_ops.runtime.sentry import _replace_directives, sentry_argv, trust_anchors
from headwater_ops.runtime.settings import RuntimeSettings, project_dir
from headwater_ops.runtime.stack import Stack
from headwater_ops.runtime.supervisor import children_of

GO_MOD = """\
module github.com/dapr/dapr

replace (
\t// a fork
\tdubbo.apache.org/dubbo-go/v3 => dubbo.apache.org/dubbo-go/v3 v3.0.3-0.2023
\tgopkg.in/x.v1 => github.com/x/x v1.0.5
)

replace github.com/single => github.com/single v1.2.3 // why
// replace github.com/dapr/kit => ../kit
"""


def test_the_build_module_repeats_upstreams_replace_directives_and_nothing_local() -> None:
    assert _replace_directives(GO_MOD) == [
        "replace dubbo.apache.org/dubbo-go/v3 => dubbo.apache.org/dubbo-go/v3 v3.0.3-0.2023",
        "replace gopkg.in/x.v1 => github.com/x/x v1.0.5",
        "replace github.com/single => github.com/single v1.2.3",
    ]


def test_every_sidecar_asks_the_instances_sentry_and_trusts_its_root(tmp_path: Path) -> None:
    stack = Stack(RuntimeSettings(home=tmp_path, instance="m", port_offset=1000), report=lambda _m: None)
    anchors = trust_anchors(stack.dir)
    anchors.parent.mkdir(parents=True)
    anchors.write_text("-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n")
    run_file = stack.render()
    children = children_of(run_file, Path("/opt/daprd"), tmp_path, RestartPolicy(), anchors_file=anchors)
    sidecars = [c.spec for c in children if c.spec.role == "daprd"]
    assert sidecars and all("--enable-mtls" in s.argv for s in sidecars)
    assert all(s.argv[s.argv.index("--sentry-address") + 1] == f"127.0.0.1:{stack.ports.sentry}" for s in sidecars)
    assert all(s.env["DAPR_TRUST_ANCHORS"] == anchors.read_text() for s in sidecars)
    assert not any("DAPR_TRUST_ANCHORS" in c.spec.env for c in children if c.spec.role == "app")


def test_each_invoked_app_names_its_callers_and_every_other_app_denies_all(tmp_path: Path) -> None:
    stack = Stack(RuntimeSettings(home=tmp_path, instance="m", port_offset=1000), report=lambda _m: None)
    specs = {s.app_id: s for s in read_run_file(stack.render(), Path("/opt/daprd")) if s.role == "daprd"}

    def control(app_id: str) -> dict[str, object]:
        config = yaml.safe_load(Path(specs[app_id].argv[specs[app_id].argv.index("--config") + 1]).read_text())
        return dict(config["spec"]["accessControl"])

    callers = {app: {p["appId"] for p in control(app).get("policies", [])} for app in specs}  # type: ignore[attr-defined]
    assert callers == {
        "planner": {"collection-model", "worker"},
        "collection-model": {"planner"},
        "worker": {"planner"},
        "plantation-mcp": {"collection-model", "planner"},
        "event-subscriber": set(),
    }
    assert all(control(app)["defaultAction"] == "deny" for app in specs)


def test_sentry_and_the_scheduler_run_on_loopback_with_tls(tmp_path: Path) -> None:
    settings = RuntimeSettings(home=tmp_path, instance="m", port_offset=1000)
    argv = sentry_argv(Path("/opt/sentry"), settings.instance_dir, 1, 2, 3)
    assert "--listen-address=127.0.0.1" in argv and "--mode=standalone" in argv
    system = yaml.safe_load((settings.instance_dir / "sentry" / "config.yaml").read_text())
    assert system["metadata"]["name"] == "daprsystem" and system["spec"]["mtls"]["enabled"] is True

    class Runtime:
        scheduler = Path("/opt/scheduler")

    scheduler = Daemons(settings).scheduler(Runtime())  # type: ignore[arg-type]
    assert "--tls-enabled" in scheduler.argv and f"--id={SCHEDULER_ID}" in scheduler.argv
    assert f"--trust-anchors-file={trust_anchors(settings.instance_dir)}" in scheduler.argv
    assert (project_dir() / "deploy/dapr/config.yaml").read_text().count("defaultAction: deny") == 1


def test_dapr_spans_go_to_the_apps_collector_when_one_is_set(tmp_path: Path) -> None:
    stack = Stack(RuntimeSettings(home=tmp_path, instance="o", port_offset=1000), report=lambda _m: None)
    stack.render({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    for name in ("config.yaml", "config-planner.yaml", "config-worker.yaml"):
        tracing = yaml.safe_load((stack.dir / name).read_text())["spec"]["tracing"]
        assert tracing["otel"] == {"endpointAddress": "127.0.0.1:4318", "isSecure": False, "protocol": "http"}
    stack.render()
    assert "otel" not in yaml.safe_load((stack.dir / "config.yaml").read_text())["spec"]["tracing"]
