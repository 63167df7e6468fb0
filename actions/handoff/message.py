"""The Slack message that tells the staff about a hand-off request.

Everything the user typed is escaped (&, <, >), so a question cannot ping the channel
("<!channel>") or fake a link. The message carries Slack message metadata with a
delivery token: after an uncertain attempt, the outbox looks for it in the channel
history instead of posting a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Final, List, Optional

METADATA_EVENT_TYPE: Final[str] = "urbact_handoff"
CHANNEL_LABELS: Final[Dict[str, str]] = {
    "rest": "API REST",
    "socketio": "site web",
    "slack": "Slack",
    "cmdline": "terminal",
}


@dataclass(frozen=True)
class HandoffView:
    """What the staff need to see about a request (no database types here)."""

    id: int
    name: str
    organisation: str
    email: str
    question: str
    source_channel: Optional[str]
    created_at: datetime
    delivery_token: str


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in escape(text).splitlines())


def format_date(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%d/%m/%Y à %H:%M UTC")


def mark_command(request_id: int) -> str:
    return f"traiter demande {request_id}"


def notification_text(view: HandoffView) -> str:
    origin = CHANNEL_LABELS.get(view.source_channel or "", view.source_channel or "inconnu")
    return (
        f":envelope_with_arrow: *Nouvelle demande de contact n° {view.id}* "
        f"(via {escape(origin)}, le {format_date(view.created_at)})\n"
        f"*Nom* : {escape(view.name)}\n"
        f"*Organisation* : {escape(view.organisation)}\n"
        f"*E-mail* : {escape(view.email)}\n"
        f"*Question* :\n{_quote(view.question)}\n"
        f"La personne a accepté que ces informations soient enregistrées. Répondez-lui par "
        f"e-mail, puis écrivez « {mark_command(view.id)} » en mentionnant le bot, ou cliquez "
        f"sur le bouton."
    )


def notification_blocks(view: HandoffView) -> List[Dict[str, Any]]:
    text = notification_text(view)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Marquer comme traitée"},
                    "value": mark_command(view.id),
                    "action_id": "handoff_mark_handled",
                }
            ],
        },
    ]


def notification_metadata(view: HandoffView) -> Dict[str, Any]:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"request_id": view.id, "token": view.delivery_token},
    }
