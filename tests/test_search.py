from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_iris
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

import tuneworth.optuna_search
from tuneworth.data import Schema
from tuneworth.errors import TuneworthError
from tuneworth.evaluate import fit_and_score
from tuneworth.experiment import plan_experiment, run_experiment
from tuneworth.levers import BuildContext
from tuneworth.metrics import METRICS
from tuneworth.optuna_search import OptunaSearchCV, startup_trials
from tuneworth.planning import Plan
from tuneworth.search import STRATEGIES, for_outer_fold, make_search
from tuneworth.space import Choice, FloatRange, IntRange, grid, grid_size
from tuneworth.spec import parse_spec
from tuneworth.studies import open_storage
from tuneworth.trials import SearchError, search_outcome

pytestmark = pytest.mark.usefixtures("one_thread")


def context(**overrides: Any) -> BuildContext:
    settings: dict[str, Any] = {
        "schema": Schema((), ()),
        "task": "multiclass",
        "metric": METRICS["accuracy"],
        "seed": 0,
        "inner_folds": 3,
        "trials": 6,
    }
    return BuildContext(**{**settings, **overrides})


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


class PickyLogistic(LogisticRegression):
    """Refuses C above 1: a configuration that fails for some parameter values."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PickyLogistic:
        if self.C > 1:
            raise ValueError("C above 1 is refused")
        return super().fit(X, y, sample_weight)


# --- grid resolution --------------------------------------------------------------------

numeric = st.one_of(
    st.builds(FloatRange, st.just(0.0), st.floats(0.5, 10.0)),
    st.builds(IntRange, st.just(1), st.integers(2, 40), st.booleans()),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(numeric, min_size=1, max_size=4), st.integers(1, 60))
def test_grid_is_the_finest_that_fits_the_budget(dims: list[Any], budget: int) -> None:
    space = {f"p{i}": dim for i, dim in enumerate(dims)}
    points = grid(space, budget)
    size = grid_size(space, budget)
    assert size <= budget
    assert all(len(set(values)) == len(values) for values in points.values())
    # Maximal: no range can take one more point without breaking the budget.
    for name, dim in space.items():
        more = len(points[name]) + 1
        capacity = dim.high - dim.low + 1 if isinstance(dim, IntRange) else math.inf
        if more <= capacity:
            assert size // len(points[name]) * more > budget


def test_grid_refuses_choices_that_exceed_the_budget() -> None:
    space = {"a": Choice(("x", "y", "z")), "b": Choice((1, 2))}
    with pytest.raises(ValueError, match="make 6 combinations, more than the budget of 5"):
        grid(space, 5)


# --- strategies -------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_evaluates_the_budget(
    strategy: str, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    space = {"C": FloatRange(1e-3, 1e2, log=True)}
    search = make_search(strategy, LogisticRegression(max_iter=1000), space, 6, context())
    outcome = search_outcome(search.fit(*iris), greater_is_better=True)
    trials = outcome["trials"]
    assert trials["candidate"].nunique() == 6
    assert trials["comparable"].any()
    best = trials.loc[trials["comparable"], "score"].max()
    assert outcome["inner_best_score"] == pytest.approx(best)
    assert outcome["n_fits"] == len(trials) * 3 + 1
    if strategy == "halving":  # 6 candidates, then the best 2 on three times the rows
        assert trials["rung"].tolist() == [0] * 6 + [1] * 2
        assert not trials.loc[trials["rung"] == 0, "comparable"].any()


def test_strategies_score_a_configuration_on_the_same_inner_splits(
    iris: tuple[np.ndarray, np.ndarray],
) -> None:
    space = {"n_neighbors": Choice((1, 5, 15)), "weights": Choice(("uniform", "distance"))}
    tables = {}
    for strategy in ("grid_search", "random_search", "optuna"):
        search = make_search(strategy, KNeighborsClassifier(), space, 6, context()).fit(*iris)
        table = search_outcome(search, True)["trials"]
        keys = zip(table["param.n_neighbors"], table["param.weights"], strict=True)
        tables[strategy] = dict(zip(keys, table["score"], strict=True))
    for strategy in ("random_search", "optuna"):
        shared = set(tables[strategy]) & set(tables["grid_search"])
        assert shared
        assert all(tables[strategy][k] == tables["grid_search"][k] for k in shared)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_failed_configurations_are_recorded_and_the_search_goes_on(
    strategy: str, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    space = {"C": FloatRange(1e-3, 1e3, log=True)}
    search = make_search(strategy, PickyLogistic(max_iter=1000), space, 9, context())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(*iris)
    trials = search_outcome(search, True)["trials"]
    first_rung = trials.drop_duplicates("candidate")
    failed = first_rung["state"] == "fail"
    assert 0 < failed.sum() < len(first_rung)
    assert (first_rung.loc[failed, "param.C"] > 1).all()
    assert search.best_params_["C"] <= 1
    notes = [str(w.message) for w in caught if issubclass(w.category, FitFailedWarning)]
    assert notes == [
        f"{failed.sum()} of {len(first_rung)} configurations failed; "
        "the first error: ValueError: C above 1 is refused"
    ]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_search_where_every_configuration_fails_says_why(
    strategy: str, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    space = {"C": FloatRange(2.0, 100.0)}
    search = make_search(strategy, PickyLogistic(max_iter=1000), space, 4, context())
    with pytest.raises(SearchError, match="failed; the first error: ValueError: C above 1"):
        search.fit(*iris)


def test_optuna_is_seeded(iris: tuple[np.ndarray, np.ndarray]) -> None:
    space = {"C": FloatRange(1e-3, 1e2, log=True)}

    def params(seed: int) -> list[float]:
        search = make_search(
            "optuna", LogisticRegression(max_iter=1000), space, 4, context(seed=seed)
        )
        return search.fit(*iris).trials_["param.C"].tolist()

    assert params(1) == params(1) != params(2)


# --- every search its own stream; Optuna's samplers -------------------------------------

STREAMS = {
    "name": "streams",
    "dataset": {"source": "sklearn:iris"},
    "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
    "baseline": {"model": "linear"},  # one parameter, C, on a log range
    "levers": [
        {"random_search": {"trials": 10}},
        {"optuna": {"trials": 10}},
        {"halving": {"trials": 10}},
    ],
    "seed": 3,
}
RANDOM, TPE, HALVING = (
    "random search, 10 trials",
    "optuna TPE, 10 trials",
    ("successive halving, 10 trials"),
)


@pytest.fixture(scope="module")
def streams_plan() -> Plan:
    return plan_experiment(parse_spec(STREAMS))


def drawn(plan: Plan, arm: str, fold: int) -> list[float]:
    """The values of C the arm's search drew on outer fold ``fold``, as a run fits it."""
    split = plan.splits[fold]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)  # halving's smallest rung
        result = fit_and_score(
            arm, plan.pipelines[arm], plan.dataset.X, plan.dataset.y, split, plan.metric
        )
    assert result.error is None and result.trials is not None
    return result.trials.drop_duplicates("candidate")["param.model__C"].tolist()


