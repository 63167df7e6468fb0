"""Delivery of stored hand-off requests to the staff's Slack channel (an outbox).

A request is stored first (status "pending"), then delivered by `Outbox.deliver`:
1. claim it in the database (status "sending", a lease, attempt counter + 1; the claim is
   atomic, so the action server's loop, the operator command and several workers never
   send the same request together);
2. if an earlier attempt may have reached Slack (timeout, crash after posting), look for
   the message's delivery token in the channel history first, and only post when absent;
3. post it; on success mark it "delivered" with the Slack ts; on failure put it back to
   "pending" with the next attempt time (exponential back-off, and never sooner than a
   Retry-After of Slack's that the call could not wait) and the error.
A request is never deleted by delivery: while Slack is down it stays pending ("never
lost"), and it is posted once ("never twice") except in one case Slack gives us no way to
rule out: the history check itself impossible (missing scope), where we post anyway.

"Never twice" rests on three rules:
- the lease outlives the attempt: it is derived from the Slack deadlines (history check +
  post, `RetryPolicy.lease_seconds`), and the attempt is cut at `attempt_budget_seconds`,
  shorter than the lease, so no second deliverer can claim a request whose post is still
  in flight;
- the writes that close an attempt (`mark_delivered`, `release`) are fenced with the
  attempt number: a late attempt cannot overwrite a newer one;
- the history check reads every page of the channel history (Slack's cursor).
A refusal that retrying cannot fix (invalid_auth, channel_not_found...) suspends delivery:
the request goes back to pending, the round stops, and the outcome BLOCKED is reported
(ERROR log line; `actions.ops.deliver_handoffs` exits with 3), instead of retrying for ever.

Settings: HANDOFF_RETRY_BASE_SECONDS (first retry delay, doubled each attempt) and
HANDOFF_RETRY_MAX_SECONDS (longest delay between attempts), in common/settings.py.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Final, Mapping, Optional

from actions.db.errors import RepositoryError
from actions.handoff.message import notification_blocks, notification_metadata, notification_text
from actions.handoff.models import HandoffRequest
from actions.handoff.repository import HandoffRepositoryFactory
from actions.handoff.slack_api import SlackDeliveryError, SlackPoster
from common import settings

logger = logging.getLogger(__name__)

DELIVERED: Final[str] = "delivered"
FAILED: Final[str] = "failed"
NOT_CLAIMED: Final[str] = "not_claimed"  # delivered already, not due yet, or being sent
NO_SLACK: Final[str] = "no_slack"  # SLACK_TOKEN / SLACK_STAFF_CHANNEL not configured
DB_ERROR: Final[str] = "db_error"
BLOCKED: Final[str] = "blocked"  # Slack refuses for good: configuration to fix
SUPERSEDED: Final[str] = "superseded"  # a later attempt holds the request now
HISTORY_MARGIN_SECONDS: Final[float] = 120.0
ATTEMPT_CALLS: Final[int] = 2  # one attempt: the history check, then the post
MAX_RETRY_AFTER_SECONDS: Final[float] = 86400.0  # a Retry-After beyond a day is not believed


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30.0
    max_seconds: float = 900.0
    # Deadline of one Slack call (the post, or the whole paginated history check).
    slack_timeout_seconds: float = settings.HANDOFF_SLACK_TIMEOUT_SECONDS.default
    # What the lease keeps beyond the attempt budget: the database write that closes the
    # attempt (DB_TIMEOUT_SECONDS) and clock differences between deliverers.
    margin_seconds: float = 30.0

    @property
    def attempt_budget_seconds(self) -> float:
        """The longest a delivery attempt may take (it is cut there)."""
        return ATTEMPT_CALLS * self.slack_timeout_seconds + self.margin_seconds / 3

    @property
    def lease_seconds(self) -> float:
        """The claim lease, derived from the deadlines: always longer than an attempt."""
        return ATTEMPT_CALLS * self.slack_timeout_seconds + self.margin_seconds

    @classmethod
    def from_env(
        cls,
        slack_timeout_seconds: float = settings.HANDOFF_SLACK_TIMEOUT_SECONDS.default,
        env: Optional[Mapping[str, str]] = None,
    ) -> "RetryPolicy":
        base = settings.HANDOFF_RETRY_BASE_SECONDS.read(env)
        longest = max(base, settings.HANDOFF_RETRY_MAX_SECONDS.read(env))
        return cls(base, longest, slack_timeout_seconds)

    def delay(self, attempts: int) -> float:
        return min(self.max_seconds, self.base_seconds * (2 ** max(0, attempts - 1)))


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    db_error: bool = False
    blocked: Optional[str] = None  # Slack's permanent refusal, when delivery is suspended


class Outbox:
    def __init__(
        self,
        repositories: HandoffRepositoryFactory,
        poster: Optional[SlackPoster],
        policy: RetryPolicy = RetryPolicy(),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repositories = repositories
        self.poster = poster
        self.policy = policy
        self.clock = clock
        self.blocked: Optional[str] = None  # the last permanent refusal, for the report

    async def deliver(self, request_id: int) -> str:
        """One delivery attempt of one request; returns what happened (constants above)."""
        if self.poster is None:
            return NO_SLACK
        now = self.clock()
        try:
            async with self.repositories() as repo:
                claim = await repo.claim(request_id, now, self.policy.lease_seconds)
        except RepositoryError as error:
            logger.error("hand-off %s: cannot claim for delivery: %s", request_id, error)
            return DB_ERROR
        if claim is None:
            return NOT_CLAIMED
        record = claim.record
        attempt = record.delivery_attempts
        uncertain = claim.earlier_attempt_uncertain
        try:
            slack_ts, uncertain = await asyncio.wait_for(
                self._send(record, uncertain), timeout=self.policy.attempt_budget_seconds
            )
        except asyncio.TimeoutError:
            cut = SlackDeliveryError("attempt cut at its budget (lease safety)", ambiguous=True)
            return await self._failed(record, attempt, cut, uncertain=True)
        except SlackDeliveryError as error:
            return await self._failed(record, attempt, error, uncertain)
        try:
            async with self.repositories() as repo:
                recorded = await repo.mark_delivered(
                    record.id, slack_ts or "", self.clock(), attempt=attempt
                )
        except RepositoryError as error:
            # Posted but not recorded: maybe_posted stays true, so the next attempt finds
            # the message in the channel history instead of posting it again.
            logger.error("hand-off %s: posted but not recorded as delivered: %s", record.id, error)
            return DB_ERROR
        if not recorded:
            # Our lease ran out and a later attempt holds the request: it will find this
            # message in the history (maybe_posted) rather than post it again.
            logger.warning(
                "hand-off %s: attempt %d posted but was superseded; left to the later attempt",
                record.id,
                attempt,
            )
            return SUPERSEDED
        logger.info("hand-off %s delivered to Slack (attempt %d)", record.id, attempt)
        return DELIVERED

    async def _send(self, record: HandoffRequest, uncertain: bool) -> tuple[Optional[str], bool]:
        """History check when an earlier attempt may have arrived, then the post if needed."""
        assert self.poster is not None
        slack_ts: Optional[str] = None
        if uncertain:
            slack_ts = await self._find_earlier_post(record)
            if slack_ts is None:
                uncertain = False  # looked: the earlier attempt did not arrive
        if slack_ts is None:
            slack_ts = await self.poster.post(
                notification_text(record), notification_blocks(record), notification_metadata(record)
            )
        return slack_ts, uncertain

    async def _failed(
        self, record: HandoffRequest, attempt: int, error: SlackDeliveryError, uncertain: bool
    ) -> str:
        """Put the request back to pending (fenced) for a later attempt; say what happened."""
        maybe_posted = uncertain or error.ambiguous
        if error.permanent:
            retry_at = self.clock() + timedelta(seconds=self.policy.max_seconds)
            self.blocked = str(error)
            logger.error(
                "hand-off %s: Slack refuses for good (%s): delivery suspended, the request stays "
                "stored; fix SLACK_TOKEN, SLACK_STAFF_CHANNEL or the app's scopes, then restart "
                "the action server or run actions.ops.deliver_handoffs",
                record.id,
                error,
            )
        else:
            delay = self.policy.delay(attempt)
            if error.retry_after is not None:  # Slack's Retry-After: never sooner
                delay = max(delay, min(error.retry_after, MAX_RETRY_AFTER_SECONDS))
            retry_at = self.clock() + timedelta(seconds=delay)
            logger.warning(
                "hand-off %s: delivery attempt %d failed (%s); next attempt at %s",
                record.id,
                attempt,
                error,
                retry_at.isoformat(timespec="seconds"),
            )
        try:
            async with self.repositories() as repo:
                released = await repo.release(
                    record.id, str(error), retry_at, maybe_posted=maybe_posted, attempt=attempt
                )
            if not released:
                logger.warning("hand-off %s: attempt %d superseded before release", record.id, attempt)
        except RepositoryError as db_error:
            # The lease will expire and the request will be retried (history check first).
            logger.error("hand-off %s: cannot record the failure: %s", record.id, db_error)
        return BLOCKED if error.permanent else FAILED

    async def _find_earlier_post(self, record: HandoffRequest) -> Optional[str]:
        assert self.poster is not None
        started = record.first_attempt_at or record.created_at
        oldest = started.timestamp() - HISTORY_MARGIN_SECONDS
        try:
            return await self.poster.find_posted(record.delivery_token, oldest)
        except SlackDeliveryError as error:
            if not error.refused:
                raise  # Slack unreachable: try again later, still uncertain
            # Slack answered but refuses the history (e.g. missing_scope): we cannot know;
            # posting again risks a duplicate, not posting risks losing the request.
            logger.warning(
                "hand-off %s: cannot check the channel history (%s); posting again", record.id, error
            )
            return None

    async def deliver_due(self, limit: int = 20) -> DeliveryReport:
        """Every request due for an attempt now (pending, or whose lease expired)."""
        report = DeliveryReport()
        if self.poster is None:
            return report
        try:
            async with self.repositories() as repo:
                due = await repo.due_for_delivery(self.clock(), limit)
        except RepositoryError as error:
            logger.error("hand-off delivery: cannot read pending requests: %s", error)
            report.db_error = True
            return report
        for request_id in due:
            outcome = await self.deliver(request_id)
            if outcome == BLOCKED:
                report.failed.append(request_id)
                report.blocked = self.blocked
                break  # the same refusal awaits every other request: stop asking Slack
            if outcome == DELIVERED:
                report.delivered.append(request_id)
            elif outcome == FAILED:
                report.failed.append(request_id)
            elif outcome == DB_ERROR:
                report.db_error = True
                report.failed.append(request_id)
            else:
                report.skipped.append(request_id)
        return report
