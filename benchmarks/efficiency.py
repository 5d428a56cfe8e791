"""Search efficiency: how many configurations random search, Optuna TPE and successive
halving need to reach grid search's best inner score, per dataset, median over seeds.

Each dataset runs one tuneworth plan (no tracking): a decision tree (its declared space:
depth, leaf size and, for classification, cost-complexity pruning), grid search on its finest
grid within ``GRID_BUDGET`` points, and the three others with ``BUDGET`` configurations each,
all with the same inner splits of each outer training fold. A tree keeps the benchmark within
minutes on two cores; the calibrated RBF SVM, the classic case, took two to ten times longer
per dataset in a trial run.
tuneworth's own :func:`tuneworth.strategies.compare_strategies` counts, per outer fold, the
configurations evaluated until the best-so-far inner score reached grid search's best on that
fold (the median over folds; infinite when most folds never reached it). A seed changes the
outer and inner splits and every search's draws.

Every strategy draws from its own stream, one per outer fold (:func:`tuneworth.search.
stream_seed`): TPE's random start-up, a quarter of its budget (6 of 24 trials here), is not
random search's first draws, as it was when both took the spec's seed as theirs.

Halving scores on the full inner folds only in its last rung, after drawing all its
candidates, so its count is its whole candidate budget when it matches and infinite when it
does not; its cost column says what that took.
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Record = dict[str, Any]

ROOT = Path(__file__).resolve().parents[1]
# Development datasets beside the repository; a fresh clone lacks them and skips them.
SHARED = ROOT.parent / "shared" / "datasets"

MODEL = "decision_tree"
GRID_BUDGET = 20  # tuneworth's default budget: 18 grid points (classification), 20 (regression)
BUDGET = 24
FOLDS = 2  # outer folds: each search runs on half of the rows
SEEDS = (0, 1, 2)
STRATEGIES = ("random_search", "optuna", "halving")


def datasets(directory: Path) -> list[tuple[str, str, str]]:
    """``(label, source, target)`` of every dataset to search: built-ins, one synthetic
    table written into ``directory``, and the shared CSVs when present."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        1_000, n_features=20, n_informative=5, flip_y=0.05, class_sep=0.8, random_state=0
    )
    synthetic = directory / "synthetic.parquet"
    pd.DataFrame(X, columns=[f"x{i}" for i in range(20)]).assign(target=y).to_parquet(synthetic)
    found = [
        ("breast_cancer", "sklearn:breast_cancer", "target"),
        ("wine (3 classes)", "sklearn:wine", "target"),
        ("digits (10 classes)", "sklearn:digits", "target"),
        ("diabetes (regression)", "sklearn:diabetes", "target"),
        ("synthetic 1,000 x 20", str(synthetic), "target"),
    ]
    shared = {
        "titanic.csv": "survived",
        "penguins.csv": "species",
        "credit_g.csv": "credit_risk",
        "ames_housing.csv": "price",
    }
    for name, target in shared.items():
        if (SHARED / name).is_file():
            found.append((name.removesuffix(".csv"), str(SHARED / name), target))
    return found


def _spec(source: str, target: str, seed: int, budget: int) -> Any:
    from tuneworth.spec import parse_spec

    return parse_spec(
        {
            "name": "efficiency",
            "dataset": {"source": source, "target": target},
            "cv": {"folds": FOLDS, "repeats": 1, "inner_folds": 3},
            "baseline": {"model": MODEL},
            "levers": [
                {"grid_search": {"trials": GRID_BUDGET}},
                *({name: {"trials": budget}} for name in STRATEGIES),
            ],
            "budget": {"trials": budget},
            "seed": seed,
        }
    )


