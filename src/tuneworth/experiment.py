"""One experiment from spec to summary: the glue between the pure core and the sinks.

Everything that can reject the input (spec, data, metric, splits) runs before the first
write to MLflow, so bad input leaves the store untouched.
"""

from __future__ import annotations

import errno
import math
import os
import re
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
import yaml

from tuneworth.budget import TimeBudget
from tuneworth.data import Dataset, infer_schema, load_dataset, shown
from tuneworth.defects import corrupt, distort
from tuneworth.design import (
    BASELINE,
    Arm,
    build_arms,
    build_pipeline,
    preprocessor_for,
    resolve_encoding,
)
from tuneworth.diagnose import Finding, findings_frame
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
from tuneworth.report import Context, diagnosis_markdown, verdict_markdown, write_report
from tuneworth.search import name_studies
from tuneworth.spec import Spec
from tuneworth.strategies import compare_strategies
from tuneworth.verdict import ArmInfo, Verdict, decide

if TYPE_CHECKING:
    from tuneworth.tracking import Tracker


class Progress(Protocol):
    """Told of the arm-folds to run, in the order they start, then of every finished
    arm-fold and, if ``inner``, of every inner-CV score a search computes (counting them
    takes a manager process beside the run)."""

    inner: bool

    def begin(self, pending: Sequence[str], total: int) -> None: ...

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
        spec.dataset.source,
        spec.dataset.target,
        spec.dataset.task,
        spec.dataset.drop,
        roles=spec.dataset.roles,
        min_class_rows=spec.dataset.min_class_rows,
    )
    metric = resolve_metric(spec.metric, dataset.task)
    check_model_parameters(spec, dataset.task)
    defects = spec.dataset.defects
    inject = None
    if defects.any():
        X = distort(dataset.X, defects, spec.seed)
        notes = tuple(f"injected defect: {d}" for d in defects.describe())
        dataset = replace(
            dataset, X=X, schema=infer_schema(X, spec.dataset.roles), notes=dataset.notes + notes
        )
        inject = partial(corrupt, defects=defects, seed=spec.seed)
    tuned = "tuning" in spec.families()
    check_folds(dataset.y, dataset.task, spec.cv.folds, spec.cv.inner_folds if tuned else None)
    ctx = BuildContext(
        schema=dataset.schema,
        task=dataset.task,
        metric=metric,
        seed=spec.seed,
        inner_folds=spec.cv.inner_folds,
        trials=spec.budget.trials,
        experiment=spec.name,
    )
    splits = make_splits(dataset.y, dataset.task, spec.cv.folds, spec.cv.repeats, spec.seed)
    labels, adjusted = adjustments(spec, dataset, splits)
    if adjusted:
        dataset = replace(dataset, notes=dataset.notes + tuple(adjusted))
    arms = [arm.relabelled(labels) for arm in build_arms(spec)]
    # Optuna studies are named <experiment>/<arm>/r<repeat>-f<fold>, here and in a worker.
    pipelines = {
        arm.name: name_studies(build_pipeline(arm, spec.baseline, ctx), f"{spec.name}/{arm.name}")
        for arm in arms
    }
    return Plan(spec, dataset, metric, arms, pipelines, splits, inject)


def adjustments(
    spec: Spec, dataset: Dataset, splits: list[Split]
) -> tuple[dict[str, str], list[str]]:
    """Levers the data will make act otherwise than the spec says: a label for each that
    says what runs, and a note for the user.

    SMOTE lowers ``k_neighbors`` for a class with too few rows in a training fold (and
    duplicates a class of one row); a feature selection keeps every feature when ``k`` is
    at least their number after encoding.
    """
    from tuneworth.levers import FeatureSelection, SmoteOversampling

    labels: dict[str, str] = {}
    notes: list[str] = []
    smote = [lv for lv in spec.levers if isinstance(lv, SmoteOversampling)]
    if smote and dataset.task != "regression":
        # The classes SMOTE grows are all but the largest, in every training fold.
        counts = [dataset.y.iloc[split.train].value_counts() for split in splits]
        grown = [(int(c.min()), c.idxmin()) for c in counts if len(c) > 1]
        rows, label = min(grown, key=lambda item: item[0]) if grown else (0, None)
        for lever in smote:
            if grown and rows - 1 < lever.k_neighbors:
                k = rows - 1
                used = f"k lowered to {k}" if k else "class duplicated"
                labels[lever.describe()] = f"{lever.describe()} ({used})"
                what = f"lowered to {k}" if k else "not usable: its rows are duplicated instead"
                notes.append(
                    f"SMOTE: k_neighbors {lever.k_neighbors} {what} in some training folds, "
                    f"where class {shown(label)} has only {rows} rows; set "
                    f"smote.k_neighbors to at most {max(k, 1)} to silence this"
                )
    selections = [
        lv for lv in spec.levers if isinstance(lv, FeatureSelection) and lv.method == "mutual_info"
    ]
    if selections:
        available = encoded_features(spec, dataset)
        for selection in selections:
            if selection.k >= available:
                labels[selection.describe()] = f"{selection.describe()} (all {available})"
                notes.append(
                    f"feature_selection: k = {selection.k} is not below the {available} features "
                    "after encoding, so it keeps them all; lower k to select"
                )
    return labels, notes


