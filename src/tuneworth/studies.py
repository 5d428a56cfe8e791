"""Optuna studies that several processes share: one budget, each configuration counted once,
and the trials of dead workers run again.

A tuning arm's Optuna search keeps one study per outer fold. In a database storage
(PostgreSQL across machines, SQLite on one), the ``tuneworth run`` process and any number of
``tuneworth worker`` processes add trials to the same studies, and every study must end with
exactly its budget of evaluated configurations, however many processes join, leave or die.
Every process applies the same rule to what the storage holds:

- The budget buys the study's first ``budget`` *fresh* trials (those Optuna created, as
  opposed to retries), by trial number, which the storage assigns atomically. A fresh trial
  numbered after them exists only when two processes asked for the last one at the same
  moment: it is *surplus*, failed at once with the user attribute ``surplus`` and never
  counted. A retry carries Optuna's ``failed_trial`` system attribute: the number of the fresh
  trial whose configuration it evaluates again.
- A configuration is *spent* by the first of its attempts that finished COMPLETE, PRUNED, or
  FAIL because the configuration itself failed (its fit or score raised: the ``error`` user
  attribute). Such a failure is an answer about the configuration, so it counts, as a failed
  configuration does in grid and random search.
- A FAIL without ``error`` is a trial whose process died (its heartbeat stopped, so another
  process failed it once the grace period had passed) or was interrupted. It says nothing
  about the configuration and does not count: Optuna's ``RetryHeartbeatStaleTrialCallback``
  (the Optuna 5 name of ``RetryFailedTrialCallback``) enqueues the same parameters again as a
  WAITING trial, which the next process to ask for a trial runs. A configuration whose worker
  died ``MAX_RETRY + 1`` times counts as failed.
- At most one attempt per configuration counts: a retry that was enqueued twice wastes a fit,
  it is never counted twice.

A process adds trials while the study has room (fewer fresh trials than the budget, or a
WAITING retry). Then a worker moves on to another study, and the ``run`` process waits for
the trials other processes are running, failing those whose heartbeat stopped.
"""

from __future__ import annotations

import functools
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MAX_RETRY = 3
GRACE_HEARTBEATS = 3  # a running trial is stale after this many missed heartbeats
POLL_SECONDS = 0.5


