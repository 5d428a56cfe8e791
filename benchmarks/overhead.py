"""In-process overhead: tuneworth's own planned pipelines run bare and through tuneworth.

This isolates what tuneworth adds around the very same fits (tracking, planning, the verdict,
the report); it is not the comparison a prospective user makes, whose script would build its
own pipelines on numpy arrays: ``script.py`` measures that, whole process.

Both sides do the same work on the same data file: for every outer split of one repeated
stratified K-fold, fit and score the untuned pipeline (tuneworth's baseline arm) and fit and
score one search over it (the tuning arm). The pipelines are the very estimators tuneworth
plans, cloned; the raw side wraps them in scikit-learn's own ``GridSearchCV`` or a plain
Optuna study with the same grid, space, inner splitter, scorer and seeds. Both run on one
core (``n_jobs=1``, BLAS/OpenMP threads limited to one). tuneworth's side is the whole
``run_experiment``: reading the data, planning, MLflow tracking into a SQLite store, the
verdict and the report with its plots.

The two alternate (raw, tuneworth, raw, tuneworth, ...), after an untimed round of each at
the first workload (imports, caches), so load on a shared machine hits both alike; each pair
gives a ratio and a difference, and the medians are reported. CPU seconds (everything runs
in this process) are reported beside wall seconds: other people's work on a shared machine
moves them less. The outer scores of the two sides must agree exactly, or the comparison is
void.

Two costs come once, not per run, and are measured apart: a fresh interpreter's imports
(every ``tuneworth run`` pays MLflow's and matplotlib's; a script pays only its own) and
creating a new SQLite store (MLflow's schema migrations, on a project's first run).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Record = dict[str, Any]


@dataclass(frozen=True)
class Workload:
    """One search to run both ways."""

    label: str
    model: str
    rows: int | None  # None: breast cancer (569 rows); else synthetic classification
    folds: int
    trials: int
    repeats: int  # raw / tuneworth pairs


SMALL = Workload("small: knn, breast cancer 569 rows, 5 folds", "knn", None, 5, 20, 5)
LARGE = Workload(
    "larger: hist gradient boosting, 4,000 synthetic rows, 3 folds",
    "hist_gradient_boosting",
    4_000,
    3,
    8,
    3,
)
INNER_FOLDS = 3
SEED = 0


def _write_data(workload: Workload, directory: Path) -> Path:
    """The workload's table as a Parquet file both sides read."""
    from sklearn.datasets import load_breast_cancer, make_classification

    if workload.rows is None:
        frame = load_breast_cancer(as_frame=True).frame
    else:
        X, y = make_classification(
            workload.rows, n_features=20, n_informative=8, flip_y=0.05, random_state=SEED
        )
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)]).assign(target=y)
    path = directory / f"{workload.model}.parquet"
    frame.to_parquet(path)
    return path


def _spec(workload: Workload, strategy: str, data: Path) -> Any:
    from tuneworth.spec import parse_spec

    return parse_spec(
        {
            "name": f"overhead_{workload.model}_{strategy}",
            "dataset": {"source": str(data), "target": "target"},
            "metric": "roc_auc",
            "cv": {"folds": workload.folds, "repeats": 1, "inner_folds": INNER_FOLDS},
            "baseline": {"model": workload.model},
            "levers": [strategy],
            "budget": {"trials": workload.trials},
            "seed": SEED,
        }
    )


