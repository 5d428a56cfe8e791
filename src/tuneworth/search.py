"""Search strategies behind one interface, all over the same declared space and budget.

``make_search`` returns an unfitted scikit-learn style search: GridSearchCV,
RandomizedSearchCV or :class:`OptunaSearchCV`. After ``fit``, :func:`trial_table` reads the
trials of any of them the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from tuneworth.space import Space, distributions, grid, suggest

if TYPE_CHECKING:
    from tuneworth.levers import BuildContext


def inner_cv(ctx: BuildContext) -> Any:
    """The inner K-fold used inside each outer training fold."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if ctx.task == "regression":
        return KFold(ctx.inner_folds, shuffle=True, random_state=ctx.seed)
    return StratifiedKFold(ctx.inner_folds, shuffle=True, random_state=ctx.seed)


def make_search(strategy: str, pipeline: Any, space: Space, budget: int, ctx: BuildContext) -> Any:
    """An unfitted ``strategy`` search over ``space`` evaluating ``budget`` configurations."""
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    common: dict[str, Any] = {
        "scoring": ctx.metric.scorer,
        "cv": inner_cv(ctx),
        "n_jobs": 1,  # parallelism lives at the outer level (arms x folds)
        "error_score": np.nan,  # a failing configuration is recorded, the search goes on
        "refit": True,
    }
    if strategy == "grid_search":
        return GridSearchCV(pipeline, grid(space, budget), **common)
    if strategy == "random_search":
        return RandomizedSearchCV(
            pipeline, distributions(space), n_iter=budget, random_state=ctx.seed, **common
        )
    if strategy == "optuna":
        return OptunaSearchCV(
            pipeline,
            space,
            n_trials=budget,
            scoring=ctx.metric.scorer,
            cv=common["cv"],
            random_state=ctx.seed,
        )
    raise ValueError(f"unknown search strategy {strategy!r}")


def _best_has(method: str) -> Any:
    def check(self: OptunaSearchCV) -> bool:
        return hasattr(
            self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator, method
        )

    return check


class OptunaSearchCV(MetaEstimatorMixin, BaseEstimator):  # type: ignore[misc]
    """Optuna's TPE search over a declared space, cross-validated like GridSearchCV.

    Each trial fits ``estimator`` with the suggested parameters on every inner fold; a trial
    whose fit fails is recorded as failed and the study goes on. The best configuration is
    refitted on all the data given to ``fit``.

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
        Seed of the TPE sampler.

    Attributes
    ----------
    best_params_ : dict
    best_score_ : float
    best_estimator_ : estimator
    trials_ : pandas.DataFrame
        One row per trial: number, state, score, fit seconds and the parameters.
    """

    def __init__(
        self,
        estimator: Any,
        space: Space,
        n_trials: int = 20,
        scoring: str | None = None,
        cv: Any = 3,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.space = space
        self.n_trials = n_trials
        self.scoring = scoring
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> OptunaSearchCV:
        import optuna
        from sklearn.model_selection import check_cv, cross_validate

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        self.n_splits_ = cv.get_n_splits(X, y)

        def objective(trial: optuna.Trial) -> float:
            params = suggest(trial, self.space)
            estimator = clone(self.estimator).set_params(**params)
            result = cross_validate(
                estimator, X, y, cv=cv, scoring=self.scoring, error_score="raise"
            )
            trial.set_user_attr("fit_seconds", float(np.sum(result["fit_time"])))
            return float(np.mean(result["test_score"]))

        sampler = optuna.samplers.TPESampler(seed=self.random_state)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=self.n_trials, catch=(Exception,))
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            first = study.trials[0].system_attrs.get("fail_reason", "unknown error")
            raise RuntimeError(f"every one of {self.n_trials} trials failed; the first: {first}")
        self.trials_ = pd.DataFrame(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                "score": t.value if t.value is not None else np.nan,
                "fit_seconds": t.user_attrs.get("fit_seconds", np.nan),
                **{f"param.{k}": v for k, v in t.params.items()},
            }
            for t in study.trials
        )
        self.best_params_ = study.best_params
        self.best_score_ = float(study.best_value)
        self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_).fit(X, y)
        return self

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


def trial_table(search: Any) -> pd.DataFrame:
    """The trials of a fitted search, one row each, in the order they ran."""
    if isinstance(search, OptunaSearchCV):
        return search.trials_
    results = search.cv_results_
    table = pd.DataFrame({"trial": np.arange(len(results["params"]))})
    table["score"] = results["mean_test_score"]
    table["state"] = np.where(np.isnan(table["score"]), "fail", "complete")
    table["fit_seconds"] = results["mean_fit_time"] * search.n_splits_
    for key, values in results.items():
        if key.startswith("param_"):
            table[f"param.{key.removeprefix('param_')}"] = list(values)
    return table


def n_fits(search: Any) -> int:
    """Model fits a fitted search made: every trial on every inner fold, plus the refit."""
    return len(trial_table(search)) * int(search.n_splits_) + 1


def best_so_far(trials: pd.DataFrame) -> pd.Series:
    """Best inner score after each trial, averaged over outer folds (failed trials skipped)."""
    ordered = trials.sort_values(["fold", "trial"])
    best = ordered.groupby("fold")["score"].transform(lambda s: s.cummax().ffill())
    return best.groupby(ordered["trial"]).mean()
