"""Delete stored hand-off requests (privacy operator command).

Runs with the action-server environment (never imports rasa):

    make purge-handoffs                                       # handled > HANDOFF_RETENTION_DAYS ago
    .venv-actions/bin/python -m bot.ops.purge_handoffs --older-than-days 90
    .venv-actions/bin/python -m bot.ops.purge_handoffs --email jeanne@ville.fr   # right to erasure
    add --dry-run to count without deleting

Hand-off requests hold personal data (name, organisation, e-mail, question) stored with
the user's consent, to answer the question. Once a request is marked handled, it is kept
for the retention period decided by the contact point (HANDOFF_RETENTION_DAYS, 180 days by
default) and then deleted by this command (run it daily from cron). Requests not handled
yet are never deleted by age: the question would be lost. `--email` deletes every request
of one address, handled or not, when the person asks for it.

Exit codes: 0 done, 2 database error or bad arguments. Prints counts, never personal data.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import datetime, timedelta, timezone
from typing import Optional, Sequence

from actions.db.engine import create_engine, safe_url
from actions.db.handoff_repository import SqlHandoffRepositoryFactory
from actions.db.repositories import RepositoryError

DEFAULT_RETENTION_DAYS = 180
logger = logging.getLogger("bot.ops.purge_handoffs")


def retention_days_from_env() -> int:
    raw = os.environ.get("HANDOFF_RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise SystemExit(f"HANDOFF_RETENTION_DAYS doit être un nombre de jours entier (reçu : {raw!r}).")
    if days < 0:
        raise SystemExit("HANDOFF_RETENTION_DAYS ne peut pas être négatif.")
    return days


async def purge(
    older_than_days: Optional[int],
    email: Optional[str],
    dry_run: bool,
    url: Optional[str] = None,
    now: Optional[datetime] = None,
) -> int:
    engine = create_engine(url)
    repositories = SqlHandoffRepositoryFactory(engine)
    verb = "à supprimer" if dry_run else "supprimée(s)"
    try:
        async with repositories() as repo:
            if email is not None:
                count = await repo.delete_by_email(email, dry_run=dry_run)
                print(f"{count} demande(s) de cette adresse {verb}.")
            else:
                days = older_than_days if older_than_days is not None else retention_days_from_env()
                cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
                count = await repo.delete_handled_before(cutoff, dry_run=dry_run)
                print(f"{count} demande(s) traitée(s) avant le {cutoff:%Y-%m-%d %H:%M} UTC {verb} "
                      f"(conservation : {days} jours).")
        logger.info("purge_handoffs: %d request(s) %s (%s)", count,
                    "counted" if dry_run else "deleted", "email" if email else "retention")
        return 0
    except RepositoryError as error:
        print(f"Base de données indisponible ({safe_url(str(engine.url))}) : {error}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--older-than-days", type=int, help="handled more than N days ago (default: HANDOFF_RETENTION_DAYS or 180)")
    which.add_argument("--email", help="every request of this e-mail address")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    args = parser.parse_args(argv)
    if args.older_than_days is not None and args.older_than_days < 0:
        parser.error("--older-than-days ne peut pas être négatif")
    if args.email is not None and "@" not in args.email:
        parser.error("--email attend une adresse e-mail")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    return asyncio.run(purge(args.older_than_days, args.email, args.dry_run, args.database_url))


if __name__ == "__main__":
    sys.exit(main())
