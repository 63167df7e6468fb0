"""Fixtures shared by the tests of both environments: trackers, dispatchers, the domain.

Top-level imports are the standard library and rasa_sdk only (both virtual environments have
them). Fixtures:
- `make_tracker(...)`   builds a rasa_sdk Tracker (see `build_tracker` for the arguments);
- `dispatcher`          a fresh CollectingDispatcher;
- `run_action(action, tracker, domain=None)` (async) runs an action with a fresh dispatcher
                        and returns an `ActionOutcome` (messages, events, text, buttons, slots);
- `domain`              domain.yml as a dict (read once per session).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

REPO_ROOT = Path(__file__).resolve().parents[1]

Entity = Union[Tuple[str, Any], Dict[str, Any]]


def build_tracker(
    intent: Optional[str] = "",
    *,
    text: str = "",
    entities: Iterable[Entity] = (),
    slots: Optional[Mapping[str, Any]] = None,
    sender: str = "test",
    confidence: float = 1.0,
    ranking: Optional[List[Dict[str, Any]]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    channel: Optional[str] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[Dict[str, Any]] = None,
) -> Tracker:
    """A tracker as the action server receives it after one user message.

    `entities` are (name, value) pairs or full entity dicts. `ranking` adds `intent_ranking`
    (absent otherwise). `metadata` goes on the latest message; `channel` adds a user event
    with that input channel (and the metadata) before `events`. `intent=None` leaves the
    latest message empty.
    """
    latest: Dict[str, Any] = {}
    if intent is not None:
        latest = {
            "intent": {"name": intent, "confidence": confidence},
            "text": text,
            "entities": [
                entity if isinstance(entity, dict) else {"entity": entity[0], "value": entity[1]}
                for entity in entities
            ],
        }
        if ranking is not None:
            latest["intent_ranking"] = ranking
        if metadata is not None:
            latest["metadata"] = metadata
    history: List[Dict[str, Any]] = []
    if channel is not None:
        history.append(
            {"event": "user", "text": text, "input_channel": channel, "metadata": metadata or {}}
        )
    history.extend(events or [])
    return Tracker(
        sender, dict(slots or {}), latest, history, False, None, active_loop or {}, "action_listen"
    )


class ActionOutcome:
    """What an action did: the messages it sent and the events it returned."""

    def __init__(self, messages: List[Dict[str, Any]], events: List[Dict[str, Any]]) -> None:
        self.messages = messages
        self.events = events

    @property
    def text(self) -> str:
        return "\n".join(message.get("text") or "" for message in self.messages)

    @property
    def responses(self) -> List[Optional[str]]:
        return [message.get("response") for message in self.messages]

    @property
    def buttons(self) -> List[Dict[str, Any]]:
        return [button for message in self.messages for button in (message.get("buttons") or [])]

    @property
    def slots(self) -> Dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}


async def run_action_once(
    action: Action, tracker: Tracker, domain: Optional[Dict[str, Any]] = None
) -> ActionOutcome:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or {})
    return ActionOutcome(dispatcher.messages, list(events or []))


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    return build_tracker


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def run_action() -> Callable[..., Awaitable[ActionOutcome]]:
    return run_action_once


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    import yaml  # both environments have PyYAML; kept local so this file imports rasa_sdk only

    return yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
