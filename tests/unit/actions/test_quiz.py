"""Unit tests for actions/brochure/quiz.py: real rasa_sdk dispatcher and trackers, no Rasa server."""

from __future__ import annotations

import asyncio
import math
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.brochure.quiz import (
    QUIZ_LENGTH,
    QUIZ_STATEMENTS,
    ActionQuizAnswer,
    ActionQuizStart,
    ActionQuizStop,
    bounded_int,
    question_text,
)
from tests.conftest import build_tracker

MYTH_KEYS = {"contacts", "no_idea", "english", "time", "complexity", "useless_exchange"}
INFO = "quiz_answer_info"
INTOX = "quiz_answer_intox"

Slots = Dict[str, Any]
Messages = List[Dict[str, Any]]


def quiz_tracker(slots: Slots, intent: str = INTOX, text: str = "intox") -> Tracker:
    ranking = [{"name": intent, "confidence": 0.98}]
    return build_tracker(intent, text=text, confidence=0.98, ranking=ranking, slots=slots)


def run(action: Action, slots: Slots, intent: str = INTOX) -> Tuple[Messages, Slots, List[Dict]]:
    """Runs an action; returns its messages, the slots after its SlotSet events, the events."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, quiz_tracker(slots, intent), {}))
    new_slots = dict(slots)
    for event in events:
        assert event["event"] == "slot", event
        new_slots[event["name"]] = event["value"]
    return dispatcher.messages, new_slots, events


def texts(messages: Messages) -> List[str]:
    return [m.get("text") or "" for m in messages]


def responses(messages: Messages) -> List[Optional[str]]:
    return [m.get("response") for m in messages]


def payloads(message: Dict[str, Any]) -> List[str]:
    return [b["payload"] for b in message.get("buttons") or []]


FRESH: Slots = {"quiz_active": None, "quiz_index": 0.0, "quiz_score": 0.0}


# --- data ---------------------------------------------------------------------------------


def test_action_names() -> None:
    assert ActionQuizStart().name() == "action_quiz_start"
    assert ActionQuizAnswer().name() == "action_quiz_answer"
    assert ActionQuizStop().name() == "action_quiz_stop"


def test_six_statements_one_per_myth() -> None:
    assert QUIZ_LENGTH == 6
    keys = [key for key, _ in QUIZ_STATEMENTS]
    assert set(keys) == MYTH_KEYS and len(keys) == len(set(keys))
    assert keys[0] == "english"
    for _, statement in QUIZ_STATEMENTS:
        assert statement[0].isupper() and statement.endswith(".")


def test_each_statement_has_its_myth_response_in_the_domain(domain: Dict[str, Any]) -> None:
    domain_responses = domain["responses"]
    for key, _ in QUIZ_STATEMENTS:
        variants = domain_responses[f"utter_myth_{key}"]
        assert variants and all(v["text"].startswith("Intox !") for v in variants)
    for name in ("utter_quiz_answer_outside", "utter_quiz_not_active", "utter_quiz_reminder"):
        assert name in domain_responses


# --- start --------------------------------------------------------------------------------


def test_start_sets_slots_and_asks_the_first_statement() -> None:
    messages, slots, _ = run(ActionQuizStart(), {"quiz_active": False, "quiz_index": 4.0,
                                                 "quiz_score": 3.0}, intent="quiz_start")
    assert slots == {"quiz_active": True, "quiz_index": 0.0, "quiz_score": 0.0}
    question = messages[-1]
    assert question["text"] == (
        "Question 1/6 — Vrai ou faux : pour rejoindre un réseau URBACT, "
        "il faut être bilingue en anglais."
    )
    assert payloads(question)[:2] == ["/quiz_answer_info", "/quiz_answer_intox"]
    assert [b["title"] for b in question["buttons"]][:2] == ["Info", "Intox"]


# --- full quiz ----------------------------------------------------------------------------


def play(answers: List[str]) -> Tuple[List[Messages], Slots]:
    _, slots, _ = run(ActionQuizStart(), dict(FRESH), intent="quiz_start")
    turns = []
    for answer in answers:
        messages, slots, _ = run(ActionQuizAnswer(), slots, intent=answer)
        turns.append(messages)
    return turns, slots


def test_complete_quiz_gives_the_final_score() -> None:
    answers = [INTOX, INFO, INTOX, INTOX, INFO, INTOX]
    turns, slots = play(answers)

    for number, (answer, messages) in enumerate(zip(answers, turns)):
        key = QUIZ_STATEMENTS[number][0]
        expected_verdict = "Bonne réponse" if answer == INTOX else "Pas tout à fait"
        assert messages[0]["text"].startswith(expected_verdict)
        # the explanation is the domain response, not a copy of its text
        assert messages[1]["response"] == f"utter_myth_{key}"
        assert messages[1].get("text") is None
        if number < QUIZ_LENGTH - 1:
            assert messages[-1]["text"] == question_text(number + 1)
            assert messages[-1]["text"].startswith(f"Question {number + 2}/6 — Vrai ou faux : ")
            assert "/quiz_answer_intox" in payloads(messages[-1])

    final = turns[-1][-1]["text"]
    assert "Votre score : 4/6" in final
    assert "Question" not in final
    assert slots["quiz_active"] is False
    assert slots["quiz_score"] == 4.0


def test_scores_after_each_answer_are_stored() -> None:
    _, slots, _ = run(ActionQuizStart(), dict(FRESH), intent="quiz_start")
    _, slots, events = run(ActionQuizAnswer(), slots, intent=INTOX)
    assert {e["name"]: e["value"] for e in events} == {"quiz_index": 1.0, "quiz_score": 1.0}
    _, slots, events = run(ActionQuizAnswer(), slots, intent=INFO)
    assert {e["name"]: e["value"] for e in events} == {"quiz_index": 2.0, "quiz_score": 1.0}


@pytest.mark.parametrize(
    ("answers", "score", "comment"),
    [
        ([INTOX] * 6, 6, "Sans faute"),
        ([INTOX] * 5 + [INFO], 5, "Très bon résultat"),
        ([INFO] * 6, 0, "la vie dure"),
    ],
)
def test_final_score_and_comment(answers: List[str], score: int, comment: str) -> None:
    turns, slots = play(answers)
    final = turns[-1][-1]["text"]
    assert f"Votre score : {score}/6" in final
    assert comment in final
    assert slots["quiz_active"] is False


def test_explanations_follow_the_statement_order() -> None:
    turns, _ = play([INTOX] * 6)
    explained = [r for messages in turns for r in responses(messages) if r]
    assert explained == [f"utter_myth_{key}" for key, _ in QUIZ_STATEMENTS]


# --- bad slot values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0),
        ("abc", 0),
        ("3", 0),
        (True, 0),
        (float("nan"), 0),
        (float("inf"), 0),
        (-3, 0),
        (-0.5, 0),
        (2.7, 2),
        (5.0, 5),
        (99, 5),
        (1e30, 5),
        ([1], 0),
        ({"a": 1}, 0),
    ],
)
def test_bounded_int(value: Any, expected: int) -> None:
    assert bounded_int(value, 0, 5) == expected


@pytest.mark.parametrize("index", ["abc", None, -7, float("nan"), True, {"x": 1}])
def test_invalid_index_counts_as_the_first_statement(index: Any) -> None:
    messages, slots, _ = run(
        ActionQuizAnswer(), {"quiz_active": True, "quiz_index": index, "quiz_score": 0.0}
    )
    assert responses(messages)[1] == "utter_myth_english"
    assert messages[-1]["text"] == question_text(1)
    assert slots["quiz_index"] == 1.0 and slots["quiz_score"] == 1.0


def test_index_too_high_is_clamped_to_the_last_statement() -> None:
    messages, slots, _ = run(
        ActionQuizAnswer(), {"quiz_active": True, "quiz_index": 42.0, "quiz_score": 5.0}
    )
    assert responses(messages)[1] == "utter_myth_useless_exchange"
    assert "Votre score : 6/6" in messages[-1]["text"]
    assert slots["quiz_active"] is False


@pytest.mark.parametrize(("score", "expected"), [(50.0, 3.0), (-4.0, 1.0), ("x", 1.0)])
def test_score_is_clamped_to_the_questions_answered(score: Any, expected: float) -> None:
    # index 2: two statements answered, so at most 2 right answers before this one
    _, slots, _ = run(
        ActionQuizAnswer(), {"quiz_active": True, "quiz_index": 2.0, "quiz_score": score}
    )
    assert slots["quiz_score"] == expected
    assert not math.isnan(slots["quiz_score"])


def test_answer_outside_the_quiz_offers_the_quiz() -> None:
    for active in (None, False, "no", 1):
        messages, slots, events = run(
            ActionQuizAnswer(), {"quiz_active": active, "quiz_index": 3.0, "quiz_score": 2.0}
        )
        assert responses(messages) == ["utter_quiz_answer_outside"]
        assert events == []


def test_a_non_answer_intent_repeats_the_pending_statement() -> None:
    messages, _, events = run(
        ActionQuizAnswer(), {"quiz_active": True, "quiz_index": 2.0, "quiz_score": 1.0},
        intent="greet",
    )
    assert texts(messages) == [question_text(2)]
    assert events == []


# --- stop ---------------------------------------------------------------------------------


def test_stop_midway_gives_the_score_so_far() -> None:
    _, slots, _ = run(ActionQuizStart(), dict(FRESH), intent="quiz_start")
    _, slots, _ = run(ActionQuizAnswer(), slots, intent=INTOX)
    _, slots, _ = run(ActionQuizAnswer(), slots, intent=INFO)
    messages, slots, _ = run(ActionQuizStop(), slots, intent="quiz_stop")
    assert len(messages) == 1
    assert "Quiz arrêté" in messages[0]["text"]
    assert "Votre score : 1/2" in messages[0]["text"]
    assert "/quiz_start" in payloads(messages[0])
    assert slots["quiz_active"] is False
    # after the stop, an answer is no longer part of a quiz
    messages, _, _ = run(ActionQuizAnswer(), slots, intent=INTOX)
    assert responses(messages) == ["utter_quiz_answer_outside"]


def test_stop_before_any_answer() -> None:
    _, slots, _ = run(ActionQuizStart(), dict(FRESH), intent="quiz_start")
    messages, slots, _ = run(ActionQuizStop(), slots, intent="quiz_stop")
    assert "avant votre première réponse" in messages[0]["text"]
    assert "score" not in messages[0]["text"]
    assert slots["quiz_active"] is False


def test_stop_with_forged_slots_never_exceeds_the_questions_answered() -> None:
    messages, _, _ = run(
        ActionQuizStop(), {"quiz_active": True, "quiz_index": 3.0, "quiz_score": 99.0},
        intent="quiz_stop",
    )
    assert "Votre score : 3/3" in messages[0]["text"]


def test_stop_without_a_quiz() -> None:
    messages, _, events = run(ActionQuizStop(), dict(FRESH), intent="quiz_stop")
    assert responses(messages) == ["utter_quiz_not_active"]
    assert events == []
