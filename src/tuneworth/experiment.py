"""One experiment from spec to summary: the glue between the pure core and the sinks.

Everything that can reject the input (spec, data, metric, splits) runs before the first
write to MLflow, so bad input leaves the store untouched.
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import yaml

from tuneworth.data import Dataset, infer_schema, load_dataset, shown
from tuneworth.defects import corrupt, distort
from tuneworth.design import BASELINE, Arm, build_arms, build_pipeline
from tuneworth.errors import TuneworthError
from tuneworth.evaluate import (
    FoldResult,
    Inject,
    Split,
    dask_cluster,
    evaluate,
    inner_progress,
    make_splits,
    results_frame,
)
from tuneworth.levers import BuildContext
from tuneworth.metrics import Metric, resolve_metric
from tuneworth.report import Context, write_report
from tuneworth.search import compare_strategies
from tuneworth.spec import Spec
from tuneworth.verdict import ArmInfo, Verdict, decide


class Progress(Protocol):
    """Told of every finished arm-fold, and of every inner-CV score a search computes."""

    def fold_done(self, done: int, total: int, result: FoldResult) -> None: ...

    def inner_scored(self) -> None: ...


@dataclass(frozen=True)
class Plan:
    """Everything needed to run, checked: the data, the arms and the shared splits."""

    spec: Spec
    dataset: Dataset
    metric: Metric
    arms: list[Arm]
    pipelines: dict[str, Any]
    splits: list[Split]
    inject: Inject | None = None


@dataclass(frozen=True)
class ExperimentResult:
    plan: Plan
    results: pd.DataFrame
    verdict: Verdict
    study_run_id: str
    report_dir: Path | None = None
    resumed_arms: tuple[str, ...] = ()


def plan_experiment(spec: Spec) -> Plan:
    """Load the data and build arms and splits; raises :class:`TuneworthError` on bad input."""
    dataset = load_dataset(
        spec.dataset.source, spec.dataset.target, spec.dataset.task, spec.dataset.drop
    )
    metric = resolve_metric(spec.metric, dataset.task)
    defects = spec.dataset.defects
    inject = None
    if defects.any():
        X = distort(dataset.X, defects, spec.seed)
        notes = tuple(f"injected defect: {d}" for d in defects.describe())
        dataset = replace(dataset, X=X, schema=infer_schema(X), notes=dataset.notes + notes)
        inject = partial(corrupt, defects=defects, seed=spec.seed)
    _check_folds(dataset.y, dataset.task, spec.cv.folds, "cv.folds")
    if "tuning" in spec.families():
        _check_inner_folds(dataset.y, dataset.task, spec.cv.folds, spec.cv.inner_folds)
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
    return Plan(spec, dataset, metric, arms, pipelines, splits, inject)


def _check_folds(y: pd.Series, task: str, folds: int, key: str) -> None:
    if task == "regression":
        if len(y) < 2 * folds:
            raise TuneworthError(f"{len(y)} rows are too few for {folds} folds: lower {key}")
        return
    counts = y.value_counts()
    smallest, label = int(counts.min()), shown(counts.idxmin())
    if smallest < 2:
        raise TuneworthError(
            f"class {label} has a single row: every class needs at least 2 (one per fold); "
            "add rows of that class or drop it"
        )
    if smallest < folds:
        raise TuneworthError(
            f"class {label} has {smallest} rows, fewer than the {folds} folds: lower {key} "
            f"to {smallest} or add rows of that class"
        )


def _check_inner_folds(y: pd.Series, task: str, folds: int, inner_folds: int) -> None:
    """A search splits each outer training fold again: its smallest class must suffice."""
    counts = pd.Series([len(y)]) if task == "regression" else y.value_counts()
    smallest = int(counts.min() * (folds - 1) // folds)
    needed = 2 * inner_folds if task == "regression" else inner_folds
    if smallest < needed:
        what = "rows" if task == "regression" else f"rows of class {shown(counts.idxmin())}"
        raise TuneworthError(
            f"an outer training fold holds about {smallest} {what}, too few for "
            f"{inner_folds} inner folds: lower cv.inner_folds or cv.folds"
        )


def run_experiment(
    spec: Spec,
    *,
    tracking_uri: str | None = None,
    n_jobs: int = -1,
    progress: Progress | None = None,
    report_dir: Path | None = Path("reports"),
    fresh: bool = False,
    plan: Plan | None = None,
    scheduler: str | None = None,
) -> ExperimentResult:
    """Run every arm on every outer fold, track it in MLflow, decide and report.

    An interrupted study of the same spec and data is resumed: its finished arms are read
    back from MLflow, not recomputed (``fresh=True`` starts a new study instead). The report
    goes to ``report_dir/<spec>/<timestamp>/`` (nowhere if ``None``) and, always, to the
    study run's artifacts. With ``scheduler`` (a Dask scheduler address) the arm-fold tasks
    run on that cluster instead of local processes.
    """
    from tuneworth.tracking import Tracker, environment_tags, resolve_tracking_uri

    plan = plan or plan_experiment(spec)
    dataset = plan.dataset
    tracker = Tracker(resolve_tracking_uri(tracking_uri))
    tags = {
        "tuneworth.spec": spec.name,
        "tuneworth.spec_hash": spec.digest(),
        "tuneworth.data_fingerprint": dataset.fingerprint,
    }
    notes = {"tuneworth.notes": "\n".join(dataset.notes)} if dataset.notes else {}
    kept = tracker.start_study(
        spec.name,
        tags={**tags, **environment_tags(), "tuneworth.task": dataset.task, **notes},
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
        resume=not fresh,
    )
    arms = {arm.name: arm for arm in plan.arms}
    kept = {name: found for name, found in kept.items() if name in arms}
    by_arm: dict[str, list[FoldResult]] = defaultdict(list)
    by_arm.update({name: results for name, (_, results) in kept.items()})
    run_ids = {name: run_id for name, (run_id, _) in kept.items()}
    skip = frozenset((name, split.index) for name in kept for split in plan.splits)
    total = len(plan.arms) * len(plan.splits)
    done = len(skip)
    try:
        with ExitStack() as stack:
            ticks = None
            if scheduler is not None:
                stack.enter_context(dask_cluster(scheduler))
            elif progress is not None and any(a.families[-1:] == ("tuning",) for a in plan.arms):
                # A manager queue reaches local workers only; on a cluster, folds alone count.
                ticks = stack.enter_context(inner_progress(progress.inner_scored))
            for result in evaluate(
                plan.pipelines,
                dataset.X,
                dataset.y,
                plan.splits,
                plan.metric,
                n_jobs=n_jobs,
                skip=skip,
                ticks=ticks,
                inject=plan.inject,
            ):
                done += 1
                by_arm[result.arm].append(result)
                if progress is not None:
                    progress.fold_done(done, total, result)
                if len(by_arm[result.arm]) < len(plan.splits):
                    continue
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
        fold_results = [r for arm in plan.arms for r in by_arm[arm.name]]
        results = results_frame(fold_results)
        infos = [ArmInfo(a.name, a.family, a.lever) for a in plan.arms]
        tuning = compare_strategies(plan.arms, by_arm, plan.metric.greater_is_better)
        verdict = decide(results, infos, plan.metric, spec.design, tuning)
        tracker.log_comparisons(run_ids, verdict.summary)
        tracker.log_tuning(run_ids, tuning)
        trials = trials_frame(fold_results)
        context = Context(
            spec_name=spec.name,
            description=spec.description,
            dataset=dataset.source,
            task=dataset.task,
            rows=len(dataset.y),
            features=len(dataset.schema.features),
            folds=spec.cv.folds,
            repeats=spec.cv.repeats,
            inner_folds=spec.cv.inner_folds,
            notes=dataset.notes,
            study_run_id=tracker.study_run_id,
        )
        with tempfile.TemporaryDirectory() as tmp:
            study = Path(tmp, "tables")
            study.mkdir()
            (study / "spec.yaml").write_text(yaml.safe_dump(spec.to_document(), sort_keys=False))
            results.to_csv(study / "results.csv", index=False)
            verdict.summary.to_csv(study / "summary.csv", index=False)
            pd.DataFrame([a.__dict__ for a in infos]).to_csv(study / "arms.csv", index=False)
            if not trials.empty:
                trials.to_csv(study / "trials.csv", index=False)
            if not tuning.empty:
                tuning.to_csv(study / "tuning.csv", index=False)
            saved = new_report_dir(report_dir, spec.name) if report_dir else None
            report = saved or Path(tmp, "report")
            write_report(verdict, context, results, trials, report)
            scores = verdict.summary.set_index("arm")["score_mean"]
            tracker.finish_study(
                {"baseline_score_mean": scores[BASELINE], "best_score_mean": scores[verdict.best]},
                study,
                report,
                (f"{verdict.convention}.", *verdict.sentences),
            )
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
        tracker.abort("KILLED" if interrupted else "FAILED")
        raise
    return ExperimentResult(plan, results, verdict, tracker.study_run_id, saved, tuple(kept))


def new_report_dir(root: Path, spec_name: str) -> Path:
    """``root/<spec>/<time>/``, made anew: a second report in the same second gets ``-2``."""
    base = root / spec_name / time.strftime("%Y%m%d-%H%M%S")
    candidate, suffix = base, 2
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            candidate, suffix = base.with_name(f"{base.name}-{suffix}"), suffix + 1


def trials_frame(results: list[FoldResult]) -> pd.DataFrame:
    """Every search trial of every arm and fold in one table (empty without searches)."""
    tables = [r.trials.assign(arm=r.arm, fold=r.fold) for r in results if r.trials is not None]
    if not tables:
        return pd.DataFrame()
    frame = pd.concat(tables, ignore_index=True)
    return frame[["arm", "fold", *[c for c in frame.columns if c not in ("arm", "fold")]]]


def report_from_store(
    experiment: str,
    *,
    tracking_uri: str | None = None,
    run_id: str | None = None,
    report_dir: Path = Path("reports"),
) -> tuple[Verdict, Path]:
    """Rebuild the verdict and report of a finished study from the MLflow store alone."""
    from tuneworth.tracking import load_study, resolve_tracking_uri

    stored = load_study(resolve_tracking_uri(tracking_uri), experiment, run_id)
    p = stored.params
    infos = [ArmInfo(str(r.name), str(r.family), str(r.lever)) for r in stored.arms.itertuples()]
    metric = resolve_metric(p["metric"], p["task"])  # type: ignore[arg-type]
    verdict = decide(stored.results, infos, metric, p["design"], stored.tuning)
    notes = stored.tags.get("tuneworth.notes", "")
    context = Context(
        spec_name=str(stored.spec.get("name", experiment)),
        description=str(stored.spec.get("description", "")),
        dataset=p["dataset"],
        task=p["task"],
        rows=int(p["rows"]),
        features=int(p["features"]),
        folds=int(p["folds"]),
        repeats=int(p["repeats"]),
        inner_folds=int(p["inner_folds"]),
        notes=tuple(notes.splitlines()),
        study_run_id=stored.run_id,
    )
    directory = new_report_dir(report_dir, context.spec_name)
    trials = stored.trials if not stored.trials.empty else None
    write_report(verdict, context, stored.results, trials, directory)
    return verdict, directory
