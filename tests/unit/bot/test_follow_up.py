"""A short follow-up leans towards the previous topic only when the classifier hesitates."""

from __future__ import annotations

from typing import List, Optional, Tuple

from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.follow_up import FollowUpContext


def tracker_after(intent: Optional[str]) -> DialogueStateTracker:
    tracker = DialogueStateTracker("test", slots=[])
    if intent is not None:
        tracker.update(UserUttered("message d'avant", {"name": intent, "confidence": 0.9}))
    return tracker


def message(text: str, ranking: List[Tuple[str, float]]) -> Message:
    ranks = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message({TEXT: text, INTENT: ranks[0], INTENT_RANKING_KEY: ranks})


def understood(text: str, ranking: List[Tuple[str, float]], previous: Optional[str]) -> str:
    processed = FollowUpContext({}).process([message(text, ranking)], tracker_after(previous))[0]
    return str(processed.get(INTENT)["name"])


def test_hesitant_follow_up_takes_the_previous_topic() -> None:
    ranking = [("ask_implementation_funding", 0.5), ("benefit_expertise", 0.3), ("myth_time", 0.1)]
    assert understood("c'est a nous de le payer ?", ranking, "benefit_expertise") == "benefit_expertise"


def test_follow_up_read_as_out_of_scope_takes_the_previous_topic() -> None:
    ranking = [("out_of_scope", 0.7), ("myth_time", 0.05)]
    assert understood("et les resultats on les voit quand ?", ranking, "myth_time") == "myth_time"


def test_confident_other_topic_is_kept() -> None:
    ranking = [("ask_open_calls", 0.9), ("benefit_expertise", 0.05)]
    assert understood("il y a un appel ouvert ?", ranking, "benefit_expertise") == "ask_open_calls"


def test_a_plain_yes_stays_a_yes() -> None:
    ranking = [("affirm", 0.6), ("myth_time", 0.2)]
    assert understood("oui merci", ranking, "myth_time") == "affirm"


def test_long_message_is_a_new_question() -> None:
    text = "on a un projet de tiers-lieu depuis deux ans et on se demande si un reseau pourrait nous aider"
    ranking = [("search_networks", 0.4), ("myth_time", 0.3)]
    assert understood(text, ranking, "myth_time") == "search_networks"


def test_nothing_changes_without_a_topic_before() -> None:
    ranking = [("out_of_scope", 0.7), ("myth_time", 0.1)]
    assert understood("et les resultats on les voit quand ?", ranking, None) == "out_of_scope"
    assert understood("et les resultats on les voit quand ?", ranking, "greet") == "out_of_scope"
    processed = FollowUpContext({}).process([message("et alors ?", ranking)], None)[0]
    assert processed.get(INTENT)["name"] == "out_of_scope"


def test_the_change_is_recorded_and_decisive() -> None:
    ranking = [("out_of_scope", 0.7), ("myth_time", 0.05)]
    processed = FollowUpContext({}).process([message("et on les voit quand ?", ranking)], tracker_after("myth_time"))[0]
    assert processed.get("follow_up") == {"previous": "myth_time", "replaced": "out_of_scope"}
    ranks = processed.get(INTENT_RANKING_KEY)
    assert ranks[0]["confidence"] >= 0.6 and all(r["confidence"] <= ranks[0]["confidence"] / 2 for r in ranks[1:])


def test_a_place_named_after_a_field_example_asks_for_that_place_s_example() -> None:
    ranks = [{"name": "inform", "confidence": 0.86}, {"name": "ask_field_example", "confidence": 0.01}]
    with_city = Message({TEXT: "et strasbourg elle a fait quoi ?", INTENT: ranks[0], INTENT_RANKING_KEY: ranks,
                         ENTITIES: [{"entity": "city", "value": "Strasbourg", "start": 3, "end": 13}]})
    processed = FollowUpContext({}).process([with_city], tracker_after("ask_field_example"))[0]
    assert processed.get(INTENT)["name"] == "ask_field_example"


def test_a_place_named_after_a_database_question_stays_a_follow_up() -> None:
    ranks = [{"name": "inform", "confidence": 0.86}, {"name": "ask_city_networks", "confidence": 0.01}]
    with_city = Message({TEXT: "et a rennes ?", INTENT: ranks[0], INTENT_RANKING_KEY: ranks,
                         ENTITIES: [{"entity": "city", "value": "Rennes", "start": 5, "end": 11}]})
    processed = FollowUpContext({}).process([with_city], tracker_after("ask_city_networks"))[0]
    assert processed.get(INTENT)["name"] == "inform"  # action_inform merges it into the last query


def test_inform_without_a_place_after_a_field_example_is_not_changed() -> None:
    ranking = [("inform", 0.86), ("ask_field_example", 0.01)]
    assert understood("et la ?", ranking, "ask_field_example") == "inform"


