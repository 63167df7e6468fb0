"""Visitors' thumbs arrive as `/feedback{"rating": "up"}`: a "/" message skips NLU, so the
channels accept the feedback intent only with exactly one rating, "up" or "down"."""

from __future__ import annotations

import pytest

from bot.channels.validation import (
    FEEDBACK_REFUSED,
    InvalidInput,
    check_message,
    feedback_rating,
)
from bot.channels.web_handlers import parse_user_message


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ('/feedback{"rating":"up"}', "up"),
        ('/feedback{"rating": "down"}', "down"),
        (' /feedback {"rating":"up"} ', "up"),
    ],
)
def test_well_formed_thumbs_are_accepted(text: str, rating: str) -> None:
    assert check_message(text) == text
    assert feedback_rating(text) == rating


@pytest.mark.parametrize(
    "text",
    [
        "/feedback",
        '/feedback{"rating":"meh"}',
        '/feedback{"rating":"UP"}',
        '/feedback{"rating":["up"]}',
        '/feedback{"rating":"up","city":"Lyon"}',
        '/feedback{"rating":"jean.dupont@example.fr"}',
        '/feedback@0.2{"rating":"up"}',
        '/feedback{"rating":"up"}trailing',
        "/feedback{not json}",
        '/feedback {"rating": "up"',
    ],
)
def test_anything_else_with_the_feedback_intent_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        check_message(text)
    assert error.value.user_message == FEEDBACK_REFUSED
    assert "example.fr" not in error.value.log_reason
    assert "Lyon" not in error.value.log_reason


@pytest.mark.parametrize(
    "text", ["/greet", "/request_handoff", "bonjour", "feedback up", "/feedbacks", "/ affirm"]
)
def test_other_messages_are_not_feedback(text: str) -> None:
    assert check_message(text) == text
    assert feedback_rating(text) is None


def test_the_website_channel_refuses_a_forged_rating() -> None:
    with pytest.raises(InvalidInput):
        parse_user_message({"message": '/feedback{"rating":"06 12 34 56 78"}'})
    assert parse_user_message({"message": '/feedback{"rating":"down"}'})[0].startswith("/feedback")
