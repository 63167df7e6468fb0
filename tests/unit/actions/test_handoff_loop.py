"""The background delivery loop, in real time: Slack down, then up -> delivered once."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional

import pytest
from handoff_fixtures import SqliteHandoffs, sample
from sanic import Sanic

from actions.handoff import loop as loop_module
from actions.handoff import plugin
from actions.handoff.loop import DeliveryLoop
from actions.handoff.outbox import Outbox, RetryPolicy, utcnow
from actions.handoff.slack_api import SlackDeliveryError
from common import settings


@pytest.fixture()
async def store() -> AsyncIterator[SqliteHandoffs]:
    handoffs = await SqliteHandoffs().open()
    yield handoffs
    await handoffs.close()


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


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_loop_retries_until_slack_is_back_then_delivers_once(store: SqliteHandoffs) -> None:
    slack = FlakySlack()
    policy = RetryPolicy(base_seconds=0.05, max_seconds=0.1, slack_timeout_seconds=1, margin_seconds=3)  # lease 5 s
    delivery = DeliveryLoop(lambda: Outbox(store, slack, policy, utcnow), interval=0.05)
    request = await store.add(sample("Jeanne", "Une question ?", "j@ville.fr", "Ville", None, None), utcnow())

    async def status() -> str:
        return (await store.get(request.id)).delivery_status

    assert delivery.ensure_started() is True
    assert delivery.ensure_started() is True  # idempotent: still one task
    try:
        await wait_until(lambda: asyncio.sleep(0, slack.refused >= 3))
        assert await status() == "pending"
        slack.up = True

        async def delivered() -> bool:
            return await status() == "delivered"

        await wait_until(delivered)
        await asyncio.sleep(0.3)  # several more rounds
        assert len(slack.posts) == 1
    finally:
        await delivery.stop()
    assert not delivery.running


async def test_loop_is_not_started_without_slack_configuration(store: SqliteHandoffs) -> None:
    delivery = DeliveryLoop(lambda: Outbox(store, None), interval=0.05)
    assert delivery.ensure_started() is False
    assert not delivery.running


async def test_wake_runs_a_round_at_once(store: SqliteHandoffs) -> None:
    slack = FlakySlack()
    slack.up = True
    delivery = DeliveryLoop(lambda: Outbox(store, slack, RetryPolicy(), utcnow), interval=3600)
    delivery.ensure_started()
    try:
        await asyncio.sleep(0.05)  # first round: nothing to do; then sleeps an hour
        await store.add(sample("Jeanne", "Une question ?", "j@ville.fr", "Ville", None, None), utcnow())
        delivery.wake()
        await wait_until(lambda: asyncio.sleep(0, len(slack.posts) == 1), timeout=2)
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

    plugin.attach_sanic_app_extensions(app)
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
    plugin.attach_sanic_app_extensions(app)
    assert app._future_listeners == []


def test_plugin_is_registered_with_rasa_sdk_plugin_manager() -> None:
    import pluggy

    manager = pluggy.PluginManager("rasa_sdk")
    manager.add_hookspecs(__import__("rasa_sdk.plugin", fromlist=["plugin"]))
    plugin.register(manager)
    plugin.register(manager)  # once only
    Sanic.test_mode = True
    app = Sanic("rasa_sdk_plugin_test")
    manager.hook.attach_sanic_app_extensions(app=app)
    assert len(app._future_listeners) == 2


def test_interval_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_DELIVERY_INTERVAL_SECONDS", "2.5")
    assert settings.HANDOFF_DELIVERY_INTERVAL_SECONDS.read() == 2.5
    monkeypatch.setenv("HANDOFF_DELIVERY_INTERVAL_SECONDS", "-1")
    assert settings.HANDOFF_DELIVERY_INTERVAL_SECONDS.read() == settings.HANDOFF_DELIVERY_INTERVAL_SECONDS.default
