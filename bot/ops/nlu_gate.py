"""Fail when the NLU evaluation on the held-out test file is below its thresholds.

Usage: python -m bot.ops.nlu_gate results/nlu/intent_report.json --min-accuracy 0.9 --min-macro-f1 0.95
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple


def scores(report: Dict) -> Tuple[float, float]:
    return float(report["accuracy"]), float(report["macro avg"]["f1-score"])


def weakest_intents(report: Dict, limit: int = 5) -> List[Tuple[str, float]]:
    per_intent = [
        (name, float(values["f1-score"]))
        for name, values in report.items()
        if isinstance(values, dict) and "f1-score" in values and name not in {"macro avg", "weighted avg", "micro avg"}
    ]
    return sorted(per_intent, key=lambda item: item[1])[:limit]


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", type=Path)
    parser.add_argument("--min-accuracy", type=float, default=0.9)
    parser.add_argument("--min-macro-f1", type=float, default=0.95)
    args = parser.parse_args(argv)

    report = json.loads(args.report.read_text(encoding="utf-8"))
    accuracy, macro_f1 = scores(report)
    print(f"NLU test set: intent accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f}")
    for name, f1 in weakest_intents(report):
        print(f"  weakest: {name} F1={f1:.3f}")
    failed = False
    if accuracy < args.min_accuracy:
        print(f"FAIL: accuracy {accuracy:.3f} < {args.min_accuracy}", file=sys.stderr)
        failed = True
    if macro_f1 < args.min_macro_f1:
        print(f"FAIL: macro-F1 {macro_f1:.3f} < {args.min_macro_f1}", file=sys.stderr)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
