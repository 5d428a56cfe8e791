"""Rare classes: every fold error's advice leads to a run, and min_class_rows drops them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tuneworth.errors import TuneworthError
from tuneworth.experiment import plan_experiment
from tuneworth.planning import check_folds
from tuneworth.spec import parse_spec


def labels(counts: dict[str, int]) -> pd.Series:
    return pd.Series([label for label, n in counts.items() for _ in range(n)], dtype="str")


def write_classes(path: Path, counts: dict[str, int]) -> str:
    y = labels(counts)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=len(y)), "x2": rng.normal(size=len(y))})
    frame["label"] = y
    frame.to_csv(path, index=False)
    return str(path)


def spec(source: str, folds: int, inner: int, tuned: bool, **dataset: Any) -> dict[str, Any]:
    return {
        "name": "rare",
        "dataset": {"source": source, "target": "label", **dataset},
        "cv": {"folds": folds, "repeats": 1, "inner_folds": inner},
        "levers": [{"random_search": {"trials": 2}}] if tuned else ["scaling"],
    }


def follow(document: dict[str, Any], advice: str) -> dict[str, Any]:
    """The spec with one piece of an error's advice applied."""
    cv, dataset = dict(document["cv"]), dict(document["dataset"])
    if found := re.search(r"cv\.folds to (\d+)", advice):
        cv["folds"] = int(found[1])
    if found := re.search(r"cv\.inner_folds to (\d+)", advice):
        cv["inner_folds"] = int(found[1])
    if found := re.search(r"dataset\.min_class_rows: (\d+)", advice):
        dataset["min_class_rows"] = int(found[1])
    return {**document, "cv": cv, "dataset": dataset}


TWO_TINY = {"a": 30, "b": 25, "c": 2, "d": 2}


def test_two_classes_of_two_rows_point_at_min_class_rows(tmp_path: Path) -> None:
    source = write_classes(tmp_path / "d.csv", TWO_TINY)
    with pytest.raises(TuneworthError) as caught:
        plan_experiment(parse_spec(spec(source, folds=5, inner=3, tuned=True)))
    assert str(caught.value) == (
        "class 'c' has 2 rows, fewer than the 5 folds: set dataset.min_class_rows: 5 to drop "
        "the classes with fewer: 'c' (2 rows), 'd' (2 rows)"
    )


@pytest.mark.parametrize(
    ("counts", "folds", "inner", "tuned"),
    [
        (TWO_TINY, 5, 3, True),
        (TWO_TINY, 5, 3, False),
        ({"a": 40, "b": 1, "c": 30}, 5, 3, True),
        ({"a": 40, "b": 4, "c": 30}, 5, 3, True),
        ({"a": 40, "b": 6, "c": 30}, 5, 5, True),
        ({"a": 40, "b": 9}, 10, 5, True),
    ],
)
def test_every_piece_of_fold_advice_leads_to_a_run(
    tmp_path: Path, counts: dict[str, int], folds: int, inner: int, tuned: bool
) -> None:
    source = write_classes(tmp_path / "d.csv", counts)
    document = spec(source, folds, inner, tuned)
    with pytest.raises(TuneworthError) as caught:
        plan_experiment(parse_spec(document))
    message = str(caught.value)
    advice = message.split(": ", 1)[1].split(", or ")
    assert advice and all("cv." in a or "min_class_rows" in a for a in advice), message
    for piece in advice:
        plan = plan_experiment(parse_spec(follow(document, piece)))
        assert len(plan.splits) == plan.spec.cv.folds


@pytest.mark.parametrize(
    ("counts", "folds", "inner", "expected"),
    [
        # 4 rows fill 4 outer folds, and each training fold's 3 rows fill 3 inner folds
        ({"a": 40, "b": 4, "c": 30}, 5, 3, "lower cv.folds to 4"),
        # 6 rows fill 5 folds, but a training fold's 4 rows fill 4 inner folds, not 5
        ({"a": 40, "b": 6, "c": 30}, 5, 5, "lower cv.inner_folds to 4"),
        ({"a": 40, "b": 3, "c": 30}, 5, 3, "lower cv.folds to 3 and cv.inner_folds to 2"),
    ],
)
def test_fold_advice_computes_counts_that_work(
    counts: dict[str, int], folds: int, inner: int, expected: str
) -> None:
    with pytest.raises(TuneworthError) as caught:
        check_folds(labels(counts), "multiclass", folds, inner)
    assert str(caught.value).split(": ", 1)[1].split(", or ")[0] == expected


def test_regression_fold_advice_counts_rows() -> None:
    with pytest.raises(TuneworthError) as caught:
        check_folds(pd.Series(np.arange(10.0)), "regression", 5, 5)
    assert str(caught.value) == (
        "an outer training fold holds about 8 rows, too few for 5 inner folds: "
        "lower cv.inner_folds to 4"
    )
    with pytest.raises(TuneworthError, match=r"add rows$"):
        check_folds(pd.Series(np.arange(3.0)), "regression", 2)


def test_min_class_rows_drops_the_rare_classes_with_a_note(tmp_path: Path) -> None:
    source = write_classes(tmp_path / "d.csv", TWO_TINY)
    plan = plan_experiment(parse_spec(spec(source, 5, 3, True, min_class_rows=5)))
    assert plan.dataset.y.value_counts().to_dict() == {"a": 30, "b": 25}
    assert plan.dataset.task == "binary"  # two classes left, the task inferred again
    assert len(plan.dataset.X) == 55
    assert plan.dataset.notes == (
        "dropped 2 classes with fewer than dataset.min_class_rows = 5 rows, 4 rows in all: "
        "'c' (2), 'd' (2)",
    )


def test_min_class_rows_that_leaves_one_class_is_refused(tmp_path: Path) -> None:
    source = write_classes(tmp_path / "d.csv", TWO_TINY)
    with pytest.raises(TuneworthError) as caught:
        plan_experiment(parse_spec(spec(source, 5, 3, False, min_class_rows=26)))
    assert str(caught.value) == (
        "dataset.min_class_rows: 26 would leave fewer than 2 classes (the largest has 30 "
        "rows): lower it"
    )


def test_min_class_rows_is_refused_for_regression() -> None:
    document = spec("sklearn:diabetes", 3, 2, False, min_class_rows=5)
    document["dataset"]["target"] = "target"
    with pytest.raises(TuneworthError, match="the task is regression: remove it"):
        plan_experiment(parse_spec(document))
