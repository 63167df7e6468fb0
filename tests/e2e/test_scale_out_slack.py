"""Slack through the production topology: nginx in front of two Rasa instances.

One topology (bot/ops/topology.py) for the module, Slack enabled from the environment (as
`make run-production` does: bot/ops/credentials.py keeps the channel when its variables are
set) and pointed at the local Slack stand-in (tests/support/slack_standin.py):

1. a message event posted through nginx is answered in its thread on the stand-in;
2. the same event delivered to instance 0, then again to instance 1 (Slack's retry, or the
   same event_id at once to both) is answered once: the memory of events is shared in Redis
   (SHARED_REDIS_URL), not kept in each process;
3. a replayed request (same signature, same body) sent to the other instance is refused:
   the memory of signatures is shared too.

Without SHARED_REDIS_URL in the instances' environment, tests 2 and 3 fail (each instance
remembers only what it saw).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests

from bot.ops.topology import Instance, Topology
from tests.support.scale_out import drop_databases, launch_topology
from tests.support.slack_standin import PostedMessage, SlackStandIn, event_payload, signed_headers
from tests.support.slack_threads import SETTLE_SECONDS, Selection, in_thread, settled, unique_channel

TRACKER_DB = "urbact_scale_slack_tracker_e2e"
KB_DB = "urbact_scale_slack_kb_e2e"
TOKEN = "test-e2e-scale-token"  # a fake value, not shaped like a real Slack token
SECRET = "e2e-scale-signing-secret"
STAFF_CHANNEL = "C0URBACTSTAFF"
WEBHOOK_PATH = "/webhooks/slack/webhook"
APOLOGY_START = "Désolé, je rencontre un problème technique"
SLACK_ENV = {
    "SLACK_TOKEN": TOKEN,
    "SLACK_SIGNING_SECRET": SECRET,
    "SLACK_STAFF_CHANNEL": STAFF_CHANNEL,
}


def _drop_databases() -> None:
    drop_databases(TRACKER_DB, KB_DB)


def settled_behind_nginx(standin: SlackStandIn, select: Selection) -> List[PostedMessage]:
    """settled, with the time two instances behind nginx may take to answer first."""
    return settled(standin, select, timeout=90)


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def topology(
    standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Topology]:
    """Two instances with Slack enabled: the Slack variables go in the launch's environment
    only (the topology keeps a channel of credentials.yml when the variables it names are set
    there, bot/ops/credentials.usable_channels)."""
    _drop_databases()
    env = {**SLACK_ENV, "SLACK_API_BASE_URL": standin.base_url}  # no hand-off here: the stand-in records only answers
    launched = launch_topology(Path(tmp_path_factory.mktemp("topology")), env, TRACKER_DB, KB_DB)
    failed_before = request.session.testsfailed
    try:
        yield launched
    finally:
        if request.session.testsfailed > failed_before:
            print(launched.logs())
        launched.stop()
        _drop_databases()


@pytest.fixture
def slack(standin: SlackStandIn) -> SlackStandIn:
    standin.available = True
    return standin


def post(url: str, body: bytes, headers: Dict[str, str]) -> requests.Response:
    return requests.post(url, data=body, headers=headers, timeout=15)


def signed(payload: Dict[str, Any], timestamp: int, **extra: str) -> Tuple[bytes, Dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, signed_headers(SECRET, body, timestamp=timestamp, **extra)


def webhook(base_url: str) -> str:
    return f"{base_url}{WEBHOOK_PATH}"


def log_of(instance: Instance) -> str:
    return instance.log.read_text(errors="replace")


# --------------------------------------------------------------------------- 1. through nginx


def test_message_through_nginx_is_answered_in_its_thread(topology: Topology, slack: SlackStandIn) -> None:
    channel = unique_channel()
    payload = event_payload("Bonjour", user="U0E2EALICE", channel=channel)
    body, headers = signed(payload, int(time.time()))
    answer = post(webhook(topology.url), body, headers)
    assert answer.status_code == 200, f"{answer.status_code}: {answer.text[:300]}"
    replies = settled_behind_nginx(slack, in_thread(channel, payload["event"]["ts"]))
    assert replies, "no reply in the thread"
    assert all(reply.token == TOKEN for reply in replies)
    assert not any(reply.text.startswith(APOLOGY_START) for reply in replies), replies[0].text
    assert "Bonjour" in replies[0].text or "URBACT" in replies[0].text, replies[0].text


# --------------------------------------------------------------------------- 2. duplicates


def test_retry_on_the_other_instance_is_answered_once(topology: Topology, slack: SlackStandIn) -> None:
    first, second = topology.instances
    channel = unique_channel()
    payload = event_payload("Bonjour", user="U0E2EBRUNO", channel=channel)
    thread = in_thread(channel, payload["event"]["ts"])
    body, headers = signed(payload, int(time.time()))
    assert post(webhook(first.base_url), body, headers).status_code == 200
    answered = settled_behind_nginx(slack, thread)

    # Slack re-sends the same event (same event_id), signed again with a later timestamp.
    body, headers = signed(payload, int(time.time()) + 1, X_Slack_Retry_Num="1", X_Slack_Retry_Reason="http_timeout")
    retry = post(webhook(second.base_url), body, headers)
    assert retry.status_code == 200, f"{retry.status_code}: {retry.text[:300]}"
    assert retry.text == "duplicate" and retry.headers.get("X-Slack-No-Retry") == "1", (retry.text, dict(retry.headers))
    time.sleep(SETTLE_SECONDS + 1)
    assert len(thread(slack.messages)) == len(answered), [m.text for m in thread(slack.messages)]


def test_same_event_to_both_instances_at_once_is_answered_once(topology: Topology, slack: SlackStandIn) -> None:
    channel = unique_channel()
    payload = event_payload("Bonjour", user="U0E2ECLARA", channel=channel)
    thread = in_thread(channel, payload["event"]["ts"])
    now = int(time.time())
    deliveries = [(instance, *signed(payload, now + instance.index)) for instance in topology.instances]
    with ThreadPoolExecutor(len(deliveries)) as pool:
        answers = list(pool.map(lambda d: post(webhook(d[0].base_url), d[1], d[2]), deliveries))
    assert [a.status_code for a in answers] == [200, 200], [(a.status_code, a.text[:200]) for a in answers]
    assert sorted(a.text for a in answers) == ["", "duplicate"], [a.text for a in answers]
    replies = settled_behind_nginx(slack, thread)
    # one turn: as many replies as the same greeting gets when sent once
    reference_channel = unique_channel()
    reference = event_payload("Bonjour", user="U0E2ECLARA", channel=reference_channel)
    body, headers = signed(reference, int(time.time()))
    assert post(webhook(topology.url), body, headers).status_code == 200
    once = settled_behind_nginx(slack, in_thread(reference_channel, reference["event"]["ts"]))
    assert len(replies) == len(once), ([m.text for m in replies], [m.text for m in once])


# --------------------------------------------------------------------------- 3. replay


def test_replayed_request_on_the_other_instance_is_refused(topology: Topology, slack: SlackStandIn) -> None:
    first, second = topology.instances
    channel = unique_channel()
    payload = event_payload("Bonjour", user="U0E2EDAVID", channel=channel)
    body, headers = signed(payload, int(time.time()))
    assert post(webhook(first.base_url), body, headers).status_code == 200
    answered = settled_behind_nginx(slack, lambda m: [x for x in m if x.channel == channel])

    refusals_before = log_of(second).count("signature already seen")
    replayed = post(webhook(second.base_url), body, headers)  # the same bytes, a second later
    assert replayed.status_code == 401, f"{replayed.status_code}: {replayed.text[:300]}"
    assert "Requête refusée" in replayed.text
    time.sleep(SETTLE_SECONDS + 1)
    assert len([m for m in slack.messages if m.channel == channel]) == len(answered)
    assert log_of(second).count("signature already seen") == refusals_before + 1, "refused for another reason"
