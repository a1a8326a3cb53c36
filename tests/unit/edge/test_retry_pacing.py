"""Retry pacing: with the inbound policy's constant 1 s, the app's hold makes the n-th
retry arrive 1 s, 5 s, 25 s after the failure; and the subscription endpoint applies it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from headwater.edge.subscriptions import CloudEvent, Outcome, RetryPacing, Subscriptions


class RecordingSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_holds_add_up_to_the_schedule_with_the_policy_interval() -> None:
    pacing = RetryPacing((1.0, 5.0, 25.0), policy_interval=1.0)
    holds = [pacing.hold_for("e1") for _ in range(4)]
    assert [h + 1.0 for h in holds[:3]] == [1.0, 5.0, 25.0]
    assert holds[3] == 24.0  # past the schedule: the last wait again (Dapr dead-letters first)


def test_attempts_are_counted_per_message_and_forgotten_on_success() -> None:
    pacing = RetryPacing((1.0, 5.0, 25.0), policy_interval=1.0)
    assert pacing.hold_for("a") == 0.0
    assert pacing.hold_for("b") == 0.0
    assert pacing.hold_for("a") == 4.0
    pacing.forget("a")
    assert pacing.hold_for("a") == 0.0


def test_the_table_of_attempts_is_bounded() -> None:
    pacing = RetryPacing((1.0, 5.0), policy_interval=0.0, remember=2)
    pacing.hold_for("a")
    pacing.hold_for("b")
    pacing.hold_for("c")  # evicts "a"
    assert pacing.hold_for("a") == 1.0


def test_environment_sets_the_schedule(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HEADWATER_RETRY_DELAYS", "[0.5, 2]")
    monkeypatch.setenv("HEADWATER_RETRY_POLICY_INTERVAL", "0.5")
    pacing = RetryPacing.from_env()
    assert [pacing.hold_for("x"), pacing.hold_for("x")] == [0.0, 1.5]


async def test_endpoint_holds_a_failed_delivery_and_not_a_successful_one() -> None:
    sleep = RecordingSleep()
    subs = Subscriptions(RetryPacing((1.0, 5.0, 25.0), policy_interval=1.0, sleep=sleep))
    answers = iter([Outcome.RETRY, Outcome.RETRY, Outcome.SUCCESS])

    async def handler(event: CloudEvent) -> Outcome:
        return next(answers)

    subs.add("orders", handler)
    app = FastAPI()
    subs.mount(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        statuses = [(await client.post("/events/pubsub/orders", json={"id": "m-1"})).json()["status"] for _ in range(3)]

    assert statuses == ["RETRY", "RETRY", "SUCCESS"]
    assert sleep.waits == [4.0]  # the first retry needs only Dapr's own 1 s
