"""Retention purge and erasure of stored conversations (bot/ops/purge_conversations.py).

Rasa environment, real PostgreSQL and SQLite (the embedded default's recording): each test creates a throwaway database, lets Rasa's own
SQLTrackerStore write conversations into it, runs the command, and reads them back through
the same store. Fails (not skipped) when PostgreSQL is unreachable.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, List

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.insights import store
from bot.ops import purge_conversations

NOW = time.time()
DAY = 86400.0


@pytest.fixture
def tracker_db(throwaway_postgres_url: str) -> str:
    return throwaway_postgres_url


def store_for(url: str) -> SQLTrackerStore:
    parsed = make_url(url)
    return SQLTrackerStore(Domain.empty(), dialect="postgresql", host=parsed.host, port=parsed.port or 5432,
                           db=parsed.database, username=parsed.username, password=parsed.password)


def conversation(sender: str, days_ago: List[float], text: str = "bonjour") -> DialogueStateTracker:
    events = []
    for age in days_ago:
        stamp = NOW - age * DAY
        events += [UserUttered(text, timestamp=stamp), ActionExecuted("utter_greet", timestamp=stamp),
                   BotUttered("Bonjour !", timestamp=stamp)]
    return DialogueStateTracker.from_events(sender, events)


async def seed(store: SQLTrackerStore) -> None:
    await store.save(conversation("rest:old", [120, 100]))
    await store.save(conversation("rest:recent", [10]))
    # began long ago, still going on: kept whole
    await store.save(conversation("rest:ongoing", [200, 1]))
    jeanne = conversation("socketio:jeanne", [5], text="Jeanne_Martin@Saint-Aubin.fr")
    jeanne.update(SlotSet("handoff_email", "Jeanne_Martin@Saint-Aubin.fr", timestamp=NOW))
    await store.save(jeanne)
    await store.save(conversation("slack:U123", [3]))



async def _keys(store: SQLTrackerStore) -> List[str]:
    keys = await store.keys()
    return list(keys)


async def test_retention_deletes_conversations_whose_last_event_is_old(tracker_db, capsys) -> None:
    store = store_for(tracker_db)
    await seed(store)
    assert purge_conversations.purge(tracker_db, 90, dry_run=True) == 0
    assert "1 conversation(s) (6 événement(s)) à supprimer" in capsys.readouterr().out
    assert len(await _keys(store)) == 5
    assert purge_conversations.main(["--tracker-url", tracker_db]) == 0  # default: 90 days
    assert "1 conversation(s) (6 événement(s)) supprimée(s)" in capsys.readouterr().out
    assert set(await _keys(store)) == {"rest:recent", "rest:ongoing", "socketio:jeanne", "slack:U123"}
    ongoing = await store.retrieve("rest:ongoing")
    assert len(ongoing.events) == 6  # never cut in the middle


async def test_retention_reads_conversation_retention_days(tracker_db, monkeypatch, capsys) -> None:
    store = store_for(tracker_db)
    await seed(store)
    monkeypatch.setenv("CONVERSATION_RETENTION_DAYS", "7")
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_db)
    assert purge_conversations.main([]) == 0
    assert set(await _keys(store)) == {"rest:ongoing", "socketio:jeanne", "slack:U123"}
    assert "jeanne" not in capsys.readouterr().out.lower()


async def test_erasure_by_sender_id_and_by_typed_email(tracker_db, capsys) -> None:
    store = store_for(tracker_db)
    await seed(store)
    assert purge_conversations.main(
        ["--tracker-url", tracker_db, "--sender-id", "slack:U123", "--email", "jeanne_martin@saint-aubin.FR"]
    ) == 0
    assert set(await _keys(store)) == {"rest:old", "rest:recent", "rest:ongoing"}
    # '_' of the address is not a wildcard: no other conversation matches
    assert purge_conversations.main(["--tracker-url", tracker_db, "--email", "jeanneXmartin@saint-aubin.fr"]) == 0
    assert len(await _keys(store)) == 3


def test_unreachable_store_exits_2_without_password(capsys) -> None:
    url = "postgresql://postgres:secret@127.0.0.1:1/nowhere"
    assert purge_conversations.purge(url, 90) == 2
    err = capsys.readouterr().err
    assert "Base des conversations indisponible" in err and "secret" not in err


def test_without_a_store_setting_the_recorded_sqlite_file_is_purged(tmp_path, monkeypatch, capsys) -> None:
    """The embedded default records in var/conversations.db: the purge applies to it."""
    for name in ("TRACKER_STORE_URL", "TRACKER_DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    recorded = tmp_path / "conversations.db"
    monkeypatch.setattr(store, "DEFAULT_CONVERSATIONS_DB", recorded)
    assert purge_conversations.main(["--dry-run"]) == 0
    assert "rien à purger" in capsys.readouterr().out and not recorded.exists()

    sqlite_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(recorded))
    await_all(sqlite_store.save(conversation("rest:old", [120])), sqlite_store.save(conversation("rest:recent", [2])))
    assert purge_conversations.main([]) == 0
    assert "1 conversation(s) (3 événement(s)) supprimée(s)" in capsys.readouterr().out
    assert list(asyncio.run(sqlite_store.keys())) == ["rest:recent"]


def test_erasure_by_typed_email_on_the_recorded_sqlite_file(tmp_path, monkeypatch) -> None:
    for name in ("TRACKER_STORE_URL", "TRACKER_DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    recorded = tmp_path / "conversations.db"
    monkeypatch.setattr(store, "DEFAULT_CONVERSATIONS_DB", recorded)
    sqlite_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(recorded))
    await_all(sqlite_store.save(conversation("rest:jeanne", [1], text="jeanne@ville.fr")),
              sqlite_store.save(conversation("rest:autre", [1])))
    assert purge_conversations.main(["--email", "Jeanne@Ville.fr"]) == 0
    assert list(asyncio.run(sqlite_store.keys())) == ["rest:autre"]


def await_all(*coroutines: Any) -> None:
    async def run() -> None:
        for coroutine in coroutines:
            await coroutine

    asyncio.run(run())
