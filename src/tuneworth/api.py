"""The Python API: :func:`compare` levers against a baseline on a table in memory.

A spec file and ``tuneworth run`` build the same call from YAML: both plan with
:func:`tuneworth.planning.build_plan` and run with :func:`tuneworth.comparison.run_plan`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from tuneworth.comparison import Comparison, Progress, run_plan
from tuneworth.data import Role, Task, frame_dataset, normalise_dtypes
from tuneworth.errors import TuneworthError
from tuneworth.levers import Lever
from tuneworth.planning import build_plan
from tuneworth.spec import BaselineSpec, BudgetSpec, CVSpec, Design, parse_spec

if TYPE_CHECKING:
    from tuneworth.tracking import Tracker

# The spec's sections under the names a notebook uses.
Baseline = BaselineSpec
CV = CVSpec
Budget = BudgetSpec

LeverLike = Lever | type[Lever] | str | Mapping[str, Any]


def compare(
    X: pd.DataFrame | np.ndarray,
    y: pd.Series | np.ndarray | Sequence[Any],
    *,
    levers: Sequence[LeverLike] = (),
    baseline: str | Baseline | Mapping[str, Any] = "linear",
    metric: str | None = None,
    cv: int | CV | Mapping[str, Any] = 5,
    design: Design = "one_at_a_time",
    budget: int | Budget | Mapping[str, Any] = 20,
    seed: int = 0,
    n_jobs: int = 1,
    task: Task | Literal["auto"] = "auto",
    roles: Mapping[str, Role] | None = None,
    name: str = "comparison",
    tracking: str | Tracker | None = None,
    progress: Progress | None = None,
    curves: bool = True,
) -> Comparison:
    """Compare ``levers`` with a ``baseline`` on the same outer folds of ``(X, y)``.

    Each lever runs as one arm (with ``design="one_at_a_time"``): the baseline's pipeline
    with that change. Every arm is fitted and scored on the same repeated outer folds,
    searches tune on inner folds of each training fold only, and each arm's gain over the
    baseline is tested with the corrected resampled t-test, Holm-adjusted across arms.

    Parameters
    ----------
    X : pandas.DataFrame or numpy.ndarray
        The features; each column's role (numeric, categorical, text, date) is inferred
        unless ``roles`` gives it. An array's columns are named ``x0``, ``x1``, ...
    y : pandas.Series or array-like
        The target, one value per row of ``X``.
    levers : sequence of Lever, lever class, str or mapping
        The changes to compare: lever objects (:mod:`tuneworth.levers`, e.g.
        ``GridSearch(trials=10)``), a lever class for its defaults, or a spec's lever
        (``"grid_search"``, ``{"scaling": {"method": "standard"}}``).
    baseline : str, Baseline or mapping
        The model name (``"linear"``, ``"random_forest"``, ...) or a :class:`Baseline`
        with the model's parameters, its preprocessing and its search space.
    metric : str, optional
        The metric (``"roc_auc"``, ``"log_loss"``, ``"rmse"``, ...); by default the
        task's.
    cv : int, CV or mapping
        The outer folds: ``5`` is five folds (repeated as :class:`CV`'s default, twice), or
        ``CV(folds=5, repeats=3, inner_folds=3)``.
    design : {"one_at_a_time", "ladder", "factorial"}
        How levers combine into arms.
    budget : int, Budget or mapping
        Configurations each search evaluates per outer fold (``20``), or
        ``Budget(trials=20, time="10m")``: with a ``time``, the arms still running when it
        runs out are cut and named in the verdict.
    seed : int
        Seeds the folds, the models and the searches.
    n_jobs : int
        Arm-folds run at once (``-1``: every core).
    task : {"auto", "binary", "multiclass", "regression"}
        Inferred from ``y`` by default.
    roles : mapping, optional
        Column roles that override the inferred ones, e.g. ``{"comment": "text"}``.
    name : str
        The comparison's name: the report's title and, when tracked, the MLflow experiment.
    tracking : str or Tracker, optional
        An MLflow tracking URI or a :class:`tuneworth.tracking.Tracker`: the study is
        written there as ``tuneworth run`` writes it, by a URI's tracker in a process of
        its own (:mod:`tuneworth.tracking_process`), by a tracker given here in this
        process. Without one nothing is written anywhere and MLflow is not imported.
    progress : Progress, optional
        Told of each arm-fold as it finishes.
    curves : bool
        Measure the marginal gains (``.marginal``, :mod:`tuneworth.marginal`): each random
        or Optuna search's outer score after 1, 2, 4, ... trials, and the baseline and the
        best arm trained on 1/8, 1/4 and 1/2 of every training fold, with the sentence
        that says whether more tuning or more data pays most. False skips them.

    Returns
    -------
    Comparison
        The fold results (``.results``), the per-arm summary (``.summary``), the verdict
        (``.verdict``), the marginal gains (``.marginal``), plots (``.plot()``) and the
        report (``.report(path)``); a notebook shows its headline, table and verdict.

    Raises
    ------
    TuneworthError
        For input the comparison cannot run on, naming the argument.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from tuneworth import CV, compare
    >>> from tuneworth.levers import RandomSearch, Scaling
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> result = compare(
    ...     X, y, levers=[Scaling(method="standard"), RandomSearch(trials=3)],
    ...     cv=CV(folds=3, repeats=1, inner_folds=2),
    ... )
    >>> result.headline()
    'Keep the baseline: no arm beats it beyond the noise; no search beats the noise.'
    >>> result.summary[["arm", "score_mean", "outcome"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
                           arm  score_mean       outcome
    0                 baseline       0.991
    1         standard scaling       0.995  within noise
    2  random search, 3 trials       0.991  within noise
    >>> result.results.groupby("arm").size().tolist()
    [3, 3, 3]
    """
    frame, target, source = _table(X, y)
    document: dict[str, Any] = {
        "name": name,
        "dataset": {
            "source": source,
            "target": target,
            "task": task,
            **({"roles": dict(roles)} if roles else {}),
        },
        "metric": metric,
        "cv": _section(cv, "folds"),
        "baseline": _section(baseline, "model"),
        "levers": [_lever(lever) for lever in levers],
        "design": design,
        "budget": _section(budget, "trials"),
        "seed": seed,
        "curves": curves,
    }
    spec = parse_spec(document, "compare")
    dataset = frame_dataset(
        frame,
        target,
        spec.dataset.task,
        roles=spec.dataset.roles,
        source=source,
        target_setting="y's name",
    )
    plan = build_plan(spec, dataset)
    time_budget = _time_budget(spec.budget.time)
    deadline = time_budget.deadline if time_budget is not None else None
    if tracking is None:
        return run_plan(
            plan, n_jobs=n_jobs, budget=time_budget, deadline=deadline, progress=progress
        )
    from tuneworth.experiment import run_tracked
    from tuneworth.tracking import Tracker, resolve_tracking_uri
    from tuneworth.tracking_process import remote_tracker

    with ExitStack() as stack:
        tracker = (
            tracking
            if isinstance(tracking, Tracker)
            else stack.enter_context(remote_tracker(resolve_tracking_uri(tracking)))
        )
        return run_tracked(
            plan,
            tracker,
            n_jobs=n_jobs,
            budget=time_budget,
            deadline=deadline,
            progress=progress,
        ).comparison


def _table(X: Any, y: Any) -> tuple[pd.DataFrame, str, str]:
    """One table of the features and the target, the target's column and the source's
    name for notes and errors."""
    source = "DataFrame" if isinstance(X, pd.DataFrame) else "array"
    if isinstance(X, pd.DataFrame):
        features = X.reset_index(drop=True)
    else:
        values = np.asarray(X)
        if values.ndim != 2:
            raise TuneworthError(f"X: a table of rows and columns, not {values.ndim}-dimensional")
        features = pd.DataFrame(values, columns=[f"x{i}" for i in range(values.shape[1])])
    target = (y if isinstance(y, pd.Series) else pd.Series(np.asarray(y))).reset_index(drop=True)
    if len(target) != len(features):
        raise TuneworthError(f"y has {len(target)} values for the {len(features)} rows of X")
    name = str(target.name) if target.name is not None else "target"
    columns = {str(c) for c in features.columns}
    suffix = 1
    while name in columns:  # a target named as a feature keeps both columns apart
        name, suffix = f"{target.name}_{suffix}", suffix + 1
    frame = normalise_dtypes(pd.concat([features, target.rename(name)], axis=1))
    return frame, name, source


def _section(value: Any, key: str) -> Any:
    """A spec section from a scalar (its main ``key``), a mapping or a section model."""
    if isinstance(value, Baseline | CV | Budget):
        return value.model_dump(exclude_unset=True)
    if isinstance(value, Mapping):
        return dict(value)
    return {key: value}


def _lever(lever: LeverLike) -> Any:
    """A spec's lever item (a name or ``{name: params}``) or a lever object."""
    if isinstance(lever, type) and issubclass(lever, Lever):
        return lever()
    if isinstance(lever, Mapping):
        return dict(lever)
    return lever


def _time_budget(duration: str | None) -> Any:
    """The :class:`tuneworth.budget.TimeBudget` of a ``budget.time``, starting now."""
    if duration is None:
        return None
    from tuneworth.budget import TimeBudget, budget_label, finish_reserve, parse_duration

    seconds = parse_duration(duration, "budget.time")
    deadline = time.time() + seconds - finish_reserve(seconds)
    return TimeBudget(seconds, deadline, budget_label(seconds))
