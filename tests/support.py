"""What several test modules build the same way: fold tables, zero-mean noise, a tiny spec,
and a fresh interpreter to run a script in.

Not a test module: imported as ``support`` (pytest puts this folder on the path).
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import tuneworth


def run_fresh(script: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """``script`` run by a new interpreter in ``directory``, importing this
    checkout's tuneworth and nothing of the caller's environment: what importing or running
    something loads, or writes, on its own."""
    src = Path(tuneworth.__file__).parents[1]
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=directory,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "HOME": str(directory)},
        capture_output=True,
        text=True,
        timeout=120,
    )


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


def marginal_tables(
    rng: np.random.Generator,
    budget: Mapping[str, tuple[Sequence[int], Sequence[float], float]],
    data: Mapping[str, tuple[Sequence[int], Sequence[float], float]],
    *,
    base: float = 0.90,
    folds: int = 10,
    sd: float = 0.01,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three tables of a :class:`tuneworth.marginal.Marginal` with their documented
    columns: ``folds``, ``curves`` and ``steps``.

    ``budget`` and ``data`` map an arm to its steps (trials, or training rows), the mean
    gain over the baseline at each step and the CPU seconds per fold of its last step (the
    others cost in proportion to their step). Fold scores are ``base`` plus the gain plus
    zero-mean noise of ``sd``; intervals are the plain t intervals of the paired gains, as
    the tests only need them to be intervals about the gain.
    """
    from tuneworth.marginal import MORE_DATA, TUNING_BUDGET

    points, curve_rows, step_rows = [], [], []
    for family, arms in ((TUNING_BUDGET, budget), (MORE_DATA, data)):
        for arm, (steps, gains, cost) in arms.items():
            per_fold = {}
            for step, gain in zip(steps, gains, strict=True):
                scores = base + gain + noise(rng, sd, folds)
                per_fold[step] = scores - base
                seconds = cost * step / steps[-1]
                points += [
                    {
                        "family": family,
                        "arm": arm,
                        "fold": fold,
                        "step": step,
                        "score": float(scores[fold]),
                        "cpu_seconds": seconds,
                    }
                    for fold in range(folds)
                ]
                half = 2.262 * float(np.std(per_fold[step], ddof=1)) / math.sqrt(folds)
                curve_rows.append(
                    {
                        "family": family,
                        "arm": arm,
                        "step": step,
                        "unit": "trials" if family == TUNING_BUDGET else "rows",
                        "fraction": step / steps[-1],
                        "cpu_seconds": seconds,
                        "score": base + gain,
                        "gain": gain,
                        "ci_low": gain - half,
                        "ci_high": gain + half,
                        "n_folds": folds,
                    }
                )
            if len(steps) < 2:
                continue
            last = per_fold[steps[-1]] - per_fold[steps[-2]]
            half = 2.262 * float(np.std(last, ddof=1)) / math.sqrt(folds)
            gain = float(np.mean(last))
            beyond = abs(gain) > half
            row: dict[str, Any] = {
                "family": family,
                "arm": arm,
                "from_step": steps[-2],
                "to_step": steps[-1],
                "gain": gain,
                "ci_low": gain - half,
                "ci_high": gain + half,
                "p_value": 0.01 if beyond else 0.4,
                "detectable": 2 * half,
                "outcome": ("better" if gain > 0 else "worse") if beyond else "within noise",
            }
            if family == MORE_DATA:
                increments = np.diff(gains)
                concave = bool((increments > 0).all() and (np.diff(increments) <= 0).all())
                monotone = bool((increments > 0).all())
                shape = "concave" if concave else ("not concave" if monotone else "not monotone")
                ahead = gain * 0.6 if concave else math.nan
                row |= {
                    "shape": shape,
                    "next_gain": ahead,
                    "next_low": ahead - half,
                    "next_high": ahead + half,
                    "per_1000_rows": ahead / steps[-1] * 1000,
                }
            step_rows.append(row)
    return pd.DataFrame(points), pd.DataFrame(curve_rows), pd.DataFrame(step_rows)