def _raw_side(spec: Any, data: Path, strategy: str) -> Callable[[], dict[tuple[str, int], float]]:
    """What a user would write with scikit-learn and Optuna alone, for the same work.

    The unfitted pipelines, grid and space are read from tuneworth's plan before timing
    starts, so both sides fit exactly the same estimators.
    """
    import optuna
    from sklearn.base import clone
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import (
        GridSearchCV,
        RepeatedStratifiedKFold,
        StratifiedKFold,
        cross_validate,
    )
    from threadpoolctl import threadpool_limits

    from tuneworth.experiment import plan_experiment

    plan = plan_experiment(spec)
    baseline_name, tuned_name = (arm.name for arm in plan.arms)
    baseline = plan.pipelines[baseline_name]
    tuned = plan.pipelines[tuned_name]
    pipeline = tuned.estimator
    scorer = get_scorer("roc_auc")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    grid = tuned.param_grid if strategy == "grid_search" else None
    space = tuned.space if strategy == "optuna" else None

    def suggest(trial: optuna.Trial) -> dict[str, Any]:
        from tuneworth.space import Choice, FloatRange

        params: dict[str, Any] = {}
        for name, dim in (space or {}).items():
            if isinstance(dim, FloatRange):
                params[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.log)
            elif isinstance(dim, Choice):
                params[name] = trial.suggest_categorical(name, list(dim.options))
            else:
                params[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.log)
        return params

    def run() -> dict[tuple[str, int], float]:
        frame = pd.read_parquet(data)
        X, y = frame.drop(columns="target"), frame["target"]
        outer = RepeatedStratifiedKFold(n_splits=spec.cv.folds, n_repeats=1, random_state=SEED)
        inner = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=SEED)
        scores: dict[tuple[str, int], float] = {}
        with threadpool_limits(limits=1):
            for fold, (train, test) in enumerate(outer.split(X, y)):
                X_train, y_train = X.iloc[train], y.iloc[train]
                X_test, y_test = X.iloc[test], y.iloc[test]
                model = clone(baseline).fit(X_train, y_train)
                scores[baseline_name, fold] = scorer(model, X_test, y_test)
                if grid is not None:
                    search = GridSearchCV(
                        clone(pipeline), grid, scoring="roc_auc", cv=inner, n_jobs=1
                    ).fit(X_train, y_train)
                    scores[tuned_name, fold] = scorer(search, X_test, y_test)
                    continue

                def objective(trial: optuna.Trial, X: Any = X_train, y: Any = y_train) -> float:
                    estimator = clone(pipeline).set_params(**suggest(trial))
                    cv = cross_validate(estimator, X, y, cv=inner, scoring="roc_auc")
                    return float(np.mean(cv["test_score"]))

                study = optuna.create_study(
                    direction="maximize", sampler=optuna.samplers.TPESampler(seed=SEED)
                )
                study.optimize(objective, n_trials=spec.budget.trials)
                best = clone(pipeline).set_params(**study.best_params).fit(X_train, y_train)
                scores[tuned_name, fold] = scorer(best, X_test, y_test)
        return scores

    return run


def _tuneworth_side(spec: Any, store: Path) -> Callable[[], dict[tuple[str, int], float]]:
    """``run_experiment`` as the CLI calls it, tracked in ``store``, report included."""
    import tuneworth.evaluate
    from tuneworth.experiment import run_experiment

    uri = f"sqlite:///{store / 'mlflow.db'}"

    def run() -> dict[tuple[str, int], float]:
        # A CLI run is a fresh process that pays one untimed warm-up fit per arm; running in
        # this process, forget earlier runs' warm-ups so each run pays it again.
        tuneworth.evaluate._WARM.clear()
        result = run_experiment(spec, tracking_uri=uri, n_jobs=1, report_dir=None)
        rows = result.results.itertuples()
        return {(str(r.arm), int(r.fold)): float(r.score) for r in rows}

    return run


def _timed(
    run: Callable[[], dict[tuple[str, int], float]],
) -> tuple[float, float, dict[Any, float]]:
    """Wall and CPU seconds of one run (everything runs in this process), and its scores."""
    wall, cpu = time.perf_counter(), time.process_time()
    scores = run()
    return time.perf_counter() - wall, time.process_time() - cpu, scores


def new_store_seconds(repeats: int = 3) -> float:
    """Median wall time of opening a new, empty SQLite store (MLflow's migrations)."""
    from tuneworth.tracking import Tracker

    walls = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            Tracker(f"sqlite:///{Path(tmp) / 'mlflow.db'}")
            walls.append(time.perf_counter() - start)
    return statistics.median(walls)


# What a script doing these searches imports, and what ``tuneworth run`` imports.
_RAW_IMPORTS = (
    "import pandas, optuna, sklearn.model_selection, sklearn.pipeline, sklearn.compose, "
    "sklearn.impute, sklearn.preprocessing, sklearn.neighbors, sklearn.ensemble"
)
_TUNEWORTH_IMPORTS = (
    "import tuneworth.cli, tuneworth.experiment, tuneworth.tracking, tuneworth.plots, "
    "mlflow, matplotlib.figure, matplotlib.backends.backend_agg, optuna"
)


def import_seconds(repeats: int = 3) -> tuple[float, float]:
    """Median wall seconds of a fresh interpreter importing a raw script's modules, and
    ``tuneworth run``'s."""

    def median(code: str) -> float:
        walls = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            walls.append(time.perf_counter() - start)
        return statistics.median(walls)

    return median(_RAW_IMPORTS), median(_TUNEWORTH_IMPORTS)