def test_random_search_and_tpe_evaluate_different_configurations_at_ten_trials(
    streams_plan: Plan,
) -> None:
    random, tpe = drawn(streams_plan, RANDOM, 0), drawn(streams_plan, TPE, 0)
    assert len(random) == len(tpe) == 10
    assert not set(random) & set(tpe)  # not one configuration in common, start-up included
    assert not set(drawn(streams_plan, HALVING, 0)) & set(random)


@pytest.mark.parametrize("arm", [RANDOM, TPE, HALVING])
def test_each_outer_fold_draws_its_own_candidates(streams_plan: Plan, arm: str) -> None:
    first, second = drawn(streams_plan, arm, 0), drawn(streams_plan, arm, 1)
    assert not set(first) & set(second)


@pytest.mark.parametrize("arm", [RANDOM, TPE, HALVING])
def test_a_rerun_draws_the_same_candidates_on_the_same_fold(streams_plan: Plan, arm: str) -> None:
    again = plan_experiment(parse_spec(STREAMS))  # a new run of the same spec
    assert drawn(again, arm, 2) == drawn(streams_plan, arm, 2)


def test_the_seed_changes_every_stream(streams_plan: Plan) -> None:
    other = plan_experiment(parse_spec({**STREAMS, "seed": 4}))
    assert not set(drawn(other, RANDOM, 0)) & set(drawn(streams_plan, RANDOM, 0))