def encoded_features(spec: Spec, dataset: Dataset) -> int:
    """How many columns the baseline's preprocessing makes of the data (one-hot encoding
    turns one column into several): the features a selection chooses among."""
    # Encoded as a selecting arm encodes (a booster's native categories become one-hot).
    selecting = spec.baseline.preprocess.model_copy(update={"select": "mutual_info"})
    settings = resolve_encoding(selecting, spec.baseline.model).model_copy(
        update={"select": "none"}
    )
    preprocessor = preprocessor_for(settings, spec.baseline.model, dataset.schema, spec.seed)
    return int(preprocessor.fit_transform(dataset.X, dataset.y).shape[1])


def check_model_parameters(spec: Spec, task: str) -> None:
    """Check every model's parameters against the estimator's own constraints, so that a
    spec with ``C: -1`` or ``n_estimators: ten`` stops before any work, naming the key."""
    from tuneworth.levers import ModelLever
    from tuneworth.models import get_model

    models = [("baseline.params", spec.baseline.model, spec.baseline.params)]
    models += [
        (f"levers.{index}.model.params", lever.model, lever.params)
        for index, lever in enumerate(spec.levers)
        if isinstance(lever, ModelLever)
    ]
    for where, name, params in models:
        if not params:
            continue
        try:
            estimator = get_model(name).make(task, spec.seed, params)  # type: ignore[arg-type]
        except TuneworthError as exc:
            raise TuneworthError(f"{where}: {exc}") from None
        problem = _invalid_parameter(estimator)
        if problem is not None:
            key, message = problem
            raise TuneworthError(f"{where}.{key}: {message}")


def _invalid_parameter(estimator: Any) -> tuple[str, str] | None:
    """The first parameter of ``estimator`` (or of an estimator inside it) that breaks the
    ``_parameter_constraints`` it declares, as ``(name, message)``.

    scikit-learn validates these at the start of ``fit``; calling the same validation here
    moves the error from every fold to the spec check. Nested estimators (a calibrated
    SVM's, an ensemble's members) are checked too, so the name is the user's key.
    """
    from sklearn.base import BaseEstimator

    pending = [estimator]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseEstimator):
            continue
        try:
            current._validate_params()
        except (ValueError, TypeError) as exc:
            message = str(exc).strip().splitlines()[0]
            found = re.search(r"The '([^']+)' parameter", message)
            return (found.group(1) if found else "?"), message
        for value in current.get_params(deep=False).values():
            if isinstance(value, BaseEstimator):
                pending.append(value)
            elif isinstance(value, list):
                pending += [item[-1] for item in value if isinstance(item, tuple)]
    return None


def check_run_settings(
    spec: Spec,
    *,
    n_jobs: int,
    report_dir: Path | None,
    scheduler: str | None,
    tracking_uri: str,
) -> None:
    """What the command line asks of this machine, checked before the study run exists:
    the number of workers, Dask for a scheduler, a report directory that can be written,
    and artifact paths the file system accepts."""
    from tuneworth.tracking import artifact_root

    if n_jobs == 0:
        raise TuneworthError(
            "--jobs 0 would run nothing: give the number of workers, or -1 for all cores"
        )
    if scheduler is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise TuneworthError(
                "--scheduler needs dask.distributed, which is not installed: "
                "pip install 'tuneworth[cluster]', or drop --scheduler to run here"
            ) from None
    if report_dir is not None:
        _check_writable(report_dir, "--report-dir")
        _check_path_length(report_dir.resolve() / spec.name / "20260101-000000-99", "--report-dir")
    root = artifact_root(tracking_uri)
    if root is not None:
        # <root>/<experiment>/<run id>/artifacts/report/<file>: the deepest artifact path.
        deepest = Path(root.removeprefix("file://"), spec.name, "0" * 32, "artifacts", "report")
        _check_path_length(deepest / ("x" * 40), "--tracking-uri")


