"""Fixtures for the knowledge-base integration tests (SQLite file + real PostgreSQL).

PostgreSQL: a throwaway database ``urbact_test_<random>`` is created once per test session
on TEST_POSTGRES_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres, trust
auth) and dropped at the end; each test starts from an empty ``public`` schema. When the
server is unreachable the PostgreSQL variants are skipped, unless REQUIRE_POSTGRES=1 (then
they fail). Hand-off part: `migrated` is `db_url` at the Alembic head, `factory` a hand-off
repository factory on it. Exported as fixtures by this directory's conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from actions.db.engine import create_engine
from actions.db.migrate import upgrade_to_head
from actions.handoff.repository import SqlHandoffRepositoryFactory
from actions.kb.loader import KnowledgeBase, load_knowledge_base

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = REPO_ROOT / "data" / "kb"
ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    name = f"urbact_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        message = f"PostgreSQL not reachable at {ADMIN_URL}: {exc}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    url = make_url(ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _reset_schema(url: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An empty database of each backend (fresh for every test)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'urbact.db'}"
    url = request.getfixturevalue("postgres_database")
    asyncio.run(_reset_schema(url))
    return url


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base(DATA_DIR)


async def migrate_to_head(url: str) -> None:
    """alembic upgrade head on a connection of our own (we are inside an event loop)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_head, url)
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def migrated(db_url: str) -> str:
    await migrate_to_head(db_url)
    return db_url


@pytest_asyncio.fixture
async def factory(migrated: str) -> AsyncIterator[SqlHandoffRepositoryFactory]:
    engine = create_engine(migrated)
    try:
        yield SqlHandoffRepositoryFactory(engine, timeout=10)
    finally:
        await engine.dispose()
