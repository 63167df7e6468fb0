"""End to end: the staff's figures where they work, with `rasa run` (the trained model), the
action server and the Slack Web API stand-in (tests/support/slack_standin.py).

- "stats de la semaine" from the allow-listed staff member, in a direct message: the week's
  figures arrive as the comment of the "messages per day" chart uploaded to the stand-in;
  from someone else: the assistant's usual answer, no upload.
- /insights/ on Rasa's server: 401 without the staff token, the page with it.

The figures are read from a store written by Rasa's own SQLTrackerStore before the start
(TRACKER_STORE_URL), so the counts are known whatever the launched assistant records.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests

from tests.support.recorded_week import EMAIL, record_week
from tests.support.slack_standin import PostedMessage, SlackStandIn, event_payload, signed_headers

TOKEN = "test-e2e-stats-token"  # a fake value, not shaped like a real Slack token
SECRET = "e2e-stats-signing-secret"
STAFF_CHANNEL = "C0URBACTSTAFF"
STAFF_USER = "U0E2ESTAFF"
INSIGHTS_TOKEN = "jeton-e2e-de-l-equipe"
SLACK_CHANNEL = "bot.channels.slack.UrbactSlackInput"
PAGE_CHANNEL = "bot.channels.insights_page.InsightsPageInput"


@pytest.fixture(scope="module")
def slack_standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN) as standin:
        yield standin


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("insights")
    (folder / "index.html").write_text("<h1>Rapport URBACT de test</h1>", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def staff_assistant(
    assistant_launcher: Callable[..., Any], slack_standin: SlackStandIn, report_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    store_url = record_week(tmp_path_factory.mktemp("recorded") / "conversations.db")
    return assistant_launcher(
        extra_credentials={
            SLACK_CHANNEL: {"slack_token": TOKEN, "slack_signing_secret": SECRET,
                            "slack_staff_channel": STAFF_CHANNEL, "use_threads": True},
            PAGE_CHANNEL: {"report_dir": str(report_dir)},
        },
        extra_env={
            "SLACK_API_BASE_URL": slack_standin.base_url,
            "SLACK_STAFF_USER_IDS": STAFF_USER,
            "TRACKER_STORE_URL": store_url,
            "INSIGHTS_TOKEN": INSIGHTS_TOKEN,
        },
    )


def post_event(assistant: Any, payload: Dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    response = requests.post(f"{assistant.base_url}/webhooks/slack/webhook", data=body,
                             headers=signed_headers(SECRET, body), timeout=10)
    assert response.status_code == 200


def in_channel(channel: str) -> Callable[[List[PostedMessage]], bool]:
    return lambda messages: any(m.channel == channel for m in messages)


def test_staff_direct_message_gets_the_figures_and_the_chart(staff_assistant: Any, slack_standin: SlackStandIn) -> None:
    payload = event_payload("Stats de la semaine", user=STAFF_USER, channel="D0E2ESTAFF")
    post_event(staff_assistant, payload)
    messages = slack_standin.wait_for(in_channel("D0E2ESTAFF"), timeout=60)
    [shared] = [m for m in messages if m.channel == "D0E2ESTAFF"]
    assert shared.thread_ts == payload["event"]["ts"]
    assert "2 conversations, 3 messages des visiteurs" in shared.text
    assert EMAIL not in shared.text
    [uploaded] = [f for f in slack_standin.files if f.channel == "D0E2ESTAFF"]
    assert uploaded.data.startswith(b"\x89PNG")


def test_someone_else_gets_the_assistant_not_the_figures(staff_assistant: Any, slack_standin: SlackStandIn) -> None:
    post_event(staff_assistant, event_payload("stats de la semaine", user="U0VISITEUR", channel="D0E2EVISIT"))
    messages = slack_standin.wait_for(in_channel("D0E2EVISIT"), timeout=60)
    time.sleep(2)  # let every answer of the turn arrive
    answers = [m for m in slack_standin.messages if m.channel == "D0E2EVISIT"]
    assert answers and messages
    assert all("Statistiques du" not in m.text and "des visiteurs" not in m.text for m in answers)
    assert [f for f in slack_standin.files if f.channel == "D0E2EVISIT"] == []


def test_insights_page_needs_the_staff_token(staff_assistant: Any) -> None:
    url = f"{staff_assistant.base_url}/insights/"
    refused = requests.get(url, timeout=10)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
    page = requests.get(url, auth=("equipe", INSIGHTS_TOKEN), timeout=10)
    assert page.status_code == 200 and "Rapport URBACT de test" in page.text
    assert page.headers["Cache-Control"] == "no-store"
