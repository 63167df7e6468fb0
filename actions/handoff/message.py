"""The Slack message that tells the staff about a hand-off request.

Everything the user typed stays text (`staff_text`): invisible characters (bidi overrides,
zero-width) are removed, Markdown link syntax "[label](url)" is broken up so that no
formatting step turns it into a disguised link, and &, < and > are escaped (Slack's rules),
so a question cannot ping the channel ("<!channel>") or fake a link ("<https://x|label>").
The message carries Slack message metadata with a delivery token: after an uncertain
attempt, the outbox looks for it in the channel history instead of posting a second copy.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from typing import Any, Dict, Final, List

from actions.handoff.models import HandoffRequest

METADATA_EVENT_TYPE: Final[str] = "urbact_handoff"
CHANNEL_LABELS: Final[Dict[str, str]] = {"rest": "API REST", "socketio": "site web", "slack": "Slack", "cmdline": "terminal"}


_MD_LINK_JOIN = re.compile(r"\]\s*\(")


def escape(text: str) -> str:
    """&, < and > as Slack wants them in mrkdwn (its only control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def defuse(text: str) -> str:
    """User text without invisible characters and with Markdown links broken up.

    For text that a later step escapes for Slack (the channel's to_mrkdwn escapes &, <, >
    but turns "[label](https://...)" into a link): "[label](url)" becomes "[label] (url)",
    shown as typed, never as a link.
    """
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _MD_LINK_JOIN.sub("] (", visible)


def staff_text(text: str) -> str:
    """User text for a Slack mrkdwn message sent as is: defused, then escaped."""
    return escape(defuse(text))


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in staff_text(text).splitlines())


def format_date(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%d/%m/%Y à %H:%M UTC")


def mark_command(request_id: int) -> str:
    return f"traiter demande {request_id}"


def notification_text(request: HandoffRequest) -> str:
    origin = CHANNEL_LABELS.get(request.source_channel or "", request.source_channel or "inconnu")
    return (
        f":envelope_with_arrow: *Nouvelle demande de contact n° {request.id}* "
        f"(via {escape(origin)}, le {format_date(request.created_at)})\n"
        f"*Nom* : {staff_text(request.name)}\n"
        f"*Organisation* : {staff_text(request.organisation)}\n"
        f"*E-mail* : {staff_text(request.email)}\n"
        f"*Question* :\n{_quote(request.question)}\n"
        f"La personne a accepté que ces informations soient enregistrées. Répondez-lui par "
        f"e-mail, puis écrivez « {mark_command(request.id)} » en mentionnant le bot, ou cliquez "
        f"sur le bouton."
    )


def notification_blocks(request: HandoffRequest) -> List[Dict[str, Any]]:
    text = notification_text(request)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Marquer comme traitée"},
                    "value": mark_command(request.id),
                    "action_id": "handoff_mark_handled",
                }
            ],
        },
    ]


def notification_metadata(request: HandoffRequest) -> Dict[str, Any]:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"request_id": request.id, "token": request.delivery_token},
    }
