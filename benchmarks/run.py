"""Performance benchmarks: ``make bench``. Not part of the test run.

Each benchmark returns plain records; this script writes them as JSON and as a markdown table
under ``benchmarks/results/``, stamped with the machine's core count, its load and package
versions. ``python benchmarks/run.py [section ...] [--quick]`` runs some sections only, or
all of them with fewer repeats and seeds.
"""

from __future__ import annotations

import argparse
import functools
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
# The console script beside this Python, or another one named by TUNEWORTH_BIN; either
# imports tuneworth from PYTHONPATH first when it is set (to measure a checkout's source).
TUNEWORTH = os.environ.get("TUNEWORTH_BIN") or str(Path(sys.executable).with_name("tuneworth"))

Record = dict[str, Any]


# Runs a command as its own child and prints that child's peak RSS and the CPU seconds of it
# and its workers: a fresh process per measurement, because RUSAGE_CHILDREN only ever reports
# the largest child so far.
_PEAK = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "r = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(r.ru_maxrss, r.ru_utime + r.ru_stime); sys.exit(code)"
)


def _timed(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB, the largest process of the run) and CPU seconds (all its
    processes) of one command."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], check=True, capture_output=True, cwd=ROOT
    )
    wall = time.perf_counter() - start
    peak, cpu = done.stdout.decode().split()[-2:]
    return wall, int(peak) / 1024, float(cpu)


def startup(quick: bool = False) -> list[Record]:
    """Wall time of ``tuneworth --help``: heavy modules must load lazily (target < 0.5 s)."""
    walls = [_timed([TUNEWORTH, "--help"])[0] for _ in range(3 if quick else 5)]
    return [
        {
            "benchmark": "start-up",
            "case": "tuneworth --help",
            "median_seconds": round(statistics.median(walls), 3),
            "target": "< 0.5 s",
            "met": statistics.median(walls) < 0.5,
        }
    ]


Run = tuple[float, float, float, pd.DataFrame]


def _run_spec(spec: Path | str, store: Path, jobs: int = -1) -> Run:
    """Run a spec through the CLI into ``store``: wall seconds, peak RSS, CPU seconds and its
    fold table."""
    uri = f"sqlite:///{store / 'mlflow.db'}"
    command = [TUNEWORTH, "run", str(spec), "--tracking-uri", uri, "--quiet"]
    command += ["--jobs", str(jobs), "--report-dir", str(store / "reports")]
    wall, peak, cpu = _timed(command)
    import mlflow

    mlflow.set_tracking_uri(uri)
    study = mlflow.search_runs(
        search_all_experiments=True, filter_string="tags.`tuneworth.kind` = 'study'"
    )
    run_id = study.sort_values("start_time")["run_id"].iloc[-1]
    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="results.csv")
    return wall, peak, cpu, pd.read_csv(path)


@functools.cache
def _default_run(jobs: int) -> Run:
    """``tuneworth run pipelines/default.yaml --jobs <jobs>``, once per worker count: the
    default-experiment and parallelism sections share their runs."""
    with tempfile.TemporaryDirectory() as tmp:
        return _run_spec(ROOT / "pipelines" / "default.yaml", Path(tmp), jobs=jobs)


def default_experiment(quick: bool = False) -> list[Record]:
    """Wall time, peak memory and the share of time outside model fitting."""
    cores = os.cpu_count() or 1
    wall, peak, cpu, _ = _default_run(cores)
    serial, serial_peak, serial_cpu, folds = _default_run(1)
    modelling = float(folds["fit_seconds"].sum() + folds["predict_seconds"].sum())
    return [
        {
            "benchmark": "default experiment",
            "case": f"tuneworth run pipelines/default.yaml into a new store, all {cores} cores",
            "wall_seconds": round(wall, 1),
            "cpu_seconds": round(cpu, 1),
            "peak_rss_mib": round(peak),
            "share_outside_fitting": "",
        },
        {
            "benchmark": "default experiment",
            "case": "the same with --jobs 1",
            "wall_seconds": round(serial, 1),
            "cpu_seconds": round(serial_cpu, 1),
            "peak_rss_mib": round(serial_peak),
            "share_outside_fitting": f"{1 - modelling / serial:.0%}",
        },
    ]


def parallelism(quick: bool = False) -> list[Record]:
    """Speedup of two workers over one on the default experiment."""
    one, _, one_cpu, a = _default_run(1)
    two, _, two_cpu, b = _default_run(2)
    same = a.sort_values(["arm", "fold"])["score"].to_numpy()
    other = b.sort_values(["arm", "fold"])["score"].to_numpy()
    return [
        {
            "benchmark": "parallelism",
            "case": "default experiment, 1 vs 2 workers",
            "one_worker_seconds": round(one, 1),
            "two_workers_seconds": round(two, 1),
            "speedup": round(one / two, 2),
            # Equal CPU seconds and a poor speedup: other work held the second core.
            "cpu_seconds_one_vs_two": f"{one_cpu:.0f} vs {two_cpu:.0f}",
            "identical_fold_scores": bool((same == other).all()),
        }
    ]


