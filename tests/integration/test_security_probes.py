"""Who may call what, probed on the real stack as an attacker on the same host would (issue 14,
items 1, 2, 3, 5 and 6; docs/dapr.md "Who may call what"). Every probe must be refused:

- every sidecar's API without ``DAPR_API_TOKEN`` (401), bulk secrets included;
- bulk secrets with the token: only the app's own secrets come back (Dapr filters a bulk read
  by the app's secret scopes), none for an app that reads no secret, never the canary;
- a secret the app does not need (403 by its scopes, or no secret store at all);
- a forged delivery to each app's subscription routes and job route, and any other call to an
  app port, without the app's ``APP_API_TOKEN`` (401), even with the sidecars' token;
- publishing to raw-documents, work-items, task-results and ingestion-events from a sidecar
  whose app may not publish there (refused by ``publishingScopes``);
- every sidecar and app port on the host's non-loopback addresses (connection refused).

``pytest -s`` prints the table of probes and their outcomes. Open on purpose (item 4, access
control between apps, needs mTLS identities): an app that holds the sidecar token may invoke
any other app through its sidecar; those probes are printed as ``open (item 4)``.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from headwater.contracts.topics import INGESTION_EVENTS, PUBSUB, RAW_DOCUMENTS, SECRET_STORE, TASK_RESULTS, WORK_ITEMS
from headwater_ops.runtime.stack import StackInfo

pytestmark = pytest.mark.integration

CANARY = "headwater-canary"  # a secret of the test store (conftest), allowed to no app
OWN_SECRETS = {  # the secrets each app may read (deploy/dapr/config-<app>.yaml; collection-model: + dev sources')
    "planner": {"headwater"},
    "worker": {"headwater"},
    "collection-model": {"headwater", "smoke", "e2e", "products-api", "google-sheets"},
}
NOT_NEEDED = {  # a secret each app does not need
    "planner": "e2e",
    "worker": "smoke",
    "collection-model": CANARY,
    "plantation-mcp": "headwater",
    "event-subscriber": "headwater",
}
PUBLISHERS = {  # who may publish each business topic (deploy/dapr/components/pubsub.yaml)
    RAW_DOCUMENTS: {"collection-model", "worker"},
    WORK_ITEMS: {"planner"},
    TASK_RESULTS: {"collection-model", "worker"},
    INGESTION_EVENTS: {"collection-model", "worker"},
}
RESULTS: list[tuple[str, str, bool]] = []


def record(probe: str, outcome: str, refused: bool) -> None:
    RESULTS.append((probe, outcome, refused))


@pytest.fixture(scope="module", autouse=True)
def table() -> Iterator[None]:
    yield
    width = max((len(p) for p, _, _ in RESULTS), default=10)
    print(f"\n{'probe':<{width}}  →  outcome")
    for probe, outcome, refused in RESULTS:
        print(f"{probe:<{width}}  →  {outcome}{'' if refused else '   <-- OPEN'}")
    print(f"{sum(r for _, _, r in RESULTS)} of {len(RESULTS)} probes refused")


NO_STORE = ("ERR_SECRET_STORES_NOT_CONFIGURED", "ERR_SECRET_STORE_NOT_FOUND")  # the app's sidecar loads no store


def _secret_refused(response: httpx.Response) -> bool:
    return response.status_code in (401, 403) or (response.status_code >= 400 and _status(response).endswith(NO_STORE))


def _status(response: httpx.Response) -> str:
    code = ""
    try:
        body = response.json()
        code = body.get("errorCode", "") if isinstance(body, dict) else ""
    except ValueError:
        pass
    return f"{response.status_code} {code}".strip()


async def test_sidecar_apis_refuse_calls_without_the_dapr_token(runtime: StackInfo) -> None:
    async with httpx.AsyncClient(timeout=10) as bare:
        for app_id, ep in runtime.apps.items():
            for what, method, path in (
                ("metadata", "GET", "/v1.0/metadata"),
                ("bulk secrets", "GET", f"/v1.0/secrets/{SECRET_STORE}/bulk"),
                ("secret headwater", "GET", f"/v1.0/secrets/{SECRET_STORE}/headwater"),
                ("publish ingestion-events", "POST", f"/v1.0/publish/{PUBSUB}/{INGESTION_EVENTS}"),
                ("schedule a job", "POST", "/v1.0/jobs/probe-no-token"),
                ("invoke planner", "GET", "/v1.0/invoke/planner/method/api/v1/sources"),
            ):
                response = await bare.request(method, f"{ep.dapr_url}{path}", json={"dueTime": "1h"})
                record(f"{app_id} sidecar: {what}, no token", _status(response), response.status_code == 401)
                assert response.status_code == 401, (app_id, what, response.text)
            wrong = await bare.get(f"{ep.dapr_url}/v1.0/metadata", headers={"dapr-api-token": "wrong"})
            record(f"{app_id} sidecar: metadata, wrong token", _status(wrong), wrong.status_code == 401)
            assert wrong.status_code == 401
            health = await bare.get(f"{ep.dapr_url}/v1.0/healthz")
            assert health.status_code == 204  # the one open path


async def test_bulk_secrets_return_only_the_apps_own_and_other_secrets_are_refused(
    runtime: StackInfo, http: httpx.AsyncClient
) -> None:
    for app_id, ep in runtime.apps.items():
        bulk = await http.get(f"{ep.dapr_url}/v1.0/secrets/{SECRET_STORE}/bulk")
        own = OWN_SECRETS.get(app_id, set())
        if own:
            got = set(bulk.json()) if bulk.status_code == 200 else set()
            refused = got <= own and CANARY not in got
            record(f"{app_id} sidecar: bulk secrets", f"{_status(bulk)}, keys {sorted(got)}", refused)
            assert refused, (app_id, sorted(got))
        else:
            record(f"{app_id} sidecar: bulk secrets", _status(bulk), _secret_refused(bulk))
            assert _secret_refused(bulk), (app_id, bulk.text[:200])
        key = NOT_NEEDED[app_id]
        secret = await http.get(f"{ep.dapr_url}/v1.0/secrets/{SECRET_STORE}/{key}")
        record(f"{app_id} sidecar: secret {key}", _status(secret), _secret_refused(secret))
        assert _secret_refused(secret), (app_id, key, secret.text[:200])
        canary = await http.get(f"{ep.dapr_url}/v1.0/secrets/{SECRET_STORE}/{CANARY}")
        assert _secret_refused(canary), (app_id, canary.text[:200])
    allowed = await http.get(f"{runtime.apps['planner'].dapr_url}/v1.0/secrets/{SECRET_STORE}/headwater")
    assert allowed.status_code == 200 and "api_token" in allowed.json()  # an app still reads what it needs


async def _routes(http: httpx.AsyncClient, runtime: StackInfo, app_id: str) -> list[str]:
    if app_id == "plantation-mcp":
        return ["/mcp"]
    answer = await http.get(f"{runtime.apps[app_id].invoke_url}/dapr/subscribe")
    assert answer.status_code == 200, answer.text
    return [str(s["route"]) for s in answer.json()]


async def test_app_ports_refuse_forged_deliveries_and_job_triggers(runtime: StackInfo, http: httpx.AsyncClient) -> None:
    forged = {"specversion": "1.0", "id": "forged", "type": "com.dapr.event.sent", "data": {"forged": True}}
    async with httpx.AsyncClient(timeout=10) as bare:
        for app_id, ep in runtime.apps.items():
            paths = [*await _routes(http, runtime, app_id), "/job/source-forged", "/dapr/subscribe"]
            for path in paths:
                for label, headers in (("no token", {}), ("the sidecars' token", runtime.dapr_headers())):
                    response = await bare.post(
                        f"{ep.app_url}{path}",
                        content=json.dumps(forged),
                        headers={"content-type": "application/cloudevents+json", **headers},
                    )
                    record(f"{app_id} app: POST {path}, {label}", _status(response), response.status_code == 401)
                    assert response.status_code == 401, (app_id, path, label, response.text[:200])
            health = await bare.get(f"{ep.app_url}/healthz")
            assert health.status_code == 200  # open: the sidecar's health check


async def test_only_the_scoped_apps_may_publish_each_topic(runtime: StackInfo, http: httpx.AsyncClient) -> None:
    for topic, publishers in PUBLISHERS.items():
        for app_id, ep in runtime.apps.items():
            if app_id in publishers:
                continue
            response = await http.post(f"{ep.dapr_url}/v1.0/publish/{PUBSUB}/{topic}", json={"forged": True})
            record(f"{app_id} sidecar: publish {topic}", _status(response), response.status_code >= 400)
            assert response.status_code >= 400, (app_id, topic, response.text[:200])
    for app_id in ("event-subscriber", "planner"):
        other = await http.post(f"{runtime.apps[app_id].dapr_url}/v1.0/publish/{PUBSUB}/any-other-topic", json={})
        record(f"{app_id} sidecar: publish any-other-topic", _status(other), other.status_code >= 400)
        assert other.status_code >= 400


# (caller, callee, verb, method, allowed): Dapr access control on mTLS identities from the
# instance's Sentry (deploy/dapr/config*.yaml); every call the code makes is allowed, others not
INVOCATIONS = [
    ("event-subscriber", "planner", "POST", "job/source-forged", False),
    ("event-subscriber", "planner", "GET", "api/v1/sources", False),
    ("plantation-mcp", "planner", "POST", "api/v1/sources/x/trigger", False),
    ("worker", "planner", "PUT", "api/v1/sources/x", False),
    ("worker", "planner", "POST", "job/source-x", False),
    ("collection-model", "planner", "DELETE", "api/v1/sources/x", False),
    ("collection-model", "worker", "GET", "api/v1/summary", False),
    ("worker", "collection-model", "POST", "api/v1/sources/x/uploads", False),
    ("plantation-mcp", "worker", "POST", "api/v1/dead-letters/replay", False),
    ("worker", "plantation-mcp", "POST", "mcp", False),
    ("planner", "event-subscriber", "GET", "events", False),
    ("collection-model", "planner", "GET", "api/v1/sources/x", True),
    ("worker", "planner", "GET", "api/v1/sources/x", True),
    ("planner", "worker", "GET", "api/v1/summary", True),
    ("planner", "collection-model", "POST", "api/v1/sources/x/uploads", True),
    ("collection-model", "plantation-mcp", "POST", "mcp", True),
]


def _acl_denied(response: httpx.Response) -> bool:
    return response.status_code == 403 and "access control policy has denied" in response.text


async def test_access_control_lets_each_app_call_only_what_the_code_needs(
    runtime: StackInfo, http: httpx.AsyncClient
) -> None:
    for caller, callee, verb, method, allowed in INVOCATIONS:
        url = f"{runtime.apps[caller].dapr_url}/v1.0/invoke/{callee}/method/{method}"
        response = await http.request(verb, url, json={})
        denied = _acl_denied(response)
        probe = f"{caller} sidecar: invoke {callee} {verb} /{method}"
        record(probe, f"{_status(response)}{' (access control)' if denied else ''}", denied or allowed)
        assert denied != allowed, (probe, response.status_code, response.text[:300])


def _host_addresses() -> list[str]:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [a for a in out.split() if not a.startswith("127.") and a != "::1"]


def _connects(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect((address, port))
        except OSError:
            return False
        return True


def test_no_sidecar_or_app_port_answers_on_a_non_loopback_address(runtime: StackInfo) -> None:
    addresses = _host_addresses()
    assert addresses, "`hostname -I` lists no non-loopback address of this host: nothing to probe the ports from"
    open_ports: list[Any] = []
    for address in addresses:
        for app_id, ep in runtime.apps.items():
            for what, port in (
                ("dapr http", ep.dapr_http_port),
                ("dapr grpc", ep.dapr_grpc_port),
                ("dapr internal grpc", ep.dapr_internal_grpc_port),
                ("metrics", ep.metrics_port),
                ("app", ep.app_port),
            ):
                reachable = _connects(address, port)
                record(f"{app_id} {what} on {address}:{port}", "connected" if reachable else "refused", not reachable)
                if reachable:
                    open_ports.append((app_id, what, address, port))
                assert _connects("127.0.0.1", port), (app_id, what, port)  # it does listen, on loopback
    assert not open_ports
