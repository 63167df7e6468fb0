"""Send the hand-off requests still waiting for Slack, now (operator command).

Runs with the action-server environment (never imports rasa):

    .venv-actions/bin/python -m actions.ops.deliver_handoffs          # deliver what is due
    .venv-actions/bin/python -m actions.ops.deliver_handoffs --list   # only show what is pending

The action server already retries in the background (actions/handoff/loop.py); this command
is for a cron job, after an outage, or when the loop is disabled (HANDOFF_DELIVERY_LOOP=off).
It uses the same claims as the loop, so both can run at the same time without sending a
request twice. Exit codes: 0 nothing left pending, 1 some requests still pending (Slack
down or not configured), 2 database error, 3 Slack refuses for good (invalid_auth,
channel_not_found...: fix the configuration; the requests stay stored).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timezone
from typing import Optional, Sequence

from actions.db.engine import create_engine, safe_url
from actions.db.errors import RepositoryError
from actions.handoff.loop import outbox_from_env
from actions.handoff.outbox import Outbox
from actions.handoff.repository import HandoffRepositoryFactory, SqlHandoffRepositoryFactory


async def run(deliver: bool, url: Optional[str] = None) -> int:
    engine = create_engine(url)
    repositories = SqlHandoffRepositoryFactory(engine)
    try:
        outbox = outbox_from_env(repositories)
        if deliver:
            code = await deliver_due(outbox)
            if code is not None:
                return code
        pending = await list_pending(repositories)
        print(f"{pending} demande(s) pas encore arrivée(s) sur Slack ({safe_url(str(engine.url))}).")
        return 0 if not pending else 1
    except RepositoryError as error:
        print(f"Base de données indisponible : {error}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()


async def deliver_due(outbox: Outbox) -> Optional[int]:
    """One delivery round; the exit code when it must stop the command (2, 3), else None."""
    if outbox.poster is None:
        print("SLACK_TOKEN ou SLACK_STAFF_CHANNEL absent : rien n'est envoyé.", file=sys.stderr)
        return None
    report = await outbox.deliver_due(limit=500)
    if report.db_error:
        print("Erreur de base de données pendant l'envoi.", file=sys.stderr)
        return 2
    print(f"{len(report.delivered)} demande(s) envoyée(s), {len(report.failed)} en échec.")
    if report.blocked is not None:
        print(
            f"Slack refuse définitivement ({report.blocked}) : envoi suspendu, les demandes "
            "restent enregistrées. Corrigez SLACK_TOKEN, SLACK_STAFF_CHANNEL ou les droits "
            "de l'application Slack, puis relancez cette commande.",
            file=sys.stderr,
        )
        return 3
    return None


async def list_pending(repositories: HandoffRepositoryFactory) -> int:
    """Prints each request not yet on Slack (attempts, next attempt, last error); their number."""
    async with repositories() as repo:
        pending = [r for r in await repo.list_open(limit=500) if not r.is_delivered]
    for record in pending:
        when = record.next_attempt_at.astimezone(timezone.utc).isoformat(timespec="seconds") if record.next_attempt_at else "-"
        print(
            f"  n° {record.id}: {record.delivery_attempts} tentative(s), prochaine {when}, "
            f"dernière erreur : {record.last_error or '-'}"
        )
    return len(pending)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="only list the pending deliveries")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL")
    args = parser.parse_args(argv)
    return asyncio.run(run(deliver=not args.list, url=args.database_url))


if __name__ == "__main__":
    sys.exit(main())
