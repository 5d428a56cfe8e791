"""Arms x outer folds -> fold results. Pure: no tracking, no printing.

Every arm is fitted on the same outer splits, so any two arms can be compared fold by fold.
Work fans out over (arm, fold) pairs, the outermost level, with joblib; everything inside a
task runs on one thread so two workers never fight over the cores.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tuneworth.data import Task
from tuneworth.errors import TuneworthError
from tuneworth.marginal import Subsample, budget_cpu, budget_steps, chosen_after
from tuneworth.metrics import Metric

# Corrupts one outer training fold: (X_train, y_train, fold=index) -> (X_train, y_train).
Inject = Callable[..., tuple[pd.DataFrame, pd.Series]]
# The process whose workers run the tasks; a worker started by it exits when it is gone.
PARENT_PID = "TUNEWORTH_PARENT_PID"
_watching: list[int] = []


@dataclass(frozen=True)
class Split:
    """One outer fold: ``index`` counts over all repeats. With a ``subsample``, an arm
    trains on that share of the training rows only (a point of a data-size curve,
    :mod:`tuneworth.marginal`) and is scored on the whole test fold."""

    index: int
    repeat: int
    train: np.ndarray
    test: np.ndarray
    subsample: Subsample | None = None


@dataclass(frozen=True)
class FoldResult:
    """What one arm did on one outer fold."""

    arm: str
    fold: int
    repeat: int
    score: float
    fit_seconds: float
    fit_cpu_seconds: float
    predict_seconds: float
    n_fits: int
    n_train: int
    n_test: int
    error: str | None = None
    warnings: tuple[str, ...] = ()
    best_params: Mapping[str, Any] = field(default_factory=dict)
    inner_best_score: float = float("nan")  # a search's best inner CV score, as ``score``
    trials: pd.DataFrame | None = None  # a search's trials (tuneworth.trials.trial_table)
    study: str = ""  # an Optuna search's study name in its storage
    # What the arm's samplers did to the outer training fold (see :func:`sampler_row_counts`).
    rows_removed: int = 0
    rows_added: int = 0
    class_rows: tuple[tuple[Any, int, int, int], ...] = ()  # (label, rows, removed, added)
    # A sequential search's tuning-budget curve: (trials, outer score of the configuration
    # chosen after them, CPU seconds a search of that many trials costs), fewest first.
    curve: tuple[tuple[int, float, float], ...] = ()

    @property
    def failed(self) -> bool:
        return self.error is not None


def make_splits(y: pd.Series, task: Task, folds: int, repeats: int, seed: int) -> list[Split]:
    """One repeated (stratified for classification) K-fold, materialised once for all arms."""
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    splitter: Any
    if task == "regression":
        splitter = RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    else:
        splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    return [
        Split(index=i, repeat=i // folds, train=train, test=test)
        for i, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y))
    ]


def evaluate(
    pipelines: Mapping[str, Any],
    X: pd.DataFrame,
    y: pd.Series,
    splits: list[Split],
    metric: Metric,
    n_jobs: int = 1,
    skip: frozenset[tuple[str, int]] = frozenset(),
    ticks: Any = None,
    inject: Inject | None = None,
    deadline: float | None = None,
    curves: bool = False,
) -> Iterator[FoldResult]:
    """Fit every arm's pipeline on every outer training fold and score it on the test fold.

    Results are yielded as they finish, in no particular order. ``skip`` lists (arm, fold)
    pairs that need no work. ``ticks``, a queue that crosses processes (see
    :func:`inner_progress`), receives one item per inner-CV score a search computes.
    ``inject(X_train, y_train, fold=...)`` corrupts each outer training fold before any arm
    sees it (see :mod:`tuneworth.defects`); test folds are never touched.

    With a ``deadline`` (:func:`time.time` seconds), the tasks run in worker processes even
    for ``n_jobs=1``, and at the deadline the workers are killed: the arm-folds running
    then, and those not started, yield nothing. With ``curves``, a sequential search also
    measures its tuning-budget curve (:func:`budget_curve`).
    """
    work = [
        (name, pipeline, split)
        for name, pipeline in pipelines.items()
        for split in splits
        if (name, split.index) not in skip
    ]
    yield from evaluate_tasks(
        work,
        X,
        y,
        metric,
        n_jobs=n_jobs,
        ticks=ticks,
        inject=inject,
        deadline=deadline,
        curves=curves,
    )


def evaluate_tasks(
    work: Sequence[tuple[str, Any, Split]],
    X: pd.DataFrame,
    y: pd.Series,
    metric: Metric,
    *,
    n_jobs: int = 1,
    ticks: Any = None,
    inject: Inject | None = None,
    deadline: float | None = None,
    curves: bool = False,
) -> Iterator[FoldResult]:
    """:func:`evaluate` of any (name, pipeline, split) tasks, in that order: an arm-fold
    each, or one point of a data-size curve (a split with a ``subsample``)."""
    from joblib import Parallel, delayed

    tasks = [
        delayed(fit_and_score)(name, pipeline, X, y, split, metric, ticks, inject, curves)
        for name, pipeline, split in work
    ]
    if not tasks:
        return
    # Read by worker processes, which inherit the environment when they start.
    os.environ[PARENT_PID] = str(os.getpid())
    if deadline is not None:
        yield from _until(deadline, tasks, n_jobs)
        return
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    yield from parallel(tasks)


def _until(deadline: float, tasks: list[Any], n_jobs: int) -> Iterator[FoldResult]:
    """Run joblib's delayed ``tasks`` in loky worker processes, in order, until ``deadline``.

    Only a few tasks are queued ahead of the workers, so that the data is not copied for
    every task at once and the order is kept; at the deadline the workers are killed.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    from joblib import effective_n_jobs
    from joblib.externals.loky.process_executor import ProcessPoolExecutor

    workers = max(1, min(effective_n_jobs(n_jobs), len(tasks)))
    executor = ProcessPoolExecutor(max_workers=workers)
    queue = list(reversed(tasks))
    running: set[Future[FoldResult]] = set()
    try:
        while queue or running:
            while queue and len(running) < workers + 1:
                function, args, kwargs = queue.pop()
                running.add(executor.submit(function, *args, **kwargs))
            left = deadline - time.time()
            if left <= 0:
                return
            done, running = wait(running, timeout=left, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        executor.shutdown(wait=not (queue or running), kill_workers=bool(queue or running))


def fit_and_score(
    arm: str,
    pipeline: Any,
    X: pd.DataFrame,
    y: pd.Series,
    split: Split,
    metric: Metric,
    ticks: Any = None,
    inject: Inject | None = None,
    curves: bool = False,
) -> FoldResult:
    """Fit a clone of ``pipeline`` on the split's training rows and score its test rows.

    With ``curves``, a sequential search (random search, Optuna) then measures its
    tuning-budget curve (:func:`budget_curve`), after and apart from the arm's own fit,
    whose cost and score are as without it.
    """
    from joblib import parallel_config
    from threadpoolctl import threadpool_limits

    from tuneworth.search import for_outer_fold
    from tuneworth.steps import preprocess_cache
    from tuneworth.trials import search_outcome

    watch_parent()
    X_train, y_train = training_fold(X, y, split, inject)
    X_test, y_test = one_block(X.iloc[split.test]), y.iloc[split.test]
    _warm_up(arm, pipeline, X_train, y_train)
    # A search draws the fold's candidates; an Optuna one opens the fold's study.
    estimator = for_outer_fold(pipeline, split.index, split.repeat)
    if ticks is not None and "scoring" in estimator.get_params(deep=False):
        from sklearn.metrics import check_scoring

        scorer = check_scoring(estimator.estimator, estimator.scoring)
        estimator.set_params(scoring=_Ticking(scorer, ticks, estimator.scoring))
    common: dict[str, Any] = {
        "arm": arm,
        "fold": split.index,
        "repeat": split.repeat,
        "n_train": len(split.train) if split.subsample is None else len(y_train),
        "n_test": len(split.test),
    }
    # Sequential inside a task: on a Dask cluster, joblib would otherwise send a search's
    # inner fits back to the cluster as tasks of their own, to run in the same worker
    # processes, whose CPU time would then be charged to whichever fit was being timed.
    # What the arm reuses of another arm's preprocessing is charged to it as well: its cost
    # is what it would cost alone, whichever arm fitted that preprocessing first.
    cache = preprocess_cache()
    with (
        threadpool_limits(limits=1),
        parallel_config(backend="sequential"),
        warnings.catch_warnings(record=True) as caught,
        cache.owned_by(arm),
    ):
        warnings.simplefilter("always")
        charged = cache.charged
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            # The target as an array, converted once: a search would otherwise index, check
            # and classify a Series again in every one of its hundreds of fits and scores.
            estimator.fit(X_train, y_train.to_numpy())
        except Exception as exc:  # a failing fit is a result, not a crash
            return FoldResult(
                **common,
                score=float("nan"),
                fit_seconds=time.perf_counter() - wall,
                fit_cpu_seconds=time.process_time() - cpu,
                predict_seconds=0.0,
                n_fits=0,
                error=f"{type(exc).__name__}: {exc}".splitlines()[0],
                warnings=_unique(caught),
            )
        fit_seconds, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
        shared = cache.charged - charged
        fit_seconds, fit_cpu = fit_seconds + shared, fit_cpu + shared
        # Trials that other processes (tuneworth worker) evaluated for this search.
        fit_cpu += getattr(estimator, "fit_seconds_elsewhere_", 0.0)
        start, charged = time.perf_counter(), cache.charged
        try:
            score = metric.score(estimator, X_test, y_test)
            error = None
        except Exception as exc:
            score, error = float("nan"), f"{type(exc).__name__}: {exc}".splitlines()[0]
        predict_seconds = time.perf_counter() - start + cache.charged - charged
    is_search = hasattr(estimator, "best_params_")
    curve: tuple[tuple[int, float, float], ...] = ()
    if curves and is_sequential(estimator):
        with threadpool_limits(limits=1), parallel_config(backend="sequential"):
            curve = budget_curve(
                estimator, X_train, y_train, X_test, y_test, metric, score, fit_cpu
            )
    return FoldResult(
        **common,
        curve=curve,
        **sampler_row_counts(estimator, classes="regression" not in metric.tasks),
        score=score,
        fit_seconds=fit_seconds,
        fit_cpu_seconds=fit_cpu,
        predict_seconds=predict_seconds,
        error=error,
        warnings=_unique(caught),
        **(search_outcome(estimator, metric.greater_is_better) if is_search else {"n_fits": 1}),
    )


def is_sequential(search: Any) -> bool:
    """Whether ``search``'s first k trials are those a search of k trials would run: random
    search and Optuna (:data:`tuneworth.marginal.SEQUENTIAL`). Not a grid (a smaller grid is
    a coarser one) nor successive halving (its candidates see different amounts of data)."""
    from sklearn.model_selection import RandomizedSearchCV

    from tuneworth.optuna_search import OptunaSearchCV

    return isinstance(search, RandomizedSearchCV | OptunaSearchCV)


def budget_curve(
    search: Any,
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    metric: Metric,
    score: float,
    cpu_seconds: float,
) -> tuple[tuple[int, float, float], ...]:
    """The tuning-budget curve of a fitted sequential search on one outer fold.

    For each trial count ``k`` of :func:`tuneworth.marginal.budget_steps`, the configuration
    the search would have chosen after its first ``k`` trials
    (:func:`tuneworth.marginal.chosen_after`), refitted on the outer training rows and
    scored on the outer test rows, with the CPU seconds a search of ``k`` trials would have
    spent (:func:`tuneworth.marginal.budget_cpu`, pro rata of the search's measured
    ``cpu_seconds``). A refit happens only where the choice changes. The refits share the
    process's preprocessing cache, and their time is no part of any cost: the curve's
    cost column is what the searches of ``k`` trials would have cost, not what measuring
    it did.
    """
    from sklearn.base import clone

    from tuneworth.trials import trial_table

    table = trial_table(search)  # the scorer's orientation: greater is better
    params = _trial_params(search)
    steps = budget_steps(len(table))
    chosen = chosen_after(table, steps)
    costs = budget_cpu(table, steps, chosen, cpu_seconds, int(search.n_splits_))
    final = chosen[-1]
    y_fit = y_train.to_numpy()  # as the search was given it
    points: list[tuple[int, float, float]] = []
    previous: int | None = None
    previous_score = math.nan
    for k, choice, cpu in zip(steps, chosen, costs, strict=True):
        if choice is None:
            value = math.nan  # no trial had completed: a search of k trials would fail
        elif choice == final:
            # The search's own choice (from here on the choice no longer changes): its outer
            # score, measured above, is reused, not refitted.
            value = score
        elif choice == previous:
            value = previous_score  # the choice did not change since the last point
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the arm's fit recorded this data's warnings
                try:
                    model = clone(search.estimator).set_params(**params[choice])
                    value = metric.score(model.fit(X_train, y_fit), X_test, y_test)
                except Exception:  # a configuration that fails on all rows: no point
                    value = math.nan
        points.append((int(k), float(value), float(cpu)))
        previous, previous_score = choice, value
    return tuple(points)


def _trial_params(search: Any) -> list[dict[str, Any]]:
    """Each trial's parameters as the search set them (not as a table stores them, where a
    ``None`` may become NaN), by trial number."""
    if hasattr(search, "trial_params_"):
        return list(search.trial_params_)
    return [dict(p) for p in search.cv_results_["params"]]


def sampler_row_counts(estimator: Any, classes: bool = True) -> dict[str, Any]:
    """Rows a fitted arm's samplers removed and added on its training rows, per class too.

    The samplers are the steps that count their rows (every tuneworth sampler does); a
    search's are those of its best configuration refitted on the whole training fold. With
    several samplers the counts add up; per class, each sampler's change of a class's rows
    is a removal or an addition. ``class_rows`` holds ``(label, training rows, removed,
    added)`` per class, empty for regression.
    """
    fitted = getattr(estimator, "best_estimator_", estimator)
    samplers = [s for _, s in getattr(fitted, "steps", []) if hasattr(s, "n_rows_in_")]
    removed = added = 0
    per_class: dict[Any, list[int]] = {}
    for sampler in samplers:
        if not (classes and sampler.class_rows_in_):
            removed += max(0, sampler.n_rows_in_ - sampler.n_rows_out_)
            added += max(0, sampler.n_rows_out_ - sampler.n_rows_in_)
            continue
        for label, before in sampler.class_rows_in_.items():
            change = sampler.class_rows_out_[label] - before
            counts = per_class.setdefault(label, [before, 0, 0])
            counts[1], counts[2] = counts[1] + max(0, -change), counts[2] + max(0, change)
            removed, added = removed + max(0, -change), added + max(0, change)
    return {
        "rows_removed": removed,
        "rows_added": added,
        "class_rows": tuple((label, *counts) for label, counts in per_class.items()),
    }


def watch_parent(interval: float = 1.0) -> None:
    """In a worker process of :func:`evaluate`: exit as soon as the parent is gone.

    joblib's workers outlive a parent killed with SIGKILL: they finish the task at hand
    and idle for minutes. A daemon thread notices the parent's death (the worker is
    re-parented) within ``interval`` seconds and ends the process. It starts only in a
    direct child of the process that called :func:`evaluate`: never in that process
    itself, nor on a Dask worker of another machine.
    """
    if _watching:
        return
    _watching.append(os.getpid())
    parent = int(os.environ.get(PARENT_PID, "0") or 0)
    if not parent or os.getpid() == parent:
        return
    if os.getppid() != parent:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)  # the parent died before this worker's first task
        except PermissionError:
            pass
        return  # another process's worker, or a grandchild: not ours to watch

    exit_with_parent(parent, interval)


def exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """End this process within ``interval`` seconds of its parent ``parent``'s death (it
    is then re-parented), from a daemon thread started here."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="tuneworth-parent-watch", daemon=True).start()


def training_fold(
    X: pd.DataFrame, y: pd.Series, split: Split, inject: Inject | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """The split's outer training rows, as every arm sees them (``inject`` applied); with a
    ``subsample``, its share of them, taken after ``inject`` so that it holds the rows the
    arms saw on the whole fold."""
    X_train, y_train = X.iloc[split.train], y.iloc[split.train]
    if inject is not None:
        X_train, y_train = inject(X_train, y_train, fold=split.index)
    if split.subsample is not None:
        keep = split.subsample.positions(y_train, split.index)
        X_train, y_train = X_train.iloc[keep], y_train.iloc[keep]
    return one_block(X_train), y_train


def one_block(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` with the columns of each dtype stored together, as one 2-D block.

    A table read and parsed column by column holds one block per column. A search slices
    its training fold's rows for every configuration and inner fold, block by block, and
    the preprocessing cache hashes every slice it is given: on one block both are a
    fraction of the cost. One copy per fold pays for that (a deep copy consolidates).
    """
    return X.copy()


class _Ticking:
    """A scorer that also reports each call, so a search's progress shows while it runs.

    ``__wrapped__`` is the scoring it replaces, which names a shared Optuna study.
    """

    def __init__(self, scorer: Any, queue: Any, wrapped: Any = None) -> None:
        self.scorer, self.queue, self.__wrapped__ = scorer, queue, wrapped

    def __call__(self, estimator: Any, X: Any, y: Any) -> float:
        score = self.scorer(estimator, X, y)
        self.queue.put(1)
        return float(score)


