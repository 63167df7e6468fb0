"""Storage of hand-off requests: DTOs, the HandoffRepository protocol, two implementations.

Same conventions as actions/db/repositories.py:
- SqlHandoffRepository wraps ONE AsyncSession (one unit of work); every call has a deadline
  (DB_TIMEOUT_SECONDS) and only uses bound parameters; each write commits its own short
  transaction; failures raise RepositoryUnavailable / RepositoryTimeout.
- InMemoryHandoffRepository has the same semantics, for action tests.
- Actions receive a *factory*: a zero-argument callable returning an async context manager
  that yields a HandoffRepository.

Delivery to Slack is an outbox (see actions/handoff/outbox.py). `claim` is atomic: an
UPDATE guarded by the attempt counter read just before, so two deliverers (the action
server's loop and `python -m bot.ops.deliver_handoffs`, or two workers) never both get
the same request. The two writes that close an attempt, `mark_delivered` and `release`, are
fenced by the same counter: they apply only while the row is still "sending" under that
attempt, so an attempt whose lease expired and was claimed again cannot overwrite the newer
attempt's state (they return False, and change nothing).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import (
    Any,
    AsyncContextManager,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Optional,
    Protocol,
    TypeVar,
    runtime_checkable,
)

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from actions.db import engine as engine_mod
from actions.db.handoff_models import HandoffRequest
from actions.db.errors import RepositoryError, RepositoryUnavailable
from actions.kb.repository import SqlRepository

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ERROR_CHARS = 500


def utc(moment: Optional[datetime]) -> Optional[datetime]:
    """Timezone-aware UTC (SQLite gives naive datetimes back)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# ----------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class NewHandoff:
    name: str
    organisation: str
    email: str
    question: str
    source_channel: Optional[str] = None
    conversation_id: Optional[str] = None
    # Idempotency key of this submission: a second create with the same key returns the
    # row stored by the first one (unique constraint in the database).
    submission_key: Optional[str] = None


@dataclass(frozen=True)
class HandoffRecord:
    id: int
    created_at: datetime
    consent_at: datetime
    name: str
    organisation: str
    email: str
    question: str
    source_channel: Optional[str]
    conversation_id: Optional[str]
    delivery_status: str  # pending | sending | delivered
    delivery_token: str
    delivery_attempts: int
    next_attempt_at: Optional[datetime]
    lease_until: Optional[datetime]
    first_attempt_at: Optional[datetime]
    maybe_posted: bool
    last_error: Optional[str]
    slack_ts: Optional[str]
    delivered_at: Optional[datetime]
    handled_at: Optional[datetime]
    handled_by: Optional[str]
    submission_key: Optional[str] = None

    @property
    def is_delivered(self) -> bool:
        return self.delivery_status == "delivered"

    @property
    def is_handled(self) -> bool:
        return self.handled_at is not None


@dataclass(frozen=True)
class Claim:
    """A request reserved for one delivery attempt."""

    record: HandoffRecord
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
    record: Optional[HandoffRecord]


def is_claimable(record: HandoffRecord, now: datetime) -> bool:
    if record.delivery_status == "pending":
        return record.next_attempt_at is None or utc(record.next_attempt_at) <= now  # type: ignore[operator]
    if record.delivery_status == "sending":
        return record.lease_until is None or utc(record.lease_until) < now  # type: ignore[operator]
    return False


# ----------------------------------------------------------------------------- protocol


@runtime_checkable
class HandoffRepository(Protocol):
    async def create(self, new: NewHandoff, now: datetime) -> HandoffRecord: ...

    async def find_submission(self, submission_key: str) -> Optional[HandoffRecord]: ...

    async def find_same_request(self, new: NewHandoff, since: datetime) -> Optional[HandoffRecord]: ...

    async def count_recent(
        self, conversation_id: Optional[str], email: str, since: datetime
    ) -> RecentCounts: ...

    async def get(self, request_id: int) -> Optional[HandoffRecord]: ...

    async def due_for_delivery(self, now: datetime, limit: int = 20) -> list[int]: ...

    async def claim(self, request_id: int, now: datetime, lease_seconds: float) -> Optional[Claim]: ...

    async def mark_delivered(
        self, request_id: int, slack_ts: str, now: datetime, *, attempt: int
    ) -> bool: ...

    async def release(
        self, request_id: int, error: str, retry_at: datetime, maybe_posted: bool, *, attempt: int
    ) -> bool: ...

    async def list_open(self, limit: int = 20) -> list[HandoffRecord]: ...

    async def count_open(self) -> int: ...

    async def mark_handled(self, request_id: int, by: str, now: datetime) -> HandledResult: ...

    async def delete_handled_before(self, cutoff: datetime, dry_run: bool = False) -> int: ...

    async def delete_by_email(self, email: str, dry_run: bool = False) -> int: ...

    async def requests_of_email(self, email: str) -> list["PersonRequest"]: ...


