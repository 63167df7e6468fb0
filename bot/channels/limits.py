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
  address (``RATE_LIMIT_PER_ADDRESS``): token buckets, a burst of that many messages, then
  one every 60/N seconds. One process-wide guard is shared by the REST and socket.io
  channels, so a client cannot double its share by using both; when SHARED_REDIS_URL is set
  the buckets live in that Redis (one Lua script per message, keys ``urbact:ratelimit:``
  followed by a hash: no sender id or address in Redis), so RASA_INSTANCES instances behind
  nginx do not multiply a client's share either. Redis failure: the message is judged by
  this instance's own memory bucket instead, and one line is logged (at most every 30 s):
  the limits must not take the site down, and a flood stays bounded per instance. 0 turns
  a rate limit off. Loopback addresses are not limited per address: behind a reverse proxy every
  request comes from 127.0.0.1 unless Sanic is told to trust the proxy's X-Forwarded-For
  (``SANIC_PROXIES_COUNT=1``, read by Sanic itself), and local tools (make eval, make bench)
  must not be throttled. The limit per conversation always applies.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from redis.asyncio import Redis
from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import shared_redis
from bot.channels.shared_redis import REDIS_FAILURES, FailureLog
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


# The same token bucket as RateLimiter, in one atomic step of Redis. State: a hash
# {tokens, last}; a key left alone expires once its bucket would be full again (a missing
# key is a full bucket). The caller's clock is used (wall time: the same on every instance).
_TOKEN_BUCKET_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(state[1]) or capacity
local last = tonumber(state[2]) or now
if now > last then
  tokens = math.min(capacity, tokens + (now - last) * rate)
  last = now
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(last))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return allowed
"""


class RedisRateLimiter:
    """RateLimiter's token buckets in the Redis shared by every instance (SHARED_REDIS_URL).

    Keys are `prefix` + a hash of the bucket's key (no sender id or address is stored).
    `allow` raises what Redis raises (REDIS_FAILURES): the guard decides what a failure means.
    """

    def __init__(
        self,
        client: "Redis[bytes]",
        per_minute: int,
        prefix: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.per_minute = per_minute
        self.prefix = prefix
        self._clock = clock
        self._ttl_seconds = 61

    def key(self, key: str) -> str:
        return self.prefix + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]

    async def allow(self, key: str) -> bool:
        if self.per_minute <= 0:
            return True
        allowed = await self.client.eval(
            _TOKEN_BUCKET_SCRIPT,
            1,
            self.key(key),
            self.per_minute,
            repr(self.per_minute / 60.0),
            repr(float(self._clock())),
            self._ttl_seconds,
        )
        return bool(allowed)


class MessageGuard:
    """The two rate limits of incoming messages: per conversation and per client address.

    With a Redis client (`shared`), `check` counts in Redis, shared by every instance; this
    process's buckets serve when Redis fails (and for the synchronous `refusal`).
    """

    def __init__(
        self,
        limits: LimitSettings,
        clock: Callable[[], float] = time.monotonic,
        *,
        shared: "Optional[Redis[bytes]]" = None,
        prefix: str = shared_redis.KEY_PREFIX + "ratelimit:",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self.conversations = RateLimiter(limits.per_conversation_per_minute, clock)
        self.addresses = RateLimiter(limits.per_address_per_minute, clock)
        self.shared_conversations: Optional[RedisRateLimiter] = None
        self.shared_addresses: Optional[RedisRateLimiter] = None
        if shared is not None:
            self.shared_conversations = RedisRateLimiter(
                shared, limits.per_conversation_per_minute, prefix + "conversation:", wall_clock
            )
            self.shared_addresses = RedisRateLimiter(
                shared, limits.per_address_per_minute, prefix + "address:", wall_clock
            )
        self.failures = FailureLog("rate limits")

    async def check(self, channel: str, conversation: str, address: Optional[str]) -> Optional[str]:
        """None when the message may go on; else the French answer (and one log line).

        Counts in the shared Redis when there is one, else (or when it fails) here."""
        if not await self._allow(
            self.conversations, self.shared_conversations, f"{channel}|{conversation}"
        ):
            return self._refused(channel, "in one conversation", self.limits.per_conversation_per_minute)
        if (
            address
            and not is_loopback(address)
            and not await self._allow(self.addresses, self.shared_addresses, address)
        ):
            return self._refused(channel, "from one address", self.limits.per_address_per_minute)
        return None

    async def _allow(
        self, local: RateLimiter, shared: Optional[RedisRateLimiter], key: str
    ) -> bool:
        if shared is None:
            return local.allow(key)
        try:
            return await shared.allow(key)
        except REDIS_FAILURES as error:
            self.failures.failed(error, "rate limits counted by this instance alone")
            return local.allow(key)

    @staticmethod
    def _refused(channel: str, where: str, per_minute: int) -> str:
        logger.warning(
            "%s: message refused: more than %d messages per minute %s", channel, per_minute, where
        )
        return TOO_MANY_MESSAGES


_guard: Optional[MessageGuard] = None


def shared_guard() -> MessageGuard:
    """The guard shared by every channel of this process (and, when SHARED_REDIS_URL is
    set, by every instance)."""
    global _guard
    if _guard is None:
        _guard = MessageGuard(settings(), shared=shared_redis.shared_client())
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