SCALING_SIZES = (1_000, 10_000, 100_000, 1_000_000)


def scaling(quick: bool = False) -> list[Record]:
    """Synthetic classification at growing sizes, one fixed small design; growth exponent,
    and the peak RSS of the largest process against the table's size in memory (its float
    columns and integer target: 160 MiB at a million rows), two ways.

    ``peak_vs_data`` is the whole peak over the data's size; ``increment_vs_data`` is the
    peak's increment over the same run on the smallest table (1,000 rows) over the data's
    size: what grows with the data, without the interpreter and libraries (about 400 MiB,
    whatever the rows). The memory target (peak <= 3x the data at a million rows) is
    compared with ``increment_vs_data``; both are shown.
    """
    from sklearn.datasets import make_classification

    records: list[Record] = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in SCALING_SIZES[:-1] if quick else SCALING_SIZES:
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
            data_mib = frame.memory_usage(deep=True).sum() / 2**20
            wall, peak, _, _ = _run_spec(spec, Path(tmp, f"store_{rows}"))
            # The smallest run's peak is the interpreter's and the libraries'.
            fixed = records[0]["peak_rss_mib"] if records else peak
            records.append(
                {
                    "benchmark": "scaling",
                    "case": f"{rows:,} rows x 20 features, 2 arms x 3 folds",
                    "rows": rows,
                    "wall_seconds": round(wall, 2),
                    "peak_rss_mib": round(peak),
                    "peak_vs_data": round(peak / data_mib, 1),
                    "increment_mib": round(peak - fixed),
                    "increment_vs_data": round((peak - fixed) / data_mib, 1),
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
            "wall_seconds": f"k={overall:.2f} overall, k={top:.2f} from "
            f"{records[-2]['rows']:,} to {records[-1]['rows']:,} rows",
            "peak_rss_mib": "",
            "peak_vs_data": "",
            "increment_mib": "",
            "increment_vs_data": "target <= 3 at 1,000,000 rows",
        }
    )
    return records


def overhead(quick: bool = False) -> list[Record]:
    """tuneworth's own pipelines bare against through tuneworth, in one process (see
    overhead.py): what tracking and orchestration add, not what a user's script costs."""
    from overhead import SMALL
    from overhead import overhead as measure

    return measure(workloads=(SMALL,), repeats=1) if quick else measure()


def efficiency(quick: bool = False) -> list[Record]:
    """Trials to match grid search for random, TPE and halving (see efficiency.py)."""
    from efficiency import efficiency as measure

    return measure(seeds=(0,)) if quick else measure()


def versus_script(quick: bool = False) -> list[Record]:
    """Whole process against the plain script a user would write (see script.py)."""
    from script import SMALL
    from script import versus_script as measure

    return measure(cases=(SMALL,), rounds=1) if quick else measure()


BENCHMARKS: dict[str, Callable[[bool], list[Record]]] = {
    "startup": startup,
    "default_experiment": default_experiment,
    "parallelism": parallelism,
    "scaling": scaling,
    "versus_script": versus_script,
    "overhead": overhead,
    "efficiency": efficiency,
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


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on a shared machine skews timings."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py", description="tuneworth's performance benchmarks"
    )
    parser.add_argument(
        "sections", nargs="*", metavar="SECTION", help=f"any of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats, seeds and sizes: a smoke run"
    )
    args = parser.parse_args(argv)
    names = args.sections or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    started, load_before = time.perf_counter(), _load()
    records: list[Record] = []
    for name in names:
        elapsed = (time.perf_counter() - started) / 60
        print(f"benchmark {name} ... ({elapsed:.1f} min in, load {_load()})", flush=True)
        records += BENCHMARKS[name](args.quick)
    machine = {
        "cores": os.cpu_count(),
        "load_average_1_5_15_min": {"start": load_before, "end": _load()},
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "quick": args.quick,
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
    heading = (
        f"# Benchmarks {stamp}\n\n{machine['cores']} cores; load average (1/5/15 min) "
        f"{load_before} at the start, {machine['load_average_1_5_15_min']['end']} at the end; "
        f"{machine['minutes']} minutes{'; --quick' if args.quick else ''}.\n\n"
        f"Machine: {json.dumps(machine)}\n\n"
    )
    table = heading + _markdown(records)
    (RESULTS / f"{stamp}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
