"""Helpers and fixtures shared by the database action tests (tests/unit/actions/test_database_*).

Imported by name from the test modules (pytest puts this directory on sys.path); it also
makes the repository root importable, so import it before `actions`. No conftest.py: the
directory is shared with other parts of the project.
"""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from actions.db.loader import KnowledgeBase, load_knowledge_base  # noqa: E402
from actions.db.repositories import InMemoryRepository  # noqa: E402

DATA_DIR = REPO_ROOT / "data" / "kb"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base(DATA_DIR)


@pytest.fixture
def repo(kb: KnowledgeBase) -> InMemoryRepository:
    return InMemoryRepository(kb)


def make_tracker(
    intent: str,
    entities: Iterable[tuple[str, Any]] = (),
    slots: Optional[dict[str, Any]] = None,
    text: str = "",
) -> Tracker:
    latest = {
        "intent": {"name": intent, "confidence": 1.0},
        "entities": [{"entity": e, "value": v} for e, v in entities],
        "text": text,
    }
    return Tracker("test-user", dict(slots or {}), latest, [], False, None, {}, "action_listen")


class Result:
    def __init__(self, dispatcher: CollectingDispatcher, events: list[dict[str, Any]]):
        self.messages = dispatcher.messages
        self.events = events

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [b for m in self.messages for b in (m.get("buttons") or [])]

    @property
    def slots(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}


async def run_action(action: Any, intent: str, entities: Iterable[tuple[str, Any]] = (),
                     slots: Optional[dict[str, Any]] = None, text: str = "") -> Result:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker(intent, entities, slots, text), {})
    return Result(dispatcher, events)


def failing_factory(exc: BaseException) -> Callable[[], Any]:
    """A repository factory whose unit of work fails on entry (database down)."""

    @asynccontextmanager
    async def unit_of_work():  # type: ignore[no-untyped-def]
        raise exc
        yield  # pragma: no cover

    return unit_of_work


def fixed_clock(day: date) -> Callable[[], date]:
    return lambda: day
