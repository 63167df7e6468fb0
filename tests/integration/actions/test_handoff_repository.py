"""The hand-off repository and outbox on real databases: SQLite (file) and PostgreSQL.

Fixtures from database_integration_helpers.py (the database part's): `db_url` gives an empty
database of each backend for every test (PostgreSQL: a throw-away database on
127.0.0.1:5432, skipped if unreachable unless REQUIRE_POSTGRES=1); each test migrates it to
the Alembic head, which includes the hand-off revision.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

import pytest
from alembic import command
from database_integration_helpers import db_url, migrate_to_head, postgres_database  # noqa: F401
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection

from actions.db.engine import create_engine
from actions.db.errors import RepositoryUnavailable
from actions.db.migrate import alembic_config
from actions.handoff.models import HandoffRequest
from actions.handoff.outbox import DELIVERED, FAILED, NOT_CLAIMED, Outbox, RetryPolicy
from actions.handoff.repository import SqlHandoffRepositoryFactory
from actions.handoff.slack_api import SlackDeliveryError

T0 = datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=timezone.utc)


async def test_migration_creates_the_table_and_downgrades_cleanly(migrated: str) -> None:
    engine = create_engine(migrated)

    def tables(connection: Connection) -> set:
        return set(inspect(connection).get_table_names())

    def downgrade(connection: Connection) -> None:
        config = alembic_config(migrated)
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")

    try:
        async with engine.begin() as connection:
            assert "handoff_requests" in await connection.run_sync(tables)
            await connection.run_sync(downgrade)
        async with engine.begin() as connection:
            remaining = await connection.run_sync(tables)
        assert "handoff_requests" not in remaining and "networks" in remaining
    finally:
        await engine.dispose()
    await migrate_to_head(migrated)


async def test_migrations_match_the_models(migrated: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import actions.handoff.models  # noqa: F401 - registers handoff_requests on Base
    from actions.kb.models import Base

    def differences(connection: Connection) -> list:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    engine = create_engine(migrated)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


def sample(name: str = "Jeanne Dupont", question: str = "Peut-on candidater seuls ?") -> HandoffRequest:
    return HandoffRequest(name, "Mairie de Saint-Aubin", "jeanne@saint-aubin.fr", question, "socketio", "web-123")


async def test_create_and_read_back(factory: SqlHandoffRepositoryFactory) -> None:
    question = "Élus, agents : qui doit venir aux réunions transnationales ? « Œuvre » – 漢字 " + "x" * 1500
    async with factory() as repo:
        created = await repo.create(sample(question=question), T0)
        other = await repo.create(sample("Marc"), T0)
    async with factory() as repo:
        row = await repo.get(created.id)
        assert await repo.get(999_999) is None
    assert row is not None
    assert row.question == question and row.name == "Jeanne Dupont"
    assert row.created_at == T0 and row.consent_at == T0 and row.created_at.tzinfo is not None
    assert row.delivery_status == "pending" and row.delivery_attempts == 0 and not row.maybe_posted
    assert row.next_attempt_at == T0
    assert len(row.delivery_token) == 32 and row.delivery_token != other.delivery_token
    assert (row.source_channel, row.conversation_id) == ("socketio", "web-123")
    assert other.id > created.id


async def test_claim_release_and_deliver_lifecycle(factory: SqlHandoffRepositoryFactory) -> None:
    async with factory() as repo:
        request_id = (await repo.create(sample(), T0)).id
        assert await repo.due_for_delivery(T0) == [request_id]
        claim = await repo.claim(request_id, T0, lease_seconds=60)
        assert claim is not None and claim.earlier_attempt_uncertain is False
        assert claim.record.delivery_status == "sending" and claim.record.delivery_attempts == 1
        assert claim.record.lease_until == T0 + timedelta(seconds=60)
        assert claim.record.first_attempt_at == T0
        assert await repo.claim(request_id, T0, 60) is None  # held
        assert await repo.due_for_delivery(T0 + timedelta(seconds=59)) == []
        assert await repo.release(
            request_id, "chat.postMessage: TimeoutError" + "!" * 600, T0 + timedelta(seconds=30), True, attempt=1
        )
        row = await repo.get(request_id)
        assert row.delivery_status == "pending" and row.maybe_posted and len(row.last_error) == 500
        assert await repo.due_for_delivery(T0 + timedelta(seconds=29)) == []
        assert await repo.due_for_delivery(T0 + timedelta(seconds=30)) == [request_id]
        claim = await repo.claim(request_id, T0 + timedelta(seconds=30), 60)
        assert claim is not None and claim.earlier_attempt_uncertain is True
        assert claim.record.first_attempt_at == T0  # kept from the first attempt
        assert await repo.mark_delivered(request_id, "1700000000.000100", T0 + timedelta(seconds=31), attempt=2)
        row = await repo.get(request_id)
        assert row.delivery_status == "delivered" and row.slack_ts == "1700000000.000100"
        assert row.delivered_at == T0 + timedelta(seconds=31) and row.last_error is None
        assert await repo.claim(request_id, T0 + timedelta(days=1), 60) is None
        assert await repo.due_for_delivery(T0 + timedelta(days=1)) == []


async def test_expired_lease_can_be_claimed_again(factory: SqlHandoffRepositoryFactory) -> None:
    async with factory() as repo:
        request_id = (await repo.create(sample(), T0)).id
        assert await repo.claim(request_id, T0, lease_seconds=10) is not None
        assert await repo.due_for_delivery(T0 + timedelta(seconds=10)) == []
        assert await repo.due_for_delivery(T0 + timedelta(seconds=11)) == [request_id]
        again = await repo.claim(request_id, T0 + timedelta(seconds=11), 10)
    assert again is not None and again.earlier_attempt_uncertain is True
    assert again.record.delivery_attempts == 2


async def test_concurrent_claims_from_separate_sessions_give_one_winner(factory: SqlHandoffRepositoryFactory) -> None:
    async with factory() as repo:
        ids = [(await repo.create(sample(f"P{i}"), T0)).id for i in range(5)]

    async def claim(request_id: int) -> Optional[Any]:
        async with factory() as repo:
            return await repo.claim(request_id, T0, 60)

    results = await asyncio.gather(*(claim(i) for i in ids for _ in range(4)))
    winners = [r.record.id for r in results if r is not None]
    assert sorted(winners) == ids


async def test_open_requests_and_marking_handled(factory: SqlHandoffRepositoryFactory) -> None:
    async with factory() as repo:
        late = (await repo.create(sample("Bruno"), T0 + timedelta(hours=1))).id
        early = (await repo.create(sample("Alice"), T0)).id
        assert [r.id for r in await repo.list_open()] == [early, late]
        assert await repo.count_open() == 2
        done = await repo.mark_handled(early, "U0LEA", T0 + timedelta(hours=2))
        assert done.status == "handled" and done.record.handled_by == "U0LEA"
        assert done.record.handled_at == T0 + timedelta(hours=2)
        again = await repo.mark_handled(early, "U0MARC", T0 + timedelta(hours=3))
        assert again.status == "already" and again.record.handled_by == "U0LEA"
        assert (await repo.mark_handled(987_654, "U0LEA", T0)).status == "missing"
        assert [r.id for r in await repo.list_open()] == [late]
        assert await repo.count_open() == 1
        assert len(await repo.list_open(limit=0)) == 0


class FakeSlack:
    def __init__(self) -> None:
        self.channel = "C0STAFF"
        self.up = True
        self.posts: List[Dict[str, Any]] = []

    async def post(self, text: str, blocks: List[Dict[str, Any]], metadata: Dict[str, Any]) -> str:
        await asyncio.sleep(0.01)
        if not self.up:
            raise SlackDeliveryError("chat.postMessage: HTTP 503")
        self.posts.append(metadata["event_payload"])
        return f"1700000000.{len(self.posts):06d}"

    async def find_posted(self, token: str, oldest: float) -> Optional[str]:
        return next((f"1.{i}" for i, p in enumerate(self.posts) if p["token"] == token), None)


async def test_outbox_on_the_database_down_then_up_delivers_each_once(factory: SqlHandoffRepositoryFactory) -> None:
    slack = FakeSlack()
    now = [T0]
    policy = RetryPolicy(base_seconds=30, max_seconds=60, slack_timeout_seconds=45, margin_seconds=30)  # lease 120 s
    outboxes = [Outbox(factory, slack, policy, lambda: now[0]) for _ in range(3)]
    async with factory() as repo:
        ids = [(await repo.create(sample(f"P{i}"), T0)).id for i in range(6)]
    slack.up = False
    reports = await asyncio.gather(*(o.deliver_due() for o in outboxes))
    assert sorted(i for r in reports for i in r.failed) == ids  # each tried once, all kept
    slack.up = True
    now[0] = T0 + timedelta(seconds=30)
    reports = await asyncio.gather(*(o.deliver_due() for o in outboxes))
    assert sorted(i for r in reports for i in r.delivered) == ids
    assert sorted(p["request_id"] for p in slack.posts) == ids  # once each
    now[0] = T0 + timedelta(hours=1)
    assert all(not r.delivered for r in await asyncio.gather(*(o.deliver_due() for o in outboxes)))
    async with factory() as repo:
        statuses = [(await repo.get(i)).delivery_status for i in ids]
    assert statuses == ["delivered"] * len(ids)
    assert await outboxes[0].deliver(ids[0]) not in (DELIVERED, FAILED)
    assert len(slack.posts) == len(ids)


async def test_two_deliverers_at_once_post_once(migrated: str) -> None:
    """Two deliverers, each with its own engine and event loop (as two processes), both read
    the request as claimable before either writes its claim; exactly one claims and posts.

    An engine hook holds each deliverer's first UPDATE of handoff_requests (the claim) until
    the other one has reached its own: the race is forced, not left to luck.
    """
    slack = FakeSlack()
    policy = RetryPolicy(base_seconds=30, max_seconds=60, slack_timeout_seconds=45, margin_seconds=30)
    engine = create_engine(migrated)
    factory = SqlHandoffRepositoryFactory(engine, timeout=10)
    async with factory() as repo:
        request_id = (await repo.create(sample(), datetime.now(timezone.utc))).id
    both_read = threading.Barrier(2, timeout=10)
    reached_claim: List[int] = []

    def deliverer(number: int) -> str:
        held = []

        def before_update(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not held and statement.lstrip().upper().startswith("UPDATE HANDOFF_REQUESTS"):
                held.append(True)
                reached_claim.append(number)
                both_read.wait()  # raises BrokenBarrierError if the other never gets here

        async def run() -> str:
            own = create_engine(migrated)
            event.listen(own.sync_engine, "before_cursor_execute", before_update)
            try:
                return await Outbox(SqlHandoffRepositoryFactory(own, timeout=10), slack, policy).deliver(request_id)
            finally:
                await own.dispose()

        return asyncio.run(run())

    outcomes = await asyncio.gather(asyncio.to_thread(deliverer, 1), asyncio.to_thread(deliverer, 2))
    assert sorted(reached_claim) == [1, 2]  # both read it as claimable and raced to claim it
    assert sorted(outcomes) == sorted([DELIVERED, NOT_CLAIMED])
    assert [p["request_id"] for p in slack.posts] == [request_id]
    try:
        async with factory() as repo:
            row = await repo.get(request_id)
    finally:
        await engine.dispose()
    assert (row.delivery_status, row.delivery_attempts) == ("delivered", 1)


async def test_unreachable_database_raises_repository_unavailable() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        async with SqlHandoffRepositoryFactory(engine, timeout=2)() as repo:
            with pytest.raises(RepositoryUnavailable):
                await repo.create(sample(), T0)
    finally:
        await engine.dispose()


async def test_operator_command_delivers_what_is_pending(
    migrated: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from actions.ops import deliver_handoffs
    from tests.support.slack_standin import SlackStandIn

    url = migrated
    engine = create_engine(url)
    factory = SqlHandoffRepositoryFactory(engine, timeout=10)
    now = datetime.now(timezone.utc)
    async with factory() as repo:
        first = (await repo.create(sample("Alice Commande"), now)).id
        second = (await repo.create(sample("Bruno Commande"), now)).id
        await repo.claim(second, now, lease_seconds=60)
        await repo.mark_delivered(second, "1.1", now, attempt=1)
    await engine.dispose()

    with SlackStandIn(token="xoxb-cmd") as standin:
        monkeypatch.setenv("SLACK_TOKEN", "xoxb-cmd")
        monkeypatch.setenv("SLACK_STAFF_CHANNEL", "C0STAFF")
        monkeypatch.setenv("SLACK_API_BASE_URL", standin.base_url)
        monkeypatch.setenv("HANDOFF_SLACK_TIMEOUT_SECONDS", "1")
        assert await deliver_handoffs.run(deliver=False, url=url) == 1  # --list: one pending
        assert standin.messages == []
        standin.available = False
        assert await deliver_handoffs.run(deliver=True, url=url) == 1  # Slack down: still pending
        standin.available = True
        # The failed attempt set a back-off delay: not due yet, nothing sent twice or early.
        assert await deliver_handoffs.run(deliver=True, url=url) == 1
        assert standin.messages == []
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE handoff_requests SET next_attempt_at = NULL"))
        await engine.dispose()
        assert await deliver_handoffs.run(deliver=True, url=url) == 0
        assert [m.body["metadata"]["event_payload"]["request_id"] for m in standin.messages] == [first]
        assert await deliver_handoffs.run(deliver=True, url=url) == 0
        assert len(standin.messages) == 1
    assert "1 demande(s) envoyée(s)" in capsys.readouterr().out


# --------------------------------------------------------------------------- never twice (issue 10, point 7)


async def test_late_attempt_cannot_overwrite_a_newer_one(factory: SqlHandoffRepositoryFactory) -> None:
    async with factory() as repo:
        request_id = (await repo.create(sample(), T0)).id
        assert (await repo.claim(request_id, T0, lease_seconds=10)).record.delivery_attempts == 1
        second = await repo.claim(request_id, T0 + timedelta(seconds=11), lease_seconds=10)
        assert second.record.delivery_attempts == 2
    async with factory() as late:  # the first attempt, back after its lease ran out
        assert await late.mark_delivered(request_id, "1700000000.000001", T0 + timedelta(seconds=12), attempt=1) is False
        assert await late.release(request_id, "late failure", T0 + timedelta(seconds=40), False, attempt=1) is False
    async with factory() as repo:
        row = await repo.get(request_id)
        assert (row.delivery_status, row.delivery_attempts, row.slack_ts, row.last_error) == ("sending", 2, None, None)
        assert row.maybe_posted is True
        assert await repo.mark_delivered(request_id, "1700000000.000002", T0 + timedelta(seconds=13), attempt=2) is True
        assert await repo.release(request_id, "too late", T0 + timedelta(seconds=40), True, attempt=2) is False
        row = await repo.get(request_id)
    assert (row.delivery_status, row.slack_ts) == ("delivered", "1700000000.000002")


class SlowSlack(FakeSlack):
    """Each post takes `delay` seconds before it reaches the channel."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.timeout = delay * 2  # the poster's deadline covers its slowest answer

    async def post(self, text: str, blocks: List[Dict[str, Any]], metadata: Dict[str, Any]) -> str:
        await asyncio.sleep(self.delay)
        self.posts.append(metadata["event_payload"])
        return f"1700000000.{len(self.posts):06d}"


