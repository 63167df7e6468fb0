"""The cross-validation folds are drawn from a seeded generator when URBACT_CV_SEED is set."""

from __future__ import annotations

import numpy as np

from bot.start import seed_cross_validation

CV = ["test", "nlu", "--nlu", "data/nlu", "--cross-validation", "--folds", "5"]


def test_the_same_seed_gives_the_same_draw() -> None:
    assert seed_cross_validation(CV, {"URBACT_CV_SEED": "0"})
    first = np.random.rand(3)
    assert seed_cross_validation(CV, {"URBACT_CV_SEED": "0"})
    assert (np.random.rand(3) == first).all()


def test_other_commands_or_no_seed_leave_the_generator_alone() -> None:
    assert not seed_cross_validation(["run", "--model", "m"], {"URBACT_CV_SEED": "0"})
    assert not seed_cross_validation(CV, {})
    assert not seed_cross_validation(CV, {"URBACT_CV_SEED": "x"})
