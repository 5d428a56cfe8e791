"""A study in MLflow: the one adapter from the core's records to :class:`Tracker` calls.

The core (:func:`tuneworth.comparison.run_plan`) tells what happens: an arm started, a fold
finished, an arm finished (:class:`tuneworth.comparison.Events`), and returns a
:class:`tuneworth.comparison.Comparison`. :class:`StudyLog` writes each of those as MLflow
runs, metrics, tags and artifacts: the study run (:meth:`StudyLog.open`), one nested run
per arm, opened when its first fold starts and closed after its last, and at the end the
comparisons, the tables, the report and the recommended arm's model
(:meth:`StudyLog.finish`).

The writes never hold up the work: the events only queue them, and one writer thread
writes them to the store in their order, with the times the events happened; at the end,
the report is drawn there too, while the recommended arm is refitted. With a
:class:`tuneworth.tracking_process.RemoteTracker`, the writer thread only waits for a
process of its own that does the writing. A store's failure there surfaces, as raised by
the tracker, at the next event or at :meth:`StudyLog.flush`; the writes queued after it
are dropped.
"""

from __future__ import annotations

import queue
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tuneworth.budget import TimeBudget
from tuneworth.comparison import Comparison, refit_arm, utc
from tuneworth.design import BASELINE, Arm
from tuneworth.diagnose import Finding, findings_frame
from tuneworth.evaluate import FoldResult
from tuneworth.metrics import Metric
from tuneworth.planning import Plan
from tuneworth.provenance import environment_tags
from tuneworth.report import (
    diagnosis_markdown,
    marginal_description,
    verdict_markdown,
    write_report,
)
from tuneworth.tracking import Tracker, run_url
from tuneworth.verdict import ArmInfo

if TYPE_CHECKING:
    from tuneworth.tracking_process import RemoteTracker


