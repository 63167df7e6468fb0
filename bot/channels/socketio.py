"""Socket.IO channel for the website chat, compatible with Rasa's web widgets.

Same protocol as Rasa's stock channel (rasa/core/channels/socketio.py): the client
emits ``session_request`` ({"session_id": ...}) and gets ``session_confirm`` (the
session id, a string); it emits ``user_uttered`` ({"message": ..., "session_id": ...})
and gets one ``bot_uttered`` per bot message ({"text": ...}, {"text": ...,
"quick_replies": [...]}, {"attachment": ...}). Widgets written for the stock channel
work unchanged. Differences, all fixes:

- the socket joins its session's room with an awaited ``enter_room`` (the stock channel
  forgets the ``await``: with python-socketio >= 5.10 the bot's replies, sent to that
  room, never reach the browser; RasaHQ/rasa#13027);
- only the origins of an allow-list may connect (``cors_allowed_origins`` in
  credentials.yml, or the WEB_ALLOWED_ORIGINS environment variable), besides the pages
  this very server serves on localhost; "*" is refused;
- the server, not the browser, chooses the session id: a random id plus an HMAC-signed
  token (extra event ``session_token``, ignored by widgets that do not know it). A client
  resumes its session only by presenting that token; an unknown or unsigned id gets a
  fresh session, so nobody can join or guess someone else's conversation. Messages go
  to the session bound to the socket, never to a ``session_id`` the client writes in;
- messages are checked like the REST channel's (non-empty, at most 2000 characters);
- abuse limits (bot/channels/limits.py): metadata size and nesting depth, messages per
  minute per conversation and per client address, body size of HTTP polling requests and
  of websocket messages; each refusal answers in French (``bot_uttered``);
- a packet that socket.io cannot decode (malformed JSON, JSON nested too deep) gets a
  French answer instead of silence (`FrenchAsyncServer`);
- if processing fails or produces no reply, the user gets the French apology (a
  "/restart" typed by the user gets a French confirmation instead);
- the channel also serves the demo page and the widget under ``web_path`` (/chat);
- several instances: when SHARED_REDIS_URL is set, the socket.io server emits through
  python-socketio's AsyncRedisManager (pub/sub channel ``urbact-socketio``), so a reply
  sent to a session's room by any instance reaches the socket on whichever instance it is
  connected to; WEB_SESSION_SECRET is then required (web_sessions.py). A socket's own
  state (its session, its address) stays on the instance it is connected to: with HTTP
  long-polling, the proxy must send a client's requests to one instance (sticky).

The parts: origins (bot/channels/web_origins.py), signed sessions (web_sessions.py), the
socket.io event handlers (web_handlers.py), the page and widget files (web_assets.py);
here, the socket.io server and the channel Rasa registers.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot.channels import limits, shared_redis
from bot.channels.validation import TOO_DEEP
from bot.channels.web_assets import add_web_routes
from bot.channels.web_handlers import SessionHandlers, SocketOptions, WebsiteOutput
from bot.channels.web_origins import OriginPolicy, allowed_origins_from
from bot.channels.web_sessions import DEFAULT_TOKEN_TTL_HOURS, signer_from_environment

logger = logging.getLogger(__name__)
UNREADABLE_PACKET = (
    "Message illisible : le widget a envoyé des données mal formées. Rechargez la page et "
    "réessayez, s'il vous plaît."
)


class FrenchAsyncServer(AsyncServer):
    """python-socketio's server, answering in French a packet it cannot decode.

    Stock python-socketio raises while decoding (malformed JSON: ValueError; JSON nested
    too deep: RecursionError) and python-engineio only logs it: the visitor got silence.
    Here the socket gets a ``bot_uttered`` with a French explanation and the log one line.
    """

    def __init__(self, *args: Any, bot_message_evt: str = "bot_uttered", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bot_message_evt = bot_message_evt
        self.channel_namespace: Optional[str] = None

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, RecursionError) as error:
            namespace = self.channel_namespace or "/"
            sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
            logger.warning(
                "socketio: refused an undecodable packet of %d characters (%s)",
                len(data) if isinstance(data, (str, bytes)) else 0,
                type(error).__name__,
            )
            if sid is not None:
                text = TOO_DEEP if isinstance(error, RecursionError) else UNREADABLE_PACKET
                await self.emit(self.bot_message_evt, {"text": text}, to=sid, namespace=namespace)


def client_manager_from_environment(environ: Optional[Dict[str, str]] = None) -> Any:
    """python-socketio's Redis manager on SHARED_REDIS_URL, or None (this process alone)."""
    url = shared_redis.shared_url(environ)
    if not url:
        return None
    return AsyncRedisManager(
        url,
        channel=shared_redis.SOCKETIO_CHANNEL,
        redis_options=shared_redis.socketio_redis_options(),
    )


