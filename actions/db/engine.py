"""Async engine and session factory built from the environment.

Settings (common/settings.py): DATABASE_URL (default sqlite+aiosqlite:///<repo>/var/urbact.db;
plain postgresql:// and sqlite:/// are upgraded to the async drivers) and DB_TIMEOUT_SECONDS
(deadline of every repository call).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncContextManager, AsyncIterator, Callable, Generic, Optional, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from common import settings

logger = logging.getLogger(__name__)
R = TypeVar("R")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB_PATH = REPO_ROOT / "var" / "urbact.db"


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}"


def normalise_url(url: str) -> str:
    """Map sync URLs to their async driver ("postgresql://" -> "postgresql+asyncpg://")."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif driver == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def database_url(explicit: Optional[str] = None) -> str:
    return normalise_url(explicit or settings.DATABASE_URL.read() or default_database_url())


def db_timeout_seconds() -> float:
    return settings.DB_TIMEOUT_SECONDS.read()


def safe_url(url: str) -> str:
    """URL without password, for logs."""
    return make_url(url).render_as_string(hide_password=True)


def create_engine(url: Optional[str] = None, **kwargs: Any) -> AsyncEngine:
    resolved = database_url(url)
    parsed = make_url(resolved)
    timeout = db_timeout_seconds()
    # Statement parameters (names, e-mails, questions) never appear in errors or logs.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": timeout})
    elif parsed.get_backend_name() == "postgresql":
        # asyncpg: connection-establishment timeout; statements are bounded by the
        # repository deadline (asyncio.wait_for).
        kwargs.setdefault("connect_args", {"timeout": timeout})
        kwargs.setdefault("pool_pre_ping", True)
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 5)
            kwargs.setdefault("max_overflow", 5)
            kwargs.setdefault("pool_timeout", timeout)
    engine = create_async_engine(resolved, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _enable_sqlite_foreign_keys(engine)
    return engine


def _enable_sqlite_foreign_keys(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class UnitOfWorkFactory(Generic[R]):
    """Callable returning ``async with factory() as repo`` units of work (one session each)."""

    def __init__(
        self,
        engine: AsyncEngine,
        make_repository: Callable[[AsyncSession, float], R],
        timeout: Optional[float] = None,
    ):
        self.engine = engine
        self.timeout = timeout if timeout is not None else db_timeout_seconds()
        self._make_repository = make_repository
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[R]:
        session = self._sessions()
        try:
            yield self._make_repository(session, self.timeout)
        finally:
            try:
                await asyncio.wait_for(session.close(), timeout=self.timeout)
            except Exception:  # closing a broken connection must not hide the real error
                logger.debug("session close failed", exc_info=True)

    def __call__(self) -> AsyncContextManager[R]:
        return self._unit_of_work()


_shared_engine: Optional[AsyncEngine] = None
_shared_loop: Optional[asyncio.AbstractEventLoop] = None


def shared_engine() -> AsyncEngine:
    """The action server's engine on DATABASE_URL: one connection pool per event loop."""
    global _shared_engine, _shared_loop
    loop = asyncio.get_running_loop()
    if _shared_engine is None or _shared_loop is not loop:
        _shared_engine, _shared_loop = create_engine(), loop
        logger.info("database: %s", safe_url(str(_shared_engine.url)))
    return _shared_engine
