"""Abuse limits of the channels (issue 10, point 4) and the answers to /restart and to
undecodable socket.io packets (point 5), in real Sanic servers (REST, socket.io over a raw
websocket) with a stand-in assistant; /restart runs Rasa's own ActionRestart on our domain.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, Tuple

import aiohttp
import pytest
from rasa.core.actions.action import ActionRestart
from rasa.core.channels.channel import UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Restarted
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.channels.apology import APOLOGY, RESTARTED, reply_to_silence
from bot.channels.limits import (
    TOO_MANY_MESSAGES,
    LimitSettings,
    MessageGuard,
    RateLimiter,
    body_too_large_message,
)
from bot.channels.rest import FrenchRestInput
from bot.channels.socketio import UNREADABLE_PACKET, WebsiteSocketIOInput
from bot.channels.validation import TOO_DEEP, InvalidInput, check_metadata
from bot.channels.web_handlers import SessionHandlers
from bot.channels.web_sessions import SessionSigner
from tests.conftest import REPO_ROOT
from tests.support.slack_standin import free_port

Handler = Callable[[UserMessage], Awaitable[None]]
DOMAIN = Domain.load(str(REPO_ROOT / "domain.yml"))


async def echo(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, f"Réponse : {message.text}")


async def rasa_restart_or_echo(message: UserMessage) -> None:
    """Rasa's own action_restart for "/restart" (what the RulePolicy's default rule runs), its
    bot messages sent to the channel as Rasa's processor does; an echo otherwise."""
    if message.text != "/restart":
        await echo(message)
        return
    tracker = DialogueStateTracker(message.sender_id, DOMAIN.slots)
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    events = await ActionRestart().run(message.output_channel, nlg, tracker, DOMAIN)
    assert any(isinstance(event, Restarted) for event in events)
    for event in events:
        if isinstance(event, BotUttered):
            await message.output_channel.send_response(message.sender_id, event.message())


async def failing(_: UserMessage) -> None:
    raise RuntimeError("action server down")


# --------------------------------------------------------------------------- units


def test_a_bucket_lets_a_burst_through_then_one_message_per_interval() -> None:
    now = [1000.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # another key has its own bucket
    now[0] += 20  # 60 s / 3 messages: one token back
    assert limiter.allow("a") and not limiter.allow("a")
    assert RateLimiter(0).allow("a")  # 0: off


def test_buckets_are_bounded_in_memory() -> None:
    limiter = RateLimiter(5, max_keys=100)
    for number in range(1000):
        limiter.allow(f"k{number}")
    assert len(limiter) == 100


def test_settings_have_defaults_and_read_the_environment(caplog: pytest.LogCaptureFixture) -> None:
    assert LimitSettings.from_env({}) == LimitSettings()
    read = LimitSettings.from_env({"MAX_REQUEST_BYTES": "65536", "RATE_LIMIT_PER_ADDRESS": "0",
                                   "METADATA_MAX_DEPTH": "abc", "RATE_LIMIT_PER_CONVERSATION": "-1"})
    assert read.max_request_bytes == 65536 and read.per_address_per_minute == 0
    assert read.metadata_max_depth == LimitSettings().metadata_max_depth
    assert read.per_conversation_per_minute == LimitSettings().per_conversation_per_minute
    assert "METADATA_MAX_DEPTH" in caplog.text


def nested(depth: int) -> Dict[str, Any]:
    value: Dict[str, Any] = {"fin": True}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


def test_metadata_too_deep_or_too_large_is_refused_in_french() -> None:
    assert check_metadata(nested(8), 4000, 8) == nested(8)
    assert check_metadata("pas un objet", 4000, 8) is None
    for bad in (nested(9), {"liste": [[[[[[[[[1]]]]]]]]]}, nested(100_000), {"x": "y" * 5000}):
        with pytest.raises(InvalidInput) as refused:
            check_metadata(bad, 4000, 8)
        assert "métadonnées" in refused.value.user_message


# --------------------------------------------------------------------------- REST


class Rest:
    def __init__(self, url: str) -> None:
        self.url = url

    async def post(self, body: Any, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any, Dict[str, str]]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url, data=data, headers={"Content-Type": "application/json", **(headers or {})}) as resp:
                raw = await resp.text()
                return resp.status, json.loads(raw) if raw.startswith(("{", "[")) else raw, dict(resp.headers)


async def rest_server(handler: Handler, settings: LimitSettings, proxies: int = 0) -> AsyncIterator[Rest]:
    Sanic.test_mode = True
    app = Sanic(f"limits_rest_{uuid.uuid4().hex[:8]}")
    if proxies:
        app.config.PROXIES_COUNT = proxies  # what SANIC_PROXIES_COUNT=1 sets behind a reverse proxy
    channel = FrenchRestInput(settings, MessageGuard(settings))
    app.blueprint(channel.blueprint(handler), url_prefix="/webhooks/rest")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        yield Rest(f"http://127.0.0.1:{port}/webhooks/rest/webhook")
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture()
async def rest() -> AsyncIterator[Rest]:
    async for server in rest_server(rasa_restart_or_echo, LimitSettings(max_request_bytes=64 * 1024)):
        yield server


