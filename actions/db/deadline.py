"""One repository call under its deadline, with database errors mapped to RepositoryError."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from actions.db.errors import RepositoryTimeout, RepositoryUnavailable, describe_db_error

logger = logging.getLogger(__name__)
T = TypeVar("T")


async def run_with_deadline(session: AsyncSession, timeout: float, operation: str, coro: Awaitable[T]) -> T:
    """The result of `coro`, or RepositoryTimeout after `timeout` s, or RepositoryUnavailable.

    Not asyncio.wait_for: on timeout it waits for the cancelled call to finish, and a SQLite
    statement running in aiosqlite's thread would never let it. Interrupt first, then
    cancel, then wait a bounded time for the cleanup.
    """
    task = asyncio.ensure_future(coro)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        interrupt_sqlite(session)
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" warning
        elif not task.done():
            logger.warning("%s: statement still running after cancellation", operation)
        raise RepositoryTimeout(f"{operation}: no answer within {timeout:g} s")
    try:
        return task.result()
    except (SQLAlchemyError, OSError, ConnectionError) as exc:
        raise RepositoryUnavailable(f"{operation}: {describe_db_error(exc)}") from None
    except Exception as exc:  # asyncpg errors outside SQLAlchemy's wrapping
        if type(exc).__module__.startswith(("asyncpg", "aiosqlite", "sqlite3")):
            raise RepositoryUnavailable(f"{operation}: {describe_db_error(exc)}") from None
        raise


def interrupt_sqlite(session: AsyncSession) -> None:
    """Stop a statement still running in aiosqlite's thread after a timeout.

    asyncpg cancels the server-side query when the awaiting task is cancelled, but
    aiosqlite cannot: without this the connection stays busy and the pool (and
    engine.dispose()) would wait for the statement to finish.
    """
    try:
        if session.bind is None or session.bind.dialect.name != "sqlite":
            return
        fairy = session.sync_session.connection().connection
        driver = getattr(fairy, "driver_connection", None)  # aiosqlite.Connection
        raw = getattr(driver, "_conn", None)  # sqlite3.Connection (thread-safe interrupt)
        if raw is not None:
            raw.interrupt()
    except Exception:  # best effort only
        logger.debug("could not interrupt the SQLite statement", exc_info=True)
