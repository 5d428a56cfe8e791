"""Judgements of raw tabular rows, shared by the cleaning samplers and the diagnosis.

Pure functions of a frame and a target: which columns are numeric and which categorical,
which rows repeat or conflict, how far a row's values lie beyond Tukey's fences, which
labels (or numeric targets) an out-of-fold model finds implausible, and which rows a cleaner
must keep so that no class disappears. The samplers of :mod:`tuneworth.steps.clean` wrap
them in imbalanced-learn's template; :mod:`tuneworth.diagnose` calls them directly, so that
diagnosing a table imports no imbalanced-learn, and both judge rows by the same code.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

# The label-noise rule of confident learning, and the robust z-score of a residual past
# which a numeric target is implausible (Iglewicz and Hoaglin's 3.5): the filters' defaults.
CONFIDENT_LEARNING = "confident_learning"
ROBUST_Z = 3.5


@dataclass(frozen=True)
class Columns:
    """The numeric and categorical column labels of a frame."""

    numeric: tuple[Hashable, ...]
    categorical: tuple[Hashable, ...]


def column_kinds(frame: pd.DataFrame, categorical_features: Any = "auto") -> Columns:
    """Sort the frame's columns into numeric and categorical ones."""
    labels = list(frame.columns)
    if isinstance(categorical_features, str) and categorical_features == "auto":
        categorical = [c for c in labels if not is_numeric(frame[c])]
    else:
        given = list(categorical_features)
        if given and all(isinstance(v, bool | np.bool_) for v in given):
            if len(given) != len(labels):
                raise ValueError(
                    f"categorical_features is a mask of {len(given)} values for "
                    f"{len(labels)} columns"
                )
            categorical = [c for c, flag in zip(labels, given, strict=True) if flag]
        elif all(v in labels for v in given):
            categorical = given
        elif all(isinstance(v, Integral) and 0 <= int(v) < len(labels) for v in given):
            categorical = [labels[int(v)] for v in given]
        else:
            unknown = next(v for v in given if v not in labels)
            raise ValueError(f"categorical_features names unknown column {unknown!r}")
    numeric = [c for c in labels if c not in categorical]
    for column in numeric:
        if not is_numeric(frame[column]):
            raise ValueError(f"column {column!r} is not numeric: list it in categorical_features")
    return Columns(tuple(numeric), tuple(categorical))


def is_numeric(column: pd.Series) -> bool:
    """Numeric and not boolean: what can be averaged, jittered or interpolated."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def as_float(frame: pd.DataFrame, columns: tuple[Hashable, ...]) -> np.ndarray:
    """The given numeric columns as a float matrix, missing values as NaN."""
    if not columns:
        return np.empty((len(frame), 0))
    return frame[list(columns)].astype("float64").to_numpy(dtype="float64", na_value=np.nan)


def dense(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with pandas sparse columns made dense, for estimators that need it."""
    sparse = {c: d.subtype for c, d in frame.dtypes.items() if isinstance(d, pd.SparseDtype)}
    return frame.astype(sparse) if sparse else frame


# --- repeated rows and outlying values ------------------------------------------------


