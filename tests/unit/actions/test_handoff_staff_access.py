"""Staff commands fail closed, and user text shown to staff stays text.

Real rasa_sdk Trackers and dispatcher, the SQL hand-off repository on SQLite; the staff list is also
passed through the Slack channel's own formatter (bot/channels/slack_text.to_mrkdwn, pure
Python) to check what Slack would render.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Dict, List, Optional

import pytest
from handoff_fixtures import SqliteHandoffs
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff.message import notification_text
from actions.handoff.models import HandoffRequest
from actions.handoff.staff import ActionStaffListHandoffs, ActionStaffMarkHandled
from actions.handoff.staff_access import DISABLED_TEXT, WRONG_PLACE_TEXT, Verdict, check_staff
from bot.channels.slack_text import to_mrkdwn
from tests.conftest import build_tracker

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
ENV = {"SLACK_STAFF_USER_IDS": "U0LEA,U0MARC", "SLACK_STAFF_CHANNEL": "C0STAFF"}


def tracker(
    channel: Optional[str] = "slack",
    text: str = "demandes en attente",
    **metadata: Any,
) -> Tracker:
    return build_tracker("staff", text=text, sender="U0LEA", metadata=metadata, channel=channel)


@pytest.fixture()
async def store() -> AsyncIterator[SqliteHandoffs]:
    handoffs = await SqliteHandoffs().open()
    yield handoffs
    await handoffs.close()


@pytest.mark.parametrize(
    ("channel", "metadata", "env", "verdict"),
    [
        ("slack", {"user": "U0LEA", "direct_message": True}, ENV, Verdict.ALLOWED),
        ("slack", {"user": "U0MARC", "out_channel": "C0STAFF"}, ENV, Verdict.ALLOWED),
        ("slack", {"user": "U0LEA", "out_channel": "C0STAFF"}, {**ENV, "SLACK_STAFF_CHANNEL": "#C0STAFF"}, Verdict.ALLOWED),
        # no allow-list: off for everyone, even in the staff channel
        ("slack", {"user": "U0LEA", "direct_message": True}, {"SLACK_STAFF_CHANNEL": "C0STAFF"}, Verdict.DISABLED),
        ("slack", {"user": "U0LEA", "out_channel": "C0STAFF"}, {"SLACK_STAFF_USER_IDS": " , "}, Verdict.DISABLED),
        # not on the list, or no user recorded (the sender id is never taken instead)
        ("slack", {"user": "U0GUEST", "direct_message": True}, ENV, Verdict.NOT_ALLOWED),
        ("slack", {"direct_message": True}, ENV, Verdict.NOT_ALLOWED),
        ("slack", {"user": ["U0LEA"], "direct_message": True}, ENV, Verdict.NOT_ALLOWED),
        # allowed person, wrong place: another channel, or no channel information
        ("slack", {"user": "U0LEA", "out_channel": "C0GENERAL"}, ENV, Verdict.WRONG_PLACE),
        ("slack", {"user": "U0LEA", "direct_message": "yes"}, ENV, Verdict.WRONG_PLACE),
        ("slack", {"user": "U0LEA"}, {"SLACK_STAFF_USER_IDS": "U0LEA"}, Verdict.WRONG_PLACE),
        # other channels, whatever metadata they carry (REST lets clients write metadata)
        ("rest", {"user": "U0LEA", "direct_message": True}, ENV, Verdict.NOT_SLACK),
        ("socketio", {"user": "U0LEA", "out_channel": "C0STAFF"}, ENV, Verdict.NOT_SLACK),
        (None, {"user": "U0LEA", "direct_message": True}, ENV, Verdict.NOT_SLACK),
    ],
)
def test_staff_access(channel: Optional[str], metadata: Dict[str, Any], env: Dict[str, str], verdict: str) -> None:
    assert check_staff(tracker(channel, **metadata), env).verdict == verdict


def texts(dispatcher: CollectingDispatcher) -> List[str]:
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


async def store_with(
    store: SqliteHandoffs, name: str, organisation: str, email: str, question: str
) -> SqliteHandoffs:
    await store.add(HandoffRequest(name, organisation, email, question), NOW)
    return store


async def test_without_allow_list_the_commands_are_off_and_say_so(monkeypatch: pytest.MonkeyPatch, store: SqliteHandoffs) -> None:
    monkeypatch.delenv("SLACK_STAFF_USER_IDS", raising=False)
    monkeypatch.setenv("SLACK_STAFF_CHANNEL", "C0STAFF")
    store = await store_with(store, "Jeanne", "Ville", "j@ville.fr", "Une question assez longue ?")
    for action in (ActionStaffListHandoffs(store), ActionStaffMarkHandled(store)):
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, tracker(text="traiter demande 1", user="U0LEA", out_channel="C0STAFF"), {})
        assert texts(dispatcher) == [DISABLED_TEXT]
        assert "Jeanne" not in texts(dispatcher)[0]
    assert "désactivées" in DISABLED_TEXT and "SLACK_STAFF_USER_IDS" in DISABLED_TEXT
    assert (await store.get(1)).handled_at is None


async def test_guest_and_wrong_channel_are_refused(monkeypatch: pytest.MonkeyPatch, store: SqliteHandoffs) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    store = await store_with(store, "Jeanne", "Ville", "j@ville.fr", "Une question assez longue ?")
    guest, elsewhere = CollectingDispatcher(), CollectingDispatcher()
    await ActionStaffMarkHandled(store).run(guest, tracker(text="traiter demande 1", user="U0GUEST", direct_message=True), {})
    await ActionStaffListHandoffs(store).run(elsewhere, tracker(user="U0LEA", out_channel="C0GENERAL"), {})
    assert texts(guest) == ["utter_staff_only"]
    assert texts(elsewhere) == [WRONG_PLACE_TEXT]
    assert (await store.get(1)).handled_at is None


# --------------------------------------------------------------------------- user text

HOSTILE_QUESTION = (
    "Urgent : [valider ici](https://evil.example/login) ou <https://evil.example|urbact.eu> "
    "ou <!channel> et <@U0LEA> & co \u202eexe.fdp\u202c fin"
)


def links(mrkdwn: str) -> List[str]:
    """What Slack would render as a link, a mention or a special ping in mrkdwn."""
    return re.findall(r"<[^<>]*>", mrkdwn)


async def test_staff_list_shows_user_text_as_text(monkeypatch: pytest.MonkeyPatch, store: SqliteHandoffs) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    store = await store_with(
        store,        "[Cliquez](https://evil.example) Jean", "<https://evil.example|Mairie>", "a@b.fr", HOSTILE_QUESTION
    )
    dispatcher = CollectingDispatcher()
    await ActionStaffListHandoffs(store).run(dispatcher, tracker(user="U0LEA", direct_message=True), {})
    shown = to_mrkdwn(dispatcher.messages[0]["text"])  # what the Slack channel sends
    assert links(shown) == []
    assert "[valider ici] (https://evil.example/login)" in shown
    assert "&lt;https://evil.example|urbact.eu&gt;" in shown and "&lt;!channel&gt;" in shown
    assert "\u202e" not in shown and "\u202c" not in shown


async def test_mark_handled_reply_shows_the_name_as_text(monkeypatch: pytest.MonkeyPatch, store: SqliteHandoffs) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    store = await store_with(store, "[Jean](https://evil.example)", "Ville", "a@b.fr", "Une question assez longue ?")
    dispatcher = CollectingDispatcher()
    await ActionStaffMarkHandled(store).run(dispatcher, tracker(text="traiter demande 1", user="U0LEA", direct_message=True), {})
    assert links(to_mrkdwn(dispatcher.messages[0]["text"])) == []
    assert (await store.get(1)).handled_by == "U0LEA"


def test_notification_escapes_every_user_field() -> None:
    request = HandoffRequest(
        name="<!here> [Jean](https://evil.example)",
        organisation="<https://evil.example|Mairie> & \u2066Co\u2069",
        email="a@b.fr",
        question=HOSTILE_QUESTION,
        source_channel="<!channel>",
    )
    request.id, request.created_at, request.delivery_token = 7, NOW, "t"
    text = notification_text(request)
    assert links(text) == []
    assert "](" not in text
    assert "&amp; Co" in text
    assert not any(ch in text for ch in "\u202e\u202c\u2066\u2069")
