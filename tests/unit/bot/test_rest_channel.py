"""The REST channel in a real Sanic server, with a fake assistant (no model)."""

from __future__ import annotations

import json
import uuid
from typing import Any, AsyncIterator, List, Tuple

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.rest import NOT_A_JSON_OBJECT, FrenchRestInput
from tests.support.slack_standin import free_port


class FakeAssistant:
    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"Réponse : {message.text}")


class Server:
    def __init__(self, url: str, assistant: FakeAssistant) -> None:
        self.url = url
        self.assistant = assistant

    async def post(self, body: bytes) -> Tuple[int, Any, str]:
        headers = {"Content-Type": "application/json"}
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url, data=body, headers=headers) as resp:
                raw = await resp.text()
                return resp.status, json.loads(raw) if raw.startswith(("{", "[")) else None, raw


@pytest.fixture()
async def server() -> AsyncIterator[Server]:
    Sanic.test_mode = True
    app = Sanic(f"rest_test_{uuid.uuid4().hex[:8]}")
    assistant = FakeAssistant()
    app.blueprint(FrenchRestInput().blueprint(assistant), url_prefix="/webhooks/rest")
    port = free_port()
    srv = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await srv.startup()
    yield Server(f"http://127.0.0.1:{port}/webhooks/rest/webhook", assistant)
    srv.close()
    await srv.wait_closed()


@pytest.mark.parametrize(
    "body",
    [b'{"sender": "t1", "message": "bonjour"', b"pas du json", b"\xff\xfe{}", b"[1, 2]", b""],
)
async def test_malformed_json_gets_the_french_error(server: Server, body: bytes) -> None:
    status, answer, raw = await server.post(body)
    assert status == 400, raw
    assert answer == {"error": NOT_A_JSON_OBJECT}
    assert server.assistant.received == []


@pytest.mark.parametrize("sender", ["t1\n", "t1\r\n", "\nt1", "t1\x00"])
async def test_sender_with_a_line_break_is_refused(server: Server, sender: str) -> None:
    status, answer, _ = await server.post(json.dumps({"sender": sender, "message": "bonjour"}).encode())
    assert status == 400
    assert "sender" in answer["error"]
    assert server.assistant.received == []


async def test_rest_conversations_are_kept_apart_from_other_channels(server: Server) -> None:
    # "U0ALICE" is what a Slack user's conversation id looks like: a REST client writing
    # that sender must land in its own conversation, not in hers.
    status, answer, _ = await server.post(json.dumps({"sender": "U0ALICE", "message": "bonjour"}).encode())
    assert status == 200
    message = server.assistant.received[0]
    assert message.sender_id == "rest:U0ALICE"
    assert message.input_channel == "rest"
    assert answer == [{"recipient_id": "U0ALICE", "text": "Réponse : bonjour"}]
