"""What every tuneworth sampler shares: input checks, the template and output containers.

The samplers work on raw tabular data: a pandas DataFrame with numeric and categorical
(``str``, ``object``, ``category``, ``bool``) columns and missing values, or an array. They
sit before preprocessing in a pipeline, so they must leave categorical values and missing
values intact and return the same kind of container they were given.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from imblearn.base import BaseSampler
from imblearn.utils import check_target_type
from sklearn.preprocessing import label_binarize
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from tuneworth.steps._judgements import keep_every_class

# The parameter constraint shared by every sampler's ``categorical_features``.
CATEGORICAL_FEATURES = ["array-like", StrOptions({"auto"})]


def with_values(like: pd.DataFrame, rows: np.ndarray, updates: dict[Hashable, np.ndarray]) -> Any:
    """Copies of ``like``'s rows ``rows`` with some numeric columns replaced.

    Replaced columns keep their dtype; integer columns are rounded first, so a count stays
    a count.
    """
    new = like.iloc[rows].reset_index(drop=True)
    for column, values in updates.items():
        dtype = like[column].dtype
        if pd.api.types.is_integer_dtype(dtype) and values.dtype.kind == "f":
            values = np.round(values)
            if not isinstance(dtype, np.dtype):
                # nullable integers can hold the missing values that were kept
                new[column] = pd.array(values, dtype="Float64").astype(dtype)
                continue
        new[column] = pd.Series(values).astype(dtype)
    return new


class TabularSampler(BaseSampler):  # type: ignore[misc]
    """Base of tuneworth's samplers: a template for ``fit_resample`` on raw tabular data.

    imbalanced-learn's own template: subclasses write ``_fit_resample(frame, y)``, which
    receives the rows as a DataFrame (an array becomes a frame with positional column
    labels) and the target as a 1-D array, and returns the new frame and target. The base
    validates the parameters, checks the input in ``_check_X_y`` (the hook imbalanced-learn's
    samplers override; here raw tabular rows, and a continuous target for samplers that
    take one), converts the result back to the container the caller gave, and counts the
    rows before and after, so that a pipeline can say what its samplers did.

    Attributes
    ----------
    n_rows_in_ : int
        Rows given to the last :meth:`fit_resample`.
    n_rows_out_ : int
        Rows it returned.
    class_rows_in_ : dict
        Rows per class given, ``{label: count}``; empty for a continuous target.
    class_rows_out_ : dict
        Rows per class returned, for the same labels.
    """

    _sampling_type = "bypass"
    # Samplers that never look at the classes also serve regression targets.
    _accepts_continuous_target: ClassVar[bool] = False
    # Samplers that judge a numeric target take any numeric target as continuous, integral
    # values included (a count, or a price in whole units, is not a class label).
    _continuous_target_only: ClassVar[bool] = False

    def fit(self, X: Any, y: Any) -> TabularSampler:
        """Learn what :meth:`fit_resample` learns, and discard the resampled rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        self.fit_resample(X, y)
        return self

    def fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        """Resample the rows: clean them or add synthetic ones.

        imbalanced-learn's template, as its ``FunctionSampler`` writes it for targets
        beyond class labels: :meth:`_check_X_y` validates, ``_fit_resample`` resamples, and
        the result goes back into the containers the caller gave.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Numeric and categorical columns, missing values allowed.
        y : array-like of shape (n_samples,)
            Class labels (or, for samplers that ignore the classes, any target).

        Returns
        -------
        X_resampled : same container as X
        y_resampled : same container as y
        """
        self._validate_params()
        frame, labels, binarize_y = self._check_X_y(X, y)
        new_frame, new_labels = self._fit_resample(frame, labels)
        self._count_rows(labels, new_labels, self._target_is_continuous)
        return _restore(X, y, new_frame, new_labels, binarize_y, labels)

    def _fit_resample(self, frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        raise NotImplementedError

    def _count_rows(self, before: np.ndarray, after: np.ndarray, continuous: bool) -> None:
        self.n_rows_in_, self.n_rows_out_ = len(before), len(after)
        self.class_rows_in_: dict[Any, int] = {}
        self.class_rows_out_: dict[Any, int] = {}
        if continuous:
            return
        labels, counts = np.unique(before, return_counts=True)
        kept = pd.Series(after).value_counts()
        for label, count in zip(labels.tolist(), counts.tolist(), strict=True):
            self.class_rows_in_[label] = int(count)
            self.class_rows_out_[label] = int(kept.get(label, 0))

    def _check_X_y(
        self, X: Any, y: Any, accept_sparse: Any = None
    ) -> tuple[pd.DataFrame, np.ndarray, bool]:
        """imbalanced-learn's input check, for raw tabular rows and any target the sampler
        takes: the rows as a DataFrame (an array's columns labelled by position), the target
        as a 1-D array, and whether it came one-vs-all encoded. Sparse input is refused."""
        target, binarize_y, continuous = self._check_target(y)
        self._target_is_continuous = continuous
        validate_data(self, X=X, reset=True, skip_check_array=True)
        if isinstance(X, pd.DataFrame):
            if X.shape[0] < 1 or X.shape[1] < 1:
                raise ValueError(
                    f"Found array with {X.shape[0]} sample(s) and {X.shape[1]} feature(s) "
                    "while a minimum of 1 is required."
                )
            frame = X
        else:
            frame = pd.DataFrame(
                check_array(X, dtype=None, accept_sparse=False, ensure_all_finite="allow-nan")
            )
        check_consistent_length(frame, y)
        if not continuous and (n_classes := np.unique(target).size) < 2:
            raise ValueError(
                f"The target 'y' needs to have more than 1 class. Got {n_classes} class instead"
            )
        return frame, target, binarize_y

    def _check_target(self, y: Any) -> tuple[np.ndarray, bool, bool]:
        """The target as a 1-D array, whether it was one-vs-all, whether it is continuous."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        if self._continuous_target_only:
            target = column_or_1d(y, warn=True)
            if not np.issubdtype(target.dtype, np.number) or target.dtype.kind == "b":
                raise ValueError(
                    f"Unknown label type: {type(self).__name__} needs a numeric target, "
                    f"got dtype {target.dtype}"
                )
            return target.astype(float), False, True
        kind = type_of_target(y, input_name="y")
        if kind == "continuous" and self._accepts_continuous_target:
            return np.asarray(y).reshape(-1) if np.ndim(y) == 2 else np.asarray(y), False, True
        check_classification_targets(y)
        labels, one_vs_all = check_target_type(y, indicate_one_vs_all=True)
        return np.asarray(labels), bool(one_vs_all), False

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags


class Cleaner(TabularSampler):
    """A sampler that only removes rows; ``sample_indices_`` are the rows it kept.

    It never removes every row of a class: a model trained without a class could not
    predict it. When its rule would, that class's rows are all kept. A subclass with a
    ``per_class`` parameter set to False treats the target as values, not classes: a
    regression target of whole numbers (prices in dollars) would otherwise pass for
    thousands of classes of one row each, every one of them protected.
    """

    def _fit_resample(self, frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        keep = np.array(self._keep(frame, y), dtype=bool)  # a copy: pandas' may be read-only
        if self._judges_classes():
            keep = keep_every_class(keep, y)
        if not keep.any():
            raise ValueError(
                f"{type(self).__name__} removed every one of the {len(keep)} training rows"
                f"{self._why_all_removed(frame)}: nothing is left to train on"
            )
        self.sample_indices_ = np.flatnonzero(keep)
        return frame.iloc[self.sample_indices_], y[self.sample_indices_]

    def _keep(self, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _why_all_removed(self, frame: pd.DataFrame) -> str:
        """A clause saying why the rule left no row, for the error; empty when unknown."""
        return ""

    def _judges_classes(self) -> bool:
        """Whether the target holds classes that must each keep a row."""
        return bool(getattr(self, "per_class", True)) and not self._target_is_continuous

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.sampler_tags.sample_indices = True
        return tags


class Augmenter(TabularSampler):
    """A sampler that keeps every row and appends synthetic ones after them."""

    def _fit_resample(self, frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        new_rows, new_labels = self._generate(frame, y)
        if len(new_rows) == 0:
            return frame, y
        combined = pd.concat([frame.reset_index(drop=True), new_rows], ignore_index=True)
        return combined.astype(frame.dtypes.to_dict()), np.concatenate([y, new_labels])

    def _generate(self, frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        raise NotImplementedError


def _restore(
    X: Any,
    y: Any,
    frame: pd.DataFrame,
    labels: np.ndarray,
    one_vs_all: bool,
    original_labels: np.ndarray,
) -> tuple[Any, Any]:
    """Put the resampled rows back into the containers ``X`` and ``y`` came in."""
    X_out: Any
    if isinstance(X, pd.DataFrame):
        X_out = frame.reset_index(drop=True)
    else:
        dtype = np.asarray(X).dtype if not isinstance(X, list) else None
        X_out = frame.to_numpy(dtype=dtype)
        if isinstance(X, list):
            X_out = X_out.tolist()
    y_out: Any = (
        label_binarize(labels, classes=np.unique(original_labels)) if one_vs_all else labels
    )
    if isinstance(y, pd.Series):
        y_out = pd.Series(y_out, dtype=y.dtype, name=y.name)
    elif isinstance(y, pd.DataFrame):
        y_out = pd.DataFrame(np.reshape(y_out, (len(y_out), -1)), columns=y.columns)
        y_out = y_out.astype(y.dtypes.to_dict())
    elif isinstance(y, list):
        y_out = y_out.tolist()
    else:
        y_out = np.asarray(y_out, dtype=np.asarray(y).dtype)
    return X_out, y_out
