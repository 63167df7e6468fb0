"""`make insights` on recorded conversations (bot/insights/, bot/ops/insights.py).

Rasa environment, real databases: the conversations are written by Rasa's own
SQLTrackerStore (its real schema) into a SQLite file and into a throwaway PostgreSQL
database (TEST_POSTGRES_ADMIN_URL), then read back by the command. Fails (not skipped) when
PostgreSQL is unreachable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import List, Tuple

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.insights import store
from bot.insights.synthetic import TURNS, Turn, conversation_events, large_store_rows, write_rows
from bot.ops import insights as command

TODAY = datetime.now(timezone.utc).date()
NOON = datetime.combine(TODAY, time(12), tzinfo=timezone.utc).timestamp()
EMAIL, PHONE = "jeanne.martin@ville-exemple.fr", "06 12 34 56 78"
OFF_TOPIC = Turn("Quel temps fera-t-il demain à Brest ?", "out_of_scope", "utter_out_of_scope")
PERSONAL = Turn(f"je m'appelle Jeanne Martin, écrivez-moi à {EMAIL} ou au {PHONE}", "nlu_fallback", "action_rephrase")


@pytest.fixture(params=["sqlite", "postgresql"])
def recorded(request: pytest.FixtureRequest, tmp_path: Path) -> Tuple[str, SQLTrackerStore]:
    """(URL, Rasa's SQLTrackerStore) of an empty conversation store."""
    if request.param == "sqlite":
        path = tmp_path / "conversations.db"
        store.prepare_sqlite_file(path)
        return f"sqlite:///{path}", SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    url = make_url(request.getfixturevalue("throwaway_postgres_url"))
    return url.render_as_string(hide_password=False), SQLTrackerStore(
        Domain.empty(), dialect="postgresql", host=url.host, port=url.port or 5432, db=url.database,
        username=url.username, password=url.password)


def save(tracker_store: SQLTrackerStore, sender: str, turns: List[Turn], start: float) -> None:
    tracker = DialogueStateTracker.from_events(sender, conversation_events(turns, start))
    asyncio.run(tracker_store.save(tracker))


def run_command(tmp_path: Path, url: str, *extra: str) -> Tuple[dict, str]:
    out = tmp_path / "report"
    assert command.main(["--conversations-url", url, "--database-url", f"sqlite:///{tmp_path / 'none.db'}",
                         "--out", str(out), *extra]) == 0
    return json.loads((out / "summary.json").read_text(encoding="utf-8")), (out / "index.html").read_text("utf-8")


def test_an_empty_period_gives_a_report_with_nothing_counted(recorded, tmp_path) -> None:
    url, tracker_store = recorded
    save(tracker_store, "rest:last-month", list(TURNS), NOON - 40 * 86400)
    summary, page = run_command(tmp_path, url)
    assert (summary["conversations"], summary["user_messages"], summary["unanswered"]) == (0, 0, [])
    assert "Aucun sur la période." in page
    for chart in ("messages_per_day", "top_topics", "fallback_rate"):
        assert (tmp_path / "report" / f"{chart}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_conversation_counted_and_personal_data_never_shown(recorded, tmp_path, capsys, caplog) -> None:
    url, tracker_store = recorded
    save(tracker_store, "rest:visiteur-42", list(TURNS) + [OFF_TOPIC, PERSONAL], NOON - 600)
    save(tracker_store, "rest:too-old", [TURNS[0]], NOON - 9 * 86400)
    with caplog.at_level(logging.DEBUG):
        summary, page = run_command(tmp_path, url, "--since", str(TODAY - timedelta(days=1)), "--until", str(TODAY))
    assert summary["period"] == {"since": str(TODAY - timedelta(days=1)), "until": str(TODAY)}
    assert (summary["conversations"], summary["user_messages"]) == (1, 10)
    assert summary["fallback_rate"] == 0.2
    assert {"text": OFF_TOPIC.text, "count": 1} in summary["unanswered"]
    assert {"text": "je m'appelle [nom], écrivez-moi à [e-mail] ou au [téléphone]", "count": 1} in summary["unanswered"]
    assert summary["asked_cities"] == [{"name": "Lyon", "count": 1}, {"name": "Nantes", "count": 1}]
    assert summary["feedback"] == {"up": 1, "down": 0} and summary["myths"]["myth_english"] == 1
    assert "Quel temps fera-t-il demain à Brest ?" in page and "Réseaux d&#39;une ville" in page
    printed = capsys.readouterr()
    everything = "\n".join([json.dumps(summary, ensure_ascii=False), page, printed.out, printed.err, caplog.text])
    for personal in (EMAIL, PHONE, "Jeanne", "Martin", "visiteur-42"):
        assert personal not in everything


def test_handoffs_are_counted_by_status_only(recorded, tmp_path) -> None:
    url, _ = recorded
    table = sa.Table("handoff_requests", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("created_at", sa.DateTime(timezone=True)), sa.Column("email", sa.String(254)),
                     sa.Column("delivery_status", sa.String(16)), sa.Column("handled_at", sa.DateTime(timezone=True)))
    now = datetime.now(timezone.utc)
    engine = sa.create_engine(url, future=True)
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(sa.insert(table), [
            {"created_at": now, "email": EMAIL, "delivery_status": "pending", "handled_at": None},
            {"created_at": now, "email": EMAIL, "delivery_status": "delivered", "handled_at": None},
            {"created_at": now, "email": EMAIL, "delivery_status": "delivered", "handled_at": now},
            {"created_at": now - timedelta(days=30), "email": EMAIL, "delivery_status": "pending", "handled_at": None},
        ])
    engine.dispose()
    assert store.handoff_statuses(url, TODAY - timedelta(days=6), TODAY) == {"pending": 1, "delivered": 1, "handled": 1}
    assert store.handoff_statuses(f"sqlite:///{tmp_path / 'none.db'}", TODAY, TODAY) == {}


def test_an_unreachable_store_exits_2_without_its_password(tmp_path, capsys) -> None:
    url = "postgresql://postgres:secret@127.0.0.1:1/nowhere"
    assert command.main(["--conversations-url", url, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "illisibles" in err and "secret" not in err


def test_a_reader_never_blocks_rasa_writes(tmp_path) -> None:
    """The recording is in WAL mode: while the insights stream a large period, Rasa commits."""
    path = tmp_path / "conversations.db"
    store.prepare_sqlite_file(path)
    url = f"sqlite:///{path}"
    SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))  # creates Rasa's table
    write_rows(url, large_store_rows(3 * store.BATCH_ROWS, NOON - 3 * 86400, days=2))
    reading = store.read_events(url, TODAY - timedelta(days=6), TODAY)
    next(reading)  # a read transaction is open, more rows to come
    writer = sqlite3.connect(path, timeout=0.2)
    with writer:
        writer.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('w', 'user', 0, '{}')")
    writer.close()
    assert sum(1 for _ in reading) > 2 * store.BATCH_ROWS


def test_the_default_store_is_the_recorded_sqlite_file(monkeypatch, tmp_path) -> None:
    for name in ("TRACKER_STORE_URL", "TRACKER_DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(store, "DEFAULT_CONVERSATIONS_DB", tmp_path / "conversations.db")
    assert store.conversations_url_from_env() == f"sqlite:///{tmp_path / 'conversations.db'}"
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:////srv/urbact.db")
    assert store.database_url_from_env() == "sqlite:////srv/urbact.db"
    assert list(store.read_events(store.conversations_url_from_env(), date(2026, 1, 1), TODAY)) == []
    assert not (tmp_path / "conversations.db").exists()  # reading nothing creates nothing
