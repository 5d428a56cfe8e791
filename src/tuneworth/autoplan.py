"""A spec built from a data file and its diagnosis, for ``tuneworth run data.csv`` and
``tuneworth init``.

Each data and preprocessing lever is in the plan because a finding calls for it, and says
which; levers the diagnosis shows to be pointless are left out with a note. The model levers
are the families practitioners compare (a linear model, a random forest, gradient boosting)
and the tuning levers search the baseline model with grid, random and Optuna search on
equal budgets. Budgets stay modest (5x2 outer folds, 3 inner folds, 10 trials), so a few
thousand rows take minutes on two cores.

Pure: a dataset and findings in, a plan out; :func:`spec_yaml` renders it as a commented
YAML spec that :func:`tuneworth.spec.load_spec` reads back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tuneworth.data import GENERATED_PREFIX, SKLEARN_PREFIX, Dataset
from tuneworth.diagnose import Finding
from tuneworth.metrics import DEFAULT_METRIC
from tuneworth.spec import MAX_NAME_LENGTH, Spec, parse_spec

FOLDS = 5
REPEATS = 2
INNER_FOLDS = 3
TRIALS = 10
# Imputation is worth a lever of its own when this share of rows has a gap, or when the
# gaps predict the target.
MISSING_ROWS = 0.05
BASELINE_PREPROCESS = {"impute": "median", "scale": "standard"}
MODELS = ("random_forest", "hist_gradient_boosting")
SEARCHES = ("grid_search", "random_search", "optuna")


@dataclass(frozen=True)
class PlannedLever:
    """A lever in its spec form (``"name"`` or ``{name: {params}}``) and why it is there."""

    lever: str | dict[str, Any]
    reason: str


@dataclass(frozen=True)
class AutoPlan:
    """The spec document of an automatic plan and the reasons behind it.

    Attributes
    ----------
    document : dict
        The spec as a plain document (what the YAML file holds).
    levers : tuple of PlannedLever
        Every lever, with the finding or the rule that put it there.
    left_out : tuple of str
        Levers the diagnosis shows to be pointless, and why.
    notes : tuple of str
        Other decisions: columns dropped as leaks, classes too small to keep.
    findings : tuple of Finding
        The diagnosis the plan follows from.
    """

    document: dict[str, Any]
    levers: tuple[PlannedLever, ...]
    left_out: tuple[str, ...]
    notes: tuple[str, ...]
    findings: tuple[Finding, ...]

    def spec(self) -> Spec:
        """The validated spec."""
        return parse_spec(self.document, "the automatic plan")

    def arms(self) -> int:
        """Arms the plan runs: the baseline and one per lever."""
        return 1 + len(self.levers)


def spec_name(path: str) -> str:
    """An experiment name from a data file's name, as spec names are validated.

    >>> spec_name("data/My Sales (2026).csv")
    'My_Sales_2026'
    >>> spec_name("...csv")
    'data'
    """
    builtin = path.startswith((SKLEARN_PREFIX, GENERATED_PREFIX))
    stem = path.split(":", 1)[1] if builtin else Path(path).stem
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-")
    return name[:MAX_NAME_LENGTH] or "data"


def plan_from_diagnosis(
    dataset: Dataset,
    target: str,
    findings: Sequence[Finding],
    *,
    name: str | None = None,
    seed: int = 0,
) -> AutoPlan:
    """The plan for ``dataset`` that follows from ``findings`` (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
        The loaded data (its source becomes ``dataset.source``).
    target : str
        The target column.
    findings : sequence of Finding
        The diagnosis of ``dataset``, :func:`tuneworth.diagnose.diagnose`.
    name : str, optional
        The experiment's name; by default from the file name (:func:`spec_name`).
    seed : int
        The spec's seed.
    """
    found = {finding.name: finding for finding in findings}
    levers: list[PlannedLever] = []
    left_out: list[str] = []
    notes: list[str] = []
    regression = dataset.task == "regression"

    def why(name: str) -> str:
        return f"{name}: {_reason(found[name], regression)}"

    missing = found.get("missing values")
    if missing is not None and missing.severity != "ok":
        rows = missing.numbers["rows"]
        if missing.numbers.get("informative"):
            levers.append(
                PlannedLever(
                    {"imputation": {"strategy": "median", "add_indicator": True}},
                    why("missing values"),
                )
            )
        elif rows >= MISSING_ROWS:
            levers.append(
                PlannedLever(
                    {"imputation": {"strategy": "iterative", "add_indicator": False}},
                    why("missing values"),
                )
            )
        else:
            left_out.append(
                f"imputation: only {rows:.0%} of rows have a gap and the gaps say little "
                "about the target; the baseline's median imputation stands"
            )
    else:
        left_out.append("imputation: no missing cells")

    cleaning = {
        "duplicates": "duplicate_filter",
        "target noise": "target_noise_filter",
        "label noise": "label_noise_filter",
        "class balance": "random_oversampling",
        "outliers": "outlier_filter",
    }
    for check, lever in cleaning.items():
        finding = found.get(check)
        if finding is None:
            continue
        if finding.lever:
            levers.append(PlannedLever(finding.lever, why(check)))
        else:
            left_out.append(f"{lever}: {finding.summary}")

    scales = found.get("feature scales")
    if scales is not None and scales.numbers.get("skewed", 0) > 0:
        levers.append(PlannedLever({"scaling": {"method": "quantile"}}, why("feature scales")))
    elif scales is not None:
        left_out.append(
            "quantile scaling: no heavily skewed numeric column; the baseline already "
            "standard-scales"
        )

    roles = found.get("column roles")
    if roles is not None and roles.lever == "encoding":
        levers.append(PlannedLever({"encoding": {"method": "target"}}, why("column roles")))
    elif dataset.schema.categorical:
        left_out.append(
            "target encoding: no high-cardinality categorical column; one-hot encoding of "
            f"{_columns(len(dataset.schema.categorical), 'categorical')} stands"
        )

    if dataset.schema.dates:
        left_out.append(
            "date_features: the baseline already encodes "
            f"{', '.join(dataset.schema.dates)} as calendar features and elapsed time"
        )

    for model in MODELS:
        levers.append(PlannedLever({"model": {"name": model}}, "another model family"))
    for search in SEARCHES:
        levers.append(PlannedLever(search, f"tuning the baseline model, {TRIALS} trials per fold"))

    drop: list[str] = []
    leaks = found.get("leaking columns")
    if leaks is not None and leaks.columns:
        drop = list(leaks.columns)
        notes.append(
            f"dropped as leaks (remove them from dataset.drop if they are known before the "
            f"outcome): {leaks.summary}"
        )
    ids = found.get("constant / ID columns")
    if ids is not None and ids.numbers.get("kept"):
        kept = [c for c in ids.columns[: int(ids.numbers["kept"])] if c not in drop]
        drop += kept
        notes.append(
            f"dropped as ID-like (a distinct value on nearly every row): {', '.join(kept)}"
        )
    as_text = found.get("numbers as text")
    if as_text is not None and as_text.severity == "warning":  # not those read as numbers
        notes.append(f"numbers as text: {as_text.summary}")

    dataset_doc: dict[str, Any] = {"source": dataset.source, "target": target}
    if drop:
        dataset_doc["drop"] = drop
    min_rows = _min_class_rows(dataset.y, regression)
    if min_rows:
        dataset_doc["min_class_rows"] = min_rows
        notes.append(
            f"classes with fewer than {min_rows} rows are dropped: too few to fill "
            f"{FOLDS} outer and {INNER_FOLDS} inner folds"
        )
    experiment = name or spec_name(dataset.source)
    document: dict[str, Any] = {
        "name": experiment,
        "description": (
            f"Levers planned from the diagnosis of {Path(dataset.source).name} "
            f"({dataset.task}, target {target})"
        ),
        "dataset": dataset_doc,
        "metric": DEFAULT_METRIC[dataset.task],
        "cv": {"folds": FOLDS, "repeats": REPEATS, "inner_folds": INNER_FOLDS},
        "baseline": {"model": "linear", "preprocess": dict(BASELINE_PREPROCESS)},
        "levers": [planned.lever for planned in levers],
        "design": "one_at_a_time",
        "budget": {"trials": TRIALS},
        "seed": seed,
    }
    return AutoPlan(document, tuple(levers), tuple(left_out), tuple(notes), tuple(findings))


def _reason(finding: Finding, regression: bool) -> str:
    """The numbers of a finding that put its lever in the plan, in a few words."""
    n = finding.numbers
    match finding.name:
        case "missing values" if n.get("informative"):
            score = "R2" if regression else "AUC"
            return f"missingness predicts the target ({score} {n['score']:.2f})"
        case "missing values":
            return f"{n['rows']:.0%} of rows have a gap"
        case "duplicates":
            return (
                f"{n['exact']:.0f} repeated rows, {n['conflicting']:.0f} with conflicting targets"
            )
        case "label noise":
            return f"about {n['share']:.1%} of labels implausible"
        case "target noise":
            return f"about {n['share']:.1%} of targets implausible"
        case "class balance":
            return f"smallest/largest class {n['ratio']:.2f}"
        case "outliers":
            return f"{n['share']:.1%} of rows beyond 3 IQR"
        case "feature scales":
            return _columns(int(n["skewed"]), "heavily skewed numeric")
        case "column roles":
            return _columns(int(n["high-cardinality"]), "high-cardinality categorical")
    return finding.summary


def _columns(n: int, kind: str) -> str:
    """'1 categorical column', '3 categorical columns'.

    >>> _columns(1, "categorical"), _columns(3, "heavily skewed numeric")
    ('1 categorical column', '3 heavily skewed numeric columns')
    """
    return f"{n} {kind} column{'' if n == 1 else 's'}"


def _min_class_rows(y: pd.Series, regression: bool) -> int | None:
    """Enough rows per class for stratified outer and inner folds, when some class has
    fewer and at least two classes keep enough."""
    if regression:
        return None
    needed = 2 * FOLDS
    counts = y.value_counts()
    if counts.min() >= needed or (counts >= needed).sum() < 2:
        return None
    return needed


def _inline(value: Any) -> str:
    """A value as one line of YAML flow style (quoted where YAML needs it)."""
    text = yaml.safe_dump([value], default_flow_style=True, width=10_000, sort_keys=False)
    return text.strip()[1:-1]


def _comment(notes: Sequence[str], width: int = 100) -> list[str]:
    """Notes as YAML comment lines, wrapped."""
    import textwrap

    return [
        line
        for note in notes
        for line in textwrap.wrap(note, width, initial_indent="#   ", subsequent_indent="#     ")
    ]


def spec_yaml(plan: AutoPlan, command: str) -> str:
    """The plan as a commented YAML spec; ``command`` is how it was made."""
    doc = plan.document
    lines = [
        f"# Written by `{command}`.",
        "# Each data and preprocessing lever is here because of a finding of the diagnosis",
        "# below (its comment says which); edit freely, then: tuneworth run <this file>",
        "#",
        "# Diagnosis:",
        *_comment([f"{f.name}: {f.summary}" for f in plan.findings if f.severity != "ok"]),
    ]
    if plan.notes:
        lines += ["#", "# Notes:", *_comment(plan.notes)]
    lines += [
        f"name: {_inline(doc['name'])}",
        f"description: {_inline(doc['description'])}",
        "dataset:",
        f"  source: {_inline(doc['dataset']['source'])}   # relative to where you run",
        f"  target: {_inline(doc['dataset']['target'])}",
    ]
    if "drop" in doc["dataset"]:
        lines.append(f"  drop: {_inline(doc['dataset']['drop'])}   # leaking or ID-like: see Notes")
    if "min_class_rows" in doc["dataset"]:
        lines.append(f"  min_class_rows: {doc['dataset']['min_class_rows']}")
    lines += [
        f"metric: {doc['metric']}",
        "cv:",
        f"  folds: {doc['cv']['folds']}          # outer folds, shared by every arm",
        f"  repeats: {doc['cv']['repeats']}        # repeats of the outer K-fold: more, more power",
        f"  inner_folds: {doc['cv']['inner_folds']}    # folds of every search (nested CV)",
        "baseline:",
        f"  model: {doc['baseline']['model']}",
        f"  preprocess: {_inline(doc['baseline']['preprocess'])}",
        "levers:",
    ]
    for planned in plan.levers:
        lines.append(f"  - {_inline(planned.lever)}   # {planned.reason}")
    if plan.left_out:
        lines += ["# Left out:", *_comment(plan.left_out)]
    lines += [
        f"design: {doc['design']}",
        "budget:",
        f"  trials: {doc['budget']['trials']}   # configurations per search and outer fold",
        "  # time: 10m   # a wall-time budget: folds, trials and arms sized to fit it",
        f"seed: {doc['seed']}",
    ]
    return "\n".join(lines) + "\n"


def describe_plan(plan: AutoPlan, width: int = 100) -> str:
    """The plan as the terminal shows it before work starts."""
    import textwrap

    doc = plan.document
    cv = doc["cv"]
    lines = [
        f"plan '{doc['name']}': baseline {doc['baseline']['model']} model "
        f"(median imputation, standard scaling), {doc['metric']}; {plan.arms()} arms x "
        f"{cv['folds'] * cv['repeats']} outer folds ({cv['folds']}-fold x {cv['repeats']}), "
        f"searches {doc['budget']['trials']} trials x {cv['inner_folds']} inner folds",
    ]
    for planned, lever in zip(plan.levers, plan.spec().levers, strict=True):
        lines.append(f"  + {lever.describe():<34} {planned.reason}")
    lines += [f"  - left out: {note}" for note in plan.left_out]
    lines += [f"  note: {note}" for note in plan.notes]
    wrapped: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        wrapped += textwrap.wrap(line, width, subsequent_indent=indent) or [""]
    return "\n".join(wrapped)