def _check_writable(directory: Path, option: str) -> None:
    from tuneworth.files import probe_directory

    try:
        blocking = probe_directory(directory)
    except OSError as exc:
        reason = "no space left" if exc.errno == errno.ENOSPC else exc.strerror
        raise TuneworthError(
            f"cannot write reports under '{directory}' ({reason}): pass {option} with a "
            "writable directory"
        ) from None
    if blocking is not None:
        raise TuneworthError(
            f"cannot write reports under '{directory}': '{blocking}' is a file, not a "
            f"directory; pass {option} with another path"
        )


def _check_path_length(path: Path, option: str) -> None:
    limit = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 260
    name_limit = os.pathconf("/", "PC_NAME_MAX") if hasattr(os, "pathconf") else 255
    longest = max(len(part.encode()) for part in path.parts)
    if len(str(path).encode()) >= limit or longest > name_limit:
        raise TuneworthError(
            f"paths under '{path.parents[3]}' would be too long for the file system: pass "
            f"{option} with a shorter path, or shorten the spec's name"
        )


def check_folds(y: pd.Series, task: str, folds: int, inner_folds: int | None = None) -> None:
    """Refuse fold counts the data cannot fill, with advice that is checked to work.

    The outer (stratified) folds need every class to have a row in each test fold; a search
    (``inner_folds`` given) splits each outer training fold again, so its smallest class
    must fill the inner folds too. Every fix the error offers (fewer outer folds, fewer
    inner folds, both, or ``dataset.min_class_rows`` to drop the rare classes) passes both
    checks when applied, so following the advice leads to a run, not to the next error.
    """
    counts = pd.Series([len(y)]) if task == "regression" else y.value_counts()
    smallest, label = int(counts.min()), counts.idxmin()
    what = "rows" if task == "regression" else f"rows of class {shown(label)}"
    if not _fits(task, smallest, folds, None):
        problem = (
            f"{smallest} rows are too few for {folds} folds"
            if task == "regression"
            else f"class {shown(label)} has {_rows(smallest)}, fewer than the {folds} folds"
        )
    elif inner_folds is not None and not _fits(task, smallest, folds, inner_folds):
        problem = (
            f"an outer training fold holds about {smallest * (folds - 1) // folds} {what}, "
            f"too few for {inner_folds} inner folds"
        )
    else:
        return
    advice = _fold_advice(task, smallest, folds, inner_folds)
    if task != "regression":
        advice += _drop_advice(counts, folds, inner_folds)
    if not advice:
        advice = ["add rows" if task == "regression" else f"add rows of class {shown(label)}"]
    raise TuneworthError(f"{problem}: {', or '.join(advice)}")


def _rows(n: int) -> str:
    return "a single row" if n == 1 else f"{n} rows"


def _fits(task: str, smallest: int, folds: int, inner_folds: int | None) -> bool:
    """Whether a class (all the rows, for regression) of ``smallest`` rows fills the folds."""
    per_fold = 2 if task == "regression" else 1  # a regression fold needs 2 rows to score
    if smallest < per_fold * folds:
        return False
    train = smallest * (folds - 1) // folds  # the fewest an outer training fold holds
    return inner_folds is None or train >= per_fold * inner_folds


def _fold_advice(task: str, smallest: int, folds: int, inner_folds: int | None) -> list[str]:
    """Fewer outer folds, else fewer inner folds, else both: the largest counts that fit."""
    for outer in range(folds - 1, 1, -1):
        if _fits(task, smallest, outer, inner_folds):
            return [f"lower cv.folds to {outer}"]
    if inner_folds is None:
        return []
    for inner in range(inner_folds - 1, 1, -1):
        if _fits(task, smallest, folds, inner):
            return [f"lower cv.inner_folds to {inner}"]
    for outer in range(folds - 1, 1, -1):
        for inner in range(inner_folds - 1, 1, -1):
            if _fits(task, smallest, outer, inner):
                return [f"lower cv.folds to {outer} and cv.inner_folds to {inner}"]
    return []


