"""Base class of the actions that read the knowledge-base database.

- The repository factory is injected (default: SQL database from DATABASE_URL); tests pass
  one on a SQLite database seeded from data/kb.
- One unit of work (one session) per action run, never shared between requests.
- Messages are buffered and only sent when the whole answer succeeded; if the database is
  unavailable or too slow the user gets a French apology, the conversation goes on, and one
  clear ERROR line is logged for operators.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.db.errors import RepositoryUnavailable
from actions.kb.formatting import NETWORKS_URL
from actions.kb.normalize import Normalizer
from actions.kb.repository import RepositoryFactory, SqlRepository, default_repository_factory
from common import settings

logger = logging.getLogger(__name__)

DB_UNAVAILABLE_TEXT = (
    "La base des réseaux ne répond pas pour le moment, toutes mes excuses. "
    "Réessayez dans quelques minutes ; je reste disponible pour vos autres questions.\n"
    f"Liste officielle des réseaux : {NETWORKS_URL}"
)
UNEXPECTED_ERROR_TEXT = (
    "Je n'arrive pas à répondre à cette question pour le moment, toutes mes excuses. "
    "Vous pouvez la reformuler ou me poser une autre question."
)

_catalogue_cache: "weakref.WeakKeyDictionary[Any, tuple[float, Normalizer]]" = (
    weakref.WeakKeyDictionary()
)


@dataclass
class Context:
    """What an action needs during one run; answers are buffered in ``messages``."""

    tracker: Tracker
    repo: SqlRepository
    norm: Optional[Normalizer]
    messages: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, buttons: Optional[list[dict[str, str]]] = None) -> None:
        message: dict[str, Any] = {"text": text}
        if buttons:
            message["buttons"] = buttons
        self.messages.append(message)

    @property
    def intent(self) -> Optional[str]:
        intent = (self.tracker.latest_message or {}).get("intent") or {}
        name = intent.get("name") if isinstance(intent, dict) else None
        return name if isinstance(name, str) else None

    def entity_values(self, entity: str) -> list[Any]:
        """Raw values of ``entity`` in the latest user message (unvalidated)."""
        entities = (self.tracker.latest_message or {}).get("entities") or []
        if not isinstance(entities, list):
            return []
        return [
            e.get("value")
            for e in entities[:50]
            if isinstance(e, dict) and e.get("entity") == entity
        ]

    def has_entity(self, entity: str) -> bool:
        return bool(self.entity_values(entity))

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)


class DatabaseAction(Action, ABC):
    """An action backed by the knowledge base. Subclasses implement ``answer``."""

    needs_catalogue: bool = True

    def __init__(self, repository_factory: Optional[RepositoryFactory] = None) -> None:
        self.repository_factory: RepositoryFactory = (
            repository_factory or default_repository_factory
        )

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    async def answer(self, ctx: Context) -> list[dict[str, Any]]:
        """Build the answer (ctx.say) and return the events to apply."""

    async def _normalizer(self, repo: SqlRepository) -> Normalizer:
        ttl = settings.CATALOGUE_TTL_SECONDS.read()
        key = self.repository_factory
        try:
            cached = _catalogue_cache.get(key)
        except TypeError:  # factory not weak-referenceable: no cache
            cached, ttl = None, 0.0
        now = time.monotonic()
        if cached and cached[0] > now:
            return cached[1]
        normalizer = Normalizer(await repo.catalogue())
        if ttl > 0:
            try:
                _catalogue_cache[key] = (now + ttl, normalizer)
            except TypeError:
                pass
        return normalizer

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        started = time.perf_counter()
        try:
            async with self.repository_factory() as repo:
                norm = await self._normalizer(repo) if self.needs_catalogue else None
                ctx = Context(tracker=tracker, repo=repo, norm=norm)
                events = await self.answer(ctx)
        except (RepositoryUnavailable, SQLAlchemyError, OSError, asyncio.TimeoutError) as exc:
            logger.error(
                "knowledge base unavailable: action=%s sender=%s error=%s: %s "
                "(check DATABASE_URL and run `python -m actions.ops.import_data`)",
                self.name(),
                tracker.sender_id,
                type(exc).__name__,
                exc,
            )
            dispatcher.utter_message(text=DB_UNAVAILABLE_TEXT)
            return []
        except Exception:
            logger.exception("action %s failed (sender=%s)", self.name(), tracker.sender_id)
            dispatcher.utter_message(text=UNEXPECTED_ERROR_TEXT)
            return []
        for message in ctx.messages:
            dispatcher.utter_message(**message)
        logger.debug("%s answered in %.1f ms", self.name(), (time.perf_counter() - started) * 1000)
        return events
