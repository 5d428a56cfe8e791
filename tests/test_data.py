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


# --- column roles ----------------------------------------------------------------------


def mixed_table(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = np.array(
        ["parcel", "came", "late", "box", "torn", "great", "price", "refund", "slow", "fast"]
    )
    return pd.DataFrame(
        {
            "amount": rng.normal(size=n),
            "plan": pd.Series(rng.choice(["basic", "pro"], n), dtype="str"),
            "zip": pd.Series([f"Z{v:04d}" for v in rng.integers(0, 500, n)], dtype="str"),
            "review": pd.Series([" ".join(rng.choice(words, 5)) for _ in range(n)], dtype="str"),
            "signup": pd.Series(
                pd.date_range("2025-01-01", periods=n, freq="D").strftime("%d/%m/%Y"),
                dtype="str",
            ),
        }
    )


def test_roles_are_inferred_from_the_columns_form_and_said_once() -> None:
    schema = infer_schema(mixed_table())
    assert schema.roles() == {
        "amount": "numeric",
        "plan": "categorical",
        "zip": "high_cardinality",
        "review": "text",
        "signup": "date",
    }
    notes = schema.describe()
    assert notes[-1] == (
        "column roles: 1 numeric, 1 categorical, 1 high-cardinality categorical, 1 text, 1 date"
    )
    assert "column 'signup' is date: strings that parse as dates (%d/%m/%Y)" in notes
    assert any(n.startswith("column 'review' is text: 200 distinct values, 5.0") for n in notes)


def test_free_text_with_a_distinct_value_per_row_is_text_not_an_id() -> None:
    table = mixed_table()
    assert "review" not in infer_schema(table).excluded
    assert infer_schema(table[["review"]].rename(columns={"review": "code"})).text == ("code",)


def test_roles_in_the_spec_override_the_inferred_ones_and_are_checked() -> None:
    schema = infer_schema(mixed_table(), {"zip": "categorical", "review": "high_cardinality"})
    assert schema.categorical == ("plan", "zip") and schema.high_cardinality == ("review",)
    assert schema.reasons["zip"] == "set by dataset.roles"
    with pytest.raises(TuneworthError, match="'review' holds str values, not numbers"):
        infer_schema(mixed_table(), {"review": "numeric"})


def test_roles_are_encoded_into_a_bounded_number_of_columns() -> None:
    from tuneworth.steps import Preprocessor
    from tuneworth.steps.preprocess import STRING_COMPONENTS

    table = mixed_table()
    out = Preprocessor(infer_schema(table), random_state=0).fit_transform(table)
    # amount, 2 one-hot plans, 30 + 30 string components, 5 date features
    assert out.shape == (len(table), 1 + 2 + 2 * STRING_COMPONENTS + 5)
    assert np.isfinite(out).all()


def test_generated_tables_are_the_same_every_time_and_unknown_names_suggest_one() -> None:
    first = load_dataset("generated:weekday_visits", "busy")
    assert first.fingerprint == load_dataset("generated:weekday_visits", "busy").fingerprint
    assert first.schema.dates == ("date",)
    with pytest.raises(TuneworthError, match="did you mean 'product_reviews'"):
        load_dataset("generated:product_review", "satisfied")


def test_check_prints_every_role_decision_once(capsys: pytest.CaptureFixture[str]) -> None:
    from tuneworth.cli import main

    spec = Path(__file__).resolve().parents[1] / "pipelines" / "text.yaml"
    assert main(["check", str(spec)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == [
        "note: column 'review' is categorical: set by dataset.roles",
        "note: column roles: 1 numeric, 1 categorical",
        "numeric: stars_shown",
        "categorical: review",
    ]


def test_a_table_of_numbers_and_categories_needs_no_role_note() -> None:
    schema = infer_schema(mixed_table()[["amount", "plan"]])
    assert schema.describe() == []