def _drop_advice(counts: pd.Series, folds: int, inner_folds: int | None) -> list[str]:
    """``dataset.min_class_rows`` at the smallest class size that fills these folds, when
    at least two classes would stay."""
    needed = next(n for n in range(2, 10**9) if _fits("classification", n, folds, inner_folds))
    small = counts[counts < needed]
    if (counts >= needed).sum() < 2:
        return []
    listed = ", ".join(f"{shown(c)} ({_rows(int(n))})" for c, n in small.items())
    return [f"set dataset.min_class_rows: {needed} to drop the classes with fewer: {listed}"]


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
    register: str | None = None,
    budget: TimeBudget | None = None,
    findings: Sequence[Finding] = (),
) -> ExperimentResult:
    """Run every arm on every outer fold, track it in MLflow, decide and report.

    An interrupted study of the same spec and data is resumed: its finished arms are read
    back from MLflow, not recomputed (``fresh=True`` starts a new study instead). The report
    goes to ``report_dir/<spec>/<timestamp>/`` (nowhere if ``None``) and, always, to the
    study run's artifacts. With ``scheduler`` (a Dask scheduler address) the arm-fold tasks
    run on that cluster instead of local processes.

    The pipeline of the arm the verdict recommends (the cheapest as good as the best; the
    baseline when no arm beat it beyond the noise), fitted on every row
    (:func:`refit_arm`), is logged on the study run as the MLflow model ``model``;
    ``register`` names the registered model it becomes a version of.

    With a ``budget``, the arm-folds still running at its deadline are stopped: the arms
    that finished every fold are compared, and the verdict names those cut. ``findings``,
    the table's diagnosis, go into the report and onto the study run.
    """
    from tuneworth.tracking import Tracker, environment_tags, resolve_tracking_uri, run_url

    started = time.time()
    uri = resolve_tracking_uri(tracking_uri)
    check_run_settings(
        spec, n_jobs=n_jobs, report_dir=report_dir, scheduler=scheduler, tracking_uri=uri
    )
    plan = plan or plan_experiment(spec)
    dataset = plan.dataset
    # The cluster is reached before the study run exists: a wrong address writes nothing.
    cluster = ExitStack()
    if scheduler is not None:
        cluster.enter_context(dask_cluster(scheduler))
    try:
        tracker = Tracker(uri)
        kept = _start(tracker, spec, plan, fresh, findings)
    except BaseException:
        cluster.close()
        raise
    tags = _tags(spec, plan)
    arms = {arm.name: arm for arm in plan.arms}
    kept = {name: found for name, found in kept.items() if name in arms}
    by_arm: dict[str, list[FoldResult]] = defaultdict(list)
    by_arm.update({name: results for name, (_, results) in kept.items()})
    run_ids = {name: run_id for name, (run_id, _) in kept.items()}
    skip = frozenset((name, split.index) for name in kept for split in plan.splits)
    total = len(plan.arms) * len(plan.splits)
    done = len(skip)
    # evaluate starts the arm-folds in this order: arm by arm, fold by fold.
    pending = [
        arm.name
        for arm in plan.arms
        for split in plan.splits
        if (arm.name, split.index) not in skip
    ]
    if progress is not None:
        progress.begin(pending, total)
    arm_runs = _ArmRuns(tracker, spec, plan, tags, run_ids)
    try:
        with ExitStack() as stack:
            ticks = None
            tuned = any(a.families[-1:] == ("tuning",) for a in plan.arms)
            if scheduler is None and progress is not None and progress.inner and tuned:
                # A manager queue reaches local workers only; on a cluster, folds alone count.
                ticks = stack.enter_context(inner_progress(progress.inner_scored))
            # A fold starts when a worker is free: the first ``workers`` at once, then one
            # as each finishes. Its arm's run opens then, RUNNING until its last fold.
            workers = _workers(n_jobs)
            arm_runs.open(pending[:workers])
            for count, result in enumerate(
                evaluate(
                    plan.pipelines,
                    dataset.X,
                    dataset.y,
                    plan.splits,
                    plan.metric,
                    n_jobs=n_jobs,
                    skip=skip,
                    ticks=ticks,
                    inject=plan.inject,
                    deadline=budget.deadline if budget is not None and scheduler is None else None,
                ),
                start=1,
            ):
                done += 1
                by_arm[result.arm].append(result)
                arm_runs.fold_done(result, by_arm[result.arm])
                arm_runs.open(pending[: count + workers])
                if progress is not None:
                    progress.fold_done(done, total, result)
        # Paired comparisons need every fold: an arm the budget stopped short is cut.
        finished = [a for a in plan.arms if len(by_arm[a.name]) == len(plan.splits)]
        cut = tuple(a.name for a in plan.arms if a not in finished)
        if cut:
            _check_cut(cut, budget)
        left_out = budget.left_out if budget is not None else ()
        if budget is not None and (left_out or cut):
            tracker.end_cut_arms((*left_out, *cut), budget.cut_by)
        fold_results = [r for arm in finished for r in by_arm[arm.name]]
        results = results_frame(fold_results)
        infos = [ArmInfo(a.name, a.family, a.lever) for a in finished]
        tuning = compare_strategies(finished, by_arm, plan.metric.greater_is_better)
        design = spec.design
        if design == "factorial" and cut:
            design = "one_at_a_time"  # Shapley shares need every arm
        verdict = decide(
            results,
            infos,
            plan.metric,
            design,
            tuning,
            cut=(*left_out, *cut),
            cut_by=budget.cut_by if budget is not None else "",
        )
        tracker.log_comparisons(run_ids, verdict.summary)
        tracker.log_tuning(run_ids, tuning)
        trials = trials_frame(fold_results)
        chosen = verdict.cheapest or verdict.best
        _log_model(tracker, plan, chosen, register, budget, by_arm[chosen])
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
            findings=tuple(findings),
            study_run_id=tracker.study_run_id,
            run_url=run_url(uri, tracker.experiment_id, tracker.study_run_id),
            started=_utc(started),
            wall_seconds=time.time() - started,
            seed=spec.seed,
            spec=yaml.safe_dump(spec.to_document(), sort_keys=False),
            **_made_with(environment_tags()),
        )
        with tempfile.TemporaryDirectory() as tmp:
            study = Path(tmp, "tables")
            study.mkdir()
            (study / "spec.yaml").write_text(context.spec)
            results.to_csv(study / "results.csv", index=False)
            verdict.summary.to_csv(study / "summary.csv", index=False)
            pd.DataFrame([a.__dict__ for a in infos]).to_csv(study / "arms.csv", index=False)
            if not trials.empty:
                trials.to_csv(study / "trials.csv", index=False)
            if not tuning.empty:
                tuning.to_csv(study / "tuning.csv", index=False)
            if findings:
                findings_frame(findings).to_csv(study / "diagnosis.csv", index=False)
            saved = new_report_dir(report_dir, spec.name) if report_dir else None
            report = saved or Path(tmp, "report")
            write_report(verdict, context, results, trials, report)
            scores = verdict.summary.set_index("arm")["score_mean"]
            tracker.finish_study(
                {
                    f"baseline_{plan.metric.name}_mean": scores[BASELINE],
                    f"best_{plan.metric.name}_mean": scores[verdict.best],
                },
                study,
                report,
                (f"{verdict.convention}.", *verdict.sentences),
                description="\n\n".join(
                    part
                    for part in (verdict_markdown(verdict), diagnosis_markdown(findings))
                    if part
                ),
            )
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
        problem = tracker.abort("KILLED" if interrupted else "FAILED", exc)
        if problem is not None:
            exc.add_note(problem)
        raise
    finally:
        cluster.close()
    return ExperimentResult(plan, results, verdict, tracker.study_run_id, saved, tuple(kept))


