"""Delete stored conversations from Rasa's SQL tracker store (privacy operator command).

Runs with the Rasa environment (SQLAlchemy 1.4, plain SQL on Rasa's table `events`; never
imports `actions`):

    make purge-conversations                   # last message older than CONVERSATION_RETENTION_DAYS (90)
    .venv-rasa/bin/python -m bot.ops.purge_conversations --older-than-days 30
    .venv-rasa/bin/python -m bot.ops.purge_conversations --email jeanne@ville.fr --sender-ids-from ids.txt
    add --dry-run to count without deleting

Which store: `--tracker-url` (an SQLAlchemy URL), else TRACKER_STORE_URL, else the
variables of the production profile (TRACKER_DB_HOST, TRACKER_DB_PORT, TRACKER_DB_NAME,
TRACKER_DB_USER, TRACKER_DB_PASSWORD, PostgreSQL), else the embedded default's recording,
var/conversations.db (SQLite, endpoints.yml). A SQLite file that does not exist yet holds
no conversation: the command says so and exits 0.

A conversation (all the events of one sender id) is deleted when its **last** event is
older than the retention period: a conversation still going on is never cut. Erasure by
person (`make erase-person`) deletes the conversations of the given sender ids (those of
the person's hand-off requests, one per line, `-` for stdin) and every conversation in
which the e-mail address was typed.

Exit codes: 0 done, 2 database error or bad arguments. Prints counts, never personal data.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Iterable, List, Optional, Sequence, Set

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from bot.insights import store
from bot.insights.store import safe_url
from common import settings
from common.settings import SettingError

DEFAULT_RETENTION_DAYS = settings.CONVERSATION_RETENTION_DAYS.default
logger = logging.getLogger("bot.ops.purge_conversations")

EVENTS = sa.table("events", sa.column("sender_id"), sa.column("timestamp"), sa.column("data"))


def retention_days_from_env() -> int:
    """CONVERSATION_RETENTION_DAYS, or SystemExit with the French reason when it is not a number of days."""
    try:
        return settings.CONVERSATION_RETENTION_DAYS.require()
    except SettingError as error:
        raise SystemExit(str(error)) from None


def tracker_url_from_env() -> str:
    """TRACKER_STORE_URL, else the production profile's TRACKER_DB_* (PostgreSQL), else the
    embedded default's var/conversations.db (bot/insights/store.py: one rule for both commands).

    A TRACKER_DB_PORT that is not a port stops the command (SystemExit, French reason)."""
    try:
        return store.conversations_url_from_env()
    except SettingError as error:
        raise SystemExit(str(error)) from None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _doomed_senders(
    connection: sa.engine.Connection,
    cutoff: Optional[float],
    sender_ids: Iterable[str],
    email: Optional[str],
) -> Set[str]:
    doomed: Set[str] = set()
    if cutoff is not None:
        rows = connection.execute(
            sa.select(EVENTS.c.sender_id)
            .group_by(EVENTS.c.sender_id)
            .having(sa.func.max(EVENTS.c.timestamp) < cutoff)
        )
        doomed.update(row[0] for row in rows)
    wanted = sorted({s for s in sender_ids if s})
    if wanted:
        rows = connection.execute(
            sa.select(EVENTS.c.sender_id).where(EVENTS.c.sender_id.in_(wanted)).distinct()
        )
        doomed.update(row[0] for row in rows)
    if email:
        # Rasa stores each event as JSON text: the address appears as typed (ASCII addresses;
        # JSON escapes other characters), compared without case.
        rows = connection.execute(
            sa.select(EVENTS.c.sender_id)
            .where(sa.func.lower(EVENTS.c.data).like(_like_pattern(email.strip().lower()), escape="\\"))
            .distinct()
        )
        doomed.update(row[0] for row in rows)
    return doomed


def purge(
    url: str,
    older_than_days: Optional[int] = None,
    sender_ids: Sequence[str] = (),
    email: Optional[str] = None,
    dry_run: bool = False,
    now: Optional[float] = None,
) -> int:
    """Deletes (or counts) the conversations; returns the exit code."""
    cutoff = None
    if older_than_days is not None:
        cutoff = (now if now is not None else time.time()) - older_than_days * 86400
    engine = sa.create_engine(url, hide_parameters=True, future=True)
    try:
        with engine.begin() as connection:
            doomed = _doomed_senders(connection, cutoff, sender_ids, email)
            events = 0
            for start in range(0, len(doomed), 500):
                chunk = sorted(doomed)[start:start + 500]
                where = EVENTS.c.sender_id.in_(chunk)
                if dry_run:
                    events += connection.execute(
                        sa.select(sa.func.count()).select_from(EVENTS).where(where)
                    ).scalar_one()
                else:
                    events += connection.execute(sa.delete(EVENTS).where(where)).rowcount
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"Base des conversations indisponible ({safe_url(url)}) : {type(error).__name__}: {reason}",
              file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    verb = "à supprimer" if dry_run else "supprimée(s)"
    why = f"dernier message il y a plus de {older_than_days} jours" if cutoff is not None else "demande d'effacement"
    print(f"{len(doomed)} conversation(s) ({events} événement(s)) {verb} ({why}).")
    logger.info("purge_conversations: %d conversation(s), %d event(s) %s", len(doomed), events,
                "counted" if dry_run else "deleted")
    return 0


def read_sender_ids(source: Optional[str]) -> List[str]:
    if not source:
        return []
    lines = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
    return [line.strip() for line in lines.splitlines() if line.strip()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--older-than-days", type=int,
                        help="last event more than N days ago (default: CONVERSATION_RETENTION_DAYS or 90); "
                             "the default when neither --sender-id, --sender-ids-from nor --email is given")
    parser.add_argument("--sender-id", action="append", default=[], help="erase this conversation (repeatable)")
    parser.add_argument("--sender-ids-from", help="erase the conversations listed in this file, one per line ('-': stdin)")
    parser.add_argument("--email", help="erase every conversation in which this address was typed")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    parser.add_argument("--tracker-url", help="SQLAlchemy URL of the tracker store (default: TRACKER_STORE_URL, "
                                              "TRACKER_DB_*, else var/conversations.db)")
    args = parser.parse_args(argv)
    if args.older_than_days is not None and args.older_than_days < 1:
        parser.error("--older-than-days doit valoir au moins 1")
    if args.email is not None and "@" not in args.email:
        parser.error("--email attend une adresse e-mail")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    sender_ids = list(args.sender_id) + read_sender_ids(args.sender_ids_from)
    erasure = bool(args.sender_id or args.sender_ids_from or args.email)
    days = args.older_than_days
    if days is None and not erasure:
        days = retention_days_from_env()
    url = args.tracker_url or tracker_url_from_env()
    missing = store.missing_sqlite_file(url)
    if missing:
        print(f"Aucune conversation enregistrée ({missing} n'existe pas encore) : rien à purger.")
        return 0
    return purge(url, days, sender_ids, args.email, args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
