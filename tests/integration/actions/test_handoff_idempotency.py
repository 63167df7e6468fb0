"""One submission is stored once, and the daily limits hold (issue 10, points 8 and 4).

On real databases, SQLite (file) and PostgreSQL (fixtures of database_integration_helpers.py,
migrated to the Alembic head, which includes revision 0003): the unique constraint on
handoff_requests.submission_key, the repository, and action_submit_handoff with real
rasa_sdk trackers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

import pytest
from database_integration_helpers import db_url, postgres_database  # noqa: F401
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from actions.handoff.guards import DailyLimits
from actions.handoff.models import HandoffRequest
from actions.handoff.outbox import Outbox, RetryPolicy
from actions.handoff.repository import SqlHandoffRepositoryFactory
from actions.handoff.submit import ActionSubmitHandoff
from tests.conftest import build_tracker

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)
KEY = "0123456789abcdef0123456789abcdef"
FORM = {
    "handoff_name": "Jeanne Dupont",
    "handoff_organisation": "Mairie de Saint-Aubin",
    "handoff_email": "jeanne@saint-aubin.fr",
    "handoff_question": "Peut-on candidater seuls à un réseau de transfert ?",
    "handoff_consent": True,
}


class NoLoop:
    def ensure_started(self) -> bool:
        return False


async def count_rows(factory: SqlHandoffRepositoryFactory) -> int:
    async with factory.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(HandoffRequest))).scalar_one())


def tracker(slots: Dict[str, Any], sender: str = "rest:t1") -> Tracker:
    return build_tracker("affirm", text="oui", slots=slots, sender=sender, channel="rest")


def submit(factory: SqlHandoffRepositoryFactory, clock: Optional[Any] = None, limits: Optional[DailyLimits] = None) -> ActionSubmitHandoff:
    outbox = Outbox(factory, None, RetryPolicy(), lambda: NOW)  # no Slack: stays pending
    return ActionSubmitHandoff(repositories=factory, outbox=outbox, delivery_loop=NoLoop(),  # type: ignore[arg-type]
                               clock=clock or (lambda: NOW), limits=limits)


async def run(action: ActionSubmitHandoff, slots: Dict[str, Any], sender: str = "rest:t1") -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, tracker(slots, sender), {})
    return dispatcher.messages


async def test_the_database_refuses_two_rows_with_one_submission_key(factory: SqlHandoffRepositoryFactory) -> None:
    async with factory() as repo:
        await repo.create(HandoffRequest("Jeanne", "Ville", "j@ville.fr", "Une question ?", submission_key=KEY), NOW)
    row = {"created_at": NOW, "consent_at": NOW, "name": "X", "organisation": "Y", "email": "x@y.fr",
           "question": "Q ?", "delivery_status": "pending", "delivery_token": "f" * 32,
           "delivery_attempts": 0, "maybe_posted": False, "submission_key": KEY}
    with pytest.raises(IntegrityError):
        async with factory.engine.begin() as connection:
            await connection.execute(insert(HandoffRequest).values(**row))
    assert await count_rows(factory) == 1


async def test_creating_the_same_submission_twice_returns_the_first_row(factory: SqlHandoffRepositoryFactory) -> None:
    new = HandoffRequest("Jeanne", "Ville", "j@ville.fr", "Une question ?", "rest", "rest:t1", KEY)
    async with factory() as repo:
        first = await repo.create(new, NOW)
    async with factory() as repo:
        again = await repo.create(new, NOW + timedelta(seconds=5))
        found = await repo.find_submission(KEY)
    assert again.id == first.id and found is not None and found.id == first.id
    assert first.submission_key == KEY
    assert await count_rows(factory) == 1


async def test_a_submit_retried_after_its_commit_stores_one_request(factory: SqlHandoffRepositoryFactory) -> None:
    slots = {**FORM, "handoff_submission_key": KEY}
    first = await run(submit(factory), slots)
    retried = await run(submit(factory, clock=lambda: NOW + timedelta(seconds=30)), slots)
    assert [m["response"] for m in first + retried] == ["utter_handoff_stored"] * 2
    assert first[0]["request_id"] == retried[0]["request_id"]
    assert await count_rows(factory) == 1


async def test_each_new_form_with_another_question_is_a_new_submission(factory: SqlHandoffRepositoryFactory) -> None:
    await run(submit(factory), {**FORM, "handoff_submission_key": KEY})
    await run(submit(factory), {**FORM, "handoff_question": "Autre chose : le calendrier ?", "handoff_submission_key": "f" * 32})
    assert await count_rows(factory) == 2


async def test_the_same_request_asked_again_after_a_lost_confirmation_is_stored_once(
    factory: SqlHandoffRepositoryFactory,
) -> None:
    """The action server died after the commit: the visitor never saw the number and asks
    again in a new form (new submission key). Same conversation, e-mail and question within
    24 h: the stored request and its number, not a second row. Another conversation, or a
    day later, is a new request."""
    first = await run(submit(factory), {**FORM, "handoff_submission_key": KEY})
    again = await run(
        submit(factory, clock=lambda: NOW + timedelta(minutes=5)),
        {**FORM, "handoff_email": FORM["handoff_email"].upper(), "handoff_submission_key": "f" * 32},
    )
    assert [m["response"] for m in first + again] == ["utter_handoff_stored"] * 2
    assert again[0]["request_id"] == first[0]["request_id"]
    assert await count_rows(factory) == 1
    await run(submit(factory), {**FORM, "handoff_submission_key": "e" * 32}, sender="rest:other")
    await run(submit(factory, clock=lambda: NOW + timedelta(hours=25)), {**FORM, "handoff_submission_key": "d" * 32})
    assert await count_rows(factory) == 3


async def test_requests_per_conversation_per_day_are_limited(factory: SqlHandoffRepositoryFactory) -> None:
    action = submit(factory, limits=DailyLimits(per_conversation=2, per_email=0))
    answers = []
    for number in range(3):
        slots = {**FORM, "handoff_email": f"agent{number}@ville.fr", "handoff_submission_key": f"{number:032x}"}
        answers += await run(action, slots)
    assert [m["response"] for m in answers] == ["utter_handoff_stored"] * 2 + ["utter_handoff_limit_reached"]
    assert await count_rows(factory) == 2
    tomorrow = submit(factory, clock=lambda: NOW + timedelta(hours=25), limits=DailyLimits(2, 0))
    later = await run(tomorrow, {**FORM, "handoff_submission_key": "e" * 32})
    assert later[0]["response"] == "utter_handoff_stored"


async def test_requests_per_email_per_day_are_limited_across_conversations(factory: SqlHandoffRepositoryFactory) -> None:
    action = submit(factory, limits=DailyLimits(per_conversation=0, per_email=2))
    answers = []
    for number in range(3):
        slots = {**FORM, "handoff_email": "Jeanne@Saint-Aubin.fr" if number else FORM["handoff_email"],
                 "handoff_submission_key": f"{number:032x}"}
        answers += await run(action, slots, sender=f"socketio-{number}")
    assert [m["response"] for m in answers] == ["utter_handoff_stored"] * 2 + ["utter_handoff_limit_reached"]
    assert await count_rows(factory) == 2


async def test_a_retry_of_a_stored_submission_is_not_refused_by_the_limit(factory: SqlHandoffRepositoryFactory) -> None:
    action = submit(factory, limits=DailyLimits(per_conversation=1, per_email=1))
    slots = {**FORM, "handoff_submission_key": KEY}
    answers = await run(action, slots) + await run(action, slots)
    assert [m["response"] for m in answers] == ["utter_handoff_stored"] * 2
