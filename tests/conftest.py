from __future__ import annotations

import math
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """A function giving a TCP port on 127.0.0.1 that nothing listens on, for test servers."""

    def pick() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    return pick


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite MLflow store for the whole session: creating one takes seconds."""
    from tuneworth.tracking import Tracker

    uri = f"sqlite:///{tmp_path_factory.mktemp('mlruns') / 'mlflow.db'}"
    Tracker(uri)  # runs the migrations once
    return uri


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """The test's own random generator, seeded by ``@pytest.mark.seed(n)`` (0 without one):
    a test draws the same numbers whether it runs alone or after any other."""
    marker = request.node.get_closest_marker("seed")
    return np.random.default_rng(marker.args[0] if marker else 0)


@pytest.fixture
def trial_rows() -> Callable[..., pd.DataFrame]:
    """A function making a search's trial table (tuneworth.trials.trial_table's columns) of
    one fold from its scores, NaN for a failed trial, and which were comparable."""

    def make(scores: list[float], comparable: list[bool] | None = None) -> pd.DataFrame:
        n = len(scores)
        return pd.DataFrame(
            {
                "trial": range(n),
                "candidate": range(n),
                "comparable": comparable or [True] * n,
                "state": ["complete" if not math.isnan(s) else "fail" for s in scores],
                "score": scores,
            }
        )

    return make


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One BLAS / OpenMP thread, as in an experiment's workers: on a busy machine threaded
    fits of tiny data crawl."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    """A small frame with every kind of column a user's CSV may hold."""
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "age": np.where(rng.random(n) < 0.1, np.nan, rng.normal(40, 10, n)),
            "visits": rng.integers(0, 5, n),
            "city": pd.Series(rng.choice(["Oslo", "Rome", None], n), dtype="str"),
            "member": rng.random(n) < 0.5,
            "constant": 1.0,
            "churned": rng.choice(["yes", "no"], n),
        }
    )


@pytest.fixture
def csv_path(tmp_path: Path, mixed_frame: pd.DataFrame) -> Path:
    path = tmp_path / "customers.csv"
    mixed_frame.to_csv(path, index=False)
    return path
