"""'stats de la semaine' for the staff: the command, who may use it, the figures from a real
recorded store (Rasa's SQLTrackerStore on SQLite), the chart uploaded to the Slack stand-in,
and the Slack channel answering it before NLU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, AsyncIterator, Dict

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels import slack_stats
from bot.channels.slack import UrbactSlackInput
from bot.channels.slack_stats import (
    UNAVAILABLE_TEXT,
    WRONG_PLACE_TEXT,
    Asker,
    NotPosted,
    WeeklyFigures,
    asker,
    figures_text,
    is_stats_request,
    post_figures,
    weekly_figures,
)
from tests.support.recorded_week import EMAIL, SENDERS
from tests.support.sanic_server import served
from tests.support.slack_standin import Answer, SlackStandIn, event_payload, signed_headers, standin_fixture
from tests.unit.bot.test_slack_channel import FakeAssistant, Server

TOKEN = "test-bot-token"
SECRET = "test-signing-secret"
STAFF = "U0STAFF1"
PNG = b"\x89PNG\r\n\x1a\nchart"


slack_api = standin_fixture(TOKEN)


# -- the command and who may use it ---------------------------------------------------


@pytest.mark.parametrize("text", [
    "stats de la semaine", "Stats de la semaine", "STATS DE LA SEMAINE !", "  stats  de la  Semaine ? ",
    "stâts de la sémaine", "Statistiques de la semaine.",
])
def test_stats_request_variants(text: str) -> None:
    assert is_stats_request(text)


@pytest.mark.parametrize("text", ["stats", "stats de la semaine prochaine", "les stats du mois", ""])
def test_other_messages_are_not_stats_requests(text: str) -> None:
    assert not is_stats_request(text)


def test_only_allow_listed_staff_in_their_places_get_the_stats() -> None:
    staff = frozenset({STAFF})
    assert asker({"user": STAFF, "direct_message": True}, staff) is Asker.STAFF
    assert asker({"user": STAFF, "staff_channel": True}, staff) is Asker.STAFF
    assert asker({"user": STAFF, "direct_message": False, "staff_channel": False}, staff) is Asker.STAFF_ELSEWHERE
    assert asker({"user": "U0VISITOR", "direct_message": True}, staff) is Asker.OTHER
    assert asker({"direct_message": True}, staff) is Asker.OTHER
    assert asker({"user": STAFF, "direct_message": True}, frozenset()) is Asker.OTHER


# -- the figures ----------------------------------------------------------------------


def test_figures_come_from_the_recorded_conversations(recorded_store: Path) -> None:
    figures = weekly_figures()
    assert "2 conversations, 3 messages des visiteurs" in figures.text
    assert "33 % des messages ; 1 message à revoir" in figures.text
    assert "Faut-il parler anglais ? (1)" in figures.text
    assert "Villes citées : Nantes (1)" in figures.text
    assert "Demandes de contact : aucune" in figures.text
    assert EMAIL not in figures.text and all(sender not in figures.text for sender in SENDERS)
    assert figures.chart_png is not None and figures.chart_png.startswith(b"\x89PNG")


def test_unreadable_store_gives_figures_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://urbact:motdepasse@127.0.0.1:1/absente")
    with pytest.raises(slack_stats.FiguresUnavailable) as caught:
        weekly_figures()
    assert "motdepasse" not in str(caught.value)


def test_figures_text_of_a_summary() -> None:
    summary: Dict[str, Any] = {
        "period": {"since": "2026-11-23", "until": "2026-11-29"}, "conversations": 12, "user_messages": 40,
        "fallback_rate": 0.125, "top_topics": [{"topic": "Financement du programme", "count": 9}],
        "myths": {"myth_time": 0, "myth_english": 3}, "asked_cities": [], "asked_networks": [{"name": "Eat4Climate", "count": 2}],
        "unanswered": [{"text": "tartiflette", "count": 4}, {"text": "météo", "count": 1}],
        "handoffs": {"delivered": 2, "handled": 1}, "feedback": {"up": 5, "down": 1},
    }
    assert figures_text(summary).splitlines() == [
        "*Statistiques du 23/11/2026 au 29/11/2026*",
        "• 12 conversations, 40 messages des visiteurs",
        "• Non compris (reformulation demandée) : 12 % des messages ; 5 messages à revoir",
        "• Sujets les plus demandés : Financement du programme (9)",
        "• Idées reçues : Faut-il parler anglais ? (3)",
        "• Villes citées : aucun ; réseaux cités : Eat4Climate (2)",
        "• Demandes de contact : 2 transmises, 1 traitées",
        "• Avis des visiteurs : 5 « utile », 1 « pas utile »",
    ]


# -- posting to Slack -----------------------------------------------------------------


def client(slack_api: SlackStandIn, token: str = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack_api.base_url, timeout=5)


async def test_chart_is_uploaded_with_the_figures_as_its_comment(slack_api: SlackStandIn) -> None:
    slack_api.clear()
    await post_figures(client(slack_api), "C0STAFF", WeeklyFigures("*Statistiques*", PNG), thread_ts="1700.1")
    [uploaded] = slack_api.files
    assert (uploaded.data, uploaded.channel, uploaded.thread_ts) == (PNG, "C0STAFF", "1700.1")
    assert (uploaded.filename, uploaded.initial_comment) == ("messages-par-jour.png", "*Statistiques*")
    assert [m.text for m in slack_api.messages if m.channel == "C0STAFF"] == ["*Statistiques*"]
    assert [c.method for c in slack_api.calls()] == ["files.getUploadURLExternal", "files.completeUploadExternal"]


async def test_without_a_chart_the_figures_are_posted_as_text(slack_api: SlackStandIn) -> None:
    slack_api.clear()
    await post_figures(client(slack_api), "C0STAFF", WeeklyFigures("*Statistiques*", None))
    assert slack_api.files == []
    assert [m.text for m in slack_api.messages] == ["*Statistiques*"]


async def test_refused_upload_raises_not_posted(slack_api: SlackStandIn) -> None:
    slack_api.clear()
    slack_api.script("files.completeUploadExternal", Answer(status=500))
    with pytest.raises(NotPosted, match="C0STAFF"):
        await post_figures(client(slack_api), "C0STAFF", WeeklyFigures("x", PNG))
    with pytest.raises(NotPosted, match="invalid_auth"):
        await post_figures(client(slack_api, token="wrong"), "C0STAFF", WeeklyFigures("x", PNG))
    assert slack_api.files == []


# -- in the Slack channel, before NLU -------------------------------------------------


@pytest.fixture()
async def server(slack_api: SlackStandIn) -> AsyncIterator[Server]:
    slack_api.clear()
    channel = UrbactSlackInput(TOKEN, SECRET, staff_channel="C0STAFF", api_base_url=slack_api.base_url,
                               staff_user_ids=frozenset({STAFF}))
    assistant = FakeAssistant()
    async with served(channel.blueprint(assistant), "/webhooks/slack") as base_url:
        yield Server(f"{base_url}/webhooks/slack/webhook", assistant, channel)


async def send(server: Server, payload: Dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    response = await server.post(body, signed_headers(SECRET, body))
    assert response.status == 200


async def test_staff_direct_message_gets_figures_and_chart_without_nlu(
    server: Server, slack_api: SlackStandIn, recorded_store: Path
) -> None:
    payload = event_payload("Stats de la semaine !", user=STAFF, channel="D0STAFFDM")
    await send(server, payload)
    [shared] = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert shared.channel == "D0STAFFDM" and shared.thread_ts == payload["event"]["ts"]
    assert "2 conversations, 3 messages des visiteurs" in shared.text
    [uploaded] = slack_api.files
    assert uploaded.data.startswith(b"\x89PNG") and uploaded.channel == "D0STAFFDM"
    assert server.assistant.received == []


async def test_staff_mention_in_the_staff_channel_gets_the_figures(
    server: Server, slack_api: SlackStandIn, recorded_store: Path
) -> None:
    await send(server, event_payload("<@U0URBACTBOT> stats de la semaine", user=STAFF, channel="C0STAFF",
                                     event_type="app_mention"))
    [shared] = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert shared.channel == "C0STAFF" and "Statistiques du" in shared.text
    assert server.assistant.received == []


async def test_anyone_else_gets_the_normal_assistant(server: Server, slack_api: SlackStandIn) -> None:
    await send(server, event_payload("stats de la semaine", user="U0VISITOR", channel="D0VISITOR"))
    [answer] = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert answer.text == "Réponse : stats de la semaine"
    assert [m.text for m in server.assistant.received] == ["stats de la semaine"]
    assert slack_api.files == [] and slack_api.calls("files.getUploadURLExternal") == []


async def test_staff_in_another_channel_is_told_where_to_ask(server: Server, slack_api: SlackStandIn) -> None:
    await send(server, event_payload("<@U0URBACTBOT> stats de la semaine", user=STAFF, channel="C0PUBLIC",
                                     event_type="app_mention"))
    [answer] = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert (answer.channel, answer.text) == ("C0PUBLIC", WRONG_PLACE_TEXT)
    assert slack_api.files == [] and server.assistant.received == []


async def test_unreadable_store_is_said_in_french(
    server: Server, slack_api: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://urbact@127.0.0.1:1/absente")
    await send(server, event_payload("stats de la semaine", user=STAFF, channel="D0STAFFDM"))
    [answer] = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert answer.text == UNAVAILABLE_TEXT
    assert server.assistant.received == []


async def test_chart_refused_still_gives_the_figures(
    server: Server, slack_api: SlackStandIn, recorded_store: Path
) -> None:
    slack_api.script("files.completeUploadExternal", Answer(status=500))
    await send(server, event_payload("stats de la semaine", user=STAFF, channel="D0STAFFDM"))
    [answer] = await slack_api.async_wait_for(lambda m: len(m) == 1)
    assert "2 conversations" in answer.text and "graphique n'a pas pu être envoyé" in answer.text
    assert slack_api.files == []
