from __future__ import annotations

import pytest

from bot.channels.slack_guard import SlackRequestGuard, TtlSet, expected_signature
from tests.support.slack_standin import signed_headers, slack_signature

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_signature_matches_slack_documentation_example() -> None:
    # Example from https://api.slack.com/authentication/verifying-requests-from-slack
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert expected_signature(SECRET, "1531420618", body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )
    assert slack_signature(SECRET, "1531420618", body) == expected_signature(SECRET, "1531420618", body)


async def test_fresh_signed_request_is_accepted_once_then_refused_as_replay() -> None:
    wall, mono = FakeClock(), FakeClock(0.0)
    guard = SlackRequestGuard(SECRET, wall_clock=wall, monotonic_clock=mono)
    body = b'{"type":"event_callback"}'
    headers = signed_headers(SECRET, body, timestamp=int(wall.now))
    assert await guard.rejection_reason(headers, body) is None
    mono.now += 30
    assert "replay" in (await guard.rejection_reason(headers, body) or "")


@pytest.mark.parametrize("age", [301, -301, 3600])
async def test_stale_or_future_timestamps_are_refused(age: int) -> None:
    wall = FakeClock()
    guard = SlackRequestGuard(SECRET, wall_clock=wall)
    body = b"{}"
    headers = signed_headers(SECRET, body, timestamp=int(wall.now) - age)
    assert "stale" in (await guard.rejection_reason(headers, body) or "")


async def test_unsigned_wrong_and_tampered_requests_are_refused() -> None:
    wall = FakeClock()
    guard = SlackRequestGuard(SECRET, wall_clock=wall)
    body = b'{"a":1}'
    assert "unsigned" in (await guard.rejection_reason({}, body) or "")
    wrong = signed_headers("another-secret", body, timestamp=int(wall.now))
    assert await guard.rejection_reason(wrong, body) == "wrong signature"
    good = signed_headers(SECRET, body, timestamp=int(wall.now))
    assert await guard.rejection_reason(good, b'{"a":2}') == "wrong signature"
    bad_ts = dict(good, **{"X-Slack-Request-Timestamp": "yesterday"})
    assert "malformed" in (await guard.rejection_reason(bad_ts, body) or "")


async def test_headers_are_found_whatever_their_case() -> None:
    wall = FakeClock()
    guard = SlackRequestGuard(SECRET, wall_clock=wall)
    body = b"{}"
    headers = {k.lower(): v for k, v in signed_headers(SECRET, body, timestamp=int(wall.now)).items()}
    assert await guard.rejection_reason(headers, body) is None


def test_a_signing_secret_is_required() -> None:
    with pytest.raises(ValueError):
        SlackRequestGuard("")


def test_ttl_set_forgets_after_ttl_and_stays_bounded() -> None:
    clock = FakeClock(0.0)
    seen = TtlSet(10, max_items=3, clock=clock)
    assert seen.add_if_new("a") is True
    assert seen.add_if_new("a") is False
    clock.now = 9.9
    assert "a" in seen
    clock.now = 10.0
    assert "a" not in seen
    assert seen.add_if_new("a") is True
    for key in "bcd":
        seen.add_if_new(key)
    assert len(seen) == 3 and "a" not in seen and "d" in seen
