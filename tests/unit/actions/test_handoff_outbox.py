"""Unit tests for the hand-off outbox: a fake Slack that goes down and up, the SQL repository on SQLite.

Properties checked: a stored request is never lost (it stays pending until Slack takes it),
and never posted twice (claims, history check after uncertain attempts).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Dict, List, Optional

import pytest
from handoff_fixtures import SqliteHandoffs, sample

from actions.handoff.message import METADATA_EVENT_TYPE, notification_text
from actions.handoff.models import HandoffRequest
from actions.handoff.outbox import (
    DB_ERROR,
    DELIVERED,
    FAILED,
    NO_SLACK,
    NOT_CLAIMED,
    Outbox,
    RetryPolicy,
)
from actions.handoff.slack_api import SlackDeliveryError

START = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
POLICY = RetryPolicy(base_seconds=30, max_seconds=300, slack_timeout_seconds=45, margin_seconds=30)  # lease 120 s


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeSlack:
    """Records posts. mode: up | down | lost_answer (posted, but the answer never comes back)
    | timeout_before (nothing posted, timeout) | history_refused."""

    def __init__(self) -> None:
        self.channel = "C0STAFF"
        self.mode = "up"
        self.posts: List[Dict[str, Any]] = []
        self.history_calls = 0
        self.delay = 0.0
        self.after_post: Optional[Any] = None

    async def post(self, text: str, blocks: List[Dict[str, Any]], metadata: Dict[str, Any]) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.mode == "down":
            raise SlackDeliveryError("chat.postMessage: HTTP 503")
        if self.mode == "timeout_before":
            raise SlackDeliveryError("chat.postMessage: TimeoutError", ambiguous=True)
        self.posts.append({"text": text, "blocks": blocks, "metadata": metadata})
        ts = f"1700000000.{len(self.posts):06d}"
        if self.after_post:
            self.after_post()
        if self.mode == "lost_answer":
            raise SlackDeliveryError("chat.postMessage: ServerDisconnectedError", ambiguous=True)
        return ts

    async def find_posted(self, token: str, oldest: float) -> Optional[str]:
        self.history_calls += 1
        if self.mode == "down":
            raise SlackDeliveryError("conversations.history: HTTP 503")
        if self.mode == "history_refused":
            raise SlackDeliveryError("conversations.history: Slack refused: missing_scope", refused=True)
        for index, post in enumerate(self.posts, start=1):
            if post["metadata"]["event_payload"]["token"] == token:
                return f"1700000000.{index:06d}"
        return None

    def posts_for(self, request_id: int) -> List[Dict[str, Any]]:
        return [p for p in self.posts if p["metadata"]["event_payload"]["request_id"] == request_id]


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
async def store() -> AsyncIterator[SqliteHandoffs]:
    handoffs = await SqliteHandoffs().open()
    yield handoffs
    await handoffs.close()


@pytest.fixture()
def slack() -> FakeSlack:
    return FakeSlack()


@pytest.fixture()
def outbox(store: SqliteHandoffs, slack: FakeSlack, clock: Clock) -> Outbox:
    return Outbox(store, slack, POLICY, clock)


async def new_request(store: SqliteHandoffs, clock: Clock, name: str = "Jeanne Dupont") -> int:
    return (await store.add(sample(name), clock())).id


async def record(store: SqliteHandoffs, request_id: int) -> HandoffRequest:
    return await store.get(request_id)


async def test_delivered_at_once_when_slack_is_up(outbox: Outbox, store, slack: FakeSlack, clock: Clock) -> None:
    request_id = await new_request(store, clock)
    assert await outbox.deliver(request_id) == DELIVERED
    row = await record(store, request_id)
    assert row.delivery_status == "delivered" and row.slack_ts == "1700000000.000001"
    assert row.delivered_at == clock.now and row.delivery_attempts == 1
    assert len(slack.posts_for(request_id)) == 1
    assert slack.posts[0]["metadata"]["event_type"] == METADATA_EVENT_TYPE
    assert await outbox.deliver(request_id) == NOT_CLAIMED
    assert len(slack.posts) == 1


async def test_slack_down_then_up_delivered_once_never_lost(outbox: Outbox, store, slack: FakeSlack, clock: Clock) -> None:
    request_id = await new_request(store, clock)
    slack.mode = "down"
    assert await outbox.deliver(request_id) == FAILED
    row = await record(store, request_id)
    assert row.delivery_status == "pending"  # still there: never lost
    assert row.delivery_attempts == 1 and "503" in (row.last_error or "")
    assert row.maybe_posted is False  # Slack said no: nothing can have arrived
    assert row.next_attempt_at == START + timedelta(seconds=30)

    # Still down at the next rounds: back-off doubles, nothing lost, nothing posted.
    for expected_delay in (30, 60, 120):
        report = await outbox.deliver_due()
        assert report.delivered == [] and report.failed == []  # not due yet
        clock.advance(expected_delay)
        report = await outbox.deliver_due()
        assert report.failed == [request_id]
    assert (await record(store, request_id)).delivery_attempts == 4
    assert slack.posts == []

    slack.mode = "up"
    clock.advance(POLICY.max_seconds)
    report = await outbox.deliver_due()
    assert report.delivered == [request_id]
    assert slack.history_calls == 0  # no uncertain attempt: no need to look
    for _ in range(3):  # later rounds send nothing again
        clock.advance(POLICY.max_seconds)
        assert (await outbox.deliver_due()).delivered == []
    assert len(slack.posts_for(request_id)) == 1
    assert (await record(store, request_id)).delivery_status == "delivered"


async def uncertain_attempt(outbox: Outbox, store, slack: FakeSlack, clock: Clock, mode: str, then: str = "up") -> int:
    """A new request whose first attempt fails with Slack in `mode`; Slack is `then` a minute later."""
    request_id = await new_request(store, clock)
    slack.mode = mode
    assert await outbox.deliver(request_id) == FAILED
    slack.mode = then
    clock.advance(60)
    return request_id


async def test_answer_lost_after_posting_is_not_posted_twice(outbox: Outbox, store, slack: FakeSlack, clock: Clock) -> None:
    request_id = await uncertain_attempt(outbox, store, slack, clock, "lost_answer")
    assert (await record(store, request_id)).maybe_posted is True
    assert (await outbox.deliver_due()).delivered == [request_id]
    assert slack.history_calls == 1
    assert len(slack.posts_for(request_id)) == 1
    assert (await record(store, request_id)).slack_ts == "1700000000.000001"


async def test_uncertain_attempt_that_did_not_arrive_is_posted(outbox: Outbox, store, slack: FakeSlack, clock: Clock) -> None:
    request_id = await uncertain_attempt(outbox, store, slack, clock, "timeout_before")
    assert await outbox.deliver(request_id) == DELIVERED
    assert slack.history_calls == 1
    assert len(slack.posts_for(request_id)) == 1


async def test_history_unreachable_keeps_the_request_uncertain(outbox: Outbox, store, slack: FakeSlack, clock: Clock) -> None:
    request_id = await uncertain_attempt(outbox, store, slack, clock, "lost_answer", then="down")
    assert await outbox.deliver(request_id) == FAILED
    assert (await record(store, request_id)).maybe_posted is True
    slack.mode = "up"
    clock.advance(600)
    assert await outbox.deliver(request_id) == DELIVERED
    assert len(slack.posts_for(request_id)) == 1


async def test_history_refused_posts_again_rather_than_lose_the_request(
    outbox: Outbox, store, slack: FakeSlack, clock: Clock
) -> None:
    request_id = await uncertain_attempt(outbox, store, slack, clock, "timeout_before", then="history_refused")
    assert await outbox.deliver(request_id) == DELIVERED
    assert len(slack.posts_for(request_id)) == 1


async def test_crash_between_posting_and_recording_is_recovered_without_duplicate(
    outbox: Outbox, store: SqliteHandoffs, slack: FakeSlack, clock: Clock
) -> None:
    request_id = await new_request(store, clock)

    def database_dies() -> None:
        store.available = False

    slack.after_post = database_dies
    assert await outbox.deliver(request_id) == DB_ERROR
    slack.after_post = None
    store.available = True
    row = await record(store, request_id)
    assert row.delivery_status == "sending" and row.maybe_posted  # lease still held
    assert (await outbox.deliver_due()).delivered == []  # lease not expired yet
    clock.advance(POLICY.lease_seconds + 1)
    assert (await outbox.deliver_due()).delivered == [request_id]
    assert slack.history_calls == 1
    assert len(slack.posts_for(request_id)) == 1


async def test_many_requests_each_delivered_once_in_order(outbox: Outbox, store, slack: FakeSlack, clock: Clock) -> None:
    ids = [await new_request(store, clock, f"Personne {i}") for i in range(5)]
    slack.mode = "down"
    assert sorted((await outbox.deliver_due()).failed) == ids
    slack.mode = "up"
    clock.advance(30)
    assert (await outbox.deliver_due()).delivered == ids
    assert [p["metadata"]["event_payload"]["request_id"] for p in slack.posts] == ids


async def test_without_slack_configuration_requests_stay_pending(store, clock: Clock) -> None:
    request_id = await new_request(store, clock)
    outbox = Outbox(store, None, POLICY, clock)
    assert await outbox.deliver(request_id) == NO_SLACK
    assert (await outbox.deliver_due()).delivered == []
    assert (await record(store, request_id)).delivery_status == "pending"


async def test_database_down_is_reported_not_raised(outbox: Outbox, store: SqliteHandoffs, clock: Clock) -> None:
    request_id = await new_request(store, clock)
    store.available = False
    assert await outbox.deliver(request_id) == DB_ERROR
    assert (await outbox.deliver_due()).db_error is True


def test_retry_delays_double_up_to_the_maximum() -> None:
    policy = RetryPolicy(base_seconds=30, max_seconds=300)
    assert [policy.delay(n) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_retry_policy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_RETRY_BASE_SECONDS", "2")
    monkeypatch.setenv("HANDOFF_RETRY_MAX_SECONDS", "5")
    policy = RetryPolicy.from_env()
    assert (policy.base_seconds, policy.max_seconds) == (2, 5)
    monkeypatch.setenv("HANDOFF_RETRY_BASE_SECONDS", "n'importe quoi")
    assert RetryPolicy.from_env().base_seconds == 30


async def test_user_text_cannot_ping_the_channel_or_fake_links(store, clock: Clock) -> None:
    row = await store.add(
        HandoffRequest("<!channel> Jeanne", "A & B", "j@b.fr", "Voir <https://evil.example|urbact.eu> svp"), clock()
    )
    text = notification_text(row)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<https://evil" not in text
    assert "A &amp; B" in text
    assert f"traiter demande {row.id}" in text


# --------------------------------------------------------------------------- never twice (issue 10, point 7)


@pytest.mark.parametrize("slack_timeout", [0.5, 8.0, 30.0, 60.0])
def test_lease_is_derived_from_the_deadlines_and_outlives_the_attempt(slack_timeout: float) -> None:
    policy = RetryPolicy.from_env(slack_timeout)
    # history check + post, each up to the Slack deadline, then the database write
    assert policy.attempt_budget_seconds >= 2 * slack_timeout
    assert policy.lease_seconds >= policy.attempt_budget_seconds + 2 * 2.0 + 10  # DB_TIMEOUT 2 s, clock skew
    assert policy.lease_seconds > 2 * slack_timeout


async def test_attempt_longer_than_its_budget_is_cut_and_stays_uncertain(store, slack: FakeSlack, clock: Clock) -> None:
    policy = RetryPolicy(base_seconds=30, max_seconds=300, slack_timeout_seconds=0.05, margin_seconds=0.3)
    outbox = Outbox(store, slack, policy, clock)
    request_id = await new_request(store, clock)
    slack.delay = 1.0  # far beyond the attempt budget (0.2 s)
    started = asyncio.get_running_loop().time()
    assert await outbox.deliver(request_id) == FAILED
    assert asyncio.get_running_loop().time() - started < 0.8
    row = await record(store, request_id)
    assert row.delivery_status == "pending" and row.maybe_posted  # the next attempt looks first
    slack.delay = 0.0
    clock.advance(30)
    assert await outbox.deliver(request_id) == DELIVERED
    assert slack.history_calls == 1 and len(slack.posts_for(request_id)) == 1


async def test_late_attempt_cannot_overwrite_a_newer_one(store, slack: FakeSlack, clock: Clock) -> None:
    request_id = await new_request(store, clock)
    async with store() as repo:
        first = await repo.claim(request_id, clock(), lease_seconds=10)
        clock.advance(11)
        second = await repo.claim(request_id, clock(), lease_seconds=10)
        assert (first.record.delivery_attempts, second.record.delivery_attempts) == (1, 2)
        assert await repo.mark_delivered(request_id, "1.1", clock(), attempt=1) is False
        assert await repo.release(request_id, "late", clock(), True, attempt=1) is False
        row = await repo.get(request_id)
        assert (row.delivery_status, row.delivery_attempts, row.slack_ts) == ("sending", 2, None)
        assert await repo.mark_delivered(request_id, "1.2", clock(), attempt=2) is True
        assert await repo.release(request_id, "late", clock(), True, attempt=2) is False
        assert (await repo.get(request_id)).delivery_status == "delivered"


class RefusingSlack(FakeSlack):
    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.calls = 0

    async def post(self, text: str, blocks: List[Dict[str, Any]], metadata: Dict[str, Any]) -> str:
        self.calls += 1
        raise SlackDeliveryError(f"chat.postMessage: Slack refused: {self.code}", refused=True, permanent=True)


async def test_permanent_refusal_stops_retrying_and_is_reported(store, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    slack = RefusingSlack("invalid_auth")
    outbox = Outbox(store, slack, POLICY, clock)
    ids = [await new_request(store, clock, f"Personne {i}") for i in range(3)]
    with caplog.at_level("ERROR", logger="actions.handoff.outbox"):
        report = await outbox.deliver_due()
    assert report.blocked is not None and "invalid_auth" in report.blocked
    assert slack.calls == 1  # the round stops: the same refusal awaits every request
    assert report.failed == [ids[0]]
    rows = [await record(store, i) for i in ids]
    assert [r.delivery_status for r in rows] == ["pending"] * 3  # kept, never lost
    assert rows[0].next_attempt_at >= clock() + timedelta(seconds=POLICY.max_seconds)
    assert any("refuses for good" in r.getMessage() and "invalid_auth" in r.getMessage() for r in caplog.records)
    assert not any("Jeanne" in r.getMessage() or "@" in r.getMessage() for r in caplog.records)


async def test_delivery_loop_stops_on_a_permanent_refusal(store, clock: Clock) -> None:
    from actions.handoff.loop import DeliveryLoop

    slack = RefusingSlack("channel_not_found")
    await new_request(store, clock)
    loop = DeliveryLoop(lambda: Outbox(store, slack, POLICY, clock), interval=0.01)
    assert loop.ensure_started() is True
    for _ in range(100):
        if not loop.running:
            break
        await asyncio.sleep(0.01)
    assert not loop.running and loop.suspended and "channel_not_found" in loop.suspended
    assert slack.calls == 1
    assert loop.ensure_started() is False  # not restarted by the next hand-off
    await loop.stop()
