"""Unit tests for actions/fallback.py and actions/topics.py (real rasa_sdk objects)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionRephrase, suggested_intents
from actions.topics import TOPIC_LABELS
from tests.conftest import build_tracker

# Copy of the intent catalogue of .drafts/COMMON.md (the draft folder is not committed).
CATALOGUE: Set[str] = {
    # brochure
    "ask_what_is_urbact", "ask_funding_programme", "ask_countries", "ask_governance",
    "ask_history", "ask_network_types", "ask_network_duration", "ask_how_to_join", "ask_benefits",
    "benefit_local_strategy", "benefit_existing_projects", "benefit_good_practices",
    "benefit_expertise", "ask_action_plan", "skills_cross_department", "skills_local_actors",
    "skills_promote_territory", "ulg_what", "ulg_mobilise", "ulg_keep_alive",
    "ulg_elected_officials", "ask_field_example", "ask_vigilance_points",
    # conversation & myths
    "greet", "goodbye", "thank", "bot_challenge", "help", "out_of_scope", "affirm", "deny",
    "answer_not_helpful",
    "myth_contacts", "myth_no_idea", "myth_english", "myth_time", "myth_complexity",
    "myth_useless_exchange", "quiz_start", "quiz_answer_info", "quiz_answer_intox", "quiz_stop",
    # database
    "search_networks", "ask_network_details", "ask_network_lead", "ask_network_partners",
    "ask_city_networks", "inform", "ask_open_calls", "ask_last_call",
    "ask_implementation_funding", "ask_contact_point",
    # hand-off
    "request_handoff",
}

RANKING = [
    {"name": "nlu_fallback", "confidence": 0.55},
    {"name": "ask_benefits", "confidence": 0.31},
    {"name": "out_of_scope", "confidence": 0.22},
    {"name": "greet", "confidence": 0.15},
    {"name": "myth_english", "confidence": 0.12},
    {"name": "search_networks", "confidence": 0.08},
    {"name": "ask_history", "confidence": 0.05},
]


def fallback_tracker(
    ranking: Optional[List[Any]], failed: Any = None, quiz_active: Any = None
) -> Tracker:
    return build_tracker(
        "nlu_fallback", text="blabla incompréhensible", confidence=0.55, ranking=ranking,
        slots={"failed_attempts": failed, "quiz_active": quiz_active},
    )


def run(
    ranking: Optional[List[Any]], failed: Any = None, quiz_active: Any = None
) -> Tuple[Dict[str, Any], float]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionRephrase().run(dispatcher, fallback_tracker(ranking, failed, quiz_active), {})
    )
    assert len(dispatcher.messages) == 1
    assert len(events) == 1 and events[0]["event"] == "slot"
    assert events[0]["name"] == "failed_attempts"
    return dispatcher.messages[0], events[0]["value"]


def payloads(message: Dict[str, Any]) -> List[str]:
    return [b["payload"] for b in message.get("buttons") or []]


# --- labels -------------------------------------------------------------------------------


def test_every_catalogue_intent_has_a_label() -> None:
    missing = CATALOGUE - set(TOPIC_LABELS)
    assert not missing, f"intents without a label in actions/topics.py: {sorted(missing)}"


def test_labels_cover_the_intents_of_the_domain(domain: Dict[str, Any]) -> None:
    intents = domain.get("intents") or []
    names = {i if isinstance(i, str) else next(iter(i)) for i in intents}
    assert not names - set(TOPIC_LABELS) - {"nlu_fallback"}


def test_labels_are_short_unique_french_texts() -> None:
    labels = list(TOPIC_LABELS.values())
    assert len(labels) == len(set(labels)), "two intents share a button title"
    for intent, label in TOPIC_LABELS.items():
        assert 2 <= len(label) <= 40, intent
        assert "_" not in label, intent


# --- suggestions --------------------------------------------------------------------------


def test_top_three_topics_become_buttons_with_labels() -> None:
    message, attempts = run(RANKING, failed=None)
    assert attempts == 1.0
    assert payloads(message) == ["/ask_benefits", "/myth_english", "/search_networks"]
    assert [b["title"] for b in message["buttons"]] == [
        TOPIC_LABELS["ask_benefits"],
        TOPIC_LABELS["myth_english"],
        TOPIC_LABELS["search_networks"],
    ]
    assert "reformuler" in message["text"]
    assert "/request_handoff" not in payloads(message)


def test_fallback_and_out_of_scope_are_never_suggested() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.9},
        {"name": "out_of_scope", "confidence": 0.5},
        {"name": "ask_countries", "confidence": 0.1},
    ]
    assert suggested_intents(ranking) == ["ask_countries"]


def test_ranking_is_sorted_deduplicated_and_unknown_intents_dropped() -> None:
    ranking = [
        {"name": "ask_history", "confidence": 0.1},
        {"name": "made_up_intent", "confidence": 0.9},
        {"name": "ulg_what", "confidence": 0.4},
        {"name": "ulg_what", "confidence": 0.3},
        {"confidence": 0.8},
        "garbage",
        {"name": 12, "confidence": 0.7},
        {"name": "ask_open_calls", "confidence": "high"},
    ]
    assert suggested_intents(ranking) == ["ulg_what", "ask_history", "ask_open_calls"]


def test_quiz_answers_are_only_suggested_during_the_quiz() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "quiz_answer_intox", "confidence": 0.4},
        {"name": "myth_time", "confidence": 0.2},
    ]
    assert suggested_intents(ranking, quiz_active=False) == ["myth_time"]
    assert suggested_intents(ranking, quiz_active=True) == ["quiz_answer_intox", "myth_time"]
    message, _ = run(ranking, quiz_active=True)
    assert payloads(message)[0] == "/quiz_answer_intox"


@pytest.mark.parametrize("ranking", [None, [], [{"name": "nlu_fallback", "confidence": 1.0}]])
def test_without_usable_ranking_the_main_topics_are_offered(ranking: Any) -> None:
    message, _ = run(ranking)
    assert payloads(message) == ["/ask_what_is_urbact", "/ask_benefits", "/search_networks"]
    assert "reformuler" in message["text"]


# --- failed attempts and hand-off ----------------------------------------------------------


def test_second_failure_offers_the_handoff() -> None:
    first, attempts = run(RANKING, failed=None)
    assert attempts == 1.0 and "/request_handoff" not in payloads(first)
    second, attempts = run(RANKING, failed=attempts)
    assert attempts == 2.0
    assert payloads(second)[-1] == "/request_handoff"
    assert second["buttons"][-1]["title"] == TOPIC_LABELS["request_handoff"]
    assert payloads(second)[:3] == ["/ask_benefits", "/myth_english", "/search_networks"]
    assert "point de contact national" in second["text"]


def test_handoff_still_offered_after_more_failures() -> None:
    message, attempts = run(RANKING, failed=5.0)
    assert attempts == 6.0
    assert payloads(message).count("/request_handoff") == 1


def test_handoff_is_not_duplicated_when_it_is_in_the_ranking() -> None:
    ranking = [{"name": "request_handoff", "confidence": 0.5}, *RANKING]
    message, _ = run(ranking, failed=1.0)
    assert payloads(message).count("/request_handoff") == 1


@pytest.mark.parametrize("failed", ["abc", -4, float("nan"), True, [2]])
def test_invalid_failed_attempts_counts_as_zero(failed: Any) -> None:
    message, attempts = run(RANKING, failed=failed)
    assert attempts == 1.0
    assert "/request_handoff" not in payloads(message)


def test_action_name() -> None:
    assert ActionRephrase().name() == "action_rephrase"


# --- the closest fixed answer, given as a guess ------------------------------------------


def guess_run(candidates: List[Dict[str, Any]], responses: Dict[str, Any]) -> Tuple[CollectingDispatcher, list]:
    tracker = fallback_tracker(RANKING)
    tracker.latest_message["answer_search"] = {"rescued": False, "candidates": candidates}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRephrase().run(dispatcher, tracker, {"responses": responses}))
    return dispatcher, events


def test_a_close_fixed_answer_is_given_with_a_way_to_say_it_did_not_help() -> None:
    candidates = [
        {"name": "myth_time", "score": 0.34},
        {"name": "myth_complexity", "score": 0.2},
        {"name": "greet", "score": 0.1},
    ]
    dispatcher, events = guess_run(candidates, {"utter_myth_time": [{"text": "..."}]})
    assert events == []  # not counted as a failure
    intro, answer, question = dispatcher.messages
    assert "Le temps à y consacrer" in intro["text"]
    assert answer["response"] == "utter_myth_time"
    assert payloads(question) == ["/answer_not_helpful", "/myth_complexity"]


def test_no_guess_when_the_match_is_weak_or_has_no_fixed_answer() -> None:
    weak = [{"name": "myth_time", "score": 0.1}]
    dispatcher, events = guess_run(weak, {"utter_myth_time": [{"text": "..."}]})
    assert "reformuler" in dispatcher.messages[0]["text"] and events[0]["name"] == "failed_attempts"
    database = [{"name": "ask_city_networks", "score": 0.6}]
    dispatcher, _ = guess_run(database, {"utter_myth_time": [{"text": "..."}]})
    assert "reformuler" in dispatcher.messages[0]["text"]
    dispatcher, _ = guess_run([{"name": "greet", "score": 0.9}], {"utter_greet": [{"text": "..."}]})
    assert "reformuler" in dispatcher.messages[0]["text"]


def test_forged_answer_search_data_is_ignored() -> None:
    for forged in ([{"name": 3, "score": "x"}], "nonsense", [None]):
        tracker = fallback_tracker(RANKING)
        tracker.latest_message["answer_search"] = {"candidates": forged}
        dispatcher = CollectingDispatcher()
        asyncio.run(ActionRephrase().run(dispatcher, tracker, {"responses": {"utter_greet": []}}))
        assert "reformuler" in dispatcher.messages[0]["text"]
