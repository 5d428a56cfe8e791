"""Scale-out on real engines, on this machine: a Dask cluster and an MLflow server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tuneworth.comparison import run_plan
from tuneworth.evaluate import dask_cluster
from tuneworth.experiment import plan_experiment, run_experiment
from tuneworth.spec import parse_spec

SPEC = {
    "name": "cluster",
    "dataset": {"source": "sklearn:breast_cancer"},
    "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
    "levers": ["scaling", {"model": {"name": "random_forest"}}, {"random_search": {"trials": 3}}],
    "seed": 11,
}


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield str(cluster.scheduler_address)


@pytest.mark.slow
def test_fold_scores_on_a_two_worker_dask_cluster_equal_the_local_run(
    dask_scheduler: str,
) -> None:
    from distributed import get_task_stream

    plan = plan_experiment(parse_spec(SPEC))
    here = run_plan(plan, n_jobs=1)
    with dask_cluster(dask_scheduler), get_task_stream() as tasks:
        there = run_plan(plan, n_jobs=-1)
    local, remote = here.results, there.results
    pd.testing.assert_series_equal(local["score"], remote["score"])
    assert (local["n_fits"] == remote["n_fits"]).all()
    # The data-size curves' fits go to the cluster too, and score the same there.
    assert here.marginal is not None and there.marginal is not None
    points = ["family", "arm", "fold", "step", "score"]
    pd.testing.assert_frame_equal(here.marginal.folds[points], there.marginal.folds[points])
    sizes = here.marginal.folds.query("family == 'more data'")["step"]
    data_fits = int((sizes < sizes.max()).sum())  # the whole fold is the arm's own result
    # One task per arm-fold or data-size fit at most (joblib may batch them): a search's
    # inner fits stay in its task, where its CPU time is measured, instead of going back to
    # the cluster.
    assert 0 < len(tasks.data) <= len(local) + data_fits


def test_an_unreachable_scheduler_is_a_one_line_error(free_port: Callable[[], int]) -> None:
    from tuneworth.errors import TuneworthError

    address = f"tcp://127.0.0.1:{free_port()}"
    with (
        pytest.raises(TuneworthError, match="cannot reach the Dask scheduler"),
        dask_cluster(address, timeout=1),
    ):
        pass


@pytest.fixture(scope="module")
def mlflow_server(
    tmp_path_factory: pytest.TempPathFactory, free_port: Callable[[], int]
) -> Iterator[str]:
    """An MLflow tracking server with a database backend, on 127.0.0.1 only."""
    root = tmp_path_factory.mktemp("server")
    port = free_port()
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{root / 'server.db'}",
        "--artifacts-destination", str(root / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            MlflowClient(uri).search_experiments(max_results=1)
            break
        except Exception:
            assert server.poll() is None and time.monotonic() < deadline, "no MLflow server"
            time.sleep(0.5)
    yield uri
    server.terminate()
    server.wait(timeout=30)


@pytest.mark.slow
def test_a_remote_tracking_server_receives_the_study_unchanged(
    mlflow_server: str, tmp_path: Path
) -> None:
    spec = parse_spec({**SPEC, "name": "remote", "levers": ["scaling"]})
    result = run_experiment(spec, tracking_uri=mlflow_server, n_jobs=1, report_dir=tmp_path)
    client = MlflowClient(mlflow_server)
    study = client.get_run(result.study_run_id)
    assert study.info.status == "FINISHED"
    experiment = client.get_experiment_by_name("remote")
    assert experiment is not None
    arms: list[Any] = client.search_runs(
        [experiment.experiment_id], "tags.`tuneworth.kind` = 'arm'"
    )
    assert {r.data.tags["tuneworth.arm"] for r in arms} == {"baseline", "standard scaling"}
    assert all(r.data.tags["mlflow.parentRunId"] == study.info.run_id for r in arms)
    paths = {a.path for a in client.list_artifacts(study.info.run_id)}
    assert {"results.csv", "report"} <= paths
