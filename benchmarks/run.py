"""Performance benchmarks: ``make bench``. Not part of the test run.

Each benchmark returns plain records; this script writes them as JSON and as a markdown table
under ``benchmarks/results/``, stamped with the machine's core count and package versions.
"""

from __future__ import annotations

import json
import os
import platform
import resource
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

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TUNEWORTH = str(Path(sys.executable).with_name("tuneworth"))

Record = dict[str, Any]


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: only a new maximum is attributable.
    return wall, max(peak, before) / 1024


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


def default_experiment() -> list[Record]:
    """Wall time and peak memory of the default experiment, into a throwaway store."""
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        spec = str(ROOT / "pipelines" / "default.yaml")
        wall, peak = _timed([TUNEWORTH, "run", spec, "--tracking-uri", uri, "--quiet"])
    return [
        {
            "benchmark": "default experiment",
            "case": f"tuneworth run pipelines/default.yaml ({os.cpu_count()} cores)",
            "wall_seconds": round(wall, 1),
            "peak_rss_mib": round(peak),
        }
    ]


BENCHMARKS: dict[str, Callable[[], list[Record]]] = {
    "startup": startup,
    "default_experiment": default_experiment,
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
