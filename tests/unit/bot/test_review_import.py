"""`make review-import FILE=...`: the labelled CSV checked (French file:line errors, nothing
written on any error), its new rows written into review.yml as Rasa reads them."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import List, Sequence

import pytest
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.entities_parser import ENTITY_REGEX
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.validator import Validator

from bot.ops import review

ROOT = Path(__file__).resolve().parents[3]
KNOWN_EXAMPLE = "faut-il déjà avoir des contacts européens pour intégrer un réseau ?"  # data/nlu/myths.yml


@pytest.fixture
def nlu_dir(tmp_path: Path) -> Path:
    """A copy of the project's data/nlu (without any review.yml of a previous import)."""
    target = tmp_path / "nlu"
    shutil.copytree(ROOT / "data" / "nlu", target)
    (target / review.REVIEW_FILE_NAME).unlink(missing_ok=True)
    return target


def labelled_csv(folder: Path, rows: Sequence[Sequence[str]], name: str = "labels.csv") -> Path:
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(review.COLUMNS)
        for message, label in rows:
            writer.writerow([message, "nlu_fallback", "0.300", "1", label])
    return path


def review_examples(nlu_dir: Path) -> List[tuple]:
    data = RasaYAMLReader().read(nlu_dir / review.REVIEW_FILE_NAME)
    return [(message.get("intent"), message.get("text")) for message in data.intent_examples]


def test_errors_name_file_and_line_in_french_and_nothing_is_written(
    nlu_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [  # message, label, the error reported on its line of the file (the header is line 1)
        ("combien coûte l'adhésion ?", "ask_funding_programme", None),
        ("quel temps fait-il ?", "ask_weather", "intention inconnue « ask_weather »"),
        ("   ", "ask_benefits", "message vide"),
        ("Combien coute l'adhesion", "ask_funding_programme", "message en double (déjà à la ligne 2)"),
        ("on parle de quoi ?", "", None),
    ]
    path = labelled_csv(tmp_path, [(message, label) for message, label, _ in rows])
    assert review.main(["import", str(path), "--nlu-dir", str(nlu_dir)]) == 1
    err = capsys.readouterr().err
    for line, (_, _, error) in enumerate(rows, start=2):
        if error:
            assert f"{path}:{line}: {error}" in err
    assert "3 erreur(s) : rien n'a été ajouté." in err
    assert not (nlu_dir / review.REVIEW_FILE_NAME).exists()


def test_a_file_without_the_label_column_is_refused(nlu_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("message,intention_comprise\nbonjour,greet\n", encoding="utf-8")
    result = review.import_labels(path, nlu_dir)
    assert result.errors == [f"{path}:1: colonne(s) manquante(s) : intention_correcte"]


def test_labelled_rows_are_added_once_known_ones_skipped_and_reported(
    nlu_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = labelled_csv(tmp_path, [
        ("combien coûte l'adhésion ?", "ask_funding_programme"),
        (KNOWN_EXAMPLE.upper(), "myth_contacts"),
        ("on parle de quoi ?", ""),
        ("écrivez à [e-mail](pour) moi", "ask_contact_point"),
        ("ligne\nsur deux  lignes", "ask_contact_point"),
    ])
    assert review.main(["import", str(first), "--nlu-dir", str(nlu_dir)]) == 0
    out = capsys.readouterr().out
    assert f"{first}:3: déjà dans data/nlu, ignoré" in out
    assert "3 exemple(s) ajouté(s)" in out
    assert review_examples(nlu_dir) == [
        ("ask_contact_point", "écrivez à [e-mail] (pour) moi"),
        ("ask_contact_point", "ligne sur deux lignes"),
        ("ask_funding_programme", "combien coûte l'adhésion ?"),
    ]
    # a second file: the earlier review is kept, its rows count as known
    second = labelled_csv(tmp_path, [
        ("Combien coute l’adhesion", "ask_funding_programme"),
        ("qui pilote le réseau ?", "ask_network_lead"),
    ], name="second.csv")
    assert review.main(["import", str(second), "--nlu-dir", str(nlu_dir)]) == 0
    assert f"{second}:2: déjà dans data/nlu, ignoré" in capsys.readouterr().out
    assert ("ask_network_lead", "qui pilote le réseau ?") in review_examples(nlu_dir)
    assert len(review_examples(nlu_dir)) == 4


def test_examples_are_written_as_text_never_as_entity_annotations() -> None:
    for raw in ["[e-mail](x)", "a]{b}", "[x][y]", "tab\there", "ctrl\x07char"]:
        example = review.training_example(raw)
        assert ENTITY_REGEX.search(example) is None
        assert "\t" not in example and "\x07" not in example


def test_the_written_file_passes_rasas_data_checks(nlu_dir: Path, tmp_path: Path) -> None:
    path = labelled_csv(tmp_path, [
        ("combien coûte l'adhésion ?", "ask_funding_programme"),
        ('il a dit "oui" : #1 - ok', "affirm"),
        ("- commence par un tiret", "ask_benefits"),
    ])
    assert not review.import_labels(path, nlu_dir).errors
    assert ('affirm', 'il a dit "oui" : #1 - ok') in review_examples(nlu_dir)
    assert ("ask_benefits", "- commence par un tiret") in review_examples(nlu_dir)
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"),
        [str(nlu_dir), str(ROOT / "data" / "rules"), str(ROOT / "data" / "stories")],
    )
    validator = Validator.from_importer(importer)
    assert validator.verify_intents(ignore_warnings=True)
    assert validator.verify_example_repetition_in_intents(ignore_warnings=False)
