"""The action server's background delivery loop for hand-off requests.

One asyncio task per action-server process re-tries the requests still pending (Slack
down, timeout...) every HANDOFF_DELIVERY_INTERVAL_SECONDS, and at once when a new request
is stored (`wake`). It starts and stops with the action server through rasa-sdk's plugin
hook (`attach_sanic_app_extensions`, actions/handoff/plugin.py, registered by
actions/ops/action_server.py) and, as a safety net, on the first hand-off action call.
Set HANDOFF_DELIVERY_LOOP=off to rely on `python -m actions.ops.deliver_handoffs` only.

Without SLACK_TOKEN or SLACK_STAFF_CHANNEL there is nothing to deliver to: requests stay
stored as pending, and the loop is not started (said once in the log). When Slack refuses
for good (invalid_auth, channel_not_found...: see outbox.py), the loop stops and delivery
stays suspended until the action server restarts with a fixed configuration (ERROR log).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable, Optional

from actions.handoff.outbox import Outbox, RetryPolicy
from actions.handoff.repository import HandoffRepositoryFactory, default_handoff_repository_factory
from actions.handoff.slack_api import SlackConfig, SlackWebPoster
from common import settings

logger = logging.getLogger(__name__)


def outbox_from_env(repositories: HandoffRepositoryFactory = default_handoff_repository_factory) -> Outbox:
    """The outbox the settings describe (no Slack poster without SLACK_TOKEN and SLACK_STAFF_CHANNEL)."""
    config = SlackConfig.from_env()
    poster = SlackWebPoster(config) if config else None
    policy = RetryPolicy.from_env(config.timeout) if config else RetryPolicy.from_env()
    return Outbox(repositories, poster, policy)


class DeliveryLoop:
    def __init__(self, outbox_factory: Callable[[], Outbox], interval: float) -> None:
        self._outbox_factory = outbox_factory
        self._outbox: Optional[Outbox] = None
        self.interval = interval
        self._task: Optional["asyncio.Task[None]"] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._wake: Optional[asyncio.Event] = None
        self._warned = False
        self.suspended: Optional[str] = None  # Slack's permanent refusal, once seen

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = self._outbox_factory()
        return self._outbox

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def ensure_started(self) -> bool:
        """Starts the loop in the running event loop if needed; True when it runs."""
        loop = asyncio.get_running_loop()
        if self.running and self._loop is loop:
            return True
        if self.suspended is not None:
            logger.error("hand-off delivery suspended (Slack refused: %s); requests stay stored", self.suspended)
            return False
        if self.outbox.poster is None:
            if not self._warned:
                logger.warning(
                    "hand-off: SLACK_TOKEN or SLACK_STAFF_CHANNEL unset; requests are stored "
                    "and stay pending until Slack is configured"
                )
                self._warned = True
            return False
        self._loop = loop
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._run(), name="handoff-delivery")
        logger.info("hand-off delivery loop started (every %g s)", self.interval)
        return True

    def wake(self) -> None:
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self._task = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                report = await self.outbox.deliver_due()
                if report.blocked is not None:
                    self.suspended = report.blocked
                    logger.error(
                        "hand-off delivery loop stopped: Slack refuses for good (%s); %d request(s) "
                        "delivered this round, the others stay stored until the configuration is fixed",
                        report.blocked,
                        len(report.delivered),
                    )
                    return
                if report.delivered or report.failed:
                    logger.info(
                        "hand-off delivery: %d delivered, %d still pending",
                        len(report.delivered),
                        len(report.failed),
                    )
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must survive anything
                logger.exception("hand-off delivery round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()


DELIVERY_LOOP = DeliveryLoop(outbox_from_env, settings.HANDOFF_DELIVERY_INTERVAL_SECONDS.read())