@pytest.mark.parametrize(
    ("budget", "startup"), [(1, 1), (3, 2), (10, 2), (12, 3), (20, 5), (40, 10), (200, 10)]
)
def test_the_random_start_up_is_a_quarter_of_the_budget_from_2_to_10(
    budget: int, startup: int
) -> None:
    assert startup_trials(budget) == startup


@pytest.mark.parametrize(
    ("sampler", "budget", "startup"), [("tpe", 10, 2), ("tpe", 20, 5), ("gp", 10, 2)]
)
def test_a_model_based_sampler_draws_its_start_up_at_random_then_follows_its_model(
    sampler: str, budget: int, startup: int, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    if sampler == "gp":
        pytest.importorskip("torch")
    space = {"C": FloatRange(1e-3, 1e2, log=True)}

    def study(sampler: str) -> OptunaSearchCV:
        search = OptunaSearchCV(
            LogisticRegression(max_iter=1000), space, budget, "accuracy", 3, 7, sampler=sampler
        )
        return search.fit(*iris)

    guided, random = study(sampler), study("random")
    assert guided.n_startup_trials_ == startup and random.n_startup_trials_ == 0
    # The start-up draws are those of a random sampler with the same seed; then the model's.
    values, draws = guided.trials_["param.C"].tolist(), random.trials_["param.C"].tolist()
    assert values[:startup] == draws[:startup]
    assert values[startup] != draws[startup]


@pytest.mark.parametrize(
    ("sampler", "arm", "kind"),
    [
        ("tpe", "optuna TPE", "TPESampler"),
        ("gp", "optuna GP", "GPSampler"),
        ("random", "optuna random", "RandomSampler"),
    ],
)
def test_the_optuna_lever_runs_the_sampler_its_spec_names(
    sampler: str,
    arm: str,
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
    iris: tuple[np.ndarray, np.ndarray],
) -> None:
    # PyTorch serves GP's proposals, not the study's creation: this test needs none.
    monkeypatch.setattr(tuneworth.optuna_search, "_SAMPLER_NEEDS", {})
    spec = parse_spec({**STREAMS, "levers": [{"optuna": {"sampler": sampler}}]})
    assert spec.levers[0].sampler == sampler  # type: ignore[attr-defined]
    plan = plan_experiment(spec)
    assert [a.name for a in plan.arms] == ["baseline", arm]
    study = for_outer_fold(plan.pipelines[arm], 0).open_study(*iris).study
    assert type(study.sampler).__name__ == kind


def test_two_optuna_levers_with_different_samplers_are_two_arms_with_two_streams() -> None:
    levers = [{"optuna": {}}, {"optuna": {"sampler": "random"}}]
    plan = plan_experiment(parse_spec({**STREAMS, "levers": levers}))
    tpe, random = plan.pipelines["optuna TPE"], plan.pipelines["optuna random"]
    assert (tpe.sampler, random.sampler) == ("tpe", "random")
    assert tpe.random_state != random.random_state


def test_an_unknown_sampler_is_refused_with_the_choices() -> None:
    with pytest.raises(TuneworthError, match=r"levers.0.optuna.sampler: Input should be 'tpe'"):
        parse_spec({**STREAMS, "levers": [{"optuna": {"sampler": "cmaes"}}]})


def test_the_gp_sampler_without_pytorch_is_refused_when_the_spec_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        tuneworth.optuna_search, "_SAMPLER_NEEDS", {"gp": ("no_such_torch", "x[gp]")}
    )
    with pytest.raises(
        TuneworthError,
        match=r"^spec: levers.0.optuna.sampler: Optuna's GP sampler needs no_such_torch, which "
        r"is not installed: pip install 'x\[gp\]'$",
    ):
        parse_spec({**STREAMS, "levers": [{"optuna": {"sampler": "gp"}}]})
    search = OptunaSearchCV(LogisticRegression(), {"C": FloatRange(0.1, 1)}, sampler="gp")
    with pytest.raises(ImportError, match="pip install 'x\\[gp\\]'"):
        search.fit(*load_iris(return_X_y=True))


