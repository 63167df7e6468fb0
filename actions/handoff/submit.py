"""action_submit_handoff: runs when handoff_form is complete (rule "submit hand-off form").

- No explicit consent (refused, or the form was cancelled): no request is stored or sent;
  the user is told that the conversation itself is kept CONVERSATION_RETENTION_DAYS days
  (Rasa's tracker store, purged by `make purge-conversations`) and how to write to the
  contact point directly.
- Consent: the answers are checked again (a "/" message can fill slots with anything),
  stored, then delivered to the staff's Slack channel at once when Slack answers within its
  deadline; otherwise the request stays pending and the delivery loop sends it later.
  The user is told what happens next either way (an answer by e-mail within a few working
  days). If the database itself fails, the user is told so and given the direct link.
- Idempotent: the submission carries the key drawn when the form started (guards.py); a
  submit retried after its commit finds the stored request and gives the same number. The
  same question with the same e-mail from the same conversation within 24 h is the same
  request too (its confirmation may have been lost with the action server): the visitor
  who asks again gets the stored request's number, and nothing is stored twice.
- Daily limits per conversation and per e-mail address (guards.py): over them, nothing is
  stored and the user is told so in French.
The form slots are emptied in every case.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.db.errors import RepositoryError
from actions.handoff.fields import (
    check_email,
    check_name,
    check_organisation,
    check_question,
)
from actions.handoff.form import (
    CONSENT_SLOT,
    EMAIL_SLOT,
    FORM_SLOTS,
    NAME_SLOT,
    ORGANISATION_SLOT,
    QUESTION_SLOT,
    SUBMISSION_KEY_SLOT,
)
from actions.handoff.guards import WINDOW, DailyLimits, submission_key
from actions.handoff.loop import DELIVERY_LOOP, DeliveryLoop
from actions.handoff.models import HandoffRequest
from actions.handoff.outbox import Outbox, utcnow
from actions.handoff.repository import HandoffRepositoryFactory
from common import settings

logger = logging.getLogger(__name__)


def reset_form() -> List[EventType]:
    return [SlotSet(slot, None) for slot in (*FORM_SLOTS, SUBMISSION_KEY_SLOT)]


class ActionSubmitHandoff(Action):
    def __init__(
        self,
        repositories: Optional[HandoffRepositoryFactory] = None,
        outbox: Optional[Outbox] = None,
        delivery_loop: Optional[DeliveryLoop] = None,
        clock: Callable[[], datetime] = utcnow,
        limits: Optional[DailyLimits] = None,
    ) -> None:
        self._limits = limits
        self._repositories = repositories
        self._outbox = outbox
        self._loop = delivery_loop
        self._clock = clock

    def name(self) -> Text:
        return "action_submit_handoff"

    @property
    def loop(self) -> DeliveryLoop:
        return self._loop or DELIVERY_LOOP

    @property
    def outbox(self) -> Outbox:
        return self._outbox or self.loop.outbox

    @property
    def repositories(self) -> HandoffRepositoryFactory:
        return self._repositories or self.outbox.repositories

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if tracker.get_slot(CONSENT_SLOT) is not True:
            dispatcher.utter_message(
                response="utter_handoff_not_stored", retention_days=settings.CONVERSATION_RETENTION_DAYS.read()
            )
            return reset_form()

        checks = {
            "name": check_name(tracker.get_slot(NAME_SLOT)),
            "organisation": check_organisation(tracker.get_slot(ORGANISATION_SLOT)),
            "email": check_email(tracker.get_slot(EMAIL_SLOT)),
            "question": check_question(tracker.get_slot(QUESTION_SLOT)),
        }
        invalid = [field for field, check in checks.items() if not check.ok]
        if invalid:
            logger.warning("hand-off refused on submit: invalid %s", ", ".join(invalid))
            dispatcher.utter_message(response="utter_handoff_invalid")
            return reset_form()

        values: Dict[str, Any] = {field: check.value for field, check in checks.items()}
        new = HandoffRequest(
            source_channel=tracker.get_latest_input_channel(),
            conversation_id=(tracker.sender_id or "")[:128] or None,
            submission_key=submission_key(tracker),
            **values,
        )
        now = self._clock()
        limits = self._limits or DailyLimits.from_env()
        try:
            async with self.repositories() as repo:
                stored = await repo.find_submission(new.submission_key) if new.submission_key else None
                stored = stored or await repo.find_same_request(new, now - WINDOW)
                refusal = None if stored else await limits.refusal(repo, new, now)
                record = stored or (None if refusal else await repo.create(new, now))
        except RepositoryError as error:
            logger.error("hand-off could not be stored: %s", error)
            dispatcher.utter_message(response="utter_handoff_storage_failed")
            return reset_form()
        if record is None:
            logger.warning("hand-off refused: %s", refusal)
            dispatcher.utter_message(response="utter_handoff_limit_reached")
            return reset_form()

        logger.info("hand-off %s stored (from %s)", record.id, new.source_channel)
        try:
            outcome = await self.outbox.deliver(record.id)
            logger.info("hand-off %s: immediate delivery: %s", record.id, outcome)
        except Exception:  # noqa: BLE001 - stored already: the loop will deliver it
            logger.exception("hand-off %s: immediate delivery failed", record.id)
        try:
            self.loop.ensure_started()
        except Exception:  # noqa: BLE001
            logger.exception("hand-off delivery loop could not start")

        dispatcher.utter_message(
            response="utter_handoff_stored", request_id=record.id, reply_email=record.email
        )
        return reset_form()