HandoffRepositoryFactory = Callable[[], AsyncContextManager[HandoffRepository]]


@dataclass(frozen=True)
class PersonRequest:
    """What erasure by person needs of one request: its Slack message and its conversation."""

    id: int
    conversation_id: Optional[str]
    slack_ts: Optional[str]


# ----------------------------------------------------------------------------- SQL


class SqlHandoffRepository:
    """HandoffRepository over one AsyncSession. Not shareable between requests."""

    def __init__(self, session: AsyncSession, timeout: Optional[float] = None):
        self._session = session
        self._timeout = timeout if timeout is not None else engine_mod.db_timeout_seconds()

    # Same deadline handling and error mapping as the knowledge base (SqlRepository):
    # RepositoryTimeout after DB_TIMEOUT_SECONDS (SQLite statements interrupted),
    # RepositoryUnavailable for database errors.
    _run_with_deadline = SqlRepository._run
    _interrupt_sqlite = SqlRepository._interrupt_sqlite

    async def _run(self, operation: str, coro: Awaitable[T]) -> T:
        try:
            return await self._run_with_deadline(operation, coro)
        except RepositoryError:
            await self._rollback()
            raise

    async def _rollback(self) -> None:
        try:
            await asyncio.wait_for(self._session.rollback(), timeout=1.0)
        except Exception:  # the connection may be gone; the real error matters more
            logger.debug("rollback failed", exc_info=True)

    @staticmethod
    def _record(row: HandoffRequest) -> HandoffRecord:
        return HandoffRecord(
            id=row.id,
            created_at=utc(row.created_at),  # type: ignore[arg-type]
            consent_at=utc(row.consent_at),  # type: ignore[arg-type]
            name=row.name,
            organisation=row.organisation,
            email=row.email,
            question=row.question,
            source_channel=row.source_channel,
            conversation_id=row.conversation_id,
            delivery_status=row.delivery_status,
            delivery_token=row.delivery_token,
            delivery_attempts=row.delivery_attempts or 0,
            next_attempt_at=utc(row.next_attempt_at),
            lease_until=utc(row.lease_until),
            first_attempt_at=utc(row.first_attempt_at),
            maybe_posted=bool(row.maybe_posted),
            last_error=row.last_error,
            slack_ts=row.slack_ts,
            delivered_at=utc(row.delivered_at),
            handled_at=utc(row.handled_at),
            handled_by=row.handled_by,
            submission_key=row.submission_key,
        )

    async def _load(self, request_id: int) -> Optional[HandoffRecord]:
        stmt = (
            select(HandoffRequest)
            .where(HandoffRequest.id == request_id)
            .execution_options(populate_existing=True)
        )
        row = (await self._session.execute(stmt)).scalar_one_or_none()
        return self._record(row) if row is not None else None

    async def _by_key(self, submission_key: str) -> Optional[HandoffRecord]:
        stmt = (
            select(HandoffRequest)
            .where(HandoffRequest.submission_key == submission_key)
            .execution_options(populate_existing=True)
        )
        row = (await self._session.execute(stmt)).scalar_one_or_none()
        return self._record(row) if row is not None else None

    async def find_submission(self, submission_key: str) -> Optional[HandoffRecord]:
        async def run() -> Optional[HandoffRecord]:
            record = await self._by_key(submission_key)
            await self._session.commit()
            return record

        return await self._run("find_handoff_submission", run())

    async def find_same_request(self, new: NewHandoff, since: datetime) -> Optional[HandoffRecord]:
        """The latest request of this conversation with the same e-mail and question, since `since`.

        A visitor whose confirmation was lost (the action server died after the commit) and
        who asks again gets the request already stored, not a second one.
        """
        async def run() -> Optional[HandoffRecord]:
            if not new.conversation_id:
                return None
            stmt = (
                select(HandoffRequest)
                .where(
                    HandoffRequest.conversation_id == new.conversation_id,
                    HandoffRequest.created_at >= since,
                    func.lower(HandoffRequest.email) == new.email.strip().lower(),
                    HandoffRequest.question == new.question,
                )
                .order_by(HandoffRequest.id.desc())
                .limit(1)
                .execution_options(populate_existing=True)
            )
            row = (await self._session.execute(stmt)).scalar_one_or_none()
            await self._session.commit()
            return self._record(row) if row is not None else None

        return await self._run("find_same_handoff", run())

    async def count_recent(
        self, conversation_id: Optional[str], email: str, since: datetime
    ) -> RecentCounts:
        async def count(condition: Any) -> int:
            stmt = select(func.count()).select_from(HandoffRequest).where(
                HandoffRequest.created_at >= since, condition
            )
            return int((await self._session.execute(stmt)).scalar_one())

        async def run() -> RecentCounts:
            by_conversation = (
                await count(HandoffRequest.conversation_id == conversation_id)
                if conversation_id
                else 0
            )
            by_email = await count(func.lower(HandoffRequest.email) == email.strip().lower())
            await self._session.commit()
            return RecentCounts(by_conversation, by_email)

        return await self._run("count_recent_handoffs", run())

    async def create(self, new: NewHandoff, now: datetime) -> HandoffRecord:
        """Store a new request; with a submission key already stored, return that row."""

        async def run() -> HandoffRecord:
            if new.submission_key:
                existing = await self._by_key(new.submission_key)
                if existing is not None:
                    await self._session.commit()
                    logger.info("hand-off %s: submission already stored, not stored again", existing.id)
                    return existing
            row = HandoffRequest(
                created_at=now,
                consent_at=now,
                name=new.name,
                organisation=new.organisation,
                email=new.email,
                question=new.question,
                source_channel=new.source_channel,
                conversation_id=new.conversation_id,
                submission_key=new.submission_key,
                delivery_status="pending",
                delivery_token=uuid.uuid4().hex,
                delivery_attempts=0,
                next_attempt_at=now,
                maybe_posted=False,
            )
            self._session.add(row)
            try:
                await self._session.commit()
            except IntegrityError:
                # The same submission committed in between (a concurrent retry): the unique
                # constraint refused the second row; hand back the first one.
                await self._session.rollback()
                existing = await self._by_key(new.submission_key) if new.submission_key else None
                await self._session.commit()
                if existing is None:
                    raise
                logger.info("hand-off %s: concurrent retry of a stored submission", existing.id)
                return existing
            return self._record(row)

        return await self._run("create_handoff", run())

    async def get(self, request_id: int) -> Optional[HandoffRecord]:
        async def run() -> Optional[HandoffRecord]:
            record = await self._load(request_id)
            await self._session.commit()
            return record

        return await self._run("get_handoff", run())

    async def due_for_delivery(self, now: datetime, limit: int = 20) -> list[int]:
        async def run() -> list[int]:
            stmt = (
                select(HandoffRequest.id)
                .where(
                    or_(
                        and_(
                            HandoffRequest.delivery_status == "pending",
                            or_(
                                HandoffRequest.next_attempt_at.is_(None),
                                HandoffRequest.next_attempt_at <= now,
                            ),
                        ),
                        and_(
                            HandoffRequest.delivery_status == "sending",
                            or_(
                                HandoffRequest.lease_until.is_(None),
                                HandoffRequest.lease_until < now,
                            ),
                        ),
                    )
                )
                .order_by(HandoffRequest.id)
                .limit(limit)
            )
            ids = list((await self._session.execute(stmt)).scalars().all())
            await self._session.commit()
            return ids

        return await self._run("due_handoffs", run())

    async def claim(self, request_id: int, now: datetime, lease_seconds: float) -> Optional[Claim]:
        async def run() -> Optional[Claim]:
            current = await self._load(request_id)
            if current is None or not is_claimable(current, now):
                await self._session.rollback()
                return None
            stmt = (
                update(HandoffRequest)
                .where(
                    HandoffRequest.id == request_id,
                    HandoffRequest.delivery_status == current.delivery_status,
                    HandoffRequest.delivery_attempts == current.delivery_attempts,
                )
                .values(
                    delivery_status="sending",
                    lease_until=now + timedelta(seconds=lease_seconds),
                    delivery_attempts=current.delivery_attempts + 1,
                    first_attempt_at=current.first_attempt_at or now,
                    maybe_posted=True,
                )
                .execution_options(synchronize_session=False)
            )
            result = await self._session.execute(stmt)
            if result.rowcount != 1:  # someone else claimed it in between
                await self._session.rollback()
                return None
            await self._session.commit()
            claimed = await self._load(request_id)
            await self._session.commit()
            assert claimed is not None
            return Claim(claimed, earlier_attempt_uncertain=current.maybe_posted)

        return await self._run("claim_handoff", run())

    def _held(self, request_id: int, attempt: int) -> Any:
        """The fence: the row is still "sending" under this attempt (no later claim took it)."""
        return and_(
            HandoffRequest.id == request_id,
            HandoffRequest.delivery_status == "sending",
            HandoffRequest.delivery_attempts == attempt,
        )

    async def mark_delivered(
        self, request_id: int, slack_ts: str, now: datetime, *, attempt: int
    ) -> bool:
        """Delivered, if the attempt still holds the request; False when it was superseded."""

        async def run() -> bool:
            result = await self._session.execute(
                update(HandoffRequest)
                .where(self._held(request_id, attempt))
                .values(
                    delivery_status="delivered",
                    slack_ts=slack_ts[:32] or None,
                    delivered_at=now,
                    lease_until=None,
                    next_attempt_at=None,
                    maybe_posted=False,
                    last_error=None,
                )
                .execution_options(synchronize_session=False)
            )
            await self._session.commit()
            return bool(result.rowcount == 1)

        return await self._run("mark_handoff_delivered", run())

    async def release(
        self, request_id: int, error: str, retry_at: datetime, maybe_posted: bool, *, attempt: int
    ) -> bool:
        """Back to pending for a later attempt, if this attempt still holds the request."""

        async def run() -> bool:
            result = await self._session.execute(
                update(HandoffRequest)
                .where(self._held(request_id, attempt))
                .values(
                    delivery_status="pending",
                    lease_until=None,
                    next_attempt_at=retry_at,
                    maybe_posted=maybe_posted,
                    last_error=error[:MAX_ERROR_CHARS],
                )
                .execution_options(synchronize_session=False)
            )
            await self._session.commit()
            return bool(result.rowcount == 1)

        return await self._run("release_handoff", run())

    def _open(self):  # type: ignore[no-untyped-def]
        return HandoffRequest.handled_at.is_(None)

    async def list_open(self, limit: int = 20) -> list[HandoffRecord]:
        async def run() -> list[HandoffRecord]:
            stmt = (
                select(HandoffRequest)
                .where(self._open())
                .order_by(HandoffRequest.created_at, HandoffRequest.id)
                .limit(limit)
                .execution_options(populate_existing=True)
            )
            rows = (await self._session.execute(stmt)).scalars().all()
            await self._session.commit()
            return [self._record(row) for row in rows]

        return await self._run("list_open_handoffs", run())

    async def count_open(self) -> int:
        async def run() -> int:
            stmt = select(func.count()).select_from(HandoffRequest).where(self._open())
            count = int((await self._session.execute(stmt)).scalar_one())
            await self._session.commit()
            return count

        return await self._run("count_open_handoffs", run())

    async def mark_handled(self, request_id: int, by: str, now: datetime) -> HandledResult:
        async def run() -> HandledResult:
            result = await self._session.execute(
                update(HandoffRequest)
                .where(HandoffRequest.id == request_id, HandoffRequest.handled_at.is_(None))
                .values(handled_at=now, handled_by=by[:64])
                .execution_options(synchronize_session=False)
            )
            await self._session.commit()
            record = await self._load(request_id)
            await self._session.commit()
            if record is None:
                return HandledResult("missing", None)
            return HandledResult("handled" if result.rowcount == 1 else "already", record)

        return await self._run("mark_handoff_handled", run())

    async def _delete_where(self, operation: str, condition: Any, dry_run: bool) -> int:
        async def run() -> int:
            if dry_run:
                stmt = select(func.count()).select_from(HandoffRequest).where(condition)
                count = int((await self._session.execute(stmt)).scalar_one())
            else:
                result = await self._session.execute(
                    delete(HandoffRequest).where(condition).execution_options(synchronize_session=False)
                )
                count = int(result.rowcount or 0)
            await self._session.commit()
            return count

        return await self._run(operation, run())

    async def delete_handled_before(self, cutoff: datetime, dry_run: bool = False) -> int:
        """Delete requests marked handled before `cutoff`; open ones are never deleted."""
        condition = and_(HandoffRequest.handled_at.is_not(None), HandoffRequest.handled_at < cutoff)
        return await self._delete_where("delete_handled_handoffs", condition, dry_run)

    async def delete_by_email(self, email: str, dry_run: bool = False) -> int:
        """Delete every request of this e-mail address, handled or not (right to erasure)."""
        condition = func.lower(HandoffRequest.email) == email.strip().lower()
        return await self._delete_where("delete_handoffs_by_email", condition, dry_run)

    async def requests_of_email(self, email: str) -> list[PersonRequest]:
        """Every request of this address (handled or not), oldest first."""

        async def run() -> list[PersonRequest]:
            stmt = (
                select(HandoffRequest.id, HandoffRequest.conversation_id, HandoffRequest.slack_ts)
                .where(func.lower(HandoffRequest.email) == email.strip().lower())
                .order_by(HandoffRequest.id)
            )
            rows = (await self._session.execute(stmt)).all()
            await self._session.commit()
            return [PersonRequest(row[0], row[1], row[2]) for row in rows]

        return await self._run("handoffs_of_email", run())