async def test_a_body_over_the_limit_gets_a_french_413(rest: Rest, caplog: pytest.LogCaptureFixture) -> None:
    status, answer, _ = await rest.post({"sender": "t1", "message": "x", "metadata": {"x": "y" * 100_000}})
    assert status == 413
    assert answer == {"error": body_too_large_message(64 * 1024)}
    assert "refused a request body over 65536 bytes" in caplog.text
    status, answer, _ = await rest.post({"sender": "t1", "message": "bonjour"})  # the server still answers
    assert status == 200


async def test_json_too_deep_to_decode_gets_a_french_400(rest: Rest) -> None:
    body = b'{"sender": "t1", "message": "x", "metadata": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    status, answer, _ = await rest.post(body)
    assert (status, answer) == (400, {"error": TOO_DEEP})


async def test_deep_or_large_metadata_gets_a_french_400(rest: Rest) -> None:
    for metadata in (nested(50), {"x": "y" * 5000}):
        status, answer, _ = await rest.post({"sender": "t1", "message": "bonjour", "metadata": metadata})
        assert status == 400 and "métadonnées" in answer["error"]


async def test_messages_per_conversation_are_limited(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async for rest in rest_server(echo, LimitSettings(per_conversation_per_minute=3)):
        statuses = [(await rest.post({"sender": "secret-sender", "message": "bonjour"}))[0] for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        status, answer, headers = await rest.post({"sender": "secret-sender", "message": "bonjour"})
        assert (status, answer) == (429, {"error": TOO_MANY_MESSAGES}) and headers["Retry-After"] == "60"
        assert (await rest.post({"sender": "someone-else", "message": "bonjour"}))[0] == 200
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals and all("secret-sender" not in line and "127.0.0.1" not in line for line in refusals)


async def test_messages_per_client_address_are_limited_behind_a_trusted_proxy() -> None:
    async for rest in rest_server(echo, LimitSettings(per_address_per_minute=3), proxies=1):
        one = {"X-Forwarded-For": "203.0.113.7"}
        statuses = [(await rest.post({"sender": f"s{n}", "message": "bonjour"}, one))[0] for n in range(4)]
        assert statuses == [200, 200, 200, 429]
        other = {"X-Forwarded-For": "198.51.100.2"}
        assert (await rest.post({"sender": "s9", "message": "bonjour"}, other))[0] == 200


async def test_loopback_is_not_limited_per_address() -> None:
    async for rest in rest_server(echo, LimitSettings(per_address_per_minute=2)):
        statuses = [(await rest.post({"sender": f"s{n}", "message": "bonjour"}))[0] for n in range(5)]
        assert statuses == [200] * 5


async def test_restart_typed_by_the_user_is_confirmed_not_apologised(rest: Rest) -> None:
    status, answer, _ = await rest.post({"sender": "t1", "message": "/restart"})
    assert (status, answer) == (200, [{"recipient_id": "t1", "text": RESTARTED}])


@pytest.mark.parametrize("text", ["/restart", " /RESTART ", '/restart{"x": 1}', "/session_start"])
def test_restart_commands_are_recognised(text: str) -> None:
    assert reply_to_silence(text) == RESTARTED


@pytest.mark.parametrize("text", ["restart", "/restarting", "/restart please", "/greet", "bonjour"])
def test_other_silences_get_the_apology(text: str) -> None:
    assert reply_to_silence(text) == APOLOGY


async def test_a_failure_after_restart_still_gets_the_apology() -> None:
    async for rest in rest_server(failing, LimitSettings()):
        _, answer, _ = await rest.post({"sender": "t1", "message": "/restart"})
        assert answer == [{"recipient_id": "t1", "text": APOLOGY}]


# --------------------------------------------------------------------------- socket.io


class Socket:
    """A raw Engine.IO v4 / Socket.IO v5 client over a websocket: sends any frame."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def frame(self) -> str:
        while True:
            message = await asyncio.wait_for(self.ws.receive(), timeout=10)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            if message.data == "2":  # ping
                await self.ws.send_str("3")
                continue
            return str(message.data)

    async def event(self, name: str) -> Any:
        while True:
            frame = await self.frame()
            if frame.startswith("42"):
                event, *args = json.loads(frame[2:])
                if event == name:
                    return args[0] if args else None

    async def emit_raw(self, payload: str) -> None:
        await self.ws.send_str("42" + payload)

    async def say(self, text: str, **extra: Any) -> str:
        await self.emit_raw(json.dumps(["user_uttered", {"message": text, **extra}]))
        return str((await self.event("bot_uttered"))["text"])


async def socket_server(handler: Handler, settings: LimitSettings) -> AsyncIterator[Callable[[], Any]]:
    Sanic.test_mode = True
    app = Sanic(f"limits_sio_{uuid.uuid4().hex[:8]}")
    channel = WebsiteSocketIOInput(web_path=None)
    blueprint = channel.blueprint(handler)
    app.blueprint(blueprint, url_prefix="/webhooks/socketio")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    sessions: List[aiohttp.ClientSession] = []

    async def connect() -> Socket:
        session = aiohttp.ClientSession()
        sessions.append(session)
        ws = await session.ws_connect(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket")
        client = Socket(ws)
        assert (await client.frame()).startswith("0")
        await ws.send_str("40")
        assert (await client.frame()).startswith("40")
        await client.emit_raw(json.dumps(["session_request", {}]))
        await client.event("session_confirm")
        return client

    handlers = _handlers_of(channel)
    handlers.settings = settings
    handlers.guard = MessageGuard(settings)
    try:
        yield connect
    finally:
        for session in sessions:
            await session.close()
        assert channel.sio is not None
        await channel.sio.shutdown()
        server.close()
        await server.wait_closed()


def _handlers_of(channel: WebsiteSocketIOInput) -> Any:
    """The SessionHandlers the channel registered (bound methods of one object)."""
    assert channel.sio is not None
    return channel.sio.handlers["/"]["user_uttered"].__self__


@pytest.fixture()
async def connect() -> AsyncIterator[Callable[[], Any]]:
    async for factory in socket_server(rasa_restart_or_echo, LimitSettings(per_conversation_per_minute=3)):
        yield factory


async def test_socketio_answers_a_malformed_packet_in_french(connect: Callable[[], Any]) -> None:
    client = await connect()
    await client.emit_raw('["user_uttered", {"message": "bonjour"')  # JSON cut short
    assert (await client.event("bot_uttered"))["text"] == UNREADABLE_PACKET
    assert await client.say("bonjour") == "Réponse : bonjour"  # the socket still works


async def test_socketio_answers_json_too_deep_to_decode_in_french(connect: Callable[[], Any]) -> None:
    client = await connect()
    await client.emit_raw('["user_uttered", {"message": "x", "metadata": ' + "[" * 30_000 + "]" * 30_000 + "}]")
    assert (await client.event("bot_uttered"))["text"] == TOO_DEEP


async def test_socketio_refuses_deep_or_large_metadata_in_french(connect: Callable[[], Any]) -> None:
    client = await connect()
    assert "métadonnées" in await client.say("bonjour", metadata=nested(50))
    assert "métadonnées" in await client.say("bonjour", metadata=json.dumps({"x": "y" * 5000}))


async def test_socketio_messages_per_conversation_are_limited(connect: Callable[[], Any]) -> None:
    client = await connect()
    answers = [await client.say("bonjour") for _ in range(4)]
    assert answers == ["Réponse : bonjour"] * 3 + [TOO_MANY_MESSAGES]
    other = await connect()
    assert await other.say("bonjour") == "Réponse : bonjour"


async def test_socketio_restart_is_confirmed_not_apologised(connect: Callable[[], Any]) -> None:
    client = await connect()
    assert await client.say("/restart") == RESTARTED


class RecordingSio:
    def __init__(self) -> None:
        self.emitted: List[Tuple[str, Any, Optional[str]]] = []

    async def enter_room(self, *_: Any, **__: Any) -> None: ...

    async def leave_room(self, *_: Any, **__: Any) -> None: ...

    async def emit(self, event: str, data: Any = None, room: Optional[str] = None, **_: Any) -> None:
        self.emitted.append((event, data, room))


async def test_socketio_messages_per_client_address_are_limited() -> None:
    sio = RecordingSio()
    settings = LimitSettings(per_address_per_minute=2)
    handlers = SessionHandlers(sio, echo, SessionSigner(b"s" * 32), settings=settings, guard=MessageGuard(settings))
    for sid in ("a", "b", "c"):  # three sockets (three conversations) from one address
        await handlers.connect(sid, {"REMOTE_ADDR": "203.0.113.7"})
        await handlers.user_uttered(sid, {"message": "bonjour"})
    refusals = [(data, room) for event, data, room in sio.emitted if data == {"text": TOO_MANY_MESSAGES}]
    assert refusals == [({"text": TOO_MANY_MESSAGES}, "c")]
    await handlers.disconnect("c")
    assert "c" not in handlers.addresses


async def test_rasa_start_up_installs_the_body_limit_from_our_channels() -> None:
    """rasa run builds its Sanic app with rasa.core.run.configure_app: the limit must be there."""
    from rasa.core.run import configure_app
    from sanic.exceptions import PayloadTooLarge

    Sanic.test_mode = True
    app = configure_app([FrenchRestInput(), WebsiteSocketIOInput(web_path=None)], enable_api=False)
    assert app.config.REQUEST_MAX_SIZE == LimitSettings().max_request_bytes  # not Sanic's 100 MB
    assert app.config.WEBSOCKET_MAX_SIZE == LimitSettings().max_request_bytes
    answer = app.error_handler.lookup(PayloadTooLarge("x"), None)(None, PayloadTooLarge("x"))
    assert answer.status == 413 and "trop volumineuse" in json.loads(answer.body)["error"]
