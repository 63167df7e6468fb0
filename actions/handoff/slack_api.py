"""The two Slack Web API calls the hand-off needs, over aiohttp, with deadlines.

Environment:
    SLACK_TOKEN                 bot token (xoxb-...), scopes chat:write and channels:history
                                (groups:history for a private staff channel)
    SLACK_STAFF_CHANNEL         channel ID where requests are posted (C0123...)
    SLACK_API_BASE_URL          default https://slack.com/api/ (tests use a local stand-in)
    HANDOFF_SLACK_TIMEOUT_SECONDS  deadline of one call, retries included (default 8 s)

A failure says whether the message may nevertheless have reached Slack ("ambiguous": a
timeout or a connection cut after the request was sent, or an unexpected 5xx). Only
unambiguous failures are retried inside a call; the outbox handles the rest.
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
_RETRY_PAUSE_SECONDS = 0.5


class SlackDeliveryError(Exception):
    """ambiguous: the call may have taken effect; refused: Slack answered and said no."""

    def __init__(self, message: str, ambiguous: bool = False, refused: bool = False) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous
        self.refused = refused


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

    async def _call(self, method: str, payload: Dict[str, Any], http_method: str = "POST") -> Dict[str, Any]:
        deadline = time.monotonic() + self.config.timeout
        url = self.config.base_url + method
        headers = {"Authorization": f"Bearer {self.config.token}"}
        last_error = "no attempt"
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
                        raise SlackDeliveryError(f"{method}: Slack refused: {error_code}", refused=True)
                    return data
                if status not in (429, 503):
                    raise SlackDeliveryError(
                        f"{method}: HTTP {status}", ambiguous=status >= 500, refused=status < 500
                    )
                last_error = f"{method}: HTTP {status}"
                pause = _RETRY_PAUSE_SECONDS
                if retry_after and retry_after.isdigit():
                    pause = float(retry_after)
                if time.monotonic() + pause >= deadline:
                    break
                await asyncio.sleep(pause)
                continue
            if attempt < MAX_ATTEMPTS_PER_CALL:
                await asyncio.sleep(min(_RETRY_PAUSE_SECONDS, max(0.0, deadline - time.monotonic())))
        raise SlackDeliveryError(last_error)

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

    async def find_posted(self, token: str, oldest: float) -> Optional[str]:
        data = await self._call(
            "conversations.history",
            {
                "channel": self.channel,
                "oldest": f"{max(0.0, oldest):.6f}",
                "include_all_metadata": "true",
                "limit": "200",
            },
            http_method="GET",
        )
        for message in data.get("messages") or []:
            payload = ((message or {}).get("metadata") or {}).get("event_payload") or {}
            if payload.get("token") == token:
                return str(message.get("ts") or "") or None
        return None
