"""The review round trip changes the answer to a reviewed message (issue 12, Done when).

In a temporary copy of the project's config, domain and data: the current model answers a few
unusual phrasings through the real assistant (conversations recorded in SQLite); one it sends
to the fallback is exported (bot/ops/review.py), labelled with the intent it meant, imported
into the copy's data/nlu/review.yml, and a model is trained on the copy with `rasa train`
(about 4-5 minutes on 2 cores). The assistant running the new model then answers that message
with the labelled intent's response.

Run: make test-e2e (needs the trained model of the project, and time for one training).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest
import requests
import yaml

from bot.ops import review
from bot.ops.launcher import ROOT, Assistant
from tests.e2e.conftest import START_TIMEOUT_SECONDS, base_credentials, model_path
from tests.support.recording import recording_assistant

TRAIN_TIMEOUT_SECONDS = 20 * 60
# Unusual phrasings of FAQ intents answered by a plain response (data/rules/brochure.yml);
# the first one the current model sends to the fallback is reviewed.
CANDIDATES: List[Tuple[str, str]] = [
    ("ça a démarré en quelle année votre bazar européen", "ask_history"),
    ("vous existez depuis longtemps ou c'est tout frais", "ask_history"),
    ("ce machin, c'est qui qui tient la barre là-haut", "ask_governance"),
    ("qui décide chez vous, en haut de la pyramide", "ask_governance"),
    ("on remonte à quand pour les toutes premières éditions", "ask_history"),
    ("c'est piloté depuis où et par quelle instance", "ask_governance"),
    ("qui signe les chèques tout là-haut dans la hiérarchie", "ask_governance"),
    ("c'est né avant ou après l'euro votre affaire", "ask_history"),
]


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="urbact-review-loop-"))
    project = folder / "project"
    project.mkdir()
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, project / name)
    for part in ("nlu", "rules", "stories"):
        source = ROOT / "data" / part
        if source.is_dir():
            shutil.copytree(source, project / "data" / part)
        else:
            (project / "data" / part).mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def say(assistant: Assistant, sender: str, text: str) -> str:
    replies = requests.post(assistant.rest_url, json={"sender": sender, "message": text}, timeout=60).json()
    return " ".join(reply.get("text", "") for reply in replies)


def responses_of(intent: str) -> List[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [" ".join(str(item["text"]).split()) for item in domain["responses"][f"utter_{intent}"]]


def answers(reply: str, intent: str) -> bool:
    shown = " ".join(reply.split())
    return any(response[:80] in shown for response in responses_of(intent))


def exported_misses(folder: Path) -> List[Dict[str, str]]:
    today = datetime.now(timezone.utc).date()
    path, _ = review.export(today, today, f"sqlite:///{folder / 'events.db'}", folder / "review")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def label(rows: List[Dict[str, str]], text: str, intent: str, path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(review.COLUMNS))
        writer.writeheader()
        for row in rows:
            same = review.comparison_key(row[review.MESSAGE]) == review.comparison_key(text)
            writer.writerow({**row, review.LABEL: intent if same else ""})
    return path


def train(project: Path, out: Path) -> Path:
    command = [
        str(ROOT / ".venv-rasa/bin/rasa"), "train",
        "--config", str(project / "config.yml"), "--domain", str(project / "domain.yml"),
        "--data", str(project / "data/nlu"), str(project / "data/rules"), str(project / "data/stories"),
        "--out", str(out), "--fixed-model-name", "reviewed",
    ]
    env = {"RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=TRAIN_TIMEOUT_SECONDS)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / "reviewed.tar.gz"


def first_miss(workspace: Path) -> Tuple[str, str]:
    """(message, intent it meant): the first candidate the current model misses (in the
    export, and not answered with the intent's response)."""
    credentials = base_credentials()
    before = workspace / "before"
    with recording_assistant(model_path(), before, credentials, START_TIMEOUT_SECONDS) as assistant:
        replies = [say(assistant, f"review-{number}", text) for number, (text, _) in enumerate(CANDIDATES)]
    exported = {review.comparison_key(row[review.MESSAGE]) for row in exported_misses(before)}
    chosen: Optional[Tuple[str, str]] = next(
        ((text, intent) for (text, intent), reply in zip(CANDIDATES, replies)
         if review.comparison_key(text) in exported and not answers(reply, intent)),
        None,
    )
    if chosen is None:
        pytest.fail("Aucun message candidat n'est manqué par le modèle actuel : changez CANDIDATES.",
                    pytrace=False)
    return chosen


def test_export_label_import_train_changes_the_answer(workspace: Path) -> None:
    text, intent = first_miss(workspace)
    rows = exported_misses(workspace / "before")
    labelled = label(rows, text, intent, workspace / "labelled.csv")

    project = workspace / "project"
    result = review.import_labels(labelled, project / "data" / "nlu", project / "domain.yml")
    assert not result.errors, result.errors
    assert [row.intent for row in result.added] == [intent]
    assert (project / "data" / "nlu" / review.REVIEW_FILE_NAME).exists()

    model = train(project, workspace / "models")
    credentials = base_credentials()
    with recording_assistant(model, workspace / "after", credentials, START_TIMEOUT_SECONDS) as assistant:
        reply = say(assistant, "review-after", text)
    assert answers(reply, intent), f"{text!r} -> {reply!r}"
