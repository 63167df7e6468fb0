"""bot/fail_closed.py: when the conversation store fails, Rasa's own wrapper refuses the message.

The store is Rasa's real SQLTrackerStore on a SQLite file, wrapped the way Rasa's Agent
wraps it (FailSafeTrackerStore); the failure is real: its table is dropped underneath it.
(tests/e2e/test_faults.py stops and starts a real PostgreSQL under a running assistant.)
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import fail_closed

SECRET_TEXT = "je suis Jeanne Martin, jeanne@example.org"


@pytest.fixture
def store(tmp_path: Path) -> FailSafeTrackerStore:
    fail_closed.apply()
    database = tmp_path / "tracker.db"
    primary = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(database))
    return FailSafeTrackerStore(primary)


def break_store(store: FailSafeTrackerStore) -> None:
    database = store._tracker_store.engine.url.database
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE events")


def tracker_with_a_message(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(UserUttered(SECRET_TEXT))
    return tracker


async def test_a_working_store_still_stores_and_reads(store: FailSafeTrackerStore) -> None:
    await store.save(tracker_with_a_message("a"))
    tracker = await store.retrieve("a")
    assert tracker is not None and tracker.latest_message.text == SECRET_TEXT


async def test_reading_from_a_failed_store_refuses_instead_of_an_empty_conversation(
    store: FailSafeTrackerStore,
) -> None:
    await store.save(tracker_with_a_message("a"))
    break_store(store)
    with pytest.raises(fail_closed.ConversationStoreUnavailable):
        await store.retrieve("a")  # Rasa's wrapper alone returns None: a new, empty conversation
    with pytest.raises(fail_closed.ConversationStoreUnavailable):
        await store.retrieve_full_tracker("a")


async def test_writing_to_a_failed_store_keeps_nothing_in_memory(store: FailSafeTrackerStore) -> None:
    break_store(store)
    with pytest.raises(fail_closed.ConversationStoreUnavailable):
        await store.save(tracker_with_a_message("b"))
    assert store._fallback_tracker_store is None  # Rasa's wrapper alone saves it in memory


async def test_the_refusal_logs_one_line_without_what_was_typed(
    store: FailSafeTrackerStore, caplog: pytest.LogCaptureFixture
) -> None:
    break_store(store)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(fail_closed.ConversationStoreUnavailable) as refused:
        await store.save(tracker_with_a_message("b"))
    lines = [record for record in caplog.records if record.name == fail_closed.__name__]
    assert len(lines) == 1 and "injoignable" in lines[0].getMessage()
    everything = caplog.text + str(refused.value)
    assert "jeanne" not in everything.lower() and "Martin" not in everything


def test_the_engine_checks_connections_and_hides_parameters(store: FailSafeTrackerStore) -> None:
    engine = store._tracker_store.engine
    assert engine.pool._pre_ping is True
    assert engine.hide_parameters is True
