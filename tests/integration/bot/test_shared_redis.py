"""Several Rasa instances sharing their channels' state through Redis (SHARED_REDIS_URL).

Two website chat servers (real Sanic servers, our channel, python-socketio's Redis
manager), two Slack channels, two rate limiters: what one instance does, the other sees.
The tests use the machine's real Redis (127.0.0.1:TEST_REDIS_PORT, default 6379), database 3,
and only keys under a prefix of their own, deleted afterwards; a Redis "down" is a URL on a
port where nothing listens.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from typing import Any, AsyncIterator, Dict, Iterator, Tuple, TypeVar

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from redis.asyncio import Redis
from sanic import Blueprint

from bot.channels import limits, shared_redis
from bot.channels.limits import LimitSettings, MessageGuard
from bot.channels.slack import UrbactSlackInput
from bot.channels.slack_guard import (
    EVENT_MEMORY_SECONDS,
    SIGNATURE_MEMORY_SECONDS,
    RedisMemory,
    SharedMemoryUnavailable,
    SlackRequestGuard,
    memory_for,
)
from bot.channels.socketio import WebsiteSocketIOInput
from common.settings import SettingError
from tests.support.chat_client import ChatClient
from tests.support.sanic_server import served
from tests.support.slack_standin import SlackStandIn, event_payload, free_port, signed_headers, standin_fixture

REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))
REDIS_DB = 3
SESSION_SECRET = "test-secret-shared-by-the-instances-0123456789"


@pytest.fixture()
def redis_url() -> str:
    return f"redis://127.0.0.1:{REDIS_PORT}/{REDIS_DB}"


@pytest.fixture()
def down_url() -> str:
    """A Redis URL where nothing answers (a port just found free)."""
    return f"redis://127.0.0.1:{free_port()}/{REDIS_DB}"


@pytest.fixture()
def prefix() -> str:
    return f"test-urbact-{uuid.uuid4().hex[:10]}:"


@pytest.fixture()
async def redis(redis_url: str, prefix: str) -> AsyncIterator["Redis[bytes]"]:
    """A client of the test database; the test's keys (under `prefix`) deleted afterwards."""
    client = shared_redis.client_for(redis_url)
    await client.ping()
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.close()


@pytest.fixture()
def isolated_process_state(monkeypatch: pytest.MonkeyPatch, prefix: str) -> Iterator[str]:
    """No process-wide client or guard leaks between tests; a pub/sub channel of our own
    (pub/sub channels are not per database: a running topology must not hear us)."""
    monkeypatch.setattr(shared_redis, "_clients", {})
    monkeypatch.setattr(limits, "_guard", MessageGuard(LimitSettings()))
    channel = prefix + "socketio"
    monkeypatch.setattr(shared_redis, "SOCKETIO_CHANNEL", channel)
    yield channel


# --------------------------------------------------------------------------- website chat


async def _no_answer(_: UserMessage) -> None:
    return None


def chat_client() -> ChatClient:
    """A widget's socket over polling; the servers are local: events come within 5 s."""
    return ChatClient(wait_seconds=5.0)


Served = TypeVar("Served", bound="ServedChannel")


class ServedChannel:
    """One channel's blueprint in a real Sanic server on a free port, like one Rasa instance
    (tests/support/sanic_server.py); `before_close` lets the channel finish its work first."""

    def __init__(self, blueprint: Blueprint, url_prefix: str) -> None:
        self._serving = served(blueprint, url_prefix)
        self.base_url = ""

    async def __aenter__(self: Served) -> Served:
        self.base_url = await self._serving.__aenter__()
        return self

    async def before_close(self) -> None:
        return None

    async def __aexit__(self, *exc: Any) -> None:
        await self.before_close()
        await self._serving.__aexit__(*exc)


class ChatInstance(ServedChannel):
    """Our website channel, served."""

    def __init__(self) -> None:
        self.channel = WebsiteSocketIOInput(web_path=None)
        super().__init__(self.channel.blueprint(_no_answer), "/webhooks/socketio")

    @property
    def url(self) -> str:
        return self.base_url

    async def before_close(self) -> None:
        manager = self.channel.sio.manager if self.channel.sio is not None else None
        listener = getattr(manager, "thread", None)
        if listener is not None and hasattr(listener, "cancel"):
            listener.cancel()

    async def say(self, session_id: str, text: str) -> None:
        """What Rasa does with a reply: the channel's output, to the session's room."""
        output = self.channel.get_output_channel()
        assert output is not None
        await output.send_text_message(session_id, text)


async def wait_subscribed(redis: "Redis[bytes]", channel: str, instances: int) -> None:
    """Until `instances` servers listen on the pub/sub channel (each starts listening when
    its first socket connects)."""
    for _ in range(100):
        [(_, count)] = await redis.pubsub_numsub(channel)
        if count >= instances:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{instances} socket.io server(s) never subscribed to {channel}")


