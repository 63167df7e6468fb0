"""`make nlu-report`: the NLU quality report, written to results/ and summarised in docs/nlu-quality.md.

- the held-out test file (tests/nlu): intent accuracy, macro-F1, entity F1, confusion-matrix PNG,
  worst confusions;
- the fresh test file (tests/nlu_fresh), written by a tester who never saw the training data
  nor the held-out file (the held-out file has been used to improve the data, so it is optimistic);
- with --cross-validation, 5-fold cross-validation on the training data: 5 trainings plus their
  evaluations, about 5 min in all on 2 cores since DIET left the pipeline (2026-11-30); not
  part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.ops.launcher import ROOT, current_model

RASA = [str(ROOT / ".venv-rasa/bin/python"), "-m", "bot.start"]


# The folds of the cross-validation, drawn once for all runs (bot/start.py seeds the draw):
# the same data gives the same number, so a change is measured, not the luck of the folds.
CV_SEED = "0"


def rasa_test(nlu: str, out: Path, model: Optional[Path], extra: List[str]) -> None:
    command = [*RASA, "test", "nlu", "--nlu", nlu, "--out", str(out), *extra]
    if model is not None:
        command += ["--model", str(model)]
    env = {**os.environ, "URBACT_CV_SEED": CV_SEED}
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)


def read_scores(out: Path) -> Dict[str, Any]:
    intents = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    scores: Dict[str, Any] = {
        "intent_accuracy": round(float(intents["accuracy"]), 3),
        "intent_macro_f1": round(float(intents["macro avg"]["f1-score"]), 3),
    }
    entity_reports = sorted(out.glob("*Classifier_report.json")) + sorted(out.glob("*Extractor_report.json"))
    for path in entity_reports:
        entities = json.loads(path.read_text(encoding="utf-8"))
        if "macro avg" in entities:
            scores[f"entity_macro_f1 ({path.stem.replace('_report', '')})"] = round(float(entities["macro avg"]["f1-score"]), 3)
    errors_path = out / "intent_errors.json"
    if errors_path.exists():
        errors = json.loads(errors_path.read_text(encoding="utf-8"))
        pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
        scores["worst_confusions"] = [
            {"expected": expected, "predicted": predicted, "count": count}
            for (expected, predicted), count in pairs.most_common(8)
        ]
    return scores


def markdown(report: Dict[str, Any]) -> str:
    lines = ["# NLU quality", "", "Written by `make nlu-report` (bot/ops/nlu_report.py); figures from `rasa test nlu`.",
             "Note: `rasa test nlu` scores the top intent even when the FallbackClassifier would have",
             "asked to rephrase (it undoes fallback predictions before scoring).", "",
             "| test set | examples | intent accuracy | intent macro-F1 | entity macro-F1 (CRF) | entity macro-F1 (knowledge-base names) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, scores in report["sets"].items():
        crf = next((v for k, v in scores.items() if k.endswith("CRFEntityExtractor)")), "—")  # ours: StoredCRF...
        names = scores.get("entity_macro_f1 (KnowledgeBaseEntityExtractor)", "—")
        lines.append(f"| {name} | {scores.get('examples', '—')} | {scores['intent_accuracy']} | {scores['intent_macro_f1']} | {crf} | {names} |")
    for name, scores in report["sets"].items():
        if scores.get("worst_confusions"):
            lines += ["", f"Worst confusions, {name}:", ""]
            lines += [f"- {c['expected']} → {c['predicted']} ({c['count']})" for c in scores["worst_confusions"]]
    lines += ["", "How to read the sets:", "",
              "- held-out: written beside the training data and used to improve it, so optimistic;",
              "  `make test` fails if its intent macro-F1 drops below 0.95;",
              "- fresh: written by a tester who saw neither the data nor the held-out file: the",
              "  closest to what visitors type;",
              "- cross-validation: each fold trains without a fifth of the examples. Many training",
              "  examples are the only one of their phrasing (hard cases written on purpose), so the",
              "  score is pessimistic; compare it between changes, and read its worst confusions to",
              "  find intents whose examples overlap. Rasa 3.6 shuffles the folds without a seed: before",
              "  the folds were seeded (URBACT_CV_SEED, bot/start.py; 2026-11-30), the same data scored",
              "  0.846, 0.847 and 0.851 in three runs, then 0.857 and 0.849 with four more rule",
              "  components. Since then the same data gives the same number."]
    lines += ["", "Confusion matrices (intents; rows: expected, columns: predicted):", ""]
    lines += [f"- {name}: [{Path(png).name}]({Path(png).relative_to('docs').as_posix()})"
              for name, png in report.get("pictures", {}).items()]
    return "\n".join(lines) + "\n"


def keep_picture(out: Path, slug: str, report: Dict[str, Any], name: str) -> None:
    """Copy the run's confusion-matrix PNG into docs/img so that the picture is committed."""
    png = out / "intent_confusion_matrix.png"
    if png.exists():
        target = ROOT / "docs" / "img" / f"nlu-confusion-{slug}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, target)
        report.setdefault("pictures", {})[name] = f"docs/img/{target.name}"


def count_examples(path: Path) -> int:
    """Intent examples in the YAML files of a folder (lookup tables and synonyms not counted)."""
    total = 0
    for file in sorted(path.glob("*.yml")):
        for item in (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
            if isinstance(item, dict) and "intent" in item:
                total += sum(1 for line in str(item.get("examples", "")).splitlines() if line.strip().startswith("- "))
    return total


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cross-validation", action="store_true")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite docs/nlu-quality.md from the last results/nlu-report/summary.json")
    args = parser.parse_args(argv)
    if args.render_only:
        last = json.loads((ROOT / "results" / "nlu-report" / "summary.json").read_text(encoding="utf-8"))
        (ROOT / "docs" / "nlu-quality.md").write_text(markdown(last), encoding="utf-8")
        return 0
    model = current_model()
    base = ROOT / "results" / "nlu-report"
    report: Dict[str, Any] = {"model": model.name, "sets": {}}
    for name, folder in (("held-out (tests/nlu)", "tests/nlu"), ("fresh (tests/nlu_fresh)", "tests/nlu_fresh")):
        out = base / Path(folder).name
        rasa_test(folder, out, model, [])
        report["sets"][name] = read_scores(out) | {"examples": count_examples(ROOT / folder)}
        keep_picture(out, Path(folder).name, report, name)
    if args.cross_validation:
        out = base / "cross-validation"
        rasa_test("data/nlu", out, None, ["--cross-validation", "--folds", "5", "--config", "config.yml"])
        name = "5-fold cross-validation (data/nlu)"
        report["sets"][name] = read_scores(out) | {"examples": count_examples(ROOT / "data/nlu")}
        keep_picture(out, "cross-validation", report, name)
    (base / "summary.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    summary = markdown(report)
    (ROOT / "docs" / "nlu-quality.md").write_text(summary, encoding="utf-8")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
