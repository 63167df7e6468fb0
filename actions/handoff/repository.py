"""Storage of hand-off requests: SqlHandoffRepository over one AsyncSession, and its factory.

Same conventions as the knowledge base: one repository per unit of work (one session);
every call has a deadline (DB_TIMEOUT_SECONDS, actions/db/deadline.py), only uses bound
parameters and commits its own short transaction; failures raise RepositoryUnavailable /
RepositoryTimeout. Rows come back as detached `HandoffRequest`s. Actions receive a
*factory*: a zero-argument callable returning an async context manager that yields a
repository. Tests run it on SQLite; the integration tests on PostgreSQL too.

Delivery to Slack is an outbox (see actions/handoff/outbox.py). `claim` is atomic: an
UPDATE guarded by the attempt counter read just before, so two deliverers (the action
server's loop and `python -m actions.ops.deliver_handoffs`, or two workers) never both get
the same request. The two writes that close an attempt, `mark_delivered` and `release`, are
fenced by the same counter: they apply only while the row is still "sending" under that
attempt, so an attempt whose lease expired and was claimed again cannot overwrite the newer
attempt's state (they return False, and change nothing).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, AsyncContextManager, Awaitable, Callable, Optional, TypeVar, cast

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from actions.db import engine as engine_mod
from actions.db.deadline import run_with_deadline
from actions.db.errors import RepositoryError
from actions.handoff.models import HandoffRequest

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ERROR_CHARS = 500
Row = HandoffRequest


@dataclass(frozen=True)
class Claim:
    """A request reserved for one delivery attempt."""

    record: HandoffRequest
    # An earlier attempt may have reached Slack (timeout, crash): look before posting.
    earlier_attempt_uncertain: bool


@dataclass(frozen=True)
class RecentCounts:
    """Requests stored since a moment, for one conversation and for one e-mail address."""

    conversation: int
    email: int


@dataclass(frozen=True)
class HandledResult:
    status: str  # handled | already | missing
    record: Optional[HandoffRequest]


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Pending and due, or sending with an expired lease."""
    return or_(
        and_(Row.delivery_status == "pending", or_(Row.next_attempt_at.is_(None), Row.next_attempt_at <= now)),
        and_(Row.delivery_status == "sending", or_(Row.lease_until.is_(None), Row.lease_until < now)),
    )


def _same_email(email: str) -> ColumnElement[bool]:
    return func.lower(Row.email) == email.strip().lower()


def _held(request_id: int, attempt: int) -> ColumnElement[bool]:
    """The fence: the row is still "sending" under this attempt (no later claim took it)."""
    return and_(Row.id == request_id, Row.delivery_status == "sending", Row.delivery_attempts == attempt)


