"""REST channel that never mixes conversations and never answers with silence.

Same URL and payload as Rasa's stock channel (POST /webhooks/rest/webhook with
{"sender": ..., "message": ...}), with these differences:
- a request without a valid "sender" is refused (400) instead of joining a shared
  conversation;
- the conversation id is "rest:" + sender, so a REST client can never write into a
  conversation of another channel (a Slack user's, a website session); the replies still
  carry the sender as the client wrote it in "recipient_id";
- bad input (malformed JSON included) gets a clear French error and a log line, never a
  stack trace nor Sanic's English error page;
- if processing fails or produces no reply (for example the action server is down),
  the user gets a French apology instead of an empty list.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import rasa_fixes

from bot.channels.validation import (
    InvalidInput,
    check_message,
    check_sender,
    optional_metadata,
)

logger = logging.getLogger(__name__)
rasa_fixes.apply()  # this module is loaded by Rasa: install the speed fixes (bot/rasa_fixes.py)

APOLOGY = (
    "Désolé, je rencontre un problème technique et ne peux pas répondre pour le moment. "
    "Réessayez dans un instant ; si cela persiste, le point de contact URBACT France reste "
    "joignable via https://urbact.eu/france-et-luxembourg."
)


NOT_A_JSON_OBJECT = "Le corps de la requête doit être un objet JSON."
CONVERSATION_PREFIX = "rest:"


def apology_for(sender_id: Text) -> Dict[Text, Any]:
    return {"recipient_id": sender_id, "text": APOLOGY}


def conversation_id(sender: Text) -> Text:
    """The conversation of a REST sender: its own namespace, apart from other channels."""
    return CONVERSATION_PREFIX + sender


def json_object(body: bytes) -> Optional[Dict[Text, Any]]:
    """The request body as a JSON object, or None (malformed, not UTF-8, not an object)."""
    try:
        parsed = json.loads(body or b"")
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
    return parsed if isinstance(parsed, dict) else None


class FrenchRestInput(InputChannel):
    """Rasa's REST channel, made safe for several users at once."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = Blueprint("french_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # request.json would answer malformed JSON with Sanic's English error page.
            body = json_object(request.body)
            if body is None:
                logger.warning("rest: refused a request whose body is not a JSON object")
                return response.json({"error": NOT_A_JSON_OBJECT}, status=400)
            try:
                sender = check_sender(body.get("sender"))
                text = check_message(body.get("message"))
            except InvalidInput as error:
                logger.warning("rest: refused request: %s", error.log_reason)
                return response.json({"error": error.user_message}, status=400)

            sender_id = conversation_id(sender)
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender_id,
                input_channel=self.name(),
                metadata=optional_metadata(body.get("metadata")),
            )
            try:
                await on_new_message(message)
            except asyncio.CancelledError:
                logger.error("rest: processing cancelled for sender %s", sender_id)
            except Exception:  # noqa: BLE001 - the user must get an answer anyway
                logger.exception("rest: processing failed for sender %s", sender_id)

            replies: List[Dict[Text, Any]] = [
                {**reply, "recipient_id": sender} for reply in collector.messages
            ]
            if not replies:
                logger.error("rest: no reply produced for sender %s; sent the apology", sender_id)
                replies = [apology_for(sender)]
            return response.json(replies)

        return webhook
