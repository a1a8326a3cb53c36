"""fanout: 500 items through the real sidecars (MCP iteration) against a local server that
answers in 100 ms, at concurrency 5, 50 and 200.

wall_s_cN is the fan-out's span at the server (first request in → last response out);
ratio_cN = wall / (items * latency / concurrency). end_to_end_s_cN is the trigger to the run
being final (planning, pub/sub, the MCP call, publishing every document through the sidecar and
the worker storing all 500); each level starts once the one before is final, on an idle stack."""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path

from harness import bench_stack, cli, report, wait_for
from integration_support import FakeApi
from pymongo import MongoClient

ITEMS, LATENCY = 500, 0.1
FINAL = ("succeeded", "partial", "failed")


def main() -> None:
    # the example server's Region shape (its output schema is checked by the MCP SDK)
    regions = [{"id": f"i{i:03d}", "name": f"item {i}", "latitude": 50.0, "longitude": 8.0} for i in range(ITEMS)]
    with tempfile.TemporaryDirectory() as tmp:
        regions_file = Path(tmp) / "regions.json"
        regions_file.write_text(json.dumps(regions))
        with bench_stack({"PLANTATION_REGIONS_FILE": str(regions_file)}) as stack, FakeApi() as api:
            api.delay = LATENCY
            api.routes["/item"] = lambda q, h: (200, {"item": q.get("id"), "at": time.time()})
            db = MongoClient(stack.mongodb_uri)[stack.mongodb_database]
            figures: dict[str, float] = {"items": ITEMS, "latency_s": LATENCY}
            for concurrency in (5, 50, 200):
                sid = f"fanout-c{concurrency}"
                (Path(tmp) / f"{sid}.yaml").write_text(f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 * * *"
  request:
    base_url: {api.url}/item
    parameters: {{id: "{{item.id}}"}}
    allow_private_hosts: ["127.0.0.1"]
  iteration: {{foreach: region, source_mcp: plantation-mcp, source_tool: list_active_regions,
               concurrency: {concurrency}}}
""")
                cli(stack, "sources", "apply", "-f", str(Path(tmp) / f"{sid}.yaml"))
                api.requests.clear()
                api.max_in_flight = 0
                t0 = time.monotonic()
                run_id = re.search(r"run (\S+)", cli(stack, "sources", "trigger", sid).stdout)
                assert run_id is not None, "the trigger started no run"
                # the run is final once every document is stored: the next level starts on an idle worker
                t1 = wait_for(
                    lambda run_id=run_id[1]: (db["runs"].find_one({"_id": run_id}) or {}).get("status") in FINAL,
                    600,
                )
                spans = api.spans()
                wall = max(e for _, e in spans) - min(s for s, _ in spans)
                ideal = ITEMS * LATENCY / concurrency
                figures |= {
                    f"wall_s_c{concurrency}": round(wall, 3),
                    f"ratio_c{concurrency}": round(wall / ideal, 3),
                    f"end_to_end_s_c{concurrency}": round(t1 - t0, 3),
                    f"max_in_flight_c{concurrency}": api.max_in_flight,
                    f"requests_c{concurrency}": len(spans),
                }
    report("fanout", figures)


if __name__ == "__main__":
    main()
