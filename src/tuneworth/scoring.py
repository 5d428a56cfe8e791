"""scikit-learn's scorers without their per-call validation, to the last bit.

A search scores every configuration on every inner fold: hundreds of calls per outer fold,
each on a few hundred rows. scikit-learn's named scorer (``get_scorer("roc_auc")``)
validates its parameters, classifies the target, checks and converts both arrays and looks
up the estimator's tags on every call; on small folds that costs three times the
prediction it scores.

:class:`Scorer` follows scikit-learn's public scorer contract, ``scorer(estimator, X, y)``
and greater is better. When the inputs are the plain ones a search hands it (a fitted
estimator's predictions as a float or label array, ``y`` a 1-D array of integer, boolean or
string labels, or floats for a regressor) it computes the metric with the same numpy
operations scikit-learn performs after its checks, so the float is bitwise the one
scikit-learn returns. Anything else (sample weights or other metadata, a single class in
``y``, non-finite predictions, probabilities that do not sum to one, labels of mixed types,
a metric it does not cover) goes to scikit-learn's own scorer, with its errors and
warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

# Per metric: how to compute it from (estimator, X, y) or None to defer to scikit-learn.
_Fast = Callable[[Any, Any, np.ndarray], "float | None"]


class Scorer:
    """The scikit-learn scorer called ``name``, computed without its per-call checks.

    Parameters
    ----------
    name : str
        A scikit-learn scorer name (:func:`sklearn.metrics.get_scorer_names`).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.metrics import get_scorer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = LogisticRegression(max_iter=5000).fit(X[:400], y[:400])
    >>> Scorer("roc_auc")(model, X[400:], y[400:]) == get_scorer("roc_auc")(model, X[400:], y[400:])
    True
    """

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def fast(self) -> bool:
        """Whether this metric has a path without scikit-learn's checks."""
        return self.name in _FAST

    def __call__(self, estimator: Any, X: Any, y_true: Any, **kwargs: Any) -> float:
        fast = _FAST.get(self.name)
        if fast is not None and not kwargs:
            # A Series as its values (a nullable column's NA becomes an object: no fast path).
            y = y_true.to_numpy() if isinstance(y_true, pd.Series) else y_true
            if isinstance(y, np.ndarray):
                score = fast(estimator, X, y)
                if score is not None:
                    return score
        return self.fallback(estimator, X, y_true, **kwargs)

    def fallback(self, estimator: Any, X: Any, y_true: Any, **kwargs: Any) -> float:
        """scikit-learn's own scorer, as a search given the name would call it."""
        from sklearn.metrics import get_scorer

        return get_scorer(self.name)(estimator, X, y_true, **kwargs)

    def __repr__(self) -> str:
        return f"Scorer({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scorer) and other.name == self.name

    def __hash__(self) -> int:
        return hash((Scorer, self.name))


def scorer_name(scoring: Any) -> Any:
    """The scikit-learn name behind ``scoring`` (a :class:`Scorer`, or a wrapper of one
    that sets ``__wrapped__``); any other scoring as it is."""
    while hasattr(scoring, "__wrapped__"):
        scoring = scoring.__wrapped__
    return scoring.name if isinstance(scoring, Scorer) else scoring


# --- what a fast path accepts ---------------------------------------------------------


def _labels(y: np.ndarray) -> bool:
    """Whether ``y`` is 1-D class labels that scikit-learn reads as they are: integers,
    booleans, or strings (all of them ``str``)."""
    if y.ndim != 1 or len(y) == 0:
        return False
    if y.dtype.kind in "iub":
        return True
    if y.dtype.kind == "U":
        return True
    return y.dtype == object and all(type(v) is str for v in y)


def _same_kind(a: np.ndarray, b: np.ndarray) -> bool:
    """Both integer/boolean labels, or both strings: scikit-learn rejects a mix."""
    return (a.dtype.kind in "iub") == (b.dtype.kind in "iub")


def _classifier(estimator: Any) -> np.ndarray | None:
    """A fitted classifier's ``classes_`` when they are plain labels, else None."""
    from sklearn.base import is_classifier

    if not is_classifier(estimator):
        return None
    classes = np.asarray(estimator.classes_)
    return classes if _labels(classes) and len(classes) >= 2 else None


def _finite_floats(values: Any, ndim: int) -> bool:
    return (
        isinstance(values, np.ndarray)
        and values.ndim == ndim
        and values.dtype.kind == "f"
        and bool(np.isfinite(values).all())
    )


# --- the metrics ------------------------------------------------------------------------


