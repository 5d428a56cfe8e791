from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from tuneworth.defects import Defects, corrupt, distort
from tuneworth.evaluate import fit_and_score, make_splits
from tuneworth.metrics import METRICS


@pytest.fixture
def table(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
    """Two numeric columns, a categorical one, and a 30% "rare" class."""
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "c": ["u", "v"] * 100})
    y = pd.Series(np.where(rng.random(200) < 0.3, "rare", "common"), dtype="str")
    return X, y


def test_label_noise_flips_exactly_its_rate_and_is_reproducible_per_fold(
    table: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, Y = table
    defects = Defects(label_noise={"rate": 0.25})
    _, first = corrupt(X, Y, defects, seed=1, fold=3)
    _, again = corrupt(X, Y, defects, seed=1, fold=3)
    _, other = corrupt(X, Y, defects, seed=1, fold=4)
    assert int((first != Y).sum()) == 50
    pd.testing.assert_series_equal(first, again)
    assert not first.equals(other)


def test_class_conditional_noise_moves_only_the_first_class(
    table: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, Y = table
    _, noisy = corrupt(X, Y, Defects(label_noise={"rate": 0.5, "mode": "class_conditional"}), 0, 0)
    changed = noisy != Y
    assert set(Y[changed]) == {"common"} and set(noisy[changed]) == {"rare"}


def test_missing_duplicates_and_imbalance_change_only_what_they_say(
    table: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, Y = table
    defects = Defects(missing={"rate": 0.2}, duplicates={"rate": 0.5}, imbalance={"ratio": 10})
    Xc, yc = corrupt(X, Y, defects, seed=0, fold=0)
    common = int((Y == "common").sum())
    kept = common + common // 10
    assert len(yc) == kept + round(0.5 * kept)
    assert (yc == "rare").sum() <= 1.6 * (common // 10)
    assert 0.1 < Xc["a"].isna().mean() < 0.3 and Xc["c"].notna().all()


def test_feature_space_defects_add_noise_columns_and_rescale_some(
    table: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, _ = table
    out = distort(X, Defects(scale={"columns": 1, "factor": 1e4}, noise_features={"count": 3}), 0)
    assert list(out.columns) == ["a", "b", "c", "noise_0", "noise_1", "noise_2"]
    ratios = (out[["a", "b"]].abs().mean() / X[["a", "b"]].abs().mean()).sort_values()
    assert ratios.iloc[0] == pytest.approx(1.0) and ratios.iloc[1] >= 10


class _Spy(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Remembers what it was fitted on and what it was asked to predict."""

    seen: dict[str, Any] = {}

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _Spy:
        _Spy.seen["fit"] = (X.copy(), y.copy())
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        _Spy.seen["predict"] = X.copy()
        return np.tile([0.5, 0.5], (len(X), 1))


def test_defects_reach_the_training_fold_but_never_the_test_fold(
    table: tuple[pd.DataFrame, pd.Series],
) -> None:
    from functools import partial

    X, Y = table
    split = make_splits(Y, "binary", 5, 1, seed=0)[0]
    defects = Defects(label_noise={"rate": 0.3}, missing={"rate": 0.3})
    inject = partial(corrupt, defects=defects, seed=0)
    result = fit_and_score("spy", _Spy(), X, Y, split, METRICS["roc_auc"], inject=inject)
    assert result.error is None
    fit_X, fit_y = _Spy.seen["fit"]
    assert fit_X["a"].isna().any() and (np.asarray(fit_y) != Y.iloc[split.train].to_numpy()).any()
    predicted = _Spy.seen["predict"]
    pd.testing.assert_frame_equal(predicted, X.iloc[split.test])
