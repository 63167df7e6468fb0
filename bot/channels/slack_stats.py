"""The week's figures for the staff in Slack: "stats de la semaine" and the weekly digest.

- In the Slack channel (bot/channels/slack.py), before NLU: a message that reads "stats de
  la semaine" (case, accents and punctuation aside; also "statistiques de la semaine") from
  a Slack user of SLACK_STAFF_USER_IDS, in a direct message with the bot or in the staff
  channel, is answered here with the key figures of the last 7 days and the "messages per
  day" chart. Anyone else, or anything else, goes to the assistant as usual: no stats, no
  hint that they exist. A staff member asking elsewhere is told where to ask (figures of
  the contact point are not posted in other channels).
- The weekly digest (bot/ops/insights_digest.py, for cron) posts the same to the staff channel.

The figures come from bot.insights (the recorded conversations, read in a worker thread);
the chart is uploaded with slack_sdk's files_upload_v2 (files.getUploadURLExternal, the
upload, files.completeUploadExternal), the figures as its comment. Only counts, topic labels
and the names of cities and networks are posted: no message text, no sender.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Dict, Final, FrozenSet, List, Mapping, Optional, Sequence

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from actions.topics import label_for
from common.settings import SettingError
from common.text import fold

logger = logging.getLogger(__name__)

STATS_COMMANDS: Final[FrozenSet[str]] = frozenset({"stats de la semaine", "statistiques de la semaine"})
CHART_NAME: Final[str] = "messages_per_day"
CHART_FILENAME: Final[str] = "messages-par-jour.png"
CHART_TITLE: Final[str] = "Messages des visiteurs par jour"
TOP_SHOWN: Final[int] = 3
WRONG_PLACE_TEXT: Final[str] = (
    "Les statistiques ne s'affichent qu'en message direct avec moi ou dans le canal de "
    "l'équipe : demandez-les à l'un de ces deux endroits, s'il vous plaît."
)
UNAVAILABLE_TEXT: Final[str] = (
    "Statistiques indisponibles pour le moment : les conversations enregistrées n'ont pas pu "
    "être lues. Réessayez plus tard ; si cela dure, prévenez l'administrateur."
)
NO_CHART_NOTE: Final[str] = "\n_(Le graphique n'a pas pu être envoyé.)_"
HANDOFF_LABELS: Final[Mapping[str, str]] = {
    "pending": "en attente d'envoi",
    "sending": "en cours d'envoi",
    "delivered": "transmises",
    "handled": "traitées",
}
_NOT_WORDS = re.compile(r"[^a-z0-9']+")
# One computation at a time in the Rasa process: repeated requests wait instead of piling up
# on the cores that answer conversations (and matplotlib is not drawn from two threads at once).
_ONE_AT_A_TIME = threading.Lock()


class Asker(str, Enum):
    STAFF = "staff"  # allow-listed, in a direct message or the staff channel
    STAFF_ELSEWHERE = "staff_elsewhere"  # allow-listed, in another channel
    OTHER = "other"  # anyone else: the assistant answers as usual


@dataclass(frozen=True)
class WeeklyFigures:
    text: str
    chart_png: Optional[bytes]


class FiguresUnavailable(RuntimeError):
    """The recorded conversations could not be read; the message names the store (no password)."""


class NotPosted(RuntimeError):
    """Slack refused or did not answer (French message, for the operator)."""


def is_stats_request(text: str) -> bool:
    words = _NOT_WORDS.sub(" ", fold(text)).split()
    return " ".join(words) in STATS_COMMANDS


def asker(metadata: Mapping[str, Any], staff_user_ids: FrozenSet[str]) -> Asker:
    """Who asks, from the metadata the Slack channel recorded from the signed request."""
    user = metadata.get("user")
    if not isinstance(user, str) or user not in staff_user_ids:
        return Asker.OTHER
    if metadata.get("direct_message") is True or metadata.get("staff_channel") is True:
        return Asker.STAFF
    return Asker.STAFF_ELSEWHERE


# -- the figures ----------------------------------------------------------------------


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def _count(number: int, word: str) -> str:
    """French plural: 0 and 1 take the singular."""
    return f"{number} {word}{'s' if number > 1 else ''}"


def _counted(items: Sequence[Mapping[str, Any]], key: str) -> str:
    shown = [f"{item[key]} ({item['count']})" for item in items[:TOP_SHOWN]]
    return ", ".join(shown) if shown else "aucun"


def _myths(myths: Mapping[str, int]) -> str:
    asked = sorted(((count, intent) for intent, count in myths.items() if count), key=lambda p: (-p[0], p[1]))
    shown = [f"{label_for(intent)} ({count})" for count, intent in asked[:TOP_SHOWN]]
    return ", ".join(shown) if shown else "aucune"


def _handoffs(handoffs: Mapping[str, int]) -> str:
    if not handoffs:
        return "aucune"
    parts = [f"{count} {HANDOFF_LABELS.get(status, status)}" for status, count in handoffs.items() if count]
    return ", ".join(parts) or "aucune"


def figures_text(summary: Mapping[str, Any]) -> str:
    """The key figures of a summary (bot.insights' summary.json dict), short, in French."""
    period = summary["period"]
    feedback = summary["feedback"]
    unanswered = sum(int(group["count"]) for group in summary["unanswered"])
    lines: List[str] = [
        f"*Statistiques du {_day(period['since'])} au {_day(period['until'])}*",
        f"• {_count(summary['conversations'], 'conversation')}, {_count(summary['user_messages'], 'message')}"
        " des visiteurs",
        f"• Non compris (reformulation demandée) : {round(100 * float(summary['fallback_rate']))} % des messages ;"
        f" {_count(unanswered, 'message')} à revoir",
        f"• Sujets les plus demandés : {_counted(summary['top_topics'], 'topic')}",
        f"• Idées reçues : {_myths(summary['myths'])}",
        f"• Villes citées : {_counted(summary['asked_cities'], 'name')} ;"
        f" réseaux cités : {_counted(summary['asked_networks'], 'name')}",
        f"• Demandes de contact : {_handoffs(summary['handoffs'])}",
        f"• Avis des visiteurs : {feedback['up']} « utile », {feedback['down']} « pas utile »",
    ]
    return "\n".join(lines)


def weekly_figures(today: Optional[date] = None, conversations_url: Optional[str] = None,
                   database_url: Optional[str] = None) -> WeeklyFigures:
    """The last 7 days' figures and chart, from the recorded conversations (blocking I/O)."""
    from bot.insights import charts, report, store

    since, until = report.default_period(today)
    with _ONE_AT_A_TIME:
        try:
            insights = report.load_insights(since, until, conversations_url, database_url)
        except (store.StoreUnavailable, SettingError) as error:
            raise FiguresUnavailable(str(error)) from None
        return WeeklyFigures(figures_text(insights.summary), charts.render_chart(insights, CHART_NAME))


# -- posting --------------------------------------------------------------------------


async def post_figures(client: AsyncWebClient, channel: str, figures: WeeklyFigures,
                       thread_ts: Optional[str] = None) -> None:
    """The figures as the comment of the chart (text only without a chart); NotPosted on failure."""
    try:
        if figures.chart_png is None:
            await client.chat_postMessage(channel=channel, text=figures.text, thread_ts=thread_ts)
            return
        await client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            file=figures.chart_png,
            filename=CHART_FILENAME,
            title=CHART_TITLE,
            alt_txt=CHART_TITLE + " sur les 7 derniers jours",
            initial_comment=figures.text,
        )
    except (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        raise NotPosted(f"Slack n'a pas accepté l'envoi dans {channel} : {_reason(error)}") from None


def _reason(error: Exception) -> str:
    response: Optional[Dict[str, Any]] = getattr(getattr(error, "response", None), "data", None)
    if isinstance(response, dict) and response.get("error"):
        return str(response["error"])
    return f"{type(error).__name__} {str(error).splitlines()[0][:120] if str(error) else ''}".strip()


async def answer_staff(client: AsyncWebClient, channel: str, thread_ts: Optional[str]) -> None:
    """The answer to "stats de la semaine": figures and chart, else the figures alone, else
    a French line saying the figures are unavailable. Never raises (a failure is logged)."""
    try:
        figures = await asyncio.to_thread(weekly_figures)
    except FiguresUnavailable as error:
        logger.error("slack stats: the conversations could not be read: %s", error)
        await _post_text(client, channel, thread_ts, UNAVAILABLE_TEXT)
        return
    except Exception:  # noqa: BLE001 - a staff question never gets silence
        logger.exception("slack stats: the figures could not be computed")
        await _post_text(client, channel, thread_ts, UNAVAILABLE_TEXT)
        return
    try:
        await post_figures(client, channel, figures, thread_ts)
    except NotPosted as error:
        logger.error("slack stats: chart not posted: %s", error)
        await _post_text(client, channel, thread_ts, figures.text + NO_CHART_NOTE)


async def _post_text(client: AsyncWebClient, channel: str, thread_ts: Optional[str], text: str) -> None:
    try:
        await client.chat_postMessage(channel=channel, text=text, thread_ts=thread_ts)
    except (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as error:
        logger.error("slack stats: answer not posted to %s: %s", channel, _reason(error))
