"""Paired comparisons over the shared outer folds, with the corrected resampled t-test."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


class Outcome(StrEnum):
    """What an arm's comparison with the baseline found: the one vocabulary of the
    summary's ``outcome`` column, the verdict's effects, the plots' colours and the
    report's words. Members are strings, so a table read back from a file compares equal.
    """

    BETTER = "better"
    WORSE = "worse"
    NOISE = "within noise"
    # The arm's own interval excludes zero, but not once the arms are many.
    NOISE_AFTER_HOLM = "within noise (Holm)"
    FAILED = "failed"
    NOT_COMPARED = ""  # the baseline itself

    @classmethod
    def of_gain(cls, gain: float) -> Outcome:
        """Better or worse by the sign of a gain beyond the noise (positive is better)."""
        return cls.BETTER if gain > 0 else cls.WORSE


def is_noise(outcome: str) -> bool:
    """Whether ``outcome`` is within noise, before or after Holm's correction."""
    return outcome in (Outcome.NOISE, Outcome.NOISE_AFTER_HOLM)


ALPHA = 0.05
POWER = 0.8
# Beyond this many repeats of the outer folds the advice is "not by repeats" all the same.
MOST_REPEATS = 10_000


@dataclass(frozen=True)
class Comparison:
    """Mean paired difference with its 95% interval, two-sided p-value and power.

    ``detectable`` is the smallest true mean difference the same folds would find
    significant (two-sided, level ``1 - confidence``) with probability :data:`POWER`;
    ``variance`` is the sample variance of the per-fold differences, ``positive`` and
    ``negative`` count the folds on either side of zero.
    """

    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    n_folds: int
    detectable: float = math.nan
    variance: float = math.nan
    positive: int = 0
    negative: int = 0


def corrected_ttest(
    deltas: ArrayLike, n_train: float, n_test: float, confidence: float = 0.95
) -> Comparison:
    """Nadeau and Bengio's corrected resampled t-test over paired per-fold differences.

    The variance is inflated by ``n_test / n_train`` because the training sets of the folds
    overlap; the plain t-test is far too liberal here. The detectable difference uses the
    same corrected variance (:func:`detectable_effect`).

    >>> c = corrected_ttest([0.02, 0.03, 0.01, 0.04, 0.02], n_train=400, n_test=100)
    >>> round(c.delta, 3), round(c.ci_low, 4), round(c.ci_high, 4), round(c.p_value, 4)
    (0.024, 0.0028, 0.0452, 0.0349)
    >>> round(c.detectable, 4), c.positive, c.negative
    (0.0284, 5, 0)
    """
    from scipy import stats

    d = np.asarray(deltas, dtype=float)
    d = d[~np.isnan(d)]
    j = len(d)
    if j < 2:
        return Comparison(float(d.mean()) if j else math.nan, math.nan, math.nan, math.nan, j)
    if (d == d[0]).all():
        # Every fold the same: the variance is exactly zero. ``d.var`` would keep the
        # residue of a mean that ``sum / n`` misses by a rounding error (3e-33 for ten folds
        # of 1/3), and with it an interval and a detectable effect of 1e-16 instead of none.
        mean, variance = float(d[0]), 0.0
    else:
        mean, variance = float(d.mean()), float(d.var(ddof=1))
    counts = {"positive": int((d > 0).sum()), "negative": int((d < 0).sum())}
    alpha = 1 - confidence
    detectable = detectable_effect(variance, j, n_train, n_test, alpha)
    se = math.sqrt((1 / j + n_test / n_train) * variance)
    if se == 0:
        p = 1.0 if mean == 0 else 0.0
        return Comparison(mean, mean, mean, p, j, detectable, variance, **counts)
    t_crit = float(stats.t.ppf(1 - alpha / 2, df=j - 1))
    p_value = float(2 * stats.t.sf(abs(mean / se), df=j - 1))
    return Comparison(
        mean, mean - t_crit * se, mean + t_crit * se, p_value, j, detectable, variance, **counts
    )


