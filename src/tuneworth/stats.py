"""Paired comparisons over the shared outer folds, with the corrected resampled t-test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Comparison:
    """Mean paired difference with its 95% interval and two-sided p-value."""

    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    n_folds: int


def corrected_ttest(
    deltas: ArrayLike, n_train: float, n_test: float, confidence: float = 0.95
) -> Comparison:
    """Nadeau and Bengio's corrected resampled t-test over paired per-fold differences.

    The variance is inflated by ``n_test / n_train`` because the training sets of the folds
    overlap; the plain t-test is far too liberal here.

    >>> c = corrected_ttest([0.02, 0.03, 0.01, 0.04, 0.02], n_train=400, n_test=100)
    >>> round(c.delta, 3), round(c.ci_low, 4), round(c.ci_high, 4), round(c.p_value, 4)
    (0.024, 0.0028, 0.0452, 0.0349)
    """
    from scipy import stats

    d = np.asarray(deltas, dtype=float)
    d = d[~np.isnan(d)]
    j = len(d)
    if j < 2:
        return Comparison(float(d.mean()) if j else math.nan, math.nan, math.nan, math.nan, j)
    mean = float(d.mean())
    variance = float(d.var(ddof=1))
    se = math.sqrt((1 / j + n_test / n_train) * variance)
    if se == 0:
        p = 1.0 if mean == 0 else 0.0
        return Comparison(mean, mean, mean, p, j)
    t_crit = float(stats.t.ppf(0.5 + confidence / 2, df=j - 1))
    p_value = float(2 * stats.t.sf(abs(mean / se), df=j - 1))
    return Comparison(mean, mean - t_crit * se, mean + t_crit * se, p_value, j)


def summarise(results: pd.DataFrame, arms: Sequence[str], baseline: str) -> pd.DataFrame:
    """One row per arm: score, paired delta vs ``baseline`` with its interval, and cost.

    ``results`` is the tidy fold table of :func:`tuneworth.evaluate.results_frame`. Cost is the
    CPU seconds spent fitting (every inner search fit included), summed over the outer folds.
    """
    scores = results.pivot(index="fold", columns="arm", values="score")
    sizes = results.groupby("fold")[["n_train", "n_test"]].first()
    n_train, n_test = float(sizes["n_train"].mean()), float(sizes["n_test"].mean())
    columns = ["fit_cpu_seconds", "fit_seconds", "predict_seconds", "n_fits"]
    totals: dict[Any, dict[Any, Any]] = (
        results.groupby("arm")[columns].sum().to_dict(orient="index")
    )
    failed = results.assign(failed=results["error"].astype(bool)).groupby("arm")["failed"].sum()
    base_cost = float(totals[baseline]["fit_cpu_seconds"])
    rows = []
    for arm in arms:
        comparison = (
            corrected_ttest(scores[arm] - scores[baseline], n_train, n_test)
            if arm != baseline
            else Comparison(0.0, math.nan, math.nan, math.nan, len(scores))
        )
        cost = float(totals[arm]["fit_cpu_seconds"])
        rows.append(
            {
                "arm": arm,
                "score_mean": float(scores[arm].mean()),
                "score_std": float(scores[arm].std(ddof=1)),
                "delta": comparison.delta,
                "ci_low": comparison.ci_low,
                "ci_high": comparison.ci_high,
                "p_value": comparison.p_value,
                "fit_cpu_seconds": cost,
                "fit_seconds": float(totals[arm]["fit_seconds"]),
                "predict_seconds": float(totals[arm]["predict_seconds"]),
                "n_fits": int(totals[arm]["n_fits"]),
                "cost_ratio": cost / base_cost if base_cost > 0 else math.nan,
                "n_failed_folds": int(failed.get(arm, 0)),
            }
        )
    return pd.DataFrame(rows)
