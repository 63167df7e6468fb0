"""Slack faults during hand-off delivery, with real processes and real databases (issue 10).

"Keep people's data safe", fault tests: Slack rate-limiting (429 + Retry-After), failing
(500), timing out, and a second deliverer running while the first one's post is slow. Each
test stores a request in a real database (SQLite file and PostgreSQL, fixtures of
database_integration_helpers.py, migrated to the Alembic head), then lets the real
deliverers deliver it to the Slack stand-in (tests/support/slack_standin.py, scripted per
call): the operator command `python -m actions.ops.deliver_handoffs` run as a process, as cron
does (the same Outbox as the loop), and the action server `python -m actions.ops.action_server`
started as `make run` starts it, whose background loop (actions/handoff/loop.py) delivers
in production. Small Slack deadlines come from the real settings
(HANDOFF_SLACK_TIMEOUT_SECONDS, HANDOFF_RETRY_BASE_SECONDS...). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from database_integration_helpers import db_url, postgres_database  # noqa: F401
from test_handoff_repository import migrate_to_head

from actions.db.engine import create_engine
from actions.handoff.models import HandoffRequest
from actions.handoff.repository import SqlHandoffRepositoryFactory
from common.action_secret import new_secret
from tests.support.slack_standin import Answer, PostedMessage, SlackStandIn, free_port
from tests.support.waiting import stop, wait_until

REPO_ROOT = Path(__file__).resolve().parents[3]

PYTHON = REPO_ROOT / ".venv-actions" / "bin" / "python"
TOKEN = "xoxb-faults"
CHANNEL = "C0STAFF"
POST = "chat.postMessage"
HISTORY = "conversations.history"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN) as server:
        yield server


@pytest.fixture
def request_id(db_url: str) -> int:  # noqa: F811
    """One stored hand-off request, pending, in a freshly migrated database."""

    async def prepare() -> int:
        await migrate_to_head(db_url)
        engine = create_engine(db_url)
        try:
            async with SqlHandoffRepositoryFactory(engine, timeout=10)() as repo:
                new = HandoffRequest("Jeanne Dupont", "Mairie de Saint-Aubin", "jeanne@saint-aubin.fr",
                                 "Peut-on candidater seuls ?", "socketio", "web-faults")
                return (await repo.create(new, datetime.now(timezone.utc))).id
        finally:
            await engine.dispose()

    return asyncio.run(prepare())


def row(url: str, request_id: int) -> HandoffRequest:
    async def read() -> HandoffRequest:
        engine = create_engine(url)
        try:
            async with SqlHandoffRepositoryFactory(engine, timeout=10)() as repo:
                record = await repo.get(request_id)
        finally:
            await engine.dispose()
        assert record is not None
        return record

    return asyncio.run(read())


def env_for(url: str, standin: SlackStandIn, slack_timeout: float, **extra: str) -> Dict[str, str]:
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT),
        DATABASE_URL=url,
        SLACK_TOKEN=TOKEN,
        SLACK_STAFF_CHANNEL=CHANNEL,
        SLACK_API_BASE_URL=standin.base_url,
        HANDOFF_SLACK_TIMEOUT_SECONDS=str(slack_timeout),
        HANDOFF_RETRY_BASE_SECONDS="0.1",  # quick retries, so a test shows what waits and what not
        HANDOFF_RETRY_MAX_SECONDS="0.2",
        DB_TIMEOUT_SECONDS="5",
    )
    env.update(extra)
    return env


def deliver_once(env: Dict[str, str]) -> subprocess.CompletedProcess:
    """One run of the operator command (a real process): 0 nothing left, 1 still pending."""
    return subprocess.run(
        [str(PYTHON), "-m", "actions.ops.deliver_handoffs"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=25,
    )


def deliver_until_done(env: Dict[str, str], within: float) -> List[subprocess.CompletedProcess]:
    """The operator command again and again (as a tight cron) until nothing is pending."""
    runs: List[subprocess.CompletedProcess] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        runs.append(deliver_once(env))
        assert runs[-1].returncode in (0, 1), runs[-1].stderr
        if runs[-1].returncode == 0:
            return runs
        time.sleep(0.1)
    raise AssertionError(f"still pending after {within} s: {runs[-1].stdout} {runs[-1].stderr}")


def posts_of(standin: SlackStandIn, record: HandoffRequest) -> List[PostedMessage]:
    """The channel's messages carrying this request's delivery token."""
    return [
        m for m in standin.messages
        if m.channel == CHANNEL and m.body["metadata"]["event_payload"]["token"] == record.delivery_token
    ]


def assert_delivered_once(url: str, request_id: int, standin: SlackStandIn) -> HandoffRequest:
    record = row(url, request_id)
    posts = posts_of(standin, record)
    assert len(posts) == 1, f"{len(posts)} message(s) of the request in the channel (lost or duplicated)"
    assert len(standin.messages) == 1
    message = posts[0]
    assert message.body["metadata"]["event_payload"]["request_id"] == request_id
    assert (record.delivery_status, record.slack_ts) == ("delivered", message.ts)
    return record


# --------------------------------------------------------------------------- 1. 429 + Retry-After


def test_rate_limited_post_waits_retry_after_then_posts_once(
    db_url: str, request_id: int, standin: SlackStandIn  # noqa: F811
) -> None:
    """Retry-After (2 s) within the call's deadline (5 s): the same attempt waits, then posts."""
    standin.script(POST, Answer(429, (("Retry-After", "2"),)))
    started = time.monotonic()
    run = deliver_once(env_for(db_url, standin, slack_timeout=5))
    assert run.returncode == 0, run.stdout + run.stderr
    first, second = standin.calls(POST)
    assert second.at - first.at >= 2.0  # not less than Slack asked
    assert time.monotonic() - started < 10
    record = assert_delivered_once(db_url, request_id, standin)
    assert record.delivery_attempts == 1
    assert standin.calls(HISTORY) == []  # a 429 is no ambiguity: nothing to look up


