"""bot/observability/health.py against real stores: Rasa's SQL tracker store (PostgreSQL),
Rasa's Redis lock store and a real HTTP server standing for the action server's /health."""

from __future__ import annotations

import os
import socket
from types import SimpleNamespace
from typing import AsyncIterator

import pytest
from aiohttp import web
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.engine import make_url

from bot.observability import health

REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def action_server() -> AsyncIterator[str]:
    """A real HTTP server answering GET /health like rasa-sdk; yields its webhook URL."""
    app = web.Application()
    app.router.add_get("/health", lambda _request: web.json_response({"status": "ok"}))
    runner = web.AppRunner(app)
    await runner.setup()
    port = closed_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/webhook"
    await runner.cleanup()


def sql_store(url: str) -> SQLTrackerStore:
    parsed = make_url(url)
    return SQLTrackerStore(Domain.empty(), dialect="postgresql", host=parsed.host, port=parsed.port,
                           db=parsed.database, username=parsed.username, password=parsed.password)


def agent(tracker_store: object, lock_store: object, webhook: str) -> SimpleNamespace:
    return SimpleNamespace(tracker_store=tracker_store, lock_store=lock_store,
                           action_endpoint=SimpleNamespace(url=webhook))


async def test_everything_answering_is_200(throwaway_postgres_url: str, action_server: str) -> None:
    store = FailSafeTrackerStore(sql_store(throwaway_postgres_url))
    locks = RedisLockStore(host="127.0.0.1", port=REDIS_PORT, db=0)
    status, body = await health.health(agent(store, locks, action_server))
    assert (status, body) == (
        200, {"status": "ok", "checks": {"tracker_store": "ok", "lock_store": "ok", "action_server": "ok"}}
    )


async def test_a_dead_action_server_and_redis_are_named(action_server: str) -> None:
    dead_redis = RedisLockStore(host="127.0.0.1", port=closed_port(), db=0, password="s3cret")
    dead_actions = f"http://127.0.0.1:{closed_port()}/webhook"
    status, body = await health.health(agent(InMemoryTrackerStore(Domain.empty()), dead_redis, dead_actions))
    assert status == 503
    assert body["failed"] == ["lock_store", "action_server"]
    assert body["checks"]["tracker_store"] == "in-memory"
    assert "s3cret" not in str(body) and "127.0.0.1" not in str(body)


async def test_in_memory_stores_are_ok(action_server: str) -> None:
    status, body = await health.health(agent(InMemoryTrackerStore(Domain.empty()), InMemoryLockStore(), action_server))
    assert status == 200 and body["checks"]["lock_store"] == "in-memory"


async def test_a_tracker_store_whose_database_is_gone_is_named(throwaway_postgres_url: str, action_server: str) -> None:
    from tests.integration.bot.conftest import postgres_admin

    store = FailSafeTrackerStore(sql_store(throwaway_postgres_url))
    postgres_admin(f'DROP DATABASE "{make_url(throwaway_postgres_url).database}" WITH (FORCE)')
    status, body = await health.health(agent(store, InMemoryLockStore(), action_server))
    assert status == 503 and body["failed"] == ["tracker_store"]
    assert body["checks"]["tracker_store"].startswith("error: ")