class SqlHandoffRepository:
    """Hand-off requests over one AsyncSession. Not shareable between requests."""

    def __init__(self, session: AsyncSession, timeout: Optional[float] = None):
        self._session = session
        self._timeout = timeout if timeout is not None else engine_mod.db_timeout_seconds()

    async def _run(self, operation: str, work: Callable[[], Awaitable[T]]) -> T:
        """`work` then commit, under the deadline; rolled back when it fails."""

        async def unit() -> T:
            result = await work()
            await self._session.commit()
            return result

        try:
            return await run_with_deadline(self._session, self._timeout, operation, unit())
        except RepositoryError:
            await self._rollback()
            raise

    async def _rollback(self) -> None:
        try:
            await asyncio.wait_for(self._session.rollback(), timeout=1.0)
        except Exception:  # the connection may be gone; the real error matters more
            logger.debug("rollback failed", exc_info=True)

    async def _rows(self, stmt: Select[tuple[HandoffRequest]]) -> list[HandoffRequest]:
        """Rows detached at once: each read is a snapshot that later writes leave unchanged."""
        rows = list((await self._session.execute(stmt)).scalars().all())
        for row in rows:
            self._session.expunge(row)
        return rows

    async def _first(self, stmt: Select[tuple[HandoffRequest]]) -> Optional[HandoffRequest]:
        rows = await self._rows(stmt.limit(1))
        return rows[0] if rows else None

    async def _count(self, condition: Any) -> int:
        stmt = select(func.count()).select_from(Row).where(condition)
        return int((await self._session.execute(stmt)).scalar_one())

    async def _update(self, condition: Any, **values: Any) -> bool:
        """One UPDATE; True when it changed exactly one row."""
        stmt = update(Row).where(condition).values(**values).execution_options(synchronize_session=False)
        result = cast(CursorResult[Any], await self._session.execute(stmt))
        return result.rowcount == 1

    async def _load(self, request_id: int) -> Optional[HandoffRequest]:
        return await self._first(select(Row).where(Row.id == request_id))

    async def _by_key(self, submission_key: Optional[str]) -> Optional[HandoffRequest]:
        if not submission_key:
            return None
        return await self._first(select(Row).where(Row.submission_key == submission_key))

    async def find_submission(self, submission_key: str) -> Optional[HandoffRequest]:
        return await self._run("find_handoff_submission", lambda: self._by_key(submission_key))

    async def find_same_request(self, new: HandoffRequest, since: datetime) -> Optional[HandoffRequest]:
        """The latest request of this conversation with the same e-mail and question, since `since`.

        A visitor whose confirmation was lost (the action server died after the commit) and
        who asks again gets the request already stored, not a second one.
        """

        async def work() -> Optional[HandoffRequest]:
            if not new.conversation_id:
                return None
            return await self._first(
                select(Row)
                .where(
                    Row.conversation_id == new.conversation_id,
                    Row.created_at >= since,
                    _same_email(new.email),
                    Row.question == new.question,
                )
                .order_by(Row.id.desc())
            )

        return await self._run("find_same_handoff", work)

    async def count_recent(self, conversation_id: Optional[str], email: str, since: datetime) -> RecentCounts:
        async def work() -> RecentCounts:
            recent = Row.created_at >= since
            by_conversation = (
                await self._count(and_(recent, Row.conversation_id == conversation_id)) if conversation_id else 0
            )
            return RecentCounts(by_conversation, await self._count(and_(recent, _same_email(email))))

        return await self._run("count_recent_handoffs", work)

    async def create(self, new: HandoffRequest, now: datetime) -> HandoffRequest:
        """Stores a new request (pending, due now); the stored one when its submission key exists."""

        async def work() -> HandoffRequest:
            existing = await self._by_key(new.submission_key)
            if existing is not None:
                logger.info("hand-off %s: submission already stored, not stored again", existing.id)
                return existing
            row = replace(new)  # the caller's object stays a transient value
            row.created_at = row.consent_at = row.next_attempt_at = now
            row.delivery_status, row.delivery_token = "pending", uuid.uuid4().hex
            row.delivery_attempts, row.maybe_posted = 0, False
            self._session.add(row)
            try:
                await self._session.flush()
            except IntegrityError:
                # The same submission committed in between (a concurrent retry): the unique
                # constraint refused the second row; hand back the first one.
                await self._session.rollback()
                existing = await self._by_key(new.submission_key)
                if existing is None:
                    raise
                logger.info("hand-off %s: concurrent retry of a stored submission", existing.id)
                return existing
            self._session.expunge(row)
            return row

        return await self._run("create_handoff", work)

    async def get(self, request_id: int) -> Optional[HandoffRequest]:
        return await self._run("get_handoff", lambda: self._load(request_id))

    async def due_for_delivery(self, now: datetime, limit: int = 20) -> list[int]:
        async def work() -> list[int]:
            stmt = select(Row.id).where(_claimable(now)).order_by(Row.id).limit(limit)
            return list((await self._session.execute(stmt)).scalars().all())

        return await self._run("due_handoffs", work)

    async def claim(self, request_id: int, now: datetime, lease_seconds: float) -> Optional[Claim]:
        async def work() -> Optional[Claim]:
            current = await self._first(select(Row).where(Row.id == request_id, _claimable(now)))
            if current is None:
                return None
            claimed = await self._update(
                and_(
                    Row.id == request_id,
                    Row.delivery_status == current.delivery_status,
                    Row.delivery_attempts == current.delivery_attempts,
                ),
                delivery_status="sending",
                lease_until=now + timedelta(seconds=lease_seconds),
                delivery_attempts=current.delivery_attempts + 1,
                first_attempt_at=current.first_attempt_at or now,
                maybe_posted=True,
            )
            if not claimed:  # someone else claimed it in between
                await self._session.rollback()
                return None
            uncertain = current.maybe_posted
            await self._session.commit()
            record = await self._load(request_id)
            assert record is not None
            return Claim(record, earlier_attempt_uncertain=uncertain)

        return await self._run("claim_handoff", work)

    async def mark_delivered(self, request_id: int, slack_ts: str, now: datetime, *, attempt: int) -> bool:
        """Delivered, if the attempt still holds the request; False when it was superseded."""
        return await self._run("mark_handoff_delivered", lambda: self._update(
            _held(request_id, attempt),
            delivery_status="delivered",
            slack_ts=slack_ts[:32] or None,
            delivered_at=now,
            lease_until=None,
            next_attempt_at=None,
            maybe_posted=False,
            last_error=None,
        ))

    async def release(
        self, request_id: int, error: str, retry_at: datetime, maybe_posted: bool, *, attempt: int
    ) -> bool:
        """Back to pending for a later attempt, if this attempt still holds the request."""
        return await self._run("release_handoff", lambda: self._update(
            _held(request_id, attempt),
            delivery_status="pending",
            lease_until=None,
            next_attempt_at=retry_at,
            maybe_posted=maybe_posted,
            last_error=error[:MAX_ERROR_CHARS],
        ))

    async def list_open(self, limit: int = 20) -> list[HandoffRequest]:
        async def work() -> list[HandoffRequest]:
            return await self._rows(
                select(Row).where(Row.handled_at.is_(None)).order_by(Row.created_at, Row.id).limit(limit)
            )

        return await self._run("list_open_handoffs", work)

    async def count_open(self) -> int:
        return await self._run("count_open_handoffs", lambda: self._count(Row.handled_at.is_(None)))

    async def mark_handled(self, request_id: int, by: str, now: datetime) -> HandledResult:
        async def work() -> HandledResult:
            handled = await self._update(
                and_(Row.id == request_id, Row.handled_at.is_(None)), handled_at=now, handled_by=by[:64]
            )
            record = await self._load(request_id)
            if record is None:
                return HandledResult("missing", None)
            return HandledResult("handled" if handled else "already", record)

        return await self._run("mark_handoff_handled", work)

    async def _delete_where(self, operation: str, condition: Any, dry_run: bool) -> int:
        async def work() -> int:
            if dry_run:
                return await self._count(condition)
            stmt = delete(Row).where(condition).execution_options(synchronize_session=False)
            result = cast(CursorResult[Any], await self._session.execute(stmt))
            return int(result.rowcount or 0)

        return await self._run(operation, work)

    async def delete_handled_before(self, cutoff: datetime, dry_run: bool = False) -> int:
        """Delete requests marked handled before `cutoff`; open ones are never deleted."""
        condition = and_(Row.handled_at.is_not(None), Row.handled_at < cutoff)
        return await self._delete_where("delete_handled_handoffs", condition, dry_run)

    async def delete_by_email(self, email: str, dry_run: bool = False) -> int:
        """Delete every request of this e-mail address, handled or not (right to erasure)."""
        return await self._delete_where("delete_handoffs_by_email", _same_email(email), dry_run)

    async def requests_of_email(self, email: str) -> list[HandoffRequest]:
        """Every request of this address (handled or not), oldest first."""

        async def work() -> list[HandoffRequest]:
            return await self._rows(select(Row).where(_same_email(email)).order_by(Row.id))

        return await self._run("handoffs_of_email", work)


HandoffRepositoryFactory = Callable[[], AsyncContextManager[SqlHandoffRepository]]


class SqlHandoffRepositoryFactory(engine_mod.UnitOfWorkFactory[SqlHandoffRepository]):
    """Units of work of SqlHandoffRepository (one session each)."""

    def __init__(self, engine: AsyncEngine, timeout: Optional[float] = None):
        super().__init__(engine, SqlHandoffRepository, timeout)


@functools.lru_cache(maxsize=1)
def _units_of(engine: AsyncEngine) -> SqlHandoffRepositoryFactory:
    return SqlHandoffRepositoryFactory(engine)


def default_handoff_repository_factory() -> AsyncContextManager[SqlHandoffRepository]:
    """Unit of work on the hand-off requests (DATABASE_URL; the engine is shared by the action server)."""
    return _units_of(engine_mod.shared_engine())()
