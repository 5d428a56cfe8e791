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
scores compare fold by fold. After ``fit``, :func:`search_outcome` reads any of them the
same way, and :func:`compare_strategies` sets the tuning arms of an experiment side by side.
"""

from __future__ import annotations

import json
import math
import re
import time
import warnings
import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingRandomSearchCV, RandomizedSearchCV
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from tuneworth.metrics import orientation
from tuneworth.space import Space, distributions, grid, suggest
from tuneworth.studies import SharedStudy, configuration, open_storage

if TYPE_CHECKING:
    from tuneworth.evaluate import FoldResult
    from tuneworth.levers import BuildContext, Lever

STRATEGIES = ("grid_search", "random_search", "optuna", "halving")
SAMPLERS = ("tpe", "gp", "random")
# What an Optuna sampler needs beyond tuneworth's dependencies: (module, pip requirement).
_SAMPLER_NEEDS = {"gp": ("torch", "tuneworth[gp]")}
# Inner scores of one configuration on the same splits are bit-identical; this only absorbs
# summation-order noise between strategies that average the same fold scores.
_MATCH_TOLERANCE = 1e-12


class SearchError(RuntimeError):
    """Every configuration of a search failed."""


def inner_cv(ctx: BuildContext) -> Any:
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


def startup_trials(budget: int) -> int:
    """How many of ``budget`` trials a model-based Optuna sampler (TPE, GP) draws at random
    before its model proposes the rest: a quarter of the budget, at least 2 and at most
    Optuna's default of 10.

    Optuna's default start-up of 10 random trials suits its usual budgets of a hundred or
    more; on tuneworth's budgets of 10 to 40 it would make TPE random search for most or all
    of its budget. Small initial designs do best on small budgets (Bossek, Doerr & Kerschke,
    GECCO 2020); two points are the least that give TPE one good and one bad observation.

    >>> [startup_trials(budget) for budget in (1, 4, 10, 20, 40, 100)]
    [1, 2, 2, 5, 10, 10]
    """
    return min(budget, max(2, min(10, budget // 4)))


def missing_dependency(sampler: str) -> str | None:
    """None if Optuna's ``sampler`` can run here, else a one-line error with the install hint.

    >>> missing_dependency("tpe") is None
    True
    """
    import importlib.util

    if sampler not in _SAMPLER_NEEDS:
        return None
    module, requirement = _SAMPLER_NEEDS[sampler]
    if importlib.util.find_spec(module) is not None:
        return None
    return (
        f"Optuna's {sampler.upper()} sampler needs {module}, which is not installed: "
        f"pip install '{requirement}'"
    )


# The user attribute that says which search a study's trials belong to.
_KEY = "tuneworth.key"


def make_search(
    strategy: str,
    pipeline: Any,
    space: Space,
    budget: int,
    ctx: BuildContext,
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
        "scoring": ctx.metric.scorer,
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
            scoring=ctx.metric.scorer,
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


def _report_failures(table: pd.DataFrame, first_error: str) -> None:
    """Raise if no configuration succeeded; else one short warning if some failed."""
    configs = table.drop_duplicates("candidate")  # a halving candidate's first rung
    failed = int((configs["state"] != "complete").sum())
    if not (table["state"] == "complete").any():
        raise SearchError(
            f"every one of the {len(configs)} configurations failed; the first error: {first_error}"
        )
    if failed:
        warnings.warn(
            f"{failed} of {len(configs)} configurations failed; the first error: {first_error}",
            FitFailedWarning,
            stacklevel=3,
        )


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
        _report_failures(trial_table(self), first)
        return self


class _GridSearchCV(_ReportsFailures, GridSearchCV):  # type: ignore[misc]
    pass


class _RandomizedSearchCV(_ReportsFailures, RandomizedSearchCV):  # type: ignore[misc]
    pass


class _HalvingRandomSearchCV(_ReportsFailures, HalvingRandomSearchCV):  # type: ignore[misc]
    pass


# --- Optuna -----------------------------------------------------------------------------


def study_table(trials: Sequence[Any]) -> pd.DataFrame:
    """The trial table (see :func:`trial_table`) of finished Optuna trials, in the order given.

    ``trial`` and ``candidate`` count from 0 in that order; fit seconds and error are the
    ``fit_seconds`` and ``error`` user attributes.

    Examples
    --------
    >>> import optuna
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    >>> study_table(study.trials)[["trial", "state"]].to_dict("list")
    {'trial': [0, 1], 'state': ['complete', 'complete']}
    """
    rows = []
    for position, trial in enumerate(trials):
        error = trial.user_attrs.get("error", "")
        if trial.state.name == "FAIL" and not error:
            error = "its worker died on every attempt (heartbeat lost)"
        rows.append(
            {
                "trial": position,
                "candidate": position,
                "comparable": True,
                "state": trial.state.name.lower(),
                "score": trial.value if trial.value is not None else np.nan,
                "fit_seconds": trial.user_attrs.get("fit_seconds", np.nan),
                "error": error,
                **{f"param.{name}": value for name, value in trial.params.items()},
            }
        )
    return pd.DataFrame(rows)


def _best_has(method: str) -> Any:
    def check(self: OptunaSearchCV) -> bool:
        return hasattr(
            self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator, method
        )

    return check


class OptunaSearchCV(MetaEstimatorMixin, BaseEstimator):  # type: ignore[misc]
    """An Optuna search over a declared space, cross-validated like GridSearchCV.

    The study's sampler is TPE (default), a Gaussian process or random; TPE and GP draw
    their first ``n_startup_trials`` trials at random before their model proposes. Each
    trial fits ``estimator`` with the suggested parameters on every inner fold; a trial
    whose fit fails is recorded as failed and the study goes on. The best configuration is
    refitted on all the data given to ``fit``.

    The study is named ``study_name`` and carries ``study_attrs`` as user attributes (the
    metric, its direction, the outer fold), and the objective's name, for optuna-dashboard.
    In a ``storage``, it also records a hash of everything that determines its trials
    (estimator, space, scoring, splitter, seed, sampler and data), so running the same
    search again resumes it, and ``tuneworth worker`` processes on other machines can add
    trials to it (:meth:`open_study`); a study of that name that holds another search's
    trials is left alone, and this one is named ``<study_name>~<hash>``. However many
    processes add trials, the study ends with exactly ``n_trials`` evaluated
    configurations, by the rule of :mod:`tuneworth.studies`; ``fit`` waits for the ones
    others are running, then reads the trials and the best configuration from the study.

    Parameters
    ----------
    estimator : estimator
        The estimator or pipeline to tune.
    space : mapping of str to dimension
        Parameter names (``model__C``) to :mod:`tuneworth.space` dimensions.
    n_trials : int
        Configurations to evaluate.
    scoring : str
        A scikit-learn scorer name; greater is better.
    cv : int or cross-validation splitter
        The inner cross-validation.
    random_state : int or None
        Seed of the sampler.
    storage : str or None
        None for memory, or a URL for :func:`tuneworth.studies.open_storage`.
    study_name : str
        The study's name (``<experiment>/<arm>/r<repeat>-f<fold>`` in an experiment).
    heartbeat : int or None
        Seconds between the heartbeats of running trials in a database storage: a trial
        whose process died is failed after three missed heartbeats and run again. None
        turns heartbeats off (then no other process may share the study).
    sampler : {"tpe", "gp", "random"}
        Optuna's sampler: ``TPESampler``, ``GPSampler`` (needs PyTorch: ``pip install
        'tuneworth[gp]'``; suits small budgets and numeric spaces) or ``RandomSampler``.
    n_startup_trials : int or None
        Random trials before TPE's or GP's model proposes; None sizes them to the budget
        (:func:`startup_trials`). Ignored by the random sampler.
    study_attrs : mapping of str to JSON value, or None
        User attributes of the study; ``objective`` is also the name of its objective.

    Attributes
    ----------
    best_params_ : dict
    best_score_ : float
    best_estimator_ : estimator
    trials_ : pandas.DataFrame
        One row per evaluated configuration, in the order they were proposed (see
        :func:`study_table`).
    study_name_ : str
        The study's full name in ``storage``.
    fit_seconds_elsewhere_ : float
        Fit seconds of the counted trials that other processes ran.
    n_startup_trials_ : int
        The random start-up trials the sampler was given (0 for the random sampler, whose
        every trial is random).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from tuneworth.space import IntRange
    >>> X, y = load_iris(return_X_y=True)
    >>> search = OptunaSearchCV(KNeighborsClassifier(), {"n_neighbors": IntRange(1, 30)},
    ...                         n_trials=5, scoring="accuracy", random_state=0).fit(X, y)
    >>> len(search.trials_), 0.9 < search.best_score_ <= 1.0
    (5, True)
    """

    def __init__(
        self,
        estimator: Any,
        space: Space,
        n_trials: int = 20,
        scoring: str | None = None,
        cv: Any = 3,
        random_state: int | None = None,
        storage: str | None = None,
        study_name: str = "tuneworth",
        heartbeat: int | None = 10,
        sampler: str = "tpe",
        n_startup_trials: int | None = None,
        study_attrs: Mapping[str, Any] | None = None,
    ) -> None:
        self.estimator = estimator
        self.space = space
        self.n_trials = n_trials
        self.scoring = scoring
        self.cv = cv
        self.random_state = random_state
        self.storage = storage
        self.study_name = study_name
        self.heartbeat = heartbeat
        self.sampler = sampler
        self.n_startup_trials = n_startup_trials
        self.study_attrs = study_attrs

    def fit(self, X: Any, y: Any = None) -> OptunaSearchCV:
        shared = self.open_study(X, y)
        self.n_splits_ = self._cv(y).get_n_splits(X, y)
        spent = shared.spend(wait=True).spent
        # In the order the configurations were proposed (a retry in its original's place).
        spent = tuple(sorted(spent, key=configuration))
        self.trials_ = study_table(spent)
        self.study_name_ = shared.study.study_name
        self.n_startup_trials_ = self._startup()
        mine = set(shared.ran)
        self.fit_seconds_elsewhere_ = float(
            sum(t.user_attrs.get("fit_seconds", 0.0) for t in spent if t.number not in mine)
        )
        errors = self.trials_["error"][self.trials_["error"] != ""]
        _report_failures(self.trials_, errors.iloc[0] if len(errors) else "unknown error")
        complete = [t for t in spent if t.state.name == "COMPLETE"]
        best = max(complete, key=lambda t: t.value)  # the first of equals, as Optuna's
        self.best_params_ = dict(best.params)
        self.best_score_ = float(best.value)
        self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_).fit(X, y)
        return self

    def open_study(self, X: Any, y: Any = None, *, worker: bool = False) -> SharedStudy:
        """This search's study on ``(X, y)``, created if no process has yet, ready to spend
        its budget (:meth:`tuneworth.studies.SharedStudy.spend`).

        A ``worker`` seeds its sampler afresh, so processes sharing a study do not propose
        the same configurations; ``fit`` seeds it with ``random_state``, so a search alone
        on its study is reproducible.
        """
        import joblib
        import optuna
        from sklearn.model_selection import cross_validate

        missing = missing_dependency(self.sampler)
        if missing is not None:
            raise ImportError(missing)
        # Failed trials are reported once, by _report_failures, not by Optuna's logger.
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        cv = self._cv(y)

        def objective(trial: optuna.Trial) -> float:
            start = time.perf_counter()
            try:
                params = suggest(trial, self.space)
                estimator = clone(self.estimator).set_params(**params)
                result = cross_validate(
                    estimator, X, y, cv=cv, scoring=self.scoring, error_score="raise"
                )
            except Exception as exc:
                trial.set_user_attr("fit_seconds", time.perf_counter() - start)
                trial.set_user_attr("error", f"{type(exc).__name__}: {exc}".splitlines()[0])
                raise
            trial.set_user_attr("fit_seconds", float(np.sum(result["fit_time"])))
            return float(np.mean(result["test_score"]))

        name, key = self.study_name, None
        if self.storage is not None:
            # A wrapped scorer (progress ticks) names the same study as the scorer it wraps. The
            # budget is not in the key, so a larger one extends the study instead of restarting.
            scoring = getattr(self.scoring, "__wrapped__", self.scoring)
            searched = (
                clone(self.estimator),
                dict(self.space),
                scoring,
                cv,
                self.random_state,
                self.sampler,
            )
            key = joblib.hash((searched, X, y))[:12]
        storage = open_storage(self.storage, self.heartbeat)
        sampler = self._make_sampler(None if worker else self.random_state)

        def create(study_name: str) -> Any:
            return optuna.create_study(
                storage=storage,
                study_name=study_name,
                load_if_exists=True,
                direction="maximize",
                sampler=sampler,
            )

        study = create(name)
        if key is not None and study.user_attrs.get(_KEY, key) != key:
            study = create(f"{name}~{key}")  # the name holds another search's trials
        attrs = {**(self.study_attrs or {}), **({_KEY: key} if key else {})}
        for attr, value in attrs.items():
            if study.user_attrs.get(attr) != value:
                study.set_user_attr(attr, value)
        objective_name = str(attrs.get("objective", "score"))
        if study.metric_names != [objective_name]:
            with warnings.catch_warnings():
                # Experimental since Optuna 3.2, and what optuna-dashboard labels its plots by.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names([objective_name])
        return SharedStudy(study, objective, self.n_trials)

    def _startup(self) -> int:
        if self.sampler == "random":
            return 0
        if self.n_startup_trials is not None:
            return int(self.n_startup_trials)
        return startup_trials(self.n_trials)

    def _make_sampler(self, seed: int | None) -> Any:
        import optuna

        if self.sampler == "tpe":
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=self._startup())
        if self.sampler == "gp":
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=self._startup())
        if self.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        raise ValueError(f"unknown Optuna sampler {self.sampler!r}; choose one of {SAMPLERS}")

    def _cv(self, y: Any) -> Any:
        from sklearn.model_selection import check_cv

        return check_cv(self.cv, y, classifier=is_classifier(self.estimator))

    @property
    def classes_(self) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.classes_

    def predict(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @available_if(_best_has("predict_proba"))  # type: ignore[untyped-decorator]
    def predict_proba(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    @available_if(_best_has("decision_function"))  # type: ignore[untyped-decorator]
    def decision_function(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    def score(self, X: Any, y: Any) -> float:
        from sklearn.metrics import check_scoring

        check_is_fitted(self)
        return float(check_scoring(self.best_estimator_, self.scoring)(self.best_estimator_, X, y))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        return tags


# --- reading a fitted search ------------------------------------------------------------


def trial_table(search: Any) -> pd.DataFrame:
    """The evaluations of a fitted search, one row each, in the order they ran.

    Columns: ``trial`` (0-based), ``candidate`` (the configuration drawn as the
    ``candidate``-th, 0-based; differs from ``trial`` only for halving, which scores a
    candidate once per rung), ``comparable`` (scored on the full inner folds, so comparable
    across strategies: for halving only the last rung), ``state``, ``score`` (the scorer's
    orientation: greater is better), ``fit_seconds`` (summed over inner folds) and
    ``param.<name>``; halving adds ``rung`` and ``n_resources`` (rows per inner fit).
    """
    if isinstance(search, OptunaSearchCV):
        return search.trials_.copy()
    results = search.cv_results_
    params: list[dict[str, Any]] = list(results["params"])
    table = pd.DataFrame({"trial": np.arange(len(params))})
    table["candidate"] = table["trial"]
    if "iter" in results:
        table["rung"] = np.asarray(results["iter"])
        table["n_resources"] = np.asarray(results["n_resources"])
        table["comparable"] = table["rung"] == table["rung"].max()
        # A survivor is the first candidate of the first rung with its parameters.
        keys = [json.dumps(p, sort_keys=True, default=repr) for p in params]
        first: dict[str, int] = {}
        for trial, (key, rung) in enumerate(zip(keys, table["rung"], strict=True)):
            if rung == 0:
                first.setdefault(key, trial)
            else:
                table.loc[trial, "candidate"] = first[key]
    else:
        table["comparable"] = True
    scores = np.asarray(results["mean_test_score"], dtype=float)
    table["state"] = np.where(np.isnan(scores), "fail", "complete")
    table["score"] = scores
    table["fit_seconds"] = np.asarray(results["mean_fit_time"]) * search.n_splits_
    for name in dict.fromkeys(name for p in params for name in p):
        table[f"param.{name}"] = [p.get(name) for p in params]
    return table


def search_outcome(search: Any, greater_is_better: bool) -> dict[str, Any]:
    """What a fitted search tells about itself, with scores in the metric's natural
    orientation (an RMSE is positive): ``n_fits`` (every inner fit plus the refit),
    ``best_params``, ``inner_best_score``, the ``trials`` table and an Optuna search's
    ``study`` name."""
    sign = orientation(greater_is_better)
    trials = trial_table(search)
    trials["score"] = sign * trials["score"]
    return {
        "n_fits": len(trials) * int(search.n_splits_) + 1,
        "best_params": dict(search.best_params_),
        "inner_best_score": sign * float(search.best_score_),
        "trials": trials,
        **({"study": str(search.study_name_)} if hasattr(search, "study_name_") else {}),
    }


# --- comparing searches -----------------------------------------------------------------


def _curves(trials: pd.DataFrame, greater_is_better: bool) -> pd.DataFrame:
    """Per fold, after each number of configurations evaluated (candidates drawn, duplicates
    included): the best comparable inner score so far, oriented so that greater is better
    (NaN until the first one)."""
    sign = orientation(greater_is_better)
    rows = trials.sort_values(["fold", "trial"], kind="stable")
    counts = rows["comparable"].astype(bool) & (rows["state"] == "complete")
    oriented = (sign * rows["score"]).where(counts)
    best = oriented.groupby(rows["fold"]).cummax().groupby(rows["fold"]).ffill()
    configs = (~rows[["fold", "candidate"]].duplicated()).groupby(rows["fold"]).cumsum()
    frame = pd.DataFrame({"fold": rows["fold"], "configs": configs, "best": best})
    return frame.drop_duplicates(["fold", "configs"], keep="last").reset_index(drop=True)


def best_so_far(trials: pd.DataFrame, greater_is_better: bool = True) -> pd.Series:
    """Best inner score after each number of configurations evaluated, mean over folds.

    ``trials`` are trial tables with a ``fold`` column, scores in the metric's natural
    orientation. Failed and non-comparable evaluations (halving's lower rungs) are skipped.

    >>> trials = pd.DataFrame({"fold": [0, 0, 0, 1, 1, 1], "trial": [0, 1, 2] * 2,
    ...     "candidate": [0, 1, 2] * 2, "comparable": True, "state": "complete",
    ...     "score": [0.5, 0.7, 0.6, 0.8, 0.7, 0.9]})
    >>> best_so_far(trials).round(2).to_dict()
    {1: 0.65, 2: 0.75, 3: 0.8}
    """
    sign = orientation(greater_is_better)
    curves = _curves(trials, greater_is_better)
    wide = curves.pivot(index="configs", columns="fold", values="best").ffill()
    return (sign * wide.mean(axis=1)).dropna().rename("best_so_far")


def trials_to_match(
    trials: pd.DataFrame, targets: Mapping[int, float], greater_is_better: bool = True
) -> pd.Series:
    """Per fold, configurations evaluated until the best-so-far inner score first reached
    ``targets[fold]`` (1-based); infinity where it never did.

    >>> trials = pd.DataFrame({"fold": [0, 0, 0, 1, 1, 1], "trial": [0, 1, 2] * 2,
    ...     "candidate": [0, 1, 2] * 2, "comparable": True, "state": "complete",
    ...     "score": [0.5, 0.7, 0.6, 0.8, 0.7, 0.9]})
    >>> trials_to_match(trials, {0: 0.7, 1: 0.95}).to_dict()
    {0: 2.0, 1: inf}
    """
    sign = orientation(greater_is_better)
    curves = _curves(trials, greater_is_better)
    needed = {}
    for fold, target in targets.items():
        curve = curves[curves["fold"] == fold]
        hit = curve[curve["best"] >= sign * target - _MATCH_TOLERANCE]
        needed[fold] = float(hit["configs"].iloc[0]) if len(hit) else math.inf
    return pd.Series(needed, dtype=float, name="trials_to_match")


class ArmLike(Protocol):
    """What :func:`compare_strategies` needs of an arm."""

    @property
    def name(self) -> str: ...

    @property
    def levers(self) -> tuple[Lever, ...]: ...


def compare_strategies(
    arms: Sequence[ArmLike],
    results: Mapping[str, Sequence[FoldResult]],
    greater_is_better: bool,
) -> pd.DataFrame:
    """One row per tuning arm: what its search found, against grid search and untuned.

    Arms compare when they apply the same non-tuning levers (they tune the same pipeline).
    Within such a group, the *untuned* arm has no tuning lever and the *grid* arm is the
    first grid search. Columns:

    - ``strategy``, ``untuned`` (that arm's name, "" if none)
    - ``configurations``: configurations drawn and evaluated (the budget spent), and
      ``distinct``: how many of them differ (random draws repeat on discrete spaces),
      medians over folds; ``random_startup``: how many of them a model-based search (TPE,
      GP) drew at random before its model proposed (NaN for the others)
    - ``inner_score``: the best inner CV score, mean over folds
    - ``optimism_gap``: best inner score minus the outer test score of the chosen
      configuration, mean over folds; positive when the inner CV was optimistic, for
      lower-is-better metrics too
    - ``trials_to_match_grid``: configurations evaluated until the best-so-far inner score
      reached grid search's best inner score on the same fold, median over folds (infinite:
      not reached on most folds); ``folds_matching_grid`` counts the folds that reached it.
      Only scores on the full inner folds count, so successive halving, whose last rung
      alone is scored on them, after all its candidates, counts its whole budget or never
    - ``gain_vs_untuned``: mean paired outer-score gain over the untuned arm (positive is
      better, for lower-is-better metrics too)
    - ``cost_vs_untuned``: fit CPU seconds relative to the untuned arm
    """
    from tuneworth.levers import TuningLever

    def search_lever(arm: ArmLike) -> TuningLever | None:
        tuning = [lever for lever in arm.levers if isinstance(lever, TuningLever)]
        return tuning[-1] if tuning else None

    def strategy(arm: ArmLike) -> str:
        lever = search_lever(arm)
        return lever.name if lever is not None else ""

    def group(arm: ArmLike) -> str:
        levers = [
            [lever.name, lever.model_dump(mode="json", by_alias=True)]
            for lever in arm.levers
            if not isinstance(lever, TuningLever)
        ]
        return json.dumps(levers, sort_keys=True, default=str)

    untuned: dict[str, str] = {}
    grids: dict[str, str] = {}
    for arm in arms:
        if not strategy(arm):
            untuned.setdefault(group(arm), arm.name)
        elif strategy(arm) == "grid_search":
            grids.setdefault(group(arm), arm.name)

    def scored(name: str) -> dict[int, FoldResult]:
        return {r.fold: r for r in results.get(name, ()) if not r.failed}

    sign = orientation(greater_is_better)
    rows = []
    for arm in arms:
        if not strategy(arm):
            continue
        folds = scored(arm.name)
        tables = [r.trials.assign(fold=fold) for fold, r in folds.items() if r.trials is not None]
        trials = pd.concat(tables, ignore_index=True) if tables else None
        row: dict[str, Any] = {
            "arm": arm.name,
            "strategy": strategy(arm),
            "untuned": untuned.get(group(arm), ""),
            "configurations": math.nan,
            "distinct": math.nan,
            "random_startup": math.nan,
            "inner_score": math.nan,
            "optimism_gap": math.nan,
            "trials_to_match_grid": math.nan,
            "folds_matching_grid": 0,
            "gain_vs_untuned": math.nan,
            "cost_vs_untuned": math.nan,
        }
        if trials is not None:
            row["configurations"] = float(trials.groupby("fold")["candidate"].nunique().median())
            params = [c for c in trials.columns if c.startswith("param.")]
            distinct = trials.astype({c: str for c in params}).drop_duplicates(["fold", *params])
            row["distinct"] = float(distinct.groupby("fold").size().median())
            lever = search_lever(arm)
            startup = lever.random_startup(int(row["configurations"])) if lever else None
            row["random_startup"] = math.nan if startup is None else float(startup)
            row["inner_score"] = float(np.mean([r.inner_best_score for r in folds.values()]))
            row["optimism_gap"] = float(
                np.mean([sign * (r.inner_best_score - r.score) for r in folds.values()])
            )
            grid_folds = scored(grids.get(group(arm), ""))
            targets = {f: r.inner_best_score for f, r in grid_folds.items() if f in folds}
            if targets:
                needed = trials_to_match(trials, targets, greater_is_better)
                row["trials_to_match_grid"] = float(np.median(needed))
                row["folds_matching_grid"] = int(np.isfinite(needed).sum())
        twin = scored(row["untuned"])
        common = sorted(set(folds) & set(twin))
        if common:
            row["gain_vs_untuned"] = float(
                np.mean([sign * (folds[f].score - twin[f].score) for f in common])
            )
            base = sum(twin[f].fit_cpu_seconds for f in common)
            cost = sum(folds[f].fit_cpu_seconds for f in common)
            row["cost_vs_untuned"] = cost / base if base > 0 else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=list(_COMPARISON_COLUMNS))


_COMPARISON_COLUMNS = (
    "arm",
    "strategy",
    "untuned",
    "configurations",
    "distinct",
    "random_startup",
    "inner_score",
    "optimism_gap",
    "trials_to_match_grid",
    "folds_matching_grid",
    "gain_vs_untuned",
    "cost_vs_untuned",
)