def _log_model(
    tracker: Tracker,
    plan: Plan,
    arm: str,
    register: str | None,
    budget: TimeBudget | None = None,
    folds: Sequence[FoldResult] = (),
) -> None:
    """Refit ``arm`` on every row and log it on the study run, with the refit's seconds.

    A refit that fails leaves a tag saying why on the study run, not a failed study: the
    verdict stands without a model. So does a refit that would end past a time ``budget``:
    its cost is estimated from the arm's folds (``folds``), on all rows instead of a
    training fold's.
    """
    if budget is not None and folds:
        training_share = 1 - 1 / plan.spec.cv.folds
        estimate = sum(r.fit_seconds for r in folds) / len(folds) / training_share
        if time.time() + estimate > budget.ends:
            tracker.note(
                tags={
                    "tuneworth.model_not_logged": f"refitting {arm} on every row would take "
                    f"about {estimate:.0f} s, past {budget.cut_by}: run with a longer budget "
                    "to get the model"
                }
            )
            return
    try:
        model, seconds, cpu_seconds = refit_arm(plan, arm)
    except Exception as exc:
        first = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        tracker.note(tags={"tuneworth.model_not_logged": f"refitting {arm} failed: {first}"})
        return
    tracker.note(
        metrics={"refit_seconds": seconds, "refit_cpu_seconds": cpu_seconds},
        tags={"tuneworth.model_arm": arm},
    )
    tracker.log_model(
        model,
        plan.dataset.X.head(5),
        tags={"tuneworth.arm": arm, "tuneworth.spec": plan.spec.name},
        register=register,
    )