def overhead(
    workloads: tuple[Workload, ...] = (SMALL, LARGE), repeats: int | None = None
) -> list[Record]:
    """Raw against tuneworth, alternated, per workload and search; ratios and seconds.

    ``repeats`` overrides each workload's number of pairs.
    """
    records: list[Record] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp, "store")
        for workload in workloads:
            data = _write_data(workload, Path(tmp))
            for strategy in ("grid_search", "optuna"):
                spec = _spec(workload, strategy, data)
                raw, ours = _raw_side(spec, data, strategy), _tuneworth_side(spec, store)
                if workload is workloads[0]:  # an untimed round of each: imports, caches
                    _timed(raw)
                    _timed(ours)
                raw_runs, our_runs, same = [], [], True
                for _ in range(repeats or workload.repeats):
                    wall, cpu, expected = _timed(raw)
                    raw_runs.append((wall, cpu))
                    wall, cpu, found = _timed(ours)
                    our_runs.append((wall, cpu))
                    same = same and _same(found, expected)
                ratio = statistics.median(_each(raw_runs, our_runs, 0, lambda a, b: b / a))
                records.append(
                    {
                        "benchmark": "in-process overhead (tuneworth's own pipelines)",
                        "case": f"{workload.label}, {_LABELS[strategy]}",
                        "configurations": _configurations(spec, strategy),
                        "raw_seconds": _median(raw_runs, 0),
                        "tuneworth_seconds": _median(our_runs, 0),
                        "ratio": round(ratio, 3),
                        "fixed_overhead_seconds": _median_gap(raw_runs, our_runs, 0),
                        "fixed_overhead_range": _range(raw_runs, our_runs, 0),
                        "cpu_ratio": round(
                            statistics.median(_each(raw_runs, our_runs, 1, lambda a, b: b / a)), 3
                        ),
                        "fixed_overhead_cpu_seconds": _median_gap(raw_runs, our_runs, 1),
                        "repeats": len(raw_runs),
                        "identical_scores": same,
                        "met": ratio <= 1.10,
                    }
                )
    raw_imports, our_imports = import_seconds()
    records.append(
        {
            "benchmark": "in-process overhead (tuneworth's own pipelines)",
            "case": "once per process: start-up and imports (tuneworth run: MLflow, matplotlib)",
            "raw_seconds": round(raw_imports, 2),
            "tuneworth_seconds": round(our_imports, 2),
            "fixed_overhead_seconds": round(our_imports - raw_imports, 2),
        }
    )
    store = new_store_seconds()
    records.append(
        {
            "benchmark": "in-process overhead (tuneworth's own pipelines)",
            "case": "once per store: creating a new MLflow SQLite store (a project's first run)",
            "tuneworth_seconds": round(store, 2),
            "fixed_overhead_seconds": round(store, 2),
        }
    )
    return records


Runs = list[tuple[float, float]]


def _same(found: dict[Any, float], expected: dict[Any, float]) -> bool:
    """The same outer scores for the same (arm, fold) pairs, to the last digit."""
    return found.keys() == expected.keys() and all(
        abs(found[k] - expected[k]) < 1e-12 for k in expected
    )


def _each(raw: Runs, ours: Runs, which: int, how: Callable[[float, float], float]) -> list[float]:
    """``how(raw, ours)`` of wall (``which=0``) or CPU (1) seconds, pair by pair."""
    return [how(a[which], b[which]) for a, b in zip(raw, ours, strict=True)]


def _median(runs: Runs, which: int) -> float:
    return round(statistics.median(run[which] for run in runs), 2)


def _range(raw: Runs, ours: Runs, which: int) -> str:
    """The smallest and largest pair difference: how much the machine's load moved them."""
    gaps = _each(raw, ours, which, lambda a, b: b - a)
    return f"{min(gaps):.2f} to {max(gaps):.2f}"


def _median_gap(raw: Runs, ours: Runs, which: int) -> float:
    return round(statistics.median(_each(raw, ours, which, lambda a, b: b - a)), 2)


_LABELS = {"grid_search": "GridSearchCV", "optuna": "Optuna TPE study"}


def _configurations(spec: Any, strategy: str) -> int:
    from tuneworth.models import get_model
    from tuneworth.space import grid_size

    if strategy != "grid_search":
        return int(spec.budget.trials)
    space = get_model(spec.baseline.model).search_space("binary")
    return grid_size(space, spec.budget.trials)