async def test_second_deliverer_while_the_first_post_is_slow_posts_once(factory: SqlHandoffRepositoryFactory) -> None:
    slack = SlowSlack(delay=0.6)
    policy = RetryPolicy(base_seconds=0.05, max_seconds=0.1, slack_timeout_seconds=slack.timeout, margin_seconds=0.6)
    first, second = Outbox(factory, slack, policy), Outbox(factory, slack, policy)  # real clock
    async with factory() as repo:
        request_id = (await repo.create(sample(), datetime.now(timezone.utc))).id
    sending = asyncio.create_task(first.deliver(request_id))
    while True:  # the first deliverer holds the claim and is posting
        async with factory() as repo:
            if (await repo.get(request_id)).delivery_status == "sending":
                break
        await asyncio.sleep(0.01)
    rounds = []
    while not sending.done():  # the second deliverer keeps trying during the slow post
        rounds.append(await second.deliver_due())
        await asyncio.sleep(0.05)
    assert await sending == DELIVERED
    assert len(rounds) >= 5 and not any(r.delivered or r.failed for r in rounds)
    assert [p["request_id"] for p in slack.posts] == [request_id]
    assert (await second.deliver_due()).delivered == []
    async with factory() as repo:
        assert (await repo.get(request_id)).delivery_status == "delivered"


