"""Privacy purge of hand-off requests, on SQLite and PostgreSQL (actions/ops/purge_handoffs.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from database_integration_helpers import db_url, postgres_database  # noqa: F401
from test_handoff_repository import T0, sample

from actions.handoff.models import HandoffRequest
from actions.handoff.outbox import Outbox
from actions.handoff.repository import SqlHandoffRepositoryFactory
from actions.handoff.slack_api import SlackConfig, SlackWebPoster
from actions.ops import purge_handoffs
from tests.support.slack_standin import SlackStandIn


async def seed(factory: SqlHandoffRepositoryFactory) -> dict:
    """Four requests: handled 200 days ago, handled 10 days ago, open for 400 days, and one of
    another person handled 200 days ago."""
    async with factory() as repo:
        old = await repo.create(sample(), T0 - timedelta(days=210))
        recent = await repo.create(sample(), T0 - timedelta(days=20))
        still_open = await repo.create(sample(), T0 - timedelta(days=400))
        other = await repo.create(
            HandoffRequest("Marc Petit", "Ville de Lens", "Marc.Petit@Lens.fr", "Et les délais ?", "rest", "r-1"),
            T0 - timedelta(days=205),
        )
        await repo.mark_handled(old.id, "U1", T0 - timedelta(days=200))
        await repo.mark_handled(recent.id, "U1", T0 - timedelta(days=10))
        await repo.mark_handled(other.id, "U1", T0 - timedelta(days=200))
    return {"old": old.id, "recent": recent.id, "open": still_open.id, "other": other.id}


async def remaining(factory: SqlHandoffRepositoryFactory, ids: dict) -> set:
    async with factory() as repo:
        return {name for name, request_id in ids.items() if await repo.get(request_id) is not None}


async def test_retention_deletes_only_requests_handled_before_the_cutoff(factory) -> None:
    ids = await seed(factory)
    async with factory() as repo:
        assert await repo.delete_handled_before(T0 - timedelta(days=180), dry_run=True) == 2
    assert await remaining(factory, ids) == {"old", "recent", "open", "other"}
    async with factory() as repo:
        assert await repo.delete_handled_before(T0 - timedelta(days=180)) == 2
    # never an open request, however old
    assert await remaining(factory, ids) == {"recent", "open"}


async def test_erasure_by_email_ignores_case_and_status(factory) -> None:
    ids = await seed(factory)
    async with factory() as repo:
        assert await repo.delete_by_email("  JEANNE@saint-aubin.fr ") == 3
        assert await repo.delete_by_email("personne@nulle-part.fr") == 0
    assert await remaining(factory, ids) == {"other"}


async def test_command_end_to_end(migrated: str, factory, capsys, monkeypatch) -> None:
    ids = await seed(factory)
    monkeypatch.setenv("HANDOFF_RETENTION_DAYS", "180")
    assert await purge_handoffs.purge(None, None, dry_run=False, url=migrated, now=T0) == 0
    out = capsys.readouterr().out
    assert "2 demande(s) traitée(s)" in out and "jeanne" not in out.lower()
    assert await remaining(factory, ids) == {"recent", "open"}
    assert await purge_handoffs.purge(None, "marc.petit@lens.fr", dry_run=False, url=migrated) == 0
    assert await remaining(factory, ids) == {"recent", "open"}  # Marc's was already purged
    assert await purge_handoffs.purge(None, "jeanne@saint-aubin.fr", dry_run=False, url=migrated) == 0
    assert await remaining(factory, ids) == set()


async def test_command_reports_an_unreachable_database(capsys) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    assert await purge_handoffs.purge(30, None, dry_run=True, url=url) == 2
    assert "Base de données indisponible" in capsys.readouterr().err


def test_bad_retention_setting_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("HANDOFF_RETENTION_DAYS", "six mois")
    with pytest.raises(SystemExit, match="HANDOFF_RETENTION_DAYS"):
        purge_handoffs.retention_days_from_env()


# -- erasure by person: the Slack message of each request too (issue 10, point 6.3) ----------


SLACK_TOKEN = "test-erasure-token"  # not shaped like a real token


@pytest.fixture
def slack(monkeypatch) -> "SlackStandIn":
    with SlackStandIn(token=SLACK_TOKEN) as server:
        monkeypatch.setenv("SLACK_TOKEN", SLACK_TOKEN)
        monkeypatch.setenv("SLACK_STAFF_CHANNEL", "C0STAFF")
        monkeypatch.setenv("SLACK_API_BASE_URL", server.base_url)
        yield server


async def delivered_requests(factory, slack) -> dict:
    """Jeanne: two requests delivered to Slack (two conversations) and one never delivered;
    Marc: one delivered."""
    poster = SlackWebPoster(SlackConfig.from_env())
    outbox = Outbox(factory, poster)
    async with factory() as repo:
        first = await repo.create(sample(), T0)
        second = await repo.create(HandoffRequest("Jeanne Dupont", "Mairie", "Jeanne@Saint-Aubin.fr",
                                              "Et le cofinancement ?", "rest", "rest:web-456"), T0)
        pending = await repo.create(sample(question="Une troisième question ?"), T0)
        marc = await repo.create(HandoffRequest("Marc Petit", "Ville de Lens", "marc@lens.fr",
                                            "Et les délais ?", "slack", "slack:U9"), T0)
    for request_id in (first.id, second.id, marc.id):
        await outbox.deliver(request_id)
    assert len(slack.messages) == 3
    return {"first": first.id, "second": second.id, "pending": pending.id, "marc": marc.id}


async def test_erasure_deletes_the_slack_message_of_each_request(factory, migrated, slack, capsys) -> None:
    ids = await delivered_requests(factory, slack)
    jeanne_ts = {m.ts for m in slack.messages if "Jeanne" in m.text}
    assert await purge_handoffs.purge(None, "jeanne@saint-aubin.fr", dry_run=True, url=migrated) == 0
    assert slack.deleted == [] and len(slack.messages) == 3
    capsys.readouterr()
    assert await purge_handoffs.purge(None, "JEANNE@saint-aubin.fr", dry_run=False, url=migrated) == 0
    assert {ts for _, ts in slack.deleted} == jeanne_ts and {c for c, _ in slack.deleted} == {"C0STAFF"}
    assert [m.text for m in slack.messages if "Jeanne" in m.text] == []
    assert len(slack.messages) == 1  # Marc's message stays
    assert await remaining(factory, ids) == {"marc"}
    out = capsys.readouterr().out
    assert "3 demande(s)" in out and "2 message(s) Slack" in out and "jeanne" not in out.lower()


async def test_erasure_prints_the_conversation_ids_for_the_tracker_store(factory, migrated, slack, capsys) -> None:
    ids = await delivered_requests(factory, slack)
    assert await purge_handoffs.purge(None, "jeanne@saint-aubin.fr", dry_run=False, url=migrated,
                                      print_conversation_ids=True) == 0
    assert capsys.readouterr().out.split() == ["rest:web-456", "web-123"]
    assert await remaining(factory, ids) == set(ids)  # nothing deleted by the listing
    assert slack.deleted == []


async def test_erasure_without_slack_deletes_nothing(factory, migrated, slack, monkeypatch, capsys) -> None:
    ids = await delivered_requests(factory, slack)
    monkeypatch.delenv("SLACK_TOKEN")
    assert await purge_handoffs.purge(None, "jeanne@saint-aubin.fr", dry_run=False, url=migrated) == 3
    assert await remaining(factory, ids) == set(ids)
    monkeypatch.setenv("SLACK_TOKEN", "xoxb-wrong")
    assert await purge_handoffs.purge(None, "jeanne@saint-aubin.fr", dry_run=False, url=migrated) == 3
    assert await remaining(factory, ids) == set(ids) and len(slack.messages) == 3
    # a message already deleted by hand in Slack counts as gone
    monkeypatch.setenv("SLACK_TOKEN", SLACK_TOKEN)
    first_ts = next(m.ts for m in slack.messages if "candidater" in m.text)
    await SlackWebPoster(SlackConfig.from_env()).delete(first_ts)
    assert await purge_handoffs.purge(None, "jeanne@saint-aubin.fr", dry_run=False, url=migrated) == 0
    assert await remaining(factory, ids) == {"marc"}
