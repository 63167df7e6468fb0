"""SQLAlchemy 2 typed ORM for hand-off requests (questions passed on to the contact point).

Same declarative Base as the knowledge base (actions/db/base.py); schema created by the
Alembic revision 0002_handoff_requests. Times are timezone-aware UTC.

One row per request the user explicitly agreed to store. The delivery to the staff's Slack
channel is an outbox: `delivery_status` goes pending -> sending (claimed, with a lease)
-> delivered; `maybe_posted` is true while an attempt may have reached Slack without us
knowing, so that the next attempt looks for the message before posting it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Optional

from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from actions.db.base import Base

DELIVERY_STATUSES: Final[tuple[str, ...]] = ("pending", "sending", "delivered")


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"
    __table_args__ = (
        CheckConstraint(
            "delivery_status IN ('pending', 'sending', 'delivered')", name="delivery_status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(150))
    email: Mapped[str] = mapped_column(String(254))
    question: Mapped[str] = mapped_column(Text)
    source_channel: Mapped[Optional[str]] = mapped_column(String(32))  # rest | socketio | slack...
    conversation_id: Mapped[Optional[str]] = mapped_column(String(128))
    # Idempotency key of one submission (drawn when the form starts, revision 0003): a
    # submit retried after its commit finds the stored row instead of adding a second one.
    submission_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)

    delivery_status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    delivery_token: Mapped[str] = mapped_column(String(32), unique=True)
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    first_attempt_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    maybe_posted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[Optional[str]] = mapped_column(String(500))
    slack_ts: Mapped[Optional[str]] = mapped_column(String(32))
    delivered_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    handled_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), index=True)
    handled_by: Mapped[Optional[str]] = mapped_column(String(64))  # Slack user id