async def test_operator_command_stops_on_a_permanent_refusal(
    migrated: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from actions.ops import deliver_handoffs
    from tests.support.slack_standin import SlackStandIn

    engine = create_engine(migrated)
    factory = SqlHandoffRepositoryFactory(engine, timeout=10)
    now = datetime.now(timezone.utc)
    async with factory() as repo:
        ids = [(await repo.create(sample(f"Personne {i}"), now)).id for i in range(3)]
    with SlackStandIn(token="xoxb-cmd") as standin:
        monkeypatch.setenv("SLACK_TOKEN", "xoxb-cmd")
        monkeypatch.setenv("SLACK_STAFF_CHANNEL", "C0STAFF")
        monkeypatch.setenv("SLACK_API_BASE_URL", standin.base_url)
        monkeypatch.setenv("HANDOFF_SLACK_TIMEOUT_SECONDS", "1")
        standin.refuse_with = "channel_not_found"
        assert await deliver_handoffs.run(deliver=True, url=migrated) == 3
        assert standin.messages == []
    err = capsys.readouterr().err
    assert "Slack refuse définitivement" in err and "channel_not_found" in err
    async with factory() as repo:
        rows = [await repo.get(i) for i in ids]
    await engine.dispose()
    assert [r.delivery_status for r in rows] == ["pending"] * 3
    assert [r.delivery_attempts for r in rows] == [1, 0, 0]  # one call to Slack, then stopped
