"""The hand-off's words about what is kept are true (issue 10, point 6.1).

Rasa's own Domain and response generator on our domain.yml: after "non" or "annuler" the
reply says what stays (the conversation, for CONVERSATION_RETENTION_DAYS days) instead of
"je n'enregistre aucune de vos informations"; slots are not carried into a new session.
"""

from __future__ import annotations

from pathlib import Path

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[3] / "domain.yml"))


def test_slots_are_not_carried_over_to_a_new_session() -> None:
    assert DOMAIN.session_config.carry_over_slots is False


async def test_refusal_says_what_is_kept_and_for_how_long() -> None:
    tracker = DialogueStateTracker.from_events(
        "t", [SlotSet("handoff_name", "Jeanne Martin")], slots=DOMAIN.slots
    )
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    reply = await nlg.generate("utter_handoff_not_stored", tracker, "rest", retention_days=45)
    text = reply["text"]
    assert "aucune de vos informations" not in text
    assert "historique de notre conversation" in text and "45 jours" in text
    assert "{" not in text and "Jeanne" not in text
    assert "https://urbact.eu/france-et-luxembourg" in text
