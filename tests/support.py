"""What several test modules build the same way: fold tables, zero-mean noise and a tiny spec.

Not a test module: imported as ``support`` (pytest puts this folder on the path).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

# A small study of the breast-cancer data with one lever of each family.
TINY: dict[str, Any] = {
    "name": "tiny",
    "description": "A tiny study of the breast-cancer data.",
    "dataset": {"source": "sklearn:breast_cancer"},
    "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
    "baseline": {"model": "linear"},
    "levers": [
        "random_oversampling",
        {"scaling": {"method": "standard"}},
        {"model": {"name": "knn"}},
        {"random_search": {"trials": 2}},
    ],
    "seed": 3,
}


def fold_table(
    arms: Mapping[str, tuple[Sequence[float] | str, float]],
    repeats: int = 1,
    *,
    folds: int = 10,
    n_train: int = 400,
    n_test: int = 100,
    predict_seconds: float = 0.001,
) -> pd.DataFrame:
    """A fold table as :func:`tuneworth.evaluate.results_frame` makes it: arm -> (its
    per-fold scores, or the error each of its ``folds`` raised; CPU seconds per fold), the
    folds split evenly into ``repeats``."""
    rows = []
    for arm, (scores, cost) in arms.items():
        failed = isinstance(scores, str)
        n = folds if failed else len(scores)
        for fold in range(n):
            rows.append(
                {
                    "arm": arm,
                    "fold": fold,
                    "repeat": fold // (n // repeats),
                    "score": math.nan if failed else float(scores[fold]),
                    "fit_seconds": cost,
                    "fit_cpu_seconds": cost,
                    "predict_seconds": predict_seconds,
                    "n_fits": 0 if failed else 1,
                    "n_train": n_train,
                    "n_test": n_test,
                    "inner_best_score": math.nan,
                    "error": scores if failed else "",
                }
            )
    return pd.DataFrame(rows)


def noise(rng: np.random.Generator, sd: float, folds: int = 10) -> np.ndarray:
    """Fold-to-fold noise of mean exactly zero: an arm's mean gain is what the test says."""
    draws = rng.normal(0, sd, folds)
    return draws - draws.mean()