def _one_seed(source: str, target: str, seed: int, budget: int) -> pd.DataFrame:
    """compare_strategies' table for one seed, with each arm's fit CPU seconds."""
    import warnings

    from tuneworth.design import BASELINE
    from tuneworth.evaluate import FoldResult, evaluate
    from tuneworth.experiment import plan_experiment
    from tuneworth.strategies import compare_strategies

    plan = plan_experiment(_spec(source, target, seed, budget))
    skip = frozenset((BASELINE, split.index) for split in plan.splits)
    by_arm: dict[str, list[FoldResult]] = defaultdict(list)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # failed halving rungs on tiny subsamples, etc.
        for result in evaluate(
            plan.pipelines,
            plan.dataset.X,
            plan.dataset.y,
            plan.splits,
            plan.metric,
            n_jobs=-1,
            skip=skip,
        ):
            by_arm[result.arm].append(result)
    table = compare_strategies(plan.arms, by_arm, plan.metric)
    table["fit_cpu_seconds"] = [sum(r.fit_cpu_seconds for r in by_arm[arm]) for arm in table["arm"]]
    table["folds"] = len(plan.splits)
    return table


def efficiency(seeds: tuple[int, ...] = SEEDS, budget: int = BUDGET) -> list[Record]:
    """One row per dataset and strategy: trials to match grid search, median over seeds."""
    records: list[Record] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, source, target in datasets(Path(tmp)):
            start = time.perf_counter()
            tables = [_one_seed(source, target, seed, budget) for seed in seeds]
            print(f"  {label}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
            both = pd.concat(tables, ignore_index=True)
            grid = both[both["strategy"] == "grid_search"]
            grid_cost = float(grid["fit_cpu_seconds"].sum())
            records.append(
                {
                    "benchmark": "search efficiency",
                    "dataset": label,
                    "strategy": "grid search",
                    "configurations": int(grid["configurations"].median()),
                    "trials_to_match_grid": "(reference)",
                    "folds_matching": "",
                    "inner_score": round(float(grid["inner_score"].mean()), 4),
                    "cpu_vs_grid": 1.0,
                }
            )
            for strategy in STRATEGIES:
                rows = both[both["strategy"] == strategy]
                # NaN: every outer fold of that seed failed (the search raised).
                counts = rows["trials_to_match_grid"].dropna()
                needed = statistics.median(counts) if len(counts) else math.nan
                records.append(
                    {
                        "benchmark": "search efficiency",
                        "dataset": label,
                        "strategy": _LABELS[strategy],
                        "configurations": budget,
                        "trials_to_match_grid": _count(needed, budget),
                        "folds_matching": (
                            f"{int(rows['folds_matching_grid'].sum())}/{int(rows['folds'].sum())}"
                        ),
                        "inner_score": round(float(rows["inner_score"].mean()), 4),
                        "cpu_vs_grid": round(float(rows["fit_cpu_seconds"].sum()) / grid_cost, 2),
                    }
                )
    records += _summary(records, budget)
    return records


_LABELS = {
    "random_search": "random search",
    "optuna": "Optuna TPE",
    "halving": "successive halving",
}


def _count(needed: float, budget: int) -> str | float:
    if math.isnan(needed):
        return "failed"
    return f"> {budget}" if math.isinf(needed) else float(needed)


def _summary(records: list[Record], budget: int) -> list[Record]:
    """Per strategy, over datasets: median count (unmatched as above budget) and matches."""
    rows = []
    for strategy in _LABELS.values():
        mine = [r for r in records if r["strategy"] == strategy]
        counts = [
            r["trials_to_match_grid"] if isinstance(r["trials_to_match_grid"], float) else math.inf
            for r in mine
        ]
        matched = sum(math.isfinite(c) for c in counts)
        median = float(np.median(counts)) if counts else math.nan
        rows.append(
            {
                "benchmark": "search efficiency",
                "dataset": f"all {len(mine)} datasets (median)",
                "strategy": strategy,
                "configurations": "",
                "trials_to_match_grid": _count(median, budget),
                "folds_matching": f"{matched}/{len(mine)} datasets",
                "inner_score": "",
                "cpu_vs_grid": round(float(np.median([r["cpu_vs_grid"] for r in mine])), 2),
            }
        )
    return rows
