"""Preprocessing: one transformer, :class:`Preprocessor`, whose choices are parameters.

Each column is handled by its role (see :func:`tuneworth.data.infer_schema`): numeric
columns are scaled and imputed; categorical ones encoded; high-cardinality categorical ones
and free text turned into a few dense numbers each by skrub's ``StringEncoder`` (TF-IDF of
character n-grams, or of words for text, reduced by a truncated SVD), so that 5,000 levels
or a 2,000-word vocabulary do not become as many one-hot columns; dates parsed (skrub's
``ToDatetime``) and turned into calendar and elapsed-time features (``DatetimeEncoder``),
which are then scaled and imputed as numeric columns.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from tuneworth.steps._fitcache import CACHE, fingerprint

Impute = Literal["none", "mean", "median", "most_frequent", "knn", "iterative"]
Scale = Literal["none", "standard", "robust", "quantile", "power"]
Encode = Literal["onehot", "ordinal", "target", "native"]
Dates = Literal["calendar", "elapsed"]
Select = Literal["none", "variance", "mutual_info"]

IMPUTE: tuple[Impute, ...] = ("none", "mean", "median", "most_frequent", "knn", "iterative")
SCALE: tuple[Scale, ...] = ("none", "standard", "robust", "quantile", "power")
ENCODE: tuple[Encode, ...] = ("onehot", "ordinal", "target", "native")
DATES: tuple[Dates, ...] = ("calendar", "elapsed")
# Dense components of each high-cardinality or text column (skrub's default).
STRING_COMPONENTS = 30
SELECT: tuple[Select, ...] = ("none", "variance", "mutual_info")


class ColumnKinds(Protocol):
    """Anything that says which columns are numeric and which categorical.

    It may also say which are high-cardinality categorical (``high_cardinality``), free
    text (``text``) and dates (``dates``); without those attributes there are none.
    """

    @property
    def numeric(self) -> Sequence[Hashable]: ...

    @property
    def categorical(self) -> Sequence[Hashable]: ...


def _role(schema: ColumnKinds, name: str) -> list[Hashable]:
    return list(getattr(schema, name, ()))


class Preprocessor(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Encode each column by its role; every choice is a parameter.

    A scikit-learn transformer whose constructor parameters are the preprocessing choices,
    so that a search can tune them (``set_params(preprocess__scale="robust")``), ``clone``
    copies them and a pipeline's ``memory`` caches its fit. ``fit`` builds the
    ``ColumnTransformer`` these choices describe (:attr:`transformer_`) and fits it;
    everything it learns (medians, neighbours, scales, categories, target statistics,
    selected features) it learns there, so inside a pipeline it is fitted on training folds
    only.

    Fits are shared within a process: a fit with the same parameters on rows (and target)
    of the same content reuses the fitted transformer, its output on those rows and its
    outputs on inputs it transformed before (see :mod:`tuneworth.steps._fitcache`). Every
    configuration of a search that moves only the model, every strategy on the same inner
    folds and every arm with the same preprocessing on the same outer training rows thus
    fits it once. Outputs are read-only arrays (or copy-on-write DataFrames).

    Parameters
    ----------
    schema : object with ``numeric`` and ``categorical`` column names, or None
        Usually :class:`tuneworth.data.Schema`, which also names ``high_cardinality``,
        ``text`` and ``dates`` columns (an arm's ``roles`` lever changes the schema it
        passes here). None infers it in ``fit``: from a DataFrame with
        :func:`tuneworth.data.infer_schema`, and every column of an array is numeric.
    impute : {"none", "mean", "median", "most_frequent", "knn", "iterative"}
        How missing numeric values are filled. ``"none"`` leaves them for models that
        handle missing values natively; ``"knn"`` averages the 5 nearest rows and
        ``"iterative"`` models each column from the others (both after scaling, when
        there is scaling, so that no column dominates the distances). Missing categories
        always become their own level.
    add_indicator : bool
        Add a 0/1 column per numeric column that had missing values in training. Needs an
        imputer.
    scale : {"none", "standard", "robust", "quantile", "power"}
        Scaling of numeric columns: z-scores, median and IQR, a quantile map onto a normal
        distribution, or a Yeo-Johnson power transform. It runs before imputation (the
        scalers ignore missing values), so indicator columns stay 0/1.
    encode : {"onehot", "ordinal", "target", "native"}
        Encoding of categorical columns. ``"target"`` replaces each category by a shrunk
        mean of the target, cross-fitted inside ``fit_transform`` so that a row's own
        label never encodes it (high-cardinality columns too). ``"native"`` hands the
        categories (high-cardinality ones too) to the model as pandas ``category`` columns,
        for models that split on categories themselves (LightGBM, XGBoost, CatBoost), and
        makes the output a DataFrame. Unseen categories at predict time are tolerated.
    min_frequency : int, float or None
        Group categories seen fewer times than this (a count, or a fraction of the rows)
        into one "infrequent" level, for one-hot and ordinal encoding.
    select : {"none", "variance", "mutual_info"}
        Feature selection after encoding: drop features whose variance is at most
        ``variance_threshold`` (after scaling, in effect the near-constant one-hot and
        indicator columns), or keep the ``k`` with the highest mutual information with the
        target (classification or regression, found from the target).
    k : int
        Features kept by ``select="mutual_info"``.
    variance_threshold : float
        Threshold of ``select="variance"``.
    dates : {"calendar", "elapsed"}
        Features of a date column: year, month, day, weekday (and hour, when the dates have
        times) beside the seconds elapsed since 1970; or the elapsed seconds alone, the
        date as one number.
    random_state : int or None
        Seed of the steps that draw random numbers (iterative imputation, quantile
        subsampling, mutual-information estimates, target-encoding folds).

    Attributes
    ----------
    transformer_ : ColumnTransformer or Pipeline
        The fitted column transformer; with feature selection, a Pipeline of it
        (``columns``) and the selector (``select``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from tuneworth.data import infer_schema
    >>> X = pd.DataFrame({"age": [30.0, None, 41.0], "city": ["Oslo", "Rome", None]})
    >>> Preprocessor(infer_schema(X), scale="standard").fit_transform(X).shape
    (3, 4)
    >>> pre = Preprocessor(impute="knn", add_indicator=True, encode="ordinal").fit(X)
    >>> pre.get_feature_names_out().tolist()
    ['age', 'missingindicator_age', 'city']
    >>> from tuneworth.data import Schema
    >>> X = pd.DataFrame({"day": ["2026-11-27", "2026-11-28", None]})
    >>> pre = Preprocessor(Schema(numeric=(), categorical=(), dates=("day",)), impute="none")
    >>> pre.fit_transform(X)[:, -1].round(2).tolist()  # weekday (Friday, Saturday), standardised
    [-1.0, 1.0, nan]
    """

    def __init__(
        self,
        schema: ColumnKinds | None = None,
        *,
        impute: Impute = "median",
        add_indicator: bool = False,
        scale: Scale = "none",
        encode: Encode = "onehot",
        min_frequency: int | float | None = None,
        select: Select = "none",
        k: int = 10,
        variance_threshold: float = 0.0,
        dates: Dates = "calendar",
        random_state: int | None = None,
    ) -> None:
        self.schema = schema
        self.impute = impute
        self.add_indicator = add_indicator
        self.scale = scale
        self.encode = encode
        self.min_frequency = min_frequency
        self.select = select
        self.k = k
        self.variance_threshold = variance_threshold
        self.dates = dates
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> Preprocessor:
        """Build the column transformer for ``X``'s columns and fit it."""
        X = self._check_input(X, reset=True)
        self._fit_key_ = key = self._cache_key(X, y)
        if key is None:
            self.transformer_ = self._build(X).fit(X, y)
        else:
            self.transformer_ = CACHE.fit(key, lambda: self._build(X).fit(X, y))
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit and transform in one pass, as the column transformer does: a target encoder
        then encodes each training row out of fold (``fit(X).transform(X)`` would not)."""
        X = self._check_input(X, reset=True)
        self._fit_key_ = key = None if fit_params else self._cache_key(X, y)
        if key is None:
            self.transformer_ = self._build(X)
            return self.transformer_.fit_transform(X, y, **fit_params)

        def fit_transform() -> tuple[Any, Any]:
            transformer = self._build(X)
            return transformer, transformer.fit_transform(X, y)

        self.transformer_, output = CACHE.fit_transform(key, fit_transform)
        return output

    def transform(self, X: Any) -> Any:
        """Encode ``X`` as learnt in ``fit``."""
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        key = getattr(self, "_fit_key_", None)
        if key is None:
            return self.transformer_.transform(X)
        return CACHE.transform(key, fingerprint(X), lambda: self.transformer_.transform(X))

    def _cache_key(self, X: Any, y: Any) -> bytes | None:
        """What determines a fit: these parameters and the content of ``X`` and ``y``;
        None when the fit may not be shared (a random generator as seed, no cache)."""
        if not CACHE.enabled or not (
            self.random_state is None or isinstance(self.random_state, int | np.integer)
        ):
            return None
        params = repr([(name, getattr(self, name)) for name in _param_names(type(self))])
        if " at 0x" in params:  # an object known by its address, not its content
            return None
        return fingerprint(type(self).__qualname__, params, X, y)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the encoded columns, as the column transformer names them."""
        check_is_fitted(self)
        return np.asarray(self.transformer_.get_feature_names_out(), dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # imputed, or left for a model that takes them
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.target_tags.required = self.encode == "target" or self.select == "mutual_info"
        return tags

    def _check_input(self, X: Any, *, reset: bool) -> Any:
        """A DataFrame is taken as is (the column transformer selects its columns by name,
        and ignores extra ones); anything else is checked as a 2-D array, NaN allowed."""
        if hasattr(X, "columns"):
            if reset:
                _set_features_in(self, X)
            return X
        return validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan")

    def _build(self, X: Any) -> Any:
        """The unfitted column transformer that these choices describe, for ``X``."""
        schema = self.schema
        if schema is None:
            if hasattr(X, "columns"):
                from tuneworth.data import infer_schema

                schema = infer_schema(X)
            else:
                schema = _AllNumeric(tuple(range(X.shape[1])))
        return _column_transformer(
            schema,
            impute=self.impute,
            add_indicator=self.add_indicator,
            scale=self.scale,
            encode=self.encode,
            min_frequency=self.min_frequency,
            select=self.select,
            k=self.k,
            variance_threshold=self.variance_threshold,
            dates=self.dates,
            random_state=self.random_state,
        )


# What validate_data(estimator, X, skip_check_array=True) sets on a DataFrame depends on
# its column names alone (n_features_in_, and feature_names_in_ when every name is a
# string), but finding them through narwhals costs more than the rest of a cache hit:
# kept by names, for up to _FEATURES_IN_SIZE sets of them.
_FEATURES_IN: dict[tuple[str, ...], np.ndarray] = {}
_FEATURES_IN_SIZE = 64


def _set_features_in(estimator: BaseEstimator, X: Any) -> None:
    """Set ``n_features_in_`` and ``feature_names_in_`` as
    ``validate_data(estimator, X, skip_check_array=True)`` does, which a DataFrame whose
    names were seen before skips."""
    names = tuple(X.columns.tolist()) if isinstance(X, pd.DataFrame) else ()
    # Only names of type str: equal names of another type (NumPy's str_) are not feature
    # names to scikit-learn.
    strings = bool(names) and all(type(name) is str for name in names)
    known = _FEATURES_IN.get(names) if strings else None
    if known is not None:
        estimator.n_features_in_ = len(names)
        estimator.feature_names_in_ = known.copy()
        return
    validate_data(estimator, X, skip_check_array=True)
    if strings and estimator.n_features_in_ == len(names):
        if len(_FEATURES_IN) >= _FEATURES_IN_SIZE:
            _FEATURES_IN.clear()
        _FEATURES_IN[names] = estimator.feature_names_in_.copy()


# Constructor parameters by class: ``get_params`` reads them from the signature on every
# call, a cost paid on every fit of a search.
_PARAM_NAMES: dict[type, list[str]] = {}


def _param_names(cls: type) -> list[str]:
    if cls not in _PARAM_NAMES:
        _PARAM_NAMES[cls] = list(cls._get_param_names())  # type: ignore[attr-defined]
    return _PARAM_NAMES[cls]


@dataclass(frozen=True)
class _AllNumeric:
    """The columns of an array: numeric, by position."""

    numeric: tuple[int, ...]
    categorical: tuple[int, ...] = ()


def _column_transformer(
    schema: ColumnKinds,
    *,
    impute: Impute,
    add_indicator: bool,
    scale: Scale,
    encode: Encode,
    min_frequency: int | float | None,
    select: Select,
    k: int,
    variance_threshold: float,
    dates: Dates,
    random_state: int | None,
) -> Any:
    """The unfitted ColumnTransformer (or, with selection, Pipeline) of
    :class:`Preprocessor`'s choices for the columns of ``schema``."""
    from sklearn.base import clone
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline, make_pipeline

    _check_choice("impute", impute, IMPUTE)
    _check_choice("scale", scale, SCALE)
    _check_choice("encode", encode, ENCODE)
    _check_choice("select", select, SELECT)
    _check_choice("dates", dates, DATES)
    if add_indicator and impute == "none":
        raise ValueError("add_indicator=True needs an imputer: set impute to a strategy")

    scaler = _scaler(scale, random_state)
    # A scaler hands the imputer a new array of its own, to be filled in place.
    imputer = _imputer(impute, add_indicator, random_state, owned=scaler is not None)
    numeric_steps = [step for step in (scaler, imputer) if step is not None]
    transformers: list[tuple[str, Any, list[Hashable]]] = []
    if schema.numeric:
        numeric = make_pipeline(*numeric_steps) if numeric_steps else "passthrough"
        transformers.append(("numeric", numeric, list(schema.numeric)))
    if _role(schema, "dates"):
        # Seconds since 1970 (about 1.8e9) would swamp every other column of a linear
        # model or a distance, so date features are standardised unless scaled otherwise.
        date_scaling = [] if scale != "none" else [_scaler("standard", random_state)]
        date_steps = [
            *_date_encoder(dates),
            *date_scaling,
            *(clone(step) for step in numeric_steps),
        ]
        transformers.append(("dates", make_pipeline(*date_steps), _role(schema, "dates")))
    categorical_columns = list(schema.categorical)
    if encode == "native":
        # Every category column alike: the model decides how to split on many levels.
        categorical_columns += _role(schema, "high_cardinality")
    if categorical_columns:
        categorical = make_pipeline(
            _categorical_imputer(), _encoder(encode, min_frequency, random_state)
        )
        transformers.append(("categorical", categorical, categorical_columns))
    if encode != "native" and _role(schema, "high_cardinality"):
        high = (
            make_pipeline(_categorical_imputer(), _encoder("target", None, random_state))
            if encode == "target"
            else _string_encoder("char_wb", random_state)
        )
        transformers.append(("high_cardinality", high, _role(schema, "high_cardinality")))
    if _role(schema, "text"):
        transformers.append(("text", _string_encoder("word", random_state), _role(schema, "text")))
    columns = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    if encode == "native":
        columns.set_output(transform="pandas")
    if select == "none":
        return columns
    # Selection spans all encoded columns, so it follows the column transformer.
    return Pipeline(
        [("columns", columns), ("select", _selector(select, k, variance_threshold, random_state))]
    )


def mutual_information(X: Any, y: Any, *, random_state: int | None = None) -> np.ndarray:
    """Mutual information of each column with ``y``, for a class or a continuous target.

    A score function for :class:`~sklearn.feature_selection.SelectKBest` that works for
    every task, so one preprocessing declaration serves classification and regression.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 5.0], [1.0, 5.0], [0.0, 4.0], [1.0, 4.0]] * 10)
    >>> y = X[:, 0].astype(int)
    >>> mutual_information(X, y, random_state=0).round(1).tolist()
    [0.7, 0.0]
    """
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
    from sklearn.utils.multiclass import type_of_target

    if type_of_target(y) == "continuous":
        return np.asarray(mutual_info_regression(X, y, random_state=random_state))
    return np.asarray(mutual_info_classif(X, y, random_state=random_state))


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(choices)}")


