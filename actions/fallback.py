"""Low-confidence fallback: ask the user to rephrase, never guess an answer.

Triggered by the rule `nlu_fallback -> action_rephrase`. The three most likely topics of the
NLU ranking are offered as buttons ("/<intent>", French labels from actions/topics.py).
The slot failed_attempts counts consecutive failures; from the second one, the user is also
offered to pass the question on to the national URBACT contact point ("/request_handoff").
failed_attempts is reset to 0 by its slot mapping (from_intent, not_intent: nlu_fallback)
in the domain, on every message that was understood.
"""

from __future__ import annotations

from typing import Any, Dict, Final, Iterable, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.quiz import bounded_int, is_quiz_active
from actions.topics import NEVER_SUGGESTED, QUIZ_ONLY, TOPIC_LABELS, label_for

MAX_SUGGESTIONS: Final[int] = 3
HANDOFF_AFTER: Final[int] = 2  # failed attempts in a row before offering the hand-off
HANDOFF_INTENT: Final[str] = "request_handoff"
DEFAULT_SUGGESTIONS: Final[Tuple[str, ...]] = (
    "ask_what_is_urbact",
    "ask_benefits",
    "search_networks",
)


def _confidence(item: Dict[str, Any]) -> float:
    value = item.get("confidence")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return float(value)


def suggested_intents(
    ranking: Iterable[Any], quiz_active: bool = False, limit: int = MAX_SUGGESTIONS
) -> List[str]:
    """Most likely known topics of an NLU intent ranking, best first, without duplicates."""
    items = [item for item in ranking or [] if isinstance(item, dict)]
    items.sort(key=_confidence, reverse=True)
    chosen: List[str] = []
    for item in items:
        name = item.get("name")
        if not isinstance(name, str) or name not in TOPIC_LABELS or name in chosen:
            continue
        if name in NEVER_SUGGESTED or name == HANDOFF_INTENT:
            continue
        if name in QUIZ_ONLY and not quiz_active:
            continue
        chosen.append(name)
        if len(chosen) == limit:
            break
    return chosen


def build_buttons(intents: Iterable[str], offer_handoff: bool) -> List[Dict[str, str]]:
    buttons = [{"title": label_for(name), "payload": f"/{name}"} for name in intents]
    if offer_handoff:
        buttons.append({"title": label_for(HANDOFF_INTENT), "payload": f"/{HANDOFF_INTENT}"})
    return buttons


class ActionRephrase(Action):
    """Asks to rephrase and suggests the closest topics; offers the hand-off on repeat."""

    def name(self) -> str:
        return "action_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        attempts = bounded_int(tracker.get_slot("failed_attempts"), 0, 100) + 1
        ranking = tracker.latest_message.get("intent_ranking") or []
        intents = suggested_intents(ranking, quiz_active=is_quiz_active(tracker))
        guessed = bool(intents)
        if not guessed:
            intents = list(DEFAULT_SUGGESTIONS)
        offer_handoff = attempts >= HANDOFF_AFTER

        if offer_handoff:
            text = (
                "Je n'ai toujours pas compris votre demande, toutes mes excuses. "
                "Vous pouvez la reformuler, choisir un sujet ci-dessous, ou transmettre "
                "votre question au point de contact national URBACT, qui vous répondra."
            )
        elif guessed:
            text = (
                "Je n'ai pas bien compris votre message. Pourriez-vous le reformuler ? "
                "Vous pensiez peut-être à l'un de ces sujets :"
            )
        else:
            text = (
                "Je n'ai pas bien compris votre message. Pourriez-vous le reformuler ? "
                "Voici les sujets sur lesquels je peux vous renseigner :"
            )
        dispatcher.utter_message(text=text, buttons=build_buttons(intents, offer_handoff))
        return [SlotSet("failed_attempts", float(attempts))]