class StudyLog:
    """The MLflow record of one run of a plan, written as the run goes.

    ``run_ids`` (arm name -> arm run ID) holds the arms a resumed study had finished (its
    checkpoint) and gains the others as they start.
    """

    def __init__(
        self,
        tracker: Tracker | RemoteTracker,
        plan: Plan,
        run_ids: Mapping[str, str] | None = None,
    ) -> None:
        self.tracker, self.plan = tracker, plan
        self.run_ids = dict(run_ids or {})
        self.storages = {
            arm.name: storage
            for arm in plan.arms
            for lever in arm.levers
            if (storage := getattr(lever, "storage", None)) is not None
        }
        self._writes: queue.SimpleQueue[Callable[[], object] | threading.Event | None] = (
            queue.SimpleQueue()
        )
        self._writer: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._reported = False

    def _write(self, write: Callable[[], object]) -> None:
        """Queue ``write`` for the writer thread, after raising a failure of an earlier one."""
        self._raise_failure()
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._drain, name="tuneworth-study-log", daemon=True
            )
            self._writer.start()
        self._writes.put(write)

    def _drain(self) -> None:
        while (write := self._writes.get()) is not None:
            if isinstance(write, threading.Event):
                write.set()
            elif self._failure is None:  # after a failure, the store gets nothing more
                try:
                    write()
                except BaseException as exc:
                    self._failure = exc

    def _raise_failure(self) -> None:
        if self._failure is not None and not self._reported:
            self._reported = True  # once: the study run then ends as the failure handled says
            raise self._failure

    def flush(self) -> None:
        """Wait until every queued write is in the store; raise the first that failed."""
        if self._writer is not None:
            done = threading.Event()
            self._writes.put(done)
            while not done.wait(0.1):
                if not self._writer.is_alive():
                    break
        self._raise_failure()

    def close(self) -> None:
        """Write what is queued (unless a write failed) and stop the writer thread; raises
        nothing, so that a failure being handled stays the one reported."""
        if self._writer is not None:
            self._writes.put(None)
            self._writer.join()
            self._writer = None

    def tags(self) -> dict[str, str]:
        """Tags on the study run and every arm run: which spec and which data."""
        return {
            "tuneworth.spec": self.plan.spec.name,
            "tuneworth.spec_hash": self.plan.spec.digest(),
            "tuneworth.data_fingerprint": self.plan.dataset.fingerprint,
        }

    def open(self, fresh: bool = False, findings: Sequence[Finding] = ()) -> bool:
        """Open (or, unless ``fresh``, resume) the study run with the spec's tags and
        parameters, and log the data as its input; whether a study was resumed.

        A ``fresh`` study resumes nothing, so the caller need not wait for the store: it
        opens on the writer thread, first of the writes, while the work starts.
        """
        if fresh:
            self._write(lambda: self._open(resume=False, findings=findings))
            return False
        return self._open(resume=True, findings=findings)

    def work_started(self) -> None:
        """The work starts: a tracker in a process of its own may now prepare the end of the
        study while it waits for writes (:func:`tuneworth.tracking_process.warm_up`)."""
        from tuneworth.tracking_process import warm_up

        self._write(lambda: warm_up(self.tracker))

    def _open(self, resume: bool, findings: Sequence[Finding]) -> bool:
        spec, dataset = self.plan.spec, self.plan.dataset
        notes = {"tuneworth.notes": "\n".join(dataset.notes)} if dataset.notes else {}
        found = [f"{f.name} ({f.severity}): {f.summary}" for f in findings if f.severity != "ok"]
        if findings:
            notes["tuneworth.diagnosis"] = "\n".join(found) or "nothing found"
        resumed = self.tracker.start_study(
            spec.name,
            tags={**self.tags(), **environment_tags(), "tuneworth.task": dataset.task, **notes},
            params={
                "dataset": dataset.source,
                "target": spec.dataset.target,
                "task": dataset.task,
                "metric": self.plan.metric.name,
                "design": spec.design,
                "folds": spec.cv.folds,
                "repeats": spec.cv.repeats,
                "inner_folds": spec.cv.inner_folds,
                "trials": spec.budget.trials,
                "seed": spec.seed,
                "rows": len(dataset.y),
                "features": len(dataset.schema.features),
                "arms": len(self.plan.arms),
            },
            resume=resume,
            description=spec.description,
        )
        target = dataset.y.name if dataset.y.name is not None else spec.dataset.target
        self.tracker.log_dataset(
            dataset.X.assign(**{str(target): dataset.y}), dataset.source, str(target), spec.name
        )
        return resumed

    def _arm_tags(self, arm: Arm) -> dict[str, str]:
        return {
            **self.tags(),
            "tuneworth.arm": arm.name,
            "tuneworth.family": arm.family,
            "tuneworth.lever": arm.lever,
        }

    def arm_started(self, arm: Arm) -> None:
        """Open the arm's run: RUNNING, with its configuration and searched space, and
        now as its start."""
        started = time.time()
        self._write(lambda: self._start_arm(arm, started))

    def _start_arm(self, arm: Arm, started: float) -> None:
        from tuneworth.space import searched_space

        if arm.name in self.run_ids:
            return
        spec = self.plan.spec
        self.run_ids[arm.name] = self.tracker.start_arm(
            arm.name,
            self._arm_tags(arm),
            arm.config(spec.baseline, spec.budget.trials),
            space=searched_space(self.plan.pipelines[arm.name]),
            description=arm_description(arm, self.plan.metric, len(self.plan.splits)),
            started=started,
        )

    def fold_finished(self, arm: Arm, result: FoldResult, done: Sequence[FoldResult]) -> None:
        """Log ``result`` on its arm run, with the arm's folds ``done`` so far."""
        self.arm_started(arm)
        done = tuple(done)  # as it is now: the caller's list grows
        self._write(lambda: self._log_fold(arm, result, done))

    def _log_fold(self, arm: Arm, result: FoldResult, done: Sequence[FoldResult]) -> None:
        from tuneworth.studies import tag_study

        run_id = self.run_ids[arm.name]
        self.tracker.log_fold(run_id, result, self.plan.metric.name, done)
        storage = self.storages.get(arm.name)
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

    def arm_finished(self, arm: Arm, results: Sequence[FoldResult]) -> None:
        """Close the arm's run with its summary metrics and tables, and now as its end."""
        results, ended = tuple(results), time.time()
        self._write(
            lambda: self.tracker.finish_arm(
                self.run_ids[arm.name],
                arm.name,
                self._arm_tags(arm),
                results,
                metric=self.plan.metric,
                trial_runs=self.plan.spec.tracking.trial_runs,
                ended=ended,
            )
        )

    def finish(
        self,
        comparison: Comparison,
        *,
        report_dir: Path | None = None,
        register: str | None = None,
        budget: TimeBudget | None = None,
        started: float | None = None,
    ) -> Path | None:
        """The study finished: the arms cut, the comparisons and the marginal-gain curves on
        the arm runs, the model of the recommended arm, the tables and the report on the
        study run, which closes.
        The report also goes to ``report_dir`` when given; returns that directory.
        ``started`` is when the whole study began (:func:`time.time`; by default, when its
        comparison did).

        The writes and the report are queued like the arms' writes, so that they are done
        while the recommended arm is refitted here; this returns once all are done.
        """
        self.flush()
        tracker, verdict, metric = self.tracker, comparison.verdict, self.plan.metric
        if budget is not None and verdict.cut:
            self._write(lambda: tracker.end_cut_arms(verdict.cut, budget.cut_by))
        self._write(lambda: tracker.log_comparisons(self.run_ids, verdict.summary))
        self._write(lambda: tracker.log_tuning(self.run_ids, comparison.tuning))
        if comparison.marginal is not None:
            marginal = comparison.marginal
            self._write(lambda: tracker.log_marginal(self.run_ids, marginal))
        began = comparison.started if started is None else started
        context = comparison.context(
            study_run_id=tracker.study_run_id,
            run_url=run_url(tracker.uri, tracker.experiment_id, tracker.study_run_id),
            started=utc(began),
            wall_seconds=time.time() - began,
        )
        with tempfile.TemporaryDirectory() as tmp:
            tables = Path(tmp, "tables")
            tables.mkdir()
            (tables / "spec.yaml").write_text(context.spec)
            comparison.results.to_csv(tables / "results.csv", index=False)
            verdict.summary.to_csv(tables / "summary.csv", index=False)
            arms = [ArmInfo.of(arm) for arm in self.plan.arms if arm.name in comparison.by_arm]
            pd.DataFrame([vars(arm) for arm in arms]).to_csv(tables / "arms.csv", index=False)
            if not comparison.trials.empty:
                comparison.trials.to_csv(tables / "trials.csv", index=False)
            if not comparison.tuning.empty:
                comparison.tuning.to_csv(tables / "tuning.csv", index=False)
            if comparison.findings:
                findings_frame(comparison.findings).to_csv(tables / "diagnosis.csv", index=False)
            saved = new_report_dir(report_dir, self.plan.spec.name) if report_dir else None
            report = saved or Path(tmp, "report")
            trials = comparison.trials if not comparison.trials.empty else None
            self._write(
                lambda: tracker.apply(
                    _write_report,
                    verdict,
                    context,
                    comparison.results,
                    trials,
                    report,
                    comparison.marginal,
                )
            )
            chosen = comparison.recommended
            self.log_model(chosen, register, budget, comparison.by_arm[chosen])
            scores = verdict.summary.set_index("arm")["score_mean"]
            metrics = {
                f"baseline_{metric.name}_mean": scores[BASELINE],
                f"best_{metric.name}_mean": scores[verdict.best],
            }
            description = "\n\n".join(
                part
                for part in (
                    verdict_markdown(verdict),
                    marginal_description(comparison.marginal),
                    diagnosis_markdown(comparison.findings),
                )
                if part
            )
            sentences = (f"{verdict.convention}.", *verdict.sentences)
            self._write(
                lambda: tracker.finish_study(
                    metrics, tables, report, sentences, description=description
                )
            )
            self.flush()
        self.close()
        return saved

    def log_model(
        self,
        arm: str,
        register: str | None,
        budget: TimeBudget | None = None,
        folds: Sequence[FoldResult] = (),
    ) -> None:
        """Refit ``arm`` on every row, here, and queue its logging on the study run, with
        the refit's seconds.

        A refit that fails leaves a tag saying why on the study run, not a failed study:
        the verdict stands without a model. So does a refit that would end past a time
        ``budget``: its cost is estimated from the arm's folds (``folds``), on all rows
        instead of a training fold's.
        """
        tracker, plan = self.tracker, self.plan
        late = refit_past_budget(arm, folds, plan.spec.cv.folds, budget)
        if late is not None:
            self._write(lambda: tracker.note(tags={"tuneworth.model_not_logged": late}))
            return
        try:
            model, seconds, cpu_seconds = refit_arm(plan, arm)
        except Exception as exc:
            first = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
            failed = f"refitting {arm} failed: {first}"
            self._write(lambda: tracker.note(tags={"tuneworth.model_not_logged": failed}))
            return
        self._write(
            lambda: tracker.note(
                metrics={"refit_seconds": seconds, "refit_cpu_seconds": cpu_seconds},
                tags={"tuneworth.model_arm": arm},
            )
        )
        example = plan.dataset.X.head(5)
        tags = {"tuneworth.arm": arm, "tuneworth.spec": plan.spec.name}
        self._write(lambda: tracker.log_model(model, example, tags=tags, register=register))


def refit_past_budget(
    arm: str, folds: Sequence[FoldResult], cv_folds: int, budget: TimeBudget | None
) -> str | None:
    """Why ``arm`` is not refitted on every row: the refit would end past the time
    ``budget``, its cost estimated from the arm's ``folds`` (fitted on ``1 - 1/cv_folds``
    of the rows); ``None`` when it would not."""
    if budget is None or not folds:
        return None
    estimate = sum(r.fit_seconds for r in folds) / len(folds) / (1 - 1 / cv_folds)
    if time.time() + estimate <= budget.ends:
        return None
    return (
        f"refitting {arm} on every row would take about {estimate:.0f} s, past "
        f"{budget.cut_by}: run with a longer budget to get the model"
    )


def _write_report(_: Any, *args: Any) -> None:
    """:func:`tuneworth.report.write_report` of ``args``, run where the tracker runs."""
    write_report(*args)


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
        lines.append(
            "- `budget_curve.gain`, `budget_curve.ci_low`, `budget_curve.ci_high` (step = "
            "trials), when the study measured marginal gains: the gain over the baseline of the "
            "configuration the search would have chosen after that many trials, and "
            "`budget_curve.cpu_seconds` what a search of that budget costs per fold."
        )
    return "\n".join(lines)


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