@contextmanager
def _quiet_experimental() -> Iterator[None]:
    """Heartbeats and retries are experimental in Optuna 5; say so once, in the docs."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def open_storage(url: str | None, heartbeat: int | None = None) -> Any:
    """An Optuna storage for a spec's URL, or None for Optuna's in-memory storage.

    ``journal:<path>`` is a journal file; anything else is a database URL
    (``sqlite:///optuna.db``, ``postgresql://user@host/db``). ``optuna-dashboard`` opens
    either. With ``heartbeat`` (seconds), a database storage records a heartbeat for every
    running trial; a trial silent for ``GRACE_HEARTBEATS`` heartbeats is failed by the next
    process that looks and its configuration enqueued again (journal files have no
    heartbeat).
    """
    if url is None:
        return None
    import optuna

    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(url.removeprefix("journal:")))
    # Several workers may write one SQLite file: wait for its lock instead of failing.
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    if heartbeat is None:
        return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
    with _quiet_experimental():
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=kwargs,
            heartbeat_interval=heartbeat,
            grace_period=GRACE_HEARTBEATS * heartbeat,
            heartbeat_stale_trial_callback=_retry_callback(),
        )


def _retry_callback() -> Any:
    import optuna

    with _quiet_experimental():
        return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)


def heartbeat_of(storage: Any) -> int | None:
    """Seconds between the heartbeats of ``storage``'s running trials; None without them."""
    interval = getattr(storage, "get_heartbeat_interval", None)
    return interval() if interval is not None else None


def configuration(trial: Any) -> int:
    """The number of the fresh trial whose configuration ``trial`` evaluates."""
    return int(trial.system_attrs.get("failed_trial", trial.number))


def counts(trial: Any) -> bool:
    """Whether this finished attempt spends its configuration (see the module docstring)."""
    from optuna.trial import TrialState

    if trial.user_attrs.get("surplus"):
        return False
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    if trial.state != TrialState.FAIL:
        return False
    # Without an error, the process died: it counts only once no retry follows.
    return "error" in trial.user_attrs or len(trial.system_attrs.get("retry_history", [])) >= (
        MAX_RETRY
    )


@dataclass(frozen=True)
class Tally:
    """Where a study stands against its budget.

    Examples
    --------
    >>> import optuna
    >>> from optuna.trial import TrialState, create_trial
    >>> from optuna.distributions import FloatDistribution
    >>> optuna.logging.set_verbosity(optuna.logging.ERROR)
    >>> study = optuna.create_study()
    >>> x = {"x": FloatDistribution(0, 1)}
    >>> def add(state, value=None, user_attrs=None, system_attrs=None):
    ...     study.add_trial(create_trial(state=state, value=value, params={"x": 0.5},
    ...         distributions=x, user_attrs=user_attrs, system_attrs=system_attrs))
    >>> add(TrialState.COMPLETE, 0.9)                          # 0: spent
    >>> add(TrialState.FAIL, user_attrs={"error": "boom"})     # 1: a failed configuration
    >>> add(TrialState.FAIL)                                   # 2: its worker died...
    >>> add(TrialState.COMPLETE, 0.8,                          # 3: ...and a retry spent it
    ...     system_attrs={"failed_trial": 2, "retry_history": [2]})
    >>> add(TrialState.RUNNING)                                # 4: in flight
    >>> tally = Tally.of(study.get_trials(), budget=6)
    >>> [t.number for t in tally.spent], tally.running, tally.room, tally.done
    ([0, 1, 3], 1, True, False)
    """

    budget: int
    spent: tuple[Any, ...]  # per spent configuration, the attempt that counts; by proposal
    running: int  # configurations with an attempt RUNNING or WAITING, none counted
    configurations: frozenset[int]  # numbers of the fresh trials within the budget
    waiting: bool  # an unspent configuration has a WAITING attempt
    lost: tuple[Any, ...] = field(default=())  # last attempts of configurations left with none

    @classmethod
    def of(cls, trials: Sequence[Any], budget: int) -> Tally:
        from optuna.trial import TrialState

        fresh = sorted(t.number for t in trials if "failed_trial" not in t.system_attrs)
        attempts: dict[int, list[Any]] = {number: [] for number in fresh[:budget]}
        for trial in sorted(trials, key=lambda t: t.number):
            attempts.get(configuration(trial), []).append(trial)
        spent, lost, running, waiting = [], [], 0, False
        for tries in attempts.values():
            counted = [t for t in tries if counts(t)]
            live = [t for t in tries if t.state in (TrialState.RUNNING, TrialState.WAITING)]
            if counted:
                spent.append(counted[0])
            elif live:
                running += 1
                waiting = waiting or any(t.state == TrialState.WAITING for t in live)
            else:
                lost.append(tries[-1])
        return cls(budget, tuple(spent), running, frozenset(attempts), waiting, tuple(lost))

    @property
    def done(self) -> bool:
        return len(self.spent) >= self.budget

    @property
    def room(self) -> bool:
        """Whether asking for a trial now evaluates a configuration within the budget."""
        return self.waiting or len(self.configurations) < self.budget

    def claims(self, trial: Any) -> bool:
        """Whether ``trial`` (a frozen trial just asked for) evaluates an unspent
        configuration within the budget."""
        number = configuration(trial)
        return number in self.configurations and number not in {
            configuration(t) for t in self.spent
        }


Objective = Callable[[Any], float]


class SharedStudy:
    """One Optuna study spent under the budget rule, by this process among others.

    ``objective(trial)`` evaluates one configuration and, when the configuration fails,
    sets the ``error`` user attribute before raising.
    """

    def __init__(self, study: Any, objective: Objective, budget: int) -> None:
        self.study, self.objective, self.budget = study, objective, budget
        self.ran: list[int] = []  # trial numbers this process evaluated
        self._running: int | None = None
        beat = heartbeat_of(study._storage)
        self.grace = GRACE_HEARTBEATS * beat if beat else 0.0
        if not beat:
            self._fail_orphans()

    def tally(self) -> Tally:
        return Tally.of(self.study.get_trials(deepcopy=False), self.budget)

    def spend(self, wait: bool) -> Tally:
        """Evaluate configurations while the study has room; then, if ``wait``, wait for the
        ones other processes are running until the budget is spent."""
        while True:
            tally = self._recover()
            if tally.done:
                return tally
            if tally.room:
                self._run_one()
            elif wait:
                time.sleep(POLL_SECONDS)
            else:
                return tally

    def _run_one(self) -> None:
        try:
            self.study.optimize(self._claimed, n_trials=1, catch=(Exception,))
        except KeyboardInterrupt:
            # Optuna failed the trial this process was running: its configuration goes back
            # in the queue, as a dead worker's would.
            if self._running is not None:
                trial = _trial(self.study, self._running)
                if trial.state.name == "FAIL" and not counts(trial):
                    _retry_callback()(self.study, trial)
            raise
        finally:
            self._running = None

    def _claimed(self, trial: Any) -> float:
        self._running = trial.number
        trials = self.study.get_trials(deepcopy=False)
        frozen = next(t for t in trials if t.number == trial.number)
        if not Tally.of(trials, self.budget).claims(frozen):
            trial.set_user_attr("surplus", True)
            raise _Surplus(f"trial {trial.number} is beyond the budget of {self.budget}")
        if trial.user_attrs.get("surplus"):  # inherited by a retry: this attempt counts
            trial.set_user_attr("surplus", False)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        self.ran.append(trial.number)
        return self.objective(trial)

    def _recover(self) -> Tally:
        """Fail trials whose heartbeat stopped (Optuna enqueues their retries) and enqueue
        again a configuration left without any attempt (its process died between failing a
        trial and enqueueing the retry)."""
        import optuna

        if self.grace:
            with _quiet_experimental():
                optuna.storages.fail_stale_trials(self.study)
            self._fail_unstarted()
        tally = self.tally()
        now = time.time()
        repaired = False
        for trial in tally.lost:
            finished = trial.datetime_complete.timestamp() if trial.datetime_complete else 0.0
            if now - finished >= self.grace:
                _retry_callback()(self.study, trial)
                repaired = True
        return self.tally() if repaired else tally

    def _fail_unstarted(self) -> None:
        """Fail the trials that never reached the objective, and retry them.

        A process that dies between creating a trial and starting its heartbeat leaves it
        running without any heartbeat, which Optuna's check never finds stale. The objective
        marks every trial it starts (``worker`` or ``surplus``) at once, so a running trial
        still unmarked after the grace period has no process.
        """
        import optuna
        from optuna.trial import TrialState

        oldest = datetime.now() - timedelta(seconds=self.grace)
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            started = trial.datetime_start
            if {"worker", "surplus"} & trial.user_attrs.keys() or not started or started > oldest:
                continue
            try:
                self.study.tell(trial.number, state=TrialState.FAIL)
            except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
                continue  # another process failed it first, and retries it
            _retry_callback()(self.study, _trial(self.study, trial.number))

    def _fail_orphans(self) -> None:
        """Without heartbeats nothing else shares the study (workers refuse such storages):
        trials left running are a killed run's, so they are failed and retried."""
        from optuna.trial import TrialState

        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            self.study.tell(trial.number, state=TrialState.FAIL)
            _retry_callback()(self.study, _trial(self.study, trial.number))


def _trial(study: Any, number: int) -> Any:
    return next(t for t in study.get_trials(deepcopy=False) if t.number == number)


class _Surplus(Exception):
    """A trial two processes asked for at once, one too many: it is not evaluated."""


def tag_study(url: str, name: str, attrs: Mapping[str, str]) -> None:
    """Set user attributes on the study ``name`` in the storage at ``url`` (the MLflow run
    that holds its results, so optuna-dashboard links back to it)."""
    import optuna

    study = optuna.load_study(study_name=name, storage=_storage(url))
    for key, value in attrs.items():
        if study.user_attrs.get(key) != value:
            study.set_user_attr(key, value)


@functools.lru_cache(maxsize=4)
def _storage(url: str) -> Any:
    """One storage per URL for the process: tagging every fold's study opens it once."""
    return open_storage(url)
