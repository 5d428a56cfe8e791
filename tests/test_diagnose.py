"""The diagnosis finds each defect generated into a table, with its numbers."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import run_fresh

from tuneworth.data import Task, detect_task, infer_schema
from tuneworth.diagnose import Finding, _score, diagnose


def _clean(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Two informative numeric columns, one categorical; labels from a linear rule."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
        }
    )
    y = pd.Series(np.where(X["a"] + X["b"] > 0, "yes", "no"), name="y")
    return X, y


def _run(X: pd.DataFrame, y: pd.Series, task: Task | None = None) -> dict[str, Finding]:
    schema = infer_schema(X)
    features = X[list(schema.features)]
    findings = diagnose(features, y, task or detect_task(y), schema, seed=0)
    return {finding.name: finding for finding in findings}


def test_clean_table_raises_no_lever() -> None:
    found = _run(*_clean())
    assert found["missing values"].severity == "ok"
    assert found["duplicates"].numbers["exact"] == 0
    assert found["label noise"].numbers["share"] < 0.01
    assert found["leaking columns"].numbers["leaks"] == 0
    assert found["constant / ID columns"].severity == "ok"
    assert found["numbers as text"].severity == "ok"
    assert not [f.name for f in found.values() if f.lever]


def test_missing_cells_rows_and_informative_missingness() -> None:
    X, y = _clean()
    X["b"] = X["b"].mask(y == "yes")  # b is missing exactly on the positives
    found = _run(X, y)["missing values"]
    share = float((y == "yes").mean())
    assert found.numbers["rows"] == pytest.approx(share)
    assert found.numbers["cells"] == pytest.approx(share / 3)
    assert found.numbers["score"] > 0.95
    assert (found.severity, found.lever, found.columns) == ("warning", "imputation", ("b",))


def test_missing_at_random_says_little_about_the_target() -> None:
    X, y = _clean()
    X.loc[X.sample(frac=0.2, random_state=1).index, "a"] = np.nan
    found = _run(X, y)["missing values"]
    assert found.numbers["rows"] == pytest.approx(0.2)
    assert abs(found.numbers["score"] - 0.5) < 0.08
    assert found.severity == "info"


def test_exact_duplicates_and_conflicting_labels_are_counted() -> None:
    X, y = _clean()
    X = pd.concat([X, X.iloc[:30], X.iloc[30:40]], ignore_index=True)
    flipped = y.iloc[30:40].map({"yes": "no", "no": "yes"})
    y = pd.concat([y, y.iloc[:30], flipped], ignore_index=True)
    found = _run(X, y)["duplicates"]
    assert found.numbers["exact"] == 30
    assert found.numbers["conflicting"] == 20  # both rows of each of the 10 pairs
    assert found.lever == "duplicate_filter"


def test_flipped_labels_are_estimated_by_confident_learning() -> None:
    X, y = _clean(n=1000)
    rng = np.random.default_rng(3)
    flip = rng.choice(len(y), size=100, replace=False)
    y.iloc[flip] = y.iloc[flip].map({"yes": "no", "no": "yes"})
    found = _run(X, y)["label noise"]
    assert 0.06 <= found.numbers["share"] <= 0.13
    assert found.lever == "label_noise_filter"


def test_corrupted_regression_targets_are_estimated() -> None:
    X, _ = _clean(n=800)
    y = pd.Series(3 * X["a"] - X["b"] + np.random.default_rng(0).normal(0, 0.1, 800))
    y.iloc[:40] += 20
    found = _run(X, y, "regression")["target noise"]
    assert found.numbers["rows"] >= 40
    assert found.numbers["share"] <= 0.08
    assert found.lever == "target_noise_filter"


def test_class_imbalance_ratio() -> None:
    X, y = _clean()
    y = pd.Series(np.where(np.arange(len(y)) < 60, "rare", "common"))
    found = _run(X, y)["class balance"]
    assert found.numbers["ratio"] == pytest.approx(60 / 540)
    assert found.lever == "random_oversampling"


def test_outlying_rows_use_the_outlier_filters_fences() -> None:
    X, y = _clean()
    X.loc[:11, "a"] = 50.0
    found = _run(X, y)["outliers"]
    assert found.numbers["rows"] == 12
    assert found.columns == ("a",)
    assert found.lever == "outlier_filter"


def test_scale_spread_and_skew() -> None:
    X, y = _clean()
    X["income"] = np.random.default_rng(0).lognormal(10, 1.5, len(X))
    found = _run(X, y)["feature scales"]
    assert found.numbers["spread"] > 1000
    assert found.numbers["skewed"] == 1
    assert found.columns == ("income",)
    assert found.lever == "scaling"


def test_constant_and_id_columns_are_reported() -> None:
    X, y = _clean()
    X["customer_id"] = np.arange(len(X))
    X["source"] = "web"
    found = _run(X, y)["constant / ID columns"]
    assert set(found.columns) == {"customer_id", "source"}
    assert "ID-like customer_id" in found.summary


def test_an_id_column_kept_because_of_one_repeated_row_is_flagged() -> None:
    X, y = _clean()
    X["order_no"] = np.arange(len(X))
    X = pd.concat([X, X.iloc[:1]], ignore_index=True)
    y = pd.concat([y, y.iloc[:1]], ignore_index=True)
    found = _run(X, y)["constant / ID columns"]
    assert found.numbers == {"excluded": 0.0, "kept": 1.0}
    assert (found.columns, found.severity) == (("order_no",), "warning")


def test_a_column_copying_the_target_is_a_leak() -> None:
    X, y = _clean()
    X["outcome_code"] = y.map({"yes": 7.0, "no": 3.0}) + np.random.default_rng(0).normal(
        0, 0.01, len(y)
    )
    X["status"] = y.map({"yes": "closed", "no": "open"})
    found = _run(X, y)["leaking columns"]
    assert found.severity == "severe"
    assert set(found.columns) == {"outcome_code", "status"}
    assert found.numbers["best"] == pytest.approx(1.0)


def test_a_regression_target_copy_is_a_leak() -> None:
    X, _ = _clean()
    y = pd.Series(X["a"] * 2 + X["b"])
    X["y_again"] = y * 1000 + 5
    found = _run(X, y, "regression")["leaking columns"]
    assert found.columns == ("y_again",)
    assert found.numbers["best"] > 0.95


def test_high_cardinality_text_and_date_columns() -> None:
    X, y = _clean()
    rng = np.random.default_rng(0)
    X["zip"] = [f"Z{v}" for v in rng.integers(0, 200, len(X))]
    X["note"] = [f"the parcel {v} came late again" for v in rng.integers(0, 300, len(X))]
    X["day"] = pd.date_range("2026-01-01", periods=len(X), freq="D").strftime("%Y-%m-%d")
    found = _run(X, y)["column roles"]
    assert found.numbers == {"high-cardinality": 1.0, "text": 1.0, "date": 1.0}
    assert found.columns == ("zip", "note", "day")
    assert found.lever == "encoding"


def test_numbers_stored_as_text() -> None:
    X, y = _clean()
    amounts = [f"{v:,}" for v in np.random.default_rng(0).integers(500, 90_000, len(X))]
    amounts[:20] = ["?"] * 20
    X["amount"] = amounts
    found = _run(X, y)["numbers as text"]
    assert (found.columns, found.severity) == (("amount",), "warning")


def test_thirty_thousand_rows_take_seconds() -> None:
    rng = np.random.default_rng(0)
    n = 30_000
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(20)})
    for i in range(10):
        X[f"c{i}"] = rng.choice(list("abcdefgh"), size=n)
    X.loc[rng.random(n) < 0.1, "x0"] = np.nan
    y = pd.Series(np.where(X["x1"] + rng.normal(size=n) > 0, 1, 0))
    start = time.perf_counter()
    found = _run(X, y)
    assert time.perf_counter() - start < 20
    assert "sample of 5,000 of 30,000 rows" in found["label noise"].summary


def test_diagnosing_a_table_imports_no_imbalanced_learn(tmp_path: Path) -> None:
    # imbalanced-learn costs a run a fifth of a second to import (it imports scikit-learn's
    # test utilities and pytest); the diagnosis judges rows without the samplers.
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        import pandas as pd
        from tuneworth.data import detect_task, infer_schema
        from tuneworth.diagnose import diagnose

        rng = np.random.default_rng(0)
        frame = pd.DataFrame(
            {
                "a": rng.normal(size=200),
                "b": rng.normal(size=200),
                "c": rng.choice(["u", "v"], size=200),
                "label": rng.choice(["no", "yes"], size=200),
                "value": rng.normal(size=200),
            }
        )
        frame.loc[:9, "a"] = np.nan
        frame = pd.concat([frame, frame.iloc[:5]], ignore_index=True)  # five repeated rows
        X = frame[["a", "b", "c"]]
        for y in (frame["label"], frame["value"]):
            found = {f.name: f for f in diagnose(X, y, detect_task(y), infer_schema(X))}
            noise = found.get("label noise") or found["target noise"]
            assert "share" in noise.numbers, noise
            assert found["duplicates"].numbers["exact"] == 5, found["duplicates"]
        print(sorted({m.split(".")[0] for m in sys.modules} & {"imblearn", "sklearn_compat"}))
        """
    )
    done = run_fresh(script, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("seed", range(4))
def test_scores_of_out_of_fold_lookups_are_scikit_learns_to_the_bit(seed: int) -> None:
    from sklearn.metrics import r2_score, roc_auc_score

    rng = np.random.default_rng(seed)
    n = 300
    # Lookup tables predict one of a few values per bin: many ties, as in the leak check.
    pool = rng.dirichlet(np.ones(3), size=8)
    predicted = pool[rng.integers(0, 8, size=n)]
    labels = np.array(["ash", "elm", "oak"])
    y = labels[rng.integers(0, 3, size=n)]
    expected = roc_auc_score(y, predicted, multi_class="ovr", labels=labels)
    assert _score("multiclass", y, predicted, labels) == expected
    binary = np.array(["no", "yes"])
    y2 = binary[(predicted[:, 0] + rng.normal(scale=0.3, size=n) > 0.4).astype(int)]
    two = np.column_stack([1 - predicted[:, 0], predicted[:, 0]])
    assert _score("binary", y2, two, binary) == roc_auc_score(y2 == "yes", two[:, 1])
    values = rng.normal(size=n)
    guess = np.round(values + rng.normal(size=n), 1)
    assert _score("regression", values, guess, np.array([])) == r2_score(values, guess)
