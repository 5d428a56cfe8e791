"""The model zoo: each model is built once per task and declares its search space once.

A model's space names the parameters a user would name (``C``, ``gamma``); ``inner`` says
where they live in the built estimator when it wraps another (the RBF SVM is calibrated for
probabilities, or fitted on a standardised target). Ensembles take their members as a build
option: ``{name: stacking, params: {members: [linear, knn]}}``.

LightGBM, XGBoost and CatBoost take their categorical columns as they are (pandas
``category`` dtype, see ``encoding``), run on one thread (arms and folds are the parallel
level), and take early stopping as a build option:
``{name: lightgbm, params: {early_stopping: true, patience: 50, validation_fraction: 0.1}}``
(see :mod:`tuneworth.boosting`). Their search spaces are TabArena's (Erickson et al. 2025,
``tabarena/models/<name>/hpo.py``), cut to the parameters that matter without categorical
features and with the learning rates noted at each.

Ensembles tune little on purpose: stacking declares only its final estimator's
regularisation (each member keeps its defaults), soft voting declares nothing, so a tuning
lever on it is a spec error. Tuning members inside an ensemble multiplies the cost by the
members' inner cross-validation and is better done on each member alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tuneworth.data import Task
from tuneworth.errors import TuneworthError, closest
from tuneworth.space import Choice, FloatRange, IntRange, Space, narrow

Builder = Callable[[Task, int, Mapping[str, Any]], Any]

ENSEMBLE_MEMBERS = ("linear", "random_forest", "hist_gradient_boosting")


@dataclass(frozen=True)
class ModelDef:
    """A named model: how to build it for a task, and where tuning may move it.

    ``space`` is where tuning may move the model; ``regression_space``, when given, replaces
    it for regression, whose estimator has other parameters. ``inner`` (``regression_inner``)
    is the prefix of those parameters in the built estimator. ``options`` are build options
    with their defaults, given in a spec's ``params`` but not estimator parameters.
    ``encoding`` is how its categorical columns are encoded unless the spec says otherwise:
    ``native`` hands them over as pandas ``category`` columns, for models that split on
    categories themselves.
    """

    name: str
    label: str
    build: Builder
    space: Space = field(default_factory=dict)
    regression_space: Space | None = None
    inner: str = ""
    regression_inner: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    encoding: Literal["onehot", "native"] = "onehot"

    def space_for(self, task: Task) -> Space:
        if task == "regression" and self.regression_space is not None:
            return self.regression_space
        return self.space

    def inner_for(self, task: Task) -> str:
        if task == "regression" and self.regression_inner is not None:
            return self.regression_inner
        return self.inner

    def make(self, task: Task, seed: int, params: Mapping[str, Any] | None = None) -> Any:
        """An unfitted estimator for ``task`` with ``params`` set on top of the defaults."""
        params = dict(params or {})
        options = {key: params.pop(key, default) for key, default in self.options.items()}
        estimator = self.build(task, seed, options)
        if params:
            valid = estimator.get_params()
            inner = self.inner_for(task)
            settings = {}
            for key, value in params.items():
                if inner + key in valid:
                    settings[inner + key] = value
                elif key in valid:
                    settings[key] = value
                else:
                    names = [k.removeprefix(inner) for k in valid] + list(self.options)
                    raise TuneworthError(
                        f"model '{self.name}' has no parameter '{key}'{closest(key, names)}"
                    )
            estimator.set_params(**settings)
        return estimator

    def search_space(self, task: Task, overrides: Mapping[str, Any] | None = None) -> Space:
        """The space a tuning lever searches, narrowed by ``overrides``, named as in the
        built estimator (``estimator__C`` for the calibrated SVM)."""
        declared = self.space_for(task)
        if not declared:
            raise TuneworthError(
                f"model '{self.name}' declares no search space to tune: give the tuning "
                "levers another model, or drop them"
            )
        try:
            space = narrow(declared, overrides or {})
        except ValueError as exc:
            raise TuneworthError(f"space of model '{self.name}': {exc}") from None
        inner = self.inner_for(task)
        return {inner + name: dim for name, dim in space.items()}

    def check_space(self, overrides: Mapping[str, Any]) -> None:
        """Validate a spec's space overrides before the task is known.

        They must fit the space of at least one task; the plan checks the actual task.

        Raises
        ------
        ValueError
            With the problem of the first task's space.
        """
        spaces = [self.space] + ([self.regression_space] if self.regression_space else [])
        errors = []
        for space in spaces:
            try:
                narrow(space, overrides)
                return
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(f"model '{self.name}': {errors[0]}")


def _linear(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge

    if task == "regression":
        return Ridge()
    return LogisticRegression(max_iter=1000)


def _knn(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    return KNeighborsRegressor() if task == "regression" else KNeighborsClassifier()


def _svm(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from sklearn.svm import SVC, SVR

    if task == "regression":
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        # C and epsilon are on the target's scale: standardising it keeps one space for all.
        return TransformedTargetRegressor(SVR(kernel="rbf"), transformer=StandardScaler())
    from sklearn.calibration import CalibratedClassifierCV

    # SVC's own probability=True is deprecated; probability metrics (ROC-AUC one-vs-rest,
    # log loss) and soft voting need calibrated probabilities from cross-validated scores.
    return CalibratedClassifierCV(SVC(kernel="rbf"), ensemble=False, cv=3)


def _decision_tree(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeRegressor if task == "regression" else DecisionTreeClassifier
    return cls(random_state=seed)


def _random_forest(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestRegressor if task == "regression" else RandomForestClassifier
    return cls(random_state=seed, n_jobs=1)


def _extra_trees(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    cls = ExtraTreesRegressor if task == "regression" else ExtraTreesClassifier
    return cls(random_state=seed, n_jobs=1)


def _hist_gradient_boosting(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == "regression":
        return HistGradientBoostingRegressor(random_state=seed)
    return HistGradientBoostingClassifier(random_state=seed)


BOOSTING_OPTIONS: Mapping[str, Any] = {
    "early_stopping": False,
    "validation_fraction": 0.1,
    "patience": 50,
}
# With early stopping, the round cap is high enough that the patience, not the cap, stops.
EARLY_STOPPING_ROUNDS = 1000


def _boosted(task: Task, seed: int, options: Mapping[str, Any], estimator: Any) -> Any:
    from tuneworth.boosting import BoostedClassifier, BoostedRegressor

    if options["early_stopping"] and "n_estimators" in estimator.get_params():
        estimator.set_params(n_estimators=EARLY_STOPPING_ROUNDS)
    wrapper = BoostedRegressor if task == "regression" else BoostedClassifier
    return wrapper(
        estimator,
        early_stopping=options["early_stopping"],
        validation_fraction=options["validation_fraction"],
        patience=options["patience"],
        random_state=seed,
    )


def _lightgbm(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from lightgbm import LGBMClassifier, LGBMRegressor

    cls = LGBMRegressor if task == "regression" else LGBMClassifier
    # subsample_freq=1 makes the searched subsample (bagging fraction) take effect; at its
    # default of 1.0 nothing is bagged, as in LightGBM's own defaults.
    return _boosted(
        task, seed, options, cls(n_jobs=1, verbose=-1, random_state=seed, subsample_freq=1)
    )


def _xgboost(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from xgboost import XGBClassifier, XGBRegressor

    cls = XGBRegressor if task == "regression" else XGBClassifier
    model = cls(n_jobs=1, tree_method="hist", enable_categorical=True, random_state=seed)
    return _boosted(task, seed, options, model)


def _catboost(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from catboost import CatBoostClassifier, CatBoostRegressor

    cls = CatBoostRegressor if task == "regression" else CatBoostClassifier
    # allow_writing_files=False: no catboost_info/ folder in the user's working directory.
    model = cls(thread_count=1, logging_level="Silent", random_seed=seed, allow_writing_files=False)
    return _boosted(task, seed, options, model)


def _members(name: str, task: Task, seed: int, members: Any) -> list[tuple[str, Any]]:
    """The (name, estimator) pairs of an ensemble, checked."""
    if isinstance(members, str) or not isinstance(members, Sequence) or len(members) < 2:
        raise TuneworthError(
            f"model '{name}': members must be a list of at least two zoo models, "
            f"e.g. [{', '.join(ENSEMBLE_MEMBERS)}]"
        )
    singles = [m for m in MODELS if "members" not in MODELS[m].options]
    for member in members:
        if member not in singles:
            raise TuneworthError(
                f"model '{name}': member '{member}' is not a single zoo model"
                f"{closest(str(member), singles)}; choose from {', '.join(singles)}"
            )
    if len(set(members)) != len(members):
        raise TuneworthError(f"model '{name}': members must differ, got {list(members)}")
    return [(member, MODELS[member].make(task, seed)) for member in members]


def _stacking(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from sklearn.ensemble import StackingClassifier, StackingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge

    members = _members("stacking", task, seed, options["members"])
    if task == "regression":
        return StackingRegressor(members, final_estimator=Ridge())
    return StackingClassifier(members, final_estimator=LogisticRegression(max_iter=1000))


def _soft_voting(task: Task, seed: int, options: Mapping[str, Any]) -> Any:
    from sklearn.ensemble import VotingClassifier, VotingRegressor

    members = _members("soft_voting", task, seed, options["members"])
    if task == "regression":
        return VotingRegressor(members)
    return VotingClassifier(members, voting="soft")


_FOREST_SPACE: Space = {
    "min_samples_leaf": IntRange(1, 20, log=True),
    "max_features": FloatRange(0.1, 1.0),
}

# TabArena's spaces searched the learning rate in log[0.005, 0.1] with early stopping over up
# to 10,000 rounds. Without early stopping the libraries' default round counts apply (100 for
# LightGBM and XGBoost, 1000 for CatBoost), and rates that low leave 100 rounds underfitted,
# so LightGBM and XGBoost search log[0.01, 0.3], the range of their tuning guides (and of
# histogram gradient boosting above); CatBoost keeps TabArena's. TabArena also searched
# CatBoost's subsample with the Bernoulli bootstrap fixed; CatBoost's default bootstrap for
# multiclass (Bayesian) refuses a subsample, and the defaults are kept, so it is left out.
_LIGHTGBM_SPACE: Space = {
    "learning_rate": FloatRange(0.01, 0.3, log=True),
    "num_leaves": IntRange(2, 200, log=True),
    "min_child_samples": IntRange(1, 64, log=True),  # min_data_in_leaf
    "colsample_bytree": FloatRange(0.4, 1.0),  # feature_fraction
    "subsample": FloatRange(0.7, 1.0),  # bagging_fraction
    "extra_trees": Choice((False, True)),
    "reg_alpha": FloatRange(1e-4, 1.0),  # lambda_l1
    "reg_lambda": FloatRange(1e-4, 2.0),  # lambda_l2
}
_XGBOOST_SPACE: Space = {
    "learning_rate": FloatRange(0.01, 0.3, log=True),
    "max_depth": IntRange(4, 10, log=True),
    "min_child_weight": FloatRange(1e-3, 5.0, log=True),
    "subsample": FloatRange(0.6, 1.0),
    "colsample_bylevel": FloatRange(0.6, 1.0),
    "colsample_bynode": FloatRange(0.6, 1.0),
    "reg_alpha": FloatRange(1e-4, 5.0),
    "reg_lambda": FloatRange(1e-4, 5.0),
    "grow_policy": Choice(("depthwise", "lossguide")),
    "max_leaves": IntRange(8, 1024, log=True),
}
_CATBOOST_SPACE: Space = {
    "learning_rate": FloatRange(5e-3, 0.1, log=True),
    "depth": IntRange(4, 8),
    "l2_leaf_reg": FloatRange(1e-4, 5.0, log=True),
    "colsample_bylevel": FloatRange(0.85, 1.0),
    "grow_policy": Choice(("SymmetricTree", "Depthwise")),
    "leaf_estimation_iterations": IntRange(1, 20, log=True),
    "one_hot_max_size": IntRange(8, 100, log=True),
}

MODELS: dict[str, ModelDef] = {
    model.name: model
    for model in (
        ModelDef(
            name="linear",
            label="logistic regression / ridge",
            build=_linear,
            space={"C": FloatRange(1e-3, 1e3, log=True)},
            regression_space={"alpha": FloatRange(1e-3, 1e3, log=True)},
        ),
        ModelDef(
            name="knn",
            label="k-nearest neighbours",
            build=_knn,
            space={
                "n_neighbors": IntRange(1, 50, log=True),
                "weights": Choice(("uniform", "distance")),
            },
        ),
        ModelDef(
            name="svm",
            label="RBF SVM",
            build=_svm,
            space={"C": FloatRange(1e-2, 1e3, log=True), "gamma": FloatRange(1e-4, 10, log=True)},
            regression_space={
                "C": FloatRange(1e-2, 1e3, log=True),
                "gamma": FloatRange(1e-4, 10, log=True),
                "epsilon": FloatRange(1e-3, 1.0, log=True),
            },
            inner="estimator__",
            regression_inner="regressor__",
        ),
        ModelDef(
            name="decision_tree",
            label="decision tree",
            build=_decision_tree,
            space={
                "max_depth": IntRange(2, 32, log=True),
                "min_samples_leaf": IntRange(1, 50, log=True),
                "ccp_alpha": FloatRange(1e-5, 0.1, log=True),
            },
            # Cost-complexity pruning is on the target's scale in regression: left out.
            regression_space={
                "max_depth": IntRange(2, 32, log=True),
                "min_samples_leaf": IntRange(1, 50, log=True),
            },
        ),
        ModelDef(
            name="random_forest",
            label="random forest",
            build=_random_forest,
            space=_FOREST_SPACE,
        ),
        ModelDef(
            name="extra_trees",
            label="extra trees",
            build=_extra_trees,
            space=_FOREST_SPACE,
        ),
        ModelDef(
            name="hist_gradient_boosting",
            label="histogram gradient boosting",
            build=_hist_gradient_boosting,
            space={
                "learning_rate": FloatRange(0.01, 0.3, log=True),
                "max_leaf_nodes": IntRange(8, 64, log=True),
                "min_samples_leaf": IntRange(5, 100, log=True),
                "l2_regularization": FloatRange(1e-6, 10.0, log=True),
            },
        ),
        ModelDef(
            name="lightgbm",
            label="LightGBM",
            build=_lightgbm,
            space=_LIGHTGBM_SPACE,
            inner="estimator__",
            options=BOOSTING_OPTIONS,
            encoding="native",
        ),
        ModelDef(
            name="xgboost",
            label="XGBoost",
            build=_xgboost,
            space=_XGBOOST_SPACE,
            inner="estimator__",
            options=BOOSTING_OPTIONS,
            encoding="native",
        ),
        ModelDef(
            name="catboost",
            label="CatBoost",
            build=_catboost,
            space=_CATBOOST_SPACE,
            inner="estimator__",
            options=BOOSTING_OPTIONS,
            encoding="native",
        ),
        ModelDef(
            name="stacking",
            label="stacking",
            build=_stacking,
            space={"final_estimator__C": FloatRange(1e-3, 1e2, log=True)},
            regression_space={"final_estimator__alpha": FloatRange(1e-3, 1e3, log=True)},
            options={"members": ENSEMBLE_MEMBERS},
        ),
        ModelDef(
            name="soft_voting",
            label="soft voting",
            build=_soft_voting,
            options={"members": ENSEMBLE_MEMBERS},
        ),
    )
}


def get_model(name: str) -> ModelDef:
    """The zoo entry called ``name``; an unknown name suggests the closest one."""
    try:
        return MODELS[name]
    except KeyError:
        raise TuneworthError(
            f"unknown model '{name}'{closest(name, MODELS)}; choose one of {', '.join(MODELS)}"
        ) from None
