"""Refactorings of the core leave every fold score as it was.

``data/fold_scores.csv`` holds the fold scores of four scenarios, shrunk to two outer folds,
one repeat and three trials, as the code computed them before preprocessing became an
estimator (``Preprocessor``) and the samplers moved to imbalanced-learn's template. It
covers data levers (filters, SMOTE, random oversampling, mixup, noise injection), every
scaling and feature selection, a label-noise defect, a model lever, the four search
strategies, and text read as text. ``benchmarks/fold_scores.py`` records and compares the
full scenarios the same way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PINNED = Path(__file__).with_name("data") / "fold_scores.csv"


def recorder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fold_scores", ROOT / "benchmarks/fold_scores.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("scenario", ["data_levers", "default", "nested", "text"])
def test_a_scenarios_fold_scores_are_the_pinned_ones(scenario: str) -> None:
    pinned = pd.read_csv(PINNED)
    pinned = pinned[pinned["spec"] == scenario].set_index(["arm", "fold"]).sort_index()
    path = ROOT / "pipelines" / f"{scenario}.yaml"
    scores = recorder().fold_scores(path, folds=2, repeats=1, trials=3)
    scores = scores.set_index(["arm", "fold"]).sort_index()
    assert list(scores.index) == list(pinned.index)
    # Identical on one machine; the tolerance only absorbs another BLAS's last bits.
    assert scores["score"].tolist() == pytest.approx(pinned["score"].tolist(), rel=1e-9)
    counts = ["n_train", "rows_removed", "rows_added"]
    pd.testing.assert_frame_equal(scores[counts], pinned[counts], check_dtype=False)
