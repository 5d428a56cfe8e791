"""The core of every run: a plan's arms on its shared folds, compared, as a :class:`Comparison`.

:func:`run_plan` evaluates the arm-folds, tells whoever listens what happens as it happens
(:class:`Events`: an arm started, a fold finished, an arm finished; :class:`Progress` for a
progress bar) and decides. Nothing here writes: MLflow tracking
(:mod:`tuneworth.study_log`) and the report files are sinks at the edges, fed by the
events and by the :class:`Comparison` this returns.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pandas as pd
import yaml

from tuneworth.budget import TimeBudget
from tuneworth.design import BASELINE, Arm
from tuneworth.diagnose import Finding
from tuneworth.errors import TuneworthError
from tuneworth.evaluate import FoldResult, Split, evaluate, evaluate_tasks, results_frame
from tuneworth.levers import TuningLever
from tuneworth.marginal import (
    FRACTIONS,
    SEQUENTIAL,
    Marginal,
    Subsample,
    data_points,
    summarise,
    tuning_points,
)
from tuneworth.planning import Plan
from tuneworth.strategies import compare_strategies
from tuneworth.trials import trials_frame
from tuneworth.verdict import ArmInfo, Verdict, decide

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tuneworth.report import Context


class Progress(Protocol):
    """Told of the arm-folds to run, in the order they start, then of every finished
    arm-fold and, if ``inner``, of every inner-CV score a search computes (counting them
    takes a manager process beside the run)."""

    inner: bool

    def begin(self, pending: Sequence[str], total: int) -> None: ...

    def fold_done(self, done: int, total: int, result: FoldResult) -> None: ...

    def inner_scored(self) -> None: ...


@runtime_checkable
class CurveProgress(Protocol):
    """A :class:`Progress` that is also told of the fits of the data-size curves, which run
    after the arms (:mod:`tuneworth.marginal`): ``curves_begin`` says what runs and how
    many fits, ``curve_done`` counts each as it finishes."""

    def curves_begin(self, what: str, total: int) -> None: ...

    def curve_done(self, done: int, total: int, label: str) -> None: ...


class Events(Protocol):
    """What a run tells as it goes, in order: an arm starts (when a worker takes its first
    fold), each of its folds finishes (with the arm's folds ``done`` so far), the arm
    finishes (all its folds done). A tracking adapter writes them
    (:class:`tuneworth.study_log.StudyLog`)."""

    def arm_started(self, arm: Arm) -> None: ...

    def fold_finished(self, arm: Arm, result: FoldResult, done: Sequence[FoldResult]) -> None: ...

    def arm_finished(self, arm: Arm, results: Sequence[FoldResult]) -> None: ...


@dataclass(frozen=True, repr=False)
class Comparison:
    """Every arm of a plan on the same outer folds, and what that says.

    Made by :func:`tuneworth.compare` (or a spec's run); nothing in it touches MLflow or the
    disk until asked (:meth:`report`).

    Attributes
    ----------
    plan : Plan
        The data, arms, pipelines and splits that ran.
    verdict : Verdict
        The comparison with the baseline: ``verdict.summary`` (also :attr:`summary`), the
        recommendation and the sentences that say what it means.
    results : pandas.DataFrame
        One row per arm and outer fold of the arms that finished: score, fit seconds, rows
        the data levers changed, error.
    trials : pandas.DataFrame
        Every search trial, one row per configuration and fold (empty without searches).
    tuning : pandas.DataFrame
        The search strategies side by side (:func:`tuneworth.strategies.compare_strategies`).
    findings : tuple of Finding
        The table's diagnosis, when one was run.
    marginal : Marginal or None
        The tuning-budget and data-size curves and what the next unit of effort would buy
        (:mod:`tuneworth.marginal`); None when curves were not asked for.
    started : float
        When the run began (:func:`time.time`); ``wall_seconds`` how long it took.
    """

    plan: Plan
    verdict: Verdict
    results: pd.DataFrame
    trials: pd.DataFrame
    tuning: pd.DataFrame
    by_arm: Mapping[str, tuple[FoldResult, ...]]
    findings: tuple[Finding, ...] = ()
    started: float = field(default_factory=time.time)
    wall_seconds: float = 0.0
    marginal: Marginal | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """One row per arm: mean score, gain over the baseline with its 95% interval,
        Holm-adjusted p-value, outcome and cost."""
        return self.verdict.summary

    @property
    def recommended(self) -> str:
        """The arm to use: the cheapest as good as the best (the baseline when no arm beat
        it beyond the noise)."""
        return self.verdict.cheapest or self.verdict.best

    def headline(self) -> str:
        """The answer in one sentence."""
        from tuneworth.report import headline

        return headline(self.verdict)

    def context(self, **extra: Any) -> Context:
        """What the report says besides the verdict: the data, the folds, the seed, the
        spec; ``extra`` adds or overrides fields (a study run's ID, for one)."""
        from tuneworth.provenance import environment_tags
        from tuneworth.report import Context

        spec, dataset = self.plan.spec, self.plan.dataset
        fields: dict[str, Any] = {
            "spec_name": spec.name,
            "description": spec.description,
            "dataset": dataset.source,
            "task": dataset.task,
            "rows": len(dataset.y),
            "features": len(dataset.schema.features),
            "folds": spec.cv.folds,
            "repeats": spec.cv.repeats,
            "inner_folds": spec.cv.inner_folds,
            "notes": dataset.notes,
            "findings": self.findings,
            "started": utc(self.started),
            "wall_seconds": self.wall_seconds,
            "seed": spec.seed,
            "spec": yaml.safe_dump(spec.to_document(), sort_keys=False),
        }
        if "versions" not in extra:
            fields.update(made_with(environment_tags()))
        return Context(**{**fields, **extra})

    def plot(self) -> dict[str, Figure]:
        """The report's plots as matplotlib figures, by name: ``gains``, ``cost_gain``,
        ``fold_deltas``, with searches ``tuning_curves`` and, with curves,
        ``marginal_gains``."""
        from tuneworth import plots

        figures = {
            "gains": plots.gains(self.verdict),
            "cost_gain": plots.cost_gain(self.verdict),
            "fold_deltas": plots.fold_deltas(self.verdict, self.results),
        }
        if not self.trials.empty:
            figures["tuning_curves"] = plots.tuning_curves(self.verdict, self.trials)
        if self.marginal is not None and not self.marginal.curves.empty:
            figures["marginal_gains"] = plots.marginal_gains(self.marginal, self.verdict)
        return figures

    def report(self, directory: str | Path, **context: Any) -> list[Path]:
        """Write ``report.md``, ``report.html`` and the plots into ``directory`` (made if
        missing); return their paths. ``context`` as in :meth:`context`."""
        from tuneworth.report import write_report

        trials = self.trials if not self.trials.empty else None
        return write_report(
            self.verdict,
            self.context(**context),
            self.results,
            trials,
            Path(directory),
            self.marginal,
        )

    def refit(self, arm: str | None = None) -> Any:
        """The pipeline of ``arm`` (the recommended one by default) fitted on every row:
        a tuning arm runs its search on every row and keeps what it chooses."""
        return refit_arm(self.plan, arm or self.recommended)[0]

    def _repr_html_(self) -> str:
        from tuneworth.report import summary_html

        return summary_html(self.verdict, self.context(versions={}))

    def __repr__(self) -> str:
        dataset = self.plan.dataset
        return (
            f"<Comparison of {len(self.summary)} arms on {len(self.plan.splits)} folds of "
            f"{len(dataset.y)} rows: {self.headline()}>"
        )


def run_plan(
    plan: Plan,
    *,
    n_jobs: int = 1,
    resumed: Mapping[str, Sequence[FoldResult]] | None = None,
    budget: TimeBudget | None = None,
    deadline: float | None = None,
    ticks: Any = None,
    progress: Progress | None = None,
    events: Events | None = None,
    findings: Sequence[Finding] = (),
) -> Comparison:
    """Run every arm of ``plan`` on every outer fold and compare them.

    ``resumed`` holds the fold results of arms an interrupted study finished (read from its
    checkpoint, :mod:`tuneworth.checkpoint`): they are not run again. With a ``deadline``
    (:func:`time.time` seconds; a time ``budget``'s), the arm-folds still running then are
    stopped: the arms that finished every fold are compared, the others named as cut.
    ``ticks`` is the queue of :func:`tuneworth.evaluate.inner_progress`; ``progress`` and
    ``events`` are told what happens as it happens.

    With the spec's ``curves`` (the default), every sequential search also measures its
    tuning-budget curve on each fold, and once the arms are compared the baseline and the
    best arm are fitted on shares of every training fold for the data-size curves
    (:func:`measure_marginal`); the comparison's ``marginal`` holds both.
    """
    started = time.time()
    arms = {arm.name: arm for arm in plan.arms}
    by_arm: dict[str, list[FoldResult]] = {name: [] for name in arms}
    for name, results in (resumed or {}).items():
        if name in arms:
            by_arm[name] = list(results)
    skip = frozenset(
        (name, split.index) for name in by_arm if by_arm[name] for split in plan.splits
    )
    total = len(plan.arms) * len(plan.splits)
    # evaluate starts the arm-folds in this order: arm by arm, fold by fold.
    pending = [
        arm.name
        for arm in plan.arms
        for split in plan.splits
        if (arm.name, split.index) not in skip
    ]
    if progress is not None:
        progress.begin(pending, total)
    opened: set[str] = set(name for name in by_arm if by_arm[name])

    def start(names: Sequence[str]) -> None:
        for name in dict.fromkeys(names):
            if name not in opened:
                opened.add(name)
                if events is not None:
                    events.arm_started(arms[name])

    # A fold starts when a worker is free: the first ``workers`` at once, then one as each
    # finishes. Its arm starts then, and runs until its last fold.
    workers = _workers(n_jobs)
    start(pending[:workers])
    done = len(skip)
    for count, result in enumerate(
        evaluate(
            plan.pipelines,
            plan.dataset.X,
            plan.dataset.y,
            plan.splits,
            plan.metric,
            n_jobs=n_jobs,
            skip=skip,
            ticks=ticks,
            inject=plan.inject,
            deadline=deadline,
            curves=plan.spec.curves,
        ),
        start=1,
    ):
        done += 1
        folds = by_arm[result.arm]
        folds.append(result)
        start([result.arm])
        if events is not None:
            events.fold_finished(arms[result.arm], result, folds)
            if len(folds) == len(plan.splits):
                events.arm_finished(arms[result.arm], folds)
        start(pending[: count + workers])
        if progress is not None:
            progress.fold_done(done, total, result)
    comparison = decide_plan(plan, by_arm, budget, findings, started)
    if not plan.spec.curves:
        return comparison
    comparison = measure_marginal(
        comparison, n_jobs=n_jobs, budget=budget, deadline=deadline, progress=progress
    )
    return replace(comparison, wall_seconds=time.time() - comparison.started)


def measure_marginal(
    comparison: Comparison,
    *,
    n_jobs: int = 1,
    budget: TimeBudget | None = None,
    deadline: float | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """``comparison`` with its marginal gains (:mod:`tuneworth.marginal`) and the sentence
    they say appended to the verdict's.

    The tuning-budget curves are read from the sequential searches' fold results (measured
    as they ran). The data-size curves are measured here: the baseline and the verdict's
    best arm (only the baseline when it is the best) run their procedure as it is, a
    search searching, on :data:`tuneworth.marginal.FRACTIONS` of every outer training fold
    (nested, stratified, the same rows for both), scored on the same test folds, in
    parallel over (arm, fold, fraction) like the arms; the whole fold is the arm's own
    result, reused. Under a time ``budget`` they run only if their estimated cost (the
    arms' measured fold times, times the fraction) fits before the ``deadline``, and never
    past it.
    """
    plan, verdict = comparison.plan, comparison.verdict
    notes: list[str] = []
    searched: list[FoldResult] = []
    for arm in plan.arms:
        lever = next((lv for lv in arm.levers if isinstance(lv, TuningLever)), None)
        folds = comparison.by_arm.get(arm.name)
        if lever is None or folds is None:
            continue
        if lever.name not in SEQUENTIAL:
            continue
        if all(r.curve for r in folds):
            searched += folds
        elif not any(r.failed for r in folds):
            notes.append(
                f"{arm.name} has no tuning-budget curve: its folds were read back from a "
                "study run without curves"
            )
    tuned = {lv.name for arm in plan.arms for lv in arm.levers if isinstance(lv, TuningLever)}
    if "grid_search" in tuned:
        notes.append(
            "Grid search has no tuning-budget curve: a smaller grid is another, coarser grid, "
            "not the first points of this one."
        )
    if "halving" in tuned:
        notes.append(
            "Successive halving has no tuning-budget curve: its candidates are scored on "
            "different amounts of data, so its first trials are not a smaller search."
        )
    arms = [BASELINE] + ([verdict.best] if verdict.best not in ("", BASELINE) else [])
    subsampled, arms, note = _data_size(
        plan,
        comparison.by_arm,
        arms,
        n_jobs=n_jobs,
        budget=budget,
        deadline=deadline,
        progress=progress,
    )
    notes += [note] if note else []
    rows = round(float(comparison.results["n_train"].mean()))
    full = [r for name in arms for r in comparison.by_arm[name]]
    frames = [tuning_points(searched), data_points(subsampled, full, rows) if arms else None]
    measured = [frame for frame in frames if frame is not None and not frame.empty]
    points = pd.concat(measured, ignore_index=True) if measured else tuning_points([])
    marginal = summarise(
        points, comparison.results, plan.metric.sign, unit=plan.metric.label, notes=notes
    )
    if marginal.sentence:
        verdict = replace(verdict, sentences=(*verdict.sentences, marginal.sentence))
    return replace(comparison, verdict=verdict, marginal=marginal)


def _data_size(
    plan: Plan,
    by_arm: Mapping[str, Sequence[FoldResult]],
    arms: Sequence[str],
    *,
    n_jobs: int,
    budget: TimeBudget | None,
    deadline: float | None,
    progress: Progress | None,
) -> tuple[list[tuple[float, FoldResult]], list[str], str]:
    """The data-size fits of ``arms``: (fraction, fold result) pairs, the arms whose every
    fraction finished on every fold, and a note of what was left out and why ("")."""
    stratify = plan.dataset.task != "regression"
    seed = plan.spec.seed
    shares = {
        fraction: Subsample(fraction, seed, stratify, plan.spec.cv.inner_folds)
        for fraction in FRACTIONS
    }

    def tasks(names: Sequence[str]) -> list[tuple[str, Any, Split]]:
        return [
            (
                _label(name, fraction),
                _for_rows(plan.pipelines[name], fraction),
                replace(split, subsample=share),
            )
            for name in names
            for split in plan.splits
            for fraction, share in shares.items()
        ]

    def estimate(names: Sequence[str]) -> float:
        """Wall seconds: each arm's mean measured fold time, times the fractions, spread
        over the workers."""
        seconds = sum(
            sum(r.fit_seconds + r.predict_seconds for r in by_arm[name])
            / len(by_arm[name])
            * sum(FRACTIONS)
            * len(plan.splits)
            for name in names
        )
        return seconds / min(_workers(n_jobs), len(names) * len(plan.splits) * len(FRACTIONS))

    note = ""
    cut_by = budget.cut_by if budget is not None else "the deadline"
    if deadline is not None:
        # The best arm's curve goes first, then the baseline's: without it, no curve pairs.
        left, wanted = deadline - time.time(), list(arms)
        while arms and estimate(arms) > left:
            arms = arms[:-1]
        if arms != wanted:
            dropped = [a for a in wanted if a not in arms]
            note = (
                f"Data-size curves left out ({', '.join(dropped)}): their estimated "
                f"{estimate(wanted):.0f} s of fits would not end before {cut_by} does."
            )
    if not arms:
        return [], [], note
    work = tasks(arms)
    meaning = {_label(name, fraction): (name, fraction) for name in arms for fraction in FRACTIONS}
    if isinstance(progress, CurveProgress):
        shown = " and ".join(arms)
        progress.curves_begin(
            f"data-size curves: {shown} on 1/8, 1/4 and 1/2 of every training fold", len(work)
        )
    found: list[tuple[float, FoldResult]] = []
    for done, result in enumerate(
        evaluate_tasks(
            work,
            plan.dataset.X,
            plan.dataset.y,
            plan.metric,
            n_jobs=n_jobs,
            inject=plan.inject,
            deadline=deadline,
        ),
        start=1,
    ):
        name, fraction = meaning[result.arm]
        found.append((fraction, replace(result, arm=name)))
        if isinstance(progress, CurveProgress):
            progress.curve_done(done, len(work), result.arm)
    finished = [
        name
        for name in arms
        if sum(1 for _, r in found if r.arm == name) == len(plan.splits) * len(FRACTIONS)
    ]
    if len(finished) < len(arms):
        late = ", ".join(a for a in arms if a not in finished)
        note = " ".join(filter(None, (note, f"The data-size curve of {late} was cut by {cut_by}.")))
    return [(f, r) for f, r in found if r.arm in finished], finished, note


def _label(arm: str, fraction: float) -> str:
    """What a data-size fit is called while it runs: 'baseline on 1/8 of the rows'."""
    return f"{arm} on {Fraction(fraction).limit_denominator(64)} of the rows"


def _for_rows(pipeline: Any, fraction: float) -> Any:
    """``pipeline`` to fit on ``fraction`` of the rows: an Optuna search's studies get
    names of their own (``<experiment>/<arm>/rows-0.125/r<repeat>-f<fold>``), apart from
    the arm's."""
    from sklearn.base import clone

    estimator = clone(pipeline)
    if "study_name" in estimator.get_params(deep=False):
        estimator.set_params(study_name=f"{estimator.study_name}/rows-{fraction:g}")
    return estimator


def decide_plan(
    plan: Plan,
    by_arm: Mapping[str, Sequence[FoldResult]],
    budget: TimeBudget | None = None,
    findings: Sequence[Finding] = (),
    started: float | None = None,
) -> Comparison:
    """The :class:`Comparison` of the fold results ``by_arm`` of ``plan``'s arms.

    Paired comparisons need every fold: an arm a time ``budget`` stopped short is cut, and
    so are the arms it left out before the run.
    """
    finished = [a for a in plan.arms if len(by_arm.get(a.name, ())) == len(plan.splits)]
    cut = tuple(a.name for a in plan.arms if a not in finished)
    if cut:
        _check_cut(cut, budget)
    left_out = budget.left_out if budget is not None else ()
    kept = {arm.name: tuple(by_arm[arm.name]) for arm in finished}
    folds = [r for results in kept.values() for r in results]
    results = results_frame(folds)
    tuning = compare_strategies(finished, kept, plan.metric)
    design = plan.spec.design
    if design == "factorial" and cut:
        design = "one_at_a_time"  # Shapley shares need every arm
    verdict = decide(
        results,
        [ArmInfo.of(arm) for arm in finished],
        plan.metric,
        design,
        tuning,
        cut=(*left_out, *cut),
        cut_by=budget.cut_by if budget is not None else "",
    )
    began = time.time() if started is None else started
    return Comparison(
        plan,
        verdict,
        results,
        trials_frame(folds),
        tuning,
        kept,
        tuple(findings),
        began,
        time.time() - began,
    )


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


def _workers(n_jobs: int) -> int:
    """How many arm-folds run at once with ``n_jobs`` (``-1``: every core)."""
    from joblib import effective_n_jobs

    return max(1, int(effective_n_jobs(n_jobs)))


def _check_cut(cut: Sequence[str], budget: TimeBudget | None) -> None:
    """Arms are cut only by a time budget, and a verdict needs the baseline."""
    if budget is None:
        raise RuntimeError(f"arms without every fold and no time budget: {', '.join(cut)}")
    if BASELINE in cut:
        raise TuneworthError(
            f"{budget.cut_by} ran out before the baseline finished its folds: give a longer "
            "--time-budget"
        )


def made_with(tags: Mapping[str, str]) -> dict[str, Any]:
    """Package versions and commit, for a report's :class:`tuneworth.report.Context`, from
    a study run's tags (:func:`tuneworth.provenance.environment_tags`)."""
    prefix = "tuneworth.version."
    return {
        "versions": {k.removeprefix(prefix): v for k, v in tags.items() if k.startswith(prefix)},
        "commit": tags.get("mlflow.source.git.commit", ""),
    }


def utc(seconds: float) -> str:
    """``seconds`` since the epoch as '2026-11-29 22:04 UTC'."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))
