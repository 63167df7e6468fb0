"""The real hand-off repository on a throwaway SQLite file, for the unit tests.

A file rather than ":memory:": the delivery loop and the test read and write at the same
time, each unit of work on its own connection, as on the real database.

    store = await SqliteHandoffs().open()      # or the `store` fixture of a test module
    async with store() as repo: ...            # a unit of work, as the actions get it
    store.available = False                    # every statement fails: a database outage
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from datetime import datetime, timezone
from typing import Any, AsyncContextManager, Optional

from sqlalchemy import event

from actions.db.base import Base
from actions.db.engine import create_engine
from actions.handoff.models import HandoffRequest
from actions.handoff.repository import SqlHandoffRepository, SqlHandoffRepositoryFactory


def sample(
    name: str = "Jeanne Dupont",
    question: str = "Peut-on candidater seuls ?",
    email: str = "jeanne@saint-aubin.fr",
    organisation: str = "Mairie de Saint-Aubin",
    channel: Optional[str] = "socketio",
    conversation_id: Optional[str] = "web-1",
) -> HandoffRequest:
    return HandoffRequest(name, organisation, email, question, channel, conversation_id)


class SqliteHandoffs:
    """A hand-off database of one test: SqlHandoffRepository units of work on SQLite."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="handoffs-")
        self.engine = create_engine(f"sqlite+aiosqlite:///{self.folder}/handoffs.db")
        self.factory = SqlHandoffRepositoryFactory(self.engine, timeout=5)
        self.available = True
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._outage)

    def _outage(self, *_: Any) -> None:
        if not self.available:
            raise sqlite3.OperationalError("database unavailable (test outage)")

    async def open(self) -> "SqliteHandoffs":
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all, tables=[HandoffRequest.__table__])
        return self

    async def close(self) -> None:
        await self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __call__(self) -> AsyncContextManager[SqlHandoffRepository]:
        return self.factory()

    async def add(self, new: HandoffRequest, now: datetime) -> HandoffRequest:
        async with self() as repo:
            return await repo.create(new, now)

    async def get(self, request_id: int) -> HandoffRequest:
        async with self() as repo:
            row = await repo.get(request_id)
        assert row is not None
        return row

    async def count(self) -> int:
        """How many requests are stored (open and handled)."""
        async with self() as repo:
            handled = await repo.delete_handled_before(datetime.max.replace(tzinfo=timezone.utc), dry_run=True)
            return await repo.count_open() + handled
