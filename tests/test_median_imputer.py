"""The median imputer: SimpleImputer(strategy="median")'s statistics and output, to the bit,
at a fraction of its memory."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.impute import SimpleImputer
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from tuneworth.steps import MedianImputer, Preprocessor


def _both(X: Any, **params: Any) -> tuple[Any, Any, Any, Any, list[str], list[str]]:
    """SimpleImputer's and MedianImputer's fitted imputers, outputs and warnings on ``X``
    (numpy's overflow warnings aside)."""
    outputs = []
    for imputer in (SimpleImputer(strategy="median", **params), MedianImputer(**params)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            output = imputer.fit(X).transform(X)
        # numpy's overflow warnings (the sum of two huge middle values) come once per
        # reduction, and this imputer reduces column by column: only its own are compared.
        said = [str(w.message) for w in caught if not issubclass(w.category, RuntimeWarning)]
        outputs.append((imputer, output, said))
    (a, out_a, warned_a), (b, out_b, warned_b) = outputs
    return a, b, out_a, out_b, warned_a, warned_b


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
    )


# Floats of every magnitude (sums of two near the largest overflow, as they do in numpy's
# median), ties, missing values anywhere, and columns that are entirely missing.
cells = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, -1.0, 2.5]),
    st.just(np.nan),
)
tables = st.integers(1, 5).flatmap(
    lambda width: hnp.arrays(
        np.float64, st.tuples(st.integers(1, 30), st.just(width)), elements=cells
    )
)


@settings(max_examples=150, deadline=None)
@given(
    tables,
    st.booleans(),
    st.booleans(),
    st.sampled_from([np.float64, np.float32, np.float16]),
    st.booleans(),
)
def test_statistics_output_names_and_warnings_are_simple_imputers_to_the_bit(
    X: np.ndarray, add_indicator: bool, keep_empty: bool, dtype: Any, fortran: bool
) -> None:
    with np.errstate(over="ignore"):
        X = X.astype(dtype)
    X[np.isinf(X)] = np.nan  # the narrower floats' overflows: a missing value, not input
    X = np.asfortranarray(X) if fortran else X
    a, b, out_a, out_b, warned_a, warned_b = _both(
        X, add_indicator=add_indicator, keep_empty_features=keep_empty
    )
    assert _same_bits(a.statistics_, b.statistics_)
    assert _same_bits(out_a, out_b)
    assert warned_a == warned_b
    assert a.get_feature_names_out().tolist() == b.get_feature_names_out().tolist()


@pytest.mark.seed(3)
def test_integer_and_boolean_input_is_imputed_as_floats_like_simple_imputer(
    rng: np.random.Generator,
) -> None:
    for X in (rng.integers(-5, 5, size=(40, 3)), rng.random((41, 3)) < 0.3):
        a, b, out_a, out_b, _, _ = _both(X)
        assert _same_bits(a.statistics_, b.statistics_)
        assert _same_bits(out_a, out_b)
        assert out_b.dtype == np.float64


def test_an_empty_column_is_dropped_with_simple_imputers_warning_or_kept_as_zeros() -> None:
    X = pd.DataFrame({"a": [1.0, np.nan, 4.0, 3.0], "gone": [np.nan] * 4, "b": [2.0] * 4})
    with pytest.warns(UserWarning, match=r"Skipping features .*'gone'.*strategy='median'"):
        out = MedianImputer(add_indicator=True).fit(X).transform(X)
    assert out.tolist() == [
        [1.0, 2.0, 0.0, 1.0],
        [3.0, 2.0, 1.0, 1.0],
        [4.0, 2.0, 0.0, 1.0],
        [3.0, 2.0, 0.0, 1.0],
    ]
    names = MedianImputer(add_indicator=True).fit(X).get_feature_names_out()
    assert names.tolist() == ["a", "b", "missingindicator_a", "missingindicator_gone"]
    kept = MedianImputer(keep_empty_features=True).fit(X)
    assert kept.statistics_.tolist() == [3.0, 0.0, 2.0]
    assert kept.transform(X)[:, 1].tolist() == [0.0] * 4


def test_pandas_output_carries_the_feature_names_and_index() -> None:
    X = pd.DataFrame({"age": [30.0, np.nan, 41.0], "income": [1.0, 2.0, np.nan]}, index=[7, 8, 9])
    out = MedianImputer(add_indicator=True).set_output(transform="pandas").fit_transform(X)
    expected = SimpleImputer(strategy="median", add_indicator=True).set_output(transform="pandas")
    pd.testing.assert_frame_equal(out, expected.fit_transform(X))
    assert out.columns.tolist() == [
        "age",
        "income",
        "missingindicator_age",
        "missingindicator_income",
    ]
    assert out.index.tolist() == [7, 8, 9]


def test_it_fills_a_float_array_in_place_only_when_told_it_owns_it() -> None:
    X = np.array([[1.0, np.nan], [np.nan, 4.0], [3.0, 6.0]])
    original = X.copy()
    MedianImputer().fit(X).transform(X)
    assert np.array_equal(X, original, equal_nan=True)
    out = MedianImputer(copy=False).fit(X).transform(X)
    assert out is X or np.shares_memory(out, X)
    assert X.tolist() == [[1.0, 5.0], [2.0, 4.0], [3.0, 6.0]]


def test_a_read_only_input_is_copied_even_without_copy() -> None:
    X = np.array([[1.0, np.nan], [np.nan, 4.0], [3.0, 6.0]])
    X.flags.writeable = False
    out = MedianImputer(copy=False).fit(X).transform(X)
    assert out.tolist() == [[1.0, 5.0], [2.0, 4.0], [3.0, 6.0]]
    assert np.isnan(X[0, 1])


@pytest.mark.parametrize("scale", ["none", "standard"])
def test_the_preprocessors_median_imputation_is_this_imputer_with_simple_imputers_output(
    scale: str,
) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    X = X.mask(rng.random(X.shape) < 0.2)
    pre = Preprocessor(impute="median", add_indicator=True, scale=scale).fit(X)
    imputer = pre.transformer_.named_transformers_["numeric"][-1]
    assert isinstance(imputer, MedianImputer)
    # Filling in place is safe only behind a scaler's new array: the input stays intact.
    assert imputer.copy == (scale == "none")
    before = X.copy()
    steps = [StandardScaler()] if scale == "standard" else []
    steps.append(SimpleImputer(strategy="median", add_indicator=True))
    reference = ColumnTransformer([("numeric", make_pipeline(*steps), list("abcd"))])
    assert _same_bits(pre.transform(X), reference.fit(X).transform(X))
    pd.testing.assert_frame_equal(X, before)


@sklearn_checks(
    [MedianImputer(), MedianImputer(add_indicator=True), MedianImputer(keep_empty_features=True)]
)
def test_the_median_imputer_passes_scikit_learn_checks(estimator: Any, check: Any) -> None:
    check(estimator)
