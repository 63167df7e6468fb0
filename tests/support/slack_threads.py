"""Reading the assistant's Slack answers on the stand-in (tests/support/slack_standin.py):
a fresh conversation per test, the messages of one thread, and a wait until they settle."""

from __future__ import annotations

import time
import uuid
from typing import Callable, List

from tests.support.slack_standin import PostedMessage, SlackStandIn

SETTLE_SECONDS = 2.0  # a turn is over once no message came for that long
Selection = Callable[[List[PostedMessage]], List[PostedMessage]]


def unique_channel() -> str:
    """A direct-message channel id of its own, so no test reads another's answers."""
    return "D" + uuid.uuid4().hex[:10].upper()


def in_thread(channel: str, thread_ts: str) -> Selection:
    return lambda messages: [m for m in messages if m.channel == channel and m.thread_ts == thread_ts]


def settled(standin: SlackStandIn, select: Selection, timeout: float = 60) -> List[PostedMessage]:
    """The selected messages once at least one arrived (within `timeout` seconds) and none
    came for SETTLE_SECONDS."""
    standin.wait_for(lambda m: len(select(m)) > 0, timeout=timeout)
    count, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < SETTLE_SECONDS:
        current = len(select(standin.messages))
        if current != count:
            count, quiet_since = current, time.monotonic()
        time.sleep(0.2)
    return select(standin.messages)
