"""Old answers are never re-submitted (issue 10, point 8), with Rasa's own FormAction.

Rasa (.venv-rasa, tests/support/rasa_form_driver.py) runs handoff_form for a visitor whose
previous form ended with consent but whose submit never ran (action server down), against
the real action server (actions/ops/action_server.py) holding validate_handoff_form. The form
must start empty and ask for the name again, never jump to its end with the old answers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from test_action_server_auth import running_server

from common.action_secret import new_secret

REPO_ROOT = Path(__file__).resolve().parents[3]

RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"
SECRET = new_secret()


@pytest.fixture(scope="module")
def action_server() -> Iterator[str]:
    with running_server(SECRET) as port:
        yield f"http://127.0.0.1:{port}/webhook"


def run_form(url: str) -> Dict[str, Any]:
    env = dict(os.environ, ACTION_SERVER_URL=url, ACTION_SERVER_TOKEN=SECRET,
               RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run([str(RASA_PYTHON), "tests/support/rasa_form_driver.py"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_new_form_starts_empty_and_asks_again(action_server: str) -> None:
    result = run_form(action_server)
    slots = result["slots"]
    assert result["active_loop"] == "handoff_form"  # not ended at once with the old answers
    assert slots["requested_slot"] == "handoff_name"
    for name in ("handoff_name", "handoff_organisation", "handoff_email", "handoff_question", "handoff_consent"):
        assert slots[name] is None, name
    texts = [e.get("text") or "" for e in result["events"] if e["event"] == "bot"]
    assert texts and texts[-1].startswith("Je peux transmettre votre question")
    assert not any("Jeanne" in text for text in texts)  # no summary of the old answers
    assert re.fullmatch(r"[0-9a-f]{32}", slots["handoff_submission_key"] or "")


def test_each_start_draws_a_new_submission_key(action_server: str) -> None:
    first = run_form(action_server)["slots"]["handoff_submission_key"]
    second = run_form(action_server)["slots"]["handoff_submission_key"]
    assert first and second and first != second
