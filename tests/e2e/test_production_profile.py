"""The production profile for real: conversations in PostgreSQL, locks in Redis."""

from __future__ import annotations

import json
import urllib.request
import os
import uuid
from pathlib import Path

import psycopg2
import pytest
import redis

from bot.ops.launcher import ROOT, Assistant, current_model

TRACKER_DB = "urbact_tracker_e2e"


def ensure_database(name: str) -> None:
    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


@pytest.fixture(scope="module")
def production_assistant():
    ensure_database(TRACKER_DB)
    env = {
        "TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": "5432", "TRACKER_DB_NAME": TRACKER_DB,
        "TRACKER_DB_USER": "postgres", "TRACKER_DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": "1",
    }
    assistant = Assistant.launch(model=Path(os.environ.get("E2E_MODEL") or current_model()), endpoints=ROOT / "endpoints.production.yml", extra_env=env)
    try:
        assistant.wait_ready(timeout=180)
        yield assistant
    finally:
        assistant.stop()


def ask(url: str, sender: str, text: str) -> list:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_conversation_is_stored_in_postgresql(production_assistant) -> None:
    sender = f"prod-{uuid.uuid4().hex[:8]}"
    replies = ask(production_assistant.rest_url, sender, "c'est quoi URBACT ?")
    assert "URBACT" in " ".join(reply.get("text", "") for reply in replies)

    with psycopg2.connect(host="127.0.0.1", user="postgres", dbname=TRACKER_DB) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM events WHERE sender_id = %s AND type_name = 'user'",
                (f"rest:{sender}",),  # the REST channel keeps its conversations apart
            )
            assert cursor.fetchone()[0] == 1


def test_redis_serves_as_lock_store(production_assistant) -> None:
    replies = ask(production_assistant.rest_url, f"prod-{uuid.uuid4().hex[:8]}", "bonjour")
    assert replies and "Désolé" not in replies[0].get("text", "")
    # Rasa's Redis lock store holds a connection on database 1; we inspect from database 0.
    inspector = redis.Redis(host="127.0.0.1", port=6379, db=0)
    assert any(client.get("db") == "1" for client in inspector.client_list())
