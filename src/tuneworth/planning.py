"""From a spec and its data to a plan: the arms, their pipelines and the shared splits.

Everything here is pure and checks the input: a spec the data cannot fill (too few rows
for the folds, a model parameter out of range) stops before any fit, naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from tuneworth.data import Dataset, shown
from tuneworth.design import Arm, build_arms, build_pipeline, preprocessor_for, resolve_encoding
from tuneworth.errors import TuneworthError
from tuneworth.evaluate import Inject, Split, make_splits
from tuneworth.levers import BuildContext
from tuneworth.metrics import Metric, resolve_metric
from tuneworth.search import name_studies
from tuneworth.spec import Spec


@dataclass(frozen=True)
class Plan:
    """Everything needed to run, checked: the data, the arms and the shared splits."""

    spec: Spec
    dataset: Dataset
    metric: Metric
    arms: list[Arm]
    pipelines: dict[str, Any]
    splits: list[Split]
    inject: Inject | None = None

    @property
    def tuned(self) -> bool:
        """Whether an arm runs a search."""
        return tuned(self.arms)


def tuned(arms: Sequence[Arm]) -> bool:
    """Whether one of ``arms`` runs a search (tuning is always an arm's last family)."""
    return any(arm.families[-1:] == ("tuning",) for arm in arms)


def build_plan(spec: Spec, dataset: Dataset, inject: Inject | None = None) -> Plan:
    """The arms of ``spec`` on ``dataset``, their pipelines and the shared outer splits;
    raises :class:`TuneworthError` when the data cannot fill the folds or a model's
    parameters break its constraints. ``inject`` corrupts each training fold (a spec's
    defects, see :func:`tuneworth.experiment.plan_experiment`)."""
    metric = resolve_metric(spec.metric, dataset.task)
    check_model_parameters(spec, dataset.task)
    arms = build_arms(spec)
    inner = spec.cv.inner_folds if tuned(arms) else None
    check_folds(dataset.y, dataset.task, spec.cv.folds, inner)
    ctx = BuildContext(
        schema=dataset.schema,
        task=dataset.task,
        metric=metric,
        seed=spec.seed,
        inner_folds=spec.cv.inner_folds,
        trials=spec.budget.trials,
        experiment=spec.name,
    )
    splits = make_splits(dataset.y, dataset.task, spec.cv.folds, spec.cv.repeats, spec.seed)
    labels, adjusted = adjustments(spec, dataset, splits)
    if adjusted:
        dataset = replace(dataset, notes=dataset.notes + tuple(adjusted))
    arms = [arm.relabelled(labels) for arm in arms]
    # Optuna studies are named <experiment>/<arm>/r<repeat>-f<fold>, here and in a worker.
    pipelines = {
        arm.name: name_studies(build_pipeline(arm, spec.baseline, ctx), f"{spec.name}/{arm.name}")
        for arm in arms
    }
    return Plan(spec, dataset, metric, arms, pipelines, splits, inject)


def adjustments(
    spec: Spec, dataset: Dataset, splits: list[Split]
) -> tuple[dict[str, str], list[str]]:
    """Levers the data will make act otherwise than the spec says: a label for each that
    says what runs, and a note for the user.

    SMOTE lowers ``k_neighbors`` for a class with too few rows in a training fold (and
    duplicates a class of one row); a feature selection keeps every feature when ``k`` is
    at least their number after encoding.
    """
    from tuneworth.levers import FeatureSelection, SmoteOversampling

    labels: dict[str, str] = {}
    notes: list[str] = []
    smote = [lv for lv in spec.levers if isinstance(lv, SmoteOversampling)]
    if smote and dataset.task != "regression":
        # The classes SMOTE grows are all but the largest, in every training fold.
        counts = [dataset.y.iloc[split.train].value_counts() for split in splits]
        grown = [(int(c.min()), c.idxmin()) for c in counts if len(c) > 1]
        rows, label = min(grown, key=lambda item: item[0]) if grown else (0, None)
        for lever in smote:
            if grown and rows - 1 < lever.k_neighbors:
                k = rows - 1
                used = f"k lowered to {k}" if k else "class duplicated"
                labels[lever.describe()] = f"{lever.describe()} ({used})"
                what = f"lowered to {k}" if k else "not usable: its rows are duplicated instead"
                notes.append(
                    f"SMOTE: k_neighbors {lever.k_neighbors} {what} in some training folds, "
                    f"where class {shown(label)} has only {rows} rows; set "
                    f"smote.k_neighbors to at most {max(k, 1)} to silence this"
                )
    selections = [
        lv for lv in spec.levers if isinstance(lv, FeatureSelection) and lv.method == "mutual_info"
    ]
    if selections:
        available = encoded_features(spec, dataset)
        for selection in selections:
            if selection.k >= available:
                labels[selection.describe()] = f"{selection.describe()} (all {available})"
                notes.append(
                    f"feature_selection: k = {selection.k} is not below the {available} features "
                    "after encoding, so it keeps them all; lower k to select"
                )
    return labels, notes


def encoded_features(spec: Spec, dataset: Dataset) -> int:
    """How many columns the baseline's preprocessing makes of the data (one-hot encoding
    turns one column into several): the features a selection chooses among."""
    # Encoded as a selecting arm encodes (a booster's native categories become one-hot).
    selecting = spec.baseline.preprocess.model_copy(update={"select": "mutual_info"})
    settings = resolve_encoding(selecting, spec.baseline.model).model_copy(
        update={"select": "none"}
    )
    preprocessor = preprocessor_for(settings, spec.baseline.model, dataset.schema, spec.seed)
    return int(preprocessor.fit_transform(dataset.X, dataset.y).shape[1])


def check_model_parameters(spec: Spec, task: str) -> None:
    """Check every model's parameters against the estimator's own constraints, so that a
    spec with ``C: -1`` or ``n_estimators: ten`` stops before any work, naming the key."""
    from tuneworth.levers import ModelLever
    from tuneworth.models import get_model

    models = [("baseline.params", spec.baseline.model, spec.baseline.params)]
    models += [
        (f"levers.{index}.model.params", lever.model, lever.params)
        for index, lever in enumerate(spec.levers)
        if isinstance(lever, ModelLever)
    ]
    for where, name, params in models:
        if not params:
            continue
        try:
            estimator = get_model(name).make(task, spec.seed, params)  # type: ignore[arg-type]
        except TuneworthError as exc:
            raise TuneworthError(f"{where}: {exc}") from None
        problem = _invalid_parameter(estimator)
        if problem is not None:
            key, message = problem
            raise TuneworthError(f"{where}.{key}: {message}")


def _invalid_parameter(estimator: Any) -> tuple[str, str] | None:
    """The first parameter of ``estimator`` (or of an estimator inside it) that breaks the
    ``_parameter_constraints`` it declares, as ``(name, message)``.

    scikit-learn validates these at the start of ``fit``; calling the same validation here
    moves the error from every fold to the spec check. Nested estimators (a calibrated
    SVM's, an ensemble's members) are checked too, so the name is the user's key.
    """
    from sklearn.base import BaseEstimator

    pending = [estimator]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseEstimator):
            continue
        try:
            current._validate_params()
        except (ValueError, TypeError) as exc:
            message = str(exc).strip().splitlines()[0]
            found = re.search(r"The '([^']+)' parameter", message)
            return (found.group(1) if found else "?"), message
        for value in current.get_params(deep=False).values():
            if isinstance(value, BaseEstimator):
                pending.append(value)
            elif isinstance(value, list):
                pending += [item[-1] for item in value if isinstance(item, tuple)]
    return None


