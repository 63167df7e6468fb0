"""The Slack Web API calls the hand-off needs, through slack_sdk's AsyncWebClient, with deadlines.

Settings (common/settings.py): SLACK_TOKEN (bot token, scopes chat:write and
channels:history, or groups:history for a private staff channel), SLACK_STAFF_CHANNEL
(channel ID where requests are posted), SLACK_API_BASE_URL (tests use a local stand-in),
HANDOFF_SLACK_TIMEOUT_SECONDS (deadline of one call, retries included).

A failure says whether the message may nevertheless have reached Slack ("ambiguous": a
timeout or a connection cut after the request was sent, or an unexpected 5xx), and whether
Slack refused for a reason that will not go away by retrying ("permanent": invalid_auth,
channel_not_found...: the configuration must change). Inside a call, slack_sdk's retry
hook (`WithinDeadline`) retries only what cannot have been posted (connection refused) and
what Slack asks to retry (429, 503, after its Retry-After), while the call's deadline
leaves room; the outbox handles the rest. A Retry-After longer than what is left of the
deadline ends the call; the outbox then schedules the next attempt no sooner than that.

The history check follows Slack's pagination cursor (200 messages a page) until the token
is found, the history ends, or its single deadline (the same as one call's) runs out: one
delivery attempt lasts at most two deadlines (history + post), from which the outbox derives
its claim lease.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Awaitable, Dict, List, Mapping, Optional, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from common import settings

logger = logging.getLogger(__name__)
# slack_sdk logs request bodies (names, e-mails, questions) at DEBUG: its own logger stays quiet.
_sdk_logger = logging.getLogger("actions.handoff.slack_sdk")
_sdk_logger.setLevel(logging.WARNING)

MAX_ATTEMPTS_PER_CALL = 3
HISTORY_PAGE_SIZE = 200
MAX_HISTORY_PAGES = 50  # 10,000 messages: far more than the staff channel gets in a retry window
_RETRY_PAUSE_SECONDS = 0.5
# Slack refusals that retrying cannot fix: the token, the app or the channel must change.
PERMANENT_ERRORS = frozenset({
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "no_permission", "missing_scope", "channel_not_found", "not_in_channel", "is_archived",
    "team_access_not_granted", "ekm_access_denied", "org_login_required", "restricted_action",
})
_call_deadline: ContextVar[float] = ContextVar("slack_call_deadline")


class SlackDeliveryError(Exception):
    """ambiguous: the call may have taken effect; refused: Slack answered and said no;
    permanent: a refusal that will not go away by retrying (configuration to fix);
    retry_after: seconds Slack asked us to wait (429/503 Retry-After) and that the call's
    deadline could not cover: no retry may come sooner."""

    def __init__(
        self,
        message: str,
        ambiguous: bool = False,
        refused: bool = False,
        permanent: bool = False,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous
        self.refused = refused or permanent
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class SlackConfig:
    token: str
    channel: str
    base_url: str = settings.SLACK_API_BASE_URL.default
    timeout: float = settings.HANDOFF_SLACK_TIMEOUT_SECONDS.default

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Optional["SlackConfig"]:
        token, channel = settings.SLACK_TOKEN.read(env), settings.SLACK_STAFF_CHANNEL.read(env)
        if not token or not channel:
            return None
        base_url = settings.SLACK_API_BASE_URL.read(env)
        timeout = settings.HANDOFF_SLACK_TIMEOUT_SECONDS.read(env)
        return cls(token, channel, base_url if base_url.endswith("/") else base_url + "/", timeout)


class SlackPoster(Protocol):
    """What the outbox needs from Slack (a fake in unit tests)."""

    channel: str
    timeout: float  # deadline of one call (post, or the whole history check)

    async def post(self, text: str, blocks: List[Dict[str, Any]], metadata: Dict[str, Any]) -> str:
        """Posts to the staff channel; returns the message ts."""
        ...

    async def find_posted(self, token: str, oldest: float) -> Optional[str]:
        """ts of a message of the staff channel carrying this delivery token, if any."""
        ...


def _retry_after(headers: Optional[Mapping[str, Any]]) -> Optional[float]:
    value = (headers or {}).get("Retry-After")
    value = value[0] if isinstance(value, list) and value else value
    return float(value) if isinstance(value, str) and value.isdigit() else None


class WithinDeadline(AsyncRetryHandler):
    """slack_sdk retry hook: a refused connection (nothing was sent) or Slack's 429/503,
    again after a pause (Slack's Retry-After, else half a second), while the deadline of
    the call leaves room for that pause. Never a call that may have been posted."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=MAX_ATTEMPTS_PER_CALL - 1)

    @staticmethod
    def _pause(response: Optional[HttpResponse]) -> float:
        asked = _retry_after(response.headers) if response is not None else None
        return _RETRY_PAUSE_SECONDS if asked is None else asked

    async def _can_retry_async(
        self, *, response: Optional[HttpResponse] = None, error: Optional[Exception] = None, **_: Any
    ) -> bool:
        if error is not None:
            retryable = isinstance(error, aiohttp.ClientConnectorError)
        else:
            retryable = response is not None and response.status_code in (429, 503)
        return retryable and time.monotonic() + self._pause(response) < _call_deadline.get(0.0)

    async def prepare_for_next_attempt_async(
        self, *, state: RetryState, response: Optional[HttpResponse] = None, **_: Any
    ) -> None:
        state.next_attempt_requested = True
        await asyncio.sleep(self._pause(response))
        state.increment_current_attempt()


def _refusal(method: str, error: SlackApiError) -> SlackDeliveryError:
    """What Slack's answer means for the outbox (see SlackDeliveryError)."""
    answer = error.response
    status = int(getattr(answer, "status_code", None) or getattr(answer, "status", 0) or 0)
    data = getattr(answer, "data", None)
    if status == 200:
        if not isinstance(data, dict) or "ok" not in data:
            return SlackDeliveryError(f"{method}: unreadable answer", ambiguous=True)
        code = data.get("error") or "?"
        return SlackDeliveryError(f"{method}: Slack refused: {code}", refused=True, permanent=code in PERMANENT_ERRORS)
    if status in (429, 503):
        return SlackDeliveryError(f"{method}: HTTP {status}", retry_after=_retry_after(getattr(answer, "headers", None)))
    return SlackDeliveryError(f"{method}: HTTP {status}", ambiguous=status >= 500, refused=status < 500)


class SlackWebPoster:
    """The staff channel through slack_sdk's AsyncWebClient, one deadline per call."""

    def __init__(self, config: SlackConfig) -> None:
        self.config = config
        self.channel = config.channel
        self.timeout = config.timeout
        self.client = AsyncWebClient(
            token=config.token,
            base_url=config.base_url,
            timeout=int(max(1.0, config.timeout + 1)),  # per request; the call's deadline cuts first
            logger=_sdk_logger,
            retry_handlers=[WithinDeadline()],
        )

    async def _call(self, method: str, request: Awaitable[Any], deadline: Optional[float] = None) -> AsyncSlackResponse:
        """The answer of one Web API call (retries included) within `deadline`, or SlackDeliveryError."""
        deadline = deadline if deadline is not None else time.monotonic() + self.timeout
        token = _call_deadline.set(deadline)
        try:
            return await asyncio.wait_for(request, timeout=max(0.0, deadline - time.monotonic()))
        except SlackApiError as error:
            raise _refusal(method, error) from None
        except aiohttp.ClientConnectorError as error:  # nothing was sent
            raise SlackDeliveryError(f"{method}: connection failed: {error}") from None
        except (asyncio.TimeoutError, aiohttp.ClientError, AttributeError, ValueError) as error:
            # AttributeError / ValueError: an answer slack_sdk could not read
            raise SlackDeliveryError(f"{method}: {type(error).__name__}: {error}", ambiguous=True) from None
        finally:
            _call_deadline.reset(token)

    async def post(self, text: str, blocks: List[Dict[str, Any]], metadata: Dict[str, Any]) -> str:
        answer = await self._call(
            "chat.postMessage",
            self.client.chat_postMessage(
                channel=self.channel,
                text=text,
                blocks=blocks,
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        return str(answer.get("ts") or "")

    async def delete(self, ts: str, channel: Optional[str] = None) -> bool:
        """chat.delete of one message (erasure by person). True when deleted, False when Slack
        no longer has it (message_not_found); SlackDeliveryError otherwise."""
        try:
            await self._call("chat.delete", self.client.api_call("chat.delete", json={"channel": channel or self.channel, "ts": ts}))
        except SlackDeliveryError as error:
            if str(error).endswith(": message_not_found"):
                return False
            raise
        return True

    async def find_posted(self, token: str, oldest: float) -> Optional[str]:
        """Every page of the history since `oldest`, within one deadline."""
        deadline = time.monotonic() + self.timeout
        cursor: Optional[str] = None
        for _ in range(MAX_HISTORY_PAGES):
            page = await self._call(
                "conversations.history",
                self.client.conversations_history(
                    channel=self.channel,
                    oldest=f"{max(0.0, oldest):.6f}",
                    include_all_metadata=True,
                    limit=HISTORY_PAGE_SIZE,
                    cursor=cursor,
                ),
                deadline,
            )
            for message in page.get("messages") or []:
                payload = ((message or {}).get("metadata") or {}).get("event_payload") or {}
                if payload.get("token") == token:
                    return str(message.get("ts") or "") or None
            cursor = ((page.get("response_metadata") or {}).get("next_cursor") or "").strip()
            if not page.get("has_more") or not cursor:
                return None
        # Not found in MAX_HISTORY_PAGES pages: we cannot tell; retry later rather than guess.
        raise SlackDeliveryError("conversations.history: too many pages to check", ambiguous=True)
