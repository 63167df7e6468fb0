"""The summary of recorded events (bot/insights/summary.py), on events as Rasa stores them."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timezone

from rasa.shared.core.events import ActiveLoop

from bot.insights.summary import SUMMARY_KEYS, build_insights, build_summary
from bot.insights.synthetic import TURNS, Turn, conversation_events, stored_events, turn_events

TODAY = datetime.now(timezone.utc).date()
WEEK_AGO = date.fromordinal(TODAY.toordinal() - 6)
NOW = datetime.combine(TODAY, time(12), tzinfo=timezone.utc).timestamp()  # mid-day: never across midnight
OFF_TOPIC = Turn("Quel temps fera-t-il demain à Brest ?", "out_of_scope", "utter_out_of_scope")
PERSONAL = Turn("écrivez-moi à jeanne.martin@ville.fr ou au 06 12 34 56 78", "nlu_fallback", "action_rephrase")


def test_an_empty_period_has_every_key_and_nothing_counted() -> None:
    insights = build_insights([], WEEK_AGO, TODAY)
    summary = insights.summary
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["period"] == {"since": WEEK_AGO.isoformat(), "until": TODAY.isoformat()}
    assert (summary["conversations"], summary["user_messages"], summary["fallback_rate"]) == (0, 0, 0.0)
    assert summary["top_topics"] == summary["asked_cities"] == summary["unanswered"] == []
    assert set(summary["myths"].values()) == {0} and "myth_english" in summary["myths"]
    assert summary["feedback"] == {"up": 0, "down": 0}
    assert summary["handoffs"] == {"pending": 0, "sending": 0, "delivered": 0, "handled": 0}
    assert [day.user_messages for day in insights.daily] == [0] * 7


def test_one_conversation_with_known_counts() -> None:
    turns = list(TURNS) + [OFF_TOPIC, Turn("/feedback{\"rating\": \"down\"}", "feedback", "utter_feedback_thanks",
                                           (("rating", "down"),))]
    events = stored_events("rest:visiteur", conversation_events(turns, NOW))
    summary = build_summary(events, WEEK_AGO, TODAY, {"delivered": 2, "handled": 1})
    assert summary["conversations"] == 1
    assert summary["user_messages"] == 10
    assert summary["fallback_rate"] == 0.1  # the tartiflette, answered by action_rephrase
    assert summary["top_topics"][0] == {"topic": "Réseaux d'une ville", "count": 2}
    assert {"topic": "Qu'est-ce qu'URBACT ?", "count": 1} in summary["top_topics"]
    assert all(t["topic"] not in ("Autre sujet", "feedback") for t in summary["top_topics"])
    assert summary["myths"]["myth_english"] == summary["myths"]["myth_time"] == 1
    assert summary["asked_cities"] == [{"name": "Lyon", "count": 1}, {"name": "Nantes", "count": 1}]
    assert summary["asked_networks"] == [{"name": "Eat4Climate", "count": 1}]
    assert summary["feedback"] == {"up": 1, "down": 1}
    assert summary["handoffs"] == {"pending": 0, "sending": 0, "delivered": 2, "handled": 1}
    assert {group["text"] for group in summary["unanswered"]} == {
        "quelle est la recette de la tartiflette ?", "Quel temps fera-t-il demain à Brest ?"}


def test_the_answering_action_decides_a_fallback_over_the_intent() -> None:
    """A tentative answer (action_rephrase after a confident intent) is a fallback; an
    nlu_fallback answered by a form is not."""
    guessed = Turn("et pour les sous ?", "ask_funding_programme", "action_rephrase")
    in_form = Turn("je ne sais pas trop", "nlu_fallback", "handoff_form")
    events = stored_events("s", conversation_events([guessed, in_form], NOW))
    summary = build_summary(events, WEEK_AGO, TODAY)
    assert summary["fallback_rate"] == 0.5
    assert [g["text"] for g in summary["unanswered"]] == ["et pour les sous ?"]


def test_messages_typed_in_a_form_never_appear() -> None:
    events = conversation_events([], NOW) + [ActiveLoop("handoff_form", timestamp=NOW + 1)]
    events += turn_events(Turn("Ma question porte sur mon dossier", "nlu_fallback", "action_rephrase"), NOW + 2)
    events += [ActiveLoop(None, timestamp=NOW + 3)]
    events += turn_events(Turn("blablabla", "nlu_fallback", "action_rephrase"), NOW + 4)
    summary = build_summary(stored_events("s", events), WEEK_AGO, TODAY)
    assert summary["user_messages"] == 2 and summary["fallback_rate"] == 1.0
    assert [g["text"] for g in summary["unanswered"]] == ["blablabla"]


def test_near_duplicate_misses_are_grouped_and_personal_data_masked() -> None:
    turns = [Turn("C'est quoi la tartiflette ?", "nlu_fallback", "action_rephrase"),
             Turn("c est quoi la tartiflete", "nlu_fallback", "action_rephrase"),
             Turn("/ask_benefits", "nlu_fallback", "action_rephrase"),  # a button: not a typed miss
             PERSONAL]
    events = [e for n, sender in enumerate(("a", "b", "c", "d"))
              for e in stored_events(sender, conversation_events([turns[n]], NOW + n))]
    summary = build_summary(events, WEEK_AGO, TODAY)
    assert summary["conversations"] == 4
    assert summary["unanswered"] == [{"text": "C'est quoi la tartiflette ?", "count": 2},
                                     {"text": "écrivez-moi à [e-mail] ou au [téléphone]", "count": 1}]
    dumped = json.dumps(summary, ensure_ascii=False)
    assert "jeanne" not in dumped and "56 78" not in dumped and '"a"' not in dumped


def test_messages_are_counted_on_their_day() -> None:
    yesterday = NOW - 86400
    events = stored_events("a", conversation_events([TURNS[0]], yesterday))
    events += stored_events("b", conversation_events([TURNS[5], TURNS[0]], NOW))
    daily = build_insights(events, WEEK_AGO, TODAY).daily
    assert [(d.user_messages, d.fallbacks) for d in daily[-2:]] == [(1, 0), (2, 1)]