@pytest.mark.parametrize("storage", ["sqlite:///{dir}/optuna.db", "journal:{dir}/optuna.log"])
def test_optuna_resumes_a_study_from_its_storage(
    storage: str, tmp_path: Path, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    import optuna

    url = storage.format(dir=tmp_path)
    space = {"C": FloatRange(1e-3, 1e2, log=True)}

    def search(trials: int) -> OptunaSearchCV:
        return OptunaSearchCV(
            LogisticRegression(max_iter=1000), space, trials, "accuracy", 3, 0, url, "resume"
        ).fit(*iris)

    first = search(3)
    resumed = search(5)
    assert resumed.study_name_ == first.study_name_
    assert resumed.study_name_ == "resume"
    assert resumed.trials_["param.C"].head(3).tolist() == first.trials_["param.C"].tolist()
    assert len(resumed.trials_) == 5
    study = optuna.load_study(study_name=first.study_name_, storage=open_storage(url))
    assert len(study.trials) == 5  # the first three were not run again


# --- in an experiment -------------------------------------------------------------------

SEARCHES = {
    "name": "searches",
    "dataset": {"source": "sklearn:iris"},
    "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
    "baseline": {"model": "knn"},
    "levers": [{"grid_search": {"trials": 4}}, {"halving": {"trials": 4}}],
    "tracking": {"trial_runs": True},
    "seed": 1,
}


@pytest.fixture(scope="module")
def searches_run(tracking_uri: str) -> Any:
    return run_experiment(
        parse_spec(SEARCHES), tracking_uri=tracking_uri, n_jobs=1, report_dir=None
    )


def test_tuning_arms_log_trials_curves_and_comparisons(
    searches_run: Any, tracking_uri: str
) -> None:
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("searches")
    runs = client.search_runs([experiment.experiment_id])
    arms = {r.data.tags["tuneworth.arm"]: r for r in runs if r.data.tags["tuneworth.kind"] == "arm"}
    grid_run = arms["grid search, 4 trials"]
    assert grid_run.data.metrics["trials_to_match_grid"] >= 1
    assert grid_run.data.metrics["folds_matching_grid"] == 3
    tuning = searches_run.verdict.tuning.set_index("arm")
    gap = tuning.loc["grid search, 4 trials", "optimism_gap"]
    assert grid_run.data.metrics["optimism_gap"] == pytest.approx(gap)
    assert "baseline" not in tuning.index
    metric = searches_run.plan.metric.name
    curve = client.get_metric_history(grid_run.info.run_id, f"best_so_far_inner_{metric}")
    assert sorted(m.step for m in curve) == [1, 2, 3, 4]
    halving_run = arms["successive halving, 4 trials"]
    artifacts = {a.path for a in client.list_artifacts(halving_run.info.run_id)}
    assert "trials.csv" in artifacts
    # Opt-in per-trial runs, nested under their arm run: 3 folds x 4 grid points.
    trial_runs = [
        r
        for r in runs
        if r.data.tags["tuneworth.kind"] == "trial"
        and r.data.tags["mlflow.parentRunId"] == grid_run.info.run_id
    ]
    assert len(trial_runs) == 12
    assert {"model__n_neighbors", "model__weights"} <= set(trial_runs[0].data.params)
    assert all("score" in r.data.metrics for r in trial_runs)


def test_an_arm_whose_every_configuration_fails_ends_alone(tracking_uri: str) -> None:
    spec = {
        **SEARCHES,
        "name": "failing_arm",
        "baseline": {"model": "knn", "space": {"n_neighbors": [0]}},
        "levers": [{"random_search": {"trials": 2}}],
        "tracking": {"trial_runs": False},
    }
    result = run_experiment(parse_spec(spec), tracking_uri=tracking_uri, n_jobs=1, report_dir=None)
    failed = result.results[result.results["arm"] == "random search, 2 trials"]
    assert failed["error"].str.startswith("SearchError: every one of the 2 configurations").all()
    assert "n_neighbors" in failed["error"].iloc[0]
    assert result.results.loc[result.results["arm"] == "baseline", "error"].eq("").all()
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("failing_arm").experiment_id])
    status = {
        r.data.tags["tuneworth.arm"]: r.info.status for r in runs if "tuneworth.arm" in r.data.tags
    }
    assert status == {"baseline": "FINISHED", "random search, 2 trials": "FAILED"}
    assert not [r for r in runs if r.data.tags["tuneworth.kind"] == "trial"]  # an opt-in


