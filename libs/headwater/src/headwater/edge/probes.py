"""Runtime probes: prove a message, a job or an invocation really crossed the sidecars.

Used by the integration smoke tests and by ``headwater doctor``-style checks. A probe
message asks its receiver to answer RETRY ``fail_times`` times before SUCCESS; every
delivery is recorded in memory under the probe id and can be read back over HTTP.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from fastapi import APIRouter

from headwater.contracts.topics import PROBES, dead_letter
from headwater.edge.subscriptions import CloudEvent, Outcome, Subscriptions

__all__ = ["ProbeRecorder"]


class ProbeRecorder:
    """In-memory record of probe deliveries, jobs and calls, served under ``/probes``."""

    def __init__(self) -> None:
        self.deliveries: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.router = APIRouter(prefix="/probes", tags=["probes"])
        self.router.add_api_route("/{probe_id}", self.read, methods=["GET"])

    async def read(self, probe_id: str) -> dict[str, Any]:
        return {"probe_id": probe_id, "deliveries": self.deliveries.get(probe_id, [])}

    def record(self, probe_id: str, channel: str, data: Any) -> int:
        self.deliveries[probe_id].append({"channel": channel, "data": data, "at": time.time()})
        return sum(1 for d in self.deliveries[probe_id] if d["channel"] == channel)

    def subscribe(self, subs: Subscriptions) -> None:
        async def on_probe(event: CloudEvent) -> Outcome:
            data = event.get("data") or {}
            seen = self.record(str(data.get("probe_id")), PROBES, data)
            return Outcome.RETRY if seen <= int(data.get("fail_times", 0)) else Outcome.SUCCESS

        async def on_dead_letter(event: CloudEvent) -> Outcome:
            data = event.get("data") or {}
            self.record(str(data.get("probe_id")), dead_letter(PROBES), data)
            return Outcome.SUCCESS

        subs.add(PROBES, on_probe)
        subs.add(dead_letter(PROBES), on_dead_letter, with_dead_letter=False)
