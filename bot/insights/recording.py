"""The embedded default's conversation recording: Rasa's SQL tracker store, made lean.

`RecordingTrackerStore` is Rasa 3.6's `SQLTrackerStore` (same table `events`, same rows,
same JSON, same conversation sessions: `make insights`, the purge and the erasure read it as
any SQL tracker store) with its two per-turn operations rewritten in SQLAlchemy core:

- `_retrieve`: one prepared SELECT of the events' JSON (the latest session's, or all), no
  ORM object per event;
- `save`: one COUNT of the events already stored for the latest session, then the new
  events inserted in one executemany, in one transaction.

On SQLite it also keeps its connections (a QueuePool) instead of SQLAlchemy 1.4's default of
one new connection per operation. Measured per turn (retrieve + save, docs/performance.md):
Rasa's SQLTrackerStore on SQLite costs about +12 ms over the in-memory store, this one
about +1.5 ms. The engine is built with Rasa's `create_engine_kwargs`, so bot/fail_closed.py's
pre-ping and hidden parameters apply, and Rasa's FailSafeTrackerStore wraps it as any store.

endpoints.yml: `type: bot.insights.recording.RecordingTrackerStore` with `dialect` and `db`
as for `type: SQL`. Rasa falls back to memory, with only a warning, when a custom store
cannot be imported: tests/unit/bot/test_insights_recording.py loads endpoints.yml through
Rasa to keep that from happening unseen.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core import tracker_store
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.pool import QueuePool


def event_row(sender_id: Text, event: Event) -> Dict[str, Any]:
    """The row Rasa's SQLTrackerStore.save writes for an event (rasa/core/tracker_store.py)."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


class RecordingTrackerStore(tracker_store.SQLTrackerStore):
    """Rasa's SQL tracker store with core statements on the per-turn path (see module doc)."""

    engine: sa.engine.Engine  # set by Rasa's __init__ (untyped there), replaced on SQLite

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._keep_sqlite_connections()
        table = self.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(table.c.timestamp))
            .where(table.c.sender_id == sender, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        # Rasa's _event_query: the events from the latest SessionStarted on, or all of them.
        latest_session = sa.and_(table.c.sender_id == sender,
                                 sa.or_(table.c.timestamp >= session_start, session_start.is_(None)))
        self._latest_session_events = sa.select(table.c.data).where(latest_session).order_by(table.c.id)
        self._all_events = sa.select(table.c.data).where(table.c.sender_id == sender).order_by(table.c.id)
        self._latest_session_count = sa.select(sa.func.count()).select_from(table).where(latest_session)
        self._insert = sa.insert(table)

    def _keep_sqlite_connections(self) -> None:
        url = self.engine.url
        self.engine.dispose()
        kwargs = dict(tracker_store.create_engine_kwargs(url))
        kwargs.update(poolclass=QueuePool, connect_args={"check_same_thread": False})
        self.engine = sa.create_engine(url, **kwargs)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        query = self._all_events if fetch_events_from_all_sessions else self._latest_session_events
        with self.engine.connect() as connection:
            events = [json.loads(data) for (data,) in connection.execute(query, {"sender_id": sender_id})]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the tracker's events that are not stored yet (as Rasa's SQLTrackerStore)."""
        await self.stream_events(tracker)
        with self.engine.begin() as connection:
            stored = connection.execute(self._latest_session_count, {"sender_id": tracker.sender_id}).scalar_one()
            rows: List[Dict[str, Any]] = [
                event_row(tracker.sender_id, event)
                for event in itertools.islice(tracker.events, stored, len(tracker.events))
            ]
            if rows:
                connection.execute(self._insert, rows)