def _workers(n_jobs: int) -> int:
    """How many arm-folds run at once with ``n_jobs`` (``-1``: every core)."""
    from joblib import effective_n_jobs

    return max(1, int(effective_n_jobs(n_jobs)))


class _ArmRuns:
    """The arm runs of one invocation: opened when an arm's first fold starts, given each
    fold as it finishes, closed after its last. ``run_ids`` (arm name -> run ID) already
    holds the arms a resumed study had finished, and gains the others."""

    def __init__(
        self,
        tracker: Tracker,
        spec: Spec,
        plan: Plan,
        tags: Mapping[str, str],
        run_ids: dict[str, str],
    ) -> None:
        self.tracker, self.spec, self.plan, self.tags = tracker, spec, plan, tags
        self.run_ids = run_ids
        self.arms = {arm.name: arm for arm in plan.arms}
        self.storages = {
            arm.name: storage
            for arm in plan.arms
            for lever in arm.levers
            if (storage := getattr(lever, "storage", None)) is not None
        }

    def _tags(self, arm: Arm) -> dict[str, str]:
        return {
            **self.tags,
            "tuneworth.arm": arm.name,
            "tuneworth.family": arm.family,
            "tuneworth.lever": arm.lever,
        }

    def open(self, names: Sequence[str]) -> None:
        """Open the run of every arm in ``names`` that has none yet."""
        from tuneworth.space import searched_space

        for name in dict.fromkeys(names):
            if name in self.run_ids:
                continue
            arm = self.arms[name]
            self.run_ids[name] = self.tracker.start_arm(
                name,
                self._tags(arm),
                arm.config(self.spec.baseline, self.spec.budget.trials),
                space=searched_space(self.plan.pipelines[name]),
                description=arm_description(arm, self.plan.metric, len(self.plan.splits)),
            )

    def fold_done(self, result: FoldResult, done: Sequence[FoldResult]) -> None:
        """Log ``result`` on its arm run, with the arm's folds ``done`` so far (``result``
        among them); close the run when they are all its folds."""
        from tuneworth.studies import tag_study

        self.open([result.arm])
        run_id = self.run_ids[result.arm]
        self.tracker.log_fold(run_id, result, self.plan.metric.name, done)
        storage = self.storages.get(result.arm)
        if storage is not None and result.study:
            # optuna-dashboard shows these on the study: the MLflow run of its results.
            tag_study(
                storage,
                result.study,
                {
                    "mlflow_run_id": run_id,
                    "mlflow_study_run_id": self.tracker.study_run_id,
                    "mlflow_experiment_id": self.tracker.experiment_id,
                    "mlflow_tracking_uri": self.tracker.uri,
                },
            )
        if len(done) == len(self.plan.splits):
            self.tracker.finish_arm(
                run_id,
                result.arm,
                self._tags(self.arms[result.arm]),
                done,
                greater_is_better=self.plan.metric.greater_is_better,
                trial_runs=self.spec.tracking.trial_runs,
                metric=self.plan.metric.name,
            )


def arm_description(arm: Arm, metric: Metric, folds: int) -> str:
    """An arm run's description in MLflow's UI: what it runs and how to read its metrics."""
    m = metric.name
    lines = [
        f"**{arm.lever}** ({arm.family}), on the {folds} outer folds every arm shares.",
        "",
        f"- `{m}_mean`, `{m}_std` (and `fold_{m}`, step = fold): {metric.label} on the outer "
        f"test folds; {metric.direction}.",
        f"- `gain`, `gain_ci_low`, `gain_ci_high`: {metric.label} over the baseline's, signed "
        "so that **positive is better**"
        + (" (a lower loss)" if not metric.greater_is_better else "")
        + "; `p_holm`: its p-value, Holm-adjusted across arms.",
        "- `fit_cpu_seconds`, `cost_ratio`: the arm's fit cost, and its ratio to the baseline's.",
    ]
    if "tuning" in arm.families:
        lines.append(
            f"- `fold_inner_best_{m}` (step = fold): the best inner-CV score of the search; "
            f"`best_so_far_inner_{m}` (step = configurations): its mean over folds. "
            "`space.*` params and `space.json`: the searched space; `chosen.csv`: the "
            "configuration each fold chose."
        )
    return "\n".join(lines)


