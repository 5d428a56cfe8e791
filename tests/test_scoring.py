"""tuneworth.scoring.Scorer returns, bit for bit, what scikit-learn's named scorer does."""

from __future__ import annotations

import pickle
import struct
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tuneworth.metrics import METRICS
from tuneworth.scoring import Scorer, scorer_name

SEEDS = range(40)


class _Proba(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted classifier whose outputs are given; ``X`` holds the row numbers to output."""

    def __init__(self, classes: Any = None, proba: Any = None, labels: Any = None) -> None:
        self.classes = classes
        self.proba = proba
        self.labels = labels

    def fit(self, X: Any, y: Any = None) -> _Proba:
        self.classes_ = np.asarray(self.classes)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.proba)[np.asarray(X).ravel()]

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.labels)[np.asarray(X).ravel()]


class _Decision(_Proba):
    def decision_function(self, X: Any) -> np.ndarray:
        return np.asarray(self.proba)[np.asarray(X).ravel()]


class _Regressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    def __init__(self, values: Any = None) -> None:
        self.values = values

    def fit(self, X: Any, y: Any = None) -> _Regressor:
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.values)[np.asarray(X).ravel()]


def _bits(value: float) -> bytes:
    return b"nan" if np.isnan(value) else struct.pack("<d", value)


def _outcome(scorer: Any, estimator: Any, y: Any, **kwargs: Any) -> tuple[Any, ...]:
    """The score's bits, or the error raised; and the warnings given, as (class, text)."""
    X = np.arange(len(y)).reshape(-1, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Any = _bits(float(scorer(estimator, X, y, **kwargs)))
        except Exception as exc:
            result = (type(exc), str(exc))
    return result, [(w.category, str(w.message)) for w in caught]


def _assert_same(name: str, estimator: Any, y: Any, **kwargs: Any) -> None:
    ours = _outcome(Scorer(name), estimator, y, **kwargs)
    theirs = _outcome(get_scorer(name), estimator, y, **kwargs)
    assert ours == theirs, (name, ours, theirs)


def _binary_scores(rng: np.random.Generator, n: int, kind: int) -> np.ndarray:
    """Positive-class scores: continuous, heavily tied, a few levels, or constant."""
    score = rng.random(n)
    if kind == 1:
        return np.round(score, 1)
    if kind == 2:
        return rng.integers(0, 3, n) / 2.0
    if kind == 3:
        return np.full(n, 0.5)
    return score


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_is_scikit_learns_to_the_bit_with_ties_and_any_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    classes = [
        np.array([0, 1]),
        np.array(["no", "yes"]),
        np.array([-1, 3]),
        np.array([False, True]),
    ][seed % 4]
    y = classes[rng.integers(0, 2, n)]
    y[0], y[-1] = classes[0], classes[1]  # both classes present
    p = _binary_scores(rng, n, seed % 4)
    _assert_same("roc_auc", _Proba(classes, np.c_[1 - p, p]).fit(None), y)
    _assert_same("roc_auc", _Decision(classes, 4 * p - 2).fit(None), y)
    _assert_same("roc_auc", _Decision(classes, (4 * p - 2).astype(np.float32)).fit(None), y)


def test_roc_auc_falls_back_to_scikit_learn_where_it_warns_or_raises() -> None:
    classes = np.array([0, 1])
    p = np.linspace(0, 1, 10)
    proba = _Proba(classes, np.c_[1 - p, p]).fit(None)
    _assert_same("roc_auc", proba, np.zeros(10, dtype=int))  # one class: a warning, NaN
    _assert_same("roc_auc", proba, np.ones(10, dtype=int))
    nan = np.where(p > 0.5, np.nan, p)
    _assert_same("roc_auc", _Proba(classes, np.c_[1 - nan, nan]).fit(None), np.arange(10) % 2)
    _assert_same("roc_auc", proba, np.arange(10) % 3)  # three classes in y
    _assert_same("roc_auc", proba, np.arange(10) % 2, sample_weight=np.arange(10.0))
    _assert_same("roc_auc", proba, pd.Series(np.arange(10) % 2, index=np.arange(10) * 3))


@pytest.mark.parametrize("seed", SEEDS)
def test_label_metrics_are_scikit_learns_to_the_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 200)), int(rng.integers(2, 6))
    classes = np.array(["a", "b", "c", "d", "e"][:k]) if seed % 2 else np.arange(k) * 2
    y = classes[rng.integers(0, k, n)]
    # Mostly right, sometimes a class y lacks (balanced accuracy then warns).
    labels = np.where(rng.random(n) < 0.7, y, classes[rng.integers(0, k, n)])
    estimator = _Proba(classes, np.full((n, k), 1 / k), labels).fit(None)
    for name in ("accuracy", "balanced_accuracy"):
        _assert_same(name, estimator, y)
        _assert_same(name, estimator, y.astype(object))
        _assert_same(name, estimator, y, sample_weight=rng.random(n))


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_f1_is_scikit_learns_to_the_bit_or_its_error(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    classes = [np.array([0, 1]), np.array([False, True]), np.array([1, 2]), np.array([0, 2])][
        seed % 4
    ]
    y = classes[rng.integers(0, 2, n)]
    # Sometimes never the positive label, in y or in the predictions: F1 is 0/0 and warns.
    chance = [0.0, 0.5, 0.9][seed % 3]
    labels = np.where(rng.random(n) < chance, y, classes[rng.integers(0, 2, n)])
    if seed % 5 == 0:
        y, labels = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    _assert_same("f1", _Proba(classes, np.full((n, 2), 0.5), labels).fit(None), y)


@pytest.mark.parametrize("seed", SEEDS)
def test_log_loss_is_scikit_learns_to_the_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(2, 200)), 2 + seed % 3
    classes = np.arange(k)
    raw = rng.random((n, k)) ** 3
    if seed % 4 == 0:
        raw[rng.random((n, k)) < 0.3] = 0.0  # zeros and ones, clipped
        raw[raw.sum(axis=1) == 0, 0] = 1.0
    proba = raw / raw.sum(axis=1, keepdims=True)
    y = classes[rng.integers(0, k, n)]
    y[:k] = classes  # every class present
    _assert_same("neg_log_loss", _Proba(classes, proba).fit(None), y)
    _assert_same("neg_log_loss", _Proba(classes, proba).fit(None), y[y != 0] if k > 2 else y)