def test_trial_runs_are_refused_for_large_searches() -> None:
    from tuneworth.errors import TuneworthError

    with pytest.raises(TuneworthError, match="would create 2000 MLflow runs"):
        parse_spec(
            {**SEARCHES, "levers": [{"optuna": {"trials": 200}}], "cv": {"repeats": 2, "folds": 5}}
        )


def test_optuna_storage_is_checked_before_any_work(tmp_path: Path) -> None:
    from tuneworth.errors import TuneworthError

    bad = {**SEARCHES, "levers": [{"optuna": {"storage": "optuna.db"}}]}
    with pytest.raises(TuneworthError, match=r"levers.0.optuna.storage: 'optuna.db' is not an"):
        parse_spec(bad)
    good = {**SEARCHES, "levers": [{"optuna": {"storage": f"sqlite:///{tmp_path}/o.db"}}]}
    plan = plan_experiment(parse_spec(good))
    search = plan.pipelines["optuna TPE"]
    assert search.storage.endswith("o.db")
    assert search.study_name == "searches/optuna TPE"
    assert (tmp_path / "o.db").exists()


def test_optuna_studies_are_named_by_experiment_arm_repeat_and_fold(tmp_path: Path) -> None:
    import optuna

    from tuneworth.comparison import run_plan

    url = f"sqlite:///{tmp_path}/optuna.db"
    document = {
        **STREAMS,
        "name": "named",
        "metric": "log_loss",
        "cv": {"folds": 2, "repeats": 2, "inner_folds": 2},
        "levers": [{"optuna": {"trials": 2, "storage": url}}],
    }
    plan = plan_experiment(parse_spec(document))
    run_plan(plan)
    storage = open_storage(url)
    names = sorted(optuna.get_all_study_names(storage))
    assert names == [f"named/optuna TPE, 2 trials/r{s.repeat}-f{s.index}" for s in plan.splits]
    study = optuna.load_study(study_name="named/optuna TPE, 2 trials/r1-f3", storage=storage)
    attrs = study.user_attrs
    assert (attrs["metric"], attrs["direction"]) == ("log loss", "lower is better")
    assert (attrs["fold"], attrs["repeat"]) == (3, 1)
    assert study.metric_names == ["-log loss (negated: higher is better)"]
    assert len(study.trials) == 2


def test_a_study_name_that_holds_another_search_is_left_alone(
    tmp_path: Path, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    url = f"sqlite:///{tmp_path}/optuna.db"
    space = {"C": FloatRange(1e-3, 1e2, log=True)}

    def search(seed: int) -> OptunaSearchCV:
        return OptunaSearchCV(
            LogisticRegression(max_iter=1000), space, 2, "accuracy", 3, seed, url, "e/arm/r0-f0"
        ).fit(*iris)

    first, again, other = search(0), search(0), search(1)
    assert first.study_name_ == again.study_name_ == "e/arm/r0-f0"
    assert other.study_name_.startswith("e/arm/r0-f0~")
    assert other.trials_["param.C"].tolist() != first.trials_["param.C"].tolist()
