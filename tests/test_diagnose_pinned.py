"""Making the diagnosis cheaper leaves every finding as it was.

``data/diagnose_findings.json`` holds the findings of the tables :func:`tables` generates
(binary and multiclass classification with duplicates, conflicting labels, flipped labels,
leaks, outliers, missing values and categorical columns; a regression with corrupted
targets; a table sampled down to ``max_rows``), as the diagnosis computed them when its
label-noise check ran :class:`~tuneworth.steps.LabelNoiseFilter` itself and its leak check
scored with scikit-learn's metrics. :func:`record` rewrites the file; do so only for a
change that is meant to change findings, and say why.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tuneworth.data import frame_dataset
from tuneworth.diagnose import diagnose

PINNED = Path(__file__).with_name("data") / "diagnose_findings.json"
# Rows the model-based checks may use, per table: the sampled table uses fewer than it has.
MAX_ROWS = {"sampled": 400}


def _binary(rng: np.random.Generator, n: int = 500) -> pd.DataFrame:
    """Two informative columns, a skewed one, a category, numbers written as text, a
    constant and a row number; informative gaps, repeated and conflicting rows, flipped
    labels, outliers and a near-copy of the target."""
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = np.where(a + b + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    frame = pd.DataFrame(
        {
            "row_id": np.arange(n),
            "a": a,
            "b": b,
            "skewed": rng.lognormal(sigma=1.5, size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
            "amount": [f"{v:,.2f}" for v in rng.lognormal(7, size=n)],
            "constant": 1.0,
            "y": y,
        }
    )
    frame.loc[rng.choice(n, 40, replace=False), "b"] *= 40.0
    frame["a"] = frame["a"].mask((frame["y"] == "yes") & (rng.random(n) < 0.3))
    flipped = rng.choice(n, 25, replace=False)
    frame.loc[flipped, "y"] = np.where(frame.loc[flipped, "y"] == "yes", "no", "yes")
    frame["leak"] = (frame["y"] == "yes") + rng.normal(scale=0.01, size=n)
    repeats = frame.iloc[rng.choice(n, 15, replace=False)]
    conflicts = frame.iloc[rng.choice(n, 10, replace=False)].copy()
    conflicts["y"] = np.where(conflicts["y"] == "yes", "no", "yes")
    return pd.concat([frame, repeats, conflicts], ignore_index=True)


def _multiclass(rng: np.random.Generator) -> pd.DataFrame:
    """Three unbalanced classes, a categorical leak, gaps in a category, a boolean."""
    labels = np.repeat(np.array(["ash", "oak", "elm"]), [250, 150, 60])
    n = len(labels)
    centre = {"ash": 0.0, "oak": 1.0, "elm": 2.0}
    x = np.array([centre[label] for label in labels]) + rng.normal(scale=0.8, size=n)
    frame = pd.DataFrame(
        {
            "x": x,
            "z": rng.normal(size=n).round(1),
            "count": rng.poisson(3, size=n),
            "soil": pd.Series(rng.choice(["clay", "sand", "loam"], size=n)).mask(
                rng.random(n) < 0.1
            ),
            "wet": rng.random(n) < 0.5,
            "code": np.char.add("k_", labels),
            "tree": labels,
        }
    )
    frame.loc[rng.choice(n, 12, replace=False), "code"] = "k_ash"
    return pd.concat([frame, frame.iloc[:20]], ignore_index=True).sample(
        frac=1.0, random_state=0, ignore_index=True
    )


def _regression(rng: np.random.Generator, n: int = 400) -> pd.DataFrame:
    """A linear target with corrupted values, a target copy, gaps and a category."""
    X = rng.normal(size=(n, 3))
    y = X @ [2.0, -1.0, 0.5] + rng.normal(scale=0.3, size=n)
    y[rng.choice(n, 12, replace=False)] += 15.0
    frame = pd.DataFrame(X, columns=["u", "v", "w"])
    frame["region"] = rng.choice(["north", "south"], size=n)
    frame["twice"] = 2 * y + rng.normal(scale=0.05, size=n)
    frame["w"] = frame["w"].mask(rng.random(n) < 0.05)
    frame["price"] = y
    return frame


def _sampled(rng: np.random.Generator, n: int = 1500) -> pd.DataFrame:
    """Integer labels, more rows than the model-based checks use."""
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] - X[:, 1] + rng.normal(scale=0.7, size=n) > 0.5).astype(int)
    frame = pd.DataFrame(X, columns=["p", "q", "r", "s"])
    frame["s"] = frame["s"].mask(y == 1, frame["s"].where(rng.random(n) < 0.5))
    frame["label"] = y
    return frame


def tables() -> dict[str, tuple[pd.DataFrame, str]]:
    """The generated tables and their targets, by name."""
    rng = np.random.default_rng(16)
    return {
        "binary": (_binary(rng), "y"),
        "multiclass": (_multiclass(rng), "tree"),
        "regression": (_regression(rng), "price"),
        "sampled": (_sampled(rng), "label"),
    }


def findings(name: str) -> list[dict[str, Any]]:
    """The diagnosis of the table ``name`` as plain records."""
    frame, target = tables()[name]
    data = frame_dataset(frame, target)
    found = diagnose(
        data.X, data.y, data.task, data.schema, seed=0, max_rows=MAX_ROWS.get(name, 5000)
    )
    return [
        {**dataclasses.asdict(f), "numbers": dict(f.numbers), "columns": list(f.columns)}
        for f in found
    ]


def record() -> None:
    """Write the findings of every table to ``data/diagnose_findings.json``."""
    pinned = {name: findings(name) for name in tables()}
    PINNED.write_text(json.dumps(pinned, indent=1, sort_keys=True) + "\n", encoding="utf-8")


@pytest.mark.parametrize("name", ["binary", "multiclass", "regression", "sampled"])
def test_a_tables_findings_are_the_pinned_ones(name: str) -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))[name]
    found = findings(name)
    assert [f["name"] for f in found] == [f["name"] for f in pinned]
    for now, before in zip(found, pinned, strict=True):
        numbers, pinned_numbers = now.pop("numbers"), before.pop("numbers")
        assert now == before
        assert numbers.keys() == pinned_numbers.keys(), now["name"]
        # Identical on one machine; the tolerance only absorbs another BLAS's last bits.
        for key, value in numbers.items():
            assert value == pytest.approx(pinned_numbers[key], rel=1e-9), (now["name"], key)
