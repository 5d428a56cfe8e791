"""Tuning strategies side by side across the outer folds (tuneworth.strategies)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import pytest

from tuneworth.design import Arm
from tuneworth.evaluate import FoldResult
from tuneworth.levers import GridSearch, OptunaTPE, RandomSearch
from tuneworth.metrics import METRICS
from tuneworth.strategies import compare_strategies


@pytest.fixture
def fold(trial_rows: Callable[..., pd.DataFrame]) -> Callable[..., FoldResult]:
    """A search arm's result on one outer fold; its fit costs a CPU second per trial."""

    def make(arm: str, index: int, score: float, inner: float, trials: list[float]) -> FoldResult:
        return FoldResult(
            arm=arm,
            fold=index,
            repeat=0,
            score=score,
            fit_seconds=1.0,
            fit_cpu_seconds=float(len(trials) or 1),
            predict_seconds=0.0,
            n_fits=1,
            n_train=80,
            n_test=20,
            inner_best_score=inner,
            trials=trial_rows(trials) if trials else None,
        )

    return make


def test_compare_strategies_against_grid_and_untuned_for_a_lower_is_better_metric(
    fold: Callable[..., FoldResult],
) -> None:
    arms = [
        Arm("baseline"),
        Arm("grid", (GridSearch(),)),
        Arm("random", (RandomSearch(),)),
        Arm("optuna", (OptunaTPE(),)),
    ]
    results = {  # RMSE: lower is better
        "baseline": [fold("baseline", f, 2.0, math.nan, []) for f in range(3)],
        "grid": [fold("grid", f, 1.5, 1.2, [1.6, 1.2, 1.4, 1.3]) for f in range(3)],
        "random": [
            fold("random", 0, 1.4, 1.1, [1.3, 1.1, 1.5, 1.5]),
            fold("random", 1, 1.6, 1.3, [1.5, 1.4, 1.3, 1.3]),
            fold("random", 2, 1.6, 1.2, [1.9, 1.8, 1.7, 1.2]),
        ],
        "optuna": [fold("optuna", f, 1.4, 1.2, [1.2, 1.2, 1.2, 1.2]) for f in range(3)],
    }
    table = compare_strategies(arms, results, METRICS["log_loss"]).set_index("arm")
    assert list(table.index) == ["grid", "random", "optuna"]
    assert (table["untuned"] == "baseline").all()
    # Positive gap: the inner CV promised a lower RMSE than the outer fold delivered.
    assert table.loc["grid", "optimism_gap"] == pytest.approx(0.3)
    assert table.loc["random", "optimism_gap"] == pytest.approx((0.3 + 0.3 + 0.4) / 3)
    assert table.loc["grid", "trials_to_match_grid"] == 2
    # random reaches 1.2 after 2 trials, 1.2 is never reached in fold 1, after 4 in fold 2
    assert table.loc["random", "trials_to_match_grid"] == 4
    assert table.loc["random", "folds_matching_grid"] == 2
    assert table.loc["optuna", "trials_to_match_grid"] == 1
    # RMSE 1.5 against the untuned 2.0: 0.5 less error is a gain of +0.5.
    assert table.loc["grid", "gain_vs_untuned"] == pytest.approx(0.5)
    assert table.loc["grid", "cost_vs_untuned"] == pytest.approx(4.0)
    assert table.loc["grid", "configurations"] == 4
    # TPE's random start-up for a budget of 4; the other strategies have no model.
    assert table.loc["optuna", "random_startup"] == 2
    assert table[["random_startup"]].drop("optuna").isna().all().all()


def test_compare_strategies_without_a_grid_arm_leaves_the_match_empty(
    fold: Callable[..., FoldResult],
) -> None:
    arms = [Arm("baseline"), Arm("random", (RandomSearch(),))]
    results = {
        "baseline": [fold("baseline", 0, 0.8, math.nan, [])],
        "random": [fold("random", 0, 0.85, 0.9, [0.9])],
    }
    row = compare_strategies(arms, results, METRICS["roc_auc"]).iloc[0]
    assert math.isnan(row["trials_to_match_grid"])
    assert row["optimism_gap"] == pytest.approx(0.05)
