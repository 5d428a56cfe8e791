"""LightGBM, XGBoost and CatBoost behind one scikit-learn estimator.

The three libraries differ in what they need around ``fit``: XGBoost wants class labels
coded 0..k-1, CatBoost wants its categorical columns named, and each has its own way to
stop early on a validation set. :class:`BoostedClassifier` and :class:`BoostedRegressor`
wrap an unfitted model of any of them and do that work, so the zoo, every search strategy
and a user's pipeline see one ordinary estimator.

Early stopping costs no extra fit: the model is fitted once, on ``1 - validation_fraction``
of the rows it is given, and stops ``patience`` rounds after the best validation score; it
keeps the best round. The rounds it really ran are in ``n_rounds_`` and the CPU seconds the
experiment measures are those of exactly this one fit. The rows held out for validation are
the price: the final model never trains on them.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    RegressorMixin,
    clone,
    is_classifier,
)
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

LIBRARIES = ("lightgbm", "xgboost", "catboost")


def library(estimator: Any) -> str:
    """Which boosting library ``estimator`` comes from.

    Raises
    ------
    ValueError
        For an estimator of another library.
    """
    name = type(estimator).__module__.split(".")[0]
    if name not in LIBRARIES:
        raise ValueError(f"{type(estimator).__name__} is not a LightGBM, XGBoost or CatBoost model")
    return name


class _Boosted(MetaEstimatorMixin, BaseEstimator):  # type: ignore[misc]
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "estimator": [HasMethods(["fit", "predict"])],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any,
        *,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 50,
        random_state: Any = None,
    ) -> None:
        self.estimator = estimator
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # all three learn where missing values go
        return tags

    def _check_fit(self, X: Any, y: Any) -> tuple[Any, np.ndarray]:
        """Validated ``X`` and a 1-D ``y``; a DataFrame stays one, its dtypes untouched
        (``category`` columns are what the libraries split on natively)."""
        self._validate_params()
        if isinstance(X, pd.DataFrame):
            validate_data(self, X=X, reset=True, skip_check_array=True)
            if X.shape[0] < 1 or X.shape[1] < 1:
                raise ValueError(f"Found array with shape {X.shape}; a minimum of 1 is required")
            y = column_or_1d(check_array(y, ensure_2d=False, dtype=None), warn=True)
            check_consistent_length(X, y)
            return X, y
        return validate_data(
            self,
            X,
            y,
            ensure_all_finite="allow-nan",
            y_numeric=not is_classifier(self),
            dtype=None if is_classifier(self) else "numeric",
        )

    def _check_predict(self, X: Any) -> Any:
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame):
            validate_data(self, X=X, reset=False, skip_check_array=True)
            return X
        return validate_data(self, X, reset=False, ensure_all_finite="allow-nan")

    def _fit(self, X: Any, y: np.ndarray) -> None:
        from sklearn.model_selection import train_test_split

        estimator = clone(self.estimator)
        self.library_ = library(estimator)
        if hasattr(self, "categories_"):  # from an earlier fit
            del self.categories_
        frame = self._prepare(X)
        kwargs: dict[str, Any] = {}
        if self.library_ == "catboost" and self.categories_:
            kwargs["cat_features"] = self.categories_
        if not self.early_stopping:
            estimator.fit(frame, y, **kwargs)
            self.estimator_ = estimator
            self.n_rounds_ = self.n_iter_ = _rounds_run(estimator, self.library_)
            return
        stratify = y if is_classifier(self) else None
        try:
            X_fit, X_val, y_fit, y_val = train_test_split(
                frame,
                y,
                test_size=self.validation_fraction,
                stratify=stratify,
                random_state=self.random_state,
            )
        except ValueError:  # a class too small to be in both parts: split without strata
            X_fit, X_val, y_fit, y_val = train_test_split(
                frame, y, test_size=self.validation_fraction, random_state=self.random_state
            )
        if self.library_ == "lightgbm":
            import lightgbm

            kwargs["callbacks"] = [lightgbm.early_stopping(self.patience, verbose=False)]
            kwargs.update(eval_X=(X_val,), eval_y=(y_val,))
        elif self.library_ == "xgboost":
            estimator.set_params(early_stopping_rounds=self.patience)
            kwargs.update(eval_set=[(X_val, y_val)], verbose=False)
        else:
            kwargs.update(eval_set=(X_val, y_val), early_stopping_rounds=self.patience)
        estimator.fit(X_fit, y_fit, **kwargs)
        self.estimator_ = estimator
        self.n_rounds_ = _rounds_run(estimator, self.library_)
        self.n_iter_ = _best_round(estimator, self.library_) + 1

    def _prepare(self, X: Any) -> pd.DataFrame:
        """``X`` with positional column names; for CatBoost, categories as strings (it
        takes no missing category, and an unseen one arrives missing)."""
        frame = _positional(X)
        if not hasattr(self, "categories_"):
            self.categories_ = [
                i
                for i, c in enumerate(frame.columns)
                if isinstance(frame[c].dtype, pd.CategoricalDtype)
            ]
        if self.library_ == "catboost" and self.categories_:
            names = frame.columns[self.categories_]
            frame = frame.assign(
                **{
                    c: frame[c].astype(object).where(frame[c].notna(), "nan").astype(str)
                    for c in names
                }
            )
        return frame

    def _inner_predict(self, X: Any) -> np.ndarray:
        X = self._check_predict(X)
        return np.asarray(self.estimator_.predict(self._prepare(X))).reshape(len(X), -1)[:, 0]


class BoostedClassifier(ClassifierMixin, _Boosted):  # type: ignore[misc]
    """A LightGBM, XGBoost or CatBoost classifier, with optional early stopping.

    Classes may be any labels (XGBoost alone would need 0..k-1); categorical columns of a
    DataFrame (pandas ``category`` dtype) are handled natively by each library.

    Parameters
    ----------
    estimator : LGBMClassifier, XGBClassifier or CatBoostClassifier
        Unfitted; cloned in ``fit``.
    early_stopping : bool
        Hold out ``validation_fraction`` of the rows (stratified) and stop ``patience``
        rounds after the best validation loss, keeping the best round.
    validation_fraction : float
        Share of the rows held out for early stopping.
    patience : int
        Rounds without improvement before stopping.
    random_state : int, RandomState instance or None
        Seed of the validation split.

    Attributes
    ----------
    estimator_ : estimator
        The fitted model.
    classes_ : ndarray
        The class labels.
    n_iter_ : int
        Boosting rounds the model keeps (the best one, with early stopping).
    n_rounds_ : int
        Boosting rounds it ran (with early stopping, up to ``patience`` past the best).
    categories_ : list of int
        Positions of the ``category`` columns, handled natively.

    Examples
    --------
    >>> import numpy as np
    >>> from lightgbm import LGBMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = np.where(X[:, 0] + rng.normal(size=300) > 0, "yes", "no")
    >>> model = BoostedClassifier(LGBMClassifier(n_estimators=500, verbose=-1),
    ...                           early_stopping=True, patience=10, random_state=0)
    >>> model.fit(X, y).predict([[2.0, 0, 0], [-2.0, 0, 0]]).tolist()
    ['yes', 'no']
    >>> bool(model.n_iter_ < model.n_rounds_ < 500)
    True
    """

    def fit(self, X: Any, y: Any) -> BoostedClassifier:
        """Fit the model, with labels coded 0..k-1 underneath."""
        X, y = self._check_fit(X, y)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        self._fit(X, codes)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        X = self._check_predict(X)
        return np.asarray(self.estimator_.predict_proba(self._prepare(X)))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[proba.argmax(axis=1)])


class BoostedRegressor(RegressorMixin, _Boosted):  # type: ignore[misc]
    """A LightGBM, XGBoost or CatBoost regressor, with optional early stopping.

    Parameters and attributes are those of :class:`BoostedClassifier`, without classes.

    Examples
    --------
    >>> import numpy as np
    >>> from xgboost import XGBRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> model = BoostedRegressor(XGBRegressor(n_estimators=50, n_jobs=1)).fit(X, 3 * X[:, 0])
    >>> model.n_rounds_, bool(abs(model.predict(X[:1])[0] - 3 * X[0, 0]) < 0.5)
    (50, True)
    """

    def fit(self, X: Any, y: Any) -> BoostedRegressor:
        """Fit the model."""
        X, y = self._check_fit(X, y)
        self._fit(X, np.asarray(y, dtype=float))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted target of each row."""
        return self._inner_predict(X).astype(float)


