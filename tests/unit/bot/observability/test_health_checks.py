"""bot/observability/health.py: the checks' deadline, their results, the answer's status."""

from __future__ import annotations

import asyncio

from bot.observability import health


async def test_all_answering_is_200_and_names_each_check() -> None:
    async def ok() -> str:
        return "ok"

    async def memory() -> str:
        return "in-memory"

    results = await health.run_checks({"tracker_store": ok, "lock_store": memory})
    assert health.report(results) == (
        200, {"status": "ok", "checks": {"tracker_store": "ok", "lock_store": "in-memory"}}
    )


async def test_a_slow_check_times_out_and_the_others_still_answer() -> None:
    async def slow() -> str:
        await asyncio.sleep(5)
        return "ok"

    async def ok() -> str:
        return "ok"

    started = asyncio.get_running_loop().time()
    results = await health.run_checks({"action_server": slow, "lock_store": ok}, deadline=0.2)
    assert asyncio.get_running_loop().time() - started < 1.0
    status, body = health.report(results)
    assert status == 503 and body["failed"] == ["action_server"]
    assert body["checks"] == {"action_server": "timeout", "lock_store": "ok"}


async def test_an_error_shows_its_class_never_its_message() -> None:
    async def failing() -> str:
        raise ConnectionRefusedError("postgresql://urbact:s3cret@db:5432/urbact refused")

    status, body = health.report(await health.run_checks({"tracker_store": failing}))
    assert status == 503 and body["checks"]["tracker_store"] == "error: ConnectionRefusedError"
    assert "s3cret" not in str(body)


async def test_no_agent_yet_is_503() -> None:
    assert await health.health(None) == (
        503, {"status": "error", "failed": ["agent"], "checks": {"agent": "not-loaded"}}
    )


def test_the_action_server_health_url_comes_from_the_webhook_url() -> None:
    url = health.action_server_health_url
    assert url("http://127.0.0.1:5055/webhook") == "http://127.0.0.1:5055/health"
    assert url("http://127.0.0.1:5055/webhook/") == "http://127.0.0.1:5055/health"
    assert url("https://actions.example/prefix/webhook?x=1") == "https://actions.example/prefix/health"


def test_rasa_wrappers_are_looked_through() -> None:
    class Inner:
        pass

    class Wrapper:
        def __init__(self, inner: object) -> None:
            self._tracker_store = inner

    inner = Inner()
    assert health.innermost_tracker_store(Wrapper(Wrapper(inner))) is inner
    assert health.innermost_tracker_store(inner) is inner
