"""The insights of a period, computed from recorded events in one pass (pure: no I/O).

`build_summary(events, since, until, handoffs)` returns the dict written to summary.json,
with exactly the keys of issue 12; `build_insights` also returns the per-day series the
charts draw. A user message counts as answered by the fallback when the next action of its
conversation is `action_rephrase` (the rephrase request and the tentative, retrieved answer:
actions/fallback.py; also Rasa's core fallback, config.yml), or, with no action recorded
after it, when its intent is `nlu_fallback`. `unanswered` holds those messages and the
out-of-scope ones, masked (privacy.py) and grouped by similarity (grouping.py); messages
typed while a form is active (the hand-off form's answers) and button payloads ("/intent")
are never among them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Final, FrozenSet, Iterable, List, Mapping, Optional, Set

from actions.topics import NEVER_SUGGESTED, QUIZ_ONLY, TOPIC_LABELS, label_for
from bot.insights.grouping import group_similar
from bot.insights.privacy import mask
from bot.insights.store import StoredEvent
from common.text import normalise_name

FALLBACK_INTENT, FALLBACK_ACTION = "nlu_fallback", "action_rephrase"  # the rephrase answer
OUT_OF_SCOPE_INTENT: Final[str] = "out_of_scope"
FEEDBACK_INTENT, RATING_ENTITY = "feedback", "rating"  # the widget's thumbs
MYTH_PREFIX: Final[str] = "myth_"
# Hand-off statuses (store.handoff_statuses), always all present, 0 when none.
HANDOFF_STATUSES: Final[tuple[str, ...]] = ("pending", "sending", "delivered", "handled")
# Actions that do not answer a message: the next one after them does.
NOT_ANSWERS: Final[FrozenSet[str]] = frozenset({"action_listen", "action_unlikely_intent", "action_session_start"})
NOT_TOPICS: Final[FrozenSet[str]] = NEVER_SUGGESTED | QUIZ_ONLY | {FEEDBACK_INTENT, "inform"}
TOP_TOPICS: Final[int] = 10
TOP_NAMES: Final[int] = 20
SUMMARY_KEYS: Final[tuple[str, ...]] = (
    "period", "conversations", "user_messages", "fallback_rate", "top_topics", "myths",
    "asked_cities", "asked_networks", "unanswered", "handoffs", "feedback",
)


@dataclass(frozen=True)
class DayCount:
    day: date
    user_messages: int
    fallbacks: int

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.user_messages if self.user_messages else 0.0


@dataclass(frozen=True)
class Insights:
    summary: Dict[str, Any]
    daily: List[DayCount]


@dataclass
class _Pending:
    text: str
    intent: str
    day: date
    in_form: bool


@dataclass
class _Names:
    """Entity values counted by comparison key, shown as first written."""

    counts: Counter[str] = field(default_factory=Counter)
    shown: Dict[str, str] = field(default_factory=dict)

    def add(self, value: str) -> None:
        key = normalise_name(value)
        if key:
            self.counts[key] += 1
            self.shown.setdefault(key, value)

    def top(self, limit: int) -> List[Dict[str, Any]]:
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [{"name": self.shown[key], "count": count} for key, count in ranked]


@dataclass
class _Tally:
    senders: Set[str] = field(default_factory=set)
    topics: Counter[str] = field(default_factory=Counter)
    myths: Counter[str] = field(default_factory=Counter)
    cities: _Names = field(default_factory=_Names)
    networks: _Names = field(default_factory=_Names)
    feedback: Counter[str] = field(default_factory=Counter)
    per_day: Counter[date] = field(default_factory=Counter)
    fallbacks_per_day: Counter[date] = field(default_factory=Counter)
    unanswered: List[str] = field(default_factory=list)
    pending: Dict[str, _Pending] = field(default_factory=dict)
    forms: Set[str] = field(default_factory=set)

    def add(self, event: StoredEvent) -> None:
        if event.type_name == "user":
            self._user(event)
        elif event.type_name == "action" and event.action_name not in NOT_ANSWERS:
            self._close(event.sender_id, event.action_name)
        elif event.type_name == "active_loop":
            (self.forms.add if event.action_name else self.forms.discard)(event.sender_id)

    def _user(self, event: StoredEvent) -> None:
        self._close(event.sender_id, None)
        data = event.fields()
        parse = data.get("parse_data") or {}
        intent = event.intent_name or (parse.get("intent") or {}).get("name") or ""
        day = _day(event.timestamp)
        self.senders.add(event.sender_id)
        self.per_day[day] += 1
        if intent and intent not in NOT_TOPICS and intent != FALLBACK_INTENT:
            self.topics[intent] += 1
        if intent.startswith(MYTH_PREFIX):
            self.myths[intent] += 1
        self._entities(intent, parse.get("entities") or [])
        text = str(data.get("text") or "")
        self.pending[event.sender_id] = _Pending(text, intent, day, event.sender_id in self.forms)

    def _entities(self, intent: str, entities: Iterable[Any]) -> None:
        for entity in entities:
            if not isinstance(entity, dict) or entity.get("value") in (None, ""):
                continue
            name, value = entity.get("entity"), str(entity["value"])
            if name == "city":
                self.cities.add(value)
            elif name == "network":
                self.networks.add(value)
            elif name == RATING_ENTITY and intent == FEEDBACK_INTENT and value in ("up", "down"):
                self.feedback[value] += 1

    def _close(self, sender_id: str, action: Optional[str]) -> None:
        """Decide the fallback of the sender's last message from the action that answered it."""
        message = self.pending.pop(sender_id, None)
        if message is None:
            return
        fell_back = action == FALLBACK_ACTION if action else message.intent == FALLBACK_INTENT
        if fell_back:
            self.fallbacks_per_day[message.day] += 1
        shown = not message.in_form and message.text and not message.text.startswith("/")
        if shown and (fell_back or message.intent == OUT_OF_SCOPE_INTENT):
            self.unanswered.append(mask(message.text))

    def finish(self) -> None:
        for sender_id in list(self.pending):
            self._close(sender_id, None)


