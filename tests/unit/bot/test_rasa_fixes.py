"""bot/rasa_fixes.py: the reused validator accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot import rasa_fixes

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "network", "value": "BioCanteens"},
            {"event": "followup", "name": "action_listen"},
        ],
        "responses": [{"text": "Bonjour", "buttons": [{"title": "Oui", "payload": "/affirm"}]}],
    },
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},  # a slot event needs a name
    {"responses": ["plain string instead of an object"]},
    {"events": [{"event": "no_such_event"}]},
]


def stock_verdict(answer: Dict[str, Any]) -> str:
    try:
        validate(answer, RemoteAction.action_response_format_spec())
        return "ok"
    except ValidationError as error:
        return f"error: {error.message}"


def fixed_verdict(answer: Dict[str, Any]) -> str:
    try:
        rasa_fixes._validate_action_result(None, answer)
        return "ok"
    except ValidationError as error:
        return f"error: {error.message.split('. Failed to validate')[0]}"


@pytest.mark.parametrize("answer", VALID + INVALID)
def test_same_verdict_as_rasa(answer: Dict[str, Any]) -> None:
    assert fixed_verdict(answer) == stock_verdict(answer)


@pytest.mark.parametrize("answer", INVALID)
def test_invalid_answers_are_rejected_with_rasa_message(answer: Dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        rasa_fixes._validate_action_result(None, answer)


def test_apply_installs_the_fix_once() -> None:
    rasa_fixes.apply()
    rasa_fixes.apply()
    assert RemoteAction._validate_action_result is rasa_fixes._validate_action_result
    assert RemoteAction(
        "action_x", None
    )._validate_action_result({"events": [], "responses": []}) is True


def test_the_schema_is_checked_once_not_per_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    from jsonschema.validators import validator_for

    cls = validator_for(RemoteAction.action_response_format_spec())
    calls = []
    original = cls.check_schema.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s: calls.append(1) or original(c, s)))
    monkeypatch.setattr(rasa_fixes, "_validator", None)
    for _ in range(3):
        rasa_fixes._validate_action_result(None, VALID[1])
    assert len(calls) == 1


def test_event_classes_resolve_as_in_rasa() -> None:
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
    from rasa.shared.utils.common import all_subclasses

    rasa_fixes.apply()
    for cls in all_subclasses(Event):
        stock = next(c for c in all_subclasses(Event) if c.type_name == cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is stock
        assert Event.resolve_by_type(cls.type_name) is stock  # cached
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    events = [UserUttered("bonjour", {"name": "greet", "confidence": 1.0}), ActionExecuted("action_listen"),
              SlotSet("network", "BioCanteens")]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events
