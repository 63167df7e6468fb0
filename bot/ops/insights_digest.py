"""Weekly digest for the staff: the last 7 days' key figures and the "messages per day" chart,
posted to the staff channel (SLACK_STAFF_CHANNEL) with the bot token (SLACK_TOKEN).

    .venv-rasa/bin/python -m bot.ops.insights_digest [--until AAAA-MM-JJ]   (make insights-digest)

Meant for cron (docs/slack.md gives the line). Reads the recorded conversations as
`make insights` does (var/conversations.db, or TRACKER_STORE_URL / TRACKER_DB_*). Exit codes,
each with one French line on stderr: 0 posted; 2 Slack not configured (SLACK_TOKEN or
SLACK_STAFF_CHANNEL unset) or a wrong argument; 3 the conversations could not be read;
4 Slack refused the post or did not answer.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from typing import List, Optional

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack_stats import FiguresUnavailable, NotPosted, post_figures, weekly_figures
from common import settings

POSTED, NOT_CONFIGURED, STORE_UNREADABLE, SLACK_FAILED = 0, 2, 3, 4
SLACK_TIMEOUT_SECONDS = 30


def _arguments(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Poste le résumé de la semaine dans le canal de l'équipe.")
    parser.add_argument("--until", type=date.fromisoformat, default=None,
                        help="dernier jour du résumé (AAAA-MM-JJ, UTC ; défaut : aujourd'hui)")
    return parser.parse_args(argv)


def _client(token: str) -> AsyncWebClient:
    base_url = settings.SLACK_API_BASE_URL.read().strip()
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


def main(argv: Optional[List[str]] = None) -> int:
    arguments = _arguments(argv)
    token = settings.SLACK_TOKEN.read()
    channel = settings.SLACK_STAFF_CHANNEL.read().lstrip("#")
    missing = [name for name, value in (("SLACK_TOKEN", token), ("SLACK_STAFF_CHANNEL", channel)) if not value]
    if missing:
        print(f"Résumé non envoyé : Slack n'est pas configuré ({', '.join(missing)} absente(s)).",
              file=sys.stderr)
        return NOT_CONFIGURED
    try:
        figures = weekly_figures(arguments.until)
    except FiguresUnavailable as error:
        print(f"Résumé non envoyé : les conversations enregistrées n'ont pas pu être lues ({error}).",
              file=sys.stderr)
        return STORE_UNREADABLE
    try:
        asyncio.run(post_figures(_client(token), channel, figures))
    except NotPosted as error:
        print(f"Résumé non envoyé : {error}", file=sys.stderr)
        return SLACK_FAILED
    print(f"Résumé de la semaine posté dans {channel}.")
    return POSTED


if __name__ == "__main__":
    sys.exit(main())
