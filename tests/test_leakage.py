"""Leakage: samplers and preprocessing learn from training rows only.

Inside ``cross_validate``, a grid search and an experiment's nested evaluation, every
sampler call receives exactly the training rows of one split, and never runs when a model
predicts; every fitted preprocessor's statistics come from training rows only. Rows are
traced by the DataFrame index, and by a ``tag`` column holding a distinct category per
row, which an encoder can only know if it was fitted on that row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

from tuneworth.data import Schema
from tuneworth.steps import (
    DuplicateFilter,
    LabelNoiseFilter,
    Mixup,
    NoiseInjection,
    OutlierFilter,
    Oversampler,
    Preprocessor,
)
from tuneworth.steps._sampling import TabularSampler

SAMPLERS = [
    LabelNoiseFilter(cv=3, random_state=0),
    OutlierFilter(threshold=1.0),
    DuplicateFilter(),
    NoiseInjection(random_state=0),
    Mixup(random_state=0),
    Oversampler(random_state=0),
    Oversampler("random", random_state=0),
]
CLEANERS = (LabelNoiseFilter, OutlierFilter, DuplicateFilter)


@pytest.fixture
def data() -> tuple[pd.DataFrame, pd.Series]:
    """A raw mixed table whose index labels are not positions, with a per-row tag."""
    rng = np.random.default_rng(0)
    n = 90
    y = pd.Series(np.where(np.arange(n) % 3 == 0, "yes", "no"), dtype="str")
    X = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1, n))
            + (y == "yes").to_numpy(),
            "k": rng.integers(0, 5, n),
            "colour": pd.Series(rng.choice(["red", "blue", None], n), dtype="str"),
            "tag": pd.Series([f"row{i}" for i in range(n)], dtype="str"),
        }
    )
    X.iloc[:4, :3] = X.iloc[4:8, :3].to_numpy()  # duplicates for the duplicate filter
    index = pd.Index(np.arange(1000, 1000 + n))
    return X.set_axis(index), y.set_axis(index)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[frozenset[int]]]:
    """Index labels of the rows every tuneworth sampler call receives."""
    calls: list[frozenset[int]] = []
    original = TabularSampler.fit_resample

    def recording(self: Any, X: Any, y: Any) -> Any:
        calls.append(frozenset(X.index))
        return original(self, X, y)

    monkeypatch.setattr(TabularSampler, "fit_resample", recording)
    yield calls


def pipeline(X: pd.DataFrame, sampler: Any, **preprocess: Any) -> Pipeline:
    steps: list[tuple[str, Any]] = [] if sampler is None else [("sample", sampler)]
    steps += [
        ("preprocess", Preprocessor(schema(X), **preprocess)),
        ("model", LogisticRegression(max_iter=1000)),
    ]
    return Pipeline(steps)


def schema(X: pd.DataFrame) -> Schema:
    # Built by hand: infer_schema would rightly exclude the ID-like tag column.
    numeric = ("x", "k")
    return Schema(numeric, tuple(c for c in X.columns if c not in numeric))


def labels(X: pd.DataFrame, positions: np.ndarray) -> frozenset[int]:
    return frozenset(X.index[positions])


def fitted_tags(estimator: Any) -> set[str]:
    columns = estimator.named_steps["preprocess"].transformer_
    encoder = columns.named_transformers_["categorical"][-1]
    return set(encoder.categories_[list(columns.transformers_[1][2]).index("tag")])


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: repr(s))
def test_in_cross_validate_samplers_see_only_training_folds_and_skip_test_folds(
    sampler: Any, data: tuple[pd.DataFrame, pd.Series], seen: list[frozenset[int]]
) -> None:
    X, y = data
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    result = cross_validate(
        pipeline(X, sampler),
        X,
        y,
        cv=folds,
        return_estimator=True,
        return_indices=True,
        error_score="raise",
    )
    trains = [labels(X, t) for t in result["indices"]["train"]]
    tests = [labels(X, t) for t in result["indices"]["test"]]
    # One call per training fold, with exactly its rows: none when scoring test folds.
    assert seen == trains
    assert not hasattr(sampler, "transform")
    for estimator, train, test in zip(result["estimator"], trains, tests, strict=True):
        tags = fitted_tags(estimator)
        train_tags = {f"row{i - 1000}" for i in train}
        assert not tags & {f"row{i - 1000}" for i in test}
        if isinstance(sampler, CLEANERS):
            assert tags <= train_tags
        else:
            assert tags == train_tags


@pytest.mark.parametrize(
    "sampler",
    [LabelNoiseFilter(cv=3, random_state=0), Oversampler(random_state=0)],
    ids=lambda s: type(s).__name__,
)
def test_in_a_grid_search_samplers_see_only_inner_training_folds(
    sampler: Any, data: tuple[pd.DataFrame, pd.Series], seen: list[frozenset[int]]
) -> None:
    X, y = data
    outer_train, outer_test = next(StratifiedKFold(3, shuffle=True, random_state=1).split(X, y))
    X_train, y_train = X.iloc[outer_train], y.iloc[outer_train]
    inner = StratifiedKFold(3, shuffle=True, random_state=2)
    search = GridSearchCV(
        pipeline(X, sampler), {"model__C": [0.1, 1.0]}, cv=inner, error_score="raise"
    )
    search.fit(X_train, y_train)
    search.score(X.iloc[outer_test], y.iloc[outer_test])
    inner_trains = [labels(X_train, t) for t, _ in inner.split(X_train, y_train)]
    # Each candidate on each inner training fold, then the refit on the outer training fold.
    assert sorted(map(sorted, seen)) == sorted(
        map(sorted, [*inner_trains, *inner_trains, labels(X, outer_train)])
    )
    assert all(not call & labels(X, outer_test) for call in seen)
    assert not fitted_tags(search.best_estimator_) & {
        f"row{i - 1000}" for i in labels(X, outer_test)
    }


@pytest.mark.parametrize(
    ("settings", "statistic"),
    [
        ({"scale": "standard"}, "scaler mean"),
        ({"impute": "median"}, "imputer median"),
        ({"encode": "target"}, "target mean"),
    ],
)
def test_preprocessing_statistics_come_from_the_training_fold_only(
    settings: dict[str, Any], statistic: str, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, y = data
    X = X.drop(columns="tag")
    result = cross_validate(
        pipeline(X, None, random_state=0, **settings),
        X,
        y,
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        return_estimator=True,
        return_indices=True,
    )
    for estimator, train in zip(result["estimator"], result["indices"]["train"], strict=True):
        columns = estimator.named_steps["preprocess"].transformer_
        numeric = columns.named_transformers_["numeric"]
        if statistic == "scaler mean":
            learned, expected = numeric[0].mean_, X.iloc[train][["x", "k"]].mean().to_numpy()
        elif statistic == "imputer median":
            learned, expected = numeric[0].statistics_, X.iloc[train][["x", "k"]].median()
        else:
            encoder = columns.named_transformers_["categorical"][-1]
            learned = encoder.target_mean_
            expected = (y.iloc[train] == encoder.classes_[1]).mean()
        np.testing.assert_allclose(learned, expected)


def test_an_experiment_arm_feeds_its_samplers_the_outer_then_inner_training_folds(
    seen: list[frozenset[int]],
) -> None:
    from tuneworth.design import Arm, build_pipeline
    from tuneworth.evaluate import fit_and_score
    from tuneworth.experiment import plan_experiment
    from tuneworth.levers import LEVERS, BuildContext
    from tuneworth.spec import parse_spec

    spec = parse_spec(
        {
            "name": "leak",
            "dataset": {"source": "sklearn:breast_cancer"},
            "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
            "baseline": {"model": "linear"},
        }
    )
    plan = plan_experiment(spec)
    ctx = BuildContext(
        schema=plan.dataset.schema,
        task=plan.dataset.task,
        metric=plan.metric,
        seed=0,
        inner_folds=2,
        trials=2,
    )
    levers = (LEVERS["smote"](), LEVERS["random_search"](trials=2))
    arm_pipeline = build_pipeline(Arm("smote + search", levers), spec.baseline, ctx)
    split = plan.splits[0]
    result = fit_and_score("arm", arm_pipeline, plan.dataset.X, plan.dataset.y, split, plan.metric)
    assert result.error is None
    outer_train, outer_test = frozenset(split.train), frozenset(split.test)
    # Whole-fold calls are the refit and the untimed warm-up fit of the plain pipeline.
    inner = [call for call in seen if call != outer_train]
    assert len(inner) == 2 * 2  # trials x inner folds
    assert seen[-1] == outer_train
    assert all(call < outer_train and not call & outer_test for call in inner)
