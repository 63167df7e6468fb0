"""SlackWebPoster (slack_sdk) against a local Slack Web API stand-in (real HTTP, no Slack)."""

from __future__ import annotations

import time

import pytest

from actions.handoff.slack_api import SlackConfig, SlackDeliveryError, SlackWebPoster
from tests.support.slack_standin import Answer, SlackStandIn, free_port, standin_fixture

TOKEN = "xoxb-unit"


standin = standin_fixture(TOKEN)


@pytest.fixture()
def poster(standin: SlackStandIn) -> SlackWebPoster:
    standin.reset()
    return SlackWebPoster(SlackConfig(TOKEN, "C0STAFF", standin.base_url, timeout=1.5))


METADATA = {"event_type": "urbact_handoff", "event_payload": {"request_id": 1, "token": "tok-1"}}


async def test_post_sends_text_blocks_and_metadata_with_the_token(poster: SlackWebPoster, standin: SlackStandIn) -> None:
    ts = await poster.post("Bonjour *équipe*", [{"type": "section"}], METADATA)
    [message] = standin.messages
    assert ts == message.ts and message.channel == "C0STAFF" and message.token == TOKEN
    assert message.text == "Bonjour *équipe*"
    assert message.body["metadata"] == METADATA and message.body["unfurl_links"] is False
    assert await poster.find_posted("tok-1", oldest=0) == ts
    assert await poster.find_posted("other-token", oldest=0) is None


async def test_slack_unavailable_is_retried_then_a_clear_failure(poster: SlackWebPoster, standin: SlackStandIn) -> None:
    standin.available = False
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError) as error:
        await poster.post("x", [], METADATA)
    assert time.monotonic() - started < 2.5  # deadline respected
    assert standin.refused_calls >= 2  # retried within the deadline
    assert error.value.ambiguous is False and error.value.refused is False
    assert standin.messages == []


async def test_slow_slack_is_an_ambiguous_failure(poster: SlackWebPoster, standin: SlackStandIn) -> None:
    standin.delay_seconds = 3
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError) as error:
        await poster.post("x", [], METADATA)
    assert time.monotonic() - started < 2.5
    assert error.value.ambiguous is True  # the message may still arrive


async def test_refusal_by_slack_is_not_retried(standin: SlackStandIn) -> None:
    standin.reset()
    bad = SlackWebPoster(SlackConfig("xoxb-wrong", "C0STAFF", standin.base_url, timeout=1.5))
    with pytest.raises(SlackDeliveryError) as error:
        await bad.post("x", [], METADATA)
    assert error.value.refused is True and "invalid_auth" in str(error.value)


async def test_history_check_follows_the_pagination_cursor(poster: SlackWebPoster, standin: SlackStandIn) -> None:
    ts = await poster.post("la demande", [], METADATA)
    for number in range(7):  # newer messages push it to the third page of three
        await poster.post(f"autre {number}", [], {"event_type": "x", "event_payload": {"token": f"t{number}"}})
    standin.history_page_size = 3
    assert await poster.find_posted("tok-1", oldest=0) == ts
    assert standin.history_calls == 3
    assert await poster.find_posted("absent", oldest=0) is None


@pytest.mark.parametrize("code", ["invalid_auth", "channel_not_found", "not_in_channel", "token_revoked"])
async def test_refusals_that_retrying_cannot_fix_are_permanent(
    poster: SlackWebPoster, standin: SlackStandIn, code: str
) -> None:
    standin.refuse_with = code
    with pytest.raises(SlackDeliveryError) as error:
        await poster.post("x", [], METADATA)
    assert error.value.permanent is True and error.value.refused is True
    assert error.value.ambiguous is False and code in str(error.value)


async def test_other_refusals_are_not_permanent(poster: SlackWebPoster, standin: SlackStandIn) -> None:
    standin.refuse_with = "msg_too_long"
    with pytest.raises(SlackDeliveryError) as error:
        await poster.post("x", [], METADATA)
    assert error.value.refused is True and error.value.permanent is False


async def test_nothing_listening_is_an_unambiguous_failure() -> None:
    closed = SlackWebPoster(SlackConfig(TOKEN, "C0STAFF", f"http://127.0.0.1:{free_port()}/api/", timeout=1))
    with pytest.raises(SlackDeliveryError) as error:
        await closed.post("x", [], METADATA)
    assert error.value.ambiguous is False


async def test_retry_after_within_the_deadline_is_waited_then_posted_once(
    poster: SlackWebPoster, standin: SlackStandIn
) -> None:
    standin.script("chat.postMessage", Answer(429, headers=(("Retry-After", "1"),)))
    started = time.monotonic()
    ts = await poster.post("x", [], METADATA)
    assert 1.0 <= time.monotonic() - started < 1.5
    assert len(standin.calls("chat.postMessage")) == 2 and [m.ts for m in standin.messages] == [ts]


async def test_retry_after_beyond_the_deadline_ends_the_call_and_is_reported(
    poster: SlackWebPoster, standin: SlackStandIn
) -> None:
    standin.script("chat.postMessage", Answer(429, headers=(("Retry-After", "30"),)))
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError) as error:
        await poster.post("x", [], METADATA)
    assert time.monotonic() - started < 1.0  # not waited inside the call
    assert error.value.retry_after == 30 and error.value.ambiguous is False
    assert len(standin.calls("chat.postMessage")) == 1 and standin.messages == []


async def test_an_answer_lost_after_the_post_is_ambiguous_and_not_retried(
    poster: SlackWebPoster, standin: SlackStandIn
) -> None:
    standin.script("chat.postMessage", Answer(200, delay_seconds=3, recorded="before_delay"))
    with pytest.raises(SlackDeliveryError) as error:
        await poster.post("x", [], METADATA)
    assert error.value.ambiguous is True
    assert len(standin.calls("chat.postMessage")) == 1 and len(standin.messages) == 1


def test_configuration_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_TOKEN", "SLACK_STAFF_CHANNEL", "SLACK_API_BASE_URL", "HANDOFF_SLACK_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert SlackConfig.from_env() is None
    monkeypatch.setenv("SLACK_TOKEN", "xoxb-1")
    assert SlackConfig.from_env() is None  # the channel is needed too
    monkeypatch.setenv("SLACK_STAFF_CHANNEL", "C0STAFF")
    config = SlackConfig.from_env()
    assert config == SlackConfig("xoxb-1", "C0STAFF", "https://slack.com/api/", 8.0)
    monkeypatch.setenv("SLACK_API_BASE_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("HANDOFF_SLACK_TIMEOUT_SECONDS", "abc")
    config = SlackConfig.from_env()
    assert config is not None and config.base_url == "http://127.0.0.1:9/api/" and config.timeout == 8.0
