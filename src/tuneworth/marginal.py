"""Marginal gains: what the next CPU-hour of tuning, or the next thousand rows, would buy.

Two kinds of curve, both measured on the same outer folds as every arm and paired fold by
fold with the baseline:

- a *tuning-budget* curve per sequential search arm: the outer-fold score of the
  configuration the search would have chosen after 1, 2, 4, ... trials, up to its budget,
  against the CPU seconds a search of that budget costs;
- a *data-size* curve for the baseline and the best arm: each trained on 1/8, 1/4, 1/2 and
  all of every outer training fold, scored on the untouched outer test fold.

Only random search and Optuna have a tuning-budget curve: their first k trials are those a
search of k trials with the same seed runs (for TPE and GP, with the random start-up of the
whole budget: a search of fewer trials would let its model propose sooner). A smaller grid is
another, coarser grid, and successive halving scores its candidates on different amounts of
data. The curve's refits happen after the arm's timed fit and are no part of its cost.

The raw points, one per (curve, fold, step), are the single source (:attr:`Marginal.folds`);
everything else is computed from them and the arms' fold results, so a report rebuilt from
a store says the same.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tuneworth.formatting import (
    DIGITS,
    NO_DIFFERENCE,
    interval,
    no_spread,
    reach,
    signed,
    signed_small,
)
from tuneworth.stats import Comparison, Outcome, corrected_ttest

# The two families a curve belongs to; "more data" joins the lever families of the verdict.
TUNING_BUDGET = "tuning budget"
MORE_DATA = "more data"


@dataclass(frozen=True)
class Marginal:
    """The marginal-gain curves of a comparison and what they say.

    Attributes
    ----------
    folds : pandas.DataFrame
        The raw points, one row per curve, outer fold and step: ``family``
        (:data:`TUNING_BUDGET` or :data:`MORE_DATA`), ``arm``, ``fold``, ``step`` (trials, or
        training rows), ``score`` (the outer test fold's score, in the metric's own
        orientation) and ``cpu_seconds`` (what fitting that point cost on that fold).
    curves : pandas.DataFrame
        One row per curve point, over the folds: ``family``, ``arm``, ``step``, ``unit``
        ("trials" or "rows"), ``fraction`` (of the curve's last step), ``cpu_seconds``
        (mean per fold), ``score`` (mean), ``gain`` over the baseline trained on all rows
        (positive is better), its corrected 95% interval ``ci_low``/``ci_high``, and
        ``n_folds``.
    steps : pandas.DataFrame
        One row per curve: the last doubling (``from_step`` -> ``to_step``) with its paired
        ``gain``, ``ci_low``, ``ci_high``, ``p_value``, ``detectable`` and ``outcome``
        (:class:`tuneworth.stats.Outcome`), and ``extra_cpu_seconds`` (mean per fold) it
        cost; for data-size curves also ``shape`` ("concave", "not monotone" or "not
        concave"), the fitted power law's ``exponent`` c, the extrapolated gain of the next
        doubling ``next_gain`` with ``next_low``/``next_high`` (NaN when the shape forbids
        extrapolating, or the curve no longer rises) and ``per_1000_rows``.
    sentence : str
        Where the next CPU-hour, or the next batch of rows, pays most.
    notes : tuple of str
        What was not measured and why (a grid has no "after k trials"; curves a time
        budget left out).
    """

    folds: pd.DataFrame
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    steps: pd.DataFrame = field(default_factory=pd.DataFrame)
    sentence: str = ""
    notes: tuple[str, ...] = ()


# The data-size curve's fractions of every outer training fold; the whole fold is the arm's
# own fold result, reused.
FRACTIONS = (0.125, 0.25, 0.5)
TRIALS = "trials"
ROWS = "rows"
FOLD_COLUMNS = ("family", "arm", "fold", "step", "score", "cpu_seconds")
# The searches whose first k trials are the trials a k-trial search would run.
SEQUENTIAL = ("random_search", "optuna")
ALPHA = 0.05
# Bounds of the power law's exponent c in s(n) = a - b n^-c: from a curve that is nearly a
# straight line in log n (each doubling gains 97% of the one before) to one that has all but
# stopped (each doubling gains 6% of the one before).
EXPONENT_BOUNDS = (0.05, 4.0)


# --- what a search would have chosen after k trials ----------------------------------------


def budget_steps(budget: int) -> list[int]:
    """The trial counts of a tuning-budget curve: the budget halved down to one, ascending.

    Halving from the budget rather than doubling from one makes the last step a true
    doubling (10 to 20 trials), the step on which "stop tuning" is judged; a budget that is a
    power of two gives 1, 2, 4, ... all the same.

    >>> budget_steps(20), budget_steps(16), budget_steps(1)
    ([1, 2, 3, 5, 10, 20], [1, 2, 4, 8, 16], [1])
    """
    steps, k = {budget}, budget
    while k > 1:
        k = math.ceil(k / 2)
        steps.add(k)
    return sorted(steps)


def chosen_after(trials: pd.DataFrame, steps: Sequence[int], sign: float = 1.0) -> list[int | None]:
    """For each ``k`` of ``steps``, the trial a search would have chosen after its first ``k``.

    The rule of the searches themselves (scikit-learn's ``best_index_``, Optuna's best
    trial): the best score among the complete, comparable trials so far, the first of
    equals; None while none has completed (a search of ``k`` trials would have failed).
    ``trials`` is a trial table (:func:`tuneworth.trials.trial_table`); ``sign`` orients its
    scores so that greater is better (a search's own table: 1; a fold result's, in the
    metric's orientation: the metric's sign).

    >>> table = pd.DataFrame({"trial": [0, 1, 2, 3], "comparable": True,
    ...     "state": ["fail", "complete", "complete", "complete"],
    ...     "score": [float("nan"), 0.7, 0.9, 0.9]})
    >>> chosen_after(table, [1, 2, 3, 4])
    [None, 1, 2, 2]
    """
    ordered = trials.sort_values("trial", kind="stable").reset_index(drop=True)
    scores = ordered["score"].to_numpy(dtype=float)
    usable = (
        ordered["comparable"].astype(bool).to_numpy()
        & (ordered["state"] == "complete").to_numpy()
        & ~np.isnan(scores)
    )
    oriented = np.where(usable, sign * np.nan_to_num(scores), -np.inf)
    chosen: list[int | None] = []
    for k in steps:
        head = oriented[:k]
        if not np.isfinite(head).any():
            chosen.append(None)
        else:
            chosen.append(int(ordered["trial"].iloc[int(np.argmax(head))]))  # first of equals
    return chosen


def budget_cpu(
    trials: pd.DataFrame,
    steps: Sequence[int],
    chosen: Sequence[int | None],
    cpu_seconds: float,
    inner_folds: int,
) -> list[float]:
    """CPU seconds a search of ``k`` trials would have spent, for each ``k`` of ``steps``.

    Its first ``k`` trials' inner fits plus one refit of its choice, pro rata of the
    ``cpu_seconds`` the whole search measured (every inner fit and its own refit) by the
    trials' ``fit_seconds`` (summed over the inner folds). A refit, on the whole outer
    training fold, counts as one inner fit scaled to ``inner_folds / (inner_folds - 1)``
    times its rows: ``fit_seconds / (inner_folds - 1)`` of its trial. The last step, the
    whole search, is ``cpu_seconds`` itself.

    >>> table = pd.DataFrame({"trial": [0, 1, 2, 3], "fit_seconds": [2.0, 2.0, 4.0, 2.0]})
    >>> budget_cpu(table, [1, 2, 4], [0, 0, 2], cpu_seconds=28.0, inner_folds=2)
    [8.0, 12.0, 28.0]
    """
    ordered = trials.sort_values("trial", kind="stable")
    seconds = np.nan_to_num(ordered["fit_seconds"].to_numpy(dtype=float))
    spent = np.cumsum(seconds)
    by_trial = dict(zip(ordered["trial"].astype(int), seconds, strict=True))

    def refit(choice: int | None) -> float:
        return float(by_trial[choice]) / (inner_folds - 1) if choice is not None else 0.0

    whole = float(spent[-1]) + refit(chosen[-1])
    if whole <= 0:
        return [math.nan] * len(steps)
    return [
        cpu_seconds * (float(spent[k - 1]) + refit(c)) / whole
        for k, c in zip(steps, chosen, strict=True)
    ]


# --- which rows a data-size point trains on --------------------------------------------------


@dataclass(frozen=True)
class Subsample:
    """The rows of an outer training fold a data-size point trains on.

    ``fraction`` of the fold's rows, taken as a prefix of one seeded order of the fold
    (:func:`row_order`): the smaller fractions nest in the larger, and every arm trained
    at a fraction sees the same rows (paired). ``stratify`` spreads every class evenly
    through the order, its first ``per_class`` rows leading.
    """

    fraction: float
    seed: int
    stratify: bool = True
    per_class: int = 1

    def positions(self, y: Any, fold: int) -> np.ndarray:
        """Positions, ascending, of the rows of a training fold with targets ``y`` kept on
        outer fold ``fold``."""
        order = row_order(np.asarray(y), self.seed, fold, self.stratify, self.per_class)
        return np.sort(order[: subsample_size(len(order), self.fraction)])


def subsample_size(n: int, fraction: float) -> int:
    """Rows of ``fraction`` of ``n`` rows, at least one.

    >>> subsample_size(1600, 0.125), subsample_size(5, 0.125)
    (200, 1)
    """
    return max(1, min(n, round(fraction * n)))


def row_order(
    y: np.ndarray, seed: int, fold: int, stratify: bool = True, per_class: int = 1
) -> np.ndarray:
    """The order in which a training fold's rows enter the data-size curve, seeded by
    ``seed`` and ``fold``: every prefix is a subsample, so a smaller one nests in a larger.

    Stratified, each class's rows are spread evenly through the order (its ``i``-th of
    ``n_c`` rows at ``i / n_c``) and its first ``per_class`` rows lead, so that even a small
    prefix holds every class, with rows enough for a stratified inner split.

    >>> y = np.array(["a"] * 90 + ["b"] * 10)
    >>> order = row_order(y, seed=0, fold=0, per_class=3)
    >>> sorted(y[order[:6]].tolist()), int((y[order[:50]] == "b").sum())
    (['a', 'a', 'a', 'b', 'b', 'b'], 5)
    """
    rng = np.random.default_rng([seed, zlib.crc32(b"data size"), fold])
    n = len(y)
    jitter = rng.random(n)
    if not stratify:
        return np.argsort(jitter, kind="stable")
    codes = pd.factorize(pd.Series(y))[0]
    priority = np.empty(n)
    for code in np.unique(codes):
        members = np.flatnonzero(codes == code)
        members = members[rng.permutation(len(members))]
        rank = np.arange(len(members), dtype=float)
        priority[members] = np.where(rank < per_class, rank - per_class, rank / len(members))
    return np.lexsort((jitter, priority))


# --- the raw points ---------------------------------------------------------------------------


def tuning_points(results: Sequence[Any]) -> pd.DataFrame:
    """The tuning-budget points of fold results (:class:`tuneworth.evaluate.FoldResult`
    with a ``curve``), one row per arm, fold and trial count, in :attr:`Marginal.folds`'
    columns."""
    rows = [
        {
            "family": TUNING_BUDGET,
            "arm": r.arm,
            "fold": r.fold,
            "step": int(trials),
            "score": float(score),
            "cpu_seconds": float(cpu),
        }
        for r in results
        for trials, score, cpu in r.curve
    ]
    return _ordered(pd.DataFrame(rows, columns=list(FOLD_COLUMNS)))


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Points arm by arm in the order the arms first appear (the baseline first), each by
    step and fold: the same table however the folds arrived (in parallel, on a cluster)."""
    rank = {arm: i for i, arm in enumerate(dict.fromkeys(frame["arm"]))}
    order = frame.assign(rank=frame["arm"].map(rank)).sort_values(
        ["rank", "step", "fold"], kind="stable"
    )
    return frame.loc[order.index].reset_index(drop=True)


def data_points(
    subsampled: Sequence[tuple[float, Any]], full: Sequence[Any], rows: int
) -> pd.DataFrame:
    """The data-size points: ``subsampled`` pairs a fraction with the fold result of an arm
    trained on it, ``full`` are the same arms' own fold results (the whole training fold).
    A point's step is the fraction of ``rows``, the training fold's rows, so that the folds
    (whose sizes differ by a row) share their steps. On a fold so small that two fractions
    round to the same rows, the larger fraction's point is kept: one point per step."""
    # Largest fraction first (a stable sort keeps the arms in the order of `full`).
    pairs = sorted([*((1.0, r) for r in full), *subsampled], key=lambda p: -p[0])
    frame = pd.DataFrame(
        [
            {
                "family": MORE_DATA,
                "arm": r.arm,
                "fold": r.fold,
                "step": subsample_size(rows, fraction),
                "score": r.score,
                "cpu_seconds": r.fit_cpu_seconds,
            }
            for fraction, r in pairs
        ],
        columns=list(FOLD_COLUMNS),
    )
    return _ordered(frame.drop_duplicates(["arm", "fold", "step"], keep="first"))


# --- what the points say --------------------------------------------------------------------


def summarise(
    folds: pd.DataFrame,
    results: pd.DataFrame,
    sign: float = 1.0,
    *,
    unit: str = "",
    baseline: str = "baseline",
    notes: Sequence[str] = (),
    alpha: float = ALPHA,
) -> Marginal:
    """The curves, their last doublings and the sentence, from the raw points.

    Parameters
    ----------
    folds : pandas.DataFrame
        The raw points (:attr:`Marginal.folds`).
    results : pandas.DataFrame
        The arms' fold table (:func:`tuneworth.evaluate.results_frame`): the baseline's
        scores on all rows, which every point is paired with, and the folds' sizes for the
        corrected t-test.
    sign : float
        The metric's :attr:`~tuneworth.metrics.Metric.sign`: gains are positive when better.
    unit : str
        The metric's label, for the sentence.
    baseline : str
        The baseline arm's name.
    notes : sequence of str
        What was not measured, and why; kept in :attr:`Marginal.notes`.
    alpha : float
        Level of the intervals and of the shape tests.
    """
    folds = folds.loc[:, list(FOLD_COLUMNS)].reset_index(drop=True)
    base = results[results["arm"] == baseline].set_index("fold")["score"]
    sizes = results.groupby("fold")[["n_train", "n_test"]].first()
    n_train, n_test = float(sizes["n_train"].mean()), float(sizes["n_test"].mean())
    curve_rows, step_rows = [], []
    for (family, arm), points in folds.groupby(["family", "arm"], sort=False):
        wide = points.pivot(index="fold", columns="step", values="score").sort_index(axis=1)
        cpu = points.groupby("step")["cpu_seconds"].mean()
        last = int(wide.columns[-1])
        for step in wide.columns:
            gains = sign * (wide[step] - base.reindex(wide.index))
            c = corrected_ttest(gains.to_numpy(), n_train, n_test, 1 - alpha)
            curve_rows.append(
                {
                    "family": family,
                    "arm": arm,
                    "step": int(step),
                    "unit": TRIALS if family == TUNING_BUDGET else ROWS,
                    "fraction": int(step) / last,
                    "cpu_seconds": float(cpu[step]),
                    "score": float(wide[step].mean()),
                    "gain": c.delta,
                    "ci_low": c.ci_low,
                    "ci_high": c.ci_high,
                    "n_folds": c.n_folds,
                }
            )
        if wide.shape[1] >= 2:
            step_rows.append(
                _last_doubling(str(family), str(arm), sign * wide, cpu, n_train, n_test, alpha)
            )
    curves = pd.DataFrame(curve_rows, columns=list(_CURVE_COLUMNS))
    steps = pd.DataFrame(step_rows, columns=list(_STEP_COLUMNS))
    return Marginal(folds, curves, steps, sentence(steps, unit, baseline), tuple(notes))


_CURVE_COLUMNS = (
    "family",
    "arm",
    "step",
    "unit",
    "fraction",
    "cpu_seconds",
    "score",
    "gain",
    "ci_low",
    "ci_high",
    "n_folds",
)
_STEP_COLUMNS = (
    "family",
    "arm",
    "from_step",
    "to_step",
    "gain",
    "ci_low",
    "ci_high",
    "p_value",
    "detectable",
    "outcome",
    "extra_cpu_seconds",
    "shape",
    "exponent",
    "next_gain",
    "next_low",
    "next_high",
    "per_1000_rows",
)


def _outcome(c: Comparison) -> str:
    """Better or worse when the interval leaves zero out, else within noise."""
    if math.isnan(c.ci_low) or c.ci_low <= 0 <= c.ci_high:
        return Outcome.NOISE
    return Outcome.of_gain(c.delta)


def _last_doubling(
    family: str,
    arm: str,
    oriented: pd.DataFrame,
    cpu: pd.Series,
    n_train: float,
    n_test: float,
    alpha: float,
) -> dict[str, Any]:
    """The last doubling of one curve (``oriented``: scores times the metric's sign, folds x
    ascending steps), with its paired interval; for a data-size curve also its shape and
    the extrapolated next doubling."""
    before, after = oriented.columns[-2], oriented.columns[-1]
    c = corrected_ttest((oriented[after] - oriented[before]).to_numpy(), n_train, n_test, 1 - alpha)
    row: dict[str, Any] = {
        "family": family,
        "arm": arm,
        "from_step": int(before),
        "to_step": int(after),
        "gain": c.delta,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "p_value": c.p_value,
        "detectable": c.detectable,
        "outcome": _outcome(c),
        "extra_cpu_seconds": float(cpu[after] - cpu[before]),
        "shape": "",
        "exponent": math.nan,
        "next_gain": math.nan,
        "next_low": math.nan,
        "next_high": math.nan,
        "per_1000_rows": math.nan,
    }
    if family != MORE_DATA:
        return row
    row["shape"] = shape(oriented, n_train, n_test, alpha)
    if row["shape"] != CONCAVE:
        return row  # a learning curve that is not well behaved is not extrapolated
    exponent = power_law_exponent(
        np.asarray(oriented.columns, dtype=float), oriented.mean(axis=0).to_numpy()
    )
    if math.isnan(exponent):
        return row
    # On s(n) = a - b n^-c every doubling gains 2^-c of the one before it.
    factor = 2.0**-exponent
    row.update(
        exponent=exponent,
        next_gain=factor * c.delta,
        next_low=factor * c.ci_low,
        next_high=factor * c.ci_high,
        # The next doubling adds as many training rows as there are now.
        per_1000_rows=factor * c.delta / int(after) * 1000,
    )
    return row


CONCAVE = "concave"
NOT_MONOTONE = "not monotone"
NOT_CONCAVE = "not concave"


def shape(oriented: pd.DataFrame, n_train: float, n_test: float, alpha: float = ALPHA) -> str:
    """Whether a data-size curve is well behaved, judged on its folds, not on its means.

    ``oriented`` holds scores times the metric's sign, folds x ascending steps (each step
    a doubling). The curve is *not monotone* when a doubling clearly loses (its paired gain's
    interval lies below zero), *not concave* when a doubling clearly gains more than the one
    before it (the paired difference of the two gains lies above zero); the tests are
    Holm-adjusted together, so that the noise of a flat curve is not flagged, and a curve
    with no clear violation is *concave*.
    """
    from tuneworth.stats import holm

    values = oriented.to_numpy(dtype=float)
    gains = np.diff(values, axis=1)
    tests: list[tuple[str, Comparison]] = []
    for j in range(gains.shape[1]):
        tests.append((NOT_MONOTONE, corrected_ttest(gains[:, j], n_train, n_test, 1 - alpha)))
    speedups = np.diff(gains, axis=1)
    for j in range(speedups.shape[1]):
        tests.append((NOT_CONCAVE, corrected_ttest(-speedups[:, j], n_train, n_test, 1 - alpha)))
    adjusted = holm([c.p_value for _, c in tests])
    # A violation is a significant test whose gain (or slow-down) is negative.
    violated = [
        flag for (flag, c), p in zip(tests, adjusted, strict=True) if p < alpha and c.delta < 0
    ]
    if NOT_MONOTONE in violated:
        return NOT_MONOTONE
    return NOT_CONCAVE if violated else CONCAVE


def power_law_exponent(rows: np.ndarray, scores: np.ndarray) -> float:
    """The exponent ``c`` of the power law ``s(n) = a - b n^-c`` fitted to a mean learning
    curve (``scores`` oriented so that greater is better, at training ``rows``); NaN when
    the curve does not rise (``b`` is zero: nothing to extrapolate) or the fit fails.

    >>> n = np.array([200.0, 400.0, 800.0, 1600.0])
    >>> round(power_law_exponent(n, 0.9 - 2.0 * n**-0.5), 3)
    0.5
    """
    from scipy.optimize import curve_fit

    x = rows / rows.max()
    rise = float(scores[-1] - scores[0])
    if not np.all(np.isfinite(scores)) or rise <= 0:
        return math.nan

    def law(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        return a - b * x**-c

    start = (float(scores[-1]) + rise, rise, 0.5)
    low, high = EXPONENT_BOUNDS
    try:
        (_, b, c), _ = curve_fit(
            law,
            x,
            scores,
            p0=start,
            bounds=([-np.inf, 0.0, low], [np.inf, np.inf, high]),
            maxfev=10_000,
        )
    except (RuntimeError, ValueError):
        return math.nan
    return float(c) if b > 0 else math.nan


# --- the sentence -------------------------------------------------------------------------------


def _num(value: float) -> str:
    return signed(value, missing="n/a")


def _interval(low: float, high: float) -> str:
    text = interval(low, high)
    return f" {text}" if text else ""


def is_flat(next_gain: float) -> bool:
    """Whether the extrapolated next doubling of the rows gains nothing measurable: its
    gain rounds to zero, or below, at the precision gains are said in. A slope of
    ``-0.000 per 1,000 rows`` is a flat curve, not a loss.

    >>> is_flat(0.0004), is_flat(-0.0003), is_flat(0.002), is_flat(float("nan"))
    (True, True, False, False)
    """
    return not math.isnan(next_gain) and float(f"{next_gain:.{DIGITS}f}") <= 0


def sentence(steps: pd.DataFrame, unit: str = "", baseline: str = "baseline") -> str:
    """Where the next CPU-hour of tuning, or the next batch of rows, pays most, in one
    sentence, from :attr:`Marginal.steps`; "" without curves.

    More tuning pays when a search's last doubling gained beyond the noise; more data when
    the extrapolated next doubling of the rows does (its interval above zero). A search
    whose last doubling is inside the noise says "stop tuning".
    """
    if steps.empty:
        return ""
    unit = f" {unit}" if unit else ""
    tuning = steps[steps["family"] == TUNING_BUDGET]
    data = steps[steps["family"] == MORE_DATA]
    tune_part, tune_pays = _tuning_clause(tuning, unit)
    data_part, data_pays = _data_clause(data, unit, baseline)
    if tuning.empty:
        lead = "More data pays: " if data_pays else "More data is not shown to pay: "
    elif data.empty:
        lead = "More tuning pays: " if tune_pays else "More tuning is not shown to pay: "
    elif data_pays and tune_pays:
        lead = "Both more data and more tuning pay: "
    elif data_pays:
        lead = "More data pays most: "
    elif tune_pays:
        lead = "More tuning pays most: "
    else:
        lead = "Neither more data nor more tuning is shown to pay: "
    first, second = (
        (tune_part, data_part) if tune_pays and not data_pays else (data_part, tune_part)
    )
    return lead + "; ".join(p for p in (first, second) if p) + "."


def _tuning_clause(tuning: pd.DataFrame, unit: str) -> tuple[str, bool]:
    """What the last doubling of the best search's budget bought, and whether it paid."""
    if tuning.empty:
        return "", False
    paid = tuning[tuning["outcome"] == Outcome.BETTER]
    ranked = (paid if not paid.empty else tuning).sort_values(
        "gain", ascending=False, kind="stable"
    )
    top = ranked.iloc[0]
    several = len(tuning) > 1
    what = (
        f"the last doubling of tuning ({top['arm'] + ', ' if several else ''}"
        f"{top['from_step']} to {top['to_step']} trials) added {_num(top['gain'])}{unit}"
        f"{_interval(top['ci_low'], top['ci_high'])}"
    )
    if top["outcome"] == Outcome.BETTER:
        cost = top["extra_cpu_seconds"]
        spent = f" for {cost:.3g} more CPU s per fold" if cost > 0 else ""
        return f"{what}{spent}, beyond the noise: a larger budget may pay more", True
    if top["outcome"] == Outcome.WORSE:
        return f"{what}, a loss beyond the noise: stop tuning", False
    detectable, gain = float(top.get("detectable", math.nan)), float(top["gain"])
    if no_spread(detectable) and gain == 0:
        # The best search's choice scored the same on every fold: there is no noise to be
        # inside, nor a detectable effect of 0.000 to report.
        rest = ", and no search gained beyond the noise" if several else ""
        return f"{what}, {NO_DIFFERENCE}{rest}: stop tuning", False
    where = " for every search" if several else ""
    # As every within-noise gain is said: with what these folds could have detected.
    seen = reach(detectable, gain)
    could = f" ({seen})" if seen else ""
    return f"{what}, inside the noise{where}{could}: stop tuning", False


def _data_clause(data: pd.DataFrame, unit: str, baseline: str) -> tuple[str, bool]:
    """What the next doubling of the rows is estimated to buy, and whether that pays."""
    if data.empty:
        return "", False
    # The best arm's curve when it has one (the model one would use), else the baseline's.
    best = data[data["arm"] != baseline]
    row = (best if not best.empty else data).iloc[0]
    rows = int(row["to_step"])
    to = f" to {row['arm']}" if row["arm"] != baseline else ""
    last = (
        f"the last doubling of the rows ({row['from_step']:,} to {rows:,} training rows) "
        f"added {_num(row['gain'])}{unit}{_interval(row['ci_low'], row['ci_high'])}{to}"
    )
    if row["shape"] != CONCAVE:
        of = f" of {row['arm']}" if to else ""
        return (
            f"the data-size curve{of} is {row['shape']}, as real learning curves can be, so "
            f"more rows are not extrapolated; {last}",
            False,
        )
    if math.isnan(row["next_gain"]) and row["outcome"] == Outcome.BETTER:
        return f"{last}, but no power law fits the curve, so the next is not extrapolated", False
    if math.isnan(row["next_gain"]):
        return f"{last}, inside the noise: the curve has flattened", False
    estimate = (
        f"doubling the training rows (+{rows:,}) is estimated to add "
        f"{_num(row['next_gain'])}{unit}{_interval(row['next_low'], row['next_high'])}{to}"
    )
    if is_flat(row["next_gain"]):
        return f"{estimate}: the curve is flat, no measurable gain per 1,000 rows", False
    estimate += f" ({signed_small(row['per_1000_rows'], missing='n/a')} per 1,000 rows)"
    if row["next_low"] > 0:
        return estimate, True
    return f"{estimate}, inside the noise", False
