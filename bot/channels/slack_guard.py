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

Everything is kept in memory with a time-to-live: one Rasa process serves the Slack
webhook, and five minutes of signatures / an hour of event ids are enough (Slack stops
retrying after about an hour, and older timestamps are refused anyway).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Hashable, Mapping, Optional

from slack_sdk.signature import Clock, SignatureVerifier

MAX_CLOCK_SKEW_SECONDS = 5 * 60
EVENT_MEMORY_SECONDS = 60 * 60
SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


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
    ) -> None:
        if not signing_secret:
            raise ValueError("a Slack signing secret is required")
        self._verifier = SignatureVerifier(signing_secret, clock=_WallClock(wall_clock))
        self._max_skew = MAX_CLOCK_SKEW_SECONDS
        self._now = wall_clock
        # A signature can only be valid while its timestamp is fresh, so remembering it
        # a little longer than the allowed skew is enough to catch every replay.
        self._seen_signatures = TtlSet(2 * MAX_CLOCK_SKEW_SECONDS + 60, clock=monotonic_clock)

    def rejection_reason(self, headers: Mapping[str, str], body: bytes) -> Optional[str]:
        """None when the request is authentic and fresh, else why it is refused (for logs)."""
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
        if not self._seen_signatures.add_if_new(signature):
            return "signature already seen: replayed request"
        return None


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value.strip() if isinstance(value, str) else ""