class SocketBlueprint(Blueprint):
    """Attaches the Socket.IO server and the chat's web assets to the Sanic app."""

    def __init__(
        self,
        sio: AsyncServer,
        socketio_path: Text,
        web_path: Optional[Text],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.sio = sio
        self.ctx.socketio_path = socketio_path
        self.ctx.web_path = web_path

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        limits.install_body_limit(app, limits.settings().max_request_bytes)
        self.ctx.sio.attach(app, self.ctx.socketio_path)
        if self.ctx.web_path:
            add_web_routes(app, self.ctx.web_path)
        super().register(app, options)


class WebsiteSocketIOInput(InputChannel):
    """The website chat channel; registered as "socketio" (webhook /webhooks/socketio/)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            session_persistence=credentials.get("session_persistence", True),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            jwt_key=credentials.get("jwt_key"),
            jwt_method=credentials.get("jwt_method", "HS256"),
            metadata_key=credentials.get("metadata_key", "metadata"),
            cors_allowed_origins=credentials.get("cors_allowed_origins"),
            session_token_ttl_hours=credentials.get(
                "session_token_ttl_hours", DEFAULT_TOKEN_TTL_HOURS
            ),
            web_path=credentials.get("web_path", "/chat"),
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        namespace: Optional[Text] = None,
        session_persistence: bool = True,
        socketio_path: Text = "/socket.io",
        jwt_key: Optional[Text] = None,
        jwt_method: Text = "HS256",
        metadata_key: Text = "metadata",
        cors_allowed_origins: Any = None,
        session_token_ttl_hours: float = DEFAULT_TOKEN_TTL_HOURS,
        web_path: Optional[Text] = "/chat",
    ) -> None:
        self.user_message_evt = user_message_evt
        self.options = SocketOptions(
            channel_name=self.name(),
            bot_message_evt=bot_message_evt,
            namespace=namespace,
            session_persistence=bool(session_persistence),
            metadata_key=metadata_key,
            jwt_key=jwt_key,
            jwt_method=jwt_method,
        )
        self.socketio_path = socketio_path
        self.origin_policy = OriginPolicy(allowed_origins_from(cors_allowed_origins))
        self.signer = signer_from_environment(float(session_token_ttl_hours))
        self.web_path = ("/" + web_path.strip("/")) if web_path else None
        self.sio: Optional[AsyncServer] = None

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return None
        return WebsiteOutput(self.sio, self.options.bot_message_evt, self.options.namespace)

    def build_server(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        async_mode: str = "sanic",
    ) -> FrenchAsyncServer:
        """The socket.io server with our handlers (Redis-backed when SHARED_REDIS_URL is set).

        `async_mode` is Sanic's in Rasa; tests may run the same server on aiohttp."""
        manager = client_manager_from_environment()
        sio = FrenchAsyncServer(
            async_mode=async_mode,
            client_manager=manager,
            cors_allowed_origins=self.origin_policy,
            max_http_buffer_size=limits.settings().max_request_bytes,
            bot_message_evt=self.options.bot_message_evt,
        )
        namespace = sio.channel_namespace = self.options.namespace
        self.sio = sio
        handlers = SessionHandlers(sio, on_new_message, self.signer, self.options)
        sio.on("connect", handlers.connect, namespace=namespace)
        sio.on("disconnect", handlers.disconnect, namespace=namespace)
        sio.on("session_request", handlers.session_request, namespace=namespace)
        sio.on(self.user_message_evt, handlers.user_uttered, namespace=namespace)
        logger.info(
            "socketio: website chat at %s/ (socket.io path %s); allowed origins: %s; %s",
            self.web_path or "(no page)",
            self.socketio_path,
            self.origin_policy.describe(),
            "rooms shared through Redis" if manager is not None else "rooms of this process",
        )
        return sio

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        sio = self.build_server(on_new_message)
        webhook = SocketBlueprint(
            sio, self.socketio_path, self.web_path, "website_socketio_webhook", __name__
        )

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})
        return webhook
