"""Controlled data defects, for experiments whose right answer is known.

A spec's ``dataset.defects`` names defects to inject, reproducibly from the spec's seed.
Defects of the *truth* — label noise, missing values, duplicated rows, a thinned minority
class — go into each outer training fold only, so every test fold keeps the clean truth
that the arms are scored on. They are applied to the whole training fold before any arm
sees it (a search's inner folds included, as they would be in real data), with a seed
derived from the fold, so every arm meets the same corrupted rows on the same fold.

Defects of the *feature space* — a few columns on wildly larger scales, extra columns of
pure noise — change what a row looks like, not what is true of it, so they apply to every
row, test folds included: a model must meet the same columns at prediction time.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelNoise(_Section):
    """Flip a share of training labels (classification) or add noise (regression).

    ``uniform`` flips to any other class; ``class_conditional`` flips only rows of the
    first class (in sorted order) to the next one, the asymmetric noise of real annotation.
    """

    rate: float = Field(gt=0, lt=1)
    mode: Literal["uniform", "class_conditional"] = "uniform"


class Missing(_Section):
    """Blank a share of numeric training cells, completely at random (MCAR)."""

    rate: float = Field(gt=0, lt=1)


class ScaleDistortion(_Section):
    """Multiply ``columns`` numeric columns by factors between 10 and ``factor``."""

    columns: int = Field(default=3, gt=0)
    factor: float = Field(default=1000.0, gt=1)


class Duplicates(_Section):
    """Append copies of a share of training rows."""

    rate: float = Field(gt=0, le=5)


class Imbalance(_Section):
    """Thin the smallest training class until the largest outnumbers it ``ratio`` to 1."""

    ratio: float = Field(gt=1)


class NoiseFeatures(_Section):
    """Add ``count`` columns of Gaussian noise that carry no signal."""

    count: int = Field(gt=0, le=1000)


class Defects(_Section):
    """The defects to inject; every section is optional."""

    label_noise: LabelNoise | None = None
    missing: Missing | None = None
    scale: ScaleDistortion | None = None
    duplicates: Duplicates | None = None
    imbalance: Imbalance | None = None
    noise_features: NoiseFeatures | None = None

    def any(self) -> bool:
        return any(getattr(self, name) is not None for name in type(self).model_fields)

    def describe(self) -> list[str]:
        """Plain sentences naming each injected defect, for the report."""
        said = []
        if self.label_noise:
            said.append(
                f"{self.label_noise.rate:.0%} label noise ({self.label_noise.mode}), "
                "training folds only"
            )
        if self.missing:
            said.append(
                f"{self.missing.rate:.0%} of numeric cells missing completely at random, "
                "training folds only"
            )
        if self.duplicates:
            said.append(f"{self.duplicates.rate:.0%} of rows duplicated, training folds only")
        if self.imbalance:
            said.append(
                f"smallest class thinned to 1 in {self.imbalance.ratio:g} of the largest, "
                "training folds only"
            )
        if self.scale:
            said.append(
                f"{self.scale.columns} numeric columns rescaled by factors up to "
                f"{self.scale.factor:g}, all rows"
            )
        if self.noise_features:
            said.append(f"{self.noise_features.count} pure-noise columns added, all rows")
        return said


def distort(X: pd.DataFrame, defects: Defects, seed: int) -> pd.DataFrame:
    """Feature-space defects for every row: rescaled columns and pure-noise columns.

    >>> X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.1, 0.2]})
    >>> out = distort(X, Defects(scale={"columns": 1, "factor": 100},
    ...                           noise_features={"count": 2}), seed=0)
    >>> list(out.columns), bool((out[["a", "b"]] != X).any().any())
    (['a', 'b', 'noise_0', 'noise_1'], True)
    """
    rng = np.random.default_rng([seed, 1])
    out = X.copy()
    if defects.scale:
        numeric = [c for c in X.columns if pd.api.types.is_float_dtype(X[c])]
        numeric += [
            c
            for c in X.columns
            if pd.api.types.is_integer_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])
        ]
        chosen = rng.choice(numeric, size=min(defects.scale.columns, len(numeric)), replace=False)
        for column in chosen:
            factor = float(np.exp(rng.uniform(np.log(10), np.log(defects.scale.factor))))
            out[column] = X[column].astype("float64") * factor
    if defects.noise_features:
        # One concat, not a column at a time: hundreds of inserts fragment the frame.
        noise = {f"noise_{i}": rng.normal(size=len(X)) for i in range(defects.noise_features.count)}
        out = pd.concat([out, pd.DataFrame(noise, index=X.index)], axis=1)
    return out


def corrupt(
    X: pd.DataFrame, y: pd.Series, defects: Defects, seed: int, fold: int
) -> tuple[pd.DataFrame, pd.Series]:
    """Defects of the truth for one outer training fold, reproducible per (seed, fold).

    >>> X = pd.DataFrame({"a": np.arange(100.0)})
    >>> y = pd.Series(["yes", "no"] * 50)
    >>> Xc, yc = corrupt(X, y, Defects(label_noise={"rate": 0.2}), seed=0, fold=0)
    >>> int((yc != y).sum())
    20
    """
    rng = np.random.default_rng([seed, 2, fold])
    X, y = X.reset_index(drop=True), y.reset_index(drop=True)
    classification = not pd.api.types.is_float_dtype(y)
    if defects.imbalance and classification:
        X, y = _thin_smallest_class(X, y, defects.imbalance.ratio, rng)
    if defects.label_noise:
        y = _flip_labels(y, defects.label_noise, classification, rng)
    if defects.missing:
        X = _blank_cells(X, defects.missing.rate, rng)
    if defects.duplicates:
        chosen = rng.choice(len(X), size=round(defects.duplicates.rate * len(X)), replace=True)
        X = pd.concat([X, X.iloc[chosen]], ignore_index=True)
        y = pd.concat([y, y.iloc[chosen]], ignore_index=True)
    return X, y


def _thin_smallest_class(
    X: pd.DataFrame, y: pd.Series, ratio: float, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.Series]:
    counts = y.value_counts()
    smallest = counts.idxmin()
    keep_n = max(2, int(counts.max() / ratio))
    rows = np.flatnonzero((y == smallest).to_numpy())
    if keep_n >= len(rows):
        return X, y
    dropped = rng.choice(rows, size=len(rows) - keep_n, replace=False)
    mask = np.ones(len(y), dtype=bool)
    mask[dropped] = False
    return X[mask].reset_index(drop=True), y[mask].reset_index(drop=True)


def _flip_labels(
    y: pd.Series, noise: LabelNoise, classification: bool, rng: np.random.Generator
) -> pd.Series:
    y = y.copy()
    if not classification:
        chosen = rng.choice(len(y), size=round(noise.rate * len(y)), replace=False)
        spread = float(y.std()) * 3
        y.iloc[chosen] = y.iloc[chosen] + rng.normal(0, spread, len(chosen))
        return y
    labels = np.sort(y.unique())
    if noise.mode == "class_conditional":
        source = np.flatnonzero((y == labels[0]).to_numpy())
        chosen = rng.choice(source, size=round(noise.rate * len(source)), replace=False)
        y.iloc[chosen] = labels[1]
        return y
    chosen = rng.choice(len(y), size=round(noise.rate * len(y)), replace=False)
    current = y.iloc[chosen].to_numpy()
    offsets = rng.integers(1, len(labels), size=len(chosen))
    index = np.searchsorted(labels, current)
    y.iloc[chosen] = labels[(index + offsets) % len(labels)]
    return y


def _blank_cells(X: pd.DataFrame, rate: float, rng: np.random.Generator) -> pd.DataFrame:
    X = X.copy()
    for column in X.columns:
        if pd.api.types.is_numeric_dtype(X[column]) and not pd.api.types.is_bool_dtype(X[column]):
            mask = rng.random(len(X)) < rate
            X[column] = X[column].astype("float64").mask(mask)
    return X
