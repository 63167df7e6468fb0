"""Faults under a running assistant: real processes killed, real servers stopped.

- the action server killed (`kill -9`) in the middle of the hand-off form, and right after
  it stored a request but before the visitor saw the confirmation; then restarted;
- PostgreSQL (conversation store) stopped and started during a conversation;
- Redis (conversation locks) stopped and started during a conversation;
- five messages at once from one sender.

What must hold each time: nothing stored twice, nothing lost, and the visitor told the
truth (a French apology when the message was not handled, never an answer made from an
empty conversation). PostgreSQL and Redis are the test's own (bot/ops/
services.py), so stopping them leaves the machine's shared servers alone; the
hand-off database is a copy of var/urbact.db of the test's own.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List

import psycopg2
import pytest
import requests

from bot.channels.apology import APOLOGY
from bot.ops.launcher import ROOT, Assistant, free_port
from bot.ops.services import ThrowawayPostgres, ThrowawayRedis
from tests.e2e.conftest import START_TIMEOUT_SECONDS, model_path
from tests.support.waiting import wait_until

TRACKER_DB = "urbact_tracker"
QUESTION = "Peut-on rejoindre un réseau de transfert sans expérience européenne ?"


def rest(assistant: Assistant, sender: str, text: str) -> str:
    answer = requests.post(assistant.rest_url, json={"sender": sender, "message": text}, timeout=90)
    assert answer.status_code == 200, answer.text
    return "\n".join(str(reply.get("text", "")) for reply in answer.json())


def start(tmp_path: Path, endpoints: Path = ROOT / "endpoints.yml", **env: str) -> Assistant:
    """An assistant of the test's own, with a private copy of the assistant's database."""
    database = tmp_path / "urbact.db"
    shutil.copy(ROOT / "var" / "urbact.db", database)
    extra = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "HANDOFF_DELIVERY_LOOP": "off", **env}
    assistant = Assistant.launch(model=model_path(), endpoints=endpoints, extra_env=extra)
    try:
        assistant.wait_ready(timeout=START_TIMEOUT_SECONDS)
    except (RuntimeError, TimeoutError) as error:
        assistant.stop()
        pytest.fail(f"L'assistant n'a pas démarré : {error}", pytrace=False)
    return assistant


def requests_stored(assistant: Assistant, email: str) -> List[Any]:
    path = assistant.env["DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT id FROM handoff_requests WHERE email = ?", (email,)).fetchall()


def open_form(assistant: Assistant, sender: str, name: str) -> None:
    assert "votre nom" in rest(assistant, sender, "je voudrais être contacté")
    assert "organisation" in rest(assistant, sender, name)


def finish_form(assistant: Assistant, sender: str, name: str, email: str) -> str:
    assert "e-mail" in rest(assistant, sender, "Mairie de Saint-Aubin")
    assert "question" in rest(assistant, sender, email).lower()
    recap = rest(assistant, sender, QUESTION)
    assert name in recap and "Acceptez-vous" in recap
    return rest(assistant, sender, "oui")


# --------------------------------------------------------------------------- action server


@pytest.fixture
def assistant(tmp_path: Path) -> Iterator[Assistant]:
    running = start(tmp_path)
    yield running
    running.stop()


def test_action_server_killed_during_the_form_then_restarted(assistant: Assistant) -> None:
    sender, name, email = f"kill-{uuid.uuid4().hex[:6]}", "Lucie Coupure", "lucie@saint-aubin.fr"
    open_form(assistant, sender, name)

    assistant.kill_actions()
    assert rest(assistant, sender, "Mairie de Saint-Aubin") == APOLOGY  # not handled, and said so
    assert requests_stored(assistant, email) == []

    assistant.restart_actions()
    final = finish_form(assistant, sender, name, email)  # the form goes on where it was: the name is kept
    stored = requests_stored(assistant, email)
    assert len(stored) == 1 and f"n° {stored[0][0]}" in final


@pytest.fixture
def slack_that_never_answers() -> Iterator[str]:
    """A port that accepts connections and never answers: a Slack post hangs until its deadline."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/"


