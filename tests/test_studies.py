"""The budget rule of shared Optuna studies, on synthetic trials and on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from tuneworth.errors import TuneworthError
from tuneworth.evaluate import _Ticking
from tuneworth.experiment import plan_experiment
from tuneworth.optuna_search import OptunaSearchCV
from tuneworth.space import FloatRange
from tuneworth.spec import parse_spec
from tuneworth.studies import MAX_RETRY, Tally, configuration, open_storage
from tuneworth.worker import shared_studies

pytestmark = pytest.mark.usefixtures("one_thread")

SPACE = {"C": FloatRange(1e-3, 1e2, log=True)}


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


def _study() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.create_study(direction="maximize")


def _add(study: Any, state: str, value: float | None = None, x: float = 0.5, **attrs: Any) -> int:
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    study.add_trial(
        create_trial(
            state=TrialState[state],
            value=value,
            params={"x": x},
            distributions={"x": FloatDistribution(0, 1)},
            user_attrs=attrs.get("user", {}),
            system_attrs=attrs.get("system", {}),
        )
    )
    return int(study.trials[-1].number)


def _retry_of(number: int, *history: int) -> dict[str, Any]:
    return {"system": {"failed_trial": number, "retry_history": [*history] or [number]}}


def test_each_configuration_counts_once_and_surplus_trials_never() -> None:
    study = _study()
    _add(study, "COMPLETE", 0.9)  # 0
    died = _add(study, "FAIL")  # 1: its worker died
    _add(study, "COMPLETE", 0.7, **_retry_of(died))  # 2: the retry spends configuration 1
    _add(study, "COMPLETE", 0.8, **_retry_of(died))  # 3: enqueued twice: wasted, not counted
    surplus = _add(study, "FAIL", user={"surplus": True})  # 4: the third fresh trial of 2
    _add(study, "COMPLETE", 0.95, **_retry_of(surplus))  # 5: a surplus trial's retry
    tally = Tally.of(study.trials, budget=2)
    assert [t.number for t in tally.spent] == [0, 2]
    assert tally.done and not tally.room and tally.running == 0
    assert [configuration(t) for t in tally.spent] == [0, 1]


def test_a_failed_configuration_counts_and_a_dead_worker_counts_only_past_the_retries() -> None:
    study = _study()
    _add(study, "FAIL", user={"error": "ValueError: bad C"})  # 0: the configuration failed
    died = _add(study, "FAIL")  # 1: its worker died...
    history = [died]
    for _ in range(MAX_RETRY):  # ...and again on every retry
        last = _add(study, "FAIL", **_retry_of(died, *history))
        history.append(last)
    _add(study, "RUNNING")  # a third configuration, in flight
    _add(study, "WAITING", **_retry_of(99))  # a retry of a trial that is no configuration
    tally = Tally.of(study.trials, budget=4)
    assert [t.number for t in tally.spent] == [0, last]
    assert tally.running == 1 and tally.room and not tally.waiting and not tally.lost


def test_a_configuration_left_without_an_attempt_is_lost_and_retries_claim_it() -> None:
    study = _study()
    died = _add(study, "FAIL")  # died, and its retry was never enqueued
    waiting = _add(study, "WAITING", **_retry_of(died))
    tally = Tally.of([t for t in study.trials if t.number != waiting], budget=1)
    assert [t.number for t in tally.lost] == [died] and not tally.room
    tally = Tally.of(study.trials, budget=1)
    assert tally.waiting and tally.room and not tally.lost
    assert tally.claims(study.trials[waiting])
    extra = _add(study, "RUNNING")  # a fresh trial beyond the budget of 1
    assert not Tally.of(study.trials, budget=1).claims(study.trials[extra])


@pytest.mark.slow
def test_a_run_waits_for_a_dead_workers_trial_and_runs_it_again(
    tmp_path: Path, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    from optuna.trial import TrialState

    from tuneworth.space import suggest

    url = f"sqlite:///{tmp_path}/optuna.db"
    search = OptunaSearchCV(
        LogisticRegression(max_iter=500), SPACE, 3, "accuracy", 3, 0, url, "dead", heartbeat=1
    )
    # A worker asks for a trial, suggests its configuration, beats once, and dies.
    study = search.open_study(*iris, worker=True).study
    with pytest.warns(UserWarning, match="Heartbeat"):  # Optuna beats only in optimize
        trial = study.ask()
    suggest(trial, SPACE)
    trial.set_user_attr("worker", "elsewhere:1")
    study._storage.record_heartbeat(trial._trial_id)
    search.fit(*iris)
    trials = study.get_trials()
    dead = trials[trial.number]
    assert dead.state == TrialState.FAIL and "error" not in dead.user_attrs
    assert len(search.trials_) == 3
    assert search.trials_["param.C"].iloc[0] == dead.params["C"]  # its retry, in its place
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 3


class _Interrupted(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Interrupted (Ctrl-C, SIGTERM) in the middle of its first fit."""

    def __init__(self, C: float = 1.0, marker: str = "") -> None:
        self.C = C
        self.marker = marker

    def fit(self, X: Any, y: Any) -> _Interrupted:
        if not Path(self.marker).exists():
            Path(self.marker).touch()
            raise KeyboardInterrupt
        self.classes_ = np.unique(y)
        self.majority_ = np.bincount(y).argmax()
        return self

    def predict(self, X: Any) -> Any:
        return np.full(len(X), self.majority_)