class SqlHandoffRepositoryFactory(engine_mod.UnitOfWorkFactory["HandoffRepository"]):
    """Units of work of SqlHandoffRepository (one session each)."""

    def __init__(self, engine: AsyncEngine, timeout: Optional[float] = None):
        super().__init__(engine, SqlHandoffRepository, timeout)


_default_factory: Optional[SqlHandoffRepositoryFactory] = None


def default_handoff_repository_factory() -> AsyncContextManager[HandoffRepository]:
    """Unit of work on the hand-off requests (DATABASE_URL; the engine is shared by the action server)."""
    global _default_factory
    engine = engine_mod.shared_engine()
    if _default_factory is None or _default_factory.engine is not engine:
        _default_factory = SqlHandoffRepositoryFactory(engine)
    return _default_factory()


# ----------------------------------------------------------------------------- in memory


class InMemoryHandoffStore:
    """Shared state of InMemoryHandoffRepository units of work (for tests).

    Set `available = False` to simulate a database outage (RepositoryUnavailable).
    """

    def __init__(self) -> None:
        self.rows: Dict[int, HandoffRecord] = {}
        self.available = True
        self._next_id = 1

    def __call__(self) -> AsyncContextManager[HandoffRepository]:
        return self._unit_of_work()

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[HandoffRepository]:
        yield InMemoryHandoffRepository(self)


