"""One experiment from spec to summary: a thin orchestrator over the core.

A spec's data is loaded and its defects injected (:func:`plan_experiment`), the plan runs
through the same core as :func:`tuneworth.compare` (:func:`tuneworth.comparison.run_plan`),
and the sinks sit at the edges: MLflow tracking (:class:`tuneworth.study_log.StudyLog`,
fed the core's events) and the report files. Everything that can reject the input (spec,
data, metric, splits) runs before the first write to MLflow, so bad input leaves the store
untouched.
"""

from __future__ import annotations

import errno
import math
import os
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import yaml

from tuneworth.budget import TimeBudget
from tuneworth.comparison import Comparison, Progress, made_with, run_plan, utc
from tuneworth.data import infer_schema, load_dataset
from tuneworth.defects import corrupt, distort
from tuneworth.diagnose import Finding
from tuneworth.errors import TuneworthError
from tuneworth.evaluate import dask_cluster, inner_progress
from tuneworth.metrics import resolve_metric
from tuneworth.planning import Plan, build_plan
from tuneworth.report import Context, write_report
from tuneworth.spec import Spec
from tuneworth.study_log import new_report_dir
from tuneworth.verdict import ArmInfo, Verdict, decide

if TYPE_CHECKING:
    from tuneworth.tracking import Tracker
    from tuneworth.tracking_process import RemoteTracker


@dataclass(frozen=True)
class ExperimentResult:
    """A tracked run: its comparison, and where MLflow and the report have it."""

    comparison: Comparison
    study_run_id: str
    report_dir: Path | None = None
    resumed_arms: tuple[str, ...] = ()

    @property
    def plan(self) -> Plan:
        return self.comparison.plan

    @property
    def results(self) -> pd.DataFrame:
        return self.comparison.results

    @property
    def verdict(self) -> Verdict:
        return self.comparison.verdict


