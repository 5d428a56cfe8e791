"""Tuning strategies side by side: what each tuning arm's search found across the outer
folds, against grid search and against the same pipeline untuned.

Downstream of evaluation, beside :mod:`tuneworth.stats` and :mod:`tuneworth.verdict`: it
reads the arms' fold results (:class:`tuneworth.evaluate.FoldResult`) and their trial
tables (:mod:`tuneworth.trials`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tuneworth.evaluate import FoldResult
from tuneworth.levers import Lever, TuningLever
from tuneworth.metrics import Metric
from tuneworth.trials import trials_frame, trials_to_match


class ArmLike(Protocol):
    """What :func:`compare_strategies` needs of an arm."""

    @property
    def name(self) -> str: ...

    @property
    def levers(self) -> tuple[Lever, ...]: ...


def compare_strategies(
    arms: Sequence[ArmLike],
    results: Mapping[str, Sequence[FoldResult]],
    metric: Metric,
) -> pd.DataFrame:
    """One row per tuning arm: what its search found, against grid search and untuned.

    Arms compare when they apply the same non-tuning levers (they tune the same pipeline).
    Within such a group, the *untuned* arm has no tuning lever and the *grid* arm is the
    first grid search. Columns:

    - ``strategy``, ``untuned`` (that arm's name, "" if none)
    - ``configurations``: configurations drawn and evaluated (the budget spent), and
      ``distinct``: how many of them differ (random draws repeat on discrete spaces),
      medians over folds; ``random_startup``: how many of them a model-based search (TPE,
      GP) drew at random before its model proposed (NaN for the others)
    - ``inner_score``: the best inner CV score, mean over folds
    - ``optimism_gap``: best inner score minus the outer test score of the chosen
      configuration, mean over folds; positive when the inner CV was optimistic, for
      lower-is-better metrics too
    - ``trials_to_match_grid``: configurations evaluated until the best-so-far inner score
      reached grid search's best inner score on the same fold, median over folds (infinite:
      not reached on most folds); ``folds_matching_grid`` counts the folds that reached it.
      Only scores on the full inner folds count, so successive halving, whose last rung
      alone is scored on them, after all its candidates, counts its whole budget or never
    - ``gain_vs_untuned``: mean paired outer-score gain over the untuned arm (positive is
      better, for lower-is-better metrics too)
    - ``cost_vs_untuned``: fit CPU seconds relative to the untuned arm
    """

    def search_lever(arm: ArmLike) -> TuningLever | None:
        tuning = [lever for lever in arm.levers if isinstance(lever, TuningLever)]
        return tuning[-1] if tuning else None

    def strategy(arm: ArmLike) -> str:
        lever = search_lever(arm)
        return lever.name if lever is not None else ""

    def group(arm: ArmLike) -> str:
        levers = [
            [lever.name, lever.model_dump(mode="json", by_alias=True)]
            for lever in arm.levers
            if not isinstance(lever, TuningLever)
        ]
        return json.dumps(levers, sort_keys=True, default=str)

    untuned: dict[str, str] = {}
    grids: dict[str, str] = {}
    for arm in arms:
        if not strategy(arm):
            untuned.setdefault(group(arm), arm.name)
        elif strategy(arm) == "grid_search":
            grids.setdefault(group(arm), arm.name)

    def scored(name: str) -> dict[int, FoldResult]:
        return {r.fold: r for r in results.get(name, ()) if not r.failed}

    sign = metric.sign
    rows = []
    for arm in arms:
        if not strategy(arm):
            continue
        folds = scored(arm.name)
        table = trials_frame(folds.values())
        trials = table.drop(columns="arm") if not table.empty else None
        row: dict[str, Any] = {
            "arm": arm.name,
            "strategy": strategy(arm),
            "untuned": untuned.get(group(arm), ""),
            "configurations": math.nan,
            "distinct": math.nan,
            "random_startup": math.nan,
            "inner_score": math.nan,
            "optimism_gap": math.nan,
            "trials_to_match_grid": math.nan,
            "folds_matching_grid": 0,
            "gain_vs_untuned": math.nan,
            "cost_vs_untuned": math.nan,
        }
        if trials is not None:
            row["configurations"] = float(trials.groupby("fold")["candidate"].nunique().median())
            params = [c for c in trials.columns if c.startswith("param.")]
            distinct = trials.astype({c: str for c in params}).drop_duplicates(["fold", *params])
            row["distinct"] = float(distinct.groupby("fold").size().median())
            lever = search_lever(arm)
            startup = lever.random_startup(int(row["configurations"])) if lever else None
            row["random_startup"] = math.nan if startup is None else float(startup)
            row["inner_score"] = float(np.mean([r.inner_best_score for r in folds.values()]))
            row["optimism_gap"] = float(
                np.mean([sign * (r.inner_best_score - r.score) for r in folds.values()])
            )
            grid_folds = scored(grids.get(group(arm), ""))
            targets = {f: r.inner_best_score for f, r in grid_folds.items() if f in folds}
            if targets:
                needed = trials_to_match(trials, targets, metric.greater_is_better)
                row["trials_to_match_grid"] = float(np.median(needed))
                row["folds_matching_grid"] = int(np.isfinite(needed).sum())
        twin = scored(row["untuned"])
        common = sorted(set(folds) & set(twin))
        if common:
            row["gain_vs_untuned"] = float(
                np.mean([sign * (folds[f].score - twin[f].score) for f in common])
            )
            base = sum(twin[f].fit_cpu_seconds for f in common)
            cost = sum(folds[f].fit_cpu_seconds for f in common)
            row["cost_vs_untuned"] = cost / base if base > 0 else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=list(_COMPARISON_COLUMNS))


_COMPARISON_COLUMNS = (
    "arm",
    "strategy",
    "untuned",
    "configurations",
    "distinct",
    "random_startup",
    "inner_score",
    "optimism_gap",
    "trials_to_match_grid",
    "folds_matching_grid",
    "gain_vs_untuned",
    "cost_vs_untuned",
)
