"""actions/observability: actions counted by name, the backlog at scrape time, readiness."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Any, Dict, List

import pytest
from prometheus_client import REGISTRY
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionNotFoundException

from actions.db.engine import create_engine
from actions.observability import health, metrics, multiprocess


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Greets(Action):
    def name(self) -> str:
        return "action_observed_greets"

    async def run(self, dispatcher: Any, tracker: Any, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        dispatcher.utter_message(text="Bonjour")
        return []


class Breaks(Action):
    def name(self) -> str:
        return "action_observed_breaks"

    async def run(self, dispatcher: Any, tracker: Any, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        raise RuntimeError("broken on purpose")


def call(name: str) -> Dict[str, Any]:
    tracker = {"sender_id": "t", "slots": {}, "latest_message": {}, "events": [], "paused": False,
               "followup_action": None, "active_loop": {}, "latest_action_name": None}
    return {"next_action": name, "tracker": tracker, "domain": {}}


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    metrics.instrument_executor()
    metrics.instrument_executor()  # once only: a second call must not count twice
    executor = ActionExecutor()
    executor.register_action(Greets())
    executor.register_action(Breaks())
    return executor


async def test_an_action_run_is_counted_with_its_latency(executor: ActionExecutor) -> None:
    runs = sample("actions_run_total", action="action_observed_greets")
    latencies = sample("actions_latency_seconds_count", action="action_observed_greets")
    answer = await executor.run(call("action_observed_greets"))
    assert answer is not None and answer["responses"][0]["text"] == "Bonjour"
    assert sample("actions_run_total", action="action_observed_greets") == runs + 1
    assert sample("actions_latency_seconds_count", action="action_observed_greets") == latencies + 1


async def test_errors_are_counted_by_kind_and_unknown_names_are_grouped(executor: ActionExecutor) -> None:
    broken = sample("actions_errors_total", action="action_observed_breaks", kind="exception")
    unknown = sample("actions_errors_total", action="unknown", kind="not_found")
    with pytest.raises(RuntimeError):
        await executor.run(call("action_observed_breaks"))
    with pytest.raises(ActionNotFoundException):
        await executor.run(call("action_that_does_not_exist_42"))
    assert sample("actions_errors_total", action="action_observed_breaks", kind="exception") == broken + 1
    assert sample("actions_errors_total", action="unknown", kind="not_found") == unknown + 1
    assert REGISTRY.get_sample_value("actions_run_total", {"action": "action_that_does_not_exist_42"}) is None


async def test_the_backlog_is_left_out_when_the_database_is_slow() -> None:
    async def slow() -> int:
        await asyncio.sleep(5)
        return 3

    async def three() -> int:
        return 3

    assert await metrics.read_backlog(slow, deadline=0.1) is None
    assert await metrics.read_backlog(three) == 3
    text = metrics.render(None).decode()
    assert "handoff_outbox_read_ok 0.0" in text and "handoff_outbox_pending" not in text
    text = metrics.render(3).decode()
    assert "handoff_outbox_read_ok 1.0" in text and "handoff_outbox_pending 3.0" in text


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_readiness_is_200_on_a_real_database_and_503_without_one(tmp_path: Path) -> None:
    async def probe_of(url: str) -> Any:
        engine = create_engine(url)

        async def probe() -> None:
            from sqlalchemy import text

            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        return engine, probe

    engine, probe = await probe_of(f"sqlite+aiosqlite:///{tmp_path / 'ready.db'}")
    assert await health.readiness(probe) == (200, {"status": "ok", "checks": {"database": "ok"}})
    await engine.dispose()

    url = f"postgresql://urbact:s3cret@127.0.0.1:{closed_port()}/nothing"
    engine, probe = await probe_of(url)
    status, body = await health.readiness(probe, deadline=1.0)
    await engine.dispose()
    assert status == 503 and body["failed"] == ["database"]
    assert body["checks"]["database"].startswith("error: ") or body["checks"]["database"] == "timeout"
    assert "s3cret" not in str(body) and "127.0.0.1" not in str(body)


def test_the_multiprocess_folder_is_fresh_and_exported() -> None:
    env: Dict[str, str] = {multiprocess.ENV_NAME: "/tmp/stale"}
    folder = multiprocess.prepare(env)
    try:
        assert env[multiprocess.ENV_NAME] == str(folder) != "/tmp/stale"
        assert folder.is_dir() and not any(folder.iterdir())
        assert multiprocess.ENV_NAME not in os.environ or os.environ[multiprocess.ENV_NAME] != str(folder)
    finally:
        folder.rmdir()


def test_folders_of_dead_servers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    import subprocess
    import sys

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"{multiprocess.PREFIX}{finished.stdout.strip()}-abc"
    live = tmp_path / f"{multiprocess.PREFIX}{os.getpid()}-def"
    other = tmp_path / "unrelated-folder"
    for folder in (dead, live, other):
        folder.mkdir()
    multiprocess.remove_orphans(tmp_path)
    assert not dead.exists() and live.exists() and other.exists()