@pytest.fixture()
def shared_env(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, isolated_process_state: str
) -> str:
    monkeypatch.setenv("SHARED_REDIS_URL", redis_url)
    monkeypatch.setenv("WEB_SESSION_SECRET", SESSION_SECRET)
    return isolated_process_state


async def test_a_reply_sent_by_one_instance_reaches_the_socket_on_the_other(
    shared_env: str, redis: "Redis[bytes]"
) -> None:
    first, second = chat_client(), chat_client()
    async with ChatInstance() as a, ChatInstance() as b:
        await first.connect(a.url)
        session_id, token = await first.session()
        await wait_subscribed(redis, shared_env, 1)

        await b.say(session_id, "Bonjour depuis l'instance B")
        assert await first.next("bot_uttered") == {"text": "Bonjour depuis l'instance B"}

        # the same visitor in a second tab, sent by nginx to B: B verifies A's token
        await second.connect(b.url)
        resumed_id, _ = await second.session({"session_id": session_id, "token": token})
        assert resumed_id == session_id
        await wait_subscribed(redis, shared_env, 2)
        await a.say(session_id, "Pour les deux onglets")
        assert await first.next("bot_uttered") == {"text": "Pour les deux onglets"}
        assert await second.next("bot_uttered") == {"text": "Pour les deux onglets"}
        await first.close()
        await second.close()


async def test_the_second_tab_resumes_the_session_another_instance_issued(shared_env: str) -> None:
    client, other = chat_client(), chat_client()
    async with ChatInstance() as a, ChatInstance() as b:
        await client.connect(a.url)
        session_id, token = await client.session()
        await other.connect(b.url)
        resumed_id, fresh_token = await other.session({"session_id": session_id, "token": token})
        assert resumed_id == session_id and fresh_token
        await client.close()
        await other.close()


async def test_without_shared_redis_the_other_instance_cannot_reach_the_socket(
    monkeypatch: pytest.MonkeyPatch, isolated_process_state: str
) -> None:
    """The control: one process's memory, as before issue 13 (and the test can fail)."""
    monkeypatch.delenv("SHARED_REDIS_URL", raising=False)
    monkeypatch.delenv("WEB_SESSION_SECRET", raising=False)
    client = chat_client()
    async with ChatInstance() as a, ChatInstance() as b:
        await client.connect(a.url)
        session_id, token = await client.session()
        await b.say(session_id, "Perdu")
        with pytest.raises(asyncio.TimeoutError):
            await client.next("bot_uttered", timeout=1.0)
        await a.say(session_id, "Reçu")
        assert await client.next("bot_uttered") == {"text": "Reçu"}
        # each instance drew its own random secret: B does not know A's sessions
        assert not b.channel.signer.verify(session_id, token)
        await client.close()


def test_another_secret_refuses_the_token(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    monkeypatch.setenv("SHARED_REDIS_URL", redis_url)
    monkeypatch.setenv("WEB_SESSION_SECRET", SESSION_SECRET)
    a, b = WebsiteSocketIOInput(), WebsiteSocketIOInput()
    monkeypatch.setenv("WEB_SESSION_SECRET", "another-secret-of-at-least-thirty-two-chars")
    c = WebsiteSocketIOInput()
    session_id = "s" * 32
    token = a.signer.issue(session_id)
    assert b.signer.verify(session_id, token)
    assert not c.signer.verify(session_id, token)


@pytest.mark.parametrize("secret", ["", "trop-court"])
def test_the_channel_refuses_to_start_without_a_shared_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, redis_url: str, secret: str
) -> None:
    monkeypatch.setenv("SHARED_REDIS_URL", redis_url)
    monkeypatch.setenv("WEB_SESSION_SECRET", secret)
    with caplog.at_level(logging.ERROR), pytest.raises(SettingError) as refused:
        WebsiteSocketIOInput.from_credentials({})
    assert "WEB_SESSION_SECRET" in str(refused.value) and "32 caractères" in str(refused.value)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "SHARED_REDIS_URL is set" in errors[0]
    assert not secret or secret not in errors[0]


async def test_redis_down_the_chat_still_answers_on_its_own_instance(
    monkeypatch: pytest.MonkeyPatch, isolated_process_state: str, down_url: str
) -> None:
    monkeypatch.setenv("SHARED_REDIS_URL", down_url)
    monkeypatch.setenv("WEB_SESSION_SECRET", SESSION_SECRET)
    client = chat_client()
    async with ChatInstance() as a:
        await client.connect(a.url)
        session_id, _ = await client.session()
        started = time.monotonic()
        await a.say(session_id, "Toujours là")
        assert await client.next("bot_uttered") == {"text": "Toujours là"}
        assert time.monotonic() - started < 3
        await client.close()