def detectable_effect(
    variance: float,
    n_folds: ArrayLike,
    n_train: float,
    n_test: float,
    alpha: float = ALPHA,
    power: float = POWER,
) -> Any:
    """The smallest true mean difference the corrected t-test detects with ``power``.

    ``(t[1 - alpha/2, J-1] + t[power, J-1]) * sqrt((1/J + n_test/n_train) * variance)`` with
    ``J = n_folds`` paired outer folds (a number or an array of them). More folds shrink
    ``1/J`` and the t quantiles but not ``n_test/n_train``: even infinitely many repeats
    leave :func:`detectable_floor`.

    >>> round(detectable_effect(130e-6, 5, 400, 100), 4)
    0.0284
    """
    from scipy import stats

    j = np.asarray(n_folds, dtype=float)
    quantiles = stats.t.ppf(1 - alpha / 2, df=j - 1) + stats.t.ppf(power, df=j - 1)
    value = quantiles * np.sqrt((1 / j + n_test / n_train) * variance)
    return float(value) if value.ndim == 0 else value


def detectable_floor(
    variance: float, n_train: float, n_test: float, alpha: float = ALPHA, power: float = POWER
) -> float:
    """What no number of repeats gets below: the detectable difference as ``J`` grows
    without bound, ``(z[1 - alpha/2] + z[power]) * sqrt(n_test/n_train * variance)``."""
    from scipy import stats

    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    return z * math.sqrt(n_test / n_train * variance)


