"""`make insights` shows what was said to the real assistant (issue 12, Done when).

An assistant of its own (REST channel, the embedded default's endpoints.yml: Rasa's SQL
tracker store, in a SQLite file of the launched assistant's temporary folder) gets a few
conversations; then `python -m bot.ops.insights` reads that store: the counts equal what was
sent, the off-topic message is among `unanswered`, the typed e-mail address is shown nowhere.

Run: make test-e2e (needs the trained model).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List

import pytest
import requests

from bot.ops.launcher import ROOT
from tests.e2e.conftest import RunningAssistant

EMAIL = "jeanne.martin@ville-exemple.fr"
OFF_TOPIC = "quelle est la recette de la tartiflette ?"
CONVERSATIONS: Dict[str, List[str]] = {
    "insights-e2e-a": ["Bonjour", "c'est quoi URBACT ?", "Dans quels réseaux est Nantes ?"],
    "insights-e2e-b": [OFF_TOPIC, "faut-il parler anglais ?", f"mon adresse est {EMAIL}"],
}


@pytest.fixture(scope="module")
def recording_assistant(assistant_launcher: Callable[..., RunningAssistant]) -> RunningAssistant:
    """A fresh assistant (its own store: nothing else is said to it)."""
    running = assistant_launcher(extra_env={"URBACT_E2E_PURPOSE": "insights"})
    assert running.conversations_url, "endpoints.yml should record the conversations in SQLite"
    return running


def test_insights_count_what_was_sent(recording_assistant: RunningAssistant, tmp_path: Path) -> None:
    for sender, messages in CONVERSATIONS.items():
        for text in messages:
            answer = requests.post(recording_assistant.rest_url, json={"sender": sender, "message": text}, timeout=30)
            assert answer.status_code == 200 and answer.json(), text
    today = datetime.now(timezone.utc).date().isoformat()
    out = tmp_path / "insights"
    done = subprocess.run(
        [sys.executable, "-m", "bot.ops.insights", "--since", today, "--until", today,
         "--conversations-url", recording_assistant.conversations_url, "--database-url",
         f"sqlite:///{tmp_path / 'no-handoffs.db'}", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["conversations"] == len(CONVERSATIONS)
    assert summary["user_messages"] == sum(len(messages) for messages in CONVERSATIONS.values())
    assert any("tartiflette" in group["text"] for group in summary["unanswered"]), summary["unanswered"]
    assert summary["myths"]["myth_english"] == 1
    assert {"name": "Nantes", "count": 1} in summary["asked_cities"]
    page = (out / "index.html").read_text(encoding="utf-8")
    for shown in (json.dumps(summary, ensure_ascii=False), page, done.stdout, done.stderr):
        assert EMAIL not in shown and "insights-e2e" not in shown
