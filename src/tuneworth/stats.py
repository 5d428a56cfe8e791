"""Paired comparisons over the shared outer folds, with the corrected resampled t-test."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

NOISE = "within noise"
NOISE_AFTER_HOLM = "within noise (Holm)"


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


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of several p-values against one baseline.

    NaN p-values (arms with nothing to compare) stay NaN and do not count as tests.

    >>> holm([0.01, 0.04, 0.03, float("nan")])
    [0.03, 0.06, 0.06, nan]
    """
    values = np.asarray(p_values, dtype=float)
    tested = np.flatnonzero(~np.isnan(values))
    adjusted = np.full(len(values), math.nan)
    running = 0.0
    for rank, index in enumerate(tested[np.argsort(values[tested], kind="stable")]):
        running = max(running, min(1.0, (len(tested) - rank) * values[index]))
        adjusted[index] = running
    return [round(float(v), 12) for v in adjusted]


def shapley(
    values: Mapping[frozenset[str], np.ndarray], players: Sequence[str]
) -> dict[str, np.ndarray]:
    """Exact Shapley shares of ``v(all) - v(none)``, one array entry per paired fold.

    ``values`` maps every subset of ``players`` to per-fold scores ``v(S)``. The share of
    player ``i`` is the weighted mean of its marginal contributions
    ``v(S | {i}) - v(S)`` over all ``S`` without ``i``; the shares add up to the total gain,
    fold by fold, so a paired test on the per-fold shares gives each its interval.

    >>> import numpy as np
    >>> v = {frozenset(): np.array([0.0]), frozenset("a"): np.array([2.0]),
    ...      frozenset("b"): np.array([1.0]), frozenset("ab"): np.array([4.0])}
    >>> {k: float(x[0]) for k, x in shapley(v, ["a", "b"]).items()}
    {'a': 2.5, 'b': 1.5}
    """
    n = len(players)
    shares: dict[str, np.ndarray] = {}
    for player in players:
        others = [p for p in players if p != player]
        total = np.zeros_like(values[frozenset()], dtype=float)
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                s = frozenset(subset)
                total = total + weight * (values[s | {player}] - values[s])
        shares[player] = total
    return shares


def summarise(
    results: pd.DataFrame,
    arms: Sequence[str],
    baseline: str,
    greater_is_better: bool = True,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per arm: score, paired delta vs ``baseline`` with its interval, and cost.

    ``results`` is the tidy fold table of :func:`tuneworth.evaluate.results_frame`. Cost is the
    CPU seconds spent fitting (every inner search fit included), summed over the outer folds.
    p-values are Holm-adjusted across the arms; ``outcome`` is ``better``, ``worse`` or
    ``within noise`` at family-wise level ``alpha`` (``within noise (Holm)`` when only the
    adjustment puts it there; ``failed`` if no fold finished).
    ``gain_per_cpu_minute`` is the gain (in the better direction) per extra CPU minute of
    fitting, given only for a significant gain that costs more than the baseline.
    """
    scores = results.pivot(index="fold", columns="arm", values="score")
    n_train, n_test = _sizes(results)
    columns = ["fit_cpu_seconds", "fit_seconds", "predict_seconds", "n_fits"]
    totals: dict[Any, dict[Any, Any]] = (
        results.groupby("arm")[columns].sum().to_dict(orient="index")
    )
    failed = results.assign(failed=results["error"].astype(bool)).groupby("arm")["failed"].sum()
    errors = results[results["error"].astype(bool)].groupby("arm")["error"].first()
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
                "error": str(errors.get(arm, "")),
            }
        )
    summary = pd.DataFrame(rows)
    summary["p_holm"] = holm(summary["p_value"].tolist())
    sign = 1.0 if greater_is_better else -1.0
    significant = summary["p_holm"] < alpha
    gain = sign * summary["delta"]
    summary["outcome"] = np.where(
        summary["score_mean"].isna(),
        "failed",
        np.where(
            summary["p_holm"].isna(),
            "",
            np.where(
                ~significant,
                # The arm's own interval excludes zero, but not once the arms are many.
                np.where(summary["p_value"] < alpha, NOISE_AFTER_HOLM, NOISE),
                np.where(gain > 0, "better", "worse"),
            ),
        ),
    )
    extra_minutes = (summary["fit_cpu_seconds"] - base_cost) / 60
    summary["gain_per_cpu_minute"] = np.where(
        significant & (gain > 0) & (extra_minutes > 0), gain / extra_minutes, math.nan
    )
    return summary


def paired(results: pd.DataFrame, arm: str, reference: str, confidence: float = 0.95) -> Comparison:
    """The corrected t-test of ``arm`` minus ``reference`` over their shared folds."""
    scores = results.pivot(index="fold", columns="arm", values="score")
    n_train, n_test = _sizes(results)
    return corrected_ttest(scores[arm] - scores[reference], n_train, n_test, confidence)


def cheapest_equivalent(
    results: pd.DataFrame, summary: pd.DataFrame, greater_is_better: bool = True
) -> str:
    """The cheapest arm statistically indistinguishable from the best-scoring one.

    Cheapest means the least fit plus predict time; indistinguishable means the corrected
    95% interval of the paired difference from the best arm contains zero. Arms with failed
    folds are not candidates.
    """
    complete = summary[summary["n_failed_folds"] == 0]
    if complete.empty:
        return ""
    ordered = complete.sort_values("score_mean", ascending=not greater_is_better)
    best = str(ordered["arm"].iloc[0])
    candidates = [best]
    for arm in ordered["arm"].iloc[1:]:
        c = paired(results, str(arm), best)
        if c.ci_low <= 0 <= c.ci_high:
            candidates.append(str(arm))
    cost = complete.set_index("arm")
    total = cost["fit_cpu_seconds"] + cost["predict_seconds"]
    return min(candidates, key=lambda arm: float(total[arm]))


def _sizes(results: pd.DataFrame) -> tuple[float, float]:
    sizes = results.groupby("fold")[["n_train", "n_test"]].first()
    return float(sizes["n_train"].mean()), float(sizes["n_test"].mean())
