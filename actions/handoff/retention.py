"""How long stored conversations are kept (CONVERSATION_RETENTION_DAYS, 90 by default).

The number is said to the visitor when a hand-off ends without consent (the conversation
itself stays in Rasa's tracker store until `make purge-conversations` deletes it); the
operator command bot/ops/purge_conversations.py reads the same variable in the Rasa
environment (it cannot import this module: actions/ and the Rasa environment stay apart).
"""

from __future__ import annotations

import logging
import os

DEFAULT_CONVERSATION_RETENTION_DAYS = 90
logger = logging.getLogger(__name__)


def conversation_retention_days() -> int:
    raw = os.environ.get("CONVERSATION_RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_CONVERSATION_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if days < 1:
        logger.warning("CONVERSATION_RETENTION_DAYS=%r is not a number of days; using %d",
                       raw[:20], DEFAULT_CONVERSATION_RETENTION_DAYS)
        return DEFAULT_CONVERSATION_RETENTION_DAYS
    return days