def _binary_score(estimator: Any, X: Any, y: np.ndarray) -> np.ndarray | None:
    """The positive class's score as scikit-learn's ranking scorers take it
    (``decision_function``, else ``predict_proba``'s last column), or None."""
    classes = _classifier(estimator)
    if classes is None or len(classes) != 2 or not _labels(y) or not _same_kind(y, classes):
        return None
    if hasattr(estimator, "decision_function"):
        score = estimator.decision_function(X)
    else:
        proba = estimator.predict_proba(X)
        if not isinstance(proba, np.ndarray) or proba.ndim != 2 or proba.shape[1] != 2:
            return None
        score = proba[:, 1]  # the column of classes[-1], scikit-learn's default pos_label
    if not _finite_floats(score, 1) or len(score) != len(y):
        return None
    return np.asarray(score)


def _roc_auc(estimator: Any, X: Any, y: np.ndarray) -> float | None:
    score = _binary_score(estimator, X, y)
    if score is None:
        return None
    labels = np.unique(y)
    if len(labels) != 2:
        return None  # a single class: scikit-learn warns and returns NaN
    return roc_auc(y == labels[1], score)


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Binary ROC-AUC of ``score`` for the rows where ``positive`` is true, bitwise as
    ``roc_auc_score(positive, score)`` computes it: the ROC curve's distinct thresholds,
    collinear points dropped, then the trapezoidal rule.

    Without its checks: ``positive`` must be a 1-D boolean array holding both values and
    ``score`` a finite float array of its length.

    >>> import numpy as np
    >>> roc_auc(np.array([False, True, False, True]), np.array([0.1, 0.4, 0.5, 0.8]))
    0.75
    """
    from scipy.integrate import trapezoid

    positive = positive.astype(np.float64)
    order = np.argsort(score, kind="stable")[::-1]
    score, positive = score[order], positive[order]
    thresholds = np.r_[np.nonzero(np.diff(score))[0], len(positive) - 1]
    tps = np.cumsum(positive, dtype=np.float64)[thresholds]
    fps = 1 + thresholds.astype(np.float64) - tps
    if len(fps) > 2:
        keep = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps = fps[keep], tps[keep]
    tps, fps = np.r_[0.0, tps], np.r_[0.0, fps]
    return float(trapezoid(tps / tps[-1], fps / fps[-1]))


def _predicted_labels(estimator: Any, X: Any, y: np.ndarray) -> np.ndarray | None:
    classes = _classifier(estimator)
    if classes is None or not _labels(y) or not _same_kind(y, classes):
        return None
    predicted = estimator.predict(X)
    if not isinstance(predicted, np.ndarray) or len(predicted) != len(y):
        return None
    if not _labels(predicted) or not _same_kind(predicted, y):
        return None
    return predicted


def _accuracy(estimator: Any, X: Any, y: np.ndarray) -> float | None:
    predicted = _predicted_labels(estimator, X, y)
    if predicted is None:
        return None
    return float(np.average(y == predicted))


def _balanced_accuracy(estimator: Any, X: Any, y: np.ndarray) -> float | None:
    """The mean recall over the classes, in the order of the sorted labels of ``y`` and
    the predictions (a predicted class absent from ``y``, or a single label: scikit-learn
    warns)."""
    predicted = _predicted_labels(estimator, X, y)
    if predicted is None:
        return None
    labels, y_codes = np.unique(y, return_inverse=True)
    if len(labels) < 2 or not np.isin(predicted, labels).all():
        return None  # a single label: the confusion matrix warns
    p_codes = np.searchsorted(labels, predicted)
    support = np.bincount(y_codes, minlength=len(labels))
    hits = np.bincount(y_codes[y_codes == p_codes], minlength=len(labels))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = hits / support
    return float(np.mean(per_class))


def _f_scores(y: np.ndarray, predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per label of ``labels``, F1 as ``precision_recall_fscore_support`` computes it
    (``2 tp / (true + predicted)``, in float64), or NaN where nothing is true or predicted."""
    truth = y[:, np.newaxis] == labels
    guess = predicted[:, np.newaxis] == labels
    tp = np.count_nonzero(truth & guess, axis=0)
    true_sum, pred_sum = np.count_nonzero(truth, axis=0), np.count_nonzero(guess, axis=0)
    denominator = true_sum.astype(np.float64) + pred_sum.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(2 * tp.astype(np.float64) / denominator)


def _f1(estimator: Any, X: Any, y: np.ndarray) -> float | None:
    """Binary F1 of the label 1 (scikit-learn's ``pos_label``): numeric labels only, two
    at most, 1 among them, and something true or predicted (else scikit-learn raises or
    warns)."""
    predicted = _predicted_labels(estimator, X, y)
    if predicted is None or y.dtype.kind not in "iub":
        return None
    present = np.unique(np.concatenate([np.unique(y), np.unique(predicted)]))
    if len(present) > 2 or 1 not in present:
        return None
    f = _f_scores(y, predicted, np.asarray([1]))
    return None if np.isnan(f).any() else float(np.nanmean(f))