def duplicate_groups(frame: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows as (feature hash, label), which rows repeat an earlier row exactly, and which
    share their features with a row of another label.

    Features are equal when every value is; two missing values are equal.
    """
    features = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    rows = pd.DataFrame({"features": features, "y": np.asarray(y)})
    repeat = rows.duplicated().to_numpy()
    conflicting = rows.groupby("features")["y"].transform("nunique").to_numpy() > 1
    return rows, repeat, conflicting


def fence_scores(values: np.ndarray, threshold: float) -> np.ndarray:
    """Each row's summed distance beyond the ``threshold``-IQR fences of its columns.

    Distances are in interquartile ranges of their column; columns with a zero interquartile
    range and missing values add nothing.

    >>> import numpy as np
    >>> fence_scores(np.array([[1.0], [2.0], [3.0], [4.0], [20.0]]), 3.0).tolist()
    [0.0, 0.0, 0.0, 0.0, 5.0]
    """
    if values.shape[1] == 0:
        return np.zeros(len(values))
    q1, q3 = np.nanpercentile(values, [25, 75], axis=0)
    spread = q3 - q1
    used = spread > 0
    values, q1, q3, spread = values[:, used], q1[used], q3[used], spread[used]
    with np.errstate(invalid="ignore"):
        beyond = np.maximum(q1 - threshold * spread - values, values - q3 - threshold * spread)
    return np.asarray(np.nansum(np.clip(beyond / spread, 0, None), axis=1), dtype=float)


# --- implausible targets ----------------------------------------------------------------


def label_noise(
    frame: pd.DataFrame,
    y: np.ndarray,
    estimator: Any = None,
    *,
    cv: int = 5,
    threshold: str | float = CONFIDENT_LEARNING,
    categorical_features: Any = "auto",
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows' labels an out-of-fold classifier finds plausible (confident learning).

    The judgement of :class:`~tuneworth.steps.LabelNoiseFilter`, whose parameters these
    are: ``estimator`` (None: logistic regression after median imputation, standard
    scaling and one-hot encoding) is fitted in ``cv`` stratified folds of the rows of the
    classes with at least ``cv`` rows, and ``threshold`` flags a row by its out-of-fold
    class probabilities.

    Returns
    -------
    keep : ndarray of bool
        False for the flagged rows.
    label_quality : ndarray of float
        Out-of-fold probability of each row's given label; NaN where not judged.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.utils import check_random_state

    keep = np.ones(len(y), dtype=bool)
    quality = np.full(len(y), np.nan)
    classes, counts = np.unique(y, return_counts=True)
    judged = classes[counts >= cv]
    if len(judged) < 2:
        return keep, quality
    rows = np.flatnonzero(np.isin(y, judged))
    folds = StratifiedKFold(cv, shuffle=True, random_state=check_random_state(random_state))
    model = _label_model(frame, categorical_features) if estimator is None else clone(estimator)
    proba = cross_val_predict(
        model, dense(frame.iloc[rows]), y[rows], cv=folds, method="predict_proba"
    )
    given = np.searchsorted(judged, y[rows])
    quality[rows] = proba[np.arange(len(rows)), given]
    keep[rows[implausible_labels(proba, given, threshold)]] = False
    return keep, quality


def implausible_labels(
    proba: np.ndarray, given: np.ndarray, threshold: str | float = CONFIDENT_LEARNING
) -> np.ndarray:
    """Rows whose given class (``given``, a column of ``proba``) the probabilities contradict.

    ``"confident_learning"``: each class ``j`` gets a threshold, the mean probability of
    ``j`` over rows given ``j``; a row is flagged when the most probable class among those
    reaching their threshold is not its own. ``"prediction"``: the most probable class is
    not its own. A float: the probability of its own class is below it.

    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1], [0.95, 0.05], [0.3, 0.7], [0.2, 0.8]])
    >>> implausible_labels(proba, np.array([0, 1, 1, 1])).tolist()
    [False, True, False, False]
    """
    rows = np.arange(len(given))
    if threshold == "prediction":
        return np.asarray(proba.argmax(axis=1) != given)
    if not isinstance(threshold, str):
        return np.asarray(proba[rows, given] < threshold)
    thresholds = np.array([proba[given == k, k].mean() for k in range(proba.shape[1])])
    confident = proba >= thresholds
    best = np.where(confident, proba, -np.inf).argmax(axis=1)
    return np.asarray(confident.any(axis=1) & (best != given))


def target_noise(
    frame: pd.DataFrame,
    y: np.ndarray,
    estimator: Any = None,
    *,
    cv: int = 5,
    threshold: float = ROBUST_Z,
    categorical_features: Any = "auto",
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Which rows' numeric targets an out-of-fold regressor finds plausible.

    The judgement of :class:`~tuneworth.steps.TargetNoiseFilter`, whose parameters these
    are: ``estimator`` (None: Huber regression after median imputation, standard scaling
    and one-hot encoding) is fitted in ``cv`` folds, and a row is flagged when its
    residual lies more than ``threshold`` robust scales (1.4826 MAD) from their median.

    Returns
    -------
    keep : ndarray of bool
        False for the flagged rows.
    residual : ndarray of float
        Out-of-fold residual of each row, target minus prediction; NaN with too few rows.
    scale : float
        The robust scale of the residuals.
    """
    from sklearn.base import clone
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.utils import check_random_state

    if len(y) < 2 * cv:  # too few rows to judge any
        return np.ones(len(y), dtype=bool), np.full(len(y), np.nan), np.nan
    folds = KFold(cv, shuffle=True, random_state=check_random_state(random_state))
    model = _target_model(frame, categorical_features) if estimator is None else clone(estimator)
    residual = y - cross_val_predict(model, dense(frame), y, cv=folds)
    distance = np.abs(residual - np.median(residual))
    # MAD is zero when most residuals are equal; the mean absolute deviation, scaled
    # the same way for Gaussian residuals, then stands in (Iglewicz and Hoaglin).
    scale = 1.4826 * float(np.median(distance)) or 1.2533 * float(distance.mean())
    if scale == 0:
        return np.ones(len(y), dtype=bool), residual, scale
    return np.asarray(distance <= threshold * scale), residual, scale


def keep_every_class(keep: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``keep`` with every row of a class it would empty kept: a model trained without a
    class could not predict it.

    >>> import numpy as np
    >>> keep_every_class(np.array([True, False, False, True]), np.array([0, 1, 1, 0])).tolist()
    [True, True, True, True]
    """
    keep = np.array(keep, dtype=bool)  # a copy: pandas' may be read-only
    for label in np.unique(y):
        of_class = y == label
        if not keep[of_class].any():
            keep[of_class] = True
    return keep


def _label_model(frame: pd.DataFrame, categorical_features: Any) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from tuneworth.steps.preprocess import Preprocessor

    columns = column_kinds(frame, categorical_features)
    return make_pipeline(
        Preprocessor(columns, impute="median", scale="standard"),
        LogisticRegression(max_iter=1000),
    )


def _target_model(frame: pd.DataFrame, categorical_features: Any) -> Any:
    from sklearn.linear_model import HuberRegressor
    from sklearn.pipeline import make_pipeline

    from tuneworth.steps.preprocess import Preprocessor

    columns = column_kinds(frame, categorical_features)
    return make_pipeline(
        Preprocessor(columns, impute="median", scale="standard"),
        HuberRegressor(max_iter=1000),
    )
