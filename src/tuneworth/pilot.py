"""The timed pilot of a time budget: one plain fit of each arm, to size the plan.

The side effect at the edge of :mod:`tuneworth.budget`: it fits, and its clock is the
budget's. Each arm's pipeline (a search's, without the search) is fitted once on a slice
of one outer training fold, at most :data:`PILOT_ROWS` rows, and its time scaled to the
whole fold, so the pilot stays a few seconds on any table.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tuneworth.budget import ArmCost
from tuneworth.design import Arm
from tuneworth.evaluate import warm_up_rows
from tuneworth.marginal import SEQUENTIAL

# Rows a pilot fit sees at most. A fit's time grows about linearly with its rows for the
# models of the zoo; more rows would measure better and cost more of the budget. On Ames
# housing (2,344 training rows, 10 arms) 2,000 rows took 14 s of the budget.
PILOT_ROWS = 1000
# Rows of the untimed first fit, which pays the one-time costs of a model's first use.
WARM_ROWS = 100
# Seconds after which the remaining arms are not measured but take the measured arms' mean.
PILOT_SECONDS = 20.0


def measure_costs(
    arms: Sequence[Arm],
    pipelines: Mapping[str, Any],
    X: pd.DataFrame,
    y: pd.Series,
    train: np.ndarray,
    *,
    rows: int = PILOT_ROWS,
    limit: float = PILOT_SECONDS,
    curves: bool = False,
) -> list[ArmCost]:
    """Time one fit of every arm's plain pipeline on the training rows ``train``.

    Parameters
    ----------
    arms : sequence of Arm
        The plan's arms, baseline first.
    pipelines : mapping of str to estimator
        Each arm's pipeline, a search for a tuning arm (its ``estimator`` is fitted).
    X, y : DataFrame, Series
        The data.
    train : ndarray
        Positions of an outer training fold.
    rows : int
        Rows fitted at most, spread evenly over the fold; the time is scaled up linearly.
    limit : float
        Seconds after which the arms left are given the mean of those measured.
    curves : bool
        Whether the run measures tuning-budget curves: a random or Optuna search's cost
        then counts their refits (:attr:`ArmCost.curve`).

    Returns
    -------
    list of ArmCost
        In the order of ``arms``; ``fit_seconds`` is per fit on the whole fold.
    """
    from joblib import parallel_config
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    sample = train[warm_up_rows(len(train), rows)]
    warm = train[warm_up_rows(len(train), WARM_ROWS)]
    scale = len(train) / len(sample)
    started = time.perf_counter()
    measured: dict[str, float] = {}
    with (
        threadpool_limits(limits=1),
        parallel_config(backend="sequential"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        for arm in arms:
            if time.perf_counter() - started > limit:
                break
            plain = getattr(pipelines[arm.name], "estimator", pipelines[arm.name])
            _fit(clone(plain), X.iloc[warm], y.iloc[warm])
            clock = time.perf_counter()
            fitted = _fit(clone(plain), X.iloc[sample], y.iloc[sample])
            if fitted is not None:
                _predict(fitted, X.iloc[sample])
            measured[arm.name] = (time.perf_counter() - clock) * scale
    mean = sum(measured.values()) / len(measured)
    costs = []
    for arm in arms:
        tuning = next((lever for lever in arm.levers if lever.family == "tuning"), None)
        costs.append(
            ArmCost(
                arm.name,
                measured.get(arm.name, mean),
                searches=tuning is not None,
                fixed_trials=getattr(tuning, "trials", None),
                train_share=len(train) / len(y),
                curve=curves and tuning is not None and tuning.name in SEQUENTIAL,
            )
        )
    return costs


def _fit(estimator: Any, X: pd.DataFrame, y: pd.Series) -> Any:
    try:
        return estimator.fit(X, y)
    except Exception:  # the run itself records a failing fit; its time is still a cost
        return None


def _predict(estimator: Any, X: pd.DataFrame) -> None:
    try:
        estimator.predict(X)
    except Exception:
        return
