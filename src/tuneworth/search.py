"""Search strategies behind one interface, all over the same declared space and budget.

The budget is the number of configurations a search evaluates, per outer fold:

- ``grid_search``: GridSearchCV on the finest grid of the space that fits the budget
  (:func:`tuneworth.space.grid`), so it may evaluate a few fewer.
- ``random_search``: RandomizedSearchCV, ``budget`` draws.
- ``optuna``: an Optuna study of ``budget`` trials with a TPE (default), Gaussian-process or
  random sampler. TPE and GP draw their first :func:`startup_trials` trials at random, then
  let their model propose the rest. The study lives in memory or in the spec's Optuna
  storage, where a second run resumes it and ``tuneworth worker`` processes may add trials
  (:mod:`tuneworth.studies` keeps the count exact).
- ``halving``: scikit-learn's successive halving over random draws. It draws ``budget``
  candidates, scores all of them on ``n_train / factor**(rungs - 1)`` rows, keeps the best
  ``1 / factor`` and so on until the last rung, which uses (nearly) all rows. It evaluates
  the same number of distinct configurations as the others, but some of them several times
  on subsamples: its fit count differs and is reported as is, and only its last rung is
  comparable with the other strategies' scores.

Every strategy that draws at random draws from a stream of its own: a seed derived from the
spec's seed and the strategy (:func:`stream_seed`), then one child stream per outer fold
(:func:`for_outer_fold`). Random search and TPE thus never share candidates, the outer
folds do not all receive the same ones, and a rerun or a resumed run draws exactly the same.

Every strategy uses the same inner splitter (:func:`inner_cv`, seeded), so their inner
scores compare fold by fold. After ``fit``, :func:`tuneworth.trials.search_outcome` reads any
of them the same way, and :func:`tuneworth.strategies.compare_strategies` sets the tuning
arms of an experiment side by side.
"""

from __future__ import annotations

import re
import warnings
import zlib
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingRandomSearchCV, RandomizedSearchCV

from tuneworth.optuna_search import SAMPLERS, OptunaSearchCV
from tuneworth.space import Space, distributions, grid
from tuneworth.trials import SearchError, report_failures, trial_table

if TYPE_CHECKING:
    from tuneworth.metrics import Metric

STRATEGIES = ("grid_search", "random_search", "optuna", "halving")


class SearchContext(Protocol):
    """What building a search needs to know of the experiment (a
    :class:`tuneworth.levers.BuildContext` is one)."""

    @property
    def task(self) -> str: ...

    @property
    def metric(self) -> Metric: ...

    @property
    def seed(self) -> int: ...

    @property
    def inner_folds(self) -> int: ...


