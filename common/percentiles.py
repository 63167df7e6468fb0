"""Nearest-rank percentiles for the benchmarks of both environments (standard library only)."""

from __future__ import annotations

from typing import Sequence


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
