"""The action server's /metrics and /health/ready for real, with two sanic workers.

The server runs as in production (ACTION_SERVER_SANIC_WORKERS=2, LOG_FORMAT=json) on a
migrated database of each backend holding two undelivered hand-off requests. Every scrape,
whichever worker answers it, must show all the actions run (multiprocess mode), and every
line the server logs must be a JSON object.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Set, Tuple

from actions.handoff.models import HandoffRequest
from actions.handoff.repository import SqlHandoffRepositoryFactory
from common.action_secret import new_secret
from tests.support.waiting import stop, wait_until

REPO_ROOT = Path(__file__).resolve().parents[3]
SECRET = new_secret()
CALLS = 24
ACTION = "action_staff_list_handoffs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> Tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def run_action(port: int) -> int:
    tracker = {"sender_id": "s", "slots": {}, "latest_message": {"text": "demandes"}, "events": [],
               "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": None,
               "latest_input_channel": "slack"}
    body = json.dumps({"next_action": ACTION, "sender_id": "s", "tracker": tracker, "domain": {},
                       "version": "3.6.2"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhook", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def value(metrics: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.MULTILINE)
    assert found, f"{name} missing from /metrics"
    return float(found.group(1))


def folder_of(log: Path) -> Path:
    """The multiprocess folder the server logged at start."""
    for line in log.read_text().splitlines():
        if "multiprocess folder" in line:
            return Path(json.loads(line)["message"].rsplit(" ", 1)[1])
    raise AssertionError("no multiprocess folder logged")


def worker_pids(folder: Path) -> Set[str]:
    """The processes that counted something (prometheus-client names its files <kind>_<pid>.db)."""
    return {path.stem.rsplit("_", 1)[1] for path in folder.glob("*.db")}


async def test_metrics_sum_both_workers_and_logs_are_json(
    factory: SqlHandoffRepositoryFactory, migrated: str, tmp_path: Path
) -> None:
    now = datetime.now(timezone.utc)
    async with factory() as repo:
        for name in ("Jeanne", "Marc"):
            await repo.create(HandoffRequest(name, "Mairie", f"{name}@ville.fr", "Question ?", "socketio", name), now)

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HANDOFF_DELIVERY_LOOP="off", ACTION_SERVER_TOKEN=SECRET,
               ACTION_SERVER_SANIC_WORKERS="2", LOG_FORMAT="json", DATABASE_URL=migrated)
    process = subprocess.Popen(
        [str(REPO_ROOT / ".venv-actions/bin/python"), "-m", "actions.ops.action_server", "--actions", "actions",
         "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=(tmp_path / "actions.log").open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: process.poll() is not None or get(port, "/health")[0] == 200, 90, "action server up")
        assert process.poll() is None, "the action server stopped"
        assert get(port, "/health/ready") == (200, '{"status":"ok","checks":{"database":"ok"}}')
        for _ in range(CALLS):
            assert run_action(port) == 200
        label = f'{{action="{ACTION}"}}'
        for _ in range(6):  # each scrape reaches one worker or the other: all must see every call
            status, metrics = get(port, "/metrics")
            assert status == 200
            assert value(metrics, f"actions_run_total{label}") == CALLS
            assert value(metrics, f"actions_latency_seconds_count{label}") == CALLS
            assert value(metrics, "handoff_outbox_pending") == 2
            assert value(metrics, "handoff_outbox_read_ok") == 1
        folder = folder_of(tmp_path / "actions.log")
        assert len(worker_pids(folder)) >= 2, "both workers ran actions: the sum above is across processes"
    finally:
        stop(process)
    lines = (tmp_path / "actions.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]  # every line is one JSON object
    assert entries and all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert not folder.exists(), "the multiprocess folder is removed at exit"