def _f1_macro(estimator: Any, X: Any, y: np.ndarray) -> float | None:
    """Macro F1 over the sorted labels of ``y`` and the predictions."""
    predicted = _predicted_labels(estimator, X, y)
    if predicted is None:
        return None
    labels = np.unique(np.concatenate([np.unique(y), np.unique(predicted)]))
    return float(np.nanmean(_f_scores(y, predicted, labels)))


def _log_loss(estimator: Any, X: Any, y: np.ndarray) -> float | None:
    """Negated log loss, as ``neg_log_loss``: a binary classifier's probability of its
    last class is expanded to ``[1 - p, p]``, as scikit-learn's scorer does."""
    classes = _classifier(estimator)
    if classes is None or not _labels(y) or not _same_kind(y, classes):
        return None
    proba = estimator.predict_proba(X)
    if not _finite_floats(proba, 2) or len(proba) != len(y) or proba.dtype != np.float64:
        return None
    if len(classes) == 2:
        if proba.shape[1] != 2:
            return None
        p = proba[:, 1][:, np.newaxis]
        proba = np.concatenate([1 - p, p], axis=1)
    if proba.max() > 1 or proba.min() < 0:
        return None
    if not (np.abs(proba.sum(axis=1) - 1) <= 1e-9).all():
        return None  # scikit-learn warns that they do not sum to one
    labels, codes = np.unique(y, return_inverse=True)
    if len(labels) < 2 or len(labels) != proba.shape[1]:
        return None
    onehot = np.zeros(proba.shape, dtype=np.float64)
    onehot[np.arange(len(codes)), codes] = 1.0
    eps = np.finfo(proba.dtype).eps
    proba = np.clip(proba, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = onehot * np.log(proba)
    loss = -np.sum(np.where(onehot == 0.0, 0.0, terms), axis=1)
    return -1 * float(np.average(loss))


def _regression(estimator: Any, X: Any, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(y, predictions)`` as float columns, as scikit-learn's regression metrics check
    them, or None."""
    from sklearn.base import is_classifier

    if is_classifier(estimator) or y.ndim != 1 or len(y) < 2:
        return None
    if y.dtype != np.float64 and y.dtype.kind not in "iu":
        return None
    predicted = estimator.predict(X)
    if not _finite_floats(predicted, 1) or predicted.dtype != np.float64:
        return None
    if len(predicted) != len(y):
        return None
    y = y.astype(np.float64, copy=False)
    if not np.isfinite(y).all():
        return None
    return y.reshape(-1, 1), predicted.reshape(-1, 1)


def _r2(estimator: Any, X: Any, y: np.ndarray) -> float | None:
    pair = _regression(estimator, X, y)
    if pair is None:
        return None
    return r2(*pair)


def r2(truth: np.ndarray, predicted: np.ndarray) -> float:
    """The coefficient of determination, bitwise as ``r2_score(truth, predicted)``.

    Without its checks: both finite float64 arrays of the same shape, one column or 1-D,
    with two rows at least.

    >>> import numpy as np
    >>> r2(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 5.0]))
    0.8
    """
    truth, predicted = truth.reshape(-1, 1), predicted.reshape(-1, 1)
    numerator = np.sum((truth - predicted) ** 2, axis=0)
    denominator = np.sum((truth - np.average(truth, axis=0)) ** 2, axis=0)
    scores = np.ones([1], dtype=numerator.dtype)
    valid = (denominator != 0) & (numerator != 0)
    scores[valid] = 1 - (numerator[valid] / denominator[valid])
    scores[(numerator != 0) & ~(denominator != 0)] = 0.0
    return float(np.average(scores))


def _rmse(estimator: Any, X: Any, y: np.ndarray) -> float | None:
    pair = _regression(estimator, X, y)
    if pair is None:
        return None
    truth, predicted = pair
    errors = np.sqrt(np.average((truth - predicted) ** 2, axis=0))
    return -1 * float(np.average(errors))


def _mae(estimator: Any, X: Any, y: np.ndarray) -> float | None:
    pair = _regression(estimator, X, y)
    if pair is None:
        return None
    truth, predicted = pair
    errors = np.average(np.abs(predicted - truth), axis=0)
    return -1 * float(np.average(errors))


_FAST: dict[str, _Fast] = {
    "roc_auc": _roc_auc,
    "accuracy": _accuracy,
    "balanced_accuracy": _balanced_accuracy,
    "f1": _f1,
    "f1_macro": _f1_macro,
    "neg_log_loss": _log_loss,
    "r2": _r2,
    "neg_root_mean_squared_error": _rmse,
    "neg_mean_absolute_error": _mae,
}
