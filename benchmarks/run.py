"""Performance benchmarks: ``make bench``. Not part of the test run.

Each benchmark returns plain records; this script writes them as JSON and as a markdown table
under ``benchmarks/results/``, stamped with the machine's core count and package versions.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TUNEWORTH = str(Path(sys.executable).with_name("tuneworth"))

Record = dict[str, Any]


# Runs a command as its own child and prints that child's peak RSS: a fresh process per
# measurement, because RUSAGE_CHILDREN only ever reports the largest child so far.
_PEAK = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, the largest process of the run) of one command."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], check=True, capture_output=True, cwd=ROOT
    )
    wall = time.perf_counter() - start
    return wall, int(done.stdout.decode().split()[-1]) / 1024


def startup(repeats: int = 5) -> list[Record]:
    """Wall time of ``tuneworth --help``: heavy modules must load lazily (target < 0.5 s)."""
    walls = [_timed([TUNEWORTH, "--help"])[0] for _ in range(repeats)]
    return [
        {
            "benchmark": "start-up",
            "case": "tuneworth --help",
            "median_seconds": round(statistics.median(walls), 3),
            "target": "< 0.5 s",
            "met": statistics.median(walls) < 0.5,
        }
    ]


def _run_spec(spec: Path | str, store: Path, jobs: int = -1) -> tuple[float, float, pd.DataFrame]:
    """Run a spec through the CLI into ``store``; wall seconds, peak RSS, and its fold table."""
    uri = f"sqlite:///{store / 'mlflow.db'}"
    command = [TUNEWORTH, "run", str(spec), "--tracking-uri", uri, "--quiet"]
    command += ["--jobs", str(jobs), "--report-dir", str(store / "reports")]
    wall, peak = _timed(command)
    import mlflow

    mlflow.set_tracking_uri(uri)
    study = mlflow.search_runs(
        search_all_experiments=True, filter_string="tags.`tuneworth.kind` = 'study'"
    )
    run_id = study.sort_values("start_time")["run_id"].iloc[-1]
    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="results.csv")
    return wall, peak, pd.read_csv(path)


def default_experiment() -> list[Record]:
    """Wall time, peak memory and the share of time outside model fitting (one worker)."""
    spec = ROOT / "pipelines" / "default.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        wall, peak, _ = _run_spec(spec, Path(tmp, "all"))
        serial, _, folds = _run_spec(spec, Path(tmp, "one"), jobs=1)
    modelling = float(folds["fit_seconds"].sum() + folds["predict_seconds"].sum())
    return [
        {
            "benchmark": "default experiment",
            "case": f"tuneworth run pipelines/default.yaml, all {os.cpu_count()} cores",
            "wall_seconds": round(wall, 1),
            "peak_rss_mib": round(peak),
            "share_outside_fitting": "",
        },
        {
            "benchmark": "default experiment",
            "case": "the same with --jobs 1",
            "wall_seconds": round(serial, 1),
            "peak_rss_mib": "",
            "share_outside_fitting": f"{1 - modelling / serial:.0%}",
        },
    ]


def parallelism() -> list[Record]:
    """Speedup of two workers over one on the default experiment."""
    spec = ROOT / "pipelines" / "default.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        one, _, a = _run_spec(spec, Path(tmp, "one"), jobs=1)
        two, _, b = _run_spec(spec, Path(tmp, "two"), jobs=2)
    same = a.sort_values(["arm", "fold"])["score"].to_numpy()
    other = b.sort_values(["arm", "fold"])["score"].to_numpy()
    return [
        {
            "benchmark": "parallelism",
            "case": "default experiment, 1 vs 2 workers",
            "one_worker_seconds": round(one, 1),
            "two_workers_seconds": round(two, 1),
            "speedup": round(one / two, 2),
            "identical_fold_scores": bool((same == other).all()),
        }
    ]


SCALING_SIZES = (1_000, 10_000, 100_000, 1_000_000)


def scaling() -> list[Record]:
    """Synthetic classification at growing sizes, one fixed small design; growth exponent."""
    from sklearn.datasets import make_classification

    records: list[Record] = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in SCALING_SIZES:
            X, y = make_classification(rows, n_features=20, n_informative=8, random_state=0)
            frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)]).assign(target=y)
            data = Path(tmp, f"rows_{rows}.parquet")
            frame.to_parquet(data)
            spec = Path(tmp, f"rows_{rows}.yaml")
            spec.write_text(
                yaml.safe_dump(
                    {
                        "name": f"scaling_{rows}",
                        "dataset": {"source": str(data), "target": "target"},
                        "cv": {"folds": 3, "repeats": 1},
                        "baseline": {"model": "linear"},
                        "levers": ["scaling"],
                    }
                )
            )
            wall, peak, _ = _run_spec(spec, Path(tmp, f"store_{rows}"))
            records.append(
                {
                    "benchmark": "scaling",
                    "case": f"{rows:,} rows x 20 features, 2 arms x 3 folds",
                    "rows": rows,
                    "wall_seconds": round(wall, 2),
                    "peak_rss_mib": round(peak),
                }
            )
    sizes = np.log([r["rows"] for r in records])
    walls = np.log([r["wall_seconds"] for r in records])
    overall = float(np.polyfit(sizes, walls, 1)[0])
    top = float(np.polyfit(sizes[-2:], walls[-2:], 1)[0])
    records.append(
        {
            "benchmark": "scaling",
            "case": "fitted growth exponent (wall ~ rows^k)",
            "rows": "",
            "wall_seconds": f"k={overall:.2f} overall, k={top:.2f} from 100k to 1M",
            "peak_rss_mib": "",
        }
    )
    return records


BENCHMARKS: dict[str, Callable[[], list[Record]]] = {
    "startup": startup,
    "default_experiment": default_experiment,
    "parallelism": parallelism,
    "scaling": scaling,
}


def _markdown(records: list[Record]) -> str:
    lines = []
    for name in dict.fromkeys(r["benchmark"] for r in records):
        rows = [r for r in records if r["benchmark"] == name]
        keys = [k for k in rows[0] if k != "benchmark"]
        lines += [f"## {name}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
        lines.append("")
    return "\n".join(lines)


def main(selected: list[str]) -> int:
    names = selected or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
        return 2
    records: list[Record] = []
    for name in names:
        print(f"benchmark {name} ...", flush=True)
        records += BENCHMARKS[name]()
    machine = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            p: metadata.version(p) for p in ("scikit-learn", "optuna", "mlflow", "pandas")
        },
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine, "records": records}
    (RESULTS / f"{stamp}.json").write_text(json.dumps(payload, indent=2))
    table = f"# Benchmarks {stamp}\n\nMachine: {json.dumps(machine)}\n\n{_markdown(records)}"
    (RESULTS / f"{stamp}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
