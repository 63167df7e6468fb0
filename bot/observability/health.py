"""GET /health of a Rasa instance: do the tracker store, the lock store and the action server
answer within a short deadline?

200 {"status": "ok", "checks": {...}} when all answer; 503 {"status": "error", "failed":
[...], "checks": {...}} naming the ones that did not. A check's result is a short word
("ok", "in-memory", "timeout", "error: ConnectionRefusedError"): never an address, a
password or an error message (those can hold a connection URL with its password).

The checks run together, each bounded by DEADLINE_SECONDS. Blocking clients (SQLAlchemy 1.4,
redis-py) run on a two-thread pool of their own: a hung database cannot take Rasa's default
executor, and further checks time out instead of piling up threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

DEADLINE_SECONDS = 2.0
OK_RESULTS = frozenset({"ok", "in-memory", "not-configured", "not-checked"})
Check = Callable[[], Awaitable[str]]

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")


async def _bounded(check: Check, deadline: float) -> str:
    try:
        return await asyncio.wait_for(check(), timeout=deadline)
    except asyncio.TimeoutError:
        return "timeout"
    except Exception as error:  # the class name only: messages may hold a URL or a password
        return f"error: {type(error).__name__}"


async def run_checks(checks: Mapping[str, Check], deadline: float = DEADLINE_SECONDS) -> Dict[str, str]:
    """Every check's result, all run at once, each within `deadline` seconds."""
    names = list(checks)
    results = await asyncio.gather(*(_bounded(checks[name], deadline) for name in names))
    return dict(zip(names, results))


def report(results: Mapping[str, str]) -> Tuple[int, Dict[str, Any]]:
    """HTTP status and JSON body for the check results."""
    failed: List[str] = [name for name, result in results.items() if result not in OK_RESULTS]
    if failed:
        return 503, {"status": "error", "failed": failed, "checks": dict(results)}
    return 200, {"status": "ok", "checks": dict(results)}


async def _in_pool(work: Callable[[], Any]) -> None:
    await asyncio.get_running_loop().run_in_executor(_pool, work)


def innermost_tracker_store(store: Any) -> Any:
    """The real store inside Rasa's wrappers (FailSafeTrackerStore, AwaitableTrackerStore)."""
    for _ in range(5):
        inner = getattr(store, "_tracker_store", None)
        if inner is None:
            break
        store = inner
    return store


def tracker_store_check(store: Any) -> Check:
    """SELECT 1 on an SQL store, PING on a Redis store; an in-memory store is always ok."""
    store = innermost_tracker_store(store)

    async def check() -> str:
        if store is None:
            return "not-configured"
        if type(store).__name__ == "InMemoryTrackerStore":
            return "in-memory"
        engine = getattr(store, "engine", None)
        if engine is not None:
            from sqlalchemy import text

            def select_one() -> None:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))

            await _in_pool(select_one)
            return "ok"
        client = getattr(store, "red", None)
        if client is not None:
            await _in_pool(client.ping)
            return "ok"
        return "not-checked"

    return check


def lock_store_check(store: Any) -> Check:
    """PING on a Redis lock store; the in-memory lock store is always ok."""

    async def check() -> str:
        client = getattr(store, "red", None)
        if client is None:
            return "in-memory" if store is not None else "not-configured"
        await _in_pool(client.ping)
        return "ok"

    return check


def action_server_health_url(webhook_url: str) -> str:
    """http://host:port/webhook -> http://host:port/health (rasa-sdk's own health route)."""
    parts = urlsplit(webhook_url)
    path = parts.path.rstrip("/")
    if path.endswith("/webhook"):
        path = path[: -len("/webhook")]
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/health", "", ""))


def action_server_check(webhook_url: Optional[str]) -> Check:
    """GET the action server's /health; any answer but 200 is a failure."""

    async def check() -> str:
        if not webhook_url:
            return "not-configured"
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.get(action_server_health_url(webhook_url)) as answer:
                return "ok" if answer.status == 200 else f"http {answer.status}"

    return check


def checks_for(agent: Any) -> Dict[str, Check]:
    """The three checks of a loaded agent."""
    endpoint = getattr(agent, "action_endpoint", None)
    return {
        "tracker_store": tracker_store_check(getattr(agent, "tracker_store", None)),
        "lock_store": lock_store_check(getattr(agent, "lock_store", None)),
        "action_server": action_server_check(getattr(endpoint, "url", None)),
    }


async def health(agent: Any, deadline: float = DEADLINE_SECONDS) -> Tuple[int, Dict[str, Any]]:
    """Status and body of GET /health; 503 when no agent is loaded yet."""
    if agent is None:
        return report({"agent": "not-loaded"})
    return report(await run_checks(checks_for(agent), deadline))
