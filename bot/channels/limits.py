"""Abuse limits of our input channels (issue 10, point 4); their settings are in
common/settings.py.

Every limit answers in French and logs one line without personal data (no sender, no
address, no text):

- body size of every HTTP request to the Rasa server (Sanic accepts 100 MB by default):
  ``MAX_REQUEST_BYTES``, installed on the Sanic app when a channel registers
  (`install_body_limit`), answered with a French 413; the same bound applies to socket.io
  websocket frames (Sanic and python-engineio close the connection: no answer possible);
- ``metadata`` of a message: at most ``METADATA_MAX_CHARS`` characters of JSON and
  ``METADATA_MAX_DEPTH`` levels of nesting (checked in bot/channels/validation.py);
- messages per minute per conversation (``RATE_LIMIT_PER_CONVERSATION``) and per client
  address (``RATE_LIMIT_PER_ADDRESS``), in memory (token buckets: a burst of that many
  messages, then one every 60/N seconds). One process-wide guard is shared by the REST and
  socket.io channels, so a client cannot double its share by using both. 0 turns a rate
  limit off. Loopback addresses are not limited per address: behind a reverse proxy every
  request comes from 127.0.0.1 unless Sanic is told to trust the proxy's X-Forwarded-For
  (``SANIC_PROXIES_COUNT=1``, read by Sanic itself), and local tools (make eval, make bench)
  must not be throttled. The limit per conversation always applies.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from common import settings as env_settings
from common.settings import Environ

logger = logging.getLogger(__name__)

TOO_MANY_MESSAGES = (
    "Vous envoyez beaucoup de messages en peu de temps : patientez une minute avant de "
    "continuer, s'il vous plaît."
)


@dataclass(frozen=True)
class LimitSettings:
    max_request_bytes: int = env_settings.MAX_REQUEST_BYTES.default
    metadata_max_chars: int = env_settings.METADATA_MAX_CHARS.default
    metadata_max_depth: int = env_settings.METADATA_MAX_DEPTH.default
    per_conversation_per_minute: int = env_settings.RATE_LIMIT_PER_CONVERSATION.default
    per_address_per_minute: int = env_settings.RATE_LIMIT_PER_ADDRESS.default

    @classmethod
    def from_env(cls, environ: Environ = None) -> "LimitSettings":
        """The limits set in the environment (a wrong value: the default, with a warning)."""
        return cls(
            max_request_bytes=env_settings.MAX_REQUEST_BYTES.read(environ),
            metadata_max_chars=env_settings.METADATA_MAX_CHARS.read(environ),
            metadata_max_depth=env_settings.METADATA_MAX_DEPTH.read(environ),
            per_conversation_per_minute=env_settings.RATE_LIMIT_PER_CONVERSATION.read(environ),
            per_address_per_minute=env_settings.RATE_LIMIT_PER_ADDRESS.read(environ),
        )


_settings: Optional[LimitSettings] = None


def settings() -> LimitSettings:
    """The settings of this process (read from the environment once)."""
    global _settings
    if _settings is None:
        _settings = LimitSettings.from_env()
    return _settings


# --------------------------------------------------------------------------- rates


class RateLimiter:
    """Token buckets by key: `per_minute` messages at once, then one every 60/per_minute s.

    Memory is bounded: at most `max_keys` buckets; the least recently used go first (a
    forgotten bucket is a full one, so forgetting only ever lets a client through).
    """

    def __init__(
        self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_keys: int = 50_000
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.per_minute <= 0:
            return True
        now = self._clock()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        return allowed

    def __len__(self) -> int:
        return len(self._buckets)


class MessageGuard:
    """The two rate limits of incoming messages: per conversation and per client address."""

    def __init__(self, limits: LimitSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.conversations = RateLimiter(limits.per_conversation_per_minute, clock)
        self.addresses = RateLimiter(limits.per_address_per_minute, clock)

    def refusal(self, channel: str, conversation: str, address: Optional[str]) -> Optional[str]:
        """None when the message may go on; else the French answer (and one log line)."""
        if not self.conversations.allow(f"{channel}|{conversation}"):
            logger.warning(
                "%s: message refused: more than %d messages per minute in one conversation",
                channel,
                self.limits.per_conversation_per_minute,
            )
            return TOO_MANY_MESSAGES
        if address and not is_loopback(address) and not self.addresses.allow(address):
            logger.warning(
                "%s: message refused: more than %d messages per minute from one address",
                channel,
                self.limits.per_address_per_minute,
            )
            return TOO_MANY_MESSAGES
        return None


_guard: Optional[MessageGuard] = None


def shared_guard() -> MessageGuard:
    """The guard shared by every channel of this process."""
    global _guard
    if _guard is None:
        _guard = MessageGuard(settings())
    return _guard


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return address == "localhost"


def client_address(request: Any) -> str:
    """The client's address as Sanic sees it (the proxy's own address unless Sanic is told
    to trust forwarded headers: FORWARDED_SECRET / PROXIES_COUNT)."""
    return str(getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "")


# --------------------------------------------------------------------------- body size


def body_too_large_message(max_bytes: int) -> str:
    return (
        f"La requête est trop volumineuse : {max_bytes // 1024} Ko au plus, s'il vous plaît. "
        "Écrivez un message plus court."
    )


def install_body_limit(app: Sanic, max_bytes: int) -> None:
    """Sanic refuses bodies over `max_bytes` (413, French JSON). Idempotent per app.

    Sanic reads REQUEST_MAX_SIZE for each new connection, so setting it while Rasa registers
    the channels (before the server starts) applies to every request of the server.
    """
    app.config.REQUEST_MAX_SIZE = max_bytes
    # socket.io over websocket: a larger frame closes the connection (protocol error 1009)
    app.config.WEBSOCKET_MAX_SIZE = max_bytes
    installed: Dict[str, Any] = app.ctx.__dict__
    if installed.get("urbact_body_limit"):
        return
    installed["urbact_body_limit"] = True

    def too_large(_: Request, __: Exception) -> HTTPResponse:
        limit = int(app.config.REQUEST_MAX_SIZE)
        logger.warning("http: refused a request body over %d bytes", limit)
        return response.json({"error": body_too_large_message(limit)}, status=413)

    app.error_handler.add(PayloadTooLarge, too_large)
