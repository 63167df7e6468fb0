"""Load the insights of a period from the stores, and write them as files."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from bot.insights import store
from bot.insights.summary import Insights, build_insights

PERIOD_DAYS = 7


def default_period(today: Optional[date] = None) -> Tuple[date, date]:
    """The last 7 days, today (UTC) included."""
    until = today or datetime.now(timezone.utc).date()
    return until - timedelta(days=PERIOD_DAYS - 1), until


def load_insights(since: date, until: date, conversations_url: Optional[str] = None,
                  database_url: Optional[str] = None) -> Insights:
    """Summary and per-day counts of the period; StoreUnavailable when the conversation
    store does not answer. An unreachable actions database only leaves `handoffs` empty."""
    events = store.read_events(conversations_url or store.conversations_url_from_env(), since, until)
    try:
        handoffs = store.handoff_statuses(database_url or store.database_url_from_env(), since, until)
    except store.StoreUnavailable:
        handoffs = {}
    return build_insights(events, since, until, handoffs)


def load_summary(since: date, until: date, conversations_url: Optional[str] = None,
                 database_url: Optional[str] = None) -> Dict[str, Any]:
    """The summary.json dict of the period (see bot/insights/summary.py)."""
    return load_insights(since, until, conversations_url, database_url).summary


def write_summary(insights: Insights, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "summary.json"
    path.write_text(json.dumps(insights.summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def write_report(insights: Insights, out_dir: Path) -> Path:
    """summary.json, the PNG charts and index.html in out_dir; returns index.html's path."""
    from bot.insights.charts import write_charts
    from bot.insights.page import render_page

    write_summary(insights, out_dir)
    charts = write_charts(insights, out_dir)
    page = out_dir / "index.html"
    page.write_text(render_page(insights, {name: path.name for name, path in charts.items()}), encoding="utf-8")
    return page
