"""Unit tests for action_submit_handoff and the staff actions (real rasa_sdk dispatcher and
trackers, the SQL repository on SQLite, fake Slack)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Dict, List, Optional

import pytest
from handoff_fixtures import SqliteHandoffs
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff.form import FORM_SLOTS, SUBMISSION_KEY_SLOT
from actions.handoff.models import HandoffRequest
from actions.handoff.outbox import Outbox, RetryPolicy
from actions.handoff.slack_api import SlackDeliveryError
from actions.handoff.staff import (
    ActionStaffListHandoffs,
    ActionStaffMarkHandled,
    request_number,
)
from actions.handoff.submit import ActionSubmitHandoff
from tests.conftest import build_tracker

RESET = {slot: None for slot in (*FORM_SLOTS, SUBMISSION_KEY_SLOT)}
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
GOOD_FORM = {
    "handoff_name": "Jeanne Dupont",
    "handoff_organisation": "Mairie de Saint-Aubin",
    "handoff_email": "jeanne@saint-aubin.fr",
    "handoff_question": "Peut-on candidater seuls à un réseau de transfert ?",
    "handoff_consent": True,
}


class FakeSlack:
    def __init__(self, up: bool = True) -> None:
        self.channel = "C0STAFF"
        self.up = up
        self.posts: List[Dict[str, Any]] = []

    async def post(self, text: str, blocks: List[Dict[str, Any]], metadata: Dict[str, Any]) -> str:
        if not self.up:
            raise SlackDeliveryError("chat.postMessage: HTTP 503")
        self.posts.append({"text": text, "metadata": metadata})
        return f"1700000000.{len(self.posts):06d}"

    async def find_posted(self, token: str, oldest: float) -> Optional[str]:
        return None


class FakeLoop:
    def __init__(self) -> None:
        self.started = 0

    def ensure_started(self) -> bool:
        self.started += 1
        return True


@pytest.fixture()
async def store() -> AsyncIterator[SqliteHandoffs]:
    handoffs = await SqliteHandoffs().open()
    yield handoffs
    await handoffs.close()


def tracker(
    slots: Optional[Dict[str, Any]] = None,
    text: str = "",
    channel: Optional[str] = "socketio",
    user: Optional[str] = None,
    sender: str = "visitor-1",
    direct_message: bool = False,
) -> Tracker:
    metadata: Dict[str, Any] = {"user": user} if user else {}
    if direct_message:
        metadata["direct_message"] = True
    return build_tracker("x", text=text, slots=slots, sender=sender, metadata=metadata, channel=channel)


def submit_action(store: SqliteHandoffs, slack: Optional[FakeSlack], loop: FakeLoop) -> ActionSubmitHandoff:
    outbox = Outbox(store, slack, RetryPolicy(), lambda: NOW)
    return ActionSubmitHandoff(repositories=store, outbox=outbox, delivery_loop=loop, clock=lambda: NOW)  # type: ignore[arg-type]


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


def slots_of(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_consented_request_is_stored_delivered_and_the_user_told_what_next(store: SqliteHandoffs) -> None:
    slack, loop = FakeSlack(), FakeLoop()
    dispatcher = CollectingDispatcher()
    events = await submit_action(store, slack, loop).run(dispatcher, tracker(GOOD_FORM), {})
    assert responses(dispatcher) == ["utter_handoff_stored"]
    assert dispatcher.messages[0]["request_id"] == 1
    assert dispatcher.messages[0]["reply_email"] == "jeanne@saint-aubin.fr"
    assert slots_of(events) == RESET
    row = await store.get(1)
    assert (row.name, row.email, row.source_channel, row.conversation_id) == (
        "Jeanne Dupont", "jeanne@saint-aubin.fr", "socketio", "visitor-1"
    )
    assert row.consent_at == NOW and row.delivery_status == "delivered"
    assert len(slack.posts) == 1 and "Jeanne Dupont" in slack.posts[0]["text"]
    assert loop.started == 1


async def test_slack_down_at_submit_keeps_the_request_pending_and_the_loop_running(store: SqliteHandoffs) -> None:
    slack, loop = FakeSlack(up=False), FakeLoop()
    dispatcher = CollectingDispatcher()
    await submit_action(store, slack, loop).run(dispatcher, tracker(GOOD_FORM), {})
    assert responses(dispatcher) == ["utter_handoff_stored"]
    assert (await store.get(1)).delivery_status == "pending"
    assert loop.started == 1


@pytest.mark.parametrize("consent", [False, None, "oui"])
async def test_without_explicit_consent_nothing_is_stored(consent: Any, store: SqliteHandoffs) -> None:
    slack, loop = FakeSlack(), FakeLoop()
    dispatcher = CollectingDispatcher()
    events = await submit_action(store, slack, loop).run(
        dispatcher, tracker({**GOOD_FORM, "handoff_consent": consent}), {}
    )
    assert responses(dispatcher) == ["utter_handoff_not_stored"]
    assert await store.count() == 0 and slack.posts == []
    assert slots_of(events) == RESET


async def test_slots_forced_by_a_payload_are_checked_again(store: SqliteHandoffs) -> None:
    slack, loop = FakeSlack(), FakeLoop()
    dispatcher = CollectingDispatcher()
    await submit_action(store, slack, loop).run(
        dispatcher, tracker({**GOOD_FORM, "handoff_email": "pas-une-adresse"}), {}
    )
    assert responses(dispatcher) == ["utter_handoff_invalid"]
    assert await store.count() == 0


async def test_database_down_is_said_honestly(store: SqliteHandoffs) -> None:
    slack, loop = FakeSlack(), FakeLoop()
    store.available = False
    dispatcher = CollectingDispatcher()
    events = await submit_action(store, slack, loop).run(dispatcher, tracker(GOOD_FORM), {})
    assert responses(dispatcher) == ["utter_handoff_storage_failed"]
    assert slack.posts == [] and slots_of(events)["handoff_email"] is None


async def add(store: SqliteHandoffs, name: str, when: datetime) -> int:
    return (await store.add(HandoffRequest(name, "Ville", f"{name.lower()}@ville.fr", "Une question assez longue ?"), when)).id


@pytest.mark.parametrize("channel", ["socketio", "rest", "cmdline", None])
async def test_staff_commands_are_refused_outside_slack(channel: Optional[str], store: SqliteHandoffs) -> None:
    await add(store, "Jeanne", NOW)
    for action in (ActionStaffListHandoffs(store), ActionStaffMarkHandled(store)):
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, tracker(text="traiter demande 1", channel=channel), {})  # type: ignore[arg-type]
        assert responses(dispatcher) == ["utter_staff_only"]
    assert (await store.get(1)).handled_at is None


STAFF = "U0LEA"


@pytest.fixture()
def staff_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_STAFF_USER_IDS", f"{STAFF}, U0MARC")
    monkeypatch.setenv("SLACK_STAFF_CHANNEL", "C0STAFF")


def staff(text: str = "", user: str = STAFF) -> Tracker:
    """A message from an allow-listed staff member, in a direct message with the bot."""
    return tracker(text=text, channel="slack", user=user, direct_message=True)


async def test_staff_list_shows_open_requests_oldest_first(staff_env: None, store: SqliteHandoffs) -> None:
    first = await add(store, "Alice", NOW - timedelta(days=2))
    second = await add(store, "Bruno", NOW - timedelta(days=1))
    handled = await add(store, "Chloe", NOW)
    async with store() as repo:
        await repo.mark_handled(handled, "U0STAFF", NOW)
        claim = await repo.claim(first, NOW, lease_seconds=60)
        await repo.mark_delivered(first, "1.1", NOW, attempt=claim.record.delivery_attempts)
    dispatcher = CollectingDispatcher()
    await ActionStaffListHandoffs(store).run(dispatcher, staff("demandes en attente"), {})
    text = dispatcher.messages[0]["text"]
    assert text.startswith("2 demande(s) en attente")
    assert text.index(f"n° {first}") < text.index(f"n° {second}")
    assert "Chloe" not in text
    assert "reçue sur Slack" in text and "pas encore arrivée sur Slack" in text


async def test_staff_list_when_everything_is_handled(staff_env: None, store: SqliteHandoffs) -> None:
    dispatcher = CollectingDispatcher()
    await ActionStaffListHandoffs(store).run(dispatcher, staff(), {})
    assert "Aucune demande" in dispatcher.messages[0]["text"]


async def test_staff_mark_handled_records_who_and_when(staff_env: None, store: SqliteHandoffs) -> None:
    request_id = await add(store, "Jeanne", NOW)
    action = ActionStaffMarkHandled(store, clock=lambda: NOW)
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, staff(f"traiter demande {request_id}"), {})
    assert "est traitée" in dispatcher.messages[0]["text"]
    row = await store.get(request_id)
    assert (row.handled_by, row.handled_at) == ("U0LEA", NOW)
    again = CollectingDispatcher()
    await action.run(again, staff(f"demande {request_id} traitée"), {})
    assert "déjà traitée" in again.messages[0]["text"]
    missing = CollectingDispatcher()
    await action.run(missing, staff("traiter demande 99"), {})
    assert "aucune demande n° 99" in missing.messages[0]["text"]
    vague = CollectingDispatcher()
    await action.run(vague, staff("traiter la demande"), {})
    assert "numéro" in vague.messages[0]["text"]


async def test_staff_allow_list(staff_env: None, store: SqliteHandoffs) -> None:
    await add(store, "Jeanne", NOW)
    refused = CollectingDispatcher()
    await ActionStaffListHandoffs(store).run(refused, staff(user="U0INTRUS"), {})
    assert responses(refused) == ["utter_staff_only"]
    allowed = CollectingDispatcher()
    await ActionStaffListHandoffs(store).run(allowed, staff(user="U0MARC"), {})
    assert "Jeanne" in allowed.messages[0]["text"]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("traiter demande 12", 12),
        ("demande n°7 traitée", 7),
        ("marque la #42 comme traitée", 42),
        ("clore la demande numéro 3.", 3),
        ("traiter la demande", None),
        (None, None),
    ],
)
def test_request_number(text: Optional[str], number: Optional[int]) -> None:
    assert request_number(text) == number


async def test_refusal_tells_how_long_the_conversation_is_kept(monkeypatch: pytest.MonkeyPatch, store: SqliteHandoffs) -> None:
    """utter_handoff_not_stored says the retention of the conversation (issue 10, 6.1)."""
    slack, loop = FakeSlack(), FakeLoop()
    for value, expected in (("", 90), ("30", 30), ("zéro", 90)):
        monkeypatch.setenv("CONVERSATION_RETENTION_DAYS", value)
        dispatcher = CollectingDispatcher()
        events = await submit_action(store, slack, loop).run(
            dispatcher, tracker({**GOOD_FORM, "handoff_consent": False}), {}
        )
        assert responses(dispatcher) == ["utter_handoff_not_stored"]
        assert dispatcher.messages[0]["retention_days"] == expected
        assert slots_of(events) == RESET
