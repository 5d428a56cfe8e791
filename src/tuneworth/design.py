"""From a spec to arms: which combinations of levers run, and the pipeline each builds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tuneworth.levers import (
    BuildContext,
    DataLever,
    Lever,
    ModelLever,
    PreprocessLever,
    TuningLever,
)
from tuneworth.models import get_model
from tuneworth.space import prefixed
from tuneworth.spec import BaselineSpec, Spec

BASELINE = "baseline"


@dataclass(frozen=True)
class Arm:
    """The baseline plus a set of levers. ``name`` is unique within an experiment."""

    name: str
    levers: tuple[Lever, ...] = ()

    @property
    def family(self) -> str:
        families = {lever.family for lever in self.levers}
        if not families:
            return BASELINE
        return families.pop() if len(families) == 1 else "+".join(sorted(families))

    @property
    def lever(self) -> str:
        return " + ".join(lever.describe() for lever in self.levers) or BASELINE

    def model_name(self, baseline: BaselineSpec) -> str:
        models = [lever.model for lever in self.levers if isinstance(lever, ModelLever)]
        return models[-1] if models else baseline.model

    def config(self, baseline: BaselineSpec) -> dict[str, Any]:
        """The arm's configuration as flat key/value pairs (MLflow params, reports)."""
        settings = baseline.preprocess
        for lever in self.levers:
            if isinstance(lever, PreprocessLever):
                settings = lever.configure(settings)
        config: dict[str, Any] = {"model": self.model_name(baseline)}
        model_lever = [lv for lv in self.levers if isinstance(lv, ModelLever)]
        params = model_lever[-1].params if model_lever else baseline.params
        config.update({f"model.{key}": value for key, value in params.items()})
        config.update({f"preprocess.{k}": v for k, v in settings.model_dump().items()})
        config["samplers"] = ",".join(lv.name for lv in self.levers if isinstance(lv, DataLever))
        for lever in self.levers:
            if isinstance(lever, TuningLever):
                config["search"] = lever.name
        for index, lever in enumerate(self.levers):
            for key, value in lever.model_dump(by_alias=True).items():
                config[f"lever{index}.{lever.name}.{key}"] = value
        return config


def build_arms(spec: Spec) -> list[Arm]:
    """The arms the spec's design asks for, baseline first."""
    arms = [Arm(BASELINE)]
    names = {BASELINE}
    for lever in spec.levers:
        name = lever.describe()
        suffix = 2
        while name in names:
            name, suffix = f"{lever.describe()} ({suffix})", suffix + 1
        names.add(name)
        arms.append(Arm(name, (lever,)))
    return arms


def build_pipeline(arm: Arm, baseline: BaselineSpec, ctx: BuildContext) -> Any:
    """One unfitted estimator for the arm: an imblearn Pipeline, in a search if tuned.

    Samplers come first, so they only ever see training rows: imbalanced-learn's Pipeline
    applies them during ``fit`` and skips them in ``predict`` and ``score``.
    """
    from imblearn.pipeline import Pipeline

    from tuneworth.steps import make_preprocessor

    steps: list[tuple[str, Any]] = []
    settings = baseline.preprocess
    model_name, model_params, model_space = baseline.model, baseline.params, baseline.space
    tuning: TuningLever | None = None
    for lever in arm.levers:
        if isinstance(lever, DataLever):
            steps.append((f"{lever.name}_{len(steps)}", lever.sampler(ctx)))
        elif isinstance(lever, PreprocessLever):
            settings = lever.configure(settings)
        elif isinstance(lever, ModelLever):
            model_name, model_params, model_space = lever.model, lever.params, lever.space
        elif isinstance(lever, TuningLever):
            tuning = lever
    model = get_model(model_name)
    steps.append(("preprocess", make_preprocessor(ctx.schema, **settings.model_dump())))
    steps.append(("model", model.make(ctx.task, ctx.seed, model_params)))
    pipeline = Pipeline(steps)
    if tuning is None:
        return pipeline
    space = prefixed(model.search_space(ctx.task, model_space), "model__")
    return tuning.search(pipeline, space, ctx)
