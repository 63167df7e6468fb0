"""Guards of the hand-off submission: its idempotency key and the daily limits.

- Idempotency key: drawn when the form starts (slot handoff_submission_key, see form.py).
  Without it (a conversation that started before this slot existed) the key is derived
  from the conversation id and the timestamp of the form's activation event, which is the
  same for every retry of the same submission. The database holds it unique (revision 0003).
- Daily limits (abuse, issue 10 point 4): at most HANDOFF_MAX_PER_CONVERSATION_PER_DAY
  requests per conversation and HANDOFF_MAX_PER_EMAIL_PER_DAY per e-mail address over the
  last 24 hours (common/settings.py; 0 turns a limit off). Counted in the hand-off table.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Mapping, Optional

from rasa_sdk import Tracker

from actions.handoff.form import FORM_NAME, SUBMISSION_KEY_SLOT
from actions.handoff.models import HandoffRequest
from actions.handoff.repository import SqlHandoffRepository
from common import settings

WINDOW: Final[timedelta] = timedelta(hours=24)
_KEY = re.compile(r"[0-9a-f]{32}")


def submission_key(tracker: Tracker) -> Optional[str]:
    """This submission's idempotency key (32 hex characters), or None when unknowable."""
    drawn = tracker.get_slot(SUBMISSION_KEY_SLOT)
    if isinstance(drawn, str) and _KEY.fullmatch(drawn):
        return drawn
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == FORM_NAME:
            seed = f"{tracker.sender_id}|{event.get('timestamp')!r}"
            return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]
    return None


@dataclass(frozen=True)
class DailyLimits:
    per_conversation: int = settings.HANDOFF_MAX_PER_CONVERSATION_PER_DAY.default
    per_email: int = settings.HANDOFF_MAX_PER_EMAIL_PER_DAY.default

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "DailyLimits":
        return cls(
            settings.HANDOFF_MAX_PER_CONVERSATION_PER_DAY.read(environ),
            settings.HANDOFF_MAX_PER_EMAIL_PER_DAY.read(environ),
        )

    async def refusal(self, repo: SqlHandoffRepository, new: HandoffRequest, now: datetime) -> Optional[str]:
        """Why this new request exceeds a daily limit (a log reason, no personal data), or None."""
        counts = await repo.count_recent(new.conversation_id, new.email, now - WINDOW)
        if self.per_conversation and counts.conversation >= self.per_conversation:
            return f"{counts.conversation} request(s) from this conversation in 24 h (limit {self.per_conversation})"
        if self.per_email and counts.email >= self.per_email:
            return f"{counts.email} request(s) for this e-mail address in 24 h (limit {self.per_email})"
        return None