# --------------------------------------------------------------------------- Slack

SLACK_TOKEN = "test-bot-token"  # a fake value, deliberately not shaped like a real Slack token
SLACK_SECRET = "test-signing-secret"
slack_api = standin_fixture(SLACK_TOKEN)


def signature_memory(client: "Redis[bytes]", prefix: str) -> RedisMemory:
    return RedisMemory(client, prefix + "slack:signatures:", SIGNATURE_MEMORY_SECONDS)


async def test_a_replay_is_refused_by_the_other_guard(redis: "Redis[bytes]", prefix: str) -> None:
    a = SlackRequestGuard(SLACK_SECRET, memory=signature_memory(redis, prefix))
    b = SlackRequestGuard(SLACK_SECRET, memory=signature_memory(redis, prefix))
    body = b'{"type":"event_callback"}'
    headers = signed_headers(SLACK_SECRET, body)
    assert await a.rejection_reason(headers, body) is None
    assert "replay" in (await b.rejection_reason(headers, body) or "")
    assert "replay" in (await a.rejection_reason(headers, body) or "")
    other = b'{"type":"event_callback","n":2}'
    assert await b.rejection_reason(signed_headers(SLACK_SECRET, other), other) is None
    [key] = [k async for k in redis.scan_iter(match=prefix + "slack:signatures:*")][:1]
    assert 0 < await redis.ttl(key) <= SIGNATURE_MEMORY_SECONDS


async def test_a_replay_is_refused_by_the_other_guard_only_when_shared() -> None:
    """The control: two process memories do not know each other's signatures."""
    a, b = SlackRequestGuard(SLACK_SECRET), SlackRequestGuard(SLACK_SECRET)
    body = b"{}"
    headers = signed_headers(SLACK_SECRET, body)
    assert await a.rejection_reason(headers, body) is None
    assert await b.rejection_reason(headers, body) is None


class FakeAssistant:
    def __init__(self) -> None:
        self.received: "list[str]" = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message.text or "")
        await message.output_channel.send_text_message(message.sender_id, "Réponse")


class SlackInstance(ServedChannel):
    """Our Slack channel, served, with its memories in `client`'s Redis."""

    def __init__(self, client: "Redis[bytes]", prefix: str, api: SlackStandIn) -> None:
        self.channel = UrbactSlackInput(
            SLACK_TOKEN,
            SLACK_SECRET,
            api_base_url=api.base_url,
            signature_memory=memory_for("signatures", SIGNATURE_MEMORY_SECONDS, client, prefix=prefix),
            event_memory=memory_for("events", EVENT_MEMORY_SECONDS, client, prefix=prefix),
        )
        self.assistant = FakeAssistant()
        super().__init__(self.channel.blueprint(self.assistant), "/webhooks/slack")

    @property
    def url(self) -> str:
        return f"{self.base_url}/webhooks/slack/webhook"

    async def before_close(self) -> None:
        await asyncio.gather(*self.channel._tasks, return_exceptions=True)

    async def post(self, body: bytes, headers: Dict[str, str]) -> Tuple[int, str]:
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url, data=body, headers=headers) as resp:
                return resp.status, await resp.text()


async def test_two_slack_instances_process_each_message_once(
    redis: "Redis[bytes]", prefix: str, slack_api: SlackStandIn
) -> None:
    slack_api.clear()
    payload = event_payload("demandes en attente", user="U0ALICE", channel="D0ALICE")
    body = json.dumps(payload).encode()
    headers = signed_headers(SLACK_SECRET, body)
    async with SlackInstance(redis, prefix, slack_api) as a, SlackInstance(redis, prefix, slack_api) as b:
        assert (await a.post(body, headers))[0] == 200
        # the exact same request (a replay) to the other instance
        assert (await b.post(body, headers))[0] == 401
        # Slack's retry of the same event, re-signed, to the other instance
        retry = signed_headers(SLACK_SECRET, body, timestamp=int(time.time()) + 1, **{"X-Slack-Retry-Num": "1"})
        assert await b.post(body, retry) == (200, "duplicate")
        # the same message delivered again as an app_mention (another event id)
        mention = dict(payload, event_id="Ev0OTHER", event=dict(payload["event"], type="app_mention"))
        mention_body = json.dumps(mention).encode()
        assert await b.post(mention_body, signed_headers(SLACK_SECRET, mention_body)) == (200, "duplicate")
    assert a.assistant.received == ["demandes en attente"] and b.assistant.received == []
    keys = [key.decode() async for key in redis.scan_iter(match=prefix + "slack:*")]
    assert keys and all("U0ALICE" not in key for key in keys)


