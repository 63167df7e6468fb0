"""The REST channel of the running assistant: answers, separate conversations, bad input."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Dict, List, Tuple

import pytest

from bot.channels.apology import APOLOGY


def post(url: str, body: Any) -> Tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def texts(replies: List[Dict[str, Any]]) -> str:
    return " ".join(str(reply.get("text", "")) for reply in replies)


def test_english_worry_gets_the_english_myth(assistant) -> None:
    status, replies = post(assistant.rest_url, {"sender": "t1", "message": "est-ce que notre équipe doit être bilingue ?"})
    assert status == 200
    answer = texts(replies).lower()
    assert "intox" in answer and ("bilingue" in answer or "anglais" in answer)


def test_greeting_offers_topic_buttons(assistant) -> None:
    _, replies = post(assistant.rest_url, {"sender": "t-greet", "message": "bonjour"})
    buttons = [button for reply in replies for button in reply.get("buttons", [])]
    assert len(buttons) >= 4
    assert all(button["payload"].startswith("/") for button in buttons)


def test_request_without_sender_is_refused_in_french(assistant) -> None:
    status, body = post(assistant.rest_url, {"message": "bonjour"})
    assert status == 400
    assert "sender" in body["error"]


def test_body_that_is_not_an_object_is_refused(assistant) -> None:
    status, body = post(assistant.rest_url, b"[1, 2]")
    assert status == 400
    assert "JSON" in body["error"]


def test_conversations_of_two_senders_stay_apart(assistant) -> None:
    post(assistant.rest_url, {"sender": "quiz-a", "message": "lancez le quiz"})
    # "intox" from someone who never started the quiz is not counted as a quiz answer
    _, replies = post(assistant.rest_url, {"sender": "quiz-b", "message": "intox"})
    assert "Votre score" not in texts(replies)
    assert "quiz" in texts(replies).lower()


@pytest.fixture(scope="module")
def assistant_without_actions(assistant_launcher):
    """The assistant with an action server that cannot be reached."""
    return assistant_launcher(extra_env={"ACTION_SERVER_URL": "http://127.0.0.1:9/webhook"})


def test_unreachable_action_server_gives_an_apology_not_silence(assistant_without_actions) -> None:
    status, replies = post(assistant_without_actions.rest_url, {"sender": "t-down", "message": "lancez le quiz"})
    assert status == 200
    assert texts(replies) == APOLOGY
