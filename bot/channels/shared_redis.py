"""The Redis that several Rasa instances share (SHARED_REDIS_URL), for our channels.

One process alone keeps its channels' memories (Slack replays and duplicates, rate limits)
in its own memory; behind nginx, RASA_INSTANCES processes must share them, or a replayed
Slack request sent to the other instance passes and a client gets one share of messages per
instance. When SHARED_REDIS_URL is set, those memories live in this Redis under the key
prefix ``urbact:`` (tests use another prefix and database), and the website chat's
socket.io servers exchange their emits on the pub/sub channel ``urbact-socketio``.

Timeouts are short (0.5 s): Redis answers in well under a millisecond on the same machine,
and a Redis that does not answer must not hold a visitor's message for long. What each
memory does when Redis fails is its own decision (written in its docstring); every failure
is logged in one line at most every 30 s per memory, without personal data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, Dict, Optional, Tuple, Type

from redis.asyncio import Redis
from redis.exceptions import RedisError

from common import settings
from common.settings import Environ

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT_SECONDS = 0.5
KEY_PREFIX = "urbact:"
SOCKETIO_CHANNEL = "urbact-socketio"
FAILURE_LOG_INTERVAL_SECONDS = 30.0

# What a Redis call raises when Redis is down, slow or gone (RedisError covers redis-py's
# ConnectionError and TimeoutError; OSError and asyncio's timeout in case one slips through).
REDIS_FAILURES: Tuple[Type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)


def shared_url(environ: Environ = None) -> str:
    """SHARED_REDIS_URL, or "" when this process works alone."""
    return str(settings.SHARED_REDIS_URL.read(environ) or "").strip()


def client_for(url: str) -> "Redis[bytes]":
    """A redis.asyncio client with short timeouts (it connects on first use)."""
    return Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        retry_on_timeout=False,
    )


def socketio_redis_options() -> Dict[str, float]:
    """Options of python-socketio's AsyncRedisManager client: a short connect timeout, but
    no read timeout (its pub/sub listener waits for messages for as long as it takes)."""
    return {"socket_connect_timeout": SOCKET_TIMEOUT_SECONDS}


_clients: Dict[str, "Redis[bytes]"] = {}


def shared_client(environ: Environ = None) -> Optional["Redis[bytes]"]:
    """The process's client of SHARED_REDIS_URL, or None when it is unset."""
    url = shared_url(environ)
    if not url:
        return None
    if url not in _clients:
        _clients[url] = client_for(url)
    return _clients[url]


class FailureLog:
    """Logs a Redis failure of one memory in one line, at most once per interval."""

    def __init__(
        self,
        what: str,
        interval: float = FAILURE_LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.interval = interval
        self._clock = clock
        self._last: Optional[float] = None
        self.count = 0

    def failed(self, error: BaseException, consequence: str) -> None:
        self.count += 1
        now = self._clock()
        if self._last is not None and now - self._last < self.interval:
            return
        self._last = now
        logger.error(
            "shared redis: %s unavailable (%s); %s", self.what, type(error).__name__, consequence
        )
