"""Synthetic conversations as Rasa records them, for the insights' tests and `make bench`.

Each turn is what Rasa 3.6 stores for one message: the user event (text, intent, entities,
a 10-intent ranking), the action that answered, its bot message, `action_listen`. A turn's
`kind` says what the summary must count; `Turn.text` may hold personal data on purpose.
`write_rows` fills a large store fast with the rows Rasa's SQLTrackerStore.save would write
(same columns, same JSON), after the store itself has created its table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import sqlalchemy as sa
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    UserUttered,
)

from bot.insights.recording import event_row
from bot.insights.store import EVENTS, READ_TYPES, StoredEvent


@dataclass(frozen=True)
class Turn:
    text: str
    intent: str
    action: str
    entities: Tuple[Tuple[str, str], ...] = ()


RANKING_FILLERS: Sequence[str] = (
    "ask_benefits", "ask_countries", "ask_history", "ask_governance", "ask_network_types",
    "ask_how_to_join", "greet", "goodbye", "thank", "help",
)
# What a week of visitors might say, the answer Rasa gives, and the entities it finds.
TURNS: Sequence[Turn] = (
    Turn("c'est quoi URBACT ?", "ask_what_is_urbact", "utter_ask_what_is_urbact"),
    Turn("Dans quels réseaux est Nantes ?", "ask_city_networks", "action_city_networks", (("city", "Nantes"),)),
    Turn("Qui est chef de file d'Eat4Climate ?", "ask_network_lead", "action_network_lead", (("network", "Eat4Climate"),)),
    Turn("faut-il parler anglais ?", "myth_english", "utter_myth_english"),
    Turn("on n'a pas le temps", "myth_time", "utter_myth_time"),
    Turn("quelle est la recette de la tartiflette ?", "nlu_fallback", "action_rephrase"),
    Turn("Quels réseaux à Lyon ?", "ask_city_networks", "action_city_networks", (("city", "Lyon"),)),
    Turn("/feedback{\"rating\": \"up\"}", "feedback", "utter_feedback_thanks", (("rating", "up"),)),
)


def turn_events(turn: Turn, at: float) -> List[Event]:
    ranking = [{"name": turn.intent, "confidence": 0.9}] + [
        {"name": name, "confidence": round(0.01 * (10 - i), 3)} for i, name in enumerate(RANKING_FILLERS[:9])
    ]
    entities = [{"entity": name, "value": value, "start": 0, "end": len(value), "extractor": "DIETClassifier"}
                for name, value in turn.entities]
    parse_data = {"intent": ranking[0], "entities": entities, "intent_ranking": ranking, "text": turn.text}
    return [
        UserUttered(turn.text, intent=ranking[0], entities=entities, parse_data=parse_data, timestamp=at,
                    input_channel="rest", message_id=f"m{int(at * 1000)}"),
        ActionExecuted(turn.action, policy="RulePolicy", confidence=1.0, timestamp=at + 0.01),
        BotUttered("Voici ce que je peux vous dire sur ce sujet, avec le lien vers la source.",
                   {"buttons": None}, {"utter_action": turn.action}, timestamp=at + 0.02),
        ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0, timestamp=at + 0.03),
    ]


def conversation_events(turns: Sequence[Turn], start: float, gap: float = 20.0) -> List[Event]:
    """A session start, then each turn `gap` seconds after the previous one."""
    events: List[Event] = [ActionExecuted("action_session_start", timestamp=start),
                           SessionStarted(timestamp=start),
                           ActionExecuted("action_listen", timestamp=start)]
    for index, turn in enumerate(turns):
        events += turn_events(turn, start + 1 + index * gap)
    return events


def stored_events(sender_id: str, events: Sequence[Event]) -> List[StoredEvent]:
    """The events as `store.read_events` gives them back (the types it reads), without a database."""
    rows = (event_row(sender_id, event) for event in events)
    return [StoredEvent(**row) for row in rows if row["type_name"] in READ_TYPES]


def large_store_rows(total_events: int, start: float, days: int, seed: int = 12) -> Iterator[Dict[str, Any]]:
    """About `total_events` rows: conversations of 2 to 8 random turns over `days` days."""
    chooser = random.Random(seed)
    written, number = 0, 0
    span = days * 86400 - 3600
    while written < total_events:
        turns = [chooser.choice(TURNS) for _ in range(chooser.randint(2, 8))]
        for event in conversation_events(turns, start + chooser.uniform(0, span)):
            yield event_row(f"synthetic-{number}", event)
            written += 1
        number += 1


def write_rows(url: str, rows: Iterator[Dict[str, Any]], batch: int = 5000) -> int:
    """Insert rows into an existing `events` table (core, executemany); returns their number."""
    engine = sa.create_engine(url, future=True)
    count = 0
    try:
        with engine.begin() as connection:
            chunk: List[Dict[str, Any]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= batch:
                    connection.execute(sa.insert(EVENTS), chunk)
                    count, chunk = count + len(chunk), []
            if chunk:
                connection.execute(sa.insert(EVENTS), chunk)
                count += len(chunk)
    finally:
        engine.dispose()
    return count
