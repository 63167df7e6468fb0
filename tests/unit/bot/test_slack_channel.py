"""The Slack channel in a real Sanic server, with a fake assistant and a Slack API stand-in."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any, AsyncIterator, Dict, List, Optional

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.apology import APOLOGY, RESTARTED
from bot.channels.slack import UrbactSlackBot, UrbactSlackInput, resolve_api_base_url
from tests.support.slack_standin import SlackStandIn, event_payload, free_port, signed_headers, standin_fixture

TOKEN = "test-bot-token"  # a fake value, deliberately not shaped like a real Slack token
SECRET = "test-signing-secret"


slack_api = standin_fixture(TOKEN)


class FakeAssistant:
    """Answers "Réponse : <text>"; "boum" raises, "silence" answers nothing."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        self.silent = {"silence"}

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if message.text == "boum":
            raise RuntimeError("the assistant crashed")
        if message.text in self.silent:
            return
        await message.output_channel.send_text_message(message.sender_id, f"Réponse : {message.text}")


class Server:
    def __init__(self, url: str, assistant: FakeAssistant, channel: UrbactSlackInput) -> None:
        self.url = url
        self.assistant = assistant
        self.channel = channel

    async def post(self, body: bytes, headers: Dict[str, str]) -> aiohttp.ClientResponse:
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url, data=body, headers=headers) as resp:
                await resp.read()
                return resp

    async def send(self, payload: Dict[str, Any], timestamp: Optional[int] = None, **headers: str):
        body = json.dumps(payload).encode()
        return await self.post(body, signed_headers(SECRET, body, timestamp=timestamp, **headers))


@pytest.fixture()
async def server(slack_api: SlackStandIn) -> AsyncIterator[Server]:
    slack_api.clear()
    slack_api.available = True
    Sanic.test_mode = True
    app = Sanic(f"slack_test_{uuid.uuid4().hex[:8]}")
    channel = UrbactSlackInput(
        TOKEN, SECRET, staff_channel="C0STAFF", api_base_url=slack_api.base_url
    )
    assistant = FakeAssistant()
    app.blueprint(channel.blueprint(assistant), url_prefix="/webhooks/slack")
    port = free_port()
    srv = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await srv.startup()
    yield Server(f"http://127.0.0.1:{port}/webhooks/slack/webhook", assistant, channel)
    srv.close()
    await srv.wait_closed()


async def test_direct_message_is_answered_in_its_thread(server: Server, slack_api: SlackStandIn) -> None:
    payload = event_payload("Bonjour, demandes en attente ?", user="U0ALICE", channel="D0ALICE")
    resp = await server.send(payload)
    assert resp.status == 200
    messages = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert messages[0].channel == "D0ALICE"
    assert messages[0].thread_ts == payload["event"]["ts"]
    assert messages[0].text == "Réponse : Bonjour, demandes en attente ?"
    assert messages[0].token == TOKEN
    message = server.assistant.received[0]
    assert message.sender_id == "U0ALICE"
    assert message.input_channel == "slack"
    assert message.metadata["user"] == "U0ALICE"
    assert message.metadata["staff_channel"] is False
    assert message.metadata["direct_message"] is True  # staff commands accept a DM


async def test_mention_in_a_thread_is_cleaned_and_answered_in_that_thread(
    server: Server, slack_api: SlackStandIn
) -> None:
    payload = event_payload(
        "<@U0URBACTBOT> traiter demande 12",
        channel="C0STAFF",
        event_type="app_mention",
        thread_ts="1700000000.000100",
    )
    await server.send(payload)
    messages = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert messages[0].text == "Réponse : traiter demande 12"
    assert messages[0].channel == "C0STAFF"
    assert messages[0].thread_ts == "1700000000.000100"
    assert server.assistant.received[0].metadata["staff_channel"] is True
    assert server.assistant.received[0].metadata["direct_message"] is False
    assert server.assistant.received[0].metadata["user"] == "U0STAFF1"