def _scaler(scale: Scale, random_state: int | None) -> Any:
    from sklearn.preprocessing import (
        PowerTransformer,
        QuantileTransformer,
        RobustScaler,
        StandardScaler,
    )

    if scale == "standard":
        return StandardScaler()
    if scale == "robust":
        return RobustScaler()
    if scale == "quantile":
        # 100 quantiles resolve a normal map well, and unlike the default 1000 they do not
        # exceed (and warn about) the rows of a typical training fold.
        return QuantileTransformer(
            n_quantiles=100, output_distribution="normal", random_state=random_state
        )
    if scale == "power":
        return PowerTransformer()
    return None


def _imputer(
    impute: Impute, add_indicator: bool, random_state: int | None, *, owned: bool = False
) -> Any:
    """The imputer of ``impute``; with ``owned``, one that may fill its input in place
    (the input is a new array that nothing else holds)."""
    from sklearn.impute import KNNImputer, SimpleImputer

    if impute == "none":
        return None
    if impute == "knn":
        return KNNImputer(add_indicator=add_indicator)
    if impute == "iterative":
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401
        from sklearn.impute import IterativeImputer

        return IterativeImputer(add_indicator=add_indicator, random_state=random_state)
    if impute == "median":
        from tuneworth.steps._impute import MedianImputer

        # SimpleImputer's median sorts a copy of the whole fold; this one, column by column.
        return MedianImputer(add_indicator=add_indicator, copy=not owned)
    return SimpleImputer(strategy=impute, add_indicator=add_indicator)