async def test_redis_down_slack_refuses_with_503_and_processes_nothing(
    down_url: str, prefix: str, slack_api: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    down = shared_redis.client_for(down_url)
    payload = event_payload("demandes en attente", user="U0ALICE", channel="D0ALICE")
    body = json.dumps(payload).encode()
    with caplog.at_level(logging.ERROR, logger="bot.channels.shared_redis"):
        async with SlackInstance(down, prefix, slack_api) as a:
            status, text = await a.post(body, signed_headers(SLACK_SECRET, body))
            assert status == 503 and "indisponible" in text
            assert (await a.post(body, signed_headers(SLACK_SECRET, body)))[0] == 503
    assert a.assistant.received == []
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.channels.shared_redis"]
    assert len(lines) == 1 and "503" in lines[0]
    assert "U0ALICE" not in lines[0] and "demandes" not in lines[0]
    with pytest.raises(SharedMemoryUnavailable):
        await SlackRequestGuard(SLACK_SECRET, memory=signature_memory(down, prefix)).rejection_reason(
            signed_headers(SLACK_SECRET, body), body
        )
    await down.close()


def test_slack_memories_follow_shared_redis_url(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, isolated_process_state: str
) -> None:
    monkeypatch.setenv("SHARED_REDIS_URL", redis_url)
    channel = UrbactSlackInput(SLACK_TOKEN, SLACK_SECRET)
    assert isinstance(channel.seen_events, RedisMemory)
    assert channel.seen_events.prefix == "urbact:slack:events:"
    monkeypatch.delenv("SHARED_REDIS_URL")
    assert not isinstance(UrbactSlackInput(SLACK_TOKEN, SLACK_SECRET).seen_events, RedisMemory)


# --------------------------------------------------------------------------- rate limits


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def shared_guards(
    client: "Redis[bytes]", prefix: str, clock: Clock, per_conversation: int = 3, per_address: int = 5
) -> Tuple[MessageGuard, MessageGuard]:
    settings = LimitSettings(
        per_conversation_per_minute=per_conversation, per_address_per_minute=per_address
    )
    return (
        MessageGuard(settings, shared=client, prefix=prefix + "ratelimit:", wall_clock=clock),
        MessageGuard(settings, shared=client, prefix=prefix + "ratelimit:", wall_clock=clock),
    )


async def test_two_instances_share_one_conversation_budget(redis: "Redis[bytes]", prefix: str) -> None:
    clock = Clock()
    a, b = shared_guards(redis, prefix, clock)
    verdicts = [await guard.check("rest", "conv-secret", None) for guard in (a, b, a, b, a)]
    assert verdicts[:3] == [None, None, None]
    assert verdicts[3:] == [limits.TOO_MANY_MESSAGES] * 2
    assert await b.check("rest", "another", None) is None
    clock.now += 20  # 3 per minute: one more message every 20 s
    assert await b.check("rest", "conv-secret", None) is None
    assert await a.check("rest", "conv-secret", None) == limits.TOO_MANY_MESSAGES
    keys = [key.decode() async for key in redis.scan_iter(match=prefix + "*")]
    assert keys and all("conv-secret" not in key for key in keys)
    assert all(0 < ttl <= 61 for ttl in [await redis.ttl(key) for key in keys])


async def test_two_instances_share_one_address_budget(redis: "Redis[bytes]", prefix: str) -> None:
    a, b = shared_guards(redis, prefix, Clock(), per_conversation=100, per_address=4)
    verdicts = [
        await guard.check("socketio", f"conv-{n}", "203.0.113.7") for n, guard in enumerate([a, b] * 3)
    ]
    assert verdicts == [None] * 4 + [limits.TOO_MANY_MESSAGES] * 2
    assert await a.check("socketio", "conv-x", "198.51.100.1") is None
    assert await a.check("socketio", "conv-y", "127.0.0.1") is None  # loopback: not per address


async def test_redis_down_the_limits_fall_back_to_this_instance(
    down_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    down = shared_redis.client_for(down_url)
    a, _ = shared_guards(down, prefix, Clock(), per_conversation=3)
    with caplog.at_level(logging.ERROR, logger="bot.channels.shared_redis"):
        started = time.monotonic()
        verdicts = [await a.check("rest", "conv-secret", "203.0.113.7") for _ in range(4)]
        elapsed = time.monotonic() - started
    assert verdicts == [None] * 3 + [limits.TOO_MANY_MESSAGES]
    assert elapsed < 4 * 2 * shared_redis.SOCKET_TIMEOUT_SECONDS + 1
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.channels.shared_redis"]
    assert len(lines) == 1 and "this instance alone" in lines[0]
    assert "conv-secret" not in lines[0] and "203.0.113.7" not in lines[0]
    await down.close()
