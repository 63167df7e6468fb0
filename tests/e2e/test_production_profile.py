"""The production profile for real: conversations in PostgreSQL, locks in Redis."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg2
import pytest
import redis

from bot.ops.launcher import ROOT, Assistant, current_model

TRACKER_DB = "urbact_tracker_e2e"
# The servers `make test` tests against (tests/support/ensure_services.py).
PG_PORT = int(os.environ.get("TEST_POSTGRES_PORT") or 5432)
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT") or 6379)


def ensure_database(name: str) -> None:
    connection = psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="postgres", dbname="postgres")
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
        "TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": str(PG_PORT), "TRACKER_DB_NAME": TRACKER_DB,
        "TRACKER_DB_USER": "postgres", "TRACKER_DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(REDIS_PORT), "REDIS_DB": "1",
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

    with psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="postgres", dbname=TRACKER_DB) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM events WHERE sender_id = %s AND type_name = 'user'",
                (f"rest:{sender}",),  # the REST channel keeps its conversations apart
            )
            assert cursor.fetchone()[0] == 1


def test_redis_serves_as_lock_store(production_assistant) -> None:
    """Rasa takes each conversation's ticket lock in Redis (db 1, prefix `urbact`), and waits on it.

    We hold the conversation's lock ourselves through Rasa's own RedisLockStore, on the same
    Redis database and key prefix as endpoints.production.yml, then send a message: Rasa must
    queue its ticket behind ours in that Redis key and not answer until we let go; then it
    answers and removes the key. An assistant whose locks were anywhere else (in memory,
    another database or prefix) would answer at once and never touch the key.
    """
    from rasa.core.lock_store import RedisLockStore

    sender = f"prod-{uuid.uuid4().hex[:8]}"
    conversation = f"rest:{sender}"  # the REST channel keeps its conversations apart
    locks = RedisLockStore(host="127.0.0.1", port=REDIS_PORT, db=1, key_prefix="urbact")
    raw = redis.Redis(host="127.0.0.1", port=REDIS_PORT, db=1)
    key = f"urbact:lock:{conversation}"
    assert raw.exists(key) == 0

    ours = locks.issue_ticket(conversation, lock_lifetime=60)  # we are now serving
    replies: list = []
    turn = threading.Thread(target=lambda: replies.extend(ask(production_assistant.rest_url, sender, "bonjour")))
    turn.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            lock = locks.get_lock(conversation)
            if lock is not None and len(lock.tickets) == 2:
                break
            time.sleep(0.1)
        lock = locks.get_lock(conversation)
        assert lock is not None and len(lock.tickets) == 2, "Rasa never queued its ticket in Redis"
        assert lock.now_serving == ours and lock.last_issued == ours + 1
        time.sleep(2)
        assert turn.is_alive() and replies == [], "Rasa answered while we held the conversation's lock"
    finally:
        locks.cleanup(conversation, ours)  # let go: Rasa's ticket is served next
    turn.join(timeout=30)
    assert not turn.is_alive()
    assert replies and "Désolé" not in replies[0].get("text", "")
    assert raw.exists(key) == 0  # Rasa removed its lock once the turn was done