def test_retry_after_longer_than_the_deadline_is_waited_across_attempts(
    db_url: str, request_id: int, standin: SlackStandIn  # noqa: F811
) -> None:
    """Retry-After (3 s) beyond the call's deadline (1 s): the attempt gives up, and no later
    attempt posts before the 3 s are over, even with retries due every 0.1 s."""
    standin.script(POST, Answer(429, (("Retry-After", "3"),)))
    env = env_for(db_url, standin, slack_timeout=1)
    first_run = deliver_once(env)
    assert first_run.returncode == 1 and standin.messages == []
    assert "429" in (row(db_url, request_id).last_error or "")
    deliver_until_done(env, within=15)
    first, second = standin.calls(POST)
    assert second.at - first.at >= 3.0
    assert_delivered_once(db_url, request_id, standin)


# --------------------------------------------------------------------------- 2. 500


@pytest.mark.parametrize("reached_channel", [False, True], ids=["lost", "posted-anyway"])
def test_server_errors_are_retried_and_delivered_once(
    db_url: str, request_id: int, standin: SlackStandIn, reached_channel: bool  # noqa: F811
) -> None:
    """Slack answers 500 twice (the first time after storing the message, or not), then
    comes back: retried until delivered, one message in the channel."""
    first = Answer(500, recorded="before_delay" if reached_channel else "never")
    standin.script(POST, first, Answer(500))
    env = env_for(db_url, standin, slack_timeout=1)
    assert deliver_once(env).returncode == 1
    after_first = row(db_url, request_id)
    assert after_first.delivery_status == "pending" and after_first.maybe_posted  # kept, uncertain
    assert "500" in (after_first.last_error or "")
    deliver_until_done(env, within=15)
    assert_delivered_once(db_url, request_id, standin)
    # Stored anyway: the history check finds it, no second post; lost: posted until one is 200.
    assert len(standin.calls(POST)) == (1 if reached_channel else 3)
    assert len(standin.calls(HISTORY)) >= 1


