"""The action server's background delivery loop for hand-off requests.

One asyncio task per action-server process re-tries the requests still pending (Slack
down, timeout...) every HANDOFF_DELIVERY_INTERVAL_SECONDS (default 30 s), and at once when
a new request is stored (`wake`). It starts with the action server (a Sanic
"after_server_start" listener attached to the `rasa_sdk` app when this module is imported
by the action server) and, as a safety net, on the first hand-off action call.
Set HANDOFF_DELIVERY_LOOP=off to rely on `python -m bot.ops.deliver_handoffs` only.

Without SLACK_TOKEN or SLACK_STAFF_CHANNEL there is nothing to deliver to: requests stay
stored as pending, and the loop is not started (said once in the log). When Slack refuses
for good (invalid_auth, channel_not_found...: see outbox.py), the loop stops and delivery
stays suspended until the action server restarts with a fixed configuration (ERROR log).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Callable, Optional

from actions.db.handoff_repository import default_handoff_repository_factory
from actions.handoff.outbox import Outbox, RetryPolicy
from actions.handoff.slack_api import AiohttpSlackPoster, SlackConfig

logger = logging.getLogger(__name__)
DEFAULT_INTERVAL_SECONDS = 30.0


def interval_from_env() -> float:
    try:
        value = float(os.environ.get("HANDOFF_DELIVERY_INTERVAL_SECONDS", "") or DEFAULT_INTERVAL_SECONDS)
    except ValueError:
        return DEFAULT_INTERVAL_SECONDS
    return value if 0.05 <= value <= 3600 else DEFAULT_INTERVAL_SECONDS


def loop_enabled() -> bool:
    return os.environ.get("HANDOFF_DELIVERY_LOOP", "on").strip().lower() not in {"off", "0", "false", "no"}


def outbox_from_env() -> Outbox:
    config = SlackConfig.from_env()
    poster = AiohttpSlackPoster(config) if config else None
    policy = RetryPolicy.from_env(config.timeout) if config else RetryPolicy.from_env()
    return Outbox(default_handoff_repository_factory, poster, policy)


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


DELIVERY_LOOP = DeliveryLoop(outbox_from_env, interval_from_env())


def _attach_to_action_server() -> None:
    """Start/stop the loop with the Rasa SDK action server, when we are inside it."""
    if not loop_enabled():
        return
    try:
        from sanic import Sanic

        app = Sanic.get_app("rasa_sdk")
    except Exception:  # not inside the action server (tests, operator command)
        return

    async def start(_app: object, _loop: object) -> None:
        DELIVERY_LOOP.ensure_started()

    async def stop(_app: object, _loop: object) -> None:
        await DELIVERY_LOOP.stop()

    app.listener(start, "after_server_start")
    app.listener(stop, "before_server_stop")


_attach_to_action_server()
