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
  the user gets a French apology instead of an empty list, or a confirmation after a
  "/restart" (bot/channels/apology.py);
- abuse limits (bot/channels/limits.py): body size (French 413), metadata size and nesting
  depth (French 400), messages per minute per conversation and per address (French 429).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import limits
from bot.channels.apology import answer_turn
from bot.channels.limits import LimitSettings, MessageGuard
from bot.channels.validation import (
    TOO_DEEP,
    InvalidInput,
    check_message,
    check_metadata,
    check_sender,
)

logger = logging.getLogger(__name__)

NOT_A_JSON_OBJECT = "Le corps de la requête doit être un objet JSON."
CONVERSATION_PREFIX = "rest:"

def conversation_id(sender: Text) -> Text:
    """The conversation of a REST sender: its own namespace, apart from other channels."""
    return CONVERSATION_PREFIX + sender


def json_object(body: bytes) -> Optional[Dict[Text, Any]]:
    """The request body as a JSON object, or None (malformed, not UTF-8, not an object).

    Raises InvalidInput (French) for JSON nested too deep to decode (RecursionError)."""
    try:
        parsed = json.loads(body or b"")
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
    except RecursionError:
        raise InvalidInput(TOO_DEEP, "JSON body nested too deeply to decode") from None
    return parsed if isinstance(parsed, dict) else None


class LimitedBlueprint(Blueprint):
    """Installs the request body limit on the Sanic app when Rasa registers the channel."""

    def __init__(self, max_request_bytes: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.max_request_bytes = max_request_bytes

    def register(self, app: Any, options: Dict[Text, Any]) -> None:
        limits.install_body_limit(app, self.ctx.max_request_bytes)
        super().register(app, options)


class FrenchRestInput(InputChannel):
    """Rasa's REST channel, made safe for several users at once."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(
        self, settings: Optional[LimitSettings] = None, guard: Optional[MessageGuard] = None
    ) -> None:
        self.limits = settings or limits.settings()
        self.guard = guard or limits.shared_guard()

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = LimitedBlueprint(self.limits.max_request_bytes, "french_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # request.json would answer malformed JSON with Sanic's English error page.
            try:
                body = json_object(request.body)
                if body is None:
                    logger.warning("rest: refused a request whose body is not a JSON object")
                    return response.json({"error": NOT_A_JSON_OBJECT}, status=400)
                sender = check_sender(body.get("sender"))
                text = check_message(body.get("message"))
                metadata = check_metadata(
                    body.get("metadata"),
                    self.limits.metadata_max_chars,
                    self.limits.metadata_max_depth,
                )
            except InvalidInput as error:
                logger.warning("rest: refused request: %s", error.log_reason)
                return response.json({"error": error.user_message}, status=400)

            sender_id = conversation_id(sender)
            refusal = await self.guard.check(self.name(), sender_id, limits.client_address(request))
            if refusal is not None:
                return response.json({"error": refusal}, status=429, headers={"Retry-After": "60"})
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            answer = await answer_turn(
                on_new_message, message, lambda: bool(collector.messages), f"sender {sender_id}"
            )
            if answer is not None:
                return response.json([{"recipient_id": sender, "text": answer}])
            replies: List[Dict[Text, Any]] = [
                {**reply, "recipient_id": sender} for reply in collector.messages
            ]
            return response.json(replies)

        return webhook