async def test_retry_of_a_processed_event_is_not_processed_again(
    server: Server, slack_api: SlackStandIn
) -> None:
    payload = event_payload("Une seule fois")
    first = await server.send(payload)
    assert first.status == 200
    # Slack re-signs each retry; a later timestamp gives a different signature.
    retry = await server.send(
        payload, timestamp=int(time.time()) + 1, X_Slack_Retry_Num="1", X_Slack_Retry_Reason="http_timeout"
    )
    assert retry.status == 200
    assert retry.headers.get("X-Slack-No-Retry") == "1"
    await slack_api.async_wait_for(lambda m: len(m) == 1)
    await asyncio.sleep(0.3)
    assert len(server.assistant.received) == 1
    assert len(slack_api.messages) == 1


async def test_same_message_under_two_event_ids_is_processed_once(
    server: Server, slack_api: SlackStandIn
) -> None:
    first = event_payload("<@U0URBACTBOT> demandes en attente", channel="C0X", event_type="app_mention")
    second = json.loads(json.dumps(first))
    second["event_id"] = "Ev-other"
    await server.send(first)
    await server.send(second, timestamp=int(time.time()) + 1)
    await slack_api.async_wait_for(lambda m: len(m) == 1)
    await asyncio.sleep(0.3)
    assert len(server.assistant.received) == 1


async def test_first_delivery_seen_as_a_retry_is_processed(server: Server, slack_api: SlackStandIn) -> None:
    # We never saw the original (we were down): the retry is the first copy, it counts.
    await server.send(event_payload("Je suis la relance"), X_Slack_Retry_Num="2")
    await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert server.assistant.received[0].text == "Je suis la relance"


@pytest.mark.parametrize("case", ["unsigned", "wrong", "stale", "future", "tampered"])
async def test_unauthentic_requests_get_401_and_produce_nothing(
    server: Server, slack_api: SlackStandIn, case: str
) -> None:
    body = json.dumps(event_payload("Je ne devrais pas passer")).encode()
    headers = signed_headers(SECRET, body)
    if case == "unsigned":
        headers = {"Content-Type": "application/json"}
    elif case == "wrong":
        headers = signed_headers("not-the-secret", body)
    elif case == "stale":
        headers = signed_headers(SECRET, body, timestamp=int(time.time()) - 6 * 60)
    elif case == "future":
        headers = signed_headers(SECRET, body, timestamp=int(time.time()) + 6 * 60)
    elif case == "tampered":
        body = body.replace(b"passer", b"pirate")
    resp = await server.post(body, headers)
    assert resp.status == 401
    await asyncio.sleep(0.3)
    assert server.assistant.received == []
    assert slack_api.messages == []


async def test_exact_replay_of_a_valid_request_is_refused(server: Server, slack_api: SlackStandIn) -> None:
    body = json.dumps(event_payload("Original")).encode()
    headers = signed_headers(SECRET, body)
    assert (await server.post(body, headers)).status == 200
    assert (await server.post(body, headers)).status == 401
    await slack_api.async_wait_for(lambda m: len(m) == 1)
    await asyncio.sleep(0.2)
    assert len(server.assistant.received) == 1


async def test_url_verification_challenge_is_echoed(server: Server) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
    async with aiohttp.ClientSession() as session:
        async with session.post(server.url, data=body, headers=signed_headers(SECRET, body)) as resp:
            assert resp.status == 200
            assert (await resp.json()) == {"challenge": "abc123"}


@pytest.mark.parametrize(
    "payload",
    [
        event_payload("message d'un canal sans mention", channel="C0X", channel_type="channel"),
        {**event_payload("x"), "event": {**event_payload("écho du bot")["event"], "bot_id": "B0BOT"}},
        {**event_payload("x"), "event": {**event_payload("rejoint")["event"], "subtype": "channel_join"}},
    ],
    ids=["channel-without-mention", "bot-message", "channel-join"],
)
async def test_messages_not_for_the_bot_are_ignored(
    server: Server, slack_api: SlackStandIn, payload: Dict[str, Any]
) -> None:
    assert (await server.send(payload)).status == 200
    await asyncio.sleep(0.3)
    assert server.assistant.received == []
    assert slack_api.messages == []


async def test_failure_of_the_assistant_gives_the_apology(server: Server, slack_api: SlackStandIn) -> None:
    await server.send(event_payload("boum"))
    messages = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert messages[0].text == APOLOGY.replace("&", "&amp;")


async def test_restart_typed_by_the_user_is_confirmed_not_apologised(server: Server, slack_api: SlackStandIn) -> None:
    # Rasa restarts the conversation and says nothing (no utter_restart in the domain): the
    # stand-in answers "/restart" with silence, as Rasa's action_restart does.
    server.assistant.silent.add("/restart")
    await server.send(event_payload("/restart"))
    messages = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert messages[0].text == RESTARTED.replace("&", "&amp;")