@contextmanager
def dask_cluster(address: str, timeout: float = 10) -> Iterator[None]:
    """Send :func:`evaluate`'s arm-fold tasks to the Dask cluster at ``address``.

    joblib's Dask backend does the scheduling; every worker needs tuneworth installed. The
    results are those of a local run: each task carries its own seeds.
    """
    from joblib import parallel_config

    try:
        from distributed import Client
    except ImportError:
        raise TuneworthError(
            "running on a Dask cluster needs dask.distributed: pip install 'tuneworth[cluster]'"
        ) from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise TuneworthError(
            f"cannot reach the Dask scheduler at {address}: {exc}; start it with "
            "'dask scheduler' and check the address"
        ) from None
    with client, parallel_config(backend="dask"):
        yield


@contextmanager
def inner_progress(on_tick: Callable[[], None]) -> Iterator[Any]:
    """A queue for :func:`evaluate`'s ``ticks`` that calls ``on_tick`` in this process.

    A manager queue crosses into joblib's worker processes; a thread here drains it.
    """
    from multiprocessing import Manager

    with Manager() as manager:
        queue = manager.Queue()

        def drain() -> None:
            while queue.get() is not None:
                on_tick()

        thread = threading.Thread(target=drain, daemon=True)
        thread.start()
        try:
            yield queue
        finally:
            queue.put(None)
            thread.join(timeout=5)


