"""Who may use the staff commands, and where. Fails closed.

A staff command is accepted only when all of these hold:
- the message came through the Slack channel (input channel "slack");
- SLACK_STAFF_USER_IDS (comma-separated Slack user ids) is set: without it the commands
  are off, and say so;
- the Slack user who wrote (metadata "user", set by bot/channels/slack.py from the signed
  Slack request) is in that list;
- the message was written in the staff channel (SLACK_STAFF_CHANNEL) or in a direct
  message with the bot (metadata "direct_message").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, Final, Mapping, Optional

from rasa_sdk import Tracker

from common import settings

STAFF_CHANNEL: Final[str] = "slack"


class Verdict(str, Enum):
    ALLOWED = "allowed"
    NOT_SLACK = "not_slack"
    DISABLED = "disabled"
    NOT_ALLOWED = "not_allowed"
    WRONG_PLACE = "wrong_place"


DISABLED_TEXT: Final[str] = (
    "Les commandes de l'équipe (demandes en attente, traiter une demande) sont désactivées : "
    "aucune personne autorisée n'est configurée. L'administrateur doit renseigner "
    "SLACK_STAFF_USER_IDS (identifiants Slack des membres de l'équipe) sur le serveur d'actions."
)
WRONG_PLACE_TEXT: Final[str] = (
    "Les commandes de l'équipe ne répondent que dans le canal de l'équipe ou en message "
    "direct avec moi : écrivez-la à l'un de ces deux endroits, s'il vous plaît."
)


@dataclass(frozen=True)
class StaffAccess:
    verdict: Verdict
    user: Optional[str] = None

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED


def _metadata(tracker: Tracker) -> Dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def slack_user(tracker: Tracker) -> Optional[str]:
    """The Slack user id of the latest message, as the Slack channel recorded it."""
    user = _metadata(tracker).get("user")
    return user if isinstance(user, str) and user else None


def _in_staff_place(metadata: Dict[str, Any], env: Optional[Mapping[str, str]]) -> bool:
    if metadata.get("direct_message") is True:
        return True
    staff_channel = settings.SLACK_STAFF_CHANNEL.read(env).lstrip("#")
    return bool(staff_channel) and metadata.get("out_channel") == staff_channel


def check_staff(tracker: Tracker, env: Optional[Mapping[str, str]] = None) -> StaffAccess:
    if tracker.get_latest_input_channel() != STAFF_CHANNEL:
        return StaffAccess(Verdict.NOT_SLACK)
    allowed = settings.SLACK_STAFF_USER_IDS.read(env)
    if not allowed:
        return StaffAccess(Verdict.DISABLED)
    user = slack_user(tracker)
    if user is None or user not in allowed:
        return StaffAccess(Verdict.NOT_ALLOWED)
    if not _in_staff_place(_metadata(tracker), env):
        return StaffAccess(Verdict.WRONG_PLACE, user)
    return StaffAccess(Verdict.ALLOWED, user)
