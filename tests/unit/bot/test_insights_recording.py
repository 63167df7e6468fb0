"""The embedded default's recording store (bot/insights/recording.py) is Rasa's SQL tracker store.

Each test runs Rasa's own SQLTrackerStore and ours on SQLite files: same rows written, same
trackers read back (latest session and all sessions), and endpoints.yml, read by Rasa,
really gives our store (Rasa would fall back to memory, with only a warning, otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any, List

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot import fail_closed
from bot.insights.recording import RecordingTrackerStore
from bot.insights.synthetic import TURNS, conversation_events, turn_events
from bot.ops.launcher import ROOT, own_recording

START = 1_700_000_000.0


def rows(path: Path) -> List[Any]:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
        ).fetchall()


async def play(store: TrackerStore) -> None:
    """Two conversations, the second one over two sessions, saved turn by turn as Rasa does."""
    for sender, turns in (("a", TURNS[:3]), ("b", TURNS[3:6])):
        tracker = DialogueStateTracker(sender, [])
        for event in conversation_events(turns[:1], START):
            tracker.update(event)
        await store.save(tracker)
        for offset, turn in enumerate(turns[1:], start=1):
            tracker = await store.retrieve(sender)
            assert tracker is not None
            for event in turn_events(turn, START + 100 * offset):
                tracker.update(event)
            await store.save(tracker)
    tracker = await store.retrieve("b")
    assert tracker is not None
    for event in [ActionExecuted("action_session_start", timestamp=START + 9000),
                  SessionStarted(timestamp=START + 9000), SlotSet("quiz_active", True, timestamp=START + 9000),
                  *turn_events(TURNS[0], START + 9001)]:
        tracker.update(event)
    await store.save(tracker)


def test_same_rows_and_same_trackers_as_rasas_sql_tracker_store(tmp_path: Path) -> None:
    domain = Domain.load(str(ROOT / "domain.yml"))
    rasa_store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    ours = RecordingTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "ours.db"))
    asyncio.run(play(rasa_store))
    asyncio.run(play(ours))
    assert rows(tmp_path / "ours.db") == rows(tmp_path / "rasa.db") and len(rows(tmp_path / "ours.db")) > 30

    async def read(store: TrackerStore, sender: str, full: bool) -> List[Any]:
        tracker = await (store.retrieve_full_tracker(sender) if full else store.retrieve(sender))
        return [event.as_dict() for event in tracker.events] if tracker else []

    for sender in ("a", "b", "nobody"):
        for full in (False, True):
            assert asyncio.run(read(ours, sender, full)) == asyncio.run(read(rasa_store, sender, full))
    assert len(asyncio.run(read(ours, "b", False))) < len(asyncio.run(read(ours, "b", True)))  # latest session
    assert sorted(asyncio.run(ours.keys())) == ["a", "b"]


def test_endpoints_yml_gives_the_recording_store_with_the_fail_closed_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:1/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "t" * 32)
    fail_closed.apply()
    endpoints, recording = own_recording(ROOT / "endpoints.yml", tmp_path)  # the launcher's copy
    assert recording == tmp_path / "conversations.db"
    with caplog.at_level(logging.WARNING):
        store = TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"), Domain.empty())
    assert isinstance(store, RecordingTrackerStore), caplog.text
    assert store.engine.url.database == str(recording)
    assert store.engine.pool._pre_ping and store.engine.hide_parameters  # bot/fail_closed.py's engine
    with sqlite3.connect(recording) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_broken_store_refuses_the_message(tmp_path: Path) -> None:
    """FailSafeTrackerStore wraps ours as any store: bot/fail_closed.py's refusal applies."""
    fail_closed.apply()
    path = tmp_path / "conversations.db"
    store = FailSafeTrackerStore(RecordingTrackerStore(Domain.empty(), dialect="sqlite", db=str(path)))
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE events")
    with pytest.raises(fail_closed.ConversationStoreUnavailable):
        asyncio.run(store.retrieve("a"))
    with pytest.raises(fail_closed.ConversationStoreUnavailable):
        asyncio.run(store.save(DialogueStateTracker.from_events("a", conversation_events(TURNS[:1], START))))
