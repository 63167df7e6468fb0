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
- the channel also serves the demo page and the widget under ``web_path`` (/chat).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Text,
    Tuple,
)
from urllib.parse import urlsplit

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels import limits
from bot.channels.limits import LimitSettings, MessageGuard
from bot.channels.apology import answer_turn
from bot.channels.validation import TOO_DEEP, InvalidInput, check_message, check_metadata

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ORIGINS_ENV = "WEB_ALLOWED_ORIGINS"
SECRET_ENV = "WEB_SESSION_SECRET"
SESSION_TOKEN_EVT = "session_token"
DEFAULT_TOKEN_TTL_HOURS = 24 * 7
UNREADABLE = "Message illisible : il doit contenir un champ « message »."
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_ORIGIN = re.compile(
    r"^https?://[a-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9a-f:]+\](:[0-9]{1,5})?$"
)
_SESSION_ID = re.compile(r"^[A-Za-z0-9_\-]{32}$")


# --------------------------------------------------------------------------- origins


class OriginConfigError(ValueError):
    """The allow-list of origins is unusable; Rasa must not start with it."""


def parse_allowed_origins(value: Any) -> Optional[List[str]]:
    """Normalise a configured allow-list of origins.

    Accepts a list of strings or one string of origins separated by commas or spaces.
    Returns None when nothing is configured (then only the server's own pages on
    localhost may connect). Raises OriginConfigError for "*" or anything that is not an origin
    (scheme://host[:port], no path), so a typo never opens the channel to everyone.
    """
    if value is None:
        return None
    if isinstance(value, str):
        items: Iterable[Any] = re.split(r"[\s,]+", value)
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise OriginConfigError(f"cors_allowed_origins must be a list, not {type(value).__name__}")
    origins: List[str] = []
    for item in items:
        if not isinstance(item, str):
            raise OriginConfigError(f"invalid origin {item!r}: not a string")
        origin = item.strip().rstrip("/").lower()
        if not origin:
            continue
        if origin == "*" or "*" in origin:
            raise OriginConfigError(
                "cors_allowed_origins must not contain '*': "
                "list the sites allowed to embed the chat"
            )
        if not _ORIGIN.match(origin):
            raise OriginConfigError(
                f"invalid origin {item!r}: "
                "expected scheme://host[:port], e.g. https://www.example.org"
            )
        if origin not in origins:
            origins.append(origin)
    return origins or None


def allowed_origins_from(
    configured: Any, environ: Mapping[str, str] = os.environ
) -> Optional[List[str]]:
    """The allow-list in force: the environment variable wins over credentials.yml."""
    override = environ.get(ORIGINS_ENV, "").strip()
    if override:
        return parse_allowed_origins(override)
    return parse_allowed_origins(configured)


def same_origin_localhost(origin: str, environ: Mapping[str, Any]) -> bool:
    """True for a page served by this server on localhost (the default policy)."""
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname
    except ValueError:
        return False
    host_header = str(environ.get("HTTP_HOST", "")).strip().lower()
    return (
        parts.scheme in ("http", "https")
        and hostname in _LOCAL_HOSTS
        and parts.netloc.lower() == host_header
    )


class OriginPolicy:
    """Callable given to python-engineio: may a page from this origin connect?

    Allowed: the origins of the allow-list, and the pages this server serves itself on
    localhost (the demo page at /chat/ works on any local port without configuration).
    Engine.IO only consults it when the request carries an Origin header, which browsers
    always send for WebSocket and cross-origin requests; non-browser clients (tests,
    scripts) have no ambient credentials to abuse and are let through.
    """

    def __init__(self, allowed: Optional[List[str]]) -> None:
        self.allowed = allowed

    def __call__(self, origin: Optional[str], environ: Optional[Mapping[str, Any]] = None) -> bool:
        if not origin:
            return True
        normalised = origin.strip().rstrip("/").lower()
        verdict = normalised in (self.allowed or ()) or same_origin_localhost(
            normalised, environ or {}
        )
        if not verdict:
            logger.info("socketio: refused a connection from origin %r", origin[:200])
        return verdict

    def describe(self) -> str:
        listed = ", ".join(self.allowed) if self.allowed else "none listed"
        return f"{listed} (plus this server's own pages on localhost)"


# --------------------------------------------------------------------------- sessions


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


