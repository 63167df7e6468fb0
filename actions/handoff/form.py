"""validate_handoff_form: checks each answer of the hand-off form as it comes.

The form (domain: handoff_form) asks, in order: handoff_name, handoff_organisation,
handoff_email, handoff_question, then handoff_consent with a summary of the answers.
An answer that does not fit is refused with a French explanation (the slot is emptied, so
the form asks again). "annuler", "stop"... at any step ends the form with no consent:
action_submit_handoff then stores nothing.

When the form starts, Rasa calls this action with the answers still in the slots (e.g. a
previous form whose submit never ran because the action server was down): every form slot
is emptied instead of being validated, so old answers are never re-submitted without the
summary being shown again, and a fresh idempotency key is drawn for this submission
(handoff_submission_key; see action_submit_handoff).
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Dict, Final, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.handoff import fields

FORM_NAME: Final[str] = "handoff_form"
NAME_SLOT: Final[str] = "handoff_name"
ORGANISATION_SLOT: Final[str] = "handoff_organisation"
EMAIL_SLOT: Final[str] = "handoff_email"
QUESTION_SLOT: Final[str] = "handoff_question"
CONSENT_SLOT: Final[str] = "handoff_consent"
FORM_SLOTS: Final[tuple[str, ...]] = (NAME_SLOT, ORGANISATION_SLOT, EMAIL_SLOT, QUESTION_SLOT, CONSENT_SLOT)
SUBMISSION_KEY_SLOT: Final[str] = "handoff_submission_key"
CANCELLED_TEXT: Final[str] = "Entendu, j'abandonne cette demande de mise en relation."


def cancelled(slot: str) -> Dict[Text, Any]:
    """Slots that end the form at once, without consent (so nothing is stored)."""
    return {slot: None, CONSENT_SLOT: False, "requested_slot": None}


def form_is_starting(tracker: Tracker) -> bool:
    """True when Rasa validates while activating the form (FormAction.activate).

    Rasa then sends a tracker whose last ``active_loop`` event (the activation) comes after
    the latest user message; on every later turn a user message (the answer) comes after it.
    """
    if (tracker.active_loop or {}).get("name") != FORM_NAME:
        return True
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop":
            return event.get("name") == FORM_NAME
    return False


def fresh_form_events() -> List[EventType]:
    """Every form slot emptied, and a new idempotency key for this submission."""
    return [SlotSet(slot, None) for slot in FORM_SLOTS] + [
        SlotSet(SUBMISSION_KEY_SLOT, uuid.uuid4().hex)
    ]


def _slot_validator(slot: str, check: Callable[[Any], fields.Checked]) -> Callable[..., Dict[Text, Any]]:
    """The `validate_<slot>` method rasa-sdk calls for one form answer."""

    def validate(
        self: "ValidateHandoffForm", value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return self._validate(slot, value, check, dispatcher)

    return validate


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_handoff_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if form_is_starting(tracker):
            return fresh_form_events()
        return await super().run(dispatcher, tracker, domain)

    @staticmethod
    def _validate(
        slot: str,
        value: Any,
        check: Callable[[Any], fields.Checked],
        dispatcher: CollectingDispatcher,
    ) -> Dict[Text, Any]:
        if isinstance(value, str) and fields.wants_to_cancel(value):
            dispatcher.utter_message(text=CANCELLED_TEXT)
            return cancelled(slot)
        result = check(value)
        if not result.ok:
            dispatcher.utter_message(text=result.problem or "Je n'ai pas compris votre réponse.")
            return {slot: None}
        return {slot: result.value}

    validate_handoff_name = _slot_validator(NAME_SLOT, fields.check_name)
    validate_handoff_organisation = _slot_validator(ORGANISATION_SLOT, fields.check_organisation)
    validate_handoff_email = _slot_validator(EMAIL_SLOT, fields.check_email)
    validate_handoff_question = _slot_validator(QUESTION_SLOT, fields.check_question)

    def validate_handoff_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is False:
            return {CONSENT_SLOT: False}
        if isinstance(value, str) and fields.wants_to_cancel(value):
            return {CONSENT_SLOT: False}
        return self._validate(CONSENT_SLOT, value, fields.check_consent, dispatcher)
