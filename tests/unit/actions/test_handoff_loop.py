"""The background delivery loop, in real time: Slack down, then up -> delivered once."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from sanic import Sanic  # noqa: E402

from actions.db.handoff_repository import InMemoryHandoffStore, NewHandoff  # noqa: E402
from actions.handoff import loop as loop_module  # noqa: E402
from actions.handoff.loop import DeliveryLoop  # noqa: E402
from actions.handoff.outbox import Outbox, RetryPolicy, utcnow  # noqa: E402
from actions.handoff.slack_api import SlackDeliveryError  # noqa: E402


class FlakySlack:
    def __init__(self) -> None:
        self.channel = "C0STAFF"
        self.up = False
        self.posts: List[Dict[str, Any]] = []
        self.refused = 0

    async def post(self, text: str, blocks: List[Dict[str, Any]], metadata: Dict[str, Any]) -> str:
        if not self.up:
            self.refused += 1
            raise SlackDeliveryError("chat.postMessage: HTTP 503")
        self.posts.append(metadata)
        return "1.1"

    async def find_posted(self, token: str, oldest: float) -> Optional[str]:
        return None


async def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_loop_retries_until_slack_is_back_then_delivers_once() -> None:
    store, slack = InMemoryHandoffStore(), FlakySlack()
    policy = RetryPolicy(base_seconds=0.05, max_seconds=0.1, slack_timeout_seconds=1, margin_seconds=3)  # lease 5 s
    delivery = DeliveryLoop(lambda: Outbox(store, slack, policy, utcnow), interval=0.05)
    async with store() as repo:
        request = await repo.create(NewHandoff("Jeanne", "Ville", "j@ville.fr", "Une question ?"), utcnow())
    assert delivery.ensure_started() is True
    assert delivery.ensure_started() is True  # idempotent: still one task
    try:
        await wait_until(lambda: slack.refused >= 3)
        assert store.rows[request.id].delivery_status == "pending"
        slack.up = True
        await wait_until(lambda: store.rows[request.id].delivery_status == "delivered")
        await asyncio.sleep(0.3)  # several more rounds
        assert len(slack.posts) == 1
    finally:
        await delivery.stop()
    assert not delivery.running


async def test_loop_is_not_started_without_slack_configuration() -> None:
    delivery = DeliveryLoop(lambda: Outbox(InMemoryHandoffStore(), None), interval=0.05)
    assert delivery.ensure_started() is False
    assert not delivery.running


async def test_wake_runs_a_round_at_once() -> None:
    store, slack = InMemoryHandoffStore(), FlakySlack()
    slack.up = True
    delivery = DeliveryLoop(lambda: Outbox(store, slack, RetryPolicy(), utcnow), interval=3600)
    delivery.ensure_started()
    try:
        await asyncio.sleep(0.05)  # first round: nothing to do; then sleeps an hour
        async with store() as repo:
            await repo.create(NewHandoff("Jeanne", "Ville", "j@ville.fr", "Une question ?"), utcnow())
        delivery.wake()
        await wait_until(lambda: len(slack.posts) == 1, timeout=2)
    finally:
        await delivery.stop()


class CountingLoop:
    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0

    def ensure_started(self) -> bool:
        self.started += 1
        return True

    async def stop(self) -> None:
        self.stopped += 1


async def test_loop_starts_and_stops_with_the_action_server(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingLoop()
    monkeypatch.setattr(loop_module, "DELIVERY_LOOP", counting)
    Sanic.test_mode = True
    app = Sanic("rasa_sdk")  # the name rasa_sdk.endpoint.create_app gives its app

    @app.get("/health")
    async def health(_: Any) -> Any:
        from sanic import response

        return response.text("ok")

    loop_module._attach_to_action_server()
    server = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True)
    await server.startup()
    await server.after_start()
    assert counting.started == 1
    await server.before_stop()
    server.close()
    await server.wait_closed()
    assert counting.stopped == 1


def test_loop_can_be_left_to_the_operator_command(monkeypatch: pytest.MonkeyPatch) -> None:
    Sanic.test_mode = True
    app = Sanic("rasa_sdk")
    monkeypatch.setenv("HANDOFF_DELIVERY_LOOP", "off")
    loop_module._attach_to_action_server()
    assert app._future_listeners == []


def test_interval_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_DELIVERY_INTERVAL_SECONDS", "2.5")
    assert loop_module.interval_from_env() == 2.5
    monkeypatch.setenv("HANDOFF_DELIVERY_INTERVAL_SECONDS", "-1")
    assert loop_module.interval_from_env() == loop_module.DEFAULT_INTERVAL_SECONDS
