from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tuneworth.data import detect_task, infer_schema, load_dataset
from tuneworth.errors import TuneworthError


def test_schema_sorts_mixed_dtypes_and_excludes_ids_and_constants(
    mixed_frame: pd.DataFrame,
) -> None:
    schema = infer_schema(mixed_frame.drop(columns="churned"))
    assert schema.numeric == ("age", "visits")
    assert schema.categorical == ("city", "member")
    assert set(schema.excluded) == {"customer_id", "constant"}
    assert "ID-like" in schema.excluded["customer_id"]


def test_pandas_str_columns_with_missing_values_are_categorical() -> None:
    frame = pd.DataFrame({"s": pd.Series(["a", None, "b", "a"] * 10, dtype="str")})
    assert frame["s"].dtype == "str"
    assert infer_schema(frame).categorical == ("s",)


def test_unique_strings_are_id_like_but_unique_floats_are_features() -> None:
    n = 30
    frame = pd.DataFrame({"code": [f"c{i}" for i in range(n)], "x": np.linspace(0, 1, n)})
    schema = infer_schema(frame)
    assert schema.numeric == ("x",)
    assert "code" in schema.excluded


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["yes", "no", "yes"], "binary"),
        ([True, False, True], "binary"),
        ([0, 1, 2, 2], "multiclass"),
        ([1.0, 2.0, 1.0, 3.0], "multiclass"),
        (np.linspace(0, 1, 50), "regression"),
        (np.arange(100), "regression"),
    ],
)
def test_detect_task(values: object, task: str) -> None:
    assert detect_task(pd.Series(values)) == task


def test_load_dataset_drops_missing_targets_with_a_note(
    tmp_path: Path, mixed_frame: pd.DataFrame
) -> None:
    mixed_frame.loc[:4, "churned"] = None
    path = tmp_path / "d.csv"
    mixed_frame.to_csv(path, index=False)
    dataset = load_dataset(str(path), "churned")
    assert len(dataset.y) == len(mixed_frame) - 5
    assert any("dropped 5 rows" in note for note in dataset.notes)
    assert any("customer_id" in note for note in dataset.notes)
    assert dataset.task == "binary"
    assert "customer_id" not in dataset.X.columns


def test_builtin_dataset_loads_with_class_names() -> None:
    dataset = load_dataset("sklearn:breast_cancer", "target")
    assert dataset.task == "binary"
    assert set(dataset.y.unique()) == {"malignant", "benign"}
    assert dataset.X.shape == (569, 30)


def test_fingerprint_changes_with_the_data(csv_path: Path) -> None:
    first = load_dataset(str(csv_path), "churned")
    again = load_dataset(str(csv_path), "churned")
    changed = load_dataset(str(csv_path), "churned", drop=("visits",))
    assert first.fingerprint == again.fingerprint != changed.fingerprint


@pytest.mark.parametrize(
    ("target", "message"),
    [("churn", "did you mean 'churned'"), ("constant", "single value")],
)
def test_bad_targets_are_named(csv_path: Path, target: str, message: str) -> None:
    with pytest.raises(TuneworthError, match=message):
        load_dataset(str(csv_path), target)


def test_regression_needs_a_numeric_target(csv_path: Path) -> None:
    with pytest.raises(TuneworthError, match="not numeric"):
        load_dataset(str(csv_path), "churned", task="regression")


def test_missing_and_empty_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(TuneworthError, match="not found"):
        load_dataset(str(tmp_path / "nope.csv"), "y")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(TuneworthError, match="empty"):
        load_dataset(str(empty), "y")
