"""Metrics, health and JSON logs of the whole assistant, for real (issue 13, point 5).

One assistant started with LOG_FORMAT=json (Rasa and the action server): its Rasa /metrics
counts turns, their latency and fallback answers; its /health names the action server once
that one is killed; the action server's /metrics shows the actions run and the hand-off
backlog; every line either process logs is one JSON object.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from typing import Any, Callable, Dict, Tuple

import pytest

from bot.ops.launcher import ROOT, Assistant
from tests.e2e.conftest import RunningAssistant

GIBBERISH = "grmbl plouf zxqw"  # tests/stories/test_conversation.yml: nlu_fallback, action_rephrase


@pytest.fixture(scope="module")
def observed(assistant_launcher: Callable[..., RunningAssistant]) -> RunningAssistant:
    return assistant_launcher(extra_env={"LOG_FORMAT": "json"})


def get(url: str) -> Tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=15) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def ask(assistant: RunningAssistant, text: str) -> list:
    body = json.dumps({"sender": f"obs-{uuid.uuid4().hex[:8]}", "message": text}).encode()
    request = urllib.request.Request(assistant.rest_url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def metric(text: str, name: str) -> float:
    """A sample's value (0 when absent: a labelled counter appears at its first increment)."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def rasa_metrics(assistant: RunningAssistant) -> str:
    status, text = get(f"{assistant.base_url}/metrics")
    assert status == 200
    return text


def actions_metrics(assistant: RunningAssistant) -> str:
    status, text = get(f"http://127.0.0.1:{assistant.actions_port}/metrics")
    assert status == 200
    return text


TURNS = 'rasa_turns_total{channel="rest"}'
LATENCY = "rasa_turn_latency_seconds_count"
FALLBACKS = 'rasa_fallback_answers_total{action="action_rephrase"}'


def test_a_turn_is_counted_with_its_latency(observed: RunningAssistant) -> None:
    before = rasa_metrics(observed)
    assert ask(observed, "Bonjour")
    after = rasa_metrics(observed)
    assert metric(after, TURNS) == metric(before, TURNS) + 1
    assert metric(after, LATENCY) == metric(before, LATENCY) + 1
    assert metric(after, FALLBACKS) == metric(before, FALLBACKS)
    assert metric(after, "process_resident_memory_bytes") > 0


def test_gibberish_counts_as_a_fallback_answer(observed: RunningAssistant) -> None:
    before = rasa_metrics(observed)
    assert ask(observed, GIBBERISH)
    after = rasa_metrics(observed)
    assert metric(after, FALLBACKS) == metric(before, FALLBACKS) + 1
    assert metric(after, TURNS) == metric(before, TURNS) + 1


def test_the_action_server_counts_the_action_and_the_backlog(observed: RunningAssistant) -> None:
    label = 'actions_run_total{action="action_rephrase"}'
    before = metric(actions_metrics(observed), label)
    ask(observed, GIBBERISH)
    text = actions_metrics(observed)
    assert metric(text, label) == before + 1
    assert metric(text, 'actions_latency_seconds_count{action="action_rephrase"}') >= 1
    assert metric(text, "handoff_outbox_read_ok") == 1
    assert re.search(r"^handoff_outbox_pending \d", text, re.MULTILINE)
    status, body = get(f"http://127.0.0.1:{observed.actions_port}/health/ready")
    assert (status, json.loads(body)) == (200, {"status": "ok", "checks": {"database": "ok"}})


def test_health_is_200_with_every_check(observed: RunningAssistant) -> None:
    status, body = get(f"{observed.base_url}/health")
    answer: Dict[str, Any] = json.loads(body)
    assert status == 200, answer
    assert answer["status"] == "ok"
    assert answer["checks"] == {"tracker_store": "ok", "lock_store": "in-memory", "action_server": "ok"}


def test_every_log_line_is_json(observed: RunningAssistant) -> None:
    for name in ("rasa.log", "actions.log"):
        lines = (observed.workdir / name).read_text(encoding="utf-8").splitlines()
        assert lines, name
        for line in lines:
            entry = json.loads(line)  # fails on the first line that is not JSON
            assert {"time", "level", "logger", "message"} <= set(entry), line


def test_health_names_the_killed_action_server(observed: RunningAssistant) -> None:
    observed.process.kill_actions()
    try:
        status, body = get(f"{observed.base_url}/health")
        answer = json.loads(body)
        assert status == 503 and answer["failed"] == ["action_server"], answer
        before = metric(rasa_metrics(observed), 'rasa_action_server_errors_total{reason="unreachable"}')
        ask(observed, GIBBERISH)  # action_rephrase cannot be called
        after = metric(rasa_metrics(observed), 'rasa_action_server_errors_total{reason="unreachable"}')
        assert after == before + 1
    finally:
        observed.process.restart_actions()
    status, _ = get(f"{observed.base_url}/health")
    assert status == 200


def test_health_checks_postgresql_and_redis_in_the_production_profile() -> None:
    """endpoints.production.yml: the tracker store in PostgreSQL, the lock store in Redis."""
    from tests.e2e.conftest import model_path
    from tests.e2e.test_production_profile import PG_PORT, REDIS_PORT, TRACKER_DB, ensure_database

    ensure_database(TRACKER_DB)
    env = {
        "TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": str(PG_PORT), "TRACKER_DB_NAME": TRACKER_DB,
        "TRACKER_DB_USER": "postgres", "TRACKER_DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(REDIS_PORT), "REDIS_DB": "1",
    }
    with Assistant.running(model=model_path(), endpoints=ROOT / "endpoints.production.yml", extra_env=env) as assistant:
        status, body = get(f"{assistant.base_url}/health")
        assert (status, json.loads(body)) == (
            200, {"status": "ok", "checks": {"tracker_store": "ok", "lock_store": "ok", "action_server": "ok"}}
        )
