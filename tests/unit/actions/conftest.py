"""Fixtures of the action tests: the real knowledge base in a real SQL database.

`kb_database` is a SQLite file seeded once per session by the real importer (loader, migrations,
sync) from data/kb; `repositories` is the SQL repository factory the actions use, on a fresh
engine for each test. `ask(action, intent, entities, slots, text)` runs an action after one user
message (trackers and outcomes come from tests/conftest.py).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Optional

import pytest

from actions.db.engine import create_engine
from actions.kb.loader import KnowledgeBase, load_knowledge_base
from actions.kb.repository import RepositoryFactory, SqlRepositoryFactory
from actions.kb.sync import import_knowledge_base

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "kb"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base(DATA_DIR)


@pytest.fixture(scope="session")
def kb_database(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('kb') / 'urbact.db'}"
    asyncio.run(import_knowledge_base(kb, url))
    return url


@pytest.fixture
async def repositories(kb_database: str) -> AsyncIterator[SqlRepositoryFactory]:
    engine = create_engine(kb_database)
    try:
        yield SqlRepositoryFactory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def ask(make_tracker: Callable[..., Any], run_action: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def ask(action: Any, intent: str, entities: Iterable[Any] = (),
                  slots: Optional[dict[str, Any]] = None, text: str = "") -> Any:
        return await run_action(action, make_tracker(intent, entities=entities, slots=slots, text=text))

    return ask


@pytest.fixture
def failing_factory() -> Callable[[BaseException], RepositoryFactory]:
    """A repository factory whose unit of work fails on entry (database down)."""

    def make(exc: BaseException) -> RepositoryFactory:
        @asynccontextmanager
        async def unit_of_work():  # type: ignore[no-untyped-def]
            raise exc
            yield  # pragma: no cover

        return unit_of_work

    return make
