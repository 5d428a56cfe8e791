from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import ParameterSampler
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from tuneworth.data import Task
from tuneworth.design import Arm, build_pipeline
from tuneworth.errors import TuneworthError
from tuneworth.experiment import plan_experiment
from tuneworth.levers import BuildContext
from tuneworth.models import MODELS, get_model
from tuneworth.space import Choice, FloatRange, IntRange, distributions, narrow
from tuneworth.spec import parse_spec

TASKS: tuple[Task, ...] = ("binary", "multiclass", "regression")

pytestmark = pytest.mark.usefixtures("one_thread")


def data(task: Task) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4))
    signal = X[:, 0] + X[:, 1] ** 2
    if task == "regression":
        return X, 1000 * signal  # a target far from unit scale
    classes = 2 if task == "binary" else 3
    return X, np.digitize(signal, np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1]))


def corners(space: Any) -> list[dict[str, Any]]:
    """Every parameter at its low end, then at its high end."""
    ends = [
        {
            name: (dim.options[index] if isinstance(dim, Choice) else (dim.low, dim.high)[index])
            for name, dim in space.items()
        }
        for index in (0, -1)
    ]
    return [end for end in ends if end]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_fits_anywhere_in_its_declared_space(name: str, task: Task) -> None:
    model = MODELS[name]
    X, y = data(task)
    estimator = model.make(task, seed=0)
    space = model.search_space(task) if model.space_for(task) else {}
    draw = list(ParameterSampler(distributions(space), n_iter=1, random_state=0))
    for params in [{}, *corners(space), *draw]:
        fitted = clone(estimator).set_params(**params).fit(X, y)
        if task == "regression":
            assert np.isfinite(fitted.predict(X[:5])).all()
        else:  # soft voting, stacking and probability metrics need probabilities
            proba = fitted.predict_proba(X[:5])
            assert proba.shape == (5, len(np.unique(y)))
            assert np.allclose(proba.sum(axis=1), 1)


def test_svm_declares_c_and_gamma_and_finds_them_in_its_calibrated_wrapper() -> None:
    svm = get_model("svm")
    classifier = svm.make("binary", 0, {"C": 5.0})
    assert classifier.estimator.C == 5.0
    assert set(svm.search_space("binary")) == {"estimator__C", "estimator__gamma"}
    assert set(svm.search_space("regression")) == {
        "regressor__C",
        "regressor__gamma",
        "regressor__epsilon",
    }


def test_ensembles_take_members_and_refuse_unknown_ones() -> None:
    stacking = get_model("stacking").make("binary", 0, {"members": ["knn", "svm"]})
    assert [name for name, _ in stacking.estimators] == ["knn", "svm"]
    default = get_model("soft_voting").make("regression", 0)
    assert [name for name, _ in default.estimators] == [
        "linear",
        "random_forest",
        "hist_gradient_boosting",
    ]
    with pytest.raises(TuneworthError, match="member 'random_forrest' is not a single zoo model"):
        get_model("stacking").make("binary", 0, {"members": ["linear", "random_forrest"]})
    with pytest.raises(TuneworthError, match="member 'stacking' is not a single zoo model"):
        get_model("soft_voting").make("binary", 0, {"members": ["linear", "stacking"]})


def test_unknown_model_parameter_suggests_the_closest() -> None:
    with pytest.raises(
        TuneworthError, match=r"has no parameter 'n_neighbours' \(did you mean 'n_neighbors'\?\)"
    ):
        get_model("knn").make("binary", 0, {"n_neighbours": 3})


def test_narrow_keeps_declared_kind_and_unset_keys() -> None:
    space = {"k": IntRange(1, 50, log=True), "C": FloatRange(1e-3, 1e3, log=True)}
    narrowed = narrow(space, {"k": {"high": 9}, "C": [0.1, 1.0]})
    assert narrowed == {"k": IntRange(1, 9, log=True), "C": Choice((0.1, 1.0))}


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"gama": [0.1]}, "baseline.space: model 'svm': no tunable parameter 'gama' (did you mean"),
        (
            {"C": {"low": 10, "high": 1}},
            "baseline.space: model 'svm': C: low (10.0) must be below high (1.0)",
        ),
        ({"C": {"low": 0, "log": True}}, "C: a log range needs low > 0, not 0"),
        ({"C": {"lo": 1}}, "C: unknown range key 'lo' (did you mean 'low'?)"),
        ({"C": 3}, "C: give a list of choices, e.g. [3], or a range"),
    ],
)
def test_space_overrides_are_validated_when_the_spec_loads(
    space: dict[str, Any], message: str
) -> None:
    document = {"name": "t", "dataset": {"source": "sklearn:iris"}}
    with pytest.raises(TuneworthError) as caught:
        parse_spec({**document, "baseline": {"model": "svm", "space": space}})
    assert message in str(caught.value)


def test_a_model_lever_narrows_the_space_its_tuning_levers_search() -> None:
    svm = {"name": "svm", "space": {"C": {"low": 0.1, "high": 100}, "gamma": [0.01]}}
    document = {"name": "t", "dataset": {"source": "sklearn:iris"}}
    with pytest.raises(TuneworthError, match=r"levers\.0\.model\.space: model 'svm': no tunable"):
        parse_spec({**document, "levers": [{"model": {"name": "svm", "space": {"c": [1]}}}]})
    spec = parse_spec({**document, "levers": [{"model": svm}, {"grid_search": {"trials": 4}}]})
    plan = plan_experiment(spec)
    ctx = BuildContext(plan.dataset.schema, plan.dataset.task, plan.metric, 0, 3, 20)
    search = build_pipeline(Arm("tuned svm", spec.levers), spec.baseline, ctx)
    assert search.param_grid["model__estimator__gamma"] == [0.01]
    assert search.param_grid["model__estimator__C"] == pytest.approx([0.1, 1.0, 10.0, 100.0])