async def test_empty_mention_gets_a_hint_without_reaching_the_assistant(
    server: Server, slack_api: SlackStandIn
) -> None:
    await server.send(event_payload("<@U0URBACTBOT>", channel="C0X", event_type="app_mention"))
    messages = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert "Écrivez votre question" in messages[0].text
    assert server.assistant.received == []


async def test_too_long_message_is_explained_in_french(server: Server, slack_api: SlackStandIn) -> None:
    await server.send(event_payload("a" * 2500))
    messages = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert "trop long" in messages[0].text
    assert server.assistant.received == []


async def test_button_click_reaches_the_assistant_and_is_answered_in_the_thread(
    server: Server, slack_api: SlackStandIn
) -> None:
    interaction = {
        "type": "block_actions",
        "user": {"id": "U0BOB"},
        "channel": {"id": "D0BOB"},
        "message": {"ts": "1700000001.000200"},
        "trigger_id": "123.456.abc",
        "actions": [{"type": "button", "value": "/request_handoff", "action_id": "choice_0"}],
    }
    body = aiohttp.FormData({"payload": json.dumps(interaction)})()._value  # urlencoded bytes
    headers = signed_headers(SECRET, body, content_type="application/x-www-form-urlencoded")
    assert (await server.post(body, headers)).status == 200
    messages = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert messages[0].channel == "D0BOB"
    assert messages[0].thread_ts == "1700000001.000200"
    assert server.assistant.received[0].text == "/request_handoff"
    assert server.assistant.received[0].sender_id == "U0BOB"
    assert server.assistant.received[0].metadata["user"] == "U0BOB"
    assert server.assistant.received[0].metadata["direct_message"] is True


async def test_buttons_are_sent_as_blocks_with_a_readable_text(slack_api: SlackStandIn) -> None:
    slack_api.clear()
    bot = UrbactSlackBot(TOKEN, "D0ALICE", "1700000000.1", base_url=slack_api.base_url)
    await bot.send_text_with_buttons(
        "D0ALICE", "Acceptez-vous ?", [{"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}]
    )
    message = (await slack_api.async_wait_for(lambda m: len(m) == 1))[0]
    assert "• Oui" in message.text and "• Non" in message.text
    assert message.body["blocks"][1]["elements"][0]["value"] == "/affirm"
    assert "as_user" not in message.body
    assert message.thread_ts == "1700000000.1"


async def test_more_than_five_buttons_become_a_text_list(slack_api: SlackStandIn) -> None:
    slack_api.clear()
    bot = UrbactSlackBot(TOKEN, "D0ALICE", base_url=slack_api.base_url)
    buttons = [{"title": f"Sujet {i}", "payload": f"/s{i}"} for i in range(7)]
    await bot.send_text_with_buttons("D0ALICE", "Choisissez :", buttons)
    message = (await slack_api.async_wait_for(lambda m: len(m) == 1))[0]
    assert "blocks" not in message.body
    assert all(f"• Sujet {i}" in message.text for i in range(7))


async def test_slack_outage_while_answering_is_logged_not_raised(slack_api: SlackStandIn) -> None:
    slack_api.clear()
    slack_api.available = False
    try:
        bot = UrbactSlackBot(TOKEN, "D0ALICE", base_url=slack_api.base_url)
        await bot.send_text_message("D0ALICE", "Bonjour")
        assert bot.failed == 1 and bot.sent == 0
    finally:
        slack_api.available = True


def test_api_base_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_API_BASE_URL", raising=False)
    assert resolve_api_base_url() == "https://slack.com/api/"
    monkeypatch.setenv("SLACK_API_BASE_URL", "http://127.0.0.1:9999/api")
    assert resolve_api_base_url() == "http://127.0.0.1:9999/api/"
    channel = UrbactSlackInput.from_credentials(
        {"slack_token": TOKEN, "slack_signing_secret": SECRET, "slack_staff_channel": "#C0STAFF"}
    )
    assert channel.api_base_url == "http://127.0.0.1:9999/api/"
    assert channel.use_threads is True
    assert channel.staff_channel == "C0STAFF"
    assert channel.name() == "slack"
