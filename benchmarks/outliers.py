"""Rows the outlier filter removes: the capped fence rule against the plain one.

    .venv/bin/python benchmarks/outliers.py [DATA_DIR]

For every CSV in ``DATA_DIR`` (a folder of real datasets, skipped when absent), the
scikit-learn built-ins, and generated tables with many skewed or heavy-tailed columns, it
prints the share of rows, and of the rarest class, that ``OutlierFilter`` removes with its
default (3-IQR fences, at most 5% of each class) and with the cap lifted (``max_share=1``:
any one value beyond a fence drops its row), and, for the generated tables with planted
gross errors, how many of those were caught. Not part of the test run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from tuneworth.data import load_dataset, shown
from tuneworth.steps import OutlierFilter

TARGETS = {
    "titanic.csv": "survived",
    "penguins.csv": "species",
    "credit_g.csv": "credit_risk",
    "ames_housing.csv": "price",
}


def tables(data_dir: Path | None) -> Iterator[tuple[str, pd.DataFrame, pd.Series, bool]]:
    """(name, X, y, classification) for each table measured."""
    if data_dir is not None and data_dir.is_dir():
        for path in sorted(data_dir.glob("*.csv")):
            if path.name in TARGETS:
                data = load_dataset(str(path), TARGETS[path.name])
                yield path.stem, data.X, data.y, data.task != "regression"
    for name in ("breast_cancer", "wine", "digits", "diabetes"):
        data = load_dataset(f"sklearn:{name}", "target")
        yield name, data.X, data.y, data.task != "regression"
    yield from generated()


def generated() -> Iterator[tuple[str, pd.DataFrame, pd.Series, bool]]:
    """Skewed and heavy-tailed columns, as counts, amounts and word frequencies are."""
    rng = np.random.default_rng(0)
    n = 2000
    lognormal = pd.DataFrame(rng.lognormal(0, 1, (n, 30))).add_prefix("x")
    yield "lognormal σ=1, 30 columns", lognormal, _labels(rng, n), True
    pareto = pd.DataFrame(rng.pareto(2.5, (n, 50))).add_prefix("x")
    yield "Pareto α=2.5, 50 columns", pareto, _labels(rng, n), True
    mixed = pd.concat(
        [
            pd.DataFrame(rng.normal(0, 1, (n, 10))).add_prefix("g"),
            pd.DataFrame(rng.exponential(1, (n, 10))).add_prefix("e"),
            pd.DataFrame(rng.standard_t(3, (n, 10))).add_prefix("t"),
        ],
        axis=1,
    )
    yield "normal + exponential + t(3), 30 columns", mixed, _labels(rng, n), True
    gaussian = pd.DataFrame(rng.normal(0, 1, (n, 20))).add_prefix("x")
    gaussian.iloc[:40, 0] = 50.0  # 2% gross errors
    yield "Gaussian, 20 columns, 2% gross errors", gaussian, _labels(rng, n), True
    skewed = pd.DataFrame(rng.lognormal(0, 1, (n, 30))).add_prefix("x")
    skewed.iloc[:40, 0] = 1e4  # 2% gross errors among heavy tails
    yield "lognormal σ=1, 30 columns, 2% gross errors", skewed, _labels(rng, n), True


def _labels(rng: np.random.Generator, n: int) -> pd.Series:
    return pd.Series(np.where(rng.random(n) < 0.05, "rare", "common"))


def measure(
    name: str, X: pd.DataFrame, y: pd.Series, classification: bool, max_share: float
) -> str:
    cleaner = OutlierFilter(max_share=max_share, per_class=classification)
    cleaner.fit(X, y)
    kept = cleaner.sample_indices_
    removed = 1 - len(kept) / len(y)
    text = f"{removed:6.1%}"
    if classification:
        counts = y.value_counts()
        rare = counts.idxmin()
        left = int((y.iloc[kept] == rare).sum())
        text += f"  rarest class {shown(rare)}: {counts[rare] - left} of {counts[rare]}"
    if "gross errors" in name:
        text += f"  gross errors caught: {40 - int(np.isin(np.arange(40), kept).sum())} of 40"
    return text


def main() -> None:
    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    for name, X, y, classification in tables(data_dir):
        print(f"{name} ({len(y)} rows, {X.shape[1]} columns)")
        print(f"  any value beyond a fence: {measure(name, X, y, classification, 1.0)}")
        print(f"  capped (default):         {measure(name, X, y, classification, 0.05)}")


if __name__ == "__main__":
    main()