def _categorical_imputer() -> Any:
    from sklearn.impute import SimpleImputer

    # An entirely missing column (possible in a small training fold) stays, as "missing".
    return SimpleImputer(strategy="constant", fill_value="missing", keep_empty_features=True)


def _encoder(encode: Encode, min_frequency: int | float | None, random_state: int | None) -> Any:
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder

    if encode == "onehot":
        return OneHotEncoder(
            handle_unknown="infrequent_if_exist" if min_frequency else "ignore",
            min_frequency=min_frequency,
            sparse_output=False,
        )
    if encode == "native":
        from tuneworth.steps._categories import CategoryDtype

        return CategoryDtype()
    if encode == "ordinal":
        return OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, min_frequency=min_frequency
        )
    # Shuffled but seeded cross-fitting folds: the encoder's default shuffles unseeded.
    return TargetEncoder(cv=KFold(5, shuffle=True, random_state=random_state))


def _string_encoder(analyzer: str, random_state: int | None) -> Any:
    """skrub's StringEncoder on each column: TF-IDF of words (text) or of character n-grams
    (high-cardinality categories, where 'Sr. Engineer' should land near 'Engineer'), then
    a truncated SVD to ``STRING_COMPONENTS`` dense numbers. Missing values become zeros."""
    from skrub import ApplyToCols, StringEncoder

    ngrams = (1, 2) if analyzer == "word" else (3, 4)
    return ApplyToCols(
        StringEncoder(
            n_components=STRING_COMPONENTS,
            analyzer=analyzer,
            ngram_range=ngrams,
            random_state=random_state,
        )
    )


def _date_encoder(dates: Dates) -> list[Any]:
    """Parse each date column (strings included), then derive its features."""
    from skrub import ApplyToCols, DatetimeEncoder, ToDatetime

    if dates == "elapsed":
        encoder = DatetimeEncoder(resolution=None, add_total_seconds=True)
    else:
        encoder = DatetimeEncoder(add_weekday=True, add_total_seconds=True)
    return [ApplyToCols(ToDatetime()), ApplyToCols(encoder)]


def _selector(select: Select, k: int, variance_threshold: float, random_state: int | None) -> Any:
    from sklearn.feature_selection import SelectKBest, VarianceThreshold

    if select == "variance":
        return VarianceThreshold(threshold=variance_threshold)
    return SelectKBest(partial(mutual_information, random_state=random_state), k=k)
