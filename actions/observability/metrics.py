"""The action server's metrics: actions run, their errors and latency, the outbox backlog.

`ActionExecutor.run` (rasa-sdk 3.6.2, one call per action request) is wrapped once: a
counter, a clock read and a histogram observation per action, no I/O. The backlog (hand-off
requests not yet delivered to Slack) is read at scrape time, under a short deadline: when
the database does not answer, `handoff_outbox_read_ok` is 0 and the backlog is left out.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from typing import Any, Callable, Iterable, Optional

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from actions.observability.multiprocess import ENV_NAME

BACKLOG_DEADLINE_SECONDS = 1.0
UNKNOWN_ACTION = "unknown"

ACTIONS_RUN = Counter("actions_run", "Actions run by the action server, by name.", ["action"])
ACTION_ERRORS = Counter(
    "actions_errors",
    "Action requests that failed, by name and kind (rejected: a form's validation refused; "
    "not_found: no such action; exception: the action raised).",
    ["action", "kind"],
)
ACTION_LATENCY = Histogram(
    "actions_latency_seconds",
    "Time to run one action, by name.",
    ["action"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def error_kind(error: BaseException) -> str:
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

    if isinstance(error, ActionExecutionRejection):
        return "rejected"
    if isinstance(error, ActionNotFoundException):
        return "not_found"
    return "exception"


def _measured(stock: Callable[..., Any]) -> Callable[..., Any]:
    async def run(self: Any, action_call: Any) -> Any:
        name = action_call.get("next_action") if isinstance(action_call, dict) else None
        label = name if name in getattr(self, "actions", {}) else UNKNOWN_ACTION
        started = time.perf_counter()
        try:
            return await stock(self, action_call)
        except Exception as error:
            ACTION_ERRORS.labels(action=label, kind=error_kind(error)).inc()
            raise
        finally:
            if name:
                ACTIONS_RUN.labels(action=label).inc()
                ACTION_LATENCY.labels(action=label).observe(time.perf_counter() - started)

    return run


@functools.cache
def instrument_executor() -> None:
    """Wrap rasa-sdk's ActionExecutor.run (once per process: functools.cache)."""
    from rasa_sdk.executor import ActionExecutor

    ActionExecutor.run = _measured(ActionExecutor.run)


async def count_backlog() -> int:
    """Hand-off requests not yet delivered (pending, or being sent)."""
    from sqlalchemy import func, select

    from actions.db.engine import shared_engine
    from actions.handoff.models import HandoffRequest

    statement = (
        select(func.count()).select_from(HandoffRequest).where(HandoffRequest.delivery_status != "delivered")
    )
    async with shared_engine().connect() as connection:
        return int((await connection.execute(statement)).scalar_one())


async def read_backlog(
    count: Callable[[], Any] = count_backlog, deadline: float = BACKLOG_DEADLINE_SECONDS
) -> Optional[int]:
    """The backlog, or None when the database does not answer within the deadline."""
    try:
        return int(await asyncio.wait_for(count(), timeout=deadline))
    except Exception:  # includes the timeout: a scrape never fails for the database
        return None


class _Fixed:
    """A collector of metric families computed just before the scrape."""

    def __init__(self, families: Iterable[Metric]):
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


def backlog_families(backlog: Optional[int]) -> list[Metric]:
    read_ok = GaugeMetricFamily(
        "handoff_outbox_read_ok", "1 when the last scrape could read the hand-off outbox, else 0."
    )
    read_ok.add_metric([], 0 if backlog is None else 1)
    families: list[Metric] = [read_ok]
    if backlog is not None:
        pending = GaugeMetricFamily(
            "handoff_outbox_pending", "Hand-off requests not yet delivered to the staff channel."
        )
        pending.add_metric([], backlog)
        families.append(pending)
    return families


def worker_registry() -> CollectorRegistry:
    """Every worker's counts in multiprocess mode; this process's registry otherwise."""
    if not os.environ.get(ENV_NAME):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def render(backlog: Optional[int]) -> bytes:
    """The /metrics body: the action metrics of all workers, then the backlog."""
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_Fixed(backlog_families(backlog)))
    return generate_latest(worker_registry()) + generate_latest(extra)
