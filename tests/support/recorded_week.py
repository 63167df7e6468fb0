"""Two conversations of today written by Rasa's own SQLTrackerStore (real schema) to a SQLite
file, for the staff's Slack figures and the weekly digest: 2 conversations, 3 user messages,
one about Nantes, one myth (myth_english), one fallback that typed an e-mail address."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Iterable, List, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

EMAIL = "jeanne.martin@ville-exemple.fr"
SENDERS = ("visiteur-a", "visiteur-b")


def turn(text: str, intent: str, action: str, at: float, entities: Iterable[Tuple[str, str]] = ()) -> List[Event]:
    parse = {"name": intent, "confidence": 0.9}
    found = [{"entity": name, "value": value, "start": 0, "end": len(value)} for name, value in entities]
    return [
        UserUttered(text, intent=parse, entities=found, timestamp=at),
        ActionExecuted(action, timestamp=at + 0.1),
        BotUttered("réponse", timestamp=at + 0.2),
        ActionExecuted("action_listen", timestamp=at + 0.3),
    ]


def record_week(path: Path) -> str:
    """Writes the conversations to the SQLite file `path`; returns its SQLAlchemy URL."""
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    now = time.time() - 60
    conversations = {
        SENDERS[0]: turn("Dans quels réseaux est Nantes ?", "ask_city_networks", "action_city_networks", now,
                         [("city", "Nantes")])
        + turn("faut-il parler anglais ?", "myth_english", "utter_myth_english", now + 1),
        SENDERS[1]: turn(f"écrivez-moi à {EMAIL}", "nlu_fallback", "action_rephrase", now + 2),
    }
    for sender, events in conversations.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    return f"sqlite:///{path}"
