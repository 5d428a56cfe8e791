"""From a spec to arms: which combinations of levers run, and the pipeline each builds."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tuneworth.data import Schema
from tuneworth.levers import (
    FAMILIES,
    BuildContext,
    DataLever,
    Lever,
    ModelLever,
    Preprocessing,
    PreprocessLever,
    TuningLever,
)
from tuneworth.models import MODELS, get_model
from tuneworth.space import prefixed
from tuneworth.spec import BaselineSpec, Spec

BASELINE = "baseline"


@dataclass(frozen=True)
class Configuration:
    """What an arm runs: its levers applied to the baseline, worked out once and read by
    the pipeline builder (:func:`build_pipeline`) and the arm's parameters
    (:meth:`Arm.config`)."""

    model: str
    params: Mapping[str, Any]
    space: Mapping[str, Any]
    preprocess: Preprocessing  # encoding resolved for the model
    samplers: tuple[DataLever, ...]  # in the order they run, before preprocessing
    tuning: TuningLever | None


@dataclass(frozen=True)
class Arm:
    """The baseline plus a set of levers. ``name`` is unique within an experiment."""

    name: str
    levers: tuple[Lever, ...] = ()
    # (label, shown label) of levers the data made act otherwise than the spec says, such
    # as SMOTE with fewer neighbours: the arm's name and lever say what it ran.
    relabel: tuple[tuple[str, str], ...] = ()

    @property
    def families(self) -> tuple[str, ...]:
        """The lever families this arm applies, in the order data, preprocess, model, tuning."""
        present = {lever.family for lever in self.levers}
        return tuple(family for family in FAMILIES if family in present)

    @property
    def family(self) -> str:
        return "+".join(self.families) or BASELINE

    @property
    def lever(self) -> str:
        shown = dict(self.relabel)
        labels = (lever.describe() for lever in self.levers)
        return " + ".join(shown.get(label, label) for label in labels) or BASELINE

    def relabelled(self, shown: dict[str, str]) -> Arm:
        """This arm with the levers labelled ``shown[label]`` (its name follows)."""
        labels = [lever.describe() for lever in self.levers]
        relabel = tuple((label, shown[label]) for label in labels if label in shown)
        if not relabel:
            return self
        name = self.name
        for label, new in relabel:
            name = name.replace(label, new, 1)
        return Arm(name, self.levers, relabel)

    def configure(self, baseline: BaselineSpec) -> Configuration:
        """The arm's levers applied to ``baseline``, in order: a later lever of a kind
        overrides an earlier one; preprocessing levers change the settings so far.

        Raises
        ------
        TuneworthError
            For an encoding the arm's model cannot take (:func:`resolve_encoding`).
        """
        settings = baseline.preprocess
        model, params, space = baseline.model, baseline.params, baseline.space
        tuning: TuningLever | None = None
        for lever in self.levers:
            if isinstance(lever, PreprocessLever):
                settings = lever.configure(settings)
            elif isinstance(lever, ModelLever):
                model, params, space = lever.model, lever.params, lever.space
            elif isinstance(lever, TuningLever):
                tuning = lever
        samplers = tuple(lever for lever in self.levers if isinstance(lever, DataLever))
        preprocess = resolve_encoding(settings, model)
        return Configuration(model, params, space, preprocess, samplers, tuning)

    def config(self, baseline: BaselineSpec, trials: int | None = None) -> dict[str, Any]:
        """The arm's configuration as flat key/value pairs (MLflow params, reports).

        Only settings that act: no unset value, no selection parameter without that
        selection, and a search's trials as it ran (its own, else ``trials``, the budget).
        """
        configured = self.configure(baseline)
        config: dict[str, Any] = {"model": configured.model}
        config.update({f"model.{key}": value for key, value in configured.params.items()})
        settings = configured.preprocess
        preprocess = settings.model_dump()
        preprocess["roles"] = ",".join(f"{c}:{r}" for c, r in settings.roles.items())
        unused = {"none": ("k", "variance_threshold"), "mutual_info": ("variance_threshold",)}
        for key in unused.get(settings.select, ("k",)):
            del preprocess[key]
        config.update({f"preprocess.{k}": v for k, v in preprocess.items()})
        config["samplers"] = ",".join(lever.name for lever in configured.samplers)
        if configured.tuning is not None:
            config["search"] = configured.tuning.name
        for index, lever in enumerate(self.levers):
            lever_settings = lever.settings()
            if isinstance(lever, TuningLever) and trials is not None:
                lever_settings["trials"] = lever.trials or trials
            for key, value in lever_settings.items():
                config[f"lever{index}.{lever.name}.{key}"] = value
        return {key: value for key, value in config.items() if value is not None and value != ""}


def build_arms(spec: Spec) -> list[Arm]:
    """The arms the spec's design asks for, baseline first.

    - ``one_at_a_time``: the baseline plus one arm per lever.
    - ``ladder``: levers added cumulatively in family order (data, preprocess, model,
      tuning; spec order within a family), each arm one step on from the one before.
    - ``factorial``: one arm per subset of the families present, each applying every lever
      of its families: 2^k arms for k families, the input of a Shapley attribution.
    """
    combos: list[tuple[Lever, ...]]
    if spec.design == "one_at_a_time":
        combos = [(lever,) for lever in spec.levers]
    elif spec.design == "ladder":
        ordered = by_family(spec.levers)
        combos = [tuple(ordered[: i + 1]) for i in range(len(ordered))]
    else:
        present = [f for f in FAMILIES if any(lv.family == f for lv in spec.levers)]
        combos = [
            tuple(lv for lv in by_family(spec.levers) if lv.family in subset)
            for size in range(1, len(present) + 1)
            for subset in itertools.combinations(present, size)
        ]
    arms = [Arm(BASELINE)]
    names = {BASELINE}
    for levers in combos:
        label = " + ".join(lever.describe() for lever in levers)
        name, suffix = label, 2
        while name in names:
            name, suffix = f"{label} ({suffix})", suffix + 1
        names.add(name)
        arms.append(Arm(name, levers))
    return arms


def by_family(levers: Sequence[Lever]) -> list[Lever]:
    """Levers in family order (data, preprocess, model, tuning), stable within a family."""
    return sorted(levers, key=lambda lever: FAMILIES.index(lever.family))


def resolve_encoding(settings: Preprocessing, model_name: str) -> Preprocessing:
    """``settings`` with ``encode: auto`` made the model's own choice; native categories
    for a model that cannot take them, or with feature selection, are a spec error."""
    from tuneworth.errors import TuneworthError

    model = get_model(model_name)
    if settings.encode == "auto":
        # The selectors score numbers: with selection, categories are one-hot columns.
        encoding = model.encoding if settings.select == "none" else "onehot"
        return settings.model_copy(update={"encode": encoding})
    if settings.encode == "native" and settings.select != "none":
        raise TuneworthError(
            "encode: native keeps categories as they are, and feature selection needs "
            "numbers: encode another way, or drop the selection"
        )
    if settings.encode == "native" and model.encoding != "native":
        native = ", ".join(name for name, m in MODELS.items() if m.encoding == "native")
        raise TuneworthError(
            f"encode: native hands categories to the model as they are, and model "
            f"'{model_name}' cannot take them: use it with {native}, or encode another way"
        )
    return settings


def preprocessor_for(settings: Preprocessing, model_name: str, schema: Schema, seed: int) -> Any:
    """The unfitted preprocessor of an arm with these settings and this model: the
    encoding resolved for the model, the arm's roles applied to the schema."""
    return preprocessor(resolve_encoding(settings, model_name), schema, seed)


