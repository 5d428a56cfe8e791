"""Preprocessing: one ColumnTransformer whose choices are parameters."""

from __future__ import annotations

from typing import Any, Literal, Protocol

Impute = Literal["none", "mean", "median", "most_frequent"]
Scale = Literal["none", "standard", "robust"]
Encode = Literal["onehot", "ordinal"]


class ColumnKinds(Protocol):
    """Anything that says which columns are numeric and which categorical."""

    @property
    def numeric(self) -> tuple[str, ...]: ...

    @property
    def categorical(self) -> tuple[str, ...]: ...


def make_preprocessor(
    schema: ColumnKinds,
    *,
    impute: Impute = "median",
    add_indicator: bool = False,
    scale: Scale = "none",
    encode: Encode = "onehot",
) -> Any:
    """Build an unfitted ``ColumnTransformer`` for the numeric and categorical columns.

    Parameters
    ----------
    schema : object with ``numeric`` and ``categorical`` column names
        Usually :class:`tuneworth.data.Schema`.
    impute : {"none", "mean", "median", "most_frequent"}
        How missing numeric values are filled. ``"none"`` leaves them for models that
        handle missing values natively. Missing categories always become their own level.
    add_indicator : bool
        Add a 0/1 column per numeric column that had missing values in training.
    scale : {"none", "standard", "robust"}
        Scaling of numeric columns.
    encode : {"onehot", "ordinal"}
        Encoding of categorical columns; unseen categories at predict time are tolerated.

    Examples
    --------
    >>> import pandas as pd
    >>> from tuneworth.data import infer_schema
    >>> X = pd.DataFrame({"age": [30.0, None, 41.0], "city": ["Oslo", "Rome", None]})
    >>> pre = make_preprocessor(infer_schema(X), scale="standard")
    >>> pre.fit_transform(X).shape
    (3, 4)
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import (
        OneHotEncoder,
        OrdinalEncoder,
        RobustScaler,
        StandardScaler,
    )

    numeric_steps: list[Any] = []
    if impute != "none":
        numeric_steps.append(SimpleImputer(strategy=impute, add_indicator=add_indicator))
    if scale == "standard":
        numeric_steps.append(StandardScaler())
    elif scale == "robust":
        numeric_steps.append(RobustScaler())
    if not numeric_steps:
        numeric_steps.append("passthrough")

    categorical_imputer = SimpleImputer(strategy="constant", fill_value="missing")
    if encode == "onehot":
        encoder: Any = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)

    transformers: list[tuple[str, Any, list[str]]] = []
    if schema.numeric:
        numeric = (
            numeric_steps[0] if numeric_steps == ["passthrough"] else make_pipeline(*numeric_steps)
        )
        transformers.append(("numeric", numeric, list(schema.numeric)))
    if schema.categorical:
        transformers.append(
            ("categorical", make_pipeline(categorical_imputer, encoder), list(schema.categorical))
        )
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