def test_log_loss_falls_back_where_scikit_learn_warns_or_raises() -> None:
    classes = np.array([0, 1, 2])
    proba = np.tile([0.2, 0.3, 0.4], (6, 1))  # sums to 0.9: a warning
    _assert_same("neg_log_loss", _Proba(classes, proba).fit(None), np.arange(6) % 3)
    _assert_same("neg_log_loss", _Proba(classes, proba * 3).fit(None), np.arange(6) % 3)
    _assert_same("neg_log_loss", _Proba(classes, proba / 0.9).fit(None), np.zeros(6, dtype=int))


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_metrics_are_scikit_learns_to_the_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    y = rng.normal(size=n) * 10.0 ** rng.integers(-3, 4)
    if seed % 5 == 0:
        y = np.round(y).astype(np.int64)  # integer targets
    elif seed % 5 == 1:
        y = np.full(n, 2.5)  # constant: R² by its finite convention
    predicted = y + rng.normal(size=n) * (seed % 3)  # exact when seed % 3 == 0
    for name in ("r2", "neg_root_mean_squared_error", "neg_mean_absolute_error"):
        _assert_same(name, _Regressor(predicted.astype(np.float64)).fit(None), y)
        _assert_same(name, _Regressor(predicted.astype(np.float64)).fit(None), pd.Series(y))
    _assert_same("r2", _Regressor(np.where(predicted > 0, np.nan, 0.0)).fit(None), y)


def test_real_models_score_as_scikit_learn_scores_them() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    for model in (LogisticRegression(max_iter=5000), KNeighborsClassifier(7)):
        fitted = make_pipeline(StandardScaler(), model).fit(X[:350], y[:350])
        for name in ("roc_auc", "accuracy", "balanced_accuracy", "neg_log_loss", "f1", "f1_macro"):
            ours, theirs = (
                Scorer(name)(fitted, X[350:], y[350:]),
                get_scorer(name)(fitted, X[350:], y[350:]),
            )
            assert _bits(ours) == _bits(theirs), name
    X, y = load_iris(return_X_y=True)
    fitted = KNeighborsClassifier(5).fit(X[::2], y[::2])
    for name in ("accuracy", "balanced_accuracy", "neg_log_loss", "roc_auc_ovr", "f1_macro"):
        assert _bits(Scorer(name)(fitted, X[1::2], y[1::2])) == _bits(
            get_scorer(name)(fitted, X[1::2], y[1::2])
        )


def test_a_search_given_the_scorer_records_the_scores_of_one_given_the_name() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    pipeline = make_pipeline(StandardScaler(), KNeighborsClassifier())
    grid = {"kneighborsclassifier__n_neighbors": [1, 3, 7, 15]}
    theirs = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=3).fit(X, y)
    ours = GridSearchCV(clone(pipeline), grid, scoring=Scorer("roc_auc"), cv=3).fit(X, y)
    for key in [k for k in theirs.cv_results_ if k.startswith(("split", "mean_test", "rank"))]:
        assert ours.cv_results_[key].tobytes() == theirs.cv_results_[key].tobytes(), key


def test_every_metric_tuneworth_offers_has_a_scorer_that_survives_pickling() -> None:
    for metric in METRICS.values():
        scorer = pickle.loads(pickle.dumps(metric.scoring))
        assert scorer == Scorer(metric.scorer) and scorer_name(scorer) == metric.scorer
    fast = {m.name for m in METRICS.values() if m.scoring.fast}
    assert fast == {
        "roc_auc",
        "accuracy",
        "balanced_accuracy",
        "f1",
        "f1_macro",
        "log_loss",
        "r2",
        "rmse",
        "mae",
    }


def test_a_wrapped_scorer_is_known_by_the_name_it_computes() -> None:
    class Wrapper:
        def __init__(self, wrapped: Any) -> None:
            self.__wrapped__ = wrapped

    assert scorer_name(Wrapper(Scorer("roc_auc"))) == "roc_auc"
    assert scorer_name("accuracy") == "accuracy"


def test_plain_inputs_are_scored_without_scikit_learns_scorer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> float:
        raise AssertionError("the fast path was not taken")

    X, y = load_breast_cancer(return_X_y=True)
    classifier = make_pipeline(StandardScaler(), KNeighborsClassifier()).fit(X[:400], y[:400])
    regressor = _Regressor(np.linspace(0, 1, 169)).fit(None)
    expected = {
        name: get_scorer(name)(classifier, X[400:], y[400:])
        for name in ("roc_auc", "accuracy", "balanced_accuracy", "neg_log_loss", "f1", "f1_macro")
    }
    expected["r2"] = get_scorer("r2")(regressor, np.arange(169), y[400:] * 1.0)
    monkeypatch.setattr(Scorer, "fallback", refuse)
    for name, value in expected.items():
        estimator, rows = (regressor, np.arange(169)) if name == "r2" else (classifier, X[400:])
        target = y[400:] * 1.0 if name == "r2" else y[400:]
        assert _bits(Scorer(name)(estimator, rows, target)) == _bits(value), name
        assert _bits(Scorer(name)(estimator, rows, pd.Series(target))) == _bits(value), name