_WARM: set[str] = set()
# Rows of the training fold a warm-up fits on. One-time costs do not grow with the data, but
# a warm-up on the whole fold does: on 100,000 rows it took a quarter of the wall time of two
# linear arms on three folds, unseen by any cost column.
WARM_UP_ROWS = 500


def _warm_up(arm: str, pipeline: Any, X: pd.DataFrame, y: pd.Series) -> None:
    """Fit the arm's plain pipeline once per worker process, untimed, on a slice of the fold.

    The first fit in a fresh process pays one-time costs (lazy imports, first calls into
    compiled code) that belong to no arm: measured at about 20 ms, four times a small
    baseline's whole fit, which would skew every cost ratio. A search is warmed through the
    pipeline it wraps, so the warm-up costs one plain fit, not a search, and that fit sees
    at most :data:`WARM_UP_ROWS` rows, spread evenly over the fold so that sorted data
    still brings every common class.
    """
    if arm in _WARM:
        return
    _WARM.add(arm)
    from joblib import parallel_config
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from tuneworth.steps import preprocess_cache

    plain = getattr(pipeline, "estimator", pipeline)
    rows = warm_up_rows(len(y))
    # Not cached: on a small fold it fits the very rows of the timed fit, which would then
    # reuse its preprocessing and hide that cost from the arm.
    with (
        threadpool_limits(limits=1),
        parallel_config(backend="sequential"),
        warnings.catch_warnings(),
        preprocess_cache().paused(),
    ):
        warnings.simplefilter("ignore")
        try:
            clone(plain).fit(X.iloc[rows], y.iloc[rows])
        except Exception:  # the timed fit records the failure
            return


