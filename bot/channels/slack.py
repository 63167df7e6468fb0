"""Slack channel for the national contact-point staff.

Registered in credentials.yml as `bot.channels.slack.UrbactSlackInput`; same URL as Rasa's
stock channel: POST /webhooks/slack/webhook (Events API and interactivity). Differences with
Rasa's SlackInput:
- every request must be signed with the app's signing secret: unsigned, wrongly signed,
  stale (timestamp more than 5 minutes away) or replayed (signature already seen) requests
  get 401 and reach nothing (bot/channels/slack_guard.py);
- Slack retries (X-Slack-Retry-Num) and the double delivery of a mention ("message" +
  "app_mention") are processed once: event ids and message keys are remembered for an
  hour, in this process's memory or, when SHARED_REDIS_URL is set, in the Redis every Rasa
  instance shares (so is the memory of signatures). When that Redis fails the request gets
  a 503 and nothing is processed: Slack retries it later (why: slack_guard.py);
- staff write in a direct message or mention the bot in a channel; replies go in the
  thread of their message (use_threads, on by default); the bot mention, e-mail and link
  markup are removed from the text the assistant sees (bot/channels/slack_text.py);
- the Slack Web API base URL is configurable (env SLACK_API_BASE_URL, default
  https://slack.com/api/), so tests can point it at a local stand-in;
- buttons get a readable text version listing the choices; more than five buttons are
  sent as text only;
- a failed turn is answered with the same French apology as the other channels, never
  silence; a message that is too long gets a French explanation;
- "stats de la semaine" from an allow-listed staff member is answered before NLU with the
  week's figures and chart (bot/channels/slack_stats.py); from anyone else it is a message
  to the assistant like any other.

The staff channel (SLACK_STAFF_CHANNEL) is where the action server posts hand-off requests;
here it only marks the messages that come from it (metadata "staff_channel": true) and
direct messages with the bot (metadata "direct_message": true): the staff commands answer
only there, and only to the Slack users of SLACK_STAFF_USER_IDS (metadata "user"). The
bot never answers plain messages in a channel: it must be mentioned (or clicked).
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, FrozenSet, List, Optional, Set, Text, Tuple

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.apology import answer_turn
from bot.channels.slack_guard import (
    EVENT_MEMORY_SECONDS,
    SIGNATURE_MEMORY_SECONDS,
    SeenMemory,
    SharedMemoryUnavailable,
    SlackRequestGuard,
    memory_for,
)
from bot.channels.slack_stats import WRONG_PLACE_TEXT, Asker, answer_staff, asker, is_stats_request
from bot.channels.slack_text import button_blocks, clean_incoming, fallback_text, to_mrkdwn
from bot.channels.validation import InvalidInput, check_message, check_sender
from common import settings

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = settings.SLACK_API_BASE_URL.default
API_TIMEOUT_SECONDS = 10
# Message subtypes that are still a person writing to the bot (edits, joins, bot posts... are not).
USER_SUBTYPES = frozenset({"", "file_share", "thread_broadcast"})
MEMORY_UNAVAILABLE = (
    "Service momentanément indisponible : la requête sera traitée quand Slack la renverra."
)
EMPTY_MENTION_HINT = (
    "Oui ? Écrivez votre question après la mention, par exemple « demandes en attente »."
)


def resolve_api_base_url(configured: Optional[Text] = None) -> Text:
    url = (configured or settings.SLACK_API_BASE_URL.read()).strip()
    return url if url.endswith("/") else url + "/"


class UrbactSlackBot(SlackBot):
    """Rasa's SlackBot with a configurable API URL, readable buttons and logged failures."""

    def __init__(
        self,
        token: Text,
        slack_channel: Optional[Text] = None,
        thread_id: Optional[Text] = None,
        proxy: Optional[Text] = None,
        base_url: Text = DEFAULT_API_BASE_URL,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(
            token=token,
            base_url=base_url,
            proxy=proxy,
            timeout=API_TIMEOUT_SECONDS,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
                AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            ],
        )
        self.sent = 0
        self.failed = 0

    async def _post_message(self, channel: Text, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)  # legacy argument, refused by new Slack apps
        kwargs.pop("type", None)  # not a chat.postMessage argument
        if self.thread_id:
            kwargs["thread_ts"] = self.thread_id
        try:
            await self.client.chat_postMessage(channel=channel, **kwargs)
        except (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as error:
            self.failed += 1
            logger.error("slack: chat.postMessage to %s failed: %s", channel, error)
            return
        self.sent += 1

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        recipient = self.slack_channel or recipient_id
        await self._post_message(channel=recipient, text=to_mrkdwn(text.strip()))

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        recipient = self.slack_channel or recipient_id
        readable = to_mrkdwn(fallback_text(text.strip(), buttons))
        blocks = button_blocks(text.strip(), buttons)
        if blocks is None:
            logger.info("slack: %d button(s) sent as a text list", len(buttons))
            await self._post_message(channel=recipient, text=readable)
        else:
            await self._post_message(channel=recipient, text=readable, blocks=blocks)


class UrbactSlackInput(SlackInput):
    """Signed, de-duplicated, threaded Slack input for the contact-point staff."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "UrbactSlackInput":
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        return cls(
            slack_token=credentials.get("slack_token", ""),
            slack_signing_secret=credentials.get("slack_signing_secret", ""),
            proxy=credentials.get("proxy"),
            use_threads=bool(credentials.get("use_threads", True)),
            conversation_granularity=credentials.get("conversation_granularity", "sender"),
            staff_channel=credentials.get("slack_staff_channel"),
            api_base_url=credentials.get("slack_api_base_url"),
            bot_user_id=credentials.get("slack_bot_user_id"),
        )

    def __init__(
        self,
        slack_token: Text,
        slack_signing_secret: Text = "",
        proxy: Optional[Text] = None,
        use_threads: bool = True,
        conversation_granularity: Optional[Text] = "sender",
        staff_channel: Optional[Text] = None,
        api_base_url: Optional[Text] = None,
        bot_user_id: Optional[Text] = None,
        staff_user_ids: Optional[FrozenSet[str]] = None,
        *,
        signature_memory: Optional[SeenMemory] = None,
        event_memory: Optional[SeenMemory] = None,
    ) -> None:
        # slack_channel stays None: the bot answers in the channel it was written in and
        # never listens to every message of a channel.
        super().__init__(
            slack_token,
            slack_channel=None,
            proxy=proxy,
            use_threads=use_threads,
            slack_signing_secret=slack_signing_secret,
            conversation_granularity=conversation_granularity,
        )
        self.staff_channel = (staff_channel or "").lstrip("#") or None
        self.api_base_url = resolve_api_base_url(api_base_url)
        self.bot_user_id = bot_user_id
        self.staff_user_ids = (
            settings.SLACK_STAFF_USER_IDS.read() if staff_user_ids is None else staff_user_ids
        )
        # Default memories: SHARED_REDIS_URL's Redis when set, else this process's memory.
        self.guard = SlackRequestGuard(
            slack_signing_secret,
            memory=signature_memory or memory_for("signatures", SIGNATURE_MEMORY_SECONDS),
        )
        self.seen_events = event_memory or memory_for("events", EVENT_MEMORY_SECONDS)
        self._tasks: Set["asyncio.Task[None]"] = set()
        logger.info(
            "slack: channel ready (API %s, threads %s, staff channel %s)",
            self.api_base_url,
            "on" if use_threads else "off",
            self.staff_channel or "unset",
        )

    # -- output -----------------------------------------------------------------------

    def get_output_channel(
        self, channel: Optional[Text] = None, thread_id: Optional[Text] = None
    ) -> OutputChannel:
        return UrbactSlackBot(
            self.slack_token,
            channel or self.slack_channel,
            thread_id,
            self.proxy,
            base_url=self.api_base_url,
        )

    # -- input helpers ----------------------------------------------------------------

    def _is_supported_channel(self, slack_event: Dict, metadata: Dict) -> bool:
        # Direct messages and mentions only; Rasa's version also accepts any event whose
        # channel equals slack_channel, which is None here and would match channel-less events.
        return self._is_direct_message(slack_event) or self._is_app_mention(slack_event)

    def get_metadata(self, request: Request) -> Dict[Text, Any]:
        """Where to answer (channel, thread), who wrote, and the bot's own user ids."""
        content_type = _content_type(request)
        metadata: Dict[Text, Any] = {}
        if content_type == "application/json":
            payload = _json_payload(request) or {}
            event = _event_of(payload)
            users: List[Text] = list(payload.get("authed_users") or [])
            for authorization in payload.get("authorizations") or []:
                if isinstance(authorization, dict) and authorization.get("user_id"):
                    users.append(authorization["user_id"])
            metadata = {
                "out_channel": event.get("channel"),
                "thread_id": event.get("thread_ts") or event.get("ts"),
                "users": users,
                "user": event.get("user"),
                "event_id": payload.get("event_id"),
                "direct_message": _is_direct(event.get("channel"), event.get("channel_type")),
            }
        elif content_type == "application/x-www-form-urlencoded":
            payload = _interaction_payload(request) or {}
            message = payload.get("message") or {}
            user = (payload.get("user") or {}).get("id")
            channel = payload.get("channel") or {}
            metadata = {
                "out_channel": channel.get("id"),
                "thread_id": message.get("thread_ts") or message.get("ts"),
                "users": [],  # no text to clean: the value of the clicked button
                "user": user,
                "direct_message": _is_direct(
                    channel.get("id"), "im" if channel.get("name") == "directmessage" else None
                ),
            }
        metadata["staff_channel"] = bool(
            self.staff_channel and metadata.get("out_channel") == self.staff_channel
        )
        return metadata

    def _checked(self, text: Text, user: Any, metadata: Dict[Text, Any]) -> Tuple[Text, Text]:
        """The text and the conversation id of a turn; raises InvalidInput (French)."""
        conversation = self._get_conversation_id(user, metadata.get("out_channel"), metadata.get("thread_id"))
        return check_message(text), check_sender(conversation)

    def _thread_for(self, metadata: Dict[Text, Any]) -> Optional[Text]:
        return metadata.get("thread_id") if self.use_threads else None

    async def _first_time(self, keys: List[Text]) -> bool:
        """True when none of the keys was seen; records them all (atomically).

        Raises SharedMemoryUnavailable when the shared memory fails (the webhook answers 503)."""
        return await self.seen_events.first_time(keys)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _answered_as_stats(self, text: Text, metadata: Dict[Text, Any]) -> bool:
        """True when the staff's "stats de la semaine" was taken care of here (not the NLU's)."""
        if not is_stats_request(text):
            return False
        who = asker(metadata, self.staff_user_ids)
        if who is Asker.OTHER:
            return False
        if who is Asker.STAFF_ELSEWHERE:
            self._spawn(self._reply_directly(metadata, WRONG_PLACE_TEXT))
            return True
        output = self.get_output_channel(metadata.get("out_channel"), self._thread_for(metadata))
        assert isinstance(output, UrbactSlackBot)
        self._spawn(answer_staff(output.client, metadata.get("out_channel") or "", output.thread_id))
        return True

    def _start(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: Text,
        sender_id: Text,
        metadata: Dict[Text, Any],
    ) -> None:
        output = self.get_output_channel(metadata.get("out_channel"), self._thread_for(metadata))
        message = UserMessage(
            text, output, sender_id, input_channel=self.name(), metadata=metadata
        )
        self._spawn(self._handle(message, on_new_message))

    async def _handle(
        self, message: UserMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        output = message.output_channel

        def answered() -> bool:  # a failed post was logged already: no apology on top
            return not isinstance(output, UrbactSlackBot) or output.sent + output.failed > 0

        answer = await answer_turn(on_new_message, message, answered, f"sender {message.sender_id}")
        if answer is not None:
            await output.send_text_message(message.sender_id or "", answer)

    async def _reply_directly(self, metadata: Dict[Text, Any], text: Text) -> None:
        output = self.get_output_channel(metadata.get("out_channel"), self._thread_for(metadata))
        await output.send_text_message(metadata.get("out_channel") or "", text)

    # -- webhook ----------------------------------------------------------------------

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        slack_webhook = Blueprint("urbact_slack_webhook", __name__)

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            try:
                return await self._on_request(request, on_new_message)
            except SharedMemoryUnavailable:
                # logged by the memory (one line, rate-limited); no X-Slack-No-Retry: Slack
                # sends the request again later, when the memory may be back
                return response.text(MEMORY_UNAVAILABLE, status=HTTPStatus.SERVICE_UNAVAILABLE)

        return slack_webhook

    async def _on_request(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Every POST: the guard first, then the event or the interaction."""
        reason = await self.guard.rejection_reason(request.headers, request.body or b"")
        if reason:
            logger.warning("slack: refused request from %s: %s", request.ip, reason)
            return response.text(
                "Requête refusée : signature Slack absente, invalide ou périmée.",
                status=HTTPStatus.UNAUTHORIZED,
            )
        content_type = _content_type(request)
        if content_type == "application/json":
            return await self._on_event(request, on_new_message)
        if content_type == "application/x-www-form-urlencoded":
            return await self._on_interaction(request, on_new_message)
        logger.warning("slack: ignored a request with content type %r", content_type)
        return response.text("Type de contenu non pris en charge.", status=415)

    async def _on_event(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        payload = _json_payload(request)
        if payload is None:
            logger.warning("slack: refused an event whose body is not a JSON object")
            return response.text("Corps JSON attendu.", status=HTTPStatus.BAD_REQUEST)
        if payload.get("type") == "url_verification":
            return response.json({"challenge": payload.get("challenge")})

        event = _event_of(payload)
        retry = request.headers.get("X-Slack-Retry-Num")
        if (
            payload.get("type") != "event_callback"
            or not self._is_user_message(payload)
            or (event.get("subtype") or "") not in USER_SUBTYPES
        ):
            return response.text("ignored")

        metadata = self.get_metadata(request)
        if not self._is_supported_channel(payload, metadata):
            logger.debug("slack: ignored a channel message that does not mention the bot")
            return response.text("ignored")

        keys = [
            f"event:{payload.get('event_id')}" if payload.get("event_id") else "",
            f"message:{event.get('channel')}:{event.get('ts')}" if event.get("ts") else "",
        ]
        if not await self._first_time(keys):
            logger.info(
                "slack: duplicate of event %s (retry %s) not processed again",
                payload.get("event_id"),
                retry or "-",
            )
            return response.text("duplicate", headers={"X-Slack-No-Retry": "1"})

        bot_ids = list(metadata.get("users") or []) + [self.bot_user_id or ""]
        text = clean_incoming(
            str(event.get("text") or ""), bot_ids, is_mention=self._is_app_mention(payload)
        )
        if not text:
            await self._reply_directly(metadata, EMPTY_MENTION_HINT)
            return response.text("")
        try:
            text, sender_id = self._checked(text, event.get("user"), metadata)
        except InvalidInput as error:
            logger.warning("slack: refused event %s: %s", payload.get("event_id"), error.log_reason)
            await self._reply_directly(metadata, error.user_message)
            return response.text("")

        if not self._answered_as_stats(text, metadata):
            self._start(on_new_message, text, sender_id, metadata)
        return response.text("")

    async def _on_interaction(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        payload = _interaction_payload(request)
        if payload is None:
            return response.text("Interaction illisible.", status=HTTPStatus.BAD_REQUEST)
        if not self._is_interactive_message(payload):
            return response.text("ignored")
        action = payload["actions"][0]
        text = self._get_interactive_response(action)
        if text is None:
            # link buttons have no value: nothing to send to the assistant
            return response.text("ignored")
        if not await self._first_time([f"interaction:{payload.get('trigger_id') or ''}"]):
            return response.text("duplicate")
        metadata = self.get_metadata(request)
        try:
            text, sender_id = self._checked(str(text), (payload.get("user") or {}).get("id"), metadata)
        except InvalidInput as error:
            logger.warning("slack: refused interaction: %s", error.log_reason)
            return response.text("refused")
        self._start(on_new_message, text, sender_id, metadata)
        return response.text("")


def _is_direct(channel: Any, channel_type: Any) -> bool:
    """A direct message with the bot: Slack's channel type "im", or a "D…" channel id."""
    return channel_type == "im" or (isinstance(channel, str) and channel.startswith("D"))


def _event_of(payload: Dict[Text, Any]) -> Dict[Text, Any]:
    event = payload.get("event")
    return event if isinstance(event, dict) else {}


def _content_type(request: Request) -> Text:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def _json_payload(request: Request) -> Optional[Dict[Text, Any]]:
    try:
        payload = json.loads(request.body or b"")
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _interaction_payload(request: Request) -> Optional[Dict[Text, Any]]:
    try:
        raw = request.form.get("payload")
        payload = json.loads(raw) if raw else None
    except (ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None
