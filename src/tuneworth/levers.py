"""Levers: named changes to the baseline, each in one of four families.

A lever in a spec is a name, optionally with parameters::

    levers:
      - random_oversampling
      - scaling: {method: standard}
      - model: {name: random_forest}
      - optuna: {trials: 40}

Each name maps to a small pydantic model that validates its parameters when the spec loads
and knows how it changes an arm: a ``data`` lever adds a sampler, a ``preprocess`` lever
changes the preprocessing settings, a ``model`` lever swaps the estimator and a ``tuning``
lever wraps the arm in a search over the model's declared space.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tuneworth.data import Schema, Task
from tuneworth.errors import closest
from tuneworth.metrics import Metric
from tuneworth.models import MODELS

Family = Literal["data", "preprocess", "model", "tuning"]
FAMILIES: tuple[Family, ...] = ("data", "preprocess", "model", "tuning")


class Strict(BaseModel):
    """A spec section: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Preprocessing(Strict):
    """The preprocessing settings of an arm (see :func:`tuneworth.steps.make_preprocessor`)."""

    impute: Literal["none", "mean", "median", "most_frequent"] = "median"
    add_indicator: bool = False
    scale: Literal["none", "standard", "robust"] = "none"
    encode: Literal["onehot", "ordinal"] = "onehot"


@dataclass(frozen=True)
class BuildContext:
    """What a lever may need to know to build its part of an arm."""

    schema: Schema
    task: Task
    metric: Metric
    seed: int
    inner_folds: int
    trials: int


def check_model(name: str) -> str:
    """Validate a model name from a spec (a ValueError, so pydantic gives it a key path)."""
    if name not in MODELS:
        raise ValueError(
            f"unknown model '{name}'{closest(name, MODELS)}; choose one of {', '.join(MODELS)}"
        )
    return name


class Lever(Strict):
    """Base class of every lever; subclasses set ``name`` and ``family``."""

    name: ClassVar[str]
    family: ClassVar[Family]

    def describe(self) -> str:
        """A short human name for tables and run names."""
        return self.name.replace("_", " ")


# --- data: samplers that change training rows only -------------------------------------


class DataLever(Lever):
    family: ClassVar[Family] = "data"

    def sampler(self, ctx: BuildContext) -> Any:
        raise NotImplementedError


class RandomOversampling(DataLever):
    """Duplicate minority-class rows until the classes balance (imbalanced-learn)."""

    name: ClassVar[str] = "random_oversampling"

    def sampler(self, ctx: BuildContext) -> Any:
        from imblearn.over_sampling import RandomOverSampler

        return RandomOverSampler(random_state=ctx.seed)


# --- preprocess: changes to the preprocessing settings ---------------------------------


class PreprocessLever(Lever):
    family: ClassVar[Family] = "preprocess"

    def configure(self, settings: Preprocessing) -> Preprocessing:
        raise NotImplementedError


class Scaling(PreprocessLever):
    """Scale numeric columns."""

    name: ClassVar[str] = "scaling"
    method: Literal["standard", "robust"] = "standard"

    def describe(self) -> str:
        return f"{self.method} scaling"

    def configure(self, settings: Preprocessing) -> Preprocessing:
        return settings.model_copy(update={"scale": self.method})


class Imputation(PreprocessLever):
    """Fill missing numeric values another way, optionally with missing-value indicators."""

    name: ClassVar[str] = "imputation"
    strategy: Literal["mean", "median", "most_frequent"] = "median"
    add_indicator: bool = True

    def describe(self) -> str:
        extra = " + indicators" if self.add_indicator else ""
        return f"{self.strategy} imputation{extra}"

    def configure(self, settings: Preprocessing) -> Preprocessing:
        return settings.model_copy(
            update={"impute": self.strategy, "add_indicator": self.add_indicator}
        )


# --- model: another estimator ----------------------------------------------------------


class ModelLever(Lever):
    """Replace the baseline's model with another from the zoo (``tuneworth.models``)."""

    name: ClassVar[str] = "model"
    family: ClassVar[Family] = "model"
    model: str = Field(alias="name")
    params: dict[str, Any] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        return check_model(value)

    def describe(self) -> str:
        from tuneworth.models import get_model

        return get_model(self.model).label


# --- tuning: a search over the arm's model's declared space ----------------------------


class TuningLever(Lever):
    family: ClassVar[Family] = "tuning"
    strategy_label: ClassVar[str]
    trials: int | None = Field(default=None, gt=0)

    def describe(self) -> str:
        return (
            self.strategy_label
            if self.trials is None
            else f"{self.strategy_label}, {self.trials} trials"
        )

    def budget(self, ctx: BuildContext) -> int:
        return self.trials if self.trials is not None else ctx.trials

    def search(self, pipeline: Any, space: dict[str, Any], ctx: BuildContext) -> Any:
        from tuneworth.search import make_search

        return make_search(self.name, pipeline, space, self.budget(ctx), ctx)


class GridSearch(TuningLever):
    """scikit-learn's GridSearchCV on a grid whose resolution fits the budget."""

    name: ClassVar[str] = "grid_search"
    strategy_label: ClassVar[str] = "grid search"


class RandomSearch(TuningLever):
    """scikit-learn's RandomizedSearchCV."""

    name: ClassVar[str] = "random_search"
    strategy_label: ClassVar[str] = "random search"


class OptunaTPE(TuningLever):
    """Optuna's TPE sampler, seeded."""

    name: ClassVar[str] = "optuna"
    strategy_label: ClassVar[str] = "optuna TPE"


LEVERS: dict[str, type[Lever]] = {
    cls.name: cls
    for cls in (
        RandomOversampling,
        Scaling,
        Imputation,
        ModelLever,
        GridSearch,
        RandomSearch,
        OptunaTPE,
    )
}
