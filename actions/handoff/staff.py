"""Staff commands, answered on Slack only: list open hand-off requests, mark one handled.

- action_staff_list_handoffs ("demandes en attente"): the requests not handled yet, oldest
  first, with whether they reached the Slack channel;
- action_staff_mark_handled ("traiter demande 12", or the button of the Slack message):
  records who handled request 12 and when.
Both fail closed (actions/handoff/staff_access.py): only on Slack, only for the people
listed in SLACK_STAFF_USER_IDS, only in the staff channel or a direct message with the bot.
Without SLACK_STAFF_USER_IDS they are off and say so. Every field the user typed goes
through `defuse` (the Slack channel escapes &, < and > itself), so it stays text.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, Callable, Final, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.db.errors import RepositoryError
from actions.handoff.loop import DELIVERY_LOOP
from actions.handoff.message import defuse, format_date, mark_command
from actions.handoff.models import HandoffRequest
from actions.handoff.outbox import utcnow
from actions.handoff.repository import HandoffRepositoryFactory
from actions.handoff.staff_access import DISABLED_TEXT, WRONG_PLACE_TEXT, Verdict, check_staff

logger = logging.getLogger(__name__)

LIST_LIMIT: Final[int] = 10
QUESTION_PREVIEW: Final[int] = 140
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,9})(?![\d.,]\d)")


def request_number(text: Any) -> Optional[int]:
    """The request number in "traiter demande 12", "demande n°12 traitée", "#12"..."""
    if not isinstance(text, str):
        return None
    match = _NUMBER.search(text)
    return int(match.group(1)) if match else None


def preview(text: str, limit: int = QUESTION_PREVIEW) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def describe(record: HandoffRequest) -> str:
    delivery = "reçue sur Slack" if record.is_delivered else "pas encore arrivée sur Slack"
    return (
        f"• n° {record.id} du {format_date(record.created_at)} — {defuse(record.name)} "
        f"({defuse(record.organisation)}), {defuse(record.email)} — "
        f"« {preview(defuse(record.question))} » — {delivery}"
    )


class _StaffAction(Action, ABC):
    """Shared by the staff actions (abstract: not registered as an action itself)."""

    def __init__(
        self,
        repositories: Optional[HandoffRepositoryFactory] = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._repositories = repositories
        self._clock = clock

    @abstractmethod
    def name(self) -> Text: ...

    @property
    def repositories(self) -> HandoffRepositoryFactory:
        return self._repositories or DELIVERY_LOOP.outbox.repositories

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        user = self._staff_user(dispatcher, tracker)
        if user is not None:
            try:
                await self.answer(dispatcher, tracker, user)
            except RepositoryError as error:
                logger.error("%s: %s", self.failure_label(tracker), error)
                dispatcher.utter_message(response="utter_staff_db_unavailable")
        return []

    @abstractmethod
    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, user: str) -> None:
        """The command's answer, for an allowed staff member."""

    @abstractmethod
    def failure_label(self, tracker: Tracker) -> str:
        """How the log names this command when the database fails."""

    def _staff_user(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[str]:
        """The Slack user id of an allowed staff member, or None after saying why not."""
        access = check_staff(tracker)
        if access.allowed:
            return access.user
        logger.warning(
            "staff command %s refused: %s (input channel %s)",
            self.name(),
            access.verdict.value,
            tracker.get_latest_input_channel(),
        )
        if access.verdict is Verdict.DISABLED:
            dispatcher.utter_message(text=DISABLED_TEXT)
        elif access.verdict is Verdict.WRONG_PLACE:
            dispatcher.utter_message(text=WRONG_PLACE_TEXT)
        else:
            dispatcher.utter_message(response="utter_staff_only")
        return None


def _number(tracker: Tracker) -> Optional[int]:
    return request_number((tracker.latest_message or {}).get("text"))


class ActionStaffListHandoffs(_StaffAction):
    def name(self) -> Text:
        return "action_staff_list_handoffs"

    def failure_label(self, tracker: Tracker) -> str:
        return "staff list"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, user: str) -> None:
        async with self.repositories() as repo:
            records = await repo.list_open(LIST_LIMIT)
            total = await repo.count_open()
        if not records:
            dispatcher.utter_message(text="Aucune demande en attente : tout est traité.")
            return
        title = (
            f"{total} demande(s) en attente, de la plus ancienne à la plus récente"
            + (f" (les {len(records)} premières)" if total > len(records) else "")
            + " :"
        )
        lines = [title, *(describe(r) for r in records)]
        lines.append(f"Une fois la réponse envoyée par e-mail : « {mark_command(records[0].id)} ».")
        dispatcher.utter_message(text="\n".join(lines))


class ActionStaffMarkHandled(_StaffAction):
    def name(self) -> Text:
        return "action_staff_mark_handled"

    def failure_label(self, tracker: Tracker) -> str:
        return f"staff mark handled {_number(tracker)}"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, user: str) -> None:
        number = _number(tracker)
        if number is None:
            dispatcher.utter_message(
                text="Quelle demande ? Indiquez son numéro, par exemple « traiter demande 12 »."
            )
            return
        async with self.repositories() as repo:
            result = await repo.mark_handled(number, user, self._clock())
        if result.status == "missing" or result.record is None:
            dispatcher.utter_message(text=f"Je ne trouve aucune demande n° {number}.")
        elif result.status == "already":
            when = format_date(result.record.handled_at) if result.record.handled_at else "?"
            dispatcher.utter_message(text=f"La demande n° {number} était déjà traitée (le {when}).")
        else:
            logger.info("hand-off %s marked handled by %s", number, user)
            dispatcher.utter_message(
                text=f"C'est noté : la demande n° {number} ({defuse(result.record.name)}) est traitée. Merci !"
            )