def test_an_interrupted_trial_goes_back_in_the_queue(
    tmp_path: Path, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    from optuna.trial import TrialState

    url = f"sqlite:///{tmp_path}/optuna.db"
    model = _Interrupted(marker=str(tmp_path / "interrupted"))
    search = OptunaSearchCV(model, SPACE, 2, "accuracy", 2, 0, url, "stop", heartbeat=1)
    with pytest.raises(KeyboardInterrupt):
        search.fit(*iris)
    study = search.open_study(*iris).study
    first, retry = study.get_trials()
    assert first.state == TrialState.FAIL and retry.state == TrialState.WAITING
    assert retry.params == first.params
    search.fit(*iris)  # the next run evaluates the interrupted configuration first
    assert search.trials_["param.C"].iloc[0] == first.params["C"]
    assert len(search.trials_) == 2 and len(study.get_trials()) == 3


def test_a_ticking_scorer_names_the_study_the_worker_joins(
    tmp_path: Path, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    url = f"sqlite:///{tmp_path}/optuna.db"

    def search(scoring: Any) -> OptunaSearchCV:
        model = LogisticRegression(max_iter=500)
        return OptunaSearchCV(model, SPACE, 2, scoring, 3, 0, url, "ticks").fit(*iris)

    class Queue:
        def put(self, item: int) -> None:
            pass

    plain = search("accuracy")
    ticking = search(_Ticking(lambda *a: 1.0, Queue(), "accuracy"))
    assert ticking.study_name_ == plain.study_name_
    assert ticking.trials_.equals(plain.trials_)  # read back, not evaluated again
    assert len(open_storage(url).get_all_studies()) == 1


def test_a_target_as_a_series_or_an_array_names_one_study(
    tmp_path: Path, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    import pandas as pd

    url = f"sqlite:///{tmp_path}/optuna.db"
    X, y = iris

    def search(target: Any) -> OptunaSearchCV:
        model = LogisticRegression(max_iter=500)
        return OptunaSearchCV(model, SPACE, 2, "accuracy", 3, 0, url, "target").fit(X, target)

    as_array, as_series = search(y), search(pd.Series(y, name="species"))
    # A worker reads the target as a Series, the run process passes an array: same study.
    assert as_series.study_name_ == as_array.study_name_
    assert len(open_storage(url).get_all_studies()) == 1


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        (None, "keeps its studies in memory"),
        ("journal:{tmp}/optuna.log", "need a database storage"),
        ("no tuning", "has no optuna lever"),
    ],
)
def test_a_worker_refuses_studies_it_cannot_share(
    storage: str | None, message: str, tmp_path: Path
) -> None:
    lever: Any = {"optuna": {"storage": storage.format(tmp=tmp_path) if storage else None}}
    if storage == "no tuning":
        lever = "random_search"
    spec = parse_spec(
        {
            "name": "refused",
            "dataset": {"source": "sklearn:iris"},
            "cv": {"folds": 2, "inner_folds": 2},
            "levers": [lever],
        }
    )
    with pytest.raises(TuneworthError, match=message):
        shared_studies(plan_experiment(spec))
