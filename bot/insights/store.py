"""Where the insights read from: Rasa's recorded events and the hand-off requests' statuses.

SQLAlchemy core only (Rasa environment, SQLAlchemy 1.4), the same statements on SQLite and
PostgreSQL. The events of a period are read with ONE query, streamed in batches
(`yield_per`), as light `StoredEvent` tuples: no ORM object per event.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, NamedTuple, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from common import settings

ROOT = Path(__file__).resolve().parents[2]
# The embedded default's store (endpoints.yml: `db: var/conversations.db`, relative to the
# repository, where `make run` starts Rasa).
DEFAULT_CONVERSATIONS_DB = ROOT / "var" / "conversations.db"
DEFAULT_DATABASE = ROOT / "var" / "urbact.db"
# Event types the summary needs (active_loop: a form is running); bot, slot... are not read.
READ_TYPES: Tuple[str, ...] = ("user", "action", "active_loop")
BATCH_ROWS = 5000

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("intent_name", sa.String),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)
HANDOFF_REQUESTS = sa.table(
    "handoff_requests",
    sa.column("created_at", sa.DateTime),
    sa.column("delivery_status", sa.String),
    sa.column("handled_at", sa.DateTime),
)


class StoredEvent(NamedTuple):
    """One recorded event: Rasa's columns of table `events` (`data` is the event's JSON)."""

    sender_id: str
    type_name: str
    timestamp: float
    intent_name: Optional[str]
    action_name: Optional[str]
    data: str

    def fields(self) -> Dict[str, Any]:
        """The event's JSON as a dict ({} when it is not a JSON object)."""
        try:
            value = json.loads(self.data or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class StoreUnavailable(RuntimeError):
    """The database did not answer; the message names the store without its password."""


def period_bounds(since: date, until: date) -> Tuple[float, float]:
    """UTC timestamps [start of `since`, start of the day after `until`)."""
    start = datetime.combine(since, time.min, tzinfo=timezone.utc)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=timezone.utc)
    return start.timestamp(), end.timestamp()


def conversations_url_from_env() -> str:
    """TRACKER_STORE_URL, else the production profile's TRACKER_DB_* (PostgreSQL), else the
    embedded default's SQLite file var/conversations.db. SettingError on a bad port."""
    url = settings.TRACKER_STORE_URL.require()
    if url:
        return url
    host = settings.TRACKER_DB_HOST.require()
    if not host:
        return f"sqlite:///{DEFAULT_CONVERSATIONS_DB}"
    port = settings.TRACKER_DB_PORT.require()
    return URL.create(
        "postgresql",
        username=settings.TRACKER_DB_USER.require() or None,
        password=settings.TRACKER_DB_PASSWORD.require() or None,
        host=host,
        port=port or None,
        database=settings.TRACKER_DB_NAME.require(),
    ).render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The URL with a synchronous driver (the actions' `+aiosqlite`/`+asyncpg` dropped)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    return parsed.set(drivername=backend).render_as_string(hide_password=False)


def database_url_from_env() -> str:
    """DATABASE_URL (the actions' database, synchronous driver), default var/urbact.db."""
    return sync_url(settings.DATABASE_URL.require() or f"sqlite:///{DEFAULT_DATABASE}")


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - never print a password from an unreadable URL
        return "?"


def missing_sqlite_file(url: str) -> Optional[str]:
    """The path of a SQLite store whose file does not exist (nothing recorded yet), else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return None if Path(parsed.database).exists() else parsed.database


def prepare_sqlite_file(path: Path) -> None:
    """Create the recording's SQLite file (and its folder) in WAL mode, which the file keeps:
    a reader (`make insights`, the Slack figures) then never blocks Rasa's writes, nor waits
    for them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def _engine(url: str) -> sa.engine.Engine:
    return sa.create_engine(sync_url(url), hide_parameters=True, future=True)


def _unavailable(url: str, error: sa.exc.SQLAlchemyError) -> StoreUnavailable:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
    return StoreUnavailable(f"{safe_url(url)} : {type(error).__name__}: {reason}")


def read_events(url: str, since: date, until: date) -> Iterator[StoredEvent]:
    """The user and action events recorded from `since` to `until` (days, UTC, inclusive),
    in the order they were stored. One query, streamed; StoreUnavailable on a database error.
    A store that has no `events` table, or no file, yet (nothing recorded) gives no events
    (and no file is created)."""
    if missing_sqlite_file(url):
        return
    start, end = period_bounds(since, until)
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("events"):
                return
            query = (
                sa.select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp,
                          EVENTS.c.intent_name, EVENTS.c.action_name, EVENTS.c.data)
                .where(EVENTS.c.timestamp >= start, EVENTS.c.timestamp < end,
                       EVENTS.c.type_name.in_(READ_TYPES))
                .order_by(EVENTS.c.id)
                .execution_options(stream_results=True, yield_per=BATCH_ROWS)
            )
            for row in connection.execute(query):
                yield StoredEvent(*row)
    except sa.exc.SQLAlchemyError as error:
        raise _unavailable(url, error) from None
    finally:
        engine.dispose()


def handoff_statuses(url: str, since: date, until: date) -> Dict[str, int]:
    """Hand-off requests created in the period, counted by status (pending, sending,
    delivered, handled); only statuses are read, never what people wrote. No table: {}."""
    if missing_sqlite_file(url):
        return {}
    # Aware UTC datetimes: PostgreSQL compares them with its timestamptz; SQLite's stored
    # text is UTC already and SQLAlchemy formats them without the offset.
    start, end = (datetime.fromtimestamp(bound, tz=timezone.utc) for bound in period_bounds(since, until))
    status = sa.case((HANDOFF_REQUESTS.c.handled_at.is_not(None), "handled"),
                     else_=HANDOFF_REQUESTS.c.delivery_status)
    query = (
        sa.select(status, sa.func.count())
        .where(HANDOFF_REQUESTS.c.created_at >= start, HANDOFF_REQUESTS.c.created_at < end)
        .group_by(status)
    )
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("handoff_requests"):
                return {}
            return {str(name): int(count) for name, count in connection.execute(query)}
    except sa.exc.SQLAlchemyError as error:
        raise _unavailable(url, error) from None
    finally:
        engine.dispose()
