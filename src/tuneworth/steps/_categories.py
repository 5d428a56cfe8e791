"""Categorical columns handed to a model as pandas ``category`` columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted


class CategoryDtype(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Cast columns to pandas ``category`` with the levels seen in ``fit``.

    The fixed levels give every fold the same codes; a level unseen in ``fit`` becomes
    missing, which the boosting libraries route like any missing value. Levels are strings
    (a boolean column's too), the one kind every library takes.

    Examples
    --------
    >>> import pandas as pd
    >>> step = CategoryDtype().fit(pd.DataFrame({"c": ["a", "b"]}))
    >>> step.transform(pd.DataFrame({"c": ["b", "z"]}))["c"].tolist()
    ['b', nan]
    >>> CategoryDtype().fit_transform(pd.DataFrame({"flag": [True, False]}))["flag"].tolist()
    ['True', 'False']
    """

    def fit(self, X: Any, y: Any = None) -> CategoryDtype:
        frame = _strings(_frame(X))
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.categories_ = [
            pd.Index(frame[c].dropna().unique()).sort_values() for c in frame.columns
        ]
        return self

    def transform(self, X: Any) -> Any:
        check_is_fitted(self)
        frame = _strings(_frame(X)).set_axis(list(self.feature_names_in_), axis=1)
        return pd.DataFrame(
            {
                c: pd.Categorical(frame[c].where(frame[c].isin(levels)), categories=levels)
                for c, levels in zip(frame.columns, self.categories_, strict=True)
            },
            index=frame.index,
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.feature_names_in_, dtype=object)


def _frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X, dtype=object)
    return pd.DataFrame(array.reshape(len(array), -1))


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype("str")