def test_action_server_killed_after_storing_a_request_then_asked_again(
    tmp_path: Path, slack_that_never_answers: str
) -> None:
    """Killed between the commit and the confirmation: the visitor never saw the number. The
    visitor is told of a problem; asking again gives the stored request, not a second one."""
    slack = {"SLACK_TOKEN": "xoxb-test", "SLACK_STAFF_CHANNEL": "C0STAFF", "HANDOFF_SLACK_TIMEOUT_SECONDS": "30"}
    assistant = start(tmp_path, SLACK_API_BASE_URL=slack_that_never_answers, **slack)
    try:
        sender, name, email = f"lost-{uuid.uuid4().hex[:6]}", "Marc Perdu", "marc@saint-aubin.fr"
        open_form(assistant, sender, name)
        replies: List[str] = []
        consent = threading.Thread(target=lambda: replies.append(finish_form(assistant, sender, name, email)))
        consent.start()
        wait_until(lambda: len(requests_stored(assistant, email)) == 1, 60, "the request stored")
        assistant.kill_actions()  # stored, now posting to Slack: the confirmation is never sent
        consent.join(timeout=60)
        assert replies == [APOLOGY]

        assistant.env["SLACK_API_BASE_URL"] = f"http://127.0.0.1:{free_port()}/api/"  # refused at once
        assistant.restart_actions()
        open_form(assistant, sender, name)
        final = finish_form(assistant, sender, name, email)
        stored = requests_stored(assistant, email)
        assert len(stored) == 1, "the request was stored twice"
        assert f"n° {stored[0][0]}" in final
    finally:
        assistant.stop()


# --------------------------------------------------------------------------- PostgreSQL and Redis


@pytest.fixture(scope="module")
def services() -> Iterator[Dict[str, Any]]:
    postgres, redis_server = ThrowawayPostgres(), ThrowawayRedis()
    try:
        postgres.create_database(TRACKER_DB)
        yield {"postgres": postgres, "redis": redis_server}
    finally:
        postgres.close()
        redis_server.close()


@pytest.fixture(scope="module")
def production(services: Dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    env = {
        "TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": str(services["postgres"].port),
        "TRACKER_DB_NAME": TRACKER_DB, "TRACKER_DB_USER": "postgres", "TRACKER_DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(services["redis"].port), "REDIS_DB": "0",
    }
    running = start(tmp_path_factory.mktemp("production"), ROOT / "endpoints.production.yml", **env)
    yield running
    running.stop()


def user_messages(services: Dict[str, Any], sender: str) -> List[str]:
    """The user messages of one REST conversation, in order, as stored in PostgreSQL."""
    postgres = services["postgres"]
    with psycopg2.connect(host="127.0.0.1", port=postgres.port, user="postgres", dbname=TRACKER_DB) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT data::json->>'text' FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id",
                (f"rest:{sender}",),
            )
            return [row[0] for row in cursor.fetchall()]


def test_postgresql_stopped_and_started_during_a_conversation(production: Assistant, services: Dict[str, Any]) -> None:
    sender, name = f"pg-{uuid.uuid4().hex[:6]}", "Anne Panne"
    open_form(production, sender, name)

    services["postgres"].stop()
    try:
        assert rest(production, sender, "Mairie de Saint-Aubin") == APOLOGY  # not answered from an empty conversation
    finally:
        services["postgres"].start()

    # The conversation goes on where it was (the form still waits for the organisation), and
    # the refused message was kept nowhere, in memory neither.
    assert "e-mail" in rest(production, sender, "Mairie de Saint-Aubin")
    assert user_messages(services, sender) == ["je voudrais être contacté", name, "Mairie de Saint-Aubin"]


def test_redis_stopped_and_started_during_a_conversation(production: Assistant, services: Dict[str, Any]) -> None:
    sender = f"redis-{uuid.uuid4().hex[:6]}"
    assert "URBACT" in rest(production, sender, "c'est quoi URBACT ?")

    services["redis"].stop()
    try:
        assert rest(production, sender, "lancez le quiz") == APOLOGY
    finally:
        services["redis"].start()

    assert "quiz" in rest(production, sender, "lancez le quiz").lower()
    assert user_messages(services, sender) == ["c'est quoi URBACT ?", "lancez le quiz"]


def test_five_messages_at_once_from_one_sender(production: Assistant, services: Dict[str, Any]) -> None:
    """Five requests of one conversation at the same moment: each is answered, in turn
    (Rasa's lock in Redis), and all five are stored, none lost nor mixed with another."""
    sender = f"five-{uuid.uuid4().hex[:6]}"
    questions = {
        "c'est quoi URBACT ?": "urbact",
        "est-ce que notre équipe doit être bilingue ?": "anglais",
        "lancez le quiz": "quiz",
        "bonjour": "bonjour",
        "merci beaucoup": "",
    }
    barrier = threading.Barrier(len(questions))

    def ask(text: str) -> str:
        barrier.wait(timeout=10)
        return rest(production, sender, text)

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        answers = dict(zip(questions, pool.map(ask, questions)))
    for text, expected in questions.items():
        assert answers[text] and answers[text] != APOLOGY, f"{text!r} got {answers[text]!r}"
        assert expected in answers[text].lower(), f"{text!r} got {answers[text]!r}"
    assert sorted(user_messages(services, sender)) == sorted(questions)
