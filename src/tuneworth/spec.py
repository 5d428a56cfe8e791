"""The experiment spec: one YAML file, validated strictly before any work starts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from tuneworth.data import Role
from tuneworth.defects import Defects
from tuneworth.errors import TuneworthError, closest
from tuneworth.levers import (
    FAMILIES,
    LEVERS,
    Lever,
    Preprocessing,
    Strict,
    TuningLever,
    check_model,
    check_space,
)

Design = Literal["one_at_a_time", "ladder", "factorial"]

# Limits on what a spec file may ask of the machine before anything is checked.
MAX_SPEC_BYTES = 1_000_000
# Values in the document once YAML aliases are expanded: a real spec has a few hundred; a
# "billion laughs" document of a few lines has billions.
MAX_SPEC_VALUES = 100_000
# The name becomes a directory (reports/<name>/) and part of every artifact path.
MAX_NAME_LENGTH = 100
# NumPy's and scikit-learn's random_state take a 32-bit unsigned seed.
MAX_SEED = 2**32 - 1


class DatasetSpec(Strict):
    """Where the data comes from and what to predict."""

    source: str = Field(min_length=1)
    target: str = "target"
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto"
    drop: tuple[str, ...] = ()
    # Column roles that override the inferred ones, e.g. {comment: text, zip: categorical}.
    roles: dict[str, Role] = Field(default_factory=dict)
    # Classes with fewer rows are dropped (with a note): a class of 2 rows cannot fill
    # stratified folds, and no model learns it from 1 or 2 examples anyway.
    min_class_rows: int | None = Field(default=None, ge=2)
    defects: Defects = Defects()


class CVSpec(Strict):
    """Outer repeated K-fold shared by every arm; inner K-fold for searches."""

    folds: int = Field(default=5, ge=2, le=50)
    repeats: int = Field(default=2, ge=1, le=50)
    inner_folds: int = Field(default=3, ge=2, le=20)


class BaselineSpec(Strict):
    """The pipeline every lever is measured against."""

    model: str = "linear"
    params: dict[str, Any] = Field(default_factory=dict)
    preprocess: Preprocessing = Preprocessing()
    space: dict[str, Any] = Field(default_factory=dict)

    _known_model = field_validator("model")(check_model)

    @field_validator("space")
    @classmethod
    def _known_parameters(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        return check_space(info.data["model"], value) if "model" in info.data else value


class BudgetSpec(Strict):
    """Default search budget: configurations evaluated per search (per outer fold); and
    ``time``, a wall-time budget for the whole run ('10m', '1h30m') that sizes folds,
    trials and arms to fit (:mod:`tuneworth.budget`)."""

    trials: int = Field(default=20, gt=0, le=100_000)
    time: str | None = None

    @field_validator("time")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            from tuneworth.budget import parse_duration

            try:
                parse_duration(value, "budget.time")
            except TuneworthError as exc:
                raise ValueError(str(exc).removeprefix("budget.time ")) from None
        return value


class TrackingSpec(Strict):
    """What goes to MLflow beyond one run per arm."""

    trial_runs: bool = False  # one nested run per search trial: for small searches only


# Creating an MLflow run costs tens of milliseconds: per-trial runs stay an opt-in for
# small searches.
MAX_TRIAL_RUNS = 1000


class Spec(Strict):
    """One experiment. See ``pipelines/default.yaml`` for a commented example.

    ``curves`` (default true) measures the marginal gains (:mod:`tuneworth.marginal`): the
    tuning-budget curve of every random or Optuna search (the outer score of its choice
    after 1, 2, 4, ... trials) and the data-size curves of the baseline and the best arm
    (trained on 1/8, 1/4 and 1/2 of every training fold); false skips both.
    """

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    dataset: DatasetSpec
    metric: str | None = None
    cv: CVSpec = CVSpec()
    baseline: BaselineSpec = BaselineSpec()
    levers: tuple[Lever, ...] = ()
    design: Design = "one_at_a_time"
    budget: BudgetSpec = BudgetSpec()
    tracking: TrackingSpec = TrackingSpec()
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    # The marginal-gain curves (tuneworth.marginal): each sequential search's score after
    # 1, 2, 4, ... trials, and the baseline and best arm on 1/8, 1/4, 1/2 of the rows.
    curves: bool = True

    @field_validator("name")
    @classmethod
    def _not_only_dots(cls, value: str) -> str:
        if set(value) == {"."}:
            raise ValueError(
                f"'{value}' is not a usable name: it becomes a directory under reports/; "
                "use letters, digits, '_', '-' or '.'"
            )
        return value

    @field_validator("levers", mode="before")
    @classmethod
    def _parse_levers(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [parse_lever(item, index) for index, item in enumerate(value)]

    @model_validator(mode="after")
    def _distinct_levers(self) -> Spec:
        """The same lever twice would run twice and count twice in the Holm adjustment."""
        seen: dict[tuple[str, str], int] = {}
        for index, lever in enumerate(self.levers):
            key = (lever.name, json.dumps(lever.model_dump(mode="json"), sort_keys=True))
            if key in seen:
                raise ValueError(
                    f"levers.{index}: the same lever as levers.{seen[key]} "
                    f"('{lever.describe()}'): remove one of them"
                )
            seen[key] = index
        return self

    @model_validator(mode="after")
    def _combinable_levers(self) -> Spec:
        """Ladder and factorial arms stack levers: one model and one search at most."""
        if self.design == "one_at_a_time":
            return self
        for family in ("model", "tuning"):
            names = [lever.name for lever in self.levers if lever.family == family]
            if len(names) > 1:
                raise ValueError(
                    f"design: '{self.design}' stacks levers, so it takes at most one {family} "
                    f"lever, not {len(names)} ({', '.join(names)}): keep one, or use "
                    "design: one_at_a_time"
                )
        return self

    @model_validator(mode="after")
    def _few_trial_runs(self) -> Spec:
        if self.tracking.trial_runs:
            runs = self.search_evaluations()
            if runs > MAX_TRIAL_RUNS:
                raise ValueError(
                    f"tracking.trial_runs would create {runs} MLflow runs (at most "
                    f"{MAX_TRIAL_RUNS}): lower budget.trials or cv.repeats, or turn it off"
                )
        return self

    def search_evaluations(self) -> int:
        """Search evaluations of all tuning levers over all outer folds."""
        folds = self.cv.folds * self.cv.repeats
        return sum(
            folds * lever.evaluations(lever.trials or self.budget.trials)
            for lever in self.levers
            if isinstance(lever, TuningLever)
        )

    def digest(self) -> str:
        """A hash of everything that changes results; equal digests, equal experiments."""
        document = self.to_document()
        # A time budget changes results only through the folds and trials it sets; the
        # curves are measured beside the arms and change none of their results.
        document["budget"].pop("time", None)
        document.pop("curves", None)
        payload = json.dumps(document, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_document(self) -> dict[str, Any]:
        """The spec as a plain document, defaults filled in, levers in their YAML form."""
        document = self.model_dump(mode="json", exclude={"levers"})
        if document["budget"]["time"] is None:
            del document["budget"]["time"]  # no budget: the document of a spec without the key
        if document["curves"]:
            del document["curves"]  # the default: the document of a spec without the key
        document["levers"] = [
            {lever.name: lever.model_dump(mode="json", by_alias=True)} for lever in self.levers
        ]
        return document

    def families(self) -> set[str]:
        return {lever.family for lever in self.levers}


def parse_lever(item: Any, index: int) -> Lever:
    """Turn ``"name"`` or ``{"name": {params}}`` into a validated lever (a lever object,
    already validated, is taken as it is)."""
    where = f"levers.{index}"
    params: Any
    if isinstance(item, Lever):
        return item
    if isinstance(item, str):
        name, params = item, {}
    elif isinstance(item, dict) and len(item) == 1:
        name, params = next(iter(item.items()))
        params = {} if params is None else params
    else:
        raise ValueError(
            f"{where}: a lever is a name or a mapping of one name to its parameters, "
            "e.g. 'scaling' or {scaling: {method: standard}}"
        )
    if not isinstance(name, str) or name not in LEVERS:
        raise ValueError(
            f"{where}: unknown lever '{name}'{closest(str(name), LEVERS)}; "
            f"choose one of {', '.join(LEVERS)}"
        )
    if not isinstance(params, dict):
        raise ValueError(f"{where}: the parameters of lever '{name}' must be a mapping")
    try:
        return LEVERS[name].model_validate(params)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in (where, name, *error["loc"]))
        if error["type"] == "extra_forbidden":
            known = [f.alias or key for key, f in LEVERS[name].model_fields.items()]
            message = f"unknown key{closest(str(error['loc'][-1]), known)}"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
        raise ValueError(f"{path}: {message}") from None


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; any problem is a one-line :class:`TuneworthError`."""
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_SPEC_BYTES:
            raise TuneworthError(
                f"spec file '{path}' is {path.stat().st_size:,} bytes; a spec is at most "
                f"{MAX_SPEC_BYTES:,}: is it the right file?"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TuneworthError(
            f"spec file '{path}' not found: pass a YAML file such as pipelines/default.yaml"
        ) from None
    except IsADirectoryError:
        raise TuneworthError(f"spec '{path}' is a directory: pass a YAML file in it") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise TuneworthError(f"cannot read spec file '{path}': {reason}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise TuneworthError(f"spec file '{path}' is not valid YAML{where}: {problem}") from None
    return parse_spec(document, str(path))


def _values(document: Any, limit: int) -> int:
    """Count the values of ``document`` with aliases expanded, stopping past ``limit``.

    PyYAML shares an aliased node instead of copying it, so the parsed document is small;
    everything that walks it later (validation, hashing, printing) sees the expansion.
    """
    count, pending = 0, [document]
    while pending and count <= limit:
        value = pending.pop()
        count += 1
        if isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list | tuple):
            pending += value
    return count


def parse_spec(document: Any, origin: str = "spec") -> Spec:
    """Validate a spec document (the parsed YAML)."""
    if not isinstance(document, dict):
        raise TuneworthError(f"{origin}: a spec is a mapping with at least 'name' and 'dataset'")
    if _values(document, MAX_SPEC_VALUES) > MAX_SPEC_VALUES:
        raise TuneworthError(
            f"{origin}: the spec expands to more than {MAX_SPEC_VALUES:,} values (nested YAML "
            "aliases?): write it out without '*' references"
        )
    try:
        return Spec.model_validate(document)
    except ValidationError as exc:
        raise TuneworthError(f"{origin}: {format_error(exc)}") from None


def format_error(exc: ValidationError) -> str:
    """The first validation error as ``key.path: message``, with a hint for unknown keys."""
    error = exc.errors()[0]
    loc = [str(p) for p in error["loc"]]
    path = ".".join(loc) or "spec"
    if error["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        return f"{path}: unknown key{closest(loc[-1], known)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "value_error" and loc in (["levers"], []):
        return message  # parse_lever and the spec-wide checks name their own key path
    if error["type"] == "missing":
        return f"{path}: required key is missing"
    return f"{path}: {message}"


def _known_keys(loc: list[str]) -> list[str]:
    model: Any = Spec
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = field.annotation
    return list(getattr(model, "model_fields", {}))


__all__ = [
    "FAMILIES",
    "BaselineSpec",
    "CVSpec",
    "DatasetSpec",
    "Spec",
    "TrackingSpec",
    "load_spec",
    "parse_spec",
]
