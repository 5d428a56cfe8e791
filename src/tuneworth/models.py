"""The model zoo: each model is built once per task and declares its search space once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tuneworth.data import Task
from tuneworth.errors import TuneworthError, closest
from tuneworth.space import Choice, Dimension, FloatRange, IntRange

Builder = Callable[[Task, int], Any]


@dataclass(frozen=True)
class ModelDef:
    """A named model: how to build it for a task, and where tuning may move it.

    ``space`` is where tuning may move the model; ``regression_space``, when given, replaces
    it for regression, whose estimator has other parameters.
    """

    name: str
    label: str
    build: Builder
    space: Mapping[str, Dimension]
    regression_space: Mapping[str, Dimension] | None = None
    notes: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def space_for(self, task: Task) -> Mapping[str, Dimension]:
        if task == "regression" and self.regression_space is not None:
            return self.regression_space
        return self.space

    def make(self, task: Task, seed: int, params: Mapping[str, Any] | None = None) -> Any:
        """An unfitted estimator for ``task`` with ``params`` set on top of the defaults."""
        estimator = self.build(task, seed)
        settings = {**self.defaults, **(params or {})}
        if settings:
            valid = estimator.get_params()
            unknown = [key for key in settings if key not in valid]
            if unknown:
                raise TuneworthError(
                    f"model '{self.name}' has no parameter '{unknown[0]}'"
                    f"{closest(unknown[0], valid)}"
                )
            estimator.set_params(**settings)
        return estimator


def _linear(task: Task, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge

    if task == "regression":
        return Ridge()
    return LogisticRegression(max_iter=1000)


def _knn(task: Task, seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    return KNeighborsRegressor() if task == "regression" else KNeighborsClassifier()


def _random_forest(task: Task, seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestRegressor if task == "regression" else RandomForestClassifier
    return cls(random_state=seed, n_jobs=1)


def _hist_gradient_boosting(task: Task, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == "regression":
        return HistGradientBoostingRegressor(random_state=seed)
    return HistGradientBoostingClassifier(random_state=seed)


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
            name="random_forest",
            label="random forest",
            build=_random_forest,
            space={
                "min_samples_leaf": IntRange(1, 20, log=True),
                "max_features": FloatRange(0.1, 1.0),
            },
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