def refit_arm(plan: Plan, arm: str) -> tuple[Any, float, float]:
    """The pipeline of ``arm`` fitted on every row, with its wall and CPU seconds.

    A tuning arm runs its search on every row and keeps the configuration it chooses,
    refitted on every row: the procedure the outer folds measured, so the verdict's
    estimate is about this model. An Optuna study of that search is named
    ``<experiment>/<arm>/all-rows``.
    """
    from sklearn.base import clone

    estimator = clone(plan.pipelines[arm])
    if "study_name" in estimator.get_params(deep=False):
        estimator.set_params(study_name=f"{estimator.study_name}/all-rows")
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        # The folds recorded what this data makes the model warn about.
        warnings.simplefilter("ignore")
        estimator.fit(plan.dataset.X, plan.dataset.y)
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    return getattr(estimator, "best_estimator_", estimator), seconds, cpu_seconds


def _check_cut(cut: Sequence[str], budget: TimeBudget | None) -> None:
    """Arms are cut only by a time budget, and a verdict needs the baseline."""
    if budget is None:
        raise RuntimeError(f"arms without every fold and no time budget: {', '.join(cut)}")
    if BASELINE in cut:
        raise TuneworthError(
            f"{budget.cut_by} ran out before the baseline finished its folds: give a longer "
            "--time-budget"
        )


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _made_with(tags: Mapping[str, str]) -> dict[str, Any]:
    """Package versions and commit, for a :class:`Context`, from the study run's tags."""
    prefix = "tuneworth.version."
    return {
        "versions": {k.removeprefix(prefix): v for k, v in tags.items() if k.startswith(prefix)},
        "commit": tags.get("mlflow.source.git.commit", ""),
    }


def _tags(spec: Spec, plan: Plan) -> dict[str, str]:
    """Tags on the study run and every arm run: which spec and which data."""
    return {
        "tuneworth.spec": spec.name,
        "tuneworth.spec_hash": spec.digest(),
        "tuneworth.data_fingerprint": plan.dataset.fingerprint,
    }


def _start(
    tracker: Tracker, spec: Spec, plan: Plan, fresh: bool, findings: Sequence[Finding] = ()
) -> dict[str, tuple[str, list[FoldResult]]]:
    """Open (or resume) the study run with the spec's tags and parameters."""
    from tuneworth.tracking import environment_tags

    dataset = plan.dataset
    tags = _tags(spec, plan)
    notes = {"tuneworth.notes": "\n".join(dataset.notes)} if dataset.notes else {}
    found = [f"{f.name} ({f.severity}): {f.summary}" for f in findings if f.severity != "ok"]
    if findings:
        notes["tuneworth.diagnosis"] = "\n".join(found) or "nothing found"
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
        description=spec.description,
    )
    target = dataset.y.name if dataset.y.name is not None else spec.dataset.target
    tracker.log_dataset(
        dataset.X.assign(**{str(target): dataset.y}), dataset.source, str(target), spec.name
    )
    return kept


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
    cut = tuple(stored.tags.get("tuneworth.cut", "").splitlines())
    design = "one_at_a_time" if cut and p["design"] == "factorial" else p["design"]
    verdict = decide(
        stored.results,
        infos,
        metric,
        design,
        stored.tuning,
        cut=cut,
        cut_by=stored.tags.get("tuneworth.cut_by", ""),
    )
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
        started=_utc(stored.start_ms / 1000) if stored.start_ms else "",
        wall_seconds=(stored.end_ms - stored.start_ms) / 1000 if stored.end_ms else math.nan,
        seed=int(p["seed"]) if "seed" in p else None,
        spec=yaml.safe_dump(stored.spec, sort_keys=False),
        **_made_with(stored.tags),
    )
    directory = new_report_dir(report_dir, context.spec_name)
    trials = stored.trials if not stored.trials.empty else None
    write_report(verdict, context, stored.results, trials, directory)
    return verdict, directory
