"""The public steps: estimator conformance, and what each one does to a table."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from imblearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
    estimator_checks_generator,
)
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from tuneworth.data import infer_schema
from tuneworth.steps import (
    DuplicateFilter,
    IncompleteRowFilter,
    LabelNoiseFilter,
    Mixup,
    NoiseInjection,
    OutlierFilter,
    Oversampler,
    Preprocessor,
    TargetNoiseFilter,
    TextAugmentation,
)

SAMPLERS = [
    LabelNoiseFilter(random_state=0),
    OutlierFilter(),
    OutlierFilter("isolation_forest", random_state=0),
    TargetNoiseFilter(random_state=0),
    DuplicateFilter(),
    IncompleteRowFilter(),
    NoiseInjection(random_state=0),
    Mixup(random_state=0),
    Oversampler(random_state=0),
    Oversampler("random", random_state=0),
    TextAugmentation(random_state=0),
]

NO_SAMPLING_STRATEGY = (
    "has no sampling_strategy: it removes or adds rows by its own rule, not to reach "
    "per-class counts, so there is no sampling_strategy_ to fit"
)
ANY_TARGET = (
    "accepts a continuous target on purpose: it never uses the classes, so it also "
    "serves regression"
)

NUMERIC_TARGET = (
    "judges a numeric target by its residuals: any numeric target is one value per row to "
    "it, never class labels, one label or a one-vs-all indicator matrix"
)


def expected_failures(estimator: Any) -> dict[str, str]:
    """Checks a step fails by design, each with the reason."""
    failures: dict[str, str] = {}
    if not isinstance(estimator, Oversampler):
        failures["check_samplers_fit"] = NO_SAMPLING_STRATEGY
    if isinstance(estimator, IncompleteRowFilter):
        failures["check_samplers_nan"] = (
            "removes every row with a missing value, which is its whole job; the check wants "
            "missing values to come out again"
        )
    if isinstance(
        estimator,
        OutlierFilter | DuplicateFilter | IncompleteRowFilter | NoiseInjection | TextAugmentation,
    ):
        failures["check_target_type"] = ANY_TARGET
    if isinstance(estimator, TargetNoiseFilter):
        failures["check_target_type"] = NUMERIC_TARGET
        failures["check_samplers_one_label"] = NUMERIC_TARGET
        failures["check_samplers_multiclass_ova"] = NUMERIC_TARGET
    return failures


@sklearn_checks(SAMPLERS, expected_failed_checks=expected_failures)
def test_samplers_pass_scikit_learn_checks(estimator: Any, check: Any) -> None:
    check(estimator)


def check_id(value: Any) -> str:
    return getattr(getattr(value, "func", None), "__name__", None) or repr(value)


IMBLEARN_CHECKS = [
    case
    for sampler in SAMPLERS
    for case in estimator_checks_generator(
        sampler, expected_failed_checks=expected_failures(sampler), mark="xfail"
    )
]


@pytest.mark.parametrize(("estimator", "check"), IMBLEARN_CHECKS, ids=check_id)
def test_samplers_pass_imbalanced_learn_checks(estimator: Any, check: Any) -> None:
    check(estimator)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: repr(s))
def test_samplers_validate_their_parameters_and_column_names(sampler: Any) -> None:
    name = type(sampler).__name__
    check_param_validation(name, sampler)
    check_dataframe_column_names_consistency(name, sampler)


def test_importing_steps_needs_neither_mlflow_nor_optuna() -> None:
    code = (
        "import sys; from tuneworth.steps import *; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mlflow', 'optuna'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --- a raw table like a user's CSV -----------------------------------------------------


@pytest.fixture
def table() -> tuple[pd.DataFrame, pd.Series]:
    """Numeric, integer, string, boolean and categorical columns with missing values."""
    rng = np.random.default_rng(0)
    n = 120
    y = pd.Series(np.where(np.arange(n) < 90, "stay", "churn"), name="churn", dtype="str")
    shift = (y == "churn").to_numpy() * 2.0
    X = pd.DataFrame(
        {
            "income": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50 + 10 * shift, 5)),
            "visits": rng.integers(0, 10, n),
            "city": pd.Series(rng.choice(["Oslo", "Rome", None], n), dtype="str"),
            "member": rng.random(n) < 0.5,
            "plan": pd.Categorical(rng.choice(["basic", "pro"], n)),
            "age": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(18, 80, n)), "Int64"),
        }
    )
    return X, y


@pytest.mark.parametrize(
    "sampler",
    [
        LabelNoiseFilter(random_state=0),
        OutlierFilter(threshold=0.5),
        OutlierFilter("isolation_forest", random_state=0),
        DuplicateFilter(),
        IncompleteRowFilter(),
        NoiseInjection(copies=2, random_state=0),
        Mixup(random_state=0),
        Oversampler(random_state=0),
        Oversampler("random", random_state=0),
        TextAugmentation(copies=2, random_state=0),
    ],
    ids=lambda s: repr(s),
)
def test_samplers_take_a_raw_table_and_return_the_same_kind_of_table(
    sampler: Any, table: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, y = table
    X_new, y_new = sampler.fit_resample(X, y)
    assert isinstance(X_new, pd.DataFrame) and isinstance(y_new, pd.Series)
    assert X_new.dtypes.to_dict() == X.dtypes.to_dict()
    assert (y_new.name, y_new.dtype) == (y.name, y.dtype)
    assert len(X_new) == len(y_new)
    assert set(X_new["city"].dropna()) <= {"Oslo", "Rome"}
    assert set(X_new["plan"]) <= {"basic", "pro"}
    assert set(y_new) == {"stay", "churn"}


@pytest.mark.parametrize(
    "sampler",
    [NoiseInjection(random_state=0), Mixup(random_state=0), Oversampler(random_state=0)],
    ids=lambda s: type(s).__name__,
)
def test_augmenters_return_original_rows_unchanged_first(
    sampler: Any, table: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, y = table
    X_new, y_new = sampler.fit_resample(X, y)
    assert len(X_new) > len(X)
    pd.testing.assert_frame_equal(X_new.iloc[: len(X)], X)
    pd.testing.assert_series_equal(y_new.iloc[: len(y)], y)


# --- cleaning ---------------------------------------------------------------------------


def noisy_blobs(flip: int = 20, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=n, centers=[[-2, -2], [2, 2]], random_state=1)
    flipped = np.random.default_rng(1).choice(n, flip, replace=False)
    y[flipped] = 1 - y[flipped]
    return X, y, flipped


def removed(sampler: Any, n: int) -> np.ndarray:
    return np.setdiff1d(np.arange(n), sampler.sample_indices_)


def test_label_noise_filter_removes_most_flipped_labels_and_few_others() -> None:
    X, y, flipped = noisy_blobs()
    gone = removed(LabelNoiseFilter(random_state=0).fit(X, y), len(y))
    caught = np.isin(flipped, gone).mean()
    false_alarms = np.setdiff1d(gone, flipped).size
    assert caught >= 0.8
    assert false_alarms <= 5


def test_label_noise_threshold_rules_order_from_strict_to_lenient() -> None:
    X, y, _ = noisy_blobs()
    by_rule = {
        rule: set(removed(LabelNoiseFilter(threshold=rule, random_state=0).fit(X, y), len(y)))
        for rule in ("prediction", "confident_learning", 0.1)
    }
    assert by_rule[0.1] <= by_rule["prediction"]
    assert by_rule["confident_learning"] <= by_rule["prediction"]
    assert len(by_rule[0.1]) < len(by_rule["prediction"])


def test_label_noise_float_threshold_drops_exactly_the_low_quality_labels() -> None:
    X, y, _ = noisy_blobs()
    cleaner = LabelNoiseFilter(threshold=0.3, random_state=0).fit(X, y)
    assert np.array_equal(removed(cleaner, len(y)), np.flatnonzero(cleaner.label_quality_ < 0.3))


def test_label_noise_filter_uses_the_given_estimator_and_folds() -> None:
    from sklearn.tree import DecisionTreeClassifier

    X, y, _ = noisy_blobs()
    tree = LabelNoiseFilter(DecisionTreeClassifier(random_state=0), cv=3, random_state=0)
    tree.fit(X, y)
    # A fully grown tree predicts probabilities of exactly 0 or 1.
    assert set(np.unique(tree.label_quality_)) == {0.0, 1.0}


def test_label_noise_filter_keeps_classes_too_small_to_judge() -> None:
    X, y, _ = noisy_blobs()
    y = y.copy()
    y[:3] = 2  # three rows of a third class, fewer than the five folds
    cleaner = LabelNoiseFilter(random_state=0).fit(X, y)
    assert {0, 1, 2} <= set(cleaner.sample_indices_)
    assert np.isnan(cleaner.label_quality_[:3]).all()


def test_outlier_filter_removes_far_values_keeps_missing_and_ignores_flat_columns() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "x": rng.normal(0, 1, 100),
            "mostly_zero": np.where(np.arange(100) < 90, 0.0, 5.0),
            "city": ["a", "b"] * 50,
        }
    )
    X.loc[7, "x"] = 40.0
    X.loc[8, "x"] = np.nan
    y = np.arange(100) % 2
    kept = OutlierFilter().fit(X, y).sample_indices_
    assert np.setdiff1d(np.arange(100), kept).tolist() == [7]


def test_isolation_forest_outlier_filter_removes_its_contamination_share() -> None:
    X, y, _ = noisy_blobs()
    cleaner = OutlierFilter("isolation_forest", contamination=0.1, random_state=0).fit(X, y)
    assert len(removed(cleaner, len(y))) == pytest.approx(40, abs=2)


def test_cleaners_accept_a_regression_target() -> None:
    X = np.array([[1.0], [1.0], [2.0], [3.0], [2.5], [100.0]])
    y = np.array([0.5, 0.5, 1.5, 2.0, 1.8, 3.3])
    _, y_new = DuplicateFilter().fit_resample(X, y)
    assert y_new.tolist() == [0.5, 1.5, 2.0, 1.8, 3.3]
    _, y_new = OutlierFilter().fit_resample(X, y)
    assert y_new.tolist() == [0.5, 0.5, 1.5, 2.0, 1.8]


def test_a_cleaner_never_removes_every_row_of_a_class() -> None:
    X = np.array([[0.0], [0.1], [0.2], [0.1], [0.0], [0.1], [0.2], [0.1], [50.0], [55.0]])
    y = np.array([0] * 8 + [1, 1])
    assert OutlierFilter().fit(X, np.arange(10) % 2).sample_indices_.size == 8
    _, y_new = OutlierFilter(threshold=1.0, max_share=1.0).fit_resample(X, y)
    assert y_new.tolist() == y.tolist()


def test_duplicate_filter_treats_missing_values_as_equal() -> None:
    X = pd.DataFrame({"x": [np.nan, np.nan, 1.0, 2.0], "c": ["a", "a", None, "b"]})
    assert DuplicateFilter().fit(X, [1, 1, 0, 1]).sample_indices_.tolist() == [0, 2, 3]
    assert DuplicateFilter().fit(X, [1, 0, 0, 1]).sample_indices_.tolist() == [2, 3]
    keep_all = DuplicateFilter(conflicts="keep").fit(X, [1, 0, 0, 1])
    assert keep_all.sample_indices_.tolist() == [0, 1, 2, 3]


# --- augmentation -----------------------------------------------------------------------


def test_noise_injection_scales_noise_to_each_column() -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(0, 1, 2000), rng.normal(0, 1000, 2000)])
    y = np.arange(2000) % 2
    X_new, y_new = NoiseInjection(copies=1, scale=0.1, random_state=0).fit_resample(X, y)
    noise = X_new[2000:] - X
    assert noise.std(axis=0) / X.std(axis=0) == pytest.approx([0.1, 0.1], rel=0.1)
    assert np.array_equal(y_new[2000:], y)


def test_noise_injection_keeps_categories_missing_values_and_integers(
    table: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = table
    X_new, _ = NoiseInjection(copies=1, scale=0.5, random_state=0).fit_resample(X, y)
    copy = X_new.iloc[len(X) :].reset_index(drop=True)
    for column in ("city", "member", "plan"):
        pd.testing.assert_series_equal(copy[column], X[column])
    assert copy["income"].isna().equals(X["income"].isna())
    assert not np.allclose(copy["income"].dropna(), X["income"].dropna())
    assert copy["visits"].dtype == np.int64 and copy["age"].isna().equals(X["age"].isna())


def test_noise_injection_accepts_a_regression_target() -> None:
    X, y = np.arange(10.0).reshape(5, 2), np.linspace(0.1, 0.9, 5)
    _, y_new = NoiseInjection(copies=3, random_state=0).fit_resample(X, y)
    assert y_new.tolist() == np.tile(y, 4).tolist()


def test_mixup_stays_between_two_rows_of_one_class() -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 10.0, 11.0, 12.0], "c": ["x", "x", "y", "z", "y"]})
    y = np.array([0, 0, 1, 1, 1])
    X_new, y_new = Mixup(ratio=2.0, alpha=1.0, random_state=0).fit_resample(X, y)
    new, labels = X_new.iloc[5:], y_new[5:]
    assert np.bincount(labels).tolist() == [4, 6]
    assert new["a"][labels == 0].between(0, 1).all()
    assert new["a"][labels == 1].between(10, 12).all()
    assert set(new["c"][labels == 0]) == {"x"} and set(new["c"][labels == 1]) <= {"y", "z"}


def test_smote_balances_numeric_data_inside_the_minority_class() -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (80, 2)), rng.normal(5, 0.5, (20, 2))])
    y = np.array([0] * 80 + [1] * 20)
    X_new, y_new = Oversampler(random_state=0).fit_resample(X, y)
    assert np.bincount(y_new).tolist() == [80, 80]
    synthetic = X_new[100:]
    assert (synthetic.min(axis=0) >= X[80:].min(axis=0)).all()
    assert (synthetic.max(axis=0) <= X[80:].max(axis=0)).all()


def test_smote_nc_and_smote_n_draw_categories_from_the_minority_class() -> None:
    X = pd.DataFrame(
        {
            "amount": [1.0, 2.0, np.nan, 3.0, 2.0, 1.5, 50.0, 52.0, 51.0],
            "channel": ["web"] * 6 + ["shop", "shop", None],
        }
    )
    y = np.array([0] * 6 + [1] * 3)
    X_new, _ = Oversampler(k_neighbors=2, random_state=0).fit_resample(X, y)
    synthetic = X_new.iloc[9:]
    assert len(synthetic) == 3
    assert synthetic["amount"].between(50, 52).all()
    assert set(synthetic["channel"].fillna("<missing>")) <= {"shop", "<missing>"}
    X_cat, y_cat = Oversampler(random_state=0).fit_resample(X[["channel"]], y)
    assert np.bincount(y_cat).tolist() == [6, 6]
    assert "web" not in set(X_cat["channel"].iloc[9:])


def test_smote_copes_with_tiny_minority_classes() -> None:
    X = np.array([[0.0], [0.2], [0.4], [0.6], [0.8], [5.0], [9.0], [9.5]])
    y = np.array([0, 0, 0, 0, 0, 1, 2, 2])
    X_new, y_new = Oversampler(k_neighbors=5, random_state=0).fit_resample(X, y)
    assert np.bincount(y_new).tolist() == [5, 5, 5]
    assert (X_new[y_new == 1] == 5.0).all()  # a single row can only be repeated
    assert ((X_new[y_new == 2] >= 9.0) & (X_new[y_new == 2] <= 9.5)).all()


# --- preprocessing ----------------------------------------------------------------------


@pytest.mark.parametrize("impute", ["mean", "median", "most_frequent", "knn", "iterative"])
@pytest.mark.parametrize("scale", ["none", "standard", "robust", "quantile", "power"])
def test_every_imputer_and_scaler_gives_complete_numbers(
    impute: str, scale: str, table: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, y = table
    pre = Preprocessor(infer_schema(X), impute=impute, scale=scale, add_indicator=True)  # type: ignore[arg-type]
    out = pre.fit_transform(X, y)
    # income, visits, age, 2 indicators; city (3 levels), member (2), plan (2) one-hot
    assert out.shape == (len(X), 5 + 3 + 2 + 2)
    assert np.isfinite(out).all()
    indicators = out[:, 3:5]
    assert set(np.unique(indicators)) == {0.0, 1.0}


def test_scaling_runs_before_imputation_so_missing_values_do_not_shift_the_scale() -> None:
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, np.nan]})
    out = Preprocessor(infer_schema(X), scale="standard", impute="mean").fit_transform(X)
    assert out[:, 0].tolist() == pytest.approx([-1.2247, 0.0, 1.2247, 0.0], abs=1e-4)


def test_no_imputation_leaves_missing_values_and_refuses_indicators() -> None:
    X = pd.DataFrame({"x": [1.0, np.nan, 3.0]})
    out = Preprocessor(infer_schema(X), impute="none").fit_transform(X)
    assert np.isnan(out[1, 0])
    with pytest.raises(ValueError, match="add_indicator=True needs an imputer"):
        Preprocessor(infer_schema(X), impute="none", add_indicator=True).fit(X)


def test_rare_categories_are_grouped_and_unseen_ones_tolerated() -> None:
    X = pd.DataFrame({"c": ["a"] * 10 + ["b"] * 10 + ["r1", "r2"]})
    pre = Preprocessor(infer_schema(X), min_frequency=3).fit(X)
    assert pre.transform(X).shape == (22, 3)  # a, b, infrequent
    unseen = pre.transform(pd.DataFrame({"c": ["zzz", "r1"]}))
    assert unseen.tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    ordinal = Preprocessor(infer_schema(X), encode="ordinal").fit(X)
    assert ordinal.transform(pd.DataFrame({"c": ["zzz"]})).tolist() == [[-1.0]]


@pytest.mark.parametrize(
    ("y", "width"),
    [
        (np.array([0, 1] * 20), 1),
        (np.array([0, 1, 2, 3] * 10), 4),
        (np.linspace(0, 1, 40), 1),
    ],
    ids=["binary", "multiclass", "regression"],
)
def test_target_encoding_serves_every_task(y: np.ndarray, width: int) -> None:
    X = pd.DataFrame({"c": ["a", "b", "c", "d"] * 10})
    out = Preprocessor(infer_schema(X), encode="target", random_state=0).fit_transform(X, y)
    assert out.shape == (40, width)


def test_mutual_information_selection_keeps_the_informative_features() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 6)), columns=[f"f{i}" for i in range(6)])
    y = (X["f2"] + X["f4"] > 0).astype(int)
    pre = Preprocessor(infer_schema(X), select="mutual_info", k=2, random_state=0).fit(X, y)
    assert pre.get_feature_names_out().tolist() == ["f2", "f4"]
    target = X["f2"] * 3 + rng.normal(0, 0.1, 200)
    pre = Preprocessor(infer_schema(X), select="mutual_info", k=1, random_state=0)
    assert pre.fit(X, target).get_feature_names_out().tolist() == ["f2"]


def test_variance_selection_drops_near_constant_features() -> None:
    X = pd.DataFrame({"wide": [0.0, 10.0, 20.0, 30.0], "narrow": [1.0, 1.0, 1.0, 1.01]})
    pre = Preprocessor(infer_schema(X), select="variance", variance_threshold=0.01).fit(X)
    assert pre.get_feature_names_out().tolist() == ["wide"]


def test_unknown_choices_are_refused_with_the_valid_ones() -> None:
    X = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="scale='minmax' is not one of none, standard"):
        Preprocessor(infer_schema(X), scale="minmax").fit(X)  # type: ignore[arg-type]


PREPROCESSORS = [
    Preprocessor(),
    Preprocessor(impute="knn", add_indicator=True, scale="standard"),
    Preprocessor(scale="quantile", select="variance", random_state=0),
]


@sklearn_checks(PREPROCESSORS)
def test_the_preprocessor_passes_scikit_learn_checks(estimator: Any, check: Any) -> None:
    check(estimator)


def test_the_preprocessors_choices_are_parameters_a_search_can_set(
    table: tuple[pd.DataFrame, pd.Series],
) -> None:
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    X, y = table
    pre = Preprocessor(infer_schema(X), scale="robust", k=3, random_state=7)
    assert clone(pre).get_params() == pre.get_params()
    assert pre.set_params(scale="power").get_params()["scale"] == "power"
    pipeline = Pipeline([("preprocess", pre), ("model", LogisticRegression(max_iter=1000))])
    search = GridSearchCV(pipeline, {"preprocess__scale": ["none", "robust"]}, cv=2).fit(X, y)
    assert search.cv_results_["param_preprocess__scale"].tolist() == ["none", "robust"]
    fitted = search.best_estimator_.named_steps["preprocess"].transformer_
    first = type(fitted.named_transformers_["numeric"][0]).__name__
    scale = search.best_params_["preprocess__scale"]
    assert first == {"none": "MedianImputer", "robust": "RobustScaler"}[scale]


def test_the_preprocessor_fits_once_in_a_cached_pipeline(
    table: tuple[pd.DataFrame, pd.Series], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X, y = table
    fits: list[int] = []
    fit_transform = Preprocessor.fit_transform

    def counted(self: Preprocessor, X: Any, y: Any = None, **params: Any) -> Any:
        fits.append(1)
        return fit_transform(self, X, y, **params)

    monkeypatch.setattr(Preprocessor, "fit_transform", counted)

    def pipeline(C: float) -> Pipeline:
        steps = [("preprocess", Preprocessor(infer_schema(X))), ("model", LogisticRegression(C=C))]
        return Pipeline(steps, memory=str(tmp_path))

    first = pipeline(1.0).fit(X, y)
    second = pipeline(0.1).fit(X, y)
    assert len(fits) == 1  # the second fit read the first's preprocessing from the cache
    np.testing.assert_array_equal(first[0].transform(X), second[0].transform(X))


def test_the_preprocessor_cross_fits_target_encoding_in_fit_transform() -> None:
    X = pd.DataFrame({"c": ["a", "b", "c", "d"] * 10})
    y = np.array([0, 1, 1, 0, 1] * 8)
    pre = Preprocessor(infer_schema(X), encode="target", random_state=0)
    # Out of fold in fit_transform, as TargetEncoder does; with all rows in transform.
    assert not np.allclose(pre.fit_transform(X, y), pre.fit(X, y).transform(X))
    plain = Preprocessor(infer_schema(X))
    np.testing.assert_array_equal(plain.fit_transform(X), plain.fit(X).transform(X))


def test_the_preprocessor_infers_the_columns_roles_without_a_schema(
    table: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = table
    inferred = Preprocessor(scale="standard").fit_transform(X, y)
    given = Preprocessor(infer_schema(X), scale="standard").fit_transform(X, y)
    np.testing.assert_array_equal(inferred, given)
    assert Preprocessor().fit(X).n_features_in_ == X.shape[1]


def test_text_augmentation_perturbs_only_the_text_of_the_copies() -> None:
    rng = np.random.default_rng(0)
    words = np.array(["box", "late", "great", "price", "torn", "fast", "refund", "love"])
    texts = [" ".join(rng.choice(words, 8)) for _ in range(50)]
    X = pd.DataFrame({"review": pd.Series(texts, dtype="str"), "stars": rng.integers(1, 6, 50)})
    X.loc[3, "review"] = None
    y = rng.integers(0, 2, 50)
    sampler = TextAugmentation(copies=2, swap=0.2, delete=0.25, random_state=0)
    X_more, y_more = sampler.fit_resample(X, y)
    copies = X_more.iloc[50:].reset_index(drop=True)
    assert len(X_more) == 150 and X_more.iloc[:50].equals(X)
    assert (copies["stars"] == np.tile(X["stars"], 2)).all() and (
        y_more[50:] == np.tile(y, 2)
    ).all()
    assert copies["review"].isna().sum() == 2  # missing stays missing
    original = np.tile(X["review"].to_numpy(), 2)
    lengths = copies["review"].str.split().str.len().dropna()
    assert 4 <= lengths.mean() <= 7  # about a quarter of the 8 words deleted, never all
    assert (lengths >= 1).all()
    kept = copies["review"].notna().to_numpy()
    for new, old in zip(copies["review"][kept], original[kept], strict=True):
        assert set(new.split()) <= set(old.split())  # only words of the same text
    again = TextAugmentation(copies=2, swap=0.2, delete=0.25, random_state=0).fit_resample(X, y)
    assert again[0].equals(X_more)  # seeded


# --- the outlier filter's cap and the target-noise filter --------------------------------


def skewed_table(n: int = 1000, columns: int = 30) -> tuple[pd.DataFrame, np.ndarray]:
    """Many heavy-tailed columns, as amounts and word frequencies are: no errors at all."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.lognormal(0, 1, (n, columns))).add_prefix("x")
    return X, np.where(np.arange(n) < 50, "rare", "common")