def check_folds(y: pd.Series, task: str, folds: int, inner_folds: int | None = None) -> None:
    """Refuse fold counts the data cannot fill, with advice that is checked to work.

    The outer (stratified) folds need every class to have a row in each test fold; a search
    (``inner_folds`` given) splits each outer training fold again, so its smallest class
    must fill the inner folds too. Every fix the error offers (fewer outer folds, fewer
    inner folds, both, or ``dataset.min_class_rows`` to drop the rare classes) passes both
    checks when applied, so following the advice leads to a run, not to the next error.
    """
    counts = pd.Series([len(y)]) if task == "regression" else y.value_counts()
    smallest, label = int(counts.min()), counts.idxmin()
    what = "rows" if task == "regression" else f"rows of class {shown(label)}"
    if not _fits(task, smallest, folds, None):
        problem = (
            f"{smallest} rows are too few for {folds} folds"
            if task == "regression"
            else f"class {shown(label)} has {_rows(smallest)}, fewer than the {folds} folds"
        )
    elif inner_folds is not None and not _fits(task, smallest, folds, inner_folds):
        problem = (
            f"an outer training fold holds about {smallest * (folds - 1) // folds} {what}, "
            f"too few for {inner_folds} inner folds"
        )
    else:
        return
    advice = _fold_advice(task, smallest, folds, inner_folds)
    if task != "regression":
        advice += _drop_advice(counts, folds, inner_folds)
    if not advice:
        advice = ["add rows" if task == "regression" else f"add rows of class {shown(label)}"]
    raise TuneworthError(f"{problem}: {', or '.join(advice)}")


def _rows(n: int) -> str:
    return "a single row" if n == 1 else f"{n} rows"


def _fits(task: str, smallest: int, folds: int, inner_folds: int | None) -> bool:
    """Whether a class (all the rows, for regression) of ``smallest`` rows fills the folds."""
    per_fold = 2 if task == "regression" else 1  # a regression fold needs 2 rows to score
    if smallest < per_fold * folds:
        return False
    train = smallest * (folds - 1) // folds  # the fewest an outer training fold holds
    return inner_folds is None or train >= per_fold * inner_folds


def _fold_advice(task: str, smallest: int, folds: int, inner_folds: int | None) -> list[str]:
    """Fewer outer folds, else fewer inner folds, else both: the largest counts that fit."""
    for outer in range(folds - 1, 1, -1):
        if _fits(task, smallest, outer, inner_folds):
            return [f"lower cv.folds to {outer}"]
    if inner_folds is None:
        return []
    for inner in range(inner_folds - 1, 1, -1):
        if _fits(task, smallest, folds, inner):
            return [f"lower cv.inner_folds to {inner}"]
    for outer in range(folds - 1, 1, -1):
        for inner in range(inner_folds - 1, 1, -1):
            if _fits(task, smallest, outer, inner):
                return [f"lower cv.folds to {outer} and cv.inner_folds to {inner}"]
    return []


def _drop_advice(counts: pd.Series, folds: int, inner_folds: int | None) -> list[str]:
    """``dataset.min_class_rows`` at the smallest class size that fills these folds, when
    at least two classes would stay."""
    needed = next(n for n in range(2, 10**9) if _fits("classification", n, folds, inner_folds))
    small = counts[counts < needed]
    if (counts >= needed).sum() < 2:
        return []
    listed = ", ".join(f"{shown(c)} ({_rows(int(n))})" for c, n in small.items())
    return [f"set dataset.min_class_rows: {needed} to drop the classes with fewer: {listed}"]
