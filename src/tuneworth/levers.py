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

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from tuneworth.data import Schema, Task
from tuneworth.errors import TuneworthError, closest
from tuneworth.metrics import Metric
from tuneworth.models import MODELS
from tuneworth.space import Space

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
    experiment: str = "tuneworth"  # names Optuna studies in a shared storage


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


def check_space(model: str, space: dict[str, Any]) -> dict[str, Any]:
    """Validate a spec's space overrides for ``model`` (a ValueError names the problem)."""
    MODELS[model].check_space(space)
    return space


class ModelLever(Lever):
    """Replace the baseline's model with another from the zoo (``tuneworth.models``).

    ``space`` overrides or narrows the model's declared search space for tuning levers,
    e.g. ``{C: {low: 0.1, high: 100, log: true}, gamma: [scale, 0.01]}``.
    """

    name: ClassVar[str] = "model"
    family: ClassVar[Family] = "model"
    model: str = Field(alias="name")
    params: dict[str, Any] = Field(default_factory=dict)
    space: dict[str, Any] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        return check_model(value)

    @field_validator("space")
    @classmethod
    def _known_parameters(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        return check_space(info.data["model"], value) if "model" in info.data else value

    def describe(self) -> str:
        from tuneworth.models import get_model

        label = get_model(self.model).label
        members = self.params.get("members")
        if isinstance(members, list):
            label += f" of {', '.join(map(str, members))}"
        return label


# --- tuning: a search over the arm's model's declared space ----------------------------


class TuningLever(Lever):
    """A search over the arm's model's declared space; ``trials`` overrides the budget."""

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

    def search(self, pipeline: Any, space: Space, ctx: BuildContext) -> Any:
        """``pipeline`` wrapped in this lever's search over ``space``."""
        from tuneworth.search import make_search

        try:
            return make_search(
                self.name, pipeline, space, self.budget(ctx), ctx, **self.options(ctx)
            )
        except ValueError as exc:
            raise TuneworthError(f"{self.describe()}: {exc}") from None

    def options(self, ctx: BuildContext) -> dict[str, Any]:
        """Strategy-specific settings for :func:`tuneworth.search.make_search`."""
        return {}

    def evaluations(self, budget: int) -> int:
        """Rows of the trial table a search with this budget writes, per outer fold."""
        return budget


class GridSearch(TuningLever):
    """scikit-learn's GridSearchCV on a grid whose resolution fits the budget."""

    name: ClassVar[str] = "grid_search"
    strategy_label: ClassVar[str] = "grid search"


class RandomSearch(TuningLever):
    """scikit-learn's RandomizedSearchCV."""

    name: ClassVar[str] = "random_search"
    strategy_label: ClassVar[str] = "random search"


class OptunaTPE(TuningLever):
    """Optuna's TPE sampler, seeded.

    ``storage`` keeps the studies in an Optuna storage instead of memory, so an interrupted
    search resumes and ``optuna-dashboard <storage>`` shows it: a database URL
    (``sqlite:///optuna.db``, ``postgresql://user@host/db``) or ``journal:<file>``.
    """

    name: ClassVar[str] = "optuna"
    strategy_label: ClassVar[str] = "optuna TPE"
    storage: str | None = None

    @field_validator("storage")
    @classmethod
    def _storage_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(journal:.+|[A-Za-z0-9+]+://.+)$", value):
            raise ValueError(
                f"'{value}' is not an Optuna storage: give a database URL such as "
                "sqlite:///optuna.db or postgresql://user@host/db, or journal:<file>"
            )
        return value

    def options(self, ctx: BuildContext) -> dict[str, Any]:
        from tuneworth.search import open_storage

        if self.storage is not None:
            try:  # once here, before any worker: the tables exist and the URL is good
                open_storage(self.storage)
            except Exception as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise TuneworthError(
                    f"{self.describe()}: cannot open Optuna storage '{self.storage}': {first}"
                ) from None
        return {"storage": self.storage, "study_name": f"{ctx.experiment}.{self.describe()}"}


class Halving(TuningLever):
    """scikit-learn's successive halving over random draws (HalvingRandomSearchCV).

    It draws ``trials`` candidates and keeps the best ``1 / factor`` of them at each rung,
    on ``factor`` times more rows; see :mod:`tuneworth.search` for how its budget compares.
    """

    name: ClassVar[str] = "halving"
    strategy_label: ClassVar[str] = "successive halving"
    factor: int = Field(default=3, ge=2, le=10)

    def options(self, ctx: BuildContext) -> dict[str, Any]:
        return {"factor": self.factor}

    def evaluations(self, budget: int) -> int:
        """Every candidate at the first rung, the best ``1 / factor`` at each next one.

        >>> Halving().evaluations(20)
        30
        """
        total, candidates = 0, budget
        for _ in range(1 + int(math.log(budget, self.factor) + 1e-9)):
            total, candidates = total + candidates, math.ceil(candidates / self.factor)
        return total


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
        Halving,
    )
}
