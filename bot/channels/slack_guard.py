"""What our Slack channel checks before it lets a request reach the assistant.

- Signature: Slack signs every request with HMAC-SHA256 of "v0:{timestamp}:{raw body}" keyed
  by the app's signing secret, sent as "X-Slack-Signature: v0=<hex>" with the timestamp in
  "X-Slack-Request-Timestamp". A request without them, or whose signature does not match
  (checked by slack_sdk's SignatureVerifier), is refused.
- Replay: a timestamp more than five minutes away from our clock, or a signature already
  seen (an exact copy of an earlier request), is refused.
- Duplicates: Slack re-sends an event (header X-Slack-Retry-Num) when we were slow or
  failed; the same user message may also arrive as two events (a "message" and an
  "app_mention"). Event ids and message keys are remembered for a while so that each user
  message is processed once.

Both memories have a time-to-live: five minutes of signatures / an hour of event ids are
enough (Slack stops retrying after about an hour, and older timestamps are refused anyway).
One process alone keeps them in its memory (`LocalMemory`); when SHARED_REDIS_URL is set,
every Rasa instance behind nginx records them in the shared Redis (`RedisMemory`: one
atomic Lua script, SET ... EX under a key prefix), so a replay or a retry sent to another
instance is caught too.

Redis failure: the request is refused with a 503, never let through. Security: a replay
must not pass, and without the shared memory nobody can tell a replay from a first
delivery. Availability: Slack re-sends an event answered with an error (re-signed, with
X-Slack-Retry-Num; three times over about an hour), so a short Redis outage delays a staff
message instead of losing it; and a turn could not be processed anyway, the conversation
locks being in the same Redis. The failure is logged in one line, without personal data
(`shared_redis.FailureLog`).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import Callable, Hashable, Mapping, Optional, Sequence

from redis.asyncio import Redis
from slack_sdk.signature import Clock, SignatureVerifier

from bot.channels import shared_redis
from bot.channels.shared_redis import REDIS_FAILURES, FailureLog

MAX_CLOCK_SKEW_SECONDS = 5 * 60
EVENT_MEMORY_SECONDS = 60 * 60
SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_MEMORY_SECONDS = 2 * MAX_CLOCK_SKEW_SECONDS + 60


class TtlSet:
    """A set whose members are forgotten after `ttl` seconds (bounded in size).

    `add_if_new` checks and records in one synchronous step, so two concurrent requests
    handled by the same event loop can never both be "new".
    """

    def __init__(
        self,
        ttl: float,
        max_items: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0 or max_items <= 0:
            raise ValueError("ttl and max_items must be positive")
        self._ttl = ttl
        self._max_items = max_items
        self._clock = clock
        self._expiries: "OrderedDict[Hashable, float]" = OrderedDict()

    def _purge(self, now: float) -> None:
        # Insertion order is expiry order (constant ttl), so expired keys are at the front.
        while self._expiries:
            key, expiry = next(iter(self._expiries.items()))
            if expiry > now:
                break
            del self._expiries[key]

    def __contains__(self, key: Hashable) -> bool:
        self._purge(self._clock())
        return key in self._expiries

    def __len__(self) -> int:
        self._purge(self._clock())
        return len(self._expiries)

    def add_if_new(self, key: Hashable) -> bool:
        """Record `key`; True if it was not already recorded (and not expired)."""
        now = self._clock()
        self._purge(now)
        if key in self._expiries:
            return False
        self._expiries[key] = now + self._ttl
        while len(self._expiries) > self._max_items:
            self._expiries.popitem(last=False)
        return True


class SharedMemoryUnavailable(Exception):
    """The shared memory (Redis) did not answer: the request must be refused, not let in."""


class SeenMemory:
    """Remembers keys for a while; `first_time` answers whether none of them was seen."""

    async def first_time(self, keys: Sequence[str]) -> bool:
        """True when none of the keys was recorded; records them all, atomically."""
        raise NotImplementedError


class LocalMemory(SeenMemory):
    """This process's memory (a `TtlSet`): one Rasa instance serves the Slack webhook."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seen = TtlSet(ttl, clock=clock)

    async def first_time(self, keys: Sequence[str]) -> bool:
        # no await in between: two requests of the same event loop cannot both be first
        wanted = [key for key in keys if key]
        if any(key in self.seen for key in wanted):
            return False
        for key in wanted:
            self.seen.add_if_new(key)
        return True


