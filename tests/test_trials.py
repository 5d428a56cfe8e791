"""Reading fitted searches: the best inner score so far and the trials to reach a target."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from tuneworth.trials import best_so_far, trials_to_match


def test_best_so_far_follows_the_metric_direction(trial_rows: Callable[..., pd.DataFrame]) -> None:
    trials = trial_rows([3.0, 2.0, float("nan"), 2.5, 1.0]).assign(fold=0)
    assert best_so_far(trials, greater_is_better=False).tolist() == [3.0, 2.0, 2.0, 2.0, 1.0]
    assert best_so_far(trials, greater_is_better=True).tolist() == [3.0] * 5


def test_trials_to_match_ignores_evaluations_that_are_not_comparable(
    trial_rows: Callable[..., pd.DataFrame],
) -> None:
    # Halving-like: the first rung scores high on a subsample; it must not count.
    trials = pd.concat(
        [
            trial_rows([0.99, 0.8, 0.7], [False, False, False]),
            trial_rows([0.9]).assign(trial=3, candidate=0),
        ]
    ).assign(fold=0)
    assert trials_to_match(trials, {0: 0.85}).to_dict() == {0: 3.0}
    assert trials_to_match(trials, {0: 0.95}).to_dict() == {0: math.inf}
