from __future__ import annotations

import pytest

from bot.channels.validation import MAX_MESSAGE_CHARS, InvalidInput, check_message, check_sender


@pytest.mark.parametrize("sender", [None, "", 42, "a" * 129, "évil", "a b", "../etc"])
def test_bad_senders_are_refused_in_french(sender) -> None:
    with pytest.raises(InvalidInput) as error:
        check_sender(sender)
    assert "sender" in error.value.user_message


def test_good_sender_is_kept() -> None:
    assert check_sender("web:3f9a-01_x@site.fr") == "web:3f9a-01_x@site.fr"


@pytest.mark.parametrize("message", [None, "", "   ", 3, "x" * (MAX_MESSAGE_CHARS + 1)])
def test_bad_messages_are_refused(message) -> None:
    with pytest.raises(InvalidInput):
        check_message(message)


def test_control_characters_are_blanked() -> None:
    assert check_message("bon\x00jour\x1b") == "bon jour "