def _day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp or 0, tz=timezone.utc).date()


def _days(since: date, until: date) -> List[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def myth_intents() -> List[str]:
    return sorted(intent for intent in TOPIC_LABELS if intent.startswith(MYTH_PREFIX))


def build_insights(events: Iterable[StoredEvent], since: date, until: date,
                   handoffs: Optional[Mapping[str, int]] = None) -> Insights:
    """The summary (exact keys of issue 12) and the per-day counts, from events in store order."""
    tally = _Tally()
    for event in events:
        tally.add(event)
    tally.finish()
    user_messages = sum(tally.per_day.values())
    fallbacks = sum(tally.fallbacks_per_day.values())
    myths = {intent: tally.myths.get(intent, 0) for intent in myth_intents()}
    myths.update(tally.myths)
    summary: Dict[str, Any] = {
        "period": {"since": since.isoformat(), "until": until.isoformat()},
        "conversations": len(tally.senders),
        "user_messages": user_messages,
        "fallback_rate": round(fallbacks / user_messages, 4) if user_messages else 0.0,
        "top_topics": [{"topic": label_for(intent), "count": count}
                       for intent, count in sorted(tally.topics.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TOPICS]],
        "myths": myths,
        "asked_cities": tally.cities.top(TOP_NAMES),
        "asked_networks": tally.networks.top(TOP_NAMES),
        "unanswered": group_similar(tally.unanswered),
        "handoffs": {**{status: 0 for status in HANDOFF_STATUSES}, **(handoffs or {})},
        "feedback": {"up": tally.feedback["up"], "down": tally.feedback["down"]},
    }
    daily = [DayCount(day, tally.per_day[day], tally.fallbacks_per_day[day]) for day in _days(since, until)]
    return Insights(summary, daily)


def build_summary(events: Iterable[StoredEvent], since: date, until: date,
                  handoffs: Optional[Mapping[str, int]] = None) -> Dict[str, Any]:
    """The dict of summary.json: keys SUMMARY_KEYS, in that order."""
    return build_insights(events, since, until, handoffs).summary
