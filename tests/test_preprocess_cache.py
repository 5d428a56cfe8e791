"""The preprocessing cache: fits shared across configurations, strategies and arms, never
across different rows."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tuneworth.data import Schema
from tuneworth.steps import Preprocessor, preprocess_cache
from tuneworth.steps._fitcache import FitCache, fingerprint


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    preprocess_cache().clear()
    yield
    preprocess_cache().clear()


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row counts of every column transformer Preprocessor builds, that is, fits."""
    seen: list[int] = []
    build = Preprocessor._build

    def counting(self: Preprocessor, X: Any) -> Any:
        seen.append(len(X))
        return build(self, X)

    monkeypatch.setattr(Preprocessor, "_build", counting)
    return seen


@pytest.fixture
def frame(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
    X = pd.DataFrame(rng.normal(size=(120, 4)), columns=["a", "b", "c", "d"])
    X.iloc[::7, 1] = np.nan
    y = pd.Series((X["a"] + rng.normal(size=120) > 0).astype(int))
    return X, y


def _breast_cancer_plan(spec: dict[str, Any]) -> Any:
    """The plan of ``spec`` on scikit-learn's breast-cancer table."""
    from tuneworth.experiment import plan_experiment
    from tuneworth.spec import parse_spec

    document = {"name": "cache", "dataset": {"source": "sklearn:breast_cancer"}, **spec}
    return plan_experiment(parse_spec(document))


def test_a_grid_search_arm_fits_preprocessing_once_per_inner_fold_and_reuses_the_baseline(
    builds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuneworth.evaluate import fit_and_score

    monkeypatch.setattr("tuneworth.evaluate._warm_up", lambda *args: None)
    plan = _breast_cancer_plan(
        {
            "metric": "roc_auc",
            "cv": {"folds": 3, "repeats": 1, "inner_folds": 3},
            "baseline": {"model": "knn", "preprocess": {"scale": "standard"}},
            "levers": ["grid_search", "random_search", "random_oversampling"],
            "budget": {"trials": 5},
        }
    )
    split = plan.splits[0]
    X, y = plan.dataset.X, plan.dataset.y

    def run(arm: str) -> Any:
        result = fit_and_score(arm, plan.pipelines[arm], X, y, split, plan.metric)
        assert result.error is None
        return result

    run("baseline")
    assert builds == [len(split.train)]
    grid = run("grid search")
    configurations = (grid.n_fits - 1) // 3
    assert configurations >= 3 and grid.n_fits == configurations * 3 + 1
    # Every configuration of the model on three inner folds: three fits. The refit on the
    # whole training fold is the baseline's preprocessing, already fitted.
    assert len(builds) == 1 + 3
    assert all(rows < len(split.train) for rows in builds[1:])
    info = preprocess_cache().info
    assert (info.fit_misses, info.fit_hits) == (4, configurations * 3 - 3 + 1)
    # Validation folds: each transformed once, then reused by every other configuration;
    # the outer test fold: transformed when the baseline was scored, reused for the search.
    assert (info.transform_misses, info.transform_hits) == (3 + 1, configurations * 3 - 3 + 1)
    run("random search")  # same inner folds, same preprocessing: nothing new to fit
    assert len(builds) == 4
    run("random oversampling")  # other training rows: a fit of its own
    assert len(builds) == 5
    assert builds[-1] > len(split.train)


def test_a_sampler_before_preprocessing_gets_a_fit_of_its_own_rows(
    frame: tuple[pd.DataFrame, pd.Series], builds: list[int]
) -> None:
    from imblearn.pipeline import make_pipeline
    from sklearn.linear_model import LogisticRegression

    from tuneworth.steps import DuplicateFilter, Oversampler

    X, y = frame
    X = pd.concat([X, X.iloc[:10]], ignore_index=True)
    y = pd.concat([y, y.iloc[:10]], ignore_index=True)
    plain = make_pipeline(Preprocessor(random_state=0), LogisticRegression()).fit(X, y)
    deduplicated = make_pipeline(
        DuplicateFilter(), Preprocessor(random_state=0), LogisticRegression()
    ).fit(X, y)
    oversampled = make_pipeline(
        Oversampler(random_state=0), Preprocessor(random_state=0), LogisticRegression()
    ).fit(X, y)
    assert builds == [130, 120, pytest.approx(builds[2])]
    assert builds[2] > 130
    assert preprocess_cache().info.fit_hits == 0
    medians = [
        p.named_steps["preprocessor"].transformer_.named_transformers_["numeric"][-1].statistics_
        for p in (plain, deduplicated, oversampled)
    ]
    assert not np.array_equal(medians[0], medians[1])


def test_a_fit_on_other_rows_is_never_reused(frame: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = frame
    first = Preprocessor(random_state=0).fit(X.iloc[:60], y.iloc[:60])
    changed = X.iloc[:60].copy()
    changed.iloc[0, 0] += 1e-9  # one value of sixty rows
    second = Preprocessor(random_state=0).fit(changed, y.iloc[:60])
    other = Preprocessor(random_state=0).fit(X.iloc[60:], y.iloc[60:])
    assert preprocess_cache().info.fit_hits == 0
    means = [p.transformer_.named_transformers_["numeric"] for p in (first, second, other)]
    assert len({id(m) for m in means}) == 3
    statistics = other.transformer_.named_transformers_["numeric"][-1].statistics_
    np.testing.assert_allclose(statistics, X.iloc[60:].median().to_numpy())


def test_a_hit_returns_what_a_fresh_fit_would_and_the_same_warnings(
    frame: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = frame

    def fit() -> tuple[np.ndarray, np.ndarray, list[str]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # 100 quantiles of 80 rows: the quantile transformer warns.
            pre = Preprocessor(scale="quantile", random_state=0)
            train = pre.fit_transform(X.iloc[:80], y.iloc[:80])
            test = pre.transform(X.iloc[80:])
        return train, test, [str(w.message) for w in caught]

    fresh = fit()
    reused = fit()
    assert preprocess_cache().info.fit_hits == 1
    assert preprocess_cache().info.transform_hits == 1
    np.testing.assert_array_equal(fresh[0], reused[0])
    np.testing.assert_array_equal(fresh[1], reused[1])
    assert fresh[2] and fresh[2] == reused[2]
    preprocess_cache().max_entries = 0
    try:
        uncached = fit()
    finally:
        preprocess_cache().max_entries = FitCache().max_entries
    np.testing.assert_array_equal(uncached[0], reused[0])
    assert uncached[2] == fresh[2]


def test_a_cached_output_cannot_be_changed_by_whoever_receives_it(
    frame: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = frame
    out = Preprocessor(random_state=0).fit_transform(X, y)
    with pytest.raises(ValueError, match="read-only"):
        out[0, 0] = 99.0
    schema = Schema(numeric=("a", "b"), categorical=("c",))
    X = X.assign(c=np.where(X["c"] > 0, "up", "down"))
    first = Preprocessor(schema, encode="native", random_state=0).fit_transform(X, y)
    first["a"] = 99.0
    second = Preprocessor(schema, encode="native", random_state=0).fit_transform(X, y)
    assert preprocess_cache().info.fit_hits == 1
    assert (second["a"] != 99.0).all()


def test_the_cache_keeps_within_its_memory_bound() -> None:
    cache = FitCache(max_bytes=4 * 8 * 100, max_entries=10)
    for i in range(5):
        cache.fit_transform(bytes([i]), lambda: (object(), np.zeros(100)))
    assert cache._nbytes <= cache.max_bytes
    assert len(cache._entries) == 4
    cache.fit_transform(b"big", lambda: (object(), np.zeros(101)))  # over a quarter
    assert cache._entries[b"big"].train is None
    cache.fit_transform(bytes([4]), lambda: (object(), np.zeros(100)))
    assert cache.info.fit_hits == 1
    # A k-NN imputer keeps its training rows: a fit that holds more than a quarter is not
    # kept either, and nested inside a column transformer it is still counted.
    from sklearn.compose import make_column_transformer
    from sklearn.impute import KNNImputer

    X = np.zeros((101, 1))
    cache.fit(b"knn", lambda: make_column_transformer((KNNImputer(), [0])).fit(X))
    assert b"knn" not in cache._entries
    cache.fit(b"small", lambda: make_column_transformer((KNNImputer(), [0])).fit(X[:50]))
    assert b"small" in cache._entries
    assert cache._nbytes <= cache.max_bytes


def test_an_untimed_warm_up_leaves_the_cache_alone(
    frame: tuple[pd.DataFrame, pd.Series],
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from tuneworth.evaluate import _warm_up

    X, y = frame
    _warm_up("cache warm-up", make_pipeline(Preprocessor(), LogisticRegression()), X, y)
    assert preprocess_cache().info.fit_misses == 0
    assert not preprocess_cache()._entries


def test_a_fingerprint_follows_content_index_and_column_names() -> None:
    X = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert fingerprint(X) == fingerprint(X.copy())
    assert fingerprint(X) != fingerprint(X.rename(columns={"a": "z"}))
    assert fingerprint(X) != fingerprint(X.set_axis([5, 6]))
    assert fingerprint(X) != fingerprint(X.assign(b=["x", "z"]))
    assert fingerprint(X[["a"]]) != fingerprint(X[["a"]].astype("float32"))


def _busy(seconds: float) -> np.ndarray:
    """A fit or transform that spends ``seconds`` of CPU time."""
    import time

    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return np.zeros(3)


def test_reusing_another_arms_fit_charges_its_cpu_seconds_and_ones_own_is_free() -> None:
    cache = FitCache()
    with cache.owned_by("baseline"):
        cache.fit(b"key", lambda: _busy(0.05))
        assert cache.charged == 0  # computed here: its cost is in the baseline's own timing
        cache.fit(b"key", lambda: _busy(1.0))  # the baseline's second trial: shared freely
        assert cache.charged == 0
    with cache.owned_by("grid search"):
        cache.fit(b"key", lambda: _busy(1.0))  # reused, not refitted
        charged = cache.charged
        assert 0.05 <= charged < 0.5  # the baseline's seconds, as if the search fitted it
        cache.fit(b"key", lambda: _busy(1.0))  # its next trial: alone, it would reuse its own
        assert cache.charged == charged
        cache.transform(b"key", b"test", lambda: _busy(0.05))
        assert cache.charged == charged  # computed by the search itself
    with cache.owned_by("baseline"):
        cache.transform(b"key", b"test", lambda: _busy(1.0))
        assert 0.05 <= cache.charged - charged < 0.5  # the search's transform
    assert cache.owner == ""


def test_an_arms_cost_does_not_depend_on_which_arm_fitted_the_shared_preprocessing_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tuneworth.evaluate import fit_and_score

    monkeypatch.setattr("tuneworth.evaluate._warm_up", lambda *args: None)
    plan = _breast_cancer_plan(
        {
            "cv": {"folds": 3, "repeats": 1},
            # A preprocessing that costs far more than the model it feeds.
            "baseline": {"model": "linear", "preprocess": {"impute": "knn", "scale": "quantile"}},
            "levers": [{"model": {"name": "knn"}}],
        }
    )
    split = plan.splits[0]
    X, y = plan.dataset.X.copy(), plan.dataset.y
    X.iloc[::5, 0] = np.nan  # something for the k-NN imputer to do

    def cost(arm: str) -> float:
        result = fit_and_score(arm, plan.pipelines[arm], X, y, split, plan.metric)
        assert result.error is None
        return result.fit_cpu_seconds

    other = plan.arms[1].name
    preprocess_cache().clear()
    alone = cost(other)
    preprocess_cache().clear()
    cost("baseline")
    after = cost(other)  # its preprocessing reused from the baseline's fit
    assert preprocess_cache().info.fit_hits >= 1
    assert after == pytest.approx(alone, rel=0.5)


def _one_block_per_column(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` built column by column, as a CSV reader or a dict of columns leaves it."""
    built = pd.DataFrame(index=X.index)
    for name, column in X.items():
        built[name] = column.to_numpy().copy()
    return built


def test_a_fingerprint_does_not_depend_on_how_pandas_lays_out_the_columns(
    rng: np.random.Generator,
) -> None:
    values = rng.normal(size=(40, 4))
    consolidated = pd.DataFrame(values, columns=["a", "b", "c", "d"]).assign(n=np.arange(40))
    split = _one_block_per_column(consolidated)
    # A frame on a row-major array without a copy: each column strided in memory.
    strided = pd.DataFrame(values, columns=["a", "b", "c", "d"], copy=False).assign(n=np.arange(40))
    reordered = _one_block_per_column(consolidated[["d", "a", "n", "c", "b"]])
    layouts = {frame._mgr.nblocks for frame in (consolidated.copy(), split, strided)}
    assert len(layouts) > 1 and not strided["a"].to_numpy().flags.c_contiguous
    assert fingerprint(consolidated) == fingerprint(split) == fingerprint(strided)
    assert fingerprint(consolidated.copy()) == fingerprint(consolidated)
    assert fingerprint(consolidated[["d", "a", "n", "c", "b"]]) == fingerprint(reordered)
    mixed = consolidated.assign(s=np.where(values[:, 0] > 0, "up", "down"))
    assert fingerprint(mixed) == fingerprint(_one_block_per_column(mixed))


def test_a_fingerprint_separates_frames_of_one_shape_that_differ_in_anything(
    rng: np.random.Generator,
) -> None:
    X = _one_block_per_column(
        pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"]).assign(
            s=["x", "y", "z"] * 10
        )
    )
    changed = X.copy()
    changed.iloc[29, 2] = np.nextafter(changed.iloc[29, 2], np.inf)
    other_string = X.copy()
    other_string.iloc[0, 3] = "w"
    variants = [
        X,
        changed,
        other_string,
        X[["b", "a", "c", "s"]].set_axis(["a", "b", "c", "s"], axis=1),  # columns swapped
        X.rename(columns={"c": "C"}),
        X.set_axis(range(1, 31)),
        X.iloc[::-1].reset_index(drop=True),
        X.assign(a=X["a"].astype("float32").astype("float64")),
    ]
    assert len({fingerprint(frame) for frame in variants}) == len(variants)
    # The same bytes under other dtypes: float32 then int32, or int32 then float32.
    ints = rng.integers(-(2**31), 2**31, size=(30, 2)).astype(np.int32)
    first = pd.DataFrame({"p": ints[:, 0].view(np.float32), "q": ints[:, 1]})
    second = pd.DataFrame({"p": ints[:, 0], "q": ints[:, 1].view(np.float32)})
    assert fingerprint(first) != fingerprint(second)


def _validated(X: pd.DataFrame) -> tuple[int, list[str] | None]:
    """What validate_data sets on a fresh estimator for ``X``."""
    from sklearn.base import BaseEstimator
    from sklearn.utils.validation import validate_data

    probe = BaseEstimator()
    validate_data(probe, X, skip_check_array=True)
    names = getattr(probe, "feature_names_in_", None)
    return probe.n_features_in_, None if names is None else names.tolist()


def test_features_in_are_what_validate_data_sets_on_every_fit_and_hit() -> None:
    values = np.arange(12.0).reshape(4, 3)
    frames = [
        pd.DataFrame(values, columns=["a", "b", "c"]),
        pd.DataFrame(values + 1, columns=["a", "b", "c"]),  # names seen: kept from the first
        pd.DataFrame(values, columns=["a", "b", "z"]),
        pd.DataFrame(values, columns=pd.Index([np.str_("a"), np.str_("b"), np.str_("c")])),
        pd.DataFrame(values, columns=[0, 1, 2]),  # no names: the fitted ones go
        pd.DataFrame(values[:, :2], columns=["a", "b"]),
        pd.DataFrame(values, columns=["a", "b", "c"]),  # a cache hit
    ]

    def preprocessor() -> Preprocessor:  # one that takes any columns: it uses none
        return Preprocessor(Schema(numeric=(), categorical=()), impute="none")

    pre = preprocessor()
    fitted_names = []
    for X in frames:
        preprocessor().fit(X)  # another estimator saw these names before
        pre.fit(X)
        names = getattr(pre, "feature_names_in_", None)
        assert (pre.n_features_in_, None if names is None else names.tolist()) == _validated(X)
        if names is not None:
            assert names.dtype == object and all(type(name) is str for name in names)
            fitted_names.append(names)
    assert preprocess_cache().info.fit_hits >= 1
    # Each fit has its own array: changing one changes no other fit's.
    fitted_names[0][0] = "changed"
    assert preprocessor().fit(frames[0]).feature_names_in_.tolist() == ["a", "b", "c"]
    assert fitted_names[-1].tolist() == ["a", "b", "c"]
    mixed = pd.DataFrame(values, columns=["a", 1, "c"])
    for _ in range(2):
        with pytest.raises(TypeError, match="string names"):
            preprocessor().fit(mixed)


@dataclass
class _MutableSchema:
    """Column roles in lists that can change after a fit."""

    numeric: list[str]
    categorical: list[str]


def test_a_changed_parameter_or_parameter_object_never_reuses_a_fit(
    frame: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = frame
    schema = _MutableSchema(numeric=["a", "b"], categorical=[])
    pre = Preprocessor(schema, scale="standard")
    assert pre.fit_transform(X, y).shape == (120, 2)
    assert Preprocessor(schema, scale="robust").fit_transform(X, y).shape == (120, 2)
    schema.numeric.append("c")  # the same object, other content
    assert pre.fit_transform(X, y).shape == (120, 3)
    assert Preprocessor(schema, scale="standard").fit_transform(X, y).shape == (120, 3)
    info = preprocess_cache().info
    assert (info.fit_misses, info.fit_hits) == (3, 1)
