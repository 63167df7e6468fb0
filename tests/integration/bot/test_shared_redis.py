"""Several Rasa instances sharing their channels' state through Redis (SHARED_REDIS_URL).

Two website chat servers (real Sanic servers, our channel, python-socketio's Redis
manager), two Slack channels, two rate limiters: what one instance does, the other sees.
The tests use the machine's real Redis (127.0.0.1:TEST_REDIS_PORT, default 6379), database 3,
and only keys under a prefix of their own, deleted afterwards; a Redis "down" is a URL on a
port where nothing listens.
"""

from __future__ import annotations

import os
import uuid
import asyncio
import contextlib
import json
import logging
import time
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Tuple

import aiohttp
import pytest
import socketio
from rasa.core.channels.channel import UserMessage
from redis.asyncio import Redis
from sanic import Sanic

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


class ChatClient:
    """A python-socketio client speaking the widget's protocol; events arrive in a queue."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: "asyncio.Queue[Tuple[str, Any]]" = asyncio.Queue()
        for name in ("session_confirm", "session_token", "bot_uttered"):
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Any:
        async def record(data: Any = None) -> None:
            await self.events.put((name, data))
        return record

    async def connect(self, url: str) -> None:
        await self.sio.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)

    async def close(self) -> None:
        # A polite disconnect() waits for the pending long-poll (up to 25 s): send the
        # close packet, then stop waiting (as tests/e2e/test_website.py does).
        eio = self.sio.eio
        loops = [task for task in (eio.read_loop_task, eio.write_loop_task) if task is not None]
        await eio.disconnect(abort=True)
        for task in loops:
            if not task.done():
                task.cancel()
        for task in loops:
            with contextlib.suppress(BaseException):
                await task

    async def next(self, name: str, timeout: float = 5.0) -> Any:
        while True:
            event, data = await asyncio.wait_for(self.events.get(), timeout)
            if event == name:
                return data

    async def start_session(self, data: Optional[Dict[str, str]] = None) -> Tuple[str, str]:
        await self.sio.emit("session_request", data or {})
        token = await self.next("session_token")
        assert await self.next("session_confirm") == token["session_id"]
        return token["session_id"], token["token"]


class ChatInstance:
    """Our website channel in a real Sanic server on a free port, like one Rasa instance."""

    def __init__(self) -> None:
        Sanic.test_mode = True
        self.app = Sanic(f"shared_chat_{uuid.uuid4().hex[:8]}")
        self.channel = WebsiteSocketIOInput(web_path=None)
        self.app.blueprint(self.channel.blueprint(_no_answer), url_prefix="/webhooks/socketio")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: Any = None

    async def __aenter__(self) -> "ChatInstance":
        self.server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True
        )
        await self.server.startup()
        return self

    async def __aexit__(self, *_: Any) -> None:
        manager = self.channel.sio.manager if self.channel.sio is not None else None
        listener = getattr(manager, "thread", None)
        if listener is not None and hasattr(listener, "cancel"):
            listener.cancel()
        self.server.close()
        await self.server.wait_closed()

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
    first, second = ChatClient(), ChatClient()
    async with ChatInstance() as a, ChatInstance() as b:
        await first.connect(a.url)
        session_id, token = await first.start_session()
        await wait_subscribed(redis, shared_env, 1)

        await b.say(session_id, "Bonjour depuis l'instance B")
        assert await first.next("bot_uttered") == {"text": "Bonjour depuis l'instance B"}

        # the same visitor in a second tab, sent by nginx to B: B verifies A's token
        await second.connect(b.url)
        resumed_id, _ = await second.start_session({"session_id": session_id, "token": token})
        assert resumed_id == session_id
        await wait_subscribed(redis, shared_env, 2)
        await a.say(session_id, "Pour les deux onglets")
        assert await first.next("bot_uttered") == {"text": "Pour les deux onglets"}
        assert await second.next("bot_uttered") == {"text": "Pour les deux onglets"}
        await first.close()
        await second.close()


async def test_the_second_tab_resumes_the_session_another_instance_issued(shared_env: str) -> None:
    client, other = ChatClient(), ChatClient()
    async with ChatInstance() as a, ChatInstance() as b:
        await client.connect(a.url)
        session_id, token = await client.start_session()
        await other.connect(b.url)
        resumed_id, fresh_token = await other.start_session({"session_id": session_id, "token": token})
        assert resumed_id == session_id and fresh_token
        await client.close()
        await other.close()


async def test_without_shared_redis_the_other_instance_cannot_reach_the_socket(
    monkeypatch: pytest.MonkeyPatch, isolated_process_state: str
) -> None:
    """The control: one process's memory, as before issue 13 (and the test can fail)."""
    monkeypatch.delenv("SHARED_REDIS_URL", raising=False)
    monkeypatch.delenv("WEB_SESSION_SECRET", raising=False)
    client = ChatClient()
    async with ChatInstance() as a, ChatInstance() as b:
        await client.connect(a.url)
        session_id, token = await client.start_session()
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
    client = ChatClient()
    async with ChatInstance() as a:
        await client.connect(a.url)
        session_id, _ = await client.start_session()
        started = time.monotonic()
        await a.say(session_id, "Toujours là")
        assert await client.next("bot_uttered") == {"text": "Toujours là"}
        assert time.monotonic() - started < 3
        await client.close()
