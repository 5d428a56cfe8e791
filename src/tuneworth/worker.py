"""``tuneworth worker``: add trials to the Optuna studies of an experiment, from any machine.

The ``tuneworth run`` process of a spec whose ``optuna`` lever names a database storage
keeps one study per outer fold there. A worker builds the same plan from the same spec and
data, so it computes the same study names, and adds trials to those studies under the
budget rule of :mod:`tuneworth.studies` until every one of them is spent. It writes nothing
else: the ``run`` process reads the studies, refits the best configurations, scores the
outer folds and is the only one writing to MLflow.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from tuneworth.errors import TuneworthError
from tuneworth.evaluate import training_fold
from tuneworth.planning import Plan
from tuneworth.studies import POLL_SECONDS, SharedStudy


@dataclass(frozen=True)
class Share:
    """One study a worker helps with: an Optuna arm on one outer fold."""

    arm: str
    fold: int
    storage: str
    study: SharedStudy


def shared_studies(plan: Plan, storage: str | None = None) -> list[Share]:
    """The studies of ``plan``'s Optuna arms, one per outer fold, opened for a worker.

    ``storage`` replaces the spec's storage URL (the same database as this machine reaches
    it). Raises :class:`TuneworthError` when there is nothing to share.
    """
    from sklearn.base import clone

    from tuneworth.optuna_search import OptunaSearchCV
    from tuneworth.search import for_outer_fold

    searches = {
        name: pipeline
        for name, pipeline in plan.pipelines.items()
        if isinstance(pipeline, OptunaSearchCV)
    }
    if not searches:
        raise TuneworthError(f"{plan.spec.name} has no optuna lever: a worker has nothing to join")
    shares = []
    for name, search in searches.items():
        if storage is not None:
            search = clone(search).set_params(storage=storage)
        if search.storage is None:
            raise TuneworthError(
                f"'{name}' keeps its studies in memory: give its lever a database storage, "
                "e.g. optuna: {storage: postgresql://user@host/db}, so that workers can share "
                "them"
            )
        if search.storage.startswith("journal:") or search.heartbeat is None:
            raise TuneworthError(
                f"'{name}': workers need a database storage with heartbeats "
                "(postgresql://..., or sqlite:///... on one machine): without them a dead "
                "worker's trial would never be run again"
            )
        for split in plan.splits:
            X_train, y_train = training_fold(plan.dataset.X, plan.dataset.y, split, plan.inject)
            # The run's study of this fold, by the same name.
            fold_search = for_outer_fold(search, split.index, split.repeat)
            # The target as the run process gives it (evaluate.fit_and_score): an array.
            shared = fold_search.open_study(X_train, y_train.to_numpy(), worker=True)
            shares.append(Share(name, split.index, search.storage, shared))
    return shares


def work(shares: list[Share], say: Callable[[str], None] = lambda line: None) -> int:
    """Add trials to every share's study until all their budgets are spent.

    A study without room (its remaining configurations are running elsewhere) is left for
    the next round; between rounds that made no progress the worker sleeps briefly, while
    the trials of dead processes become stale and come back as retries. Returns the number
    of trials this worker evaluated.
    """
    from threadpoolctl import threadpool_limits

    pending = list(shares)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # Fits' warnings belong to the run's report, which the run process writes.
        warnings.simplefilter("ignore")
        while pending:
            progressed = False
            for share in list(pending):
                before = len(share.study.ran)
                tally = share.study.spend(wait=False)
                progressed = progressed or len(share.study.ran) > before
                if tally.done:
                    pending.remove(share)
                    say(
                        f"{share.arm}, fold {share.fold}: budget spent "
                        f"({len(tally.spent)} trials, {len(share.study.ran)} run here)"
                    )
            if pending and not progressed:
                time.sleep(POLL_SECONDS)
    return sum(len(share.study.ran) for share in shares)


def shown_storage(url: str) -> str:
    """A storage URL fit to print: without its password.

    >>> shown_storage("postgresql://tuneworth:secret@db.example/optuna")
    'postgresql://tuneworth:***@db.example/optuna'
    """
    if url.startswith("journal:"):
        return url
    from sqlalchemy.engine import make_url

    return str(make_url(url).render_as_string(hide_password=True))