def _positional(X: Any) -> pd.DataFrame:
    """``X`` as a DataFrame with columns f0, f1, ...: LightGBM and XGBoost refuse some
    characters in feature names, and a user's columns may hold them. Dtypes are kept, so a
    ``category`` column stays categorical."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))
    return frame.set_axis([f"f{i}" for i in range(frame.shape[1])], axis=1)


def _rounds_run(estimator: Any, lib: str) -> int:
    if lib == "lightgbm":
        # The booster is cut back to its best round; the validation curve has them all.
        curves = estimator.evals_result_
        if curves:
            return len(next(iter(next(iter(curves.values())).values())))
        return int(estimator.booster_.current_iteration())
    if lib == "xgboost":
        return int(estimator.get_booster().num_boosted_rounds())
    validation = estimator.get_evals_result().get("validation")
    if validation:  # with early stopping, the rounds past the best are recorded there
        return len(next(iter(validation.values())))
    return int(estimator.tree_count_)


def _best_round(estimator: Any, lib: str) -> int:
    """The 0-based round kept after early stopping."""
    if lib == "lightgbm":
        return int(estimator.best_iteration_) - 1  # LightGBM counts from 1
    if lib == "xgboost":
        return int(estimator.best_iteration)
    return int(estimator.get_best_iteration())
