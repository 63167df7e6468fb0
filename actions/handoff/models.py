"""The hand-off request, declared once: table, constructor and the record actions read.

One row per request the user explicitly agreed to store (Alembic revisions 0002 and 0003;
same declarative Base as the knowledge base). `HandoffRequest(name, organisation, email,
question, source_channel, conversation_id, submission_key)` is a new request; the
repository fills the rest and hands rows back detached. Times are timezone-aware UTC
(SQLite's naive datetimes are read back as UTC).

The delivery to the staff's Slack channel is an outbox: `delivery_status` goes pending ->
sending (claimed, with a lease) -> delivered; `maybe_posted` is true while an attempt may
have reached Slack without us knowing, so that the next attempt looks for the message
before posting it again.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Final, Optional

from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, MappedAsDataclass, mapped_column
from sqlalchemy.types import TypeDecorator

from actions.db.base import Base

DELIVERY_STATUSES: Final[tuple[str, ...]] = ("pending", "sending", "delivered")


def utc(moment: Optional[datetime]) -> Optional[datetime]:
    """Timezone-aware UTC (SQLite gives naive datetimes back)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """DateTime(timezone=True) that always reads back timezone-aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Optional[Any], dialect: Dialect) -> Optional[datetime]:
        return utc(value)


class HandoffRequest(MappedAsDataclass, Base):
    __tablename__ = "handoff_requests"
    __table_args__ = (
        CheckConstraint(
            "delivery_status IN ('pending', 'sending', 'delivered')", name="delivery_status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, init=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True, init=False)
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime, init=False)
    name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(150))
    email: Mapped[str] = mapped_column(String(254))
    question: Mapped[str] = mapped_column(Text)
    source_channel: Mapped[Optional[str]] = mapped_column(String(32), default=None)  # rest | socketio | slack...
    conversation_id: Mapped[Optional[str]] = mapped_column(String(128), default=None)
    # Idempotency key of one submission (drawn when the form starts, revision 0003): a
    # submit retried after its commit finds the stored row instead of adding a second one.
    submission_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True, default=None)

    delivery_status: Mapped[str] = mapped_column(String(16), index=True, default="pending", init=False)
    delivery_token: Mapped[str] = mapped_column(String(32), unique=True, init=False)
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0, init=False)
    next_attempt_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime, default=None, init=False)
    lease_until: Mapped[Optional[datetime]] = mapped_column(UtcDateTime, default=None, init=False)
    first_attempt_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime, default=None, init=False)
    maybe_posted: Mapped[bool] = mapped_column(Boolean, default=False, init=False)
    last_error: Mapped[Optional[str]] = mapped_column(String(500), default=None, init=False)
    slack_ts: Mapped[Optional[str]] = mapped_column(String(32), default=None, init=False)
    delivered_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime, default=None, init=False)

    handled_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime, index=True, default=None, init=False)
    handled_by: Mapped[Optional[str]] = mapped_column(String(64), default=None, init=False)  # Slack user id

    @property
    def is_delivered(self) -> bool:
        return self.delivery_status == "delivered"

    @property
    def is_handled(self) -> bool:
        return self.handled_at is not None
