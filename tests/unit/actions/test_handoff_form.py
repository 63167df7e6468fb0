"""Unit tests for validate_handoff_form: real rasa_sdk FormValidationAction, no Rasa server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff.form import FORM_SLOTS, ValidateHandoffForm
from tests.conftest import build_tracker

DOMAIN_DRAFT = Path(__file__).resolve().parents[3] / ".drafts" / "domain_handoff.yml"
DOMAIN: Dict[str, Any] = {"forms": {"handoff_form": {"required_slots": list(FORM_SLOTS)}}}


def tracker_after_answer(slot: str, value: Any, filled: Dict[str, Any] | None = None) -> Tracker:
    """The tracker the action server receives once Rasa extracted `value` for `slot`."""
    slots = {name: None for name in FORM_SLOTS}
    slots.update(filled or {})
    slots["requested_slot"] = slot
    events: List[Dict[str, Any]] = [
        {"event": "action", "name": "handoff_form"},
        {"event": "user", "text": str(value), "parse_data": {"intent": {"name": "inform"}}},
        {"event": "slot", "name": slot, "value": value},
    ]
    slots[slot] = value
    return build_tracker(
        "inform", text=str(value), slots=slots, sender="tester", events=events, active_loop={"name": "handoff_form"}
    )


async def validate(slot: str, value: Any) -> tuple[Dict[str, Any], List[str]]:
    dispatcher = CollectingDispatcher()
    events = await ValidateHandoffForm().run(dispatcher, tracker_after_answer(slot, value), DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return slots, [m.get("text") or "" for m in dispatcher.messages]


def test_the_action_validates_the_form_of_the_domain_draft() -> None:
    assert ValidateHandoffForm().name() == "validate_handoff_form"
    if DOMAIN_DRAFT.exists():
        domain = yaml.safe_load(DOMAIN_DRAFT.read_text(encoding="utf-8"))
        assert domain["forms"]["handoff_form"]["required_slots"] == list(FORM_SLOTS)
        assert "validate_handoff_form" in domain["actions"]
        for slot in FORM_SLOTS:
            assert f"utter_ask_{slot}" in domain["responses"]


async def test_valid_email_is_kept_normalised() -> None:
    slots, messages = await validate("handoff_email", "c'est Jeanne.Dupont@Ville.FR")
    assert slots == {"handoff_email": "Jeanne.Dupont@ville.fr"}
    assert messages == []


async def test_invalid_email_empties_the_slot_and_explains() -> None:
    slots, messages = await validate("handoff_email", "jeanne.dupont at ville.fr")
    assert slots == {"handoff_email": None}
    assert len(messages) == 1 and "e-mail" in messages[0]


async def test_name_and_organisation_are_cleaned() -> None:
    assert (await validate("handoff_name", "  Jeanne   Dupont "))[0] == {"handoff_name": "Jeanne Dupont"}
    slots, _ = await validate("handoff_organisation", "Mairie de Saint-Aubin")
    assert slots == {"handoff_organisation": "Mairie de Saint-Aubin"}


async def test_too_short_question_is_asked_again() -> None:
    slots, messages = await validate("handoff_question", "aide")
    assert slots == {"handoff_question": None}
    assert "courte" in messages[0]


@pytest.mark.parametrize(("answer", "expected"), [(True, True), (False, False), ("oui", True), ("non merci", False)])
async def test_consent_becomes_a_boolean(answer: Any, expected: bool) -> None:
    slots, messages = await validate("handoff_consent", answer)
    assert slots == {"handoff_consent": expected}
    assert messages == []


async def test_unclear_consent_is_asked_again() -> None:
    slots, messages = await validate("handoff_consent", "peut-être plus tard")
    assert slots == {"handoff_consent": None}
    assert "oui" in messages[0]


@pytest.mark.parametrize("slot", ["handoff_name", "handoff_email", "handoff_question"])
async def test_cancelling_ends_the_form_without_consent(slot: str) -> None:
    slots, messages = await validate(slot, "annuler")
    assert slots[slot] is None
    assert slots["handoff_consent"] is False
    assert slots["requested_slot"] is None  # Rasa's FormAction stops the loop on this
    assert "abandonne" in messages[0]


def tracker_at_activation(filled: Dict[str, Any]) -> Tracker:
    """What Rasa's FormAction.activate sends: the activation after the latest user message."""
    events: List[Dict[str, Any]] = [
        {"event": "user", "text": "je voudrais être recontacté", "parse_data": {"intent": {"name": "request_handoff"}}},
        {"event": "active_loop", "name": "handoff_form"},
        {"event": "slot", "name": "requested_slot", "value": None},
        {"event": "action", "name": "handoff_form"},
    ] + [{"event": "slot", "name": name, "value": value} for name, value in filled.items()]
    slots = {name: None for name in FORM_SLOTS}
    slots.update(filled)
    return Tracker("tester", slots, {"intent": {"name": "request_handoff"}, "text": "", "entities": []},
                   events, False, None, {"name": "handoff_form"}, "action_listen")


async def test_old_answers_are_emptied_when_the_form_starts() -> None:
    old = {"handoff_name": "Jeanne Dupont", "handoff_email": "jeanne@saint-aubin.fr", "handoff_consent": True}
    dispatcher = CollectingDispatcher()
    events = await ValidateHandoffForm().run(dispatcher, tracker_at_activation(old), DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert {name: slots[name] for name in FORM_SLOTS} == {name: None for name in FORM_SLOTS}
    assert len(slots["handoff_submission_key"]) == 32
    assert "requested_slot" not in slots and dispatcher.messages == []


async def test_answers_during_the_form_are_validated_not_emptied() -> None:
    slots, _ = await validate("handoff_name", "Jeanne Dupont")
    assert slots == {"handoff_name": "Jeanne Dupont"}