class InMemoryHandoffRepository:
    """Same semantics as SqlHandoffRepository, in memory."""

    def __init__(self, store: InMemoryHandoffStore) -> None:
        self._store = store

    def _check(self, operation: str) -> None:
        if not self._store.available:
            raise RepositoryUnavailable(f"{operation}: in-memory store made unavailable")

    async def find_submission(self, submission_key: str) -> Optional[HandoffRecord]:
        self._check("find_handoff_submission")
        return next((r for r in self._store.rows.values() if r.submission_key == submission_key), None)

    async def find_same_request(self, new: NewHandoff, since: datetime) -> Optional[HandoffRecord]:
        self._check("find_same_handoff")
        wanted = new.email.strip().lower()
        same = [
            r for r in self._store.rows.values()
            if new.conversation_id and r.conversation_id == new.conversation_id and r.created_at >= since
            and r.email.lower() == wanted and r.question == new.question
        ]
        return max(same, key=lambda r: r.id, default=None)

    async def count_recent(
        self, conversation_id: Optional[str], email: str, since: datetime
    ) -> RecentCounts:
        self._check("count_recent_handoffs")
        recent = [r for r in self._store.rows.values() if r.created_at >= since]
        wanted = email.strip().lower()
        return RecentCounts(
            sum(1 for r in recent if conversation_id and r.conversation_id == conversation_id),
            sum(1 for r in recent if r.email.lower() == wanted),
        )

    async def create(self, new: NewHandoff, now: datetime) -> HandoffRecord:
        self._check("create_handoff")
        if new.submission_key:
            existing = await self.find_submission(new.submission_key)
            if existing is not None:
                return existing
        record = HandoffRecord(
            id=self._store._next_id,
            created_at=now,
            consent_at=now,
            name=new.name,
            organisation=new.organisation,
            email=new.email,
            question=new.question,
            source_channel=new.source_channel,
            conversation_id=new.conversation_id,
            delivery_status="pending",
            delivery_token=uuid.uuid4().hex,
            delivery_attempts=0,
            next_attempt_at=now,
            lease_until=None,
            first_attempt_at=None,
            maybe_posted=False,
            last_error=None,
            slack_ts=None,
            delivered_at=None,
            handled_at=None,
            handled_by=None,
            submission_key=new.submission_key,
        )
        self._store.rows[record.id] = record
        self._store._next_id += 1
        return record

    async def get(self, request_id: int) -> Optional[HandoffRecord]:
        self._check("get_handoff")
        return self._store.rows.get(request_id)

    async def due_for_delivery(self, now: datetime, limit: int = 20) -> list[int]:
        self._check("due_handoffs")
        return sorted(i for i, r in self._store.rows.items() if is_claimable(r, now))[:limit]

    async def claim(self, request_id: int, now: datetime, lease_seconds: float) -> Optional[Claim]:
        self._check("claim_handoff")
        current = self._store.rows.get(request_id)
        if current is None or not is_claimable(current, now):
            return None
        claimed = replace(
            current,
            delivery_status="sending",
            lease_until=now + timedelta(seconds=lease_seconds),
            delivery_attempts=current.delivery_attempts + 1,
            first_attempt_at=current.first_attempt_at or now,
            maybe_posted=True,
        )
        self._store.rows[request_id] = claimed
        return Claim(claimed, earlier_attempt_uncertain=current.maybe_posted)

    def _held(self, request_id: int, attempt: int) -> Optional[HandoffRecord]:
        current = self._store.rows.get(request_id)
        if current is None or current.delivery_status != "sending" or current.delivery_attempts != attempt:
            return None
        return current

    async def mark_delivered(
        self, request_id: int, slack_ts: str, now: datetime, *, attempt: int
    ) -> bool:
        self._check("mark_handoff_delivered")
        current = self._held(request_id, attempt)
        if current is None:
            return False
        self._store.rows[request_id] = replace(
            current,
            delivery_status="delivered",
            slack_ts=slack_ts[:32] or None,
            delivered_at=now,
            lease_until=None,
            next_attempt_at=None,
            maybe_posted=False,
            last_error=None,
        )
        return True

    async def release(
        self, request_id: int, error: str, retry_at: datetime, maybe_posted: bool, *, attempt: int
    ) -> bool:
        self._check("release_handoff")
        current = self._held(request_id, attempt)
        if current is None:
            return False
        self._store.rows[request_id] = replace(
            current,
            delivery_status="pending",
            lease_until=None,
            next_attempt_at=retry_at,
            maybe_posted=maybe_posted,
            last_error=error[:MAX_ERROR_CHARS],
        )
        return True

    async def list_open(self, limit: int = 20) -> list[HandoffRecord]:
        self._check("list_open_handoffs")
        rows = [r for r in self._store.rows.values() if not r.is_handled]
        return sorted(rows, key=lambda r: (r.created_at, r.id))[:limit]

    async def count_open(self) -> int:
        self._check("count_open_handoffs")
        return sum(1 for r in self._store.rows.values() if not r.is_handled)

    async def mark_handled(self, request_id: int, by: str, now: datetime) -> HandledResult:
        self._check("mark_handoff_handled")
        current = self._store.rows.get(request_id)
        if current is None:
            return HandledResult("missing", None)
        if current.is_handled:
            return HandledResult("already", current)
        updated = replace(current, handled_at=now, handled_by=by[:64])
        self._store.rows[request_id] = updated
        return HandledResult("handled", updated)

    def _delete(self, doomed: list[int], dry_run: bool) -> int:
        if not dry_run:
            for request_id in doomed:
                del self._store.rows[request_id]
        return len(doomed)

    async def delete_handled_before(self, cutoff: datetime, dry_run: bool = False) -> int:
        self._check("delete_handled_handoffs")
        doomed = [i for i, r in self._store.rows.items() if r.handled_at is not None and r.handled_at < cutoff]
        return self._delete(doomed, dry_run)

    async def delete_by_email(self, email: str, dry_run: bool = False) -> int:
        self._check("delete_handoffs_by_email")
        wanted = email.strip().lower()
        doomed = [i for i, r in self._store.rows.items() if r.email.lower() == wanted]
        return self._delete(doomed, dry_run)

    async def requests_of_email(self, email: str) -> list[PersonRequest]:
        self._check("handoffs_of_email")
        wanted = email.strip().lower()
        return [
            PersonRequest(i, r.conversation_id, r.slack_ts)
            for i, r in sorted(self._store.rows.items())
            if r.email.lower() == wanted
        ]
