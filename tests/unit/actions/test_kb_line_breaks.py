"""A CSV cell with a line break cannot inject YAML into data/nlu/lookups.yml.

Names, aliases, theme labels and synonyms are written one per line into the generated
lookup tables; the importer refuses any of them that holds a line break, with the file and
line of the row (a copy of data/kb in a temporary directory; the real files are untouched).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Dict

import pytest

from actions.kb.loader import DataValidationError, load_knowledge_base
from actions.kb.lookups import build_lookups

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "kb"
INJECTION = "Lille\n- intent: greet\n  examples: |\n    - virement urgent"


def add_row(data: Path, file: str, changes: Dict[str, str]) -> int:
    """Append a copy of the file's first row with `changes`; return its line number."""
    path = data / file
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
        header = list(rows[0].keys())
    with path.open(encoding="utf-8", newline="") as handle:
        lines = sum(1 for _ in csv.reader(handle)) + 1  # physical lines of a clean file
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=header).writerow({**rows[0], **changes})
    return lines


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    copy = tmp_path / "kb"
    shutil.copytree(DATA_DIR, copy)
    return copy


@pytest.mark.parametrize(
    ("file", "changes", "column"),
    [
        ("cities.csv", {"slug": "ville-piege", "name": INJECTION}, "name"),
        ("cities.csv", {"slug": "ville-piege", "name": "Ville Piège", "aliases": f"VP; {INJECTION}"}, "aliases"),
        ("networks.csv", {"slug": "reseau-piege", "name": "RESEAU\u2028- lookup: city", "aliases": ""}, "name"),
        ("themes.csv", {"slug": "theme-piege", "label": "Piège", "synonyms": "piège\r- synonym: x"}, "synonyms"),
        ("themes.csv", {"slug": "theme-piege", "label": "Piège\x85x", "synonyms": ""}, "label"),
    ],
)
def test_a_line_break_in_a_name_is_refused_with_file_and_line(
    data: Path, file: str, changes: Dict[str, str], column: str
) -> None:
    line = add_row(data, file, changes)
    with pytest.raises(DataValidationError) as refused:
        load_knowledge_base(data)
    messages = [str(error) for error in refused.value.errors]
    assert any(
        f"{file}:{line}: colonne '{column}' : retour à la ligne" in m
        for m in messages
    ), messages


def test_clean_names_still_load_and_every_lookup_entry_stays_on_its_line(data: Path) -> None:
    add_row(data, "cities.csv", {"slug": "ville-propre", "name": "Ville Propre", "aliases": "VP-1; Ville-Propre"})
    lookups = build_lookups(load_knowledge_base(data))
    assert "    - Ville Propre" in lookups.splitlines()
    assert "virement" not in lookups
