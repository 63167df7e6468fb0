"""Delete stored hand-off requests (privacy operator command).

Runs with the action-server environment (never imports rasa):

    make purge-handoffs                                       # handled > HANDOFF_RETENTION_DAYS ago
    .venv-actions/bin/python -m actions.ops.purge_handoffs --older-than-days 90
    .venv-actions/bin/python -m actions.ops.purge_handoffs --email jeanne@ville.fr   # right to erasure
    .venv-actions/bin/python -m actions.ops.purge_handoffs --email jeanne@ville.fr --print-conversation-ids
    add --dry-run to count without deleting

`make erase-person EMAIL=...` runs `--print-conversation-ids` (the conversation ids of the
person's requests, one per line, for bot/ops/purge_conversations.py in the Rasa
environment), then `--email`.

Hand-off requests hold personal data (name, organisation, e-mail, question) stored with
the user's consent, to answer the question. Once a request is marked handled, it is kept
for the retention period decided by the contact point (HANDOFF_RETENTION_DAYS, 180 days by
default) and then deleted by this command (run it daily from cron). Requests not handled
yet are never deleted by age: the question would be lost. `--email` deletes every request
of one address, handled or not, when the person asks for it, and first the Slack message
of each request delivered to the staff channel (`chat.delete` with SLACK_STAFF_CHANNEL and
the stored ts; a message already gone counts as deleted). If Slack is not configured or
refuses, nothing is deleted (the ts would be lost) and the command exits 3.

Exit codes: 0 done, 2 database error or bad arguments, 3 Slack messages not deleted.
Prints counts, never personal data (the conversation ids only with --print-conversation-ids).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import datetime, timedelta, timezone
from typing import Optional, Sequence

from actions.db.engine import create_engine, safe_url
from actions.db.errors import RepositoryError
from actions.handoff.repository import SqlHandoffRepository, SqlHandoffRepositoryFactory
from actions.handoff.slack_api import SlackConfig, SlackDeliveryError, SlackWebPoster
from common import settings
from common.settings import SettingError

logger = logging.getLogger("actions.ops.purge_handoffs")


def retention_days_from_env() -> int:
    """HANDOFF_RETENTION_DAYS, or SystemExit with the French reason when it is not a number of days."""
    try:
        return settings.HANDOFF_RETENTION_DAYS.require()
    except SettingError as error:
        raise SystemExit(str(error)) from None


async def purge(
    older_than_days: Optional[int],
    email: Optional[str],
    dry_run: bool,
    url: Optional[str] = None,
    now: Optional[datetime] = None,
    print_conversation_ids: bool = False,
) -> int:
    engine = create_engine(url)
    repositories = SqlHandoffRepositoryFactory(engine)
    try:
        async with repositories() as repo:
            if email is None:
                days = older_than_days if older_than_days is not None else retention_days_from_env()
                count = await purge_by_age(repo, days, dry_run, now or datetime.now(timezone.utc))
            elif print_conversation_ids:
                requests = await repo.requests_of_email(email)
                for conversation_id in sorted({r.conversation_id for r in requests if r.conversation_id}):
                    print(conversation_id)
                return 0
            else:
                code, count = await erase_person(repo, email, dry_run)
                if code:
                    return code
        logger.info("purge_handoffs: %d request(s) %s (%s)", count,
                    "counted" if dry_run else "deleted", "email" if email else "retention")
        return 0
    except RepositoryError as error:
        print(f"Base de données indisponible ({safe_url(str(engine.url))}) : {error}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()


def _verb(dry_run: bool) -> str:
    return "à supprimer" if dry_run else "supprimée(s)"


async def purge_by_age(repo: SqlHandoffRepository, days: int, dry_run: bool, now: datetime) -> int:
    """Requests handled more than `days` days ago; prints the count."""
    cutoff = now - timedelta(days=days)
    count = await repo.delete_handled_before(cutoff, dry_run=dry_run)
    print(f"{count} demande(s) traitée(s) avant le {cutoff:%Y-%m-%d %H:%M} UTC {_verb(dry_run)} "
          f"(conservation : {days} jours).")
    return count


async def erase_person(repo: SqlHandoffRepository, email: str, dry_run: bool) -> tuple[int, int]:
    """Every request of this address, after its Slack messages; (exit code, count)."""
    requests = await repo.requests_of_email(email)
    posted = [r.slack_ts for r in requests if r.slack_ts]
    if posted and not dry_run:
        code = await delete_slack_messages(posted)
        if code:
            return code, 0
    count = await repo.delete_by_email(email, dry_run=dry_run)
    print(f"{count} demande(s) de cette adresse {_verb(dry_run)} ; {len(posted)} message(s) Slack "
          f"{'à supprimer' if dry_run else 'supprimé(s)'}.")
    return 0, count


async def delete_slack_messages(timestamps: Sequence[str]) -> int:
    """chat.delete of each message in the staff channel; 0 when all are gone, 3 otherwise."""
    config = SlackConfig.from_env()
    if config is None:
        print(f"{len(timestamps)} demande(s) ont été publiées sur Slack, mais SLACK_TOKEN / "
              "SLACK_STAFF_CHANNEL ne sont pas définis : rien n'est supprimé (sinon les messages "
              "Slack resteraient sans trace).", file=sys.stderr)
        return 3
    poster = SlackWebPoster(config)
    for ts in timestamps:
        try:
            await poster.delete(ts)
        except SlackDeliveryError as error:
            print(f"Slack refuse de supprimer un message ({error}) : rien n'est supprimé de la base ; "
                  "relancez la commande une fois Slack corrigé.", file=sys.stderr)
            return 3
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--older-than-days", type=int, help="handled more than N days ago (default: HANDOFF_RETENTION_DAYS or 180)")
    which.add_argument("--email", help="every request of this e-mail address")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    parser.add_argument("--print-conversation-ids", action="store_true",
                        help="with --email: print the conversation ids of the requests, delete nothing")
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    args = parser.parse_args(argv)
    if args.older_than_days is not None and args.older_than_days < 0:
        parser.error("--older-than-days ne peut pas être négatif")
    if args.email is not None and "@" not in args.email:
        parser.error("--email attend une adresse e-mail")
    if args.print_conversation_ids and args.email is None:
        parser.error("--print-conversation-ids va avec --email")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    if args.print_conversation_ids:  # stdout carries the ids only
        logging.getLogger().setLevel(logging.WARNING)
    return asyncio.run(purge(args.older_than_days, args.email, args.dry_run, args.database_url,
                             print_conversation_ids=args.print_conversation_ids))


if __name__ == "__main__":
    sys.exit(main())
