"""Unit tests for actions/handoff/guards.py: the submission key and the daily-limit settings
(real rasa_sdk trackers; the limits themselves are tested on real databases in
tests/integration/actions/test_handoff_idempotency.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions.handoff.guards import DailyLimits, submission_key
from tests.conftest import build_tracker


def tracker(key: Optional[str], activated_at: Optional[float], sender: str = "rest:t1") -> Tracker:
    events: List[Dict[str, Any]] = [{"event": "user", "text": "bonjour", "timestamp": 1.0}]
    if activated_at is not None:
        events.append({"event": "active_loop", "name": "handoff_form", "timestamp": activated_at})
    events.append({"event": "active_loop", "name": None, "timestamp": (activated_at or 0) + 60})
    return build_tracker(None, slots={"handoff_submission_key": key}, sender=sender, events=events)


def test_the_key_drawn_at_form_start_is_used() -> None:
    assert submission_key(tracker("ab" * 16, 100.0)) == "ab" * 16


def test_without_a_drawn_key_it_is_derived_from_the_form_activation() -> None:
    first = submission_key(tracker(None, 100.0))
    assert first is not None and len(first) == 32
    assert submission_key(tracker(None, 100.0)) == first  # a retry: same key
    assert submission_key(tracker("pas une clé", 100.0)) == first  # forged slot ignored
    assert submission_key(tracker(None, 200.0)) != first  # another run of the form
    assert submission_key(tracker(None, 100.0, sender="rest:t2")) != first
    assert submission_key(tracker(None, None)) is None


def test_daily_limits_read_the_environment() -> None:
    assert DailyLimits.from_env({}) == DailyLimits(3, 3)
    assert DailyLimits.from_env({"HANDOFF_MAX_PER_CONVERSATION_PER_DAY": "0",
                                 "HANDOFF_MAX_PER_EMAIL_PER_DAY": "5"}) == DailyLimits(0, 5)
    assert DailyLimits.from_env({"HANDOFF_MAX_PER_EMAIL_PER_DAY": "-2",
                                 "HANDOFF_MAX_PER_CONVERSATION_PER_DAY": "x"}) == DailyLimits(3, 3)