def test_a_who_question_after_the_local_group_is_about_the_group() -> None:
    ranking = [("ask_network_partners", 0.78), ("ask_countries", 0.08), ("ulg_mobilise", 0.01)]
    assert understood("qui doit en faire partie ?", ranking, "ulg_what") == "ulg_what"


def test_a_who_question_after_another_topic_stays_a_network_question() -> None:
    ranking = [("ask_network_lead", 0.9), ("myth_contacts", 0.01)]
    assert understood("qui est chef de file ?", ranking, "myth_contacts") == "ask_network_lead"


def test_a_who_question_about_a_discussed_network_stays_a_network_question() -> None:
    from rasa.shared.core.slots import TextSlot

    tracker = DialogueStateTracker("test", slots=[TextSlot("network", mappings=[{}]), TextSlot("last_query", mappings=[{}])])
    tracker.update(UserUttered("message d'avant", {"name": "ulg_what", "confidence": 0.9}))
    tracker._set_slot("network", "BoostInno")
    ranking = [{"name": "ask_network_partners", "confidence": 0.78}, {"name": "ulg_what", "confidence": 0.01}]
    processed = FollowUpContext({}).process(
        [Message({TEXT: "qui en fait partie ?", INTENT: ranking[0], INTENT_RANKING_KEY: ranking})], tracker)[0]
    assert processed.get(INTENT)["name"] == "ask_network_partners"


def tracker_with(previous: str, **slots: str) -> DialogueStateTracker:
    from rasa.shared.core.slots import TextSlot

    names = ("network", "last_query", "last_call")
    tracker = DialogueStateTracker("test", slots=[TextSlot(name, mappings=[{}]) for name in names])
    tracker.update(UserUttered("message d'avant", {"name": previous, "confidence": 0.9}))
    for name, value in slots.items():
        tracker._set_slot(name, value)
    return tracker


def understood_in(text: str, ranking: List[Tuple[str, float]], tracker: DialogueStateTracker,
                  entities: Tuple[str, ...] = ()) -> str:
    msg = message(text, ranking)
    msg.set(ENTITIES, [{"entity": kind, "value": "x"} for kind in entities])
    return str(FollowUpContext({}).process([msg], tracker)[0].get(INTENT)["name"])


def test_a_short_question_after_a_call_answer_is_about_that_call() -> None:
    tracker = tracker_with("ask_last_call", last_call="urbact4-transfer-2025")
    for text, ranking in (
        ("combien de reseaux ont ete retenus finalement ?", [("ask_network_types", 0.73), ("ask_history", 0.1)]),
        ("et combien max par projet ?", [("ask_funding_programme", 0.9), ("ask_last_call", 0.02)]),
        ("ca ouvre quand exactement ?", [("ask_history", 0.81), ("ask_open_calls", 0.05)]),
    ):
        assert understood_in(text, ranking, tracker) == "ask_last_call", text


def test_after_a_call_answer_a_handoff_or_a_long_new_question_is_kept() -> None:
    tracker = tracker_with("ask_open_calls", last_call="urbact4-transfer-2025")
    assert understood_in("je voudrais parler a quelqu un", [("request_handoff", 0.9)], tracker) == "request_handoff"
    long = "et sinon de maniere generale est ce que urbact finance aussi les travaux des villes apres le reseau ?"
    assert understood_in(long, [("ask_funding_programme", 0.9)], tracker) == "ask_funding_programme"
    assert understood_in("et a rennes ?", [("ask_history", 0.6)], tracker, ("city",)) == "ask_history"


def test_without_a_call_in_the_conversation_nothing_changes() -> None:
    tracker = tracker_with("ask_last_call")
    assert understood_in("et combien max par projet ?", [("ask_funding_programme", 0.9)], tracker) == "ask_funding_programme"


def test_a_date_question_about_the_network_in_focus_asks_its_details() -> None:
    tracker = tracker_with("ask_city_networks", network="SHIFT-R")
    for text in ("il court sur quelles annees ?", "il se termine quand", "ca se passait quand ?"):
        assert understood_in(text, [("ask_history", 0.89), ("ask_network_duration", 0.05)], tracker) == \
            "ask_network_details", text
    # not a date question, or no network in focus: unchanged
    assert understood_in("ca dure combien de temps ?", [("ask_network_duration", 0.9)], tracker) == "ask_network_duration"
    assert understood_in("il se termine quand", [("ask_history", 0.89)], tracker_with("ask_city_networks")) == "ask_history"


def test_a_follow_up_pointing_back_at_a_field_example_stays_on_it() -> None:
    tracker = tracker_with("ask_field_example")
    assert understood_in("et leur groupe local, ca s'est bien passe ?", [("ulg_what", 0.84)], tracker) == "ask_field_example"
    assert understood_in("ils ont fait quoi pour la suite ?", [("ask_city_networks", 0.55)], tracker) == "ask_field_example"
    assert understood_in("comment on monte un groupe local ?", [("ulg_what", 0.9)], tracker) == "ulg_what"
