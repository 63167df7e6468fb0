"""No personal data or message text in the logs at INFO and above (issue 10, point 6.4).

A database that refuses the INSERT of a hand-off request (a CHECK constraint on PostgreSQL,
a trigger on SQLite: real refusals, whose error text carries the statement's parameters and,
on PostgreSQL, "DETAIL: Failing row contains (...)"). action_submit_handoff tells the user
and logs the failure: the log must not carry the name, organisation, e-mail or question.
"""

from __future__ import annotations

import logging

import pytest
from database_integration_helpers import db_url, postgres_database  # noqa: F401
from sqlalchemy import text
from test_handoff_idempotency import FORM, run, submit

from actions.db.errors import RepositoryError
from actions.handoff.models import HandoffRequest

PERSONAL = [FORM["handoff_name"], FORM["handoff_organisation"], FORM["handoff_email"], "candidater seuls"]


async def refuse_inserts(factory) -> None:
    async with factory.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(
                "ALTER TABLE handoff_requests ADD CONSTRAINT short_questions CHECK (length(question) < 5)"
            ))
        else:
            await connection.execute(text(
                "CREATE TRIGGER refuse_requests BEFORE INSERT ON handoff_requests "
                "BEGIN SELECT RAISE(ABORT, 'requests refused'); END"
            ))


def leaks(records) -> list:
    found = []
    for record in records:
        if record.levelno < logging.INFO:
            continue
        shown = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        found += [(record.name, word) for word in PERSONAL if word.lower() in shown.lower()]
    return found


async def test_a_refused_insert_logs_no_personal_data(factory, caplog) -> None:
    await refuse_inserts(factory)
    caplog.set_level(logging.DEBUG)
    messages = await run(submit(factory), FORM)
    assert [m.get("response") for m in messages] == ["utter_handoff_storage_failed"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the failure is logged"
    assert leaks(caplog.records) == []


async def test_repository_errors_carry_no_statement_parameters(factory) -> None:
    await refuse_inserts(factory)
    from test_handoff_idempotency import NOW
    with pytest.raises(RepositoryError) as raised:
        async with factory() as repo:
            await repo.create(HandoffRequest(FORM["handoff_name"], FORM["handoff_organisation"], FORM["handoff_email"],
                                         FORM["handoff_question"], "rest", "rest:t1"), NOW)
    shown = str(raised.value).lower()
    assert "create" in shown or "insert" in shown or "handoff" in shown
    assert [w for w in PERSONAL if w.lower() in shown] == []
