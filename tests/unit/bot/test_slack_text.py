from __future__ import annotations

from bot.channels.slack_text import (
    MAX_BUTTON_TITLE,
    button_blocks,
    clean_incoming,
    fallback_text,
    to_mrkdwn,
)


def test_bot_mention_is_removed_but_other_people_stay() -> None:
    text = "<@U0BOT> peux-tu prévenir <@U0ALICE> ?"
    assert clean_incoming(text, ["U0BOT"], is_mention=True) == "peux-tu prévenir <@U0ALICE> ?"


def test_leading_mention_is_removed_even_without_known_bot_id() -> None:
    assert clean_incoming("<@U0OTHERBOT|urbact>: demandes en attente", [], is_mention=True) == (
        "demandes en attente"
    )


def test_mention_in_the_middle_is_removed_when_it_is_the_bot() -> None:
    assert clean_incoming("traiter <@U0BOT> demande 12", ["U0BOT"]) == "traiter demande 12"


def test_links_emails_channels_and_entities_are_unwrapped() -> None:
    text = (
        "Mon mail : <mailto:jeanne.dupont@ville-exemple.fr|jeanne.dupont@ville-exemple.fr>, "
        "voir <https://urbact.eu/networks|les réseaux> et <https://urbact.eu>, "
        "dans <#C0STAFF|urbact-staff> &lt;urgent&gt; R&amp;D <!here>"
    )
    assert clean_incoming(text) == (
        "Mon mail : jeanne.dupont@ville-exemple.fr, voir les réseaux et https://urbact.eu, "
        "dans #urbact-staff <urgent> R&D @here"
    )


def test_bare_mailto_link_keeps_the_address() -> None:
    assert clean_incoming("<mailto:a.b@c.fr>") == "a.b@c.fr"


def test_outgoing_text_is_escaped_and_markdown_converted() -> None:
    assert to_mrkdwn("**URBACT** : 3 < 5 & [le site](https://urbact.eu/get-involved)") == (
        "*URBACT* : 3 &lt; 5 &amp; <https://urbact.eu/get-involved|le site>"
    )


def test_fallback_lists_the_choices_in_plain_text() -> None:
    text = fallback_text("Acceptez-vous ?", [{"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}])
    assert text.startswith("Acceptez-vous ?")
    assert "• Oui" in text and "• Non" in text
    assert "/affirm" not in text


def test_blocks_for_up_to_five_buttons() -> None:
    buttons = [{"title": f"Choix {i}", "payload": f"/intent_{i}"} for i in range(5)]
    blocks = button_blocks("Que voulez-vous ?", buttons)
    assert blocks is not None
    assert blocks[0]["text"] == {"type": "mrkdwn", "text": "Que voulez-vous ?"}
    elements = blocks[1]["elements"]
    assert [e["value"] for e in elements] == [b["payload"] for b in buttons]
    assert len({e["action_id"] for e in elements}) == 5


def test_no_blocks_beyond_five_buttons_or_with_broken_buttons() -> None:
    six = [{"title": f"Choix {i}", "payload": f"/i{i}"} for i in range(6)]
    assert button_blocks("?", six) is None
    assert button_blocks("?", [{"title": "Sans valeur"}]) is None


def test_long_titles_are_shortened_for_slack() -> None:
    blocks = button_blocks("?", [{"title": "x" * 200, "payload": "/p"}])
    assert blocks is not None
    assert len(blocks[1]["elements"][0]["text"]["text"]) == MAX_BUTTON_TITLE