def repeats_to_detect(
    effect: float,
    variance: float,
    folds_per_repeat: int,
    n_train: float,
    n_test: float,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float:
    """The fewest repeats of the outer K-fold whose detectable difference is ``|effect|``
    or smaller; infinite when no number of repeats gets there.

    The per-fold variance and the train/test sizes are taken as measured: repeats add folds
    of the same size, so ``n_test/n_train`` stays and sets a floor (:func:`detectable_floor`)
    that only more outer folds or more data lower.

    >>> repeats_to_detect(0.024, 130e-6, 5, 400, 100)
    2.0
    >>> repeats_to_detect(0.015, 130e-6, 5, 400, 100)
    inf
    """
    size = abs(effect)
    if math.isnan(size) or math.isnan(variance) or folds_per_repeat < 1:
        return math.nan
    if size <= detectable_floor(variance, n_train, n_test, alpha, power):
        return math.inf
    repeats = np.arange(1, MOST_REPEATS + 1)
    reach = detectable_effect(variance, folds_per_repeat * repeats, n_train, n_test, alpha, power)
    enough = np.flatnonzero(np.nan_to_num(reach, nan=math.inf) <= size)
    return float(repeats[enough[0]]) if len(enough) else math.inf


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
    sign: float = 1.0,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """One row per arm: score, paired gain over ``baseline`` with its interval, power, cost.

    ``results`` is the tidy fold table of :func:`tuneworth.evaluate.results_frame`; ``sign``
    is the metric's :attr:`~tuneworth.metrics.Metric.sign`. Columns:

    - ``score_mean``, ``score_std``: the metric as people read it, over the outer folds
    - ``gain``, ``ci_low``, ``ci_high``: the mean paired improvement over the baseline and
      its corrected 95% interval, positive when the arm is better, whatever the metric's
      direction (for a loss, baseline minus arm)
    - ``detectable``: the smallest gain these folds detect at level ``alpha`` with 80% power
      (:func:`detectable_effect`), ``folds_better`` / ``folds_worse`` / ``folds_paired``
    - ``p_value``, ``p_holm`` (Holm-adjusted across the arms) and ``outcome``: ``better``,
      ``worse`` or ``within noise`` at family-wise level ``alpha`` (``within noise (Holm)``
      when only the adjustment puts it there; ``failed`` if no fold finished)
    - ``underpowered``: within noise with a gain smaller than ``detectable``, so the design
      could not have told it from noise; ``repeats_needed``: the fewest repeats of the outer
      K-fold that would detect a gain of this size (infinite: no number of repeats would)
    - cost: ``fit_cpu_seconds`` (every inner search fit included), ``fit_seconds``,
      ``predict_seconds``, ``n_fits``, summed over the outer folds; ``cost_ratio`` to the
      baseline; ``fold_cost`` (median over folds of fit CPU plus predict seconds, the
      rerun-stable cost :func:`cheapest_equivalent` ranks by)
    - ``gain_per_cpu_minute``: the gain per extra CPU minute of fitting, given only for a
      significant gain that costs more than the baseline
    """
    scores = results.pivot(index="fold", columns="arm", values="score")
    n_train, n_test = _sizes(results)
    per_repeat = folds_per_repeat(results)
    columns = ["fit_cpu_seconds", "fit_seconds", "predict_seconds", "n_fits"]
    by_arm = results.groupby("arm")
    totals: dict[Any, dict[Any, Any]] = by_arm[columns].sum().to_dict(orient="index")
    fold_cost = (
        results.assign(cost=results["fit_cpu_seconds"] + results["predict_seconds"])
        .groupby("arm")["cost"]
        .median()
    )
    failed = results.assign(failed=results["error"].astype(bool)).groupby("arm")["failed"].sum()
    errors = results[results["error"].astype(bool)].groupby("arm")["error"].first()
    base_cost = float(totals[baseline]["fit_cpu_seconds"])
    rows = []
    for arm in arms:
        comparison = (
            corrected_ttest(sign * (scores[arm] - scores[baseline]), n_train, n_test)
            if arm != baseline
            else Comparison(0.0, math.nan, math.nan, math.nan, len(scores))
        )
        cost = float(totals[arm]["fit_cpu_seconds"])
        rows.append(
            {
                "arm": arm,
                "score_mean": float(scores[arm].mean()),
                "score_std": float(scores[arm].std(ddof=1)),
                "gain": comparison.delta,
                "ci_low": comparison.ci_low,
                "ci_high": comparison.ci_high,
                "detectable": comparison.detectable,
                "p_value": comparison.p_value,
                "folds_paired": comparison.n_folds,
                "folds_better": comparison.positive,
                "folds_worse": comparison.negative,
                "repeats_needed": repeats_to_detect(
                    comparison.delta, comparison.variance, per_repeat, n_train, n_test, alpha
                ),
                "fit_cpu_seconds": cost,
                "fit_seconds": float(totals[arm]["fit_seconds"]),
                "predict_seconds": float(totals[arm]["predict_seconds"]),
                "n_fits": int(totals[arm]["n_fits"]),
                "cost_ratio": cost / base_cost if base_cost > 0 else math.nan,
                "fold_cost": float(fold_cost[arm]),
                "n_failed_folds": int(failed.get(arm, 0)),
                "error": str(errors.get(arm, "")),
            }
        )
    summary = pd.DataFrame(rows)
    summary["p_holm"] = holm(summary["p_value"].tolist())
    significant = summary["p_holm"] < alpha
    gain = summary["gain"]
    summary["outcome"] = np.where(
        summary["score_mean"].isna(),
        Outcome.FAILED,
        np.where(
            summary["p_holm"].isna(),
            Outcome.NOT_COMPARED,
            np.where(
                ~significant,
                np.where(summary["p_value"] < alpha, Outcome.NOISE_AFTER_HOLM, Outcome.NOISE),
                np.where(gain > 0, Outcome.BETTER, Outcome.WORSE),
            ),
        ),
    )
    summary["underpowered"] = summary["outcome"].map(is_noise).astype(bool) & (
        gain.abs() < summary["detectable"]
    )
    extra_minutes = (summary["fit_cpu_seconds"] - base_cost) / 60
    summary["gain_per_cpu_minute"] = np.where(
        significant & (gain > 0) & (extra_minutes > 0), gain / extra_minutes, math.nan
    )
    return summary


def paired(
    results: pd.DataFrame, arm: str, reference: str, sign: float = 1.0, confidence: float = 0.95
) -> Comparison:
    """The corrected t-test of the gain of ``arm`` over ``reference`` on their shared folds
    (``sign``: the metric's :attr:`~tuneworth.metrics.Metric.sign`)."""
    scores = results.pivot(index="fold", columns="arm", values="score")
    n_train, n_test = _sizes(results)
    return corrected_ttest(sign * (scores[arm] - scores[reference]), n_train, n_test, confidence)


# Two arms are equally cheap when their median per-fold costs differ by less than this factor
# or by less than COST_FLOOR CPU seconds. Three identical reruns of pipelines/default.yaml on a
# shared 2-core machine moved the cost ratio of two arms by up to 1.27x when both cost over
# 0.1 CPU s per fold, and by up to 2.2x when one cost less (start-up overhead dominates
# there), while no arm's median moved by more than 0.19 s.
COST_TIE = 2.0
COST_FLOOR = 0.25


@dataclass(frozen=True)
class Recommendation:
    """The cheapest arm as good as the best, and the rule that chose it.

    ``reference`` is the best-scoring arm that beat the baseline beyond the noise (the
    baseline when none did); ``margin`` is the gain the recommendation may give up against
    it; ``candidates`` are the arms that passed, ``arm`` the cheapest of them.
    """

    arm: str
    reference: str
    margin: float
    candidates: tuple[str, ...]


def cheapest_equivalent(
    results: pd.DataFrame, summary: pd.DataFrame, baseline: str, sign: float = 1.0
) -> Recommendation | None:
    """The cheapest arm that is as good as the best, as far as the folds can tell.

    The rule, non-inferiority against the best on the corrected interval:

    1. The reference is the best-scoring arm whose gain over the baseline is significant
       (``outcome == "better"``, after Holm). If no arm beat the baseline, the baseline is
       the reference and the recommendation.
    2. A candidate must itself beat the baseline beyond the noise (so an arm that cannot be
       told from a baseline the best clearly beats is never recommended) and be
       non-inferior to the reference: the lower end of the corrected 95% interval of its
       gain over the reference is above ``-margin``, with the margin half the reference's
       gain over the baseline (it keeps at least half of what the best arm bought).
    3. Among candidates, the cheapest by median per-fold cost (``fold_cost``, fit CPU plus
       predict seconds; the median keeps one slow fold from deciding). Costs within a
       factor :data:`COST_TIE` or :data:`COST_FLOOR` seconds of the cheapest are a tie,
       broken by fewer fits, then by the order of the arms: timing noise between reruns
       moves costs by less than that, so identical reruns agree.

    Arms with failed folds are not candidates; ``None`` if every arm has one.
    """
    complete = summary[summary["n_failed_folds"] == 0].reset_index(drop=True)
    if complete.empty:
        return None
    winners = complete[complete["outcome"] == Outcome.BETTER]
    if winners.empty:
        if baseline not in set(complete["arm"]):
            return None
        return Recommendation(baseline, baseline, 0.0, (baseline,))
    ordered = winners.assign(oriented=sign * winners["score_mean"]).sort_values(
        "oriented", ascending=False, kind="stable"
    )
    reference = str(ordered["arm"].iloc[0])
    margin = float(ordered["gain"].iloc[0]) / 2
    candidates = [reference]
    for arm in ordered["arm"].iloc[1:]:
        if paired(results, str(arm), reference, sign).ci_low > -margin:
            candidates.append(str(arm))
    in_order = tuple(a for a in complete["arm"] if a in candidates)
    arm = _cheapest(complete.set_index("arm").loc[list(in_order)])
    return Recommendation(arm, reference, margin, in_order)


def _cheapest(table: pd.DataFrame) -> str:
    """The cheapest arm of ``table`` (indexed by arm, in spec order), ties as in
    :func:`cheapest_equivalent`."""
    cheapest = float(table["fold_cost"].min())
    tied = table[table["fold_cost"] <= max(cheapest * COST_TIE, cheapest + COST_FLOOR)]
    return str(tied.sort_values("n_fits", kind="stable").index[0])


def folds_per_repeat(results: pd.DataFrame) -> int:
    """K of the K-fold x R outer design, read from the fold table."""
    folds = results["fold"].nunique()
    repeats = results["repeat"].nunique() if "repeat" in results else 1
    return max(1, folds // max(1, repeats))


def _sizes(results: pd.DataFrame) -> tuple[float, float]:
    sizes = results.groupby("fold")[["n_train", "n_test"]].first()
    return float(sizes["n_train"].mean()), float(sizes["n_test"].mean())