def plan_experiment(spec: Spec) -> Plan:
    """Load the spec's data, inject its defects and plan the arms and splits; raises
    :class:`TuneworthError` on bad input."""
    dataset = load_dataset(
        spec.dataset.source,
        spec.dataset.target,
        spec.dataset.task,
        spec.dataset.drop,
        roles=spec.dataset.roles,
        min_class_rows=spec.dataset.min_class_rows,
    )
    resolve_metric(spec.metric, dataset.task)  # a wrong metric stops before the defects
    defects = spec.dataset.defects
    if not defects.any():
        return build_plan(spec, dataset)
    X = distort(dataset.X, defects, spec.seed)
    notes = tuple(f"injected defect: {d}" for d in defects.describe())
    dataset = replace(
        dataset, X=X, schema=infer_schema(X, spec.dataset.roles), notes=dataset.notes + notes
    )
    return build_plan(spec, dataset, partial(corrupt, defects=defects, seed=spec.seed))


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
    back from its checkpoint (:mod:`tuneworth.checkpoint`), not recomputed (``fresh=True``
    starts a new study instead). The report goes to ``report_dir/<spec>/<timestamp>/``
    (nowhere if ``None``) and, always, to the study run's artifacts. With ``scheduler`` (a
    Dask scheduler address) the arm-fold tasks run on that cluster instead of local
    processes.

    The pipeline of the arm the verdict recommends (the cheapest as good as the best; the
    baseline when no arm beat it beyond the noise), fitted on every row
    (:func:`tuneworth.comparison.refit_arm`), is logged on the study run as the MLflow model
    ``model``; ``register`` names the registered model it becomes a version of.

    With a ``budget``, the arm-folds still running at its deadline are stopped: the arms
    that finished every fold are compared, and the verdict names those cut. ``findings``,
    the table's diagnosis, go into the report and onto the study run.
    """
    from tuneworth.tracking import resolve_tracking_uri
    from tuneworth.tracking_process import remote_tracker

    started = time.time()
    uri = resolve_tracking_uri(tracking_uri)
    check_run_settings(
        spec, n_jobs=n_jobs, report_dir=report_dir, scheduler=scheduler, tracking_uri=uri
    )
    plan = plan or plan_experiment(spec)
    with ExitStack() as stack:
        # The cluster is reached before the study run exists: a wrong address writes nothing.
        if scheduler is not None:
            stack.enter_context(dask_cluster(scheduler))
        # MLflow in a process of its own: its writes, the model and the report beside the
        # work. A fresh study resumes nothing: the work need not wait for the store to open.
        tracker = stack.enter_context(remote_tracker(uri, wait=not fresh))
        return run_tracked(
            plan,
            tracker,
            n_jobs=n_jobs,
            fresh=fresh,
            findings=findings,
            budget=budget,
            # Workers on a cluster are not killed at a deadline: they finish their folds.
            deadline=budget.deadline if budget is not None and scheduler is None else None,
            progress=progress,
            # A manager queue reaches local workers only; on a cluster, folds alone count.
            inner=scheduler is None,
            report_dir=report_dir,
            register=register,
            started=started,
        )


def run_tracked(
    plan: Plan,
    tracker: Tracker | RemoteTracker,
    *,
    n_jobs: int = 1,
    fresh: bool = False,
    findings: Sequence[Finding] = (),
    budget: TimeBudget | None = None,
    deadline: float | None = None,
    progress: Progress | None = None,
    inner: bool = True,
    report_dir: Path | None = None,
    register: str | None = None,
    started: float | None = None,
) -> ExperimentResult:
    """Run ``plan`` through the core with ``tracker`` writing the study to MLflow: the
    study run opened (or resumed from its checkpoint), an arm run per arm as it goes, and
    the comparisons, tables, report and model when it ends. A failure or an interruption
    ends the study run FAILED or KILLED, keeping what was written. ``inner`` lets
    ``progress`` count inner-CV scores, when it asks to."""
    from tuneworth.checkpoint import finished_arms
    from tuneworth.study_log import StudyLog

    log = StudyLog(tracker, plan)
    resuming = log.open(fresh, findings)
    try:
        names = {arm.name for arm in plan.arms}
        found = tracker.apply(finished_arms) if resuming else {}
        kept = {name: value for name, value in found.items() if name in names}
        log.run_ids.update({name: run_id for name, (run_id, _) in kept.items()})
        log.work_started()
        with ExitStack() as stack:
            ticks = None
            if inner and progress is not None and progress.inner and plan.tuned:
                ticks = stack.enter_context(inner_progress(progress.inner_scored))
            comparison = run_plan(
                plan,
                n_jobs=n_jobs,
                resumed={name: results for name, (_, results) in kept.items()},
                budget=budget,
                deadline=deadline,
                ticks=ticks,
                progress=progress,
                events=log,
                findings=findings,
            )
        saved = log.finish(
            comparison, report_dir=report_dir, register=register, budget=budget, started=started
        )
    except BaseException as exc:
        # What the arms' runs have queued is written first: a finished arm is a checkpoint.
        log.close()
        interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
        problem = tracker.abort("KILLED" if interrupted else "FAILED", exc)
        if problem is not None:
            exc.add_note(problem)
        raise
    return ExperimentResult(comparison, tracker.study_run_id, saved, tuple(kept))


def report_from_store(
    experiment: str,
    *,
    tracking_uri: str | None = None,
    run_id: str | None = None,
    report_dir: Path = Path("reports"),
) -> tuple[Verdict, Path]:
    """Rebuild the verdict and report of a finished study from the MLflow store alone."""
    from tuneworth.tracking import load_marginal, load_study, resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    stored = load_study(uri, experiment, run_id)
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
        started=utc(stored.start_ms / 1000) if stored.start_ms else "",
        wall_seconds=(stored.end_ms - stored.start_ms) / 1000 if stored.end_ms else math.nan,
        seed=int(p["seed"]) if "seed" in p else None,
        spec=yaml.safe_dump(stored.spec, sort_keys=False),
        **made_with(stored.tags),
    )
    marginal = load_marginal(uri, stored.run_id, stored.tags)
    if marginal is not None and marginal.sentence:  # the run's verdict ended with it
        verdict = replace(verdict, sentences=(*verdict.sentences, marginal.sentence))
    directory = new_report_dir(report_dir, context.spec_name)
    trials = stored.trials if not stored.trials.empty else None
    write_report(verdict, context, stored.results, trials, directory, marginal)
    return verdict, directory
