"""Reading a fitted search: its trial table, what it found, and how fast it found it.

Every strategy's search, scikit-learn's or Optuna's, reads the same way here: one row per
evaluation (:func:`trial_table`), its outcome in the metric's natural orientation
(:func:`search_outcome`), the best score after each configuration (:func:`best_so_far`)
and the configurations needed to reach a target (:func:`trials_to_match`). Nothing here
builds or fits a search; :mod:`tuneworth.search` does.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tuneworth.metrics import orientation

# Inner scores of one configuration on the same splits are bit-identical; this only absorbs
# summation-order noise between strategies that average the same fold scores.
_MATCH_TOLERANCE = 1e-12


class Searched(Protocol):
    """What :func:`trials_frame` reads of a fold result."""

    @property
    def arm(self) -> str: ...

    @property
    def fold(self) -> int: ...

    @property
    def trials(self) -> pd.DataFrame | None: ...


def trials_frame(results: Iterable[Searched]) -> pd.DataFrame:
    """Every search trial of ``results`` (fold results of one arm or many) in one table:
    ``arm``, ``fold``, then the columns of :func:`trial_table`; empty without searches.

    >>> import pandas as pd
    >>> from types import SimpleNamespace as Fold
    >>> trials = pd.DataFrame({"trial": [0, 1], "score": [0.8, 0.9]})
    >>> folds = [Fold(arm="grid", fold=3, trials=trials), Fold(arm="b", fold=0, trials=None)]
    >>> trials_frame(folds)
        arm  fold  trial  score
    0  grid     3      0    0.8
    1  grid     3      1    0.9
    """
    tables = [r.trials.assign(arm=r.arm, fold=r.fold) for r in results if r.trials is not None]
    if not tables:
        return pd.DataFrame()
    frame = pd.concat(tables, ignore_index=True)
    return frame[["arm", "fold", *[c for c in frame.columns if c not in ("arm", "fold")]]]


class SearchError(RuntimeError):
    """Every configuration of a search failed."""


def report_failures(table: pd.DataFrame, first_error: str) -> None:
    """Raise if no configuration succeeded; else one short warning if some failed."""
    configs = table.drop_duplicates("candidate")  # a halving candidate's first rung
    failed = int((configs["state"] != "complete").sum())
    if not (table["state"] == "complete").any():
        raise SearchError(
            f"every one of the {len(configs)} configurations failed; the first error: {first_error}"
        )
    if failed:
        from sklearn.exceptions import FitFailedWarning

        warnings.warn(
            f"{failed} of {len(configs)} configurations failed; the first error: {first_error}",
            FitFailedWarning,
            stacklevel=3,
        )


def study_table(trials: Sequence[Any]) -> pd.DataFrame:
    """The trial table (see :func:`trial_table`) of finished Optuna trials, in the order given.

    ``trial`` and ``candidate`` count from 0 in that order; fit seconds and error are the
    ``fit_seconds`` and ``error`` user attributes.

    Examples
    --------
    >>> import optuna
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    >>> study_table(study.trials)[["trial", "state"]].to_dict("list")
    {'trial': [0, 1], 'state': ['complete', 'complete']}
    """
    rows = []
    for position, trial in enumerate(trials):
        error = trial.user_attrs.get("error", "")
        if trial.state.name == "FAIL" and not error:
            error = "its worker died on every attempt (heartbeat lost)"
        rows.append(
            {
                "trial": position,
                "candidate": position,
                "comparable": True,
                "state": trial.state.name.lower(),
                "score": trial.value if trial.value is not None else np.nan,
                "fit_seconds": trial.user_attrs.get("fit_seconds", np.nan),
                "error": error,
                **{f"param.{name}": value for name, value in trial.params.items()},
            }
        )
    return pd.DataFrame(rows)


def trial_table(search: Any) -> pd.DataFrame:
    """The evaluations of a fitted search, one row each, in the order they ran.

    Columns: ``trial`` (0-based), ``candidate`` (the configuration drawn as the
    ``candidate``-th, 0-based; differs from ``trial`` only for halving, which scores a
    candidate once per rung), ``comparable`` (scored on the full inner folds, so comparable
    across strategies: for halving only the last rung), ``state``, ``score`` (the scorer's
    orientation: greater is better), ``fit_seconds`` (summed over inner folds) and
    ``param.<name>``; halving adds ``rung`` and ``n_resources`` (rows per inner fit).
    """
    if hasattr(search, "trials_"):  # a search that keeps its own (OptunaSearchCV)
        return search.trials_.copy()
    results = search.cv_results_
    params: list[dict[str, Any]] = list(results["params"])
    table = pd.DataFrame({"trial": np.arange(len(params))})
    table["candidate"] = table["trial"]
    if "iter" in results:
        table["rung"] = np.asarray(results["iter"])
        table["n_resources"] = np.asarray(results["n_resources"])
        table["comparable"] = table["rung"] == table["rung"].max()
        # A survivor is the first candidate of the first rung with its parameters.
        keys = [json.dumps(p, sort_keys=True, default=repr) for p in params]
        first: dict[str, int] = {}
        for trial, (key, rung) in enumerate(zip(keys, table["rung"], strict=True)):
            if rung == 0:
                first.setdefault(key, trial)
            else:
                table.loc[trial, "candidate"] = first[key]
    else:
        table["comparable"] = True
    scores = np.asarray(results["mean_test_score"], dtype=float)
    table["state"] = np.where(np.isnan(scores), "fail", "complete")
    table["score"] = scores
    table["fit_seconds"] = np.asarray(results["mean_fit_time"]) * search.n_splits_
    for name in dict.fromkeys(name for p in params for name in p):
        table[f"param.{name}"] = [p.get(name) for p in params]
    return table


def search_outcome(search: Any, greater_is_better: bool) -> dict[str, Any]:
    """What a fitted search tells about itself, with scores in the metric's natural
    orientation (an RMSE is positive): ``n_fits`` (every inner fit plus the refit),
    ``best_params``, ``inner_best_score``, the ``trials`` table and an Optuna search's
    ``study`` name."""
    sign = orientation(greater_is_better)
    trials = trial_table(search)
    trials["score"] = sign * trials["score"]
    return {
        "n_fits": len(trials) * int(search.n_splits_) + 1,
        "best_params": dict(search.best_params_),
        "inner_best_score": sign * float(search.best_score_),
        "trials": trials,
        **({"study": str(search.study_name_)} if hasattr(search, "study_name_") else {}),
    }


def _curves(trials: pd.DataFrame, greater_is_better: bool) -> pd.DataFrame:
    """Per fold, after each number of configurations evaluated (candidates drawn, duplicates
    included): the best comparable inner score so far, oriented so that greater is better
    (NaN until the first one)."""
    sign = orientation(greater_is_better)
    rows = trials.sort_values(["fold", "trial"], kind="stable")
    counts = rows["comparable"].astype(bool) & (rows["state"] == "complete")
    oriented = (sign * rows["score"]).where(counts)
    best = oriented.groupby(rows["fold"]).cummax().groupby(rows["fold"]).ffill()
    configs = (~rows[["fold", "candidate"]].duplicated()).groupby(rows["fold"]).cumsum()
    frame = pd.DataFrame({"fold": rows["fold"], "configs": configs, "best": best})
    return frame.drop_duplicates(["fold", "configs"], keep="last").reset_index(drop=True)


def best_so_far(trials: pd.DataFrame, greater_is_better: bool = True) -> pd.Series:
    """Best inner score after each number of configurations evaluated, mean over folds.

    ``trials`` are trial tables with a ``fold`` column, scores in the metric's natural
    orientation. Failed and non-comparable evaluations (halving's lower rungs) are skipped.

    >>> trials = pd.DataFrame({"fold": [0, 0, 0, 1, 1, 1], "trial": [0, 1, 2] * 2,
    ...     "candidate": [0, 1, 2] * 2, "comparable": True, "state": "complete",
    ...     "score": [0.5, 0.7, 0.6, 0.8, 0.7, 0.9]})
    >>> best_so_far(trials).round(2).to_dict()
    {1: 0.65, 2: 0.75, 3: 0.8}
    """
    sign = orientation(greater_is_better)
    curves = _curves(trials, greater_is_better)
    wide = curves.pivot(index="configs", columns="fold", values="best").ffill()
    return (sign * wide.mean(axis=1)).dropna().rename("best_so_far")


def trials_to_match(
    trials: pd.DataFrame, targets: Mapping[int, float], greater_is_better: bool = True
) -> pd.Series:
    """Per fold, configurations evaluated until the best-so-far inner score first reached
    ``targets[fold]`` (1-based); infinity where it never did.

    >>> trials = pd.DataFrame({"fold": [0, 0, 0, 1, 1, 1], "trial": [0, 1, 2] * 2,
    ...     "candidate": [0, 1, 2] * 2, "comparable": True, "state": "complete",
    ...     "score": [0.5, 0.7, 0.6, 0.8, 0.7, 0.9]})
    >>> trials_to_match(trials, {0: 0.7, 1: 0.95}).to_dict()
    {0: 2.0, 1: inf}
    """
    sign = orientation(greater_is_better)
    curves = _curves(trials, greater_is_better)
    needed = {}
    for fold, target in targets.items():
        curve = curves[curves["fold"] == fold]
        hit = curve[curve["best"] >= sign * target - _MATCH_TOLERANCE]
        needed[fold] = float(hit["configs"].iloc[0]) if len(hit) else math.inf
    return pd.Series(needed, dtype=float, name="trials_to_match")
