from __future__ import annotations

import json
from pathlib import Path

from bot.ops import nlu_gate


def write_report(tmp_path: Path, accuracy: float, macro_f1: float) -> Path:
    report = {
        "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 5},
        "accuracy": accuracy,
        "macro avg": {"precision": 1.0, "recall": 1.0, "f1-score": macro_f1, "support": 5},
    }
    path = tmp_path / "intent_report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


def test_passes_above_thresholds(tmp_path: Path) -> None:
    assert nlu_gate.main([str(write_report(tmp_path, 0.97, 0.96))]) == 0


def test_fails_below_accuracy(tmp_path: Path) -> None:
    assert nlu_gate.main([str(write_report(tmp_path, 0.89, 0.96))]) == 1


def test_fails_below_macro_f1(tmp_path: Path) -> None:
    assert nlu_gate.main([str(write_report(tmp_path, 0.95, 0.94))]) == 1
