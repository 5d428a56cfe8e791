"""Benchmark: the default experiment on a local two-worker Dask cluster against the local run.

    .venv/bin/python benchmarks/cluster.py [--spec pipelines/default.yaml] [--repeats 1]

Both runs go through the command line, into their own MLflow store, with two workers each
(``--jobs 2`` locally; ``--scheduler`` to a ``LocalCluster`` of two single-threaded worker
processes), so they spend the same two cores. It reports the wall time of each and whether
every fold score (and fit count) of the cluster run equals the local one bit for bit, and
writes ``benchmarks/results/cluster.json`` and ``cluster.md``. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TUNEWORTH = str(Path(sys.executable).with_name("tuneworth"))


def run(spec: Path, store: Path, *options: str) -> tuple[float, pd.DataFrame]:
    """Wall seconds of ``tuneworth run`` into ``store``, and its fold table (results.csv)."""
    import mlflow

    uri = f"sqlite:///{store / 'mlflow.db'}"
    command = [TUNEWORTH, "run", str(spec), "--tracking-uri", uri, "--quiet", *options]
    command += ["--report-dir", str(store / "reports")]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - start
    mlflow.set_tracking_uri(uri)
    study = mlflow.search_runs(
        search_all_experiments=True, filter_string="tags.`tuneworth.kind` = 'study'"
    )
    run_id = study.sort_values("start_time")["run_id"].iloc[-1]
    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="results.csv")
    folds = pd.read_csv(path).sort_values(["arm", "fold"], ignore_index=True)
    return wall, folds


def compare(local: pd.DataFrame, remote: pd.DataFrame) -> dict[str, Any]:
    """Whether two fold tables hold the same arms, folds, scores and fit counts."""
    keys = ["arm", "fold"]
    same_rows = local[keys].equals(remote[keys])
    scores_equal = same_rows and bool((local["score"] == remote["score"]).all())
    fits_equal = same_rows and bool((local["n_fits"] == remote["n_fits"]).all())
    gap = float((local["score"] - remote["score"]).abs().max()) if same_rows else float("nan")
    return {
        "arm_folds": len(local),
        "arms": int(local["arm"].nunique()),
        "identical_fold_scores": scores_equal,
        "identical_fit_counts": fits_equal,
        "max_abs_score_difference": gap,
        # Less sensitive to a busy machine than wall time: the work each run measured.
        "local_fit_cpu_seconds": round(float(local["fit_cpu_seconds"].sum()), 1),
        "dask_fit_cpu_seconds": round(float(remote["fit_cpu_seconds"].sum()), 1),
    }


def main(argv: list[str] | None = None) -> int:
    from distributed import LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "pipelines" / "default.yaml")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternated")
    args = parser.parse_args(argv)

    local_walls, dask_walls, comparisons = [], [], []
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        tempfile.TemporaryDirectory() as tmp,
    ):
        cluster_seconds = time.perf_counter() - start
        address = str(cluster.scheduler_address)
        for repeat in range(args.repeats):
            print(f"run {repeat + 1}/{args.repeats}: local, --jobs 2 ...", flush=True)
            wall, local = run(args.spec, Path(tmp, f"local{repeat}"), "--jobs", "2")
            local_walls.append(wall)
            print(f"run {repeat + 1}/{args.repeats}: Dask, 2 workers ...", flush=True)
            wall, remote = run(args.spec, Path(tmp, f"dask{repeat}"), "--scheduler", address)
            dask_walls.append(wall)
            comparisons.append(compare(local, remote))

    record = {
        "spec": str(args.spec.relative_to(ROOT) if args.spec.is_relative_to(ROOT) else args.spec),
        "repeats": args.repeats,
        "local_jobs_2_wall_seconds": [round(w, 1) for w in local_walls],
        "dask_2_workers_wall_seconds": [round(w, 1) for w in dask_walls],
        "local_median_seconds": round(statistics.median(local_walls), 1),
        "dask_median_seconds": round(statistics.median(dask_walls), 1),
        "dask_over_local": round(statistics.median(dask_walls) / statistics.median(local_walls), 2),
        "cluster_start_seconds": round(cluster_seconds, 1),
        **comparisons[-1],
        "identical_in_every_repeat": all(c["identical_fold_scores"] for c in comparisons),
    }
    machine = {
        "cores": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "versions": {
            p: metadata.version(p)
            for p in ("scikit-learn", "optuna", "mlflow", "dask", "distributed", "joblib")
        },
    }
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"when": stamp, "machine": machine, "record": record}
    (RESULTS / "cluster.json").write_text(json.dumps(payload, indent=2) + "\n")
    rows = "\n".join(f"| {key} | {value} |" for key, value in record.items())
    table = (
        f"# Dask cluster benchmark, {stamp}\n\n"
        f"The default experiment on a local two-worker Dask cluster against the local run "
        f"with two workers.\n\nMachine: {json.dumps(machine)}\n\n"
        f"| measure | value |\n|---|---|\n{rows}\n"
    )
    (RESULTS / "cluster.md").write_text(table)
    print(table)
    return 0 if record["identical_in_every_repeat"] else 1


if __name__ == "__main__":
    sys.exit(main())
