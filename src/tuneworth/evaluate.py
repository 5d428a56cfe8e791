"""Arms x outer folds -> fold results. Pure: no tracking, no printing.

Every arm is fitted on the same outer splits, so any two arms can be compared fold by fold.
Work fans out over (arm, fold) pairs, the outermost level, with joblib; everything inside a
task runs on one thread so two workers never fight over the cores.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tuneworth.data import Task
from tuneworth.metrics import Metric


@dataclass(frozen=True)
class Split:
    """One outer fold: ``index`` counts over all repeats."""

    index: int
    repeat: int
    train: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class FoldResult:
    """What one arm did on one outer fold."""

    arm: str
    fold: int
    repeat: int
    score: float
    fit_seconds: float
    fit_cpu_seconds: float
    predict_seconds: float
    n_fits: int
    n_train: int
    n_test: int
    error: str | None = None
    warnings: tuple[str, ...] = ()
    best_params: Mapping[str, Any] = field(default_factory=dict)
    inner_best_score: float = float("nan")  # a search's best inner CV score, as ``score``
    trials: pd.DataFrame | None = None  # a search's trials (tuneworth.search.trial_table)

    @property
    def failed(self) -> bool:
        return self.error is not None


def make_splits(y: pd.Series, task: Task, folds: int, repeats: int, seed: int) -> list[Split]:
    """One repeated (stratified for classification) K-fold, materialised once for all arms."""
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    splitter: Any
    if task == "regression":
        splitter = RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    else:
        splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    return [
        Split(index=i, repeat=i // folds, train=train, test=test)
        for i, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y))
    ]


def evaluate(
    pipelines: Mapping[str, Any],
    X: pd.DataFrame,
    y: pd.Series,
    splits: list[Split],
    metric: Metric,
    n_jobs: int = 1,
    skip: frozenset[tuple[str, int]] = frozenset(),
) -> Iterator[FoldResult]:
    """Fit every arm's pipeline on every outer training fold and score it on the test fold.

    Results are yielded as they finish, in no particular order. ``skip`` lists (arm, fold)
    pairs that need no work.
    """
    from joblib import Parallel, delayed

    tasks = [
        delayed(fit_and_score)(name, pipeline, X, y, split, metric)
        for name, pipeline in pipelines.items()
        for split in splits
        if (name, split.index) not in skip
    ]
    if not tasks:
        return
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    yield from parallel(tasks)


def fit_and_score(
    arm: str, pipeline: Any, X: pd.DataFrame, y: pd.Series, split: Split, metric: Metric
) -> FoldResult:
    """Fit a clone of ``pipeline`` on the split's training rows and score its test rows."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from tuneworth.search import search_outcome

    X_train, y_train = X.iloc[split.train], y.iloc[split.train]
    X_test, y_test = X.iloc[split.test], y.iloc[split.test]
    estimator = clone(pipeline)
    common: dict[str, Any] = {
        "arm": arm,
        "fold": split.index,
        "repeat": split.repeat,
        "n_train": len(split.train),
        "n_test": len(split.test),
    }
    with threadpool_limits(limits=1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            estimator.fit(X_train, y_train)
        except Exception as exc:  # a failing fit is a result, not a crash
            return FoldResult(
                **common,
                score=float("nan"),
                fit_seconds=time.perf_counter() - wall,
                fit_cpu_seconds=time.process_time() - cpu,
                predict_seconds=0.0,
                n_fits=0,
                error=f"{type(exc).__name__}: {exc}".splitlines()[0],
                warnings=_unique(caught),
            )
        fit_seconds, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
        start = time.perf_counter()
        try:
            score = metric.score(estimator, X_test, y_test)
            error = None
        except Exception as exc:
            score, error = float("nan"), f"{type(exc).__name__}: {exc}".splitlines()[0]
        predict_seconds = time.perf_counter() - start
    is_search = hasattr(estimator, "best_params_")
    return FoldResult(
        **common,
        score=score,
        fit_seconds=fit_seconds,
        fit_cpu_seconds=fit_cpu,
        predict_seconds=predict_seconds,
        error=error,
        warnings=_unique(caught),
        **(search_outcome(estimator, metric.greater_is_better) if is_search else {"n_fits": 1}),
    )


def _unique(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in caught:
        seen.setdefault(f"{item.category.__name__}: {str(item.message).splitlines()[0]}")
    return tuple(seen)


def results_frame(results: list[FoldResult]) -> pd.DataFrame:
    """Fold results as a tidy table, one row per (arm, fold), sorted."""
    rows = [
        {
            "arm": r.arm,
            "fold": r.fold,
            "repeat": r.repeat,
            "score": r.score,
            "fit_seconds": r.fit_seconds,
            "fit_cpu_seconds": r.fit_cpu_seconds,
            "predict_seconds": r.predict_seconds,
            "n_fits": r.n_fits,
            "n_train": r.n_train,
            "n_test": r.n_test,
            "inner_best_score": r.inner_best_score,
            "error": r.error or "",
        }
        for r in results
    ]
    return pd.DataFrame(rows).sort_values(["arm", "fold"], kind="stable").reset_index(drop=True)