def warm_up_rows(n: int, limit: int = WARM_UP_ROWS) -> np.ndarray:
    """Positions of the rows a warm-up fits on: all ``n``, or ``limit`` spread evenly.

    >>> warm_up_rows(4).tolist(), warm_up_rows(9, limit=3).tolist()
    ([0, 1, 2, 3], [0, 4, 8])
    """
    if n <= limit:
        return np.arange(n)
    return np.linspace(0, n - 1, limit).round().astype(int)


def _unique(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in caught:
        seen.setdefault(f"{item.category.__name__}: {str(item.message).splitlines()[0]}")
    return tuple(seen)


def results_frame(results: list[FoldResult]) -> pd.DataFrame:
    """Fold results as a tidy table, one row per (arm, fold), sorted."""
    rows = [
        {
            "arm": r.arm,
            "fold": r.fold,
            "repeat": r.repeat,
            "score": r.score,
            "fit_seconds": r.fit_seconds,
            "fit_cpu_seconds": r.fit_cpu_seconds,
            "predict_seconds": r.predict_seconds,
            "n_fits": r.n_fits,
            "n_train": r.n_train,
            "n_test": r.n_test,
            "inner_best_score": r.inner_best_score,
            "rows_removed": r.rows_removed,
            "rows_added": r.rows_added,
            "class_rows": json.dumps([list(c) for c in r.class_rows]) if r.class_rows else "",
            "curve": json.dumps([list(p) for p in r.curve]) if r.curve else "",
            "error": r.error or "",
        }
        for r in results
    ]
    return pd.DataFrame(rows).sort_values(["arm", "fold"], kind="stable").reset_index(drop=True)


def fold_results(folds: pd.DataFrame, trials: pd.DataFrame | None = None) -> list[FoldResult]:
    """The inverse of :func:`results_frame` for one arm: its fold table (and trial table
    with a ``fold`` column) read back, for instance from a finished arm run."""
    results = []
    for row in folds.to_dict("records"):
        mine = None
        if trials is not None:
            mine = trials[trials["fold"] == row["fold"]].drop(columns="fold")
            mine = mine.reset_index(drop=True)
        results.append(
            FoldResult(
                arm=str(row["arm"]),
                fold=int(row["fold"]),
                repeat=int(row["repeat"]),
                score=float(row["score"]),
                fit_seconds=float(row["fit_seconds"]),
                fit_cpu_seconds=float(row["fit_cpu_seconds"]),
                predict_seconds=float(row["predict_seconds"]),
                n_fits=int(row["n_fits"]),
                n_train=int(row["n_train"]),
                n_test=int(row["n_test"]),
                error=str(row["error"]) or None,
                inner_best_score=float(row["inner_best_score"]),
                trials=mine,
                rows_removed=_count(row.get("rows_removed")),
                rows_added=_count(row.get("rows_added")),
                class_rows=parse_class_rows(row.get("class_rows")),
                curve=parse_curve(row.get("curve")),
            )
        )
    return results


def _count(value: Any) -> int:
    """A count read back from a table; absent (an older store) or empty is 0."""
    return 0 if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def parse_class_rows(text: Any) -> tuple[tuple[Any, int, int, int], ...]:
    """The ``class_rows`` cell of :func:`results_frame` read back; empty when absent.

    >>> parse_class_rows('[["no", 80, 2, 0], ["yes", 20, 5, 0]]')
    (('no', 80, 2, 0), ('yes', 20, 5, 0))
    """
    if not isinstance(text, str) or not text:
        return ()
    return tuple((label, int(n), int(r), int(a)) for label, n, r, a in json.loads(text))


def parse_curve(text: Any) -> tuple[tuple[int, float, float], ...]:
    """The ``curve`` cell of :func:`results_frame` read back; empty when absent (an arm
    without a tuning-budget curve, or an older store).

    >>> parse_curve("[[1, 0.91, 0.5], [2, NaN, 1.0]]")
    ((1, 0.91, 0.5), (2, nan, 1.0))
    """
    if not isinstance(text, str) or not text:
        return ()
    return tuple((int(k), float(score), float(cpu)) for k, score, cpu in json.loads(text))
