"""Optuna as a scikit-learn search: :class:`OptunaSearchCV`, and its samplers' settings."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from tuneworth.scoring import scorer_name
from tuneworth.space import Space, suggest
from tuneworth.studies import SharedStudy, configuration, open_storage
from tuneworth.trials import report_failures, study_table

SAMPLERS = ("tpe", "gp", "random")
# What an Optuna sampler needs beyond tuneworth's dependencies: (module, pip requirement).
_SAMPLER_NEEDS = {"gp": ("torch", "tuneworth[gp]")}


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
    scoring : str or callable
        A scikit-learn scorer name or a scorer (``scorer(estimator, X, y)``, such as
        :class:`tuneworth.scoring.Scorer`); greater is better.
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
    trial_params_ : list of dict
        Each of those configurations' parameters, as the study proposed them.
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
        scoring: Any = None,
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
        # As the study gave them: a table column may turn a None into NaN.
        self.trial_params_ = [dict(t.params) for t in spent]
        self.study_name_ = shared.study.study_name
        self.n_startup_trials_ = self._startup()
        mine = set(shared.ran)
        self.fit_seconds_elsewhere_ = float(
            sum(t.user_attrs.get("fit_seconds", 0.0) for t in spent if t.number not in mine)
        )
        errors = self.trials_["error"][self.trials_["error"] != ""]
        report_failures(self.trials_, errors.iloc[0] if len(errors) else "unknown error")
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
            # A scorer is keyed by its scikit-learn name, and a wrapped one (progress ticks) as
            # the scorer it wraps. The budget is not in the key, so a larger one extends the
            # study instead of restarting.
            scoring = scorer_name(self.scoring)
            searched = (
                clone(self.estimator),
                dict(self.space),
                scoring,
                cv,
                self.random_state,
                self.sampler,
            )
            # The target's values, not its container: a Series and its array are one study.
            key = joblib.hash((searched, X, None if y is None else np.asarray(y)))[:12]
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