# Checks every key, then records every key: one atomic step in Redis (no other client
# runs between the two), so two instances can never both see a key as new.
_FIRST_TIME_SCRIPT = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, '1', 'EX', ARGV[1])
end
return 1
"""


class RedisMemory(SeenMemory):
    """The memory shared by every Rasa instance (SHARED_REDIS_URL): keys under `prefix`.

    Raises SharedMemoryUnavailable when Redis fails (see the module docstring: the request
    is then refused, Slack retries it later).
    """

    def __init__(self, client: "Redis[bytes]", prefix: str, ttl: float) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_seconds = max(1, math.ceil(ttl))
        self.failures = FailureLog(f"Slack memory {prefix!r}")

    async def first_time(self, keys: Sequence[str]) -> bool:
        wanted = [self.prefix + key for key in keys if key]
        if not wanted:
            return True
        try:
            new = await self.client.eval(
                _FIRST_TIME_SCRIPT, len(wanted), *wanted, self.ttl_seconds
            )
        except REDIS_FAILURES as error:
            self.failures.failed(error, "Slack request refused with 503 (Slack will retry)")
            raise SharedMemoryUnavailable(self.prefix) from error
        return bool(new)


def memory_for(
    name: str, ttl: float, client: "Optional[Redis[bytes]]" = None, *, prefix: Optional[str] = None
) -> SeenMemory:
    """The shared memory `name` when a Redis client is given (default: SHARED_REDIS_URL's),
    else this process's."""
    client = client if client is not None else shared_redis.shared_client()
    if client is None:
        return LocalMemory(ttl)
    base = shared_redis.KEY_PREFIX if prefix is None else prefix
    return RedisMemory(client, f"{base}slack:{name}:", ttl)


def expected_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    return str(SignatureVerifier(signing_secret).generate_signature(timestamp=timestamp, body=body))


class _WallClock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class SlackRequestGuard:
    """Verifies signatures and refuses stale or replayed requests.

    The allowed clock skew is slack_sdk's (five minutes, MAX_CLOCK_SKEW_SECONDS): stale
    timestamps are refused here first, to say so in the log.
    """

    def __init__(
        self,
        signing_secret: str,
        wall_clock: Callable[[], float] = time.time,
        monotonic_clock: Callable[[], float] = time.monotonic,
        memory: Optional[SeenMemory] = None,
    ) -> None:
        if not signing_secret:
            raise ValueError("a Slack signing secret is required")
        self._verifier = SignatureVerifier(signing_secret, clock=_WallClock(wall_clock))
        self._max_skew = MAX_CLOCK_SKEW_SECONDS
        self._now = wall_clock
        # A signature can only be valid while its timestamp is fresh, so remembering it
        # a little longer than the allowed skew is enough to catch every replay.
        self._seen_signatures = memory or LocalMemory(SIGNATURE_MEMORY_SECONDS, monotonic_clock)

    async def rejection_reason(self, headers: Mapping[str, str], body: bytes) -> Optional[str]:
        """None when the request is authentic and fresh, else why it is refused (for logs).

        Raises SharedMemoryUnavailable when the shared memory of signatures fails."""
        signature = _header(headers, SIGNATURE_HEADER)
        timestamp = _header(headers, TIMESTAMP_HEADER)
        if not signature or not timestamp:
            return "unsigned request (missing X-Slack-Signature or X-Slack-Request-Timestamp)"
        try:
            sent_at = int(timestamp)
        except ValueError:
            return "malformed X-Slack-Request-Timestamp"
        if abs(self._now() - sent_at) > self._max_skew:
            return f"stale timestamp ({int(self._now() - sent_at)} s old): possible replay"
        if not self._verifier.is_valid(body, timestamp, signature):
            return "wrong signature"
        if not await self._seen_signatures.first_time([signature]):
            return "signature already seen: replayed request"
        return None


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value.strip() if isinstance(value, str) else ""
