"""`make insights [SINCE=2026-11-01] [UNTIL=2026-11-07]`: what cities asked, what was missed.

    .venv-rasa/bin/python -m bot.ops.insights [--since DAY] [--until DAY] [--out DIR]
        [--conversations-url URL] [--database-url URL]
    .venv-rasa/bin/python -m bot.ops.insights --prepare-store var/conversations.db

Reads the recorded conversations of the period (days UTC, inclusive; default the last 7
days): var/conversations.db, or TRACKER_STORE_URL, or the production profile's TRACKER_DB_*;
and the hand-off requests' statuses (DATABASE_URL, default var/urbact.db). Writes
results/insights/index.html, its PNG charts and summary.json (bot/insights/). Prints the
key counts and the page's path, never a message or a sender id.

Exit codes: 0 written, 2 bad arguments or conversation store unavailable.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path
from typing import List, Optional, Sequence

from bot.insights import report, store
from common.settings import SettingError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "results" / "insights"
logger = logging.getLogger("bot.ops.insights")


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"date attendue au format AAAA-MM-JJ (reçu : {text[:20]!r})") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--since", type=parse_day, help="first day (AAAA-MM-JJ); default: 6 days before --until")
    parser.add_argument("--until", type=parse_day, help="last day (AAAA-MM-JJ); default: today (UTC)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder of the report (default results/insights)")
    parser.add_argument("--conversations-url", help="SQLAlchemy URL of the recorded conversations")
    parser.add_argument("--database-url", help="SQLAlchemy URL of the actions' database (hand-off statuses)")
    parser.add_argument("--prepare-store", type=Path, metavar="FILE",
                        help="only create the SQLite recording FILE in WAL mode (bot/ops/run.sh), then exit")
    return parser


def period(since: Optional[date], until: Optional[date]) -> tuple[date, date]:
    default_since, default_until = report.default_period(until)
    return since or default_since, until or default_until


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.prepare_store:
        store.prepare_sqlite_file(args.prepare_store)
        return 0
    since, until = period(args.since, args.until)
    if since > until:
        parser.error(f"--since ({since}) est après --until ({until})")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    started = time.perf_counter()
    try:
        insights = report.load_insights(since, until, args.conversations_url, args.database_url)
        page = report.write_report(insights, args.out)
    except (store.StoreUnavailable, SettingError) as error:
        print(f"Conversations enregistrées illisibles : {error}", file=sys.stderr)
        return 2
    summary = insights.summary
    lines: List[str] = [
        f"Période du {since} au {until} : {summary['conversations']} conversation(s), "
        f"{summary['user_messages']} message(s), {100 * summary['fallback_rate']:.0f} % non compris, "
        f"{len(summary['unanswered'])} groupe(s) de messages à revoir.",
        f"Rapport : {page}",
    ]
    print("\n".join(lines))
    logger.info("insights: %d conversation(s), %d message(s) in %.2f s", summary["conversations"],
                summary["user_messages"], time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
