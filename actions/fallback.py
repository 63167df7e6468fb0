"""Low-confidence fallback: the closest answer when there is one, else ask to rephrase.

Triggered by the rule `nlu_fallback -> action_rephrase`. The NLU's answer search
(bot/nlu/intent_rescue.py) records in the parse data the topics whose sentences and answers
are closest to the message. When the best one has a fixed answer (`utter_<intent>` in the
domain, which this action receives) and a score of at least TENTATIVE_MIN_SCORE, that answer
is given, introduced as a guess, with a button to say it did not help ("/answer_not_helpful")
and the next closest topics. Otherwise the assistant asks to rephrase, and the three most
likely topics of the NLU ranking are offered as buttons ("/<intent>", French labels from
actions/topics.py).
The slot failed_attempts counts consecutive failures; from the second one, the user is also
offered to pass the question on to the national URBACT contact point ("/request_handoff").
failed_attempts is reset to 0 by its slot mapping (from_intent, not_intent: nlu_fallback)
in the domain, on every message that was understood.
"""

from __future__ import annotations

from typing import Any, Dict, Final, Iterable, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.brochure.quiz import bounded_int, is_quiz_active
from actions.topics import NEVER_SUGGESTED, QUIZ_ONLY, TOPIC_LABELS, label_for

MAX_SUGGESTIONS: Final[int] = 3
TENTATIVE_MIN_SCORE: Final[float] = 0.2  # answer search score (TF-IDF cosine, 0..1)
NOT_HELPFUL_INTENT: Final[str] = "answer_not_helpful"
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


def search_candidates(latest_message: Dict[str, Any]) -> List[Tuple[str, float]]:
    """The answer search's closest topics recorded by the NLU, best first."""
    record = latest_message.get("answer_search")
    if not isinstance(record, dict):
        return []
    result = []
    for item in record.get("candidates") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            result.append((item["name"], _confidence({"confidence": item.get("score")})))
    return result


def tentative_answer(
    candidates: List[Tuple[str, float]], responses: Iterable[str], quiz_active: bool
) -> Optional[str]:
    """The topic whose fixed answer is worth giving as a guess, if any."""
    if not candidates:
        return None
    name, score = candidates[0]
    if score < TENTATIVE_MIN_SCORE or f"utter_{name}" not in responses:
        return None
    if name in NEVER_SUGGESTED or name == HANDOFF_INTENT or (name in QUIZ_ONLY and not quiz_active):
        return None
    return name


class ActionRephrase(Action):
    """Asks to rephrase and suggests the closest topics; offers the hand-off on repeat."""

    def name(self) -> str:
        return "action_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        quiz_active = is_quiz_active(tracker)
        guess = tentative_answer(
            search_candidates(tracker.latest_message or {}), (domain or {}).get("responses") or {}, quiz_active
        )
        if guess is not None:
            return self._guess(dispatcher, tracker, guess, quiz_active)
        attempts = bounded_int(tracker.get_slot("failed_attempts"), 0, 100) + 1
        ranking = tracker.latest_message.get("intent_ranking") or []
        intents = suggested_intents(ranking, quiz_active=quiz_active)
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

    @staticmethod
    def _guess(
        dispatcher: CollectingDispatcher, tracker: Tracker, intent: str, quiz_active: bool
    ) -> List[EventType]:
        dispatcher.utter_message(
            text=f"Si je vous comprends bien, votre message porte sur : « {label_for(intent)} »."
        )
        dispatcher.utter_message(response=f"utter_{intent}")
        others = [
            name
            for name, _ in search_candidates(tracker.latest_message or {})[1:]
            if name != intent
        ]
        suggestions = suggested_intents(
            [{"name": n, "confidence": 1.0 - i / 10} for i, n in enumerate(others)], quiz_active, 2
        )
        buttons = [{"title": "Ce n'était pas ma question", "payload": f"/{NOT_HELPFUL_INTENT}"}]
        buttons += [{"title": label_for(n), "payload": f"/{n}"} for n in suggestions]
        dispatcher.utter_message(text="Cette réponse vous aide-t-elle ?", buttons=buttons)
        return []
