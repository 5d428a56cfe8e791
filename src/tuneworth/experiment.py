"""One experiment from spec to summary: the glue between the pure core and the sinks.

Everything that can reject the input (spec, data, metric, splits) runs before the first
write to MLflow, so bad input leaves the store untouched.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tuneworth.data import Dataset, load_dataset
from tuneworth.design import BASELINE, Arm, build_arms, build_pipeline
from tuneworth.errors import TuneworthError
from tuneworth.evaluate import FoldResult, Split, evaluate, make_splits, results_frame
from tuneworth.levers import BuildContext
from tuneworth.metrics import Metric, resolve_metric
from tuneworth.search import compare_strategies
from tuneworth.spec import Spec
from tuneworth.stats import summarise

Progress = Callable[[int, int, FoldResult], None]


@dataclass(frozen=True)
class Plan:
    """Everything needed to run, checked: the data, the arms and the shared splits."""

    spec: Spec
    dataset: Dataset
    metric: Metric
    arms: list[Arm]
    pipelines: dict[str, Any]
    splits: list[Split]


@dataclass(frozen=True)
class ExperimentResult:
    plan: Plan
    results: pd.DataFrame
    summary: pd.DataFrame
    study_run_id: str


def plan_experiment(spec: Spec) -> Plan:
    """Load the data and build arms and splits; raises :class:`TuneworthError` on bad input."""
    dataset = load_dataset(
        spec.dataset.source, spec.dataset.target, spec.dataset.task, spec.dataset.drop
    )
    metric = resolve_metric(spec.metric, dataset.task)
    _check_folds(dataset, spec.cv.folds, "cv.folds")
    ctx = BuildContext(
        schema=dataset.schema,
        task=dataset.task,
        metric=metric,
        seed=spec.seed,
        inner_folds=spec.cv.inner_folds,
        trials=spec.budget.trials,
        experiment=spec.name,
    )
    arms = build_arms(spec)
    pipelines = {arm.name: build_pipeline(arm, spec.baseline, ctx) for arm in arms}
    splits = make_splits(dataset.y, dataset.task, spec.cv.folds, spec.cv.repeats, spec.seed)
    return Plan(spec, dataset, metric, arms, pipelines, splits)


def _check_folds(dataset: Dataset, folds: int, key: str) -> None:
    if dataset.task == "regression":
        if len(dataset.y) < 2 * folds:
            raise TuneworthError(
                f"{len(dataset.y)} rows are too few for {folds} folds: lower {key}"
            )
        return
    counts = dataset.y.value_counts()
    if counts.min() < folds:
        raise TuneworthError(
            f"class {counts.idxmin()!r} has {counts.min()} rows, fewer than the {folds} folds: "
            f"lower {key} to {max(2, int(counts.min()))} or add rows of that class"
        )


def run_experiment(
    spec: Spec,
    *,
    tracking_uri: str | None = None,
    n_jobs: int = -1,
    progress: Progress | None = None,
) -> ExperimentResult:
    """Run every arm on every outer fold, track it in MLflow and summarise it."""
    from tuneworth.tracking import Tracker, environment_tags, resolve_tracking_uri

    plan = plan_experiment(spec)
    dataset = plan.dataset
    tracker = Tracker(resolve_tracking_uri(tracking_uri))
    tags = {
        "tuneworth.spec": spec.name,
        "tuneworth.spec_hash": spec.digest(),
        "tuneworth.data_fingerprint": dataset.fingerprint,
    }
    tracker.start_study(
        spec.name,
        tags={**tags, **environment_tags(), "tuneworth.task": dataset.task},
        params={
            "dataset": dataset.source,
            "target": spec.dataset.target,
            "task": dataset.task,
            "metric": plan.metric.name,
            "design": spec.design,
            "folds": spec.cv.folds,
            "repeats": spec.cv.repeats,
            "inner_folds": spec.cv.inner_folds,
            "trials": spec.budget.trials,
            "seed": spec.seed,
            "rows": len(dataset.y),
            "features": len(dataset.schema.features),
            "arms": len(plan.arms),
        },
    )
    by_arm: dict[str, list[FoldResult]] = defaultdict(list)
    run_ids: dict[str, str] = {}
    arms = {arm.name: arm for arm in plan.arms}
    total = len(plan.arms) * len(plan.splits)
    done = 0
    try:
        for result in evaluate(
            plan.pipelines, dataset.X, dataset.y, plan.splits, plan.metric, n_jobs=n_jobs
        ):
            done += 1
            by_arm[result.arm].append(result)
            if progress is not None:
                progress(done, total, result)
            if len(by_arm[result.arm]) == len(plan.splits):
                arm = arms[result.arm]
                run_ids[arm.name] = tracker.log_arm(
                    arm.name,
                    tags={
                        **tags,
                        "tuneworth.arm": arm.name,
                        "tuneworth.family": arm.family,
                        "tuneworth.lever": arm.lever,
                    },
                    params=arm.config(spec.baseline),
                    results=by_arm[arm.name],
                    greater_is_better=plan.metric.greater_is_better,
                    trial_runs=spec.tracking.trial_runs,
                )
    except BaseException:
        tracker.abort("KILLED")
        raise
    results = results_frame([r for arm in plan.arms for r in by_arm[arm.name]])
    summary = summarise(results, [arm.name for arm in plan.arms], BASELINE)
    tracker.log_comparisons(run_ids, summary)
    tuning = compare_strategies(plan.arms, by_arm, plan.metric.greater_is_better)
    tracker.log_tuning(run_ids, tuning)
    summary = summary.merge(tuning, on="arm", how="left")
    scores = summary["score_mean"]
    best = scores.max() if plan.metric.greater_is_better else scores.min()
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp, "spec.yaml"), Path(tmp, "results.csv"), Path(tmp, "summary.csv")]
        files[0].write_text(yaml.safe_dump(spec.to_document(), sort_keys=False))
        results.to_csv(files[1], index=False)
        summary.to_csv(files[2], index=False)
        tracker.finish_study(
            {"baseline_score_mean": scores.iloc[0], "best_score_mean": best},
            files,
        )
    return ExperimentResult(plan, results, summary, tracker.study_run_id)