def inner_cv(ctx: SearchContext) -> Any:
    """The inner K-fold used inside each outer training fold, the same for every strategy."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if ctx.task == "regression":
        return KFold(ctx.inner_folds, shuffle=True, random_state=ctx.seed)
    return StratifiedKFold(ctx.inner_folds, shuffle=True, random_state=ctx.seed)


def stream_seed(seed: int, *keys: int | str) -> int:
    """The seed of the random stream that ``keys`` name, derived from ``seed``.

    numpy's :class:`~numpy.random.SeedSequence` with ``keys`` as its spawn key (a string by
    its CRC-32): different keys give independent streams, the same keys the same seed in
    any process, on any machine.

    >>> stream_seed(0, "random_search") == stream_seed(0, "random_search")
    True
    >>> len({stream_seed(0, "random_search"), stream_seed(0, "halving"), stream_seed(1, "halving")})
    3
    """
    key = tuple(zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys)
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])


def make_search(
    strategy: str,
    pipeline: Any,
    space: Space,
    budget: int,
    ctx: SearchContext,
    *,
    factor: int = 3,
    sampler: str = "tpe",
    storage: str | None = None,
    study_name: str = "tuneworth",
    heartbeat: int | None = 10,
) -> Any:
    """An unfitted ``strategy`` search over ``space`` evaluating ``budget`` configurations.

    ``factor`` is the halving search's elimination factor; ``sampler`` is Optuna's sampler
    (one of :data:`SAMPLERS`); ``storage``, ``study_name`` and ``heartbeat`` place Optuna's
    study (see :class:`OptunaSearchCV`). A search that draws at random is seeded with its
    strategy's own stream of ``ctx.seed`` (:func:`stream_seed`); :func:`for_outer_fold` then
    gives each outer fold a child stream of it.
    """
    common: dict[str, Any] = {
        "scoring": ctx.metric.scoring,
        "cv": inner_cv(ctx),
        "n_jobs": 1,  # parallelism lives at the outer level (arms x folds)
        "error_score": np.nan,  # a failing configuration is recorded, the search goes on
    }
    if strategy == "grid_search":
        return _GridSearchCV(pipeline, grid(space, budget), **common)
    if strategy == "random_search":
        return _RandomizedSearchCV(
            pipeline,
            distributions(space),
            n_iter=budget,
            random_state=stream_seed(ctx.seed, strategy),
            **common,
        )
    if strategy == "halving":
        return _HalvingRandomSearchCV(
            pipeline,
            distributions(space),
            n_candidates=budget,
            factor=factor,
            min_resources="exhaust",  # the last rung then uses (nearly) every row
            random_state=stream_seed(ctx.seed, strategy),
            return_train_score=False,  # its default, True, doubles the scoring cost
            **common,
        )
    if strategy == "optuna":
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown Optuna sampler {sampler!r}; choose one of {SAMPLERS}")
        return OptunaSearchCV(
            pipeline,
            space,
            n_trials=budget,
            scoring=ctx.metric.scoring,
            cv=common["cv"],
            random_state=stream_seed(ctx.seed, f"{strategy}.{sampler}"),
            storage=storage,
            study_name=study_name,
            heartbeat=heartbeat,
            sampler=sampler,
            study_attrs={
                "metric": ctx.metric.label,
                "direction": ctx.metric.direction,
                # Optuna maximises the scorer: a loss is negated, and its name says so.
                "objective": ctx.metric.label
                if ctx.metric.greater_is_better
                else f"-{ctx.metric.label} (negated: higher is better)",
            },
        )
    raise ValueError(f"unknown search strategy {strategy!r}; choose one of {STRATEGIES}")


def for_outer_fold(estimator: Any, fold: int, repeat: int = 0) -> Any:
    """A clone of ``estimator`` to fit on outer fold ``fold`` (of repeat ``repeat``).

    A search that draws at random gets the child stream ``fold`` of its seed, so that the
    outer folds do not all receive the same candidates, and a rerun, a resumed run or a
    ``tuneworth worker`` joining the fold's study draws exactly the same ones. An Optuna
    search's study is named ``<its study name>/r<repeat>-f<fold>`` and records the fold.
    Grid search and plain pipelines are only cloned.
    """
    estimator = clone(estimator)
    seeded = (_RandomizedSearchCV, _HalvingRandomSearchCV, OptunaSearchCV)
    if isinstance(estimator, seeded) and isinstance(estimator.random_state, int | np.integer):
        estimator.set_params(random_state=stream_seed(int(estimator.random_state), fold))
    if isinstance(estimator, OptunaSearchCV):
        estimator.set_params(
            study_name=f"{estimator.study_name}/r{repeat}-f{fold}",
            study_attrs={**(estimator.study_attrs or {}), "fold": fold, "repeat": repeat},
        )
    return estimator


def name_studies(estimator: Any, name: str) -> Any:
    """``estimator`` with its Optuna studies named after ``name`` (``<experiment>/<arm>``),
    which :func:`for_outer_fold` extends with the fold; other estimators are unchanged."""
    if isinstance(estimator, OptunaSearchCV):
        estimator.set_params(study_name=name)
    return estimator


# --- failures: recorded per configuration, fatal only when every configuration fails -----


def _is_failure(caught: warnings.WarningMessage) -> bool:
    """Warnings scikit-learn gives about failed configurations, at length."""
    text = str(caught.message)
    return issubclass(caught.category, FitFailedWarning) or text.startswith(
        ("Scoring failed", "One or more of the test scores are non-finite")
    )


def _error_line(text: str) -> str:
    """The error in a scikit-learn failure message: the last line of its first traceback."""
    for block in text.split("-" * 80):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if any(line.startswith("Traceback") for line in lines):
            return lines[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


class _ReportsFailures:
    """For scikit-learn searches: scikit-learn's long failure warnings become one line, and a
    search in which every configuration fails raises :class:`SearchError`."""

    def fit(self, X: Any, y: Any = None, **params: Any) -> Any:
        crashed = ""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                super().fit(X, y, **params)  # type: ignore[misc]
            except ValueError as exc:  # scikit-learn's "All the N fits failed."
                if "fits failed" not in str(exc):
                    raise
                crashed = str(exc)
        failures = [str(w.message) for w in caught if _is_failure(w)]
        for w in caught:
            if not _is_failure(w):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        first = _error_line(crashed or (failures[0] if failures else ""))
        if crashed:
            fits = re.search(r"All the (\d+) fits failed", crashed)
            n_splits: int = self.n_splits_  # type: ignore[attr-defined]
            which = f"one of the {int(fits[1]) // n_splits} configurations" if fits else "fit"
            raise SearchError(f"every {which} failed; the first error: {first}")
        report_failures(trial_table(self), first)
        return self


class _GridSearchCV(_ReportsFailures, GridSearchCV):  # type: ignore[misc]
    pass


class _RandomizedSearchCV(_ReportsFailures, RandomizedSearchCV):  # type: ignore[misc]
    pass


class _HalvingRandomSearchCV(_ReportsFailures, HalvingRandomSearchCV):  # type: ignore[misc]
    pass