def test_the_outlier_cap_bounds_what_skewed_columns_cost_where_any_far_value_took_most() -> None:
    X, y = skewed_table()
    uncapped = OutlierFilter(max_share=1.0).fit(X, y)
    capped = OutlierFilter().fit(X, y)
    assert len(uncapped.sample_indices_) == 353  # 65% removed: any one far value drops a row
    assert len(capped.sample_indices_) == 949  # 5% of each class (rounded up), most outlying first
    assert (y[capped.sample_indices_] == "rare").sum() == 47  # 3 of the 50 rare rows went


def test_the_outlier_cap_still_takes_every_gross_error_among_heavy_tails() -> None:
    X, y = skewed_table()
    X.iloc[:20, 3] = 1e4
    cleaner = OutlierFilter(per_class=False).fit(X, y)
    removed = np.setdiff1d(np.arange(len(y)), cleaner.sample_indices_)
    assert len(removed) == 50
    assert set(range(20)) <= set(removed.tolist())
    assert cleaner.outlier_score_[:20].min() > cleaner.outlier_score_[20:].max()


def corrupted_regression() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A linear target with 10% of its values shifted by 4 to 10 noise sds either way."""
    rng = np.random.default_rng(1)
    n = 400
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    y = X.to_numpy() @ [3.0, -2.0, 1.0, 0.5] + rng.normal(0, 1.0, n)
    corrupted = rng.choice(n, 40, replace=False)
    y[corrupted] += rng.choice([-1.0, 1.0], 40) * rng.uniform(4, 10, 40)
    return X, y, np.sort(corrupted)


def test_target_noise_filter_removes_mostly_the_corrupted_targets() -> None:
    X, y, corrupted = corrupted_regression()
    cleaner = TargetNoiseFilter(random_state=0).fit(X, y)
    removed = np.setdiff1d(np.arange(len(y)), cleaner.sample_indices_)
    caught = np.intersect1d(removed, corrupted)
    assert (len(removed), len(caught)) == (38, 38)  # no clean row, 38 of the 40 corrupted
    assert cleaner.residual_scale_ == pytest.approx(1.16, abs=0.01)  # noise sd 1, out of fold


def test_target_noise_filter_takes_integral_targets_as_numbers_not_classes() -> None:
    X, y, corrupted = corrupted_regression()
    cleaner = TargetNoiseFilter(random_state=0).fit(X, np.round(y))
    assert cleaner.class_rows_in_ == {}
    assert len(np.intersect1d(corrupted, cleaner.sample_indices_)) < 10


def test_an_outlier_filter_for_regression_does_not_take_whole_prices_for_classes() -> None:
    X, _ = skewed_table(n=200, columns=2)
    X.iloc[:5, 0] = 1e4
    prices = np.arange(200) * 1000.0  # whole numbers, each price once: 200 "classes"
    kept = OutlierFilter(per_class=False).fit(X, prices).sample_indices_
    # 15 rows lie beyond a fence; the cap takes 10, the five gross errors first
    assert np.setdiff1d(np.arange(200), kept).tolist() == [0, 1, 2, 3, 4, 105, 109, 123, 129, 135]
    assert len(OutlierFilter().fit(X, prices).sample_indices_) == 200  # each "class" kept


def test_incomplete_and_duplicate_filters_for_regression_do_not_take_whole_prices_for_classes() -> (
    None
):
    X = pd.DataFrame(
        {"area": [50.0, np.nan, 70.0, np.nan, 90.0, 90.0], "rooms": [1, 2, 3, 4, 5, 5]}
    )
    prices = np.array([100_000.0, 150_000.0, 200_000.0, 250_000.0, 300_000.0, 300_000.0])
    # Each price is unique bar the duplicate's: as classes, every incomplete row is protected.
    assert IncompleteRowFilter().fit(X, prices).sample_indices_.tolist() == [0, 1, 2, 3, 4, 5]
    kept = IncompleteRowFilter(per_class=False).fit(X, prices).sample_indices_
    assert kept.tolist() == [0, 2, 4, 5]
    kept = DuplicateFilter(per_class=False).fit(X, prices).sample_indices_
    assert kept.tolist() == [0, 1, 2, 3, 4]


def test_a_filter_that_would_remove_every_row_says_so_and_names_the_emptiest_columns() -> None:
    X = pd.DataFrame({"pool": [np.nan] * 4, "alley": [np.nan, 1.0, np.nan, 2.0], "area": [1.0] * 4})
    with pytest.raises(ValueError, match=r"removed every one of the 4 training rows \(each has"):
        IncompleteRowFilter(per_class=False).fit_resample(X, np.arange(4) * 1000.0)
    with pytest.raises(ValueError, match=r"the emptiest columns: 'pool' 100%, 'alley' 50%\)"):
        IncompleteRowFilter(per_class=False).fit_resample(X, np.arange(4) * 1000.0)
