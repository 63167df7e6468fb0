"""A city added to data/kb is understood by the running assistant as soon as it is imported.

No training example names Lons-le-Saunier: the knowledge-base entity extractor reads the
importer's names file at run time (bot/nlu/kb_entities.py). The assistant runs on a copy of
the knowledge base (its own SQLite file and names file); the city is added while it runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.ops.launcher import ROOT

QUESTION = "bonjour, est ce que lons le saunier (39) fait partie d'un reseau urbact ?"


def import_kb(data: Path, database: Path, names: Path, workdir: Path) -> None:
    subprocess.run(
        [str(ROOT / ".venv-actions/bin/python"), "-m", "actions.ops.import_data", "--data-dir", str(data),
         "--database-url", f"sqlite+aiosqlite:///{database}", "--lookups", str(workdir / "lookups.yml"),
         "--names", str(names)],
        cwd=ROOT, check=True, capture_output=True,
    )


def ask(url: str, sender: str, text: str) -> str:
    body = json.dumps({"sender": sender, "message": text}).encode("utf-8")
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        messages: List[Dict[str, Any]] = json.loads(answer.read().decode("utf-8"))
    return "\n".join(m.get("text", "") for m in messages)


@pytest.fixture(scope="module")
def kb_copy(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    workdir = tmp_path_factory.mktemp("kb")
    data = workdir / "kb"
    shutil.copytree(ROOT / "data" / "kb", data)
    paths = {"data": data, "database": workdir / "urbact.db", "names": workdir / "kb_names.json", "workdir": workdir}
    import_kb(data, paths["database"], paths["names"], workdir)
    return paths


def test_a_city_is_understood_once_imported(assistant_launcher, kb_copy) -> None:  # type: ignore[no-untyped-def]
    running = assistant_launcher(extra_env={
        "DATABASE_URL": f"sqlite+aiosqlite:///{kb_copy['database']}",
        "KB_NAMES_FILE": str(kb_copy["names"]),
        "CATALOGUE_TTL_SECONDS": "0",
    })
    before = ask(running.rest_url, "kb-before", QUESTION)
    assert "URBinclusion" not in before

    with (kb_copy["data"] / "cities.csv").open("a", encoding="utf-8") as handle:
        handle.write("lons-le-saunier,Lons-le-Saunier,,FR,city,,,https://example.org\n")
    with (kb_copy["data"] / "memberships.csv").open("a", encoding="utf-8") as handle:
        handle.write("urbinclusion,lons-le-saunier,partner,https://example.org\n")
    import_kb(kb_copy["data"], kb_copy["database"], kb_copy["names"], kb_copy["workdir"])
    time.sleep(6)  # the names file is checked for changes every 5 s

    after = ask(running.rest_url, "kb-after", QUESTION)
    assert "Lons-le-Saunier" in after and "URBinclusion" in after
