"""The run file becomes one daprd and one app process per app (with app health checks), and the
supervisor restarts whichever exits, with backoff, and stops them all when told to."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import yaml

from headwater_ops.runtime.procs import alive, wait_until
from headwater_ops.runtime.restarts import RestartPolicy, RestartRecord
from headwater_ops.runtime.runfile import ProcessSpec, read_run_file
from headwater_ops.runtime.settings import RuntimeSettings, project_dir
from headwater_ops.runtime.stack import Stack
from headwater_ops.runtime.supervisor import Child, Supervisor, read_state


def _rendered(tmp_path: Path) -> Path:
    return Stack(RuntimeSettings(home=tmp_path, instance="s", port_offset=1000), report=lambda _m: None).render()


def test_every_app_gets_a_sidecar_with_app_health_checks_and_the_cli_environment(tmp_path: Path) -> None:
    run_file = _rendered(tmp_path)
    apps = yaml.safe_load(run_file.read_text())["apps"]

    specs = read_run_file(run_file, Path("/opt/daprd"))

    assert [s.name for s in specs] == [f"{a['appID']}/{role}" for a in apps for role in ("daprd", "app")]
    for app in apps:
        daprd = next(s for s in specs if s.name == f"{app['appID']}/daprd")
        flags = " ".join(daprd.argv)
        assert daprd.argv[0] == "/opt/daprd"
        assert f"--app-id {app['appID']} --app-port {app['appPort']}" in flags
        assert f"--dapr-http-port {app['daprHTTPPort']}" in flags
        assert f"--dapr-internal-grpc-port {app['daprInternalGRPCPort']}" in flags
        assert "--enable-app-health-check" in daprd.argv
        assert "--app-health-check-path /healthz" in flags
        own = tmp_path / "s" / f"config-{app['appID']}.yaml"
        assert f"--config {own if own.exists() else tmp_path / 's' / 'config.yaml'}" in flags
        for flag in ("--dapr-listen-addresses", "--dapr-internal-grpc-listen-address", "--metrics-listen-address"):
            assert f"{flag} 127.0.0.1" in flags  # loopback only
        assert f"--resources-path {tmp_path / 's' / 'components'}" in flags
        the_app = next(s for s in specs if s.name == f"{app['appID']}/app")
        assert the_app.env["APP_ID"] == app["appID"]
        assert the_app.env["APP_PORT"] == str(app["appPort"])
        assert the_app.env["DAPR_HTTP_PORT"] == str(app["daprHTTPPort"])
        assert the_app.env["MONGODB_DATABASE"] == "headwater_s"
        assert the_app.cwd == Path(app["appDirPath"])


def test_the_committed_name_resolution_has_its_broken_cleanup_off() -> None:
    config = yaml.safe_load((project_dir() / "deploy/dapr/config.yaml").read_text())
    resolution = config["spec"]["nameResolution"]

    assert resolution["component"] == "sqlite"
    assert resolution["configuration"]["cleanupInterval"] == "0s"  # see the comment in config.yaml


def _child(tmp_path: Path, name: str, code: str, policy: RestartPolicy) -> Child:
    spec = ProcessSpec(name, "app", (sys.executable, "-c", code), tmp_path)
    return Child(spec, tmp_path / f"{name}.log", RestartRecord(policy))


def test_a_crashed_child_is_restarted_after_its_backoff_and_recorded(tmp_path: Path) -> None:
    policy = RestartPolicy(initial=5.0, max_delay=20.0, reset_after=100.0)
    crashing = _child(tmp_path, "crashing", "raise SystemExit(3)", policy)
    steady = _child(tmp_path, "steady", "import time; time.sleep(60)", policy)
    supervisor = Supervisor([crashing, steady], tmp_path / "state.json")
    for child in supervisor.children:
        child.start(now=0.0)
    assert crashing.proc is not None
    crashing.proc.wait(10)

    assert supervisor.tick(now=1.0)  # the exit is noticed: restart due at 6.0
    assert (crashing.record.last_exit_code, crashing.record.next_start_at, crashing.proc) == (3, 6.0, None)
    assert not supervisor.tick(now=5.9)
    assert supervisor.tick(now=6.0)  # started again
    assert crashing.record.restarts == 1
    crashing.proc.wait(10)
    supervisor.tick(now=7.0)
    assert crashing.record.next_start_at == 17.0  # second crash in a row: 10 s
    assert steady.record.restarts == 0

    supervisor.write_state()
    state = read_state(tmp_path / "state.json")
    assert state is not None
    by_name = {p["app_id"]: p for p in state["processes"]}
    assert by_name["crashing"]["pid"] is None
    assert (by_name["crashing"]["state"], by_name["crashing"]["restarts"]) == ("waiting", 1)
    assert (by_name["steady"]["state"], by_name["steady"]["last_exit_code"]) == ("running", None)
    assert "raise SystemExit(3)" in (tmp_path / "crashing.log").read_text()
    supervisor.stop_all(grace=5)


def test_stop_all_ends_every_child_and_nothing_restarts(tmp_path: Path) -> None:
    policy = RestartPolicy(initial=0.0)
    children = [_child(tmp_path, f"c{i}", "import time; time.sleep(60)", policy) for i in range(3)]
    supervisor = Supervisor(children, tmp_path / "state.json")
    for child in children:
        child.start(now=time.time())
    pids = [c.proc.pid for c in children if c.proc is not None]

    supervisor.stop_all(grace=5)

    assert wait_until(lambda: not any(alive(p) for p in pids), 5)
    assert not supervisor.tick(now=time.time() + 100)
    supervisor.write_state()
    assert {p["state"] for p in json.loads((tmp_path / "state.json").read_text())["processes"]} == {"stopped"}
