"""Cleaning samplers: remove training rows whose label, values or repetition mislead a model.

Each is an imbalanced-learn sampler (``fit_resample``), so inside an imblearn ``Pipeline``
it runs on training folds only and never on the rows a model is scored on.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from tuneworth.steps._judgements import (
    CONFIDENT_LEARNING,
    ROBUST_Z,
    as_float,
    column_kinds,
    duplicate_groups,
    fence_scores,
    label_noise,
    target_noise,
)
from tuneworth.steps._sampling import CATEGORICAL_FEATURES, Cleaner


class LabelNoiseFilter(Cleaner):
    """Drop training rows whose given label a cross-validated model finds implausible.

    The idea of confident learning (Northcutt et al., 2021): fit ``estimator`` in ``cv``
    stratified folds, so that every row gets predicted class probabilities from a model that
    never saw it, and flag the rows whose given label those probabilities contradict.

    Parameters
    ----------
    estimator : classifier with ``predict_proba`` or None
        The out-of-fold model. None: logistic regression after median imputation, standard
        scaling and one-hot encoding of the categorical columns, so raw mixed frames work.
        A given estimator receives the rows as they are.
    cv : int
        Number of stratified folds. Rows of a class with fewer rows than folds cannot be
        judged and are kept.
    threshold : "confident_learning", "prediction" or float in (0, 1)
        The rule that flags a row labelled ``i``:

        - ``"confident_learning"``: each class ``j`` gets a threshold, the mean predicted
          probability of ``j`` over rows labelled ``j``; the row is flagged when the most
          probable class among those reaching their threshold is not ``i``.
        - ``"prediction"``: the most probable class is not ``i``.
        - a float: the predicted probability of ``i`` is below it.
    categorical_features : "auto" or array-like
        Which columns are categorical: "auto" takes those whose dtype is not numeric (or
        is boolean); otherwise column names, positions or a boolean mask.
        Used by the default estimator only.
    random_state : int, RandomState instance or None
        Shuffles the folds.

    Attributes
    ----------
    sample_indices_ : ndarray
        Positions of the rows kept.
    label_quality_ : ndarray of shape (n_samples,)
        Out-of-fold predicted probability of each row's given label; NaN for rows that
        could not be judged.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(n_samples=200, centers=[[-3, 0], [3, 0]], random_state=0)
    >>> y[:5] = 1 - y[:5]  # five wrong labels
    >>> cleaner = LabelNoiseFilter(random_state=0)
    >>> X_clean, y_clean = cleaner.fit_resample(X, y)
    >>> np.setdiff1d(np.arange(200), cleaner.sample_indices_).tolist()
    [1, 2, 3, 4]

    Row 0 lies between the blobs: its label is doubtful, not confidently wrong, so it stays.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "threshold": [
            StrOptions({"confident_learning", "prediction"}),
            Interval(Real, 0, 1, closed="neither"),
        ],
        "categorical_features": CATEGORICAL_FEATURES,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any = None,
        *,
        cv: int = 5,
        threshold: str | float = CONFIDENT_LEARNING,
        categorical_features: Any = "auto",
        random_state: Any = None,
    ) -> None:
        self.estimator = estimator
        self.cv = cv
        self.threshold = threshold
        self.categorical_features = categorical_features
        self.random_state = random_state

    def _keep(self, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        keep, self.label_quality_ = label_noise(
            frame,
            y,
            self.estimator,
            cv=self.cv,
            threshold=self.threshold,
            categorical_features=self.categorical_features,
            random_state=self.random_state,
        )
        return keep


class TargetNoiseFilter(Cleaner):
    """Drop training rows whose numeric target a cross-validated model finds implausible.

    The regression form of :class:`LabelNoiseFilter`: fit ``estimator`` in ``cv`` folds, so
    that every row gets a prediction from a model that never saw it, and flag the rows whose
    out-of-fold residual is far from the others. "Far" is robust: more than ``threshold``
    times the residuals' scaled median absolute deviation (1.4826 MAD, the standard
    deviation for Gaussian residuals) from their median, the modified z-score of Iglewicz
    and Hoaglin (1993), whose cut-off of 3.5 is the default. A corrupted target inflates
    neither the median nor the MAD, so it cannot hide the others, as it would with a mean
    and standard deviation.

    Parameters
    ----------
    estimator : regressor or None
        The out-of-fold model. None: Huber regression (a linear model that a few wild
        targets do not drag, so their residuals stay large) after median imputation,
        standard scaling and one-hot encoding of the categorical columns.
    cv : int
        Number of folds.
    threshold : float
        Cut-off on the robust z-score of the residual.
    categorical_features : "auto" or array-like
        Which columns are categorical: "auto" takes those whose dtype is not numeric (or
        is boolean); otherwise column names, positions or a boolean mask.
        Used by the default estimator only.
    random_state : int, RandomState instance or None
        Shuffles the folds.

    Attributes
    ----------
    sample_indices_ : ndarray
        Positions of the rows kept.
    residual_ : ndarray of shape (n_samples,)
        Out-of-fold residual of each row, target minus prediction.
    residual_scale_ : float
        The robust scale the residuals were measured in.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ [2.0, -1.0, 0.5] + rng.normal(scale=0.3, size=200)
    >>> y[:4] += 10  # four corrupted targets
    >>> cleaner = TargetNoiseFilter(random_state=0).fit(X, y)
    >>> np.setdiff1d(np.arange(200), cleaner.sample_indices_).tolist()
    [0, 1, 2, 3]
    """

    _accepts_continuous_target = True
    _continuous_target_only = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "threshold": [Interval(Real, 0, None, closed="neither")],
        "categorical_features": CATEGORICAL_FEATURES,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any = None,
        *,
        cv: int = 5,
        threshold: float = ROBUST_Z,
        categorical_features: Any = "auto",
        random_state: Any = None,
    ) -> None:
        self.estimator = estimator
        self.cv = cv
        self.threshold = threshold
        self.categorical_features = categorical_features
        self.random_state = random_state

    def _keep(self, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        keep, self.residual_, self.residual_scale_ = target_noise(
            frame,
            y,
            self.estimator,
            cv=self.cv,
            threshold=self.threshold,
            categorical_features=self.categorical_features,
            random_state=self.random_state,
        )
        return keep


class OutlierFilter(Cleaner):
    """Drop training rows with outlying values in their numeric columns.

    Categorical columns are ignored; a row is judged on its numeric values only, and a
    missing value is never an outlier.

    The default rule is Tukey's "far out" fence with a cap on the rows it may take. Each
    numeric value lying more than ``threshold`` interquartile ranges below the first or
    above the third quartile of its column adds its distance beyond the fence, in
    interquartile ranges, to its row's score. Rows with a positive score are outliers, but
    at most ``max_share`` of the rows go (of each class, with ``per_class``): those with the
    highest scores.

    Why the cap: on a Gaussian column the 3-IQR fence flags about 2 values in a million,
    but on a skewed or heavy-tailed column (counts, amounts, word frequencies) it flags
    percents, and a rule that drops a row for any one such value compounds over the
    columns, ``1 - (1 - q)^p``: on a spam corpus with 57 skewed columns it dropped 56% of
    the rows, and 30 of the 41 positives of an oil-spill set. Gross errors in routine data
    run at a few percent (Hampel et al., *Robust Statistics*, 1986: "1-10%"), so a
    cleaning step that takes more is no longer removing errors but reshaping the data. The
    cap of 5% bounds the damage on heavy-tailed data, and per class it keeps a rare class,
    whose rows often look outlying next to the majority, from being filtered away.

    Parameters
    ----------
    method : {"iqr", "isolation_forest"}
        ``"iqr"``: the fence rule above (columns whose interquartile range is zero, such as
        mostly-zero counts, are not used). ``"isolation_forest"``: the ``contamination``
        share of rows that an isolation forest, fitted on median-imputed numeric columns,
        isolates fastest.
    threshold : float
        Width of the ``"iqr"`` fences, in interquartile ranges; 3 marks "far out" values.
    max_share : float in (0, 1]
        Most rows ``"iqr"`` removes, as a share of the rows (rounded up); 1 removes every
        row beyond a fence, the rule without a cap.
    per_class : bool
        Treat a target of class labels as such: ``max_share`` applies within each class,
        and no class loses every row. Set it to False for a regression target whose values
        are whole numbers, which would otherwise pass for classes.
    contamination : float in (0, 0.5]
        Share of rows ``"isolation_forest"`` removes.
    categorical_features : "auto" or array-like
        Which columns are categorical: "auto" takes those whose dtype is not numeric (or
        is boolean); otherwise column names, positions or a boolean mask.
    random_state : int, RandomState instance or None
        Seed of the isolation forest.

    Attributes
    ----------
    sample_indices_ : ndarray
        Positions of the rows kept.
    outlier_score_ : ndarray of shape (n_samples,)
        ``"iqr"`` only: each row's summed distance beyond the fences, in interquartile
        ranges (0 inside every fence).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"income": [30.0, 32, 35, 31, 29, 33, 900],
    ...                   "city": ["a", "b", "a", "b", "a", "b", "a"]})
    >>> y = [0, 1, 0, 1, 0, 1, 0]
    >>> X_clean, y_clean = OutlierFilter().fit_resample(X, y)
    >>> X_clean["income"].tolist()
    [30.0, 32.0, 35.0, 31.0, 29.0, 33.0]
    """

    _accepts_continuous_target = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "method": [StrOptions({"iqr", "isolation_forest"})],
        "threshold": [Interval(Real, 0, None, closed="neither")],
        "max_share": [Interval(Real, 0, 1, closed="right")],
        "per_class": ["boolean"],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "categorical_features": CATEGORICAL_FEATURES,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        method: str = "iqr",
        *,
        threshold: float = 3.0,
        max_share: float = 0.05,
        per_class: bool = True,
        contamination: float = 0.05,
        categorical_features: Any = "auto",
        random_state: Any = None,
    ) -> None:
        self.method = method
        self.threshold = threshold
        self.max_share = max_share
        self.per_class = per_class
        self.contamination = contamination
        self.categorical_features = categorical_features
        self.random_state = random_state

    def _keep(self, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        values = as_float(frame, column_kinds(frame, self.categorical_features).numeric)
        observed = ~np.isnan(values).all(axis=0)
        values = values[:, observed]
        if self.method == "iqr":
            self.outlier_score_ = fence_scores(values, self.threshold)
            return ~self._capped(self.outlier_score_, y)
        if values.shape[1] == 0:
            return np.ones(len(frame), dtype=bool)
        from sklearn.ensemble import IsolationForest

        filled = np.where(np.isnan(values), np.nanmedian(values, axis=0), values)
        forest = IsolationForest(contamination=self.contamination, random_state=self.random_state)
        return np.asarray(forest.fit_predict(filled) == 1)

    def _capped(self, score: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Rows to drop: a positive score, and among the top ``max_share`` of their group."""
        classes = self._judges_classes()
        groups = [np.flatnonzero(y == label) for label in np.unique(y)] if classes else [None]
        drop = np.zeros(len(score), dtype=bool)
        for members in groups:
            rows = np.arange(len(score)) if members is None else members
            limit = math.ceil(self.max_share * len(rows) - 1e-9)
            ranked = rows[np.argsort(-score[rows], kind="stable")][:limit]
            drop[ranked[score[ranked] > 0]] = True
        return drop


class DuplicateFilter(Cleaner):
    """Drop repeated training rows, and rows whose repeats disagree about the label.

    Rows are duplicates when every feature is equal (two missing values count as equal).
    Exact duplicates (the label equal too) keep their first occurrence, so no row weighs
    more than once. Conflicting duplicates (equal features, different labels) are handled
    by ``conflicts``.

    Parameters
    ----------
    conflicts : {"drop", "majority", "keep"}
        ``"drop"``: remove every row of a conflicting group, since the features cannot tell
        which label is right. ``"majority"``: keep one row with the group's most frequent
        label, or none on a tie. ``"keep"``: leave conflicting rows alone.
    per_class : bool
        Treat a target of class labels as such: no class loses every row. Set it to False
        for a regression target whose values are whole numbers, which would otherwise pass
        for classes.

    Attributes
    ----------
    sample_indices_ : ndarray
        Positions of the rows kept.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"size": [1.0, 1.0, 2.0, 2.0, 2.0, 3.0],
    ...                   "colour": ["red", "red", "blue", "blue", "blue", "red"]})
    >>> y = ["a", "a", "a", "b", "b", "b"]
    >>> DuplicateFilter().fit(X, y).sample_indices_.tolist()
    [0, 5]
    >>> DuplicateFilter(conflicts="majority").fit(X, y).sample_indices_.tolist()
    [0, 3, 5]
    """

    _accepts_continuous_target = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "conflicts": [StrOptions({"drop", "majority", "keep"})],
        "per_class": ["boolean"],
    }

    def __init__(self, conflicts: str = "drop", per_class: bool = True) -> None:
        self.conflicts = conflicts
        self.per_class = per_class

    def _keep(self, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        rows, repeat, conflicting = duplicate_groups(frame, y)
        keep = ~repeat
        if self.conflicts == "keep":
            return keep
        if self.conflicts == "drop":
            return keep & ~conflicting
        majority = rows[conflicting].groupby("features")["y"].agg(_unique_mode)
        winner = rows["features"].map(majority)
        first_of_winner = keep & (rows["y"] == winner).to_numpy()
        return np.where(conflicting, first_of_winner, keep)


class IncompleteRowFilter(Cleaner):
    """Drop training rows with any missing value: complete-case analysis.

    The oldest answer to missing data, and the one imputation is measured against: it
    throws away every row with a gap, so a model learns from fewer rows. Rows to predict
    are not touched, so a model after it must still cope with missing values there (keep
    an imputer in the pipeline).

    Parameters
    ----------
    categorical_features : "auto" or array-like
        Accepted for a uniform interface; every column counts, whatever its kind.
    per_class : bool
        Treat a target of class labels as such: no class loses every row. Set it to False
        for a regression target whose values are whole numbers, which would otherwise pass
        for classes.

    Attributes
    ----------
    sample_indices_ : ndarray
        Positions of the rows kept.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [30.0, None, 41.0, 25.0], "city": ["Oslo", "Rome", None, "Oslo"]})
    >>> IncompleteRowFilter().fit(X, [0, 1, 0, 1]).sample_indices_.tolist()
    [0, 3]
    """

    _accepts_continuous_target = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "categorical_features": CATEGORICAL_FEATURES,
        "per_class": ["boolean"],
    }

    def __init__(self, categorical_features: Any = "auto", per_class: bool = True) -> None:
        self.categorical_features = categorical_features
        self.per_class = per_class

    def _why_all_removed(self, frame: pd.DataFrame) -> str:
        share = frame.isna().mean().sort_values(ascending=False)
        gaps = ", ".join(f"'{c}' {v:.0%}" for c, v in share.head(3).items() if v > 0)
        return f" (each has a missing value; the emptiest columns: {gaps})" if gaps else ""

    def _keep(self, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        return frame.notna().all(axis=1).to_numpy()


def _unique_mode(labels: pd.Series) -> Any:
    """The most frequent value, or None when several tie."""
    counts = labels.value_counts()
    if len(counts) > 1 and counts.iloc[0] == counts.iloc[1]:
        return None
    return counts.index[0]
