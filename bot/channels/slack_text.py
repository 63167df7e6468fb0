"""Text in and out of Slack.

In: Slack sends "<@U0BOT> bonjour", e-mails as "<mailto:a@b.fr|a@b.fr>", links as
"<https://x|x>", channels as "<#C1|general>", and escapes &, < and > as HTML entities.
The assistant must see plain French: the bot mention is removed, markup unwrapped.

Out: our responses are shared with the web widget (light Markdown, plain URLs). Slack's
"mrkdwn" needs &, < and > escaped, uses *bold* and <url|label> links; and a message with
buttons needs a readable plain-text version (notifications, screen readers, clients without
blocks, more than five buttons), which lists the choices.
"""

from __future__ import annotations

import html
import re
from typing import Any, Dict, Iterable, List, Optional

MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 75
MAX_BUTTON_VALUE = 2000
MAX_SECTION_TEXT = 3000

_USER_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s,:;]*")
_LINK = re.compile(r"<((?:mailto:|https?://|tel:)[^>|]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SPACES = re.compile(r"[ \t]{2,}")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")


def clean_incoming(text: str, bot_user_ids: Iterable[str] = (), is_mention: bool = False) -> str:
    """Plain text of a Slack message, without the mentions of the bot."""
    ids = {uid for uid in bot_user_ids if uid}
    if is_mention:
        # In an app_mention event the leading mention is the bot, even when we do not
        # know its user id (old payloads without "authorizations").
        text = _LEADING_MENTION.sub("", text, count=1)
    text = _USER_MENTION.sub(lambda m: " " if m.group(1) in ids else m.group(0), text)

    def unwrap(match: "re.Match[str]") -> str:
        target, label = match.group(1), match.group(2)
        if label:
            return label
        return target[len("mailto:"):] if target.startswith("mailto:") else target

    text = _LINK.sub(unwrap, text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(1)}", text)
    text = html.unescape(text)
    return _SPACES.sub(" ", text).strip()


def to_mrkdwn(text: str) -> str:
    """Our light Markdown, escaped for Slack's mrkdwn."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MD_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", escaped)
    return _MD_BOLD.sub(r"*\1*", escaped)


def _title(button: Dict[str, Any]) -> str:
    title = str(button.get("title") or button.get("payload") or "").strip()
    return title if len(title) <= MAX_BUTTON_TITLE else title[: MAX_BUTTON_TITLE - 1] + "…"


def fallback_text(text: str, buttons: List[Dict[str, Any]]) -> str:
    """The message and its choices as plain lines, readable without the buttons."""
    titles = [_title(button) for button in buttons if _title(button)]
    if not titles:
        return text
    choices = "\n".join(f"• {title}" for title in titles)
    return f"{text}\n\nVous pouvez répondre par l'un de ces choix :\n{choices}"


def button_blocks(text: str, buttons: List[Dict[str, Any]]) -> Optional[List[Dict[str, Any]]]:
    """Slack blocks for a message with buttons, or None when Slack could not show them."""
    usable = [
        button
        for button in buttons
        if _title(button) and 0 < len(str(button.get("payload") or "")) <= MAX_BUTTON_VALUE
    ]
    if not usable or len(usable) > MAX_BUTTONS or len(usable) != len(buttons):
        return None
    section_text = to_mrkdwn(text)
    if len(section_text) > MAX_SECTION_TEXT:
        return None
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": section_text}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": _title(button), "emoji": True},
                    "value": str(button["payload"]),
                    "action_id": f"choice_{index}",
                }
                for index, button in enumerate(usable)
            ],
        },
    ]