def test_tuning_a_model_without_a_space_is_a_spec_error() -> None:
    spec = {
        "name": "t",
        "dataset": {"source": "sklearn:iris"},
        "baseline": {"model": "soft_voting"},
        "levers": ["optuna"],
    }
    with pytest.raises(TuneworthError, match="'soft_voting' declares no search space to tune"):
        plan_experiment(parse_spec(spec))


# --- LightGBM, XGBoost, CatBoost --------------------------------------------------------

BOOSTERS = ("lightgbm", "xgboost", "catboost")


def category_table(n: int = 300) -> tuple[Any, Any]:
    """The label is set by a 12-level category alone, a pattern no single split of its
    one-hot columns captures."""
    import pandas as pd

    rng = np.random.default_rng(0)
    levels = np.array([f"shop {i}" for i in range(12)])
    shop = rng.choice(levels, n)
    good = {level: i % 3 == 0 for i, level in enumerate(levels)}
    y = pd.Series(np.where([good[s] for s in shop], "yes", "no"), dtype="str")
    X = pd.DataFrame(
        {
            "shop": pd.Series(shop, dtype="str"),
            "noise": rng.normal(size=n),
            "member": rng.random(n) < 0.5,  # XGBoost takes string levels only
        }
    )
    return X, y


def context(X: Any, task: Task = "binary") -> BuildContext:
    from tuneworth.data import infer_schema
    from tuneworth.metrics import METRICS

    return BuildContext(infer_schema(X), task, METRICS["roc_auc"], 0, 2, 2)


@pytest.mark.parametrize("name", BOOSTERS)
def test_boosters_take_categories_natively_on_one_thread(name: str) -> None:
    from tuneworth.levers import ModelLever
    from tuneworth.spec import BaselineSpec

    X, y = category_table()
    arm = Arm("boosted", (ModelLever(name=name),))
    pipeline = build_pipeline(arm, BaselineSpec(), context(X)).fit(X, y)
    features = pipeline[:-1].transform(X)
    assert str(features["shop"].dtype) == "category"  # not one-hot columns
    model = pipeline[-1]
    positions = [list(features.columns).index(c) for c in ("shop", "member")]
    assert model.categories_ == positions
    threads = {"lightgbm": "n_jobs", "xgboost": "n_jobs", "catboost": "thread_count"}[name]
    assert model.estimator_.get_params()[threads] == 1
    assert (pipeline.predict(X) == y).mean() == 1.0
    assert arm.config(BaselineSpec())["preprocess.encode"] == "native"


def test_native_categories_for_a_model_that_cannot_take_them_is_a_spec_error() -> None:
    from tuneworth.levers import Preprocessing
    from tuneworth.spec import BaselineSpec

    X, _ = category_table()
    baseline = BaselineSpec(preprocess=Preprocessing(encode="native"))
    with pytest.raises(TuneworthError, match="model 'linear' cannot take them"):
        build_pipeline(Arm("baseline"), baseline, context(X))


@pytest.mark.parametrize("name", BOOSTERS)
def test_early_stopping_is_one_fit_that_stops_past_its_best_round(name: str) -> None:
    from tuneworth.evaluate import fit_and_score, make_splits
    from tuneworth.metrics import METRICS

    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)  # noisy: the loss turns up early
    model = get_model(name).make("binary", 0, {"early_stopping": True, "patience": 10})
    split = make_splits(pd_series(y), "binary", 3, 1, 0)[0]
    result = fit_and_score("es", model, pd_frame(X), pd_series(y), split, METRICS["roc_auc"])
    assert result.error is None and result.n_fits == 1
    fitted = model.fit(X[split.train], y[split.train])
    assert fitted.n_iter_ + 10 == fitted.n_rounds_ < 1000  # ran 10 rounds past the best


def pd_frame(X: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])


def pd_series(y: np.ndarray) -> Any:
    import pandas as pd

    return pd.Series(y)


def test_feature_selection_on_a_booster_selects_among_one_hot_columns() -> None:
    from tuneworth.levers import FeatureSelection, ModelLever
    from tuneworth.spec import BaselineSpec

    X, y = category_table()
    arm = Arm("selected", (FeatureSelection(k=3), ModelLever(name="lightgbm")))
    assert arm.config(BaselineSpec())["preprocess.encode"] == "onehot"
    pipeline = build_pipeline(arm, BaselineSpec(), context(X)).fit(X, y)
    assert pipeline[:-1].transform(X).shape == (len(X), 3)


def boosted_models() -> list[Any]:
    from lightgbm import LGBMClassifier, LGBMRegressor

    from tuneworth.boosting import BoostedClassifier, BoostedRegressor

    # Few small trees: the checks fit on a handful of rows, hundreds of times.
    settings = {"n_estimators": 10, "min_child_samples": 1, "verbose": -1, "n_jobs": 1}
    return [
        BoostedClassifier(LGBMClassifier(**settings)),
        BoostedRegressor(LGBMRegressor(**settings)),
        BoostedClassifier(LGBMClassifier(**settings), early_stopping=True, random_state=0),
    ]


@sklearn_checks(boosted_models())
def test_boosted_models_pass_scikit_learn_checks(estimator: Any, check: Any) -> None:
    check(estimator)