class SessionSigner:
    """Issues and checks the tokens that prove a client owns a session id.

    Token: ``v1.<issued-at, hex seconds>.<HMAC-SHA256(secret, "v1|id|issued-at")>``.
    A token is valid for one session id only, and for ``ttl_seconds`` after issue.
    """

    VERSION = "v1"

    def __init__(
        self,
        secret: bytes,
        ttl_seconds: int = DEFAULT_TOKEN_TTL_HOURS * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 bytes long")
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def _mac(self, session_id: str, issued_at: int) -> str:
        message = f"{self.VERSION}|{session_id}|{issued_at}".encode("utf-8")
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def issue(self, session_id: str) -> str:
        issued_at = int(self._clock())
        return f"{self.VERSION}.{issued_at:x}.{self._mac(session_id, issued_at)}"

    def verify(self, session_id: Any, token: Any) -> bool:
        if not isinstance(session_id, str) or not isinstance(token, str):
            return False
        if not _SESSION_ID.match(session_id) or len(token) > 200:
            return False
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != self.VERSION:
            return False
        try:
            issued_at = int(parts[1], 16)
        except ValueError:
            return False
        now = self._clock()
        if issued_at > now + 300 or now - issued_at > self.ttl_seconds:
            return False
        return hmac.compare_digest(parts[2], self._mac(session_id, issued_at))


def signer_from_environment(
    ttl_hours: float = DEFAULT_TOKEN_TTL_HOURS, environ: Mapping[str, str] = os.environ
) -> SessionSigner:
    secret = environ.get(SECRET_ENV, "")
    ttl = int(ttl_hours * 3600)
    if secret:
        if len(secret) < 32:
            logger.warning(
                "socketio: %s is shorter than 32 characters; use e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`",
                SECRET_ENV,
            )
        return SessionSigner(secret.encode("utf-8"), ttl)
    logger.warning(
        "socketio: %s is not set; generated a random session secret. Website chat "
        "sessions will not survive a restart of Rasa.",
        SECRET_ENV,
    )
    return SessionSigner(secrets.token_bytes(32), ttl)


@dataclass(frozen=True)
class Session:
    session_id: str
    token: str
    resumed: bool


def resolve_session(data: Any, signer: SessionSigner, persistence: bool = True) -> Session:
    """Answer a session_request: resume the client's session or start a new one.

    The client's session is resumed only when it presents the token issued for that id;
    anything else (no id, an id invented or copied by the client, a forged or expired
    token, persistence disabled) gets a fresh random id. Either way a fresh token is
    issued, so an active conversation never expires.
    """
    if persistence and isinstance(data, dict):
        claimed = data.get("session_id")
        token = data.get("token")
        if signer.verify(claimed, token):
            return Session(claimed, signer.issue(claimed), resumed=True)
        if claimed:
            logger.info("socketio: session_request with an unsigned or invalid id; new session")
    session_id = new_session_id()
    return Session(session_id, signer.issue(session_id), resumed=False)


# --------------------------------------------------------------------------- messages


def parse_user_message(
    data: Any, metadata_key: str = "metadata", settings: Optional[LimitSettings] = None
) -> Tuple[str, Optional[dict]]:
    """The text and metadata of a ``user_uttered`` payload; raises InvalidInput.

    Metadata (an object, or a string of JSON as some widgets send it) that is too large
    or nested too deep is refused in French; metadata that is not an object is dropped."""
    if not isinstance(data, dict):
        raise InvalidInput(UNREADABLE, f"user_uttered payload of type {type(data).__name__}")
    text = check_message(data.get("message"))
    settings = settings or limits.settings()
    metadata: Any = data.get(metadata_key)
    if isinstance(metadata, str):
        if len(metadata) > settings.metadata_max_chars:
            raise InvalidInput(
                f"Les métadonnées de votre message sont trop volumineuses "
                f"({settings.metadata_max_chars} caractères au plus) : message ignoré.",
                f"metadata string of {len(metadata)} characters",
            )
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = None
        except RecursionError:
            raise InvalidInput(TOO_DEEP, "metadata string nested too deeply to decode") from None
    return text, check_metadata(metadata, settings.metadata_max_chars, settings.metadata_max_depth)


class WebsiteOutput(SocketIOOutput):
    """Rasa's socket.io output (same payload shapes), counting what it sends."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def __init__(
        self, sio: AsyncServer, bot_message_evt: Text, namespace: Optional[Text] = None
    ) -> None:
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace
        self.sent = 0

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.sent += 1
        await self.sio.emit(
            self.bot_message_evt, response, room=socket_id, namespace=self.namespace
        )

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        # The stock channel passes the payload as emit() keyword arguments (a custom
        # payload could choose another room). Here a {"data": ...} payload sends its data,
        # anything else is sent as is, and always to the recipient's own room.
        payload: Any = json_message
        if isinstance(json_message, dict) and "data" in json_message:
            payload = json_message["data"]
        await self._send_message(recipient_id, payload)


# --------------------------------------------------------------------------- handlers


class SessionHandlers:
    """The socket.io event handlers, separate from Sanic so tests can drive them."""

    def __init__(
        self,
        sio: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        signer: SessionSigner,
        *,
        channel_name: str = "socketio",
        bot_message_evt: str = "bot_uttered",
        namespace: Optional[str] = None,
        session_persistence: bool = True,
        metadata_key: str = "metadata",
        jwt_key: Optional[str] = None,
        jwt_method: str = "HS256",
        settings: Optional[LimitSettings] = None,
        guard: Optional[MessageGuard] = None,
    ) -> None:
        self.sio = sio
        self.settings = settings or limits.settings()
        self.guard = guard or limits.shared_guard()
        # socket id -> client address, for the rate limit per address
        self.addresses: Dict[str, str] = {}
        self.on_new_message = on_new_message
        self.signer = signer
        self.channel_name = channel_name
        self.bot_message_evt = bot_message_evt
        self.namespace = namespace
        self.session_persistence = session_persistence
        self.metadata_key = metadata_key
        self.jwt_key = jwt_key
        self.jwt_method = jwt_method
        # socket id -> conversation (session) id; one entry per connected socket
        self.bound: Dict[str, str] = {}

    async def connect(self, sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
        if self.jwt_key:
            payload = None
            if isinstance(auth, dict) and auth.get("token"):
                payload = rasa.core.channels.channel.decode_bearer_token(
                    auth.get("token"), self.jwt_key, self.jwt_method
                )
            if not payload:
                logger.warning("socketio: refused a connection without a valid JWT")
                return False
        self.addresses[sid] = socket_address(environ)
        logger.debug("socketio: socket %s connected", sid)
        return True

    async def disconnect(self, sid: str, *_: Any) -> None:
        self.bound.pop(sid, None)
        self.addresses.pop(sid, None)
        logger.debug("socketio: socket %s disconnected", sid)

    async def bind(self, sid: str, data: Any) -> Session:
        session = resolve_session(data, self.signer, self.session_persistence)
        previous = self.bound.get(sid)
        if previous and previous != session.session_id:
            await self.sio.leave_room(sid, previous, namespace=self.namespace)
        # Awaited: without the await the socket never joins the room the replies go to.
        await self.sio.enter_room(sid, session.session_id, namespace=self.namespace)
        self.bound[sid] = session.session_id
        # The token first, so a widget that knows it has it when the confirmation arrives.
        await self.sio.emit(
            SESSION_TOKEN_EVT,
            {"session_id": session.session_id, "token": session.token},
            room=sid,
            namespace=self.namespace,
        )
        await self.sio.emit(
            "session_confirm", session.session_id, room=sid, namespace=self.namespace
        )
        logger.debug(
            "socketio: socket %s %s session %s…",
            sid,
            "resumed" if session.resumed else "started",
            session.session_id[:6],
        )
        return session

    async def session_request(self, sid: str, data: Any = None) -> None:
        await self.bind(sid, data)

    async def user_uttered(self, sid: str, data: Any = None) -> None:
        try:
            text, metadata = parse_user_message(data, self.metadata_key, self.settings)
        except InvalidInput as error:
            logger.warning("socketio: refused message from socket %s: %s", sid, error.log_reason)
            await self.say(sid, error.user_message)
            return

        session_id = self.bound.get(sid)
        if session_id is None:
            # A client that skipped session_request: give it a session of its own rather
            # than trusting a session_id written in the message.
            session_id = (await self.bind(sid, None)).session_id
        claimed = data.get("session_id") if isinstance(data, dict) else None
        if claimed and claimed != session_id:
            logger.info("socketio: ignored the session_id written in a message from socket %s", sid)
        refusal = self.guard.refusal(self.channel_name, session_id, self.addresses.get(sid))
        if refusal is not None:
            await self.say(sid, refusal)
            return

        output = WebsiteOutput(self.sio, self.bot_message_evt, self.namespace)
        message = UserMessage(
            text, output, session_id, input_channel=self.channel_name, metadata=metadata
        )
        answer = await answer_turn(
            self.on_new_message, message, lambda: output.sent > 0, f"session {session_id[:6]}…"
        )
        if answer is not None:
            await self.sio.emit(
                self.bot_message_evt, {"text": answer}, room=session_id, namespace=self.namespace
            )

    async def say(self, sid: str, text: str) -> None:
        """A French answer to this socket only (refusals: nothing reached the assistant)."""
        await self.sio.emit(self.bot_message_evt, {"text": text}, room=sid, namespace=self.namespace)


def socket_address(environ: Mapping[str, Any]) -> str:
    """The client's address: python-engineio's Sanic driver writes a fixed REMOTE_ADDR, so
    read it from the Sanic request it keeps (limits.client_address)."""
    request = environ.get("sanic.request")
    if request is not None:
        return limits.client_address(request)
    return str(environ.get("REMOTE_ADDR", ""))


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


UNREADABLE_PACKET = (
    "Message illisible : le widget a envoyé des données mal formées. Rechargez la page et "
    "réessayez, s'il vous plaît."
)


# --------------------------------------------------------------------------- web assets

_ASSETS: Dict[str, Tuple[str, str, str]] = {
    # url path below web_path -> (route name, file under bot/web, content type)
    "/": ("urbact_chat_page", "index.html", "text/html; charset=utf-8"),
    "/widget.js": ("urbact_chat_widget_js", "widget.js", "text/javascript; charset=utf-8"),
    "/widget.css": ("urbact_chat_widget_css", "widget.css", "text/css; charset=utf-8"),
    "/page.css": ("urbact_chat_page_css", "page.css", "text/css; charset=utf-8"),
    "/vendor/socket.io.min.js": (
        "urbact_chat_socketio_js",
        "vendor/socket.io.min.js",
        "text/javascript; charset=utf-8",
    ),
}
# The demo page runs only our own files; the widget talks to this server only.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _asset_handler(
    file_path: Path, content_type: str, is_page: bool
) -> Callable[[Request], Awaitable[HTTPResponse]]:
    async def handler(_: Request) -> HTTPResponse:
        try:
            body = file_path.read_bytes()
        except OSError:
            logger.error("socketio: web asset %s is missing", file_path)
            return response.text("Not found", status=404)
        headers = {
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if is_page:
            headers["Content-Security-Policy"] = PAGE_CSP
        return response.raw(body, content_type=content_type, headers=headers)

    return handler


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
        web_path = self.ctx.web_path
        if web_path:
            for suffix, (route_name, file_name, content_type) in _ASSETS.items():
                app.add_route(
                    _asset_handler(WEB_DIR / file_name, content_type, file_name.endswith(".html")),
                    web_path + suffix,
                    methods=["GET"],
                    name=route_name,
                    strict_slashes=True,
                )

            async def to_page(_: Request) -> HTTPResponse:
                return response.redirect(web_path + "/")

            app.add_route(
                to_page, web_path, methods=["GET"], name="urbact_chat_redirect", strict_slashes=True
            )
        super().register(app, options)


# --------------------------------------------------------------------------- channel


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
        self.bot_message_evt = bot_message_evt
        self.namespace = namespace
        self.session_persistence = bool(session_persistence)
        self.socketio_path = socketio_path
        self.jwt_key = jwt_key
        self.jwt_method = jwt_method
        self.metadata_key = metadata_key
        self.origin_policy = OriginPolicy(allowed_origins_from(cors_allowed_origins))
        self.signer = signer_from_environment(float(session_token_ttl_hours))
        self.web_path = ("/" + web_path.strip("/")) if web_path else None
        self.sio: Optional[AsyncServer] = None

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return None
        return WebsiteOutput(self.sio, self.bot_message_evt, self.namespace)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        sio = FrenchAsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.origin_policy,
            max_http_buffer_size=limits.settings().max_request_bytes,
            bot_message_evt=self.bot_message_evt,
        )
        sio.channel_namespace = self.namespace
        self.sio = sio
        webhook = SocketBlueprint(
            sio, self.socketio_path, self.web_path, "website_socketio_webhook", __name__
        )
        handlers = SessionHandlers(
            sio,
            on_new_message,
            self.signer,
            channel_name=self.name(),
            bot_message_evt=self.bot_message_evt,
            namespace=self.namespace,
            session_persistence=self.session_persistence,
            metadata_key=self.metadata_key,
            jwt_key=self.jwt_key,
            jwt_method=self.jwt_method,
        )
        sio.on("connect", handlers.connect, namespace=self.namespace)
        sio.on("disconnect", handlers.disconnect, namespace=self.namespace)
        sio.on("session_request", handlers.session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handlers.user_uttered, namespace=self.namespace)
        logger.info(
            "socketio: website chat at %s/ (socket.io path %s); allowed origins: %s",
            self.web_path or "(no page)",
            self.socketio_path,
            self.origin_policy.describe(),
        )

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})
        return webhook