def preprocessor(settings: Preprocessing, schema: Schema, seed: int) -> Any:
    """The unfitted :class:`tuneworth.steps.Preprocessor` of resolved ``settings``, with
    their roles applied to ``schema``."""
    from tuneworth.steps import Preprocessor

    schema = schema.with_roles(settings.roles) if settings.roles else schema
    return Preprocessor(schema, random_state=seed, **settings.model_dump(exclude={"roles"}))


def build_pipeline(arm: Arm, baseline: BaselineSpec, ctx: BuildContext) -> Any:
    """One unfitted estimator for the arm: a Pipeline, in a search if tuned.

    Samplers come first, so they only ever see training rows: imbalanced-learn's Pipeline
    applies them during ``fit`` and skips them in ``predict`` and ``score``. An arm without
    samplers gets scikit-learn's, which fits the same steps alike, so that a run without
    them never imports imbalanced-learn (a fifth of a second).
    """
    configured = arm.configure(baseline)
    if configured.samplers:
        from imblearn.pipeline import Pipeline
    else:
        from sklearn.pipeline import Pipeline

    steps: list[tuple[str, Any]] = [
        (f"{lever.name}_{index}", lever.sampler(ctx))
        for index, lever in enumerate(configured.samplers)
    ]
    model = get_model(configured.model)
    steps.append(("preprocess", preprocessor(configured.preprocess, ctx.schema, ctx.seed)))
    steps.append(("model", model.make(ctx.task, ctx.seed, configured.params)))
    pipeline = Pipeline(steps)
    if configured.tuning is None:
        return pipeline
    space = prefixed(model.search_space(ctx.task, configured.space), "model__")
    return configured.tuning.search(pipeline, space, ctx)
