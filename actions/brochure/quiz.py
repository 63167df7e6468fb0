"""Quiz « Info ou intox ? » on the six preconceived ideas of the URBACT brochure.

Slots (see .drafts/domain_conversation.yml):
- quiz_active (bool, influences the conversation): rules for the answers need it true;
- quiz_index (float): index of the statement awaiting an answer, 0..5;
- quiz_score (float): number of right answers so far.

The explanation of each myth is the domain response "utter_myth_<key>", shared with the
FAQ rules, so the text lives in one place only. All six statements are myths: the right
answer is always "intox".

Slot values are validated: a message starting with "/" can set any slot to anything.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Final, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

# (myth key, statement). The key names the response utter_myth_<key> and the intent myth_<key>.
QUIZ_STATEMENTS: Final[Tuple[Tuple[str, str], ...]] = (
    ("english", "Pour rejoindre un réseau URBACT, il faut être bilingue en anglais."),
    (
        "contacts",
        "Pour intégrer un réseau URBACT, il faut déjà avoir des contacts "
        "dans d'autres villes européennes.",
    ),
    (
        "no_idea",
        "Sans idée précise de coopération, inutile de penser à rejoindre un réseau URBACT.",
    ),
    ("time", "Participer à URBACT, c'est surtout du temps perdu pour les équipes."),
    (
        "complexity",
        "URBACT est trop complexe pour une collectivité qui ne connaît pas "
        "les programmes européens.",
    ),
    (
        "useless_exchange",
        "Échanger avec d'autres villes ne sert à rien : chaque ville a un contexte différent.",
    ),
)

QUIZ_LENGTH: Final[int] = len(QUIZ_STATEMENTS)
RIGHT_ANSWER: Final[str] = "quiz_answer_intox"  # every statement is a myth
ANSWER_INTENTS: Final[Tuple[str, str]] = ("quiz_answer_info", "quiz_answer_intox")

ANSWER_BUTTONS: Final[List[Dict[str, str]]] = [
    {"title": "Info", "payload": "/quiz_answer_info"},
    {"title": "Intox", "payload": "/quiz_answer_intox"},
    {"title": "Arrêter le quiz", "payload": "/quiz_stop"},
]

AFTER_QUIZ_BUTTONS: Final[List[Dict[str, str]]] = [
    {"title": "Relancer le quiz", "payload": "/quiz_start"},
    {"title": "Apports pour votre ville", "payload": "/ask_benefits"},
    {"title": "Chercher un réseau", "payload": "/search_networks"},
]


def bounded_int(value: Any, low: int, high: int) -> int:
    """Slot value as an int clamped to [low, high]; anything that is not a finite number
    (None, text, bool, NaN, infinity) counts as `low`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return low
    if isinstance(value, float) and not math.isfinite(value):
        return low
    return max(low, min(high, int(value)))


def is_quiz_active(tracker: Tracker) -> bool:
    value = tracker.get_slot("quiz_active")
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def current_index(tracker: Tracker) -> int:
    return bounded_int(tracker.get_slot("quiz_index"), 0, QUIZ_LENGTH - 1)


def current_score(tracker: Tracker, answered: int) -> int:
    """Right answers so far, never more than the number of questions answered."""
    return bounded_int(tracker.get_slot("quiz_score"), 0, answered)


def question_text(index: int) -> str:
    statement = QUIZ_STATEMENTS[index][1]
    return (
        f"Question {index + 1}/{QUIZ_LENGTH} — Vrai ou faux : "
        f"{statement[0].lower()}{statement[1:]}"
    )


def score_comment(score: int, total: int = QUIZ_LENGTH) -> str:
    if score >= total:
        return "Sans faute : ces idées reçues ne vous arrêteront pas !"
    if score >= total - 2:
        return "Très bon résultat : il ne vous reste presque plus d'idées reçues."
    if score >= total // 3:
        return "Pas mal ! Ces idées reçues sont tenaces : relisez les explications ci-dessus."
    return (
        "Ces idées reçues ont la vie dure : les six affirmations étaient des intox. "
        "Relisez les explications ci-dessus."
    )


def _ask(dispatcher: CollectingDispatcher, index: int) -> None:
    dispatcher.utter_message(text=question_text(index), buttons=list(ANSWER_BUTTONS))


def _reset_events(active: bool = False, score: Optional[int] = 0) -> List[EventType]:
    return [
        SlotSet("quiz_active", active),
        SlotSet("quiz_index", 0.0),
        SlotSet("quiz_score", None if score is None else float(score)),
    ]


class ActionQuizStart(Action):
    """Starts (or restarts) the quiz and asks the first statement."""

    def name(self) -> str:
        return "action_quiz_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(
            text=(
                f"C'est parti pour le quiz « Info ou intox ? » : {QUIZ_LENGTH} idées reçues "
                "sur URBACT. Pour chaque affirmation, répondez « Info » si elle est vraie, "
                "« Intox » si c'est une idée reçue. Vous pouvez arrêter à tout moment."
            )
        )
        _ask(dispatcher, 0)
        return _reset_events(active=True)


class ActionQuizAnswer(Action):
    """Judges the answer, explains the myth, then asks the next statement or gives the score."""

    def name(self) -> str:
        return "action_quiz_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        if not is_quiz_active(tracker):
            dispatcher.utter_message(response="utter_quiz_answer_outside")
            return []

        intent = (tracker.latest_message.get("intent") or {}).get("name")
        index = current_index(tracker)
        if intent not in ANSWER_INTENTS:
            # Not an answer: ask the pending statement again.
            _ask(dispatcher, index)
            return []

        score = current_score(tracker, answered=index)
        if intent == RIGHT_ANSWER:
            score += 1
            dispatcher.utter_message(text="Bonne réponse !")
        else:
            dispatcher.utter_message(text="Pas tout à fait…")
        key = QUIZ_STATEMENTS[index][0]
        dispatcher.utter_message(response=f"utter_myth_{key}")

        next_index = index + 1
        if next_index < QUIZ_LENGTH:
            _ask(dispatcher, next_index)
            return [SlotSet("quiz_index", float(next_index)), SlotSet("quiz_score", float(score))]

        dispatcher.utter_message(
            text=(
                f"Votre score : {score}/{QUIZ_LENGTH}. {score_comment(score)}\n"
                "Pour aller plus loin : https://urbact.eu/france-et-luxembourg"
            ),
            buttons=list(AFTER_QUIZ_BUTTONS),
        )
        return _reset_events(active=False, score=score)


class ActionQuizStop(Action):
    """Stops the quiz and gives the score on the statements answered so far."""

    def name(self) -> str:
        return "action_quiz_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        if not is_quiz_active(tracker):
            dispatcher.utter_message(response="utter_quiz_not_active")
            return []

        answered = current_index(tracker)
        if answered == 0:
            text = (
                "Quiz arrêté avant votre première réponse. "
                "Vous pourrez le relancer quand vous le souhaitez."
            )
            score = 0
        else:
            score = current_score(tracker, answered=answered)
            text = (
                f"Quiz arrêté. Votre score : {score}/{answered} "
                f"(sur {answered} question{'s' if answered > 1 else ''} "
                f"répondue{'s' if answered > 1 else ''})."
            )
        dispatcher.utter_message(text=text, buttons=list(AFTER_QUIZ_BUTTONS))
        return _reset_events(active=False, score=score)