# --------------------------------------------------------------------------- 3. timeout


@pytest.mark.parametrize("reached_channel", [False, True], ids=["lost", "posted-late-answer"])
def test_timeout_is_settled_by_the_history_check(
    db_url: str, request_id: int, standin: SlackStandIn, reached_channel: bool  # noqa: F811
) -> None:
    """chat.postMessage accepted but not answered within the deadline (1 s; the stand-in
    answers after 3 s): ambiguous; the next attempt looks in the channel history and posts
    only if the message is not there. One message either way."""
    standin.script(POST, Answer(200, delay_seconds=3, recorded="before_delay" if reached_channel else "never"))
    env = env_for(db_url, standin, slack_timeout=1)
    assert deliver_once(env).returncode == 1
    after_first = row(db_url, request_id)
    assert after_first.delivery_status == "pending" and after_first.maybe_posted
    assert "Timeout" in (after_first.last_error or "")  # gave up at its deadline, answer unknown
    deliver_until_done(env, within=15)
    assert_delivered_once(db_url, request_id, standin)
    assert len(standin.calls(HISTORY)) >= 1
    assert len(standin.calls(POST)) == (1 if reached_channel else 2)


# --------------------------------------------------------------------------- 4. two deliverers


def test_second_deliverer_during_a_slow_post_posts_nothing(
    db_url: str, request_id: int, standin: SlackStandIn, tmp_path: Path  # noqa: F811
) -> None:
    """The action server's delivery loop (as `make run` starts it) claims the request and
    posts; Slack takes 4 s to accept that first post. Meanwhile operator commands, two at a
    time, run against the same database: none claims it or posts. One message, delivered once."""
    slow = 4.0
    standin.script(POST, Answer(200, delay_seconds=slow))  # stored at the end of the delay
    env = env_for(db_url, standin, slack_timeout=6, ACTION_SERVER_TOKEN=new_secret(),
                  HANDOFF_DELIVERY_LOOP="on", HANDOFF_DELIVERY_INTERVAL_SECONDS="0.2")
    log = (tmp_path / "actions.log").open("w")
    server = subprocess.Popen(
        [str(PYTHON), "-m", "actions.ops.action_server", "--actions", "actions", "--port", str(free_port())],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    overlapping: List[subprocess.CompletedProcess] = []
    try:
        wait_until(lambda: len(standin.calls(POST)) == 1 or server.poll() is not None, 30,
                   "the action server's loop posting")
        assert server.poll() is None, (tmp_path / "actions.log").read_text()
        post_arrived = standin.calls(POST)[0].at
        assert row(db_url, request_id).delivery_status == "sending"
        while not standin.messages and time.monotonic() - post_arrived < slow - 1.5:
            second, third = (subprocess.Popen(
                [str(PYTHON), "-m", "actions.ops.deliver_handoffs"], cwd=REPO_ROOT, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            ) for _ in range(2))
            for process in (second, third):
                out, err = process.communicate(timeout=25)
                overlapping.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
        assert standin.messages == [], "a second deliverer posted while the first post was in flight"
        assert len(overlapping) >= 2
        for run in overlapping:
            assert run.returncode == 1 and "0 demande(s) envoyée(s)" in run.stdout, run.stdout + run.stderr
        wait_until(lambda: row(db_url, request_id).delivery_status == "delivered", 15,
                   "the slow post recorded as delivered")
    finally:
        stop(server)
        log.close()
    record = assert_delivered_once(db_url, request_id, standin)
    assert record.delivery_attempts == 1  # claimed once: nobody took it over
    assert len(standin.calls(POST)) == 1
    assert deliver_once(env).returncode == 0 and len(standin.messages) == 1
