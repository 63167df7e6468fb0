"""The website chat's socket.io events: connect, session_request, user_uttered, disconnect.

`SessionHandlers` binds each socket to the session the server chose (bot/channels/
web_sessions.py), checks messages like the REST channel (bot/channels/validation.py and
the abuse limits of bot/channels/limits.py) and answers every refusal in French.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Text, Tuple

import rasa.core.channels.channel
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOOutput
from socketio import AsyncServer

from bot.channels import limits
from bot.channels.apology import answer_turn
from bot.channels.limits import LimitSettings, MessageGuard
from bot.channels.validation import TOO_DEEP, InvalidInput, check_message, check_metadata
from bot.channels.web_sessions import Session, SessionSigner, resolve_session

logger = logging.getLogger(__name__)

SESSION_TOKEN_EVT = "session_token"
UNREADABLE = "Message illisible : il doit contenir un champ « message »."


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


@dataclass(frozen=True)
class SocketOptions:
    """The socket.io protocol of the channel, as credentials.yml sets it."""

    channel_name: str = "socketio"
    bot_message_evt: str = "bot_uttered"
    namespace: Optional[str] = None
    session_persistence: bool = True
    metadata_key: str = "metadata"
    jwt_key: Optional[str] = None
    jwt_method: str = "HS256"


class SessionHandlers:
    """The socket.io event handlers, separate from Sanic so tests can drive them."""

    def __init__(
        self,
        sio: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        signer: SessionSigner,
        options: Optional[SocketOptions] = None,
        *,
        settings: Optional[LimitSettings] = None,
        guard: Optional[MessageGuard] = None,
    ) -> None:
        self.sio = sio
        self.on_new_message = on_new_message
        self.signer = signer
        self.options = options or SocketOptions()
        self.settings = settings or limits.settings()
        self.guard = guard or limits.shared_guard()
        # socket id -> client address, for the rate limit per address
        self.addresses: Dict[str, str] = {}
        # socket id -> conversation (session) id; one entry per connected socket
        self.bound: Dict[str, str] = {}

    async def connect(self, sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
        if self.options.jwt_key:
            payload = None
            if isinstance(auth, dict) and auth.get("token"):
                payload = rasa.core.channels.channel.decode_bearer_token(
                    auth.get("token"), self.options.jwt_key, self.options.jwt_method
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
        session = resolve_session(data, self.signer, self.options.session_persistence)
        previous = self.bound.get(sid)
        if previous and previous != session.session_id:
            await self.sio.leave_room(sid, previous, namespace=self.options.namespace)
        # Awaited: without the await the socket never joins the room the replies go to.
        await self.sio.enter_room(sid, session.session_id, namespace=self.options.namespace)
        self.bound[sid] = session.session_id
        # The token first, so a widget that knows it has it when the confirmation arrives.
        await self.sio.emit(
            SESSION_TOKEN_EVT,
            {"session_id": session.session_id, "token": session.token},
            room=sid,
            namespace=self.options.namespace,
        )
        await self.sio.emit(
            "session_confirm", session.session_id, room=sid, namespace=self.options.namespace
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
            text, metadata = parse_user_message(data, self.options.metadata_key, self.settings)
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
        refusal = await self.guard.check(
            self.options.channel_name, session_id, self.addresses.get(sid)
        )
        if refusal is not None:
            await self.say(sid, refusal)
            return

        output = WebsiteOutput(self.sio, self.options.bot_message_evt, self.options.namespace)
        message = UserMessage(
            text, output, session_id, input_channel=self.options.channel_name, metadata=metadata
        )
        answer = await answer_turn(
            self.on_new_message, message, lambda: output.sent > 0, f"session {session_id[:6]}…"
        )
        if answer is not None:
            await self.sio.emit(
                self.options.bot_message_evt,
                {"text": answer},
                room=session_id,
                namespace=self.options.namespace,
            )

    async def say(self, sid: str, text: str) -> None:
        """A French answer to this socket only (refusals: nothing reached the assistant)."""
        await self.sio.emit(
            self.options.bot_message_evt, {"text": text}, room=sid, namespace=self.options.namespace
        )


def socket_address(environ: Mapping[str, Any]) -> str:
    """The client's address: python-engineio's Sanic driver writes a fixed REMOTE_ADDR, so
    read it from the Sanic request it keeps (limits.client_address)."""
    request = environ.get("sanic.request")
    if request is not None:
        return limits.client_address(request)
    return str(environ.get("REMOTE_ADDR", ""))
