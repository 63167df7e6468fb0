"""The two Slack Web API calls the hand-off needs, over aiohttp, with deadlines.

Environment:
    SLACK_TOKEN                 bot token (xoxb-...), scopes chat:write and channels:history
                                (groups:history for a private staff channel)
    SLACK_STAFF_CHANNEL         channel ID where requests are posted (C0123...)
    SLACK_API_BASE_URL          default https://slack.com/api/ (tests use a local stand-in)
    HANDOFF_SLACK_TIMEOUT_SECONDS  deadline of one call, retries included (default 8 s)

A failure says whether the message may nevertheless have reached Slack ("ambiguous": a
timeout or a connection cut after the request was sent, or an unexpected 5xx), and whether
Slack refused for a reason that will not go away by retrying ("permanent": invalid_auth,
channel_not_found...: the configuration must change). Only unambiguous failures are retried
inside a call; the outbox handles the rest. A Retry-After longer than what is left of the
deadline ends the call; the outbox then schedules the next attempt no sooner than that.

The history check follows Slack's pagination cursor (200 messages a page) until the token
is found, the history ends, or its single deadline (the same as one call's) runs out: one
delivery attempt lasts at most two deadlines (history + post), from which the outbox derives
its claim lease.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Protocol

import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://slack.com/api/"
DEFAULT_TIMEOUT_SECONDS = 8.0
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
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls) -> Optional["SlackConfig"]:
        token = os.environ.get("SLACK_TOKEN", "").strip()
        channel = os.environ.get("SLACK_STAFF_CHANNEL", "").strip()
        if not token or not channel:
            return None
        base_url = os.environ.get("SLACK_API_BASE_URL", "").strip() or DEFAULT_BASE_URL
        try:
            timeout = float(os.environ.get("HANDOFF_SLACK_TIMEOUT_SECONDS", "") or DEFAULT_TIMEOUT_SECONDS)
        except ValueError:
            timeout = DEFAULT_TIMEOUT_SECONDS
        if not 0 < timeout <= 60:
            timeout = DEFAULT_TIMEOUT_SECONDS
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


class AiohttpSlackPoster:
    def __init__(self, config: SlackConfig) -> None:
        self.config = config
        self.channel = config.channel
        self.timeout = config.timeout

    async def _call(
        self,
        method: str,
        payload: Dict[str, Any],
        http_method: str = "POST",
        deadline: Optional[float] = None,
    ) -> Dict[str, Any]:
        deadline = deadline if deadline is not None else time.monotonic() + self.config.timeout
        url = self.config.base_url + method
        headers = {"Authorization": f"Bearer {self.config.token}"}
        last_error = "no attempt"
        retry_after_seconds: Optional[float] = None  # asked by Slack, not waited yet
        for attempt in range(1, MAX_ATTEMPTS_PER_CALL + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            timeout = aiohttp.ClientTimeout(total=remaining)
            try:
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    if http_method == "POST":
                        request = session.post(url, json=payload, headers=headers)
                    else:
                        request = session.get(url, params=payload, headers=headers)
                    async with request as resp:
                        body = await resp.text()
                        status = resp.status
                        retry_after = resp.headers.get("Retry-After")
            except aiohttp.ClientConnectorError as error:  # nothing was sent
                last_error = f"{method}: connection failed: {error}"
            except (asyncio.TimeoutError, aiohttp.ClientError) as error:
                raise SlackDeliveryError(f"{method}: {type(error).__name__}: {error}", ambiguous=True) from error
            else:
                if status == 200:
                    try:
                        data = json.loads(body)
                    except ValueError as error:
                        raise SlackDeliveryError(f"{method}: unreadable answer", ambiguous=True) from error
                    if not isinstance(data, dict) or not data.get("ok"):
                        error_code = data.get("error") if isinstance(data, dict) else "?"
                        raise SlackDeliveryError(
                            f"{method}: Slack refused: {error_code}",
                            refused=True,
                            permanent=error_code in PERMANENT_ERRORS,
                        )
                    return data
                if status not in (429, 503):
                    raise SlackDeliveryError(
                        f"{method}: HTTP {status}", ambiguous=status >= 500, refused=status < 500
                    )
                last_error = f"{method}: HTTP {status}"
                pause = _RETRY_PAUSE_SECONDS
                retry_after_seconds = None
                if retry_after and retry_after.isdigit():
                    pause = retry_after_seconds = float(retry_after)
                if time.monotonic() + pause >= deadline:
                    break  # the outbox waits it (retry_after) before the next attempt
                await asyncio.sleep(pause)
                retry_after_seconds = None
                continue
            if attempt < MAX_ATTEMPTS_PER_CALL:
                await asyncio.sleep(min(_RETRY_PAUSE_SECONDS, max(0.0, deadline - time.monotonic())))
        raise SlackDeliveryError(last_error, retry_after=retry_after_seconds)

    async def post(self, text: str, blocks: List[Dict[str, Any]], metadata: Dict[str, Any]) -> str:
        data = await self._call(
            "chat.postMessage",
            {
                "channel": self.channel,
                "text": text,
                "blocks": blocks,
                "metadata": metadata,
                "unfurl_links": False,
                "unfurl_media": False,
            },
        )
        return str(data.get("ts") or "")

    async def delete(self, ts: str, channel: Optional[str] = None) -> bool:
        """chat.delete of one message (erasure by person). True when deleted, False when Slack
        no longer has it (message_not_found); SlackDeliveryError otherwise."""
        try:
            await self._call("chat.delete", {"channel": channel or self.channel, "ts": ts})
        except SlackDeliveryError as error:
            if str(error).endswith(": message_not_found"):
                return False
            raise
        return True

    async def find_posted(self, token: str, oldest: float) -> Optional[str]:
        """Every page of the history since `oldest`, within one deadline."""
        deadline = time.monotonic() + self.config.timeout
        query: Dict[str, Any] = {
            "channel": self.channel,
            "oldest": f"{max(0.0, oldest):.6f}",
            "include_all_metadata": "true",
            "limit": str(HISTORY_PAGE_SIZE),
        }
        for _ in range(MAX_HISTORY_PAGES):
            data = await self._call("conversations.history", query, http_method="GET", deadline=deadline)
            for message in data.get("messages") or []:
                payload = ((message or {}).get("metadata") or {}).get("event_payload") or {}
                if payload.get("token") == token:
                    return str(message.get("ts") or "") or None
            cursor = ((data.get("response_metadata") or {}).get("next_cursor") or "").strip()
            if not data.get("has_more") or not cursor:
                return None
            query = {**query, "cursor": cursor}
        # Not found in MAX_HISTORY_PAGES pages: we cannot tell; retry later rather than guess.
        raise SlackDeliveryError("conversations.history: too many pages to check", ambiguous=True)
