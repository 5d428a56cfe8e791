"""Row accounting: what the data levers removed or added, counted per fold and said plainly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from tuneworth.evaluate import Split, fit_and_score, fold_results, results_frame
from tuneworth.metrics import METRICS
from tuneworth.rows import describe, describe_all, row_change, row_metrics
from tuneworth.steps import DuplicateFilter, Oversampler


def table() -> tuple[pd.DataFrame, pd.Series]:
    """40 rows: rows 0-9 ('yes') are repeated as rows 10-19; 'no' rows 20-39 are distinct."""
    x = np.concatenate([np.arange(10), np.arange(10), 100 + np.arange(20)]).astype(float)
    X = pd.DataFrame({"x": x, "z": x % 3})
    y = pd.Series(["yes"] * 20 + ["no"] * 20, dtype="str")
    return X, y


# Training rows: 'yes' rows 0-15 (rows 10-15 repeat rows 0-5) and 'no' rows 20-35.
SPLIT = Split(
    index=0,
    repeat=0,
    train=np.r_[0:16, 20:36],
    test=np.r_[16:20, 36:40],
)


def test_the_rows_a_filter_removes_are_recorded_per_fold_and_per_class() -> None:
    X, y = table()
    pipeline = Pipeline([("dup", DuplicateFilter()), ("model", LogisticRegression())])
    result = fit_and_score("dup", pipeline, X, y, SPLIT, METRICS["roc_auc"])
    assert (result.rows_removed, result.rows_added) == (6, 0)
    assert sorted(result.class_rows) == [("no", 16, 0, 0), ("yes", 16, 6, 0)]


def test_a_search_reports_the_rows_of_its_refitted_best_pipeline() -> None:
    X, y = table()
    pipeline = Pipeline([("dup", DuplicateFilter()), ("model", LogisticRegression())])
    search = GridSearchCV(pipeline, {"model__C": [0.1, 1.0]}, cv=2)
    result = fit_and_score("dup", search, X, y, SPLIT, METRICS["roc_auc"])
    assert (result.rows_removed, sorted(result.class_rows)) == (
        6,
        [("no", 16, 0, 0), ("yes", 16, 6, 0)],
    )


def test_stacked_samplers_add_up_removals_and_additions_per_class() -> None:
    X, y = table()
    steps = [
        ("dup", DuplicateFilter()),
        ("over", Oversampler("random", random_state=0)),
        ("model", LogisticRegression()),
    ]
    result = fit_and_score("both", Pipeline(steps), X, y, SPLIT, METRICS["roc_auc"])
    # 'yes' loses its 6 repeats, then is oversampled back to the 16 rows of 'no'
    assert sorted(result.class_rows) == [("no", 16, 0, 0), ("yes", 16, 6, 6)]
    assert (result.rows_removed, result.rows_added) == (6, 6)


def test_an_arm_without_samplers_records_no_rows() -> None:
    X, y = table()
    result = fit_and_score("plain", LogisticRegression(), X, y, SPLIT, METRICS["roc_auc"])
    assert (result.rows_removed, result.rows_added, result.class_rows) == (0, 0, ())


def test_row_counts_survive_results_csv_and_read_back() -> None:
    X, y = table()
    pipeline = Pipeline([("dup", DuplicateFilter()), ("model", LogisticRegression())])
    result = fit_and_score("dup", pipeline, X, y, SPLIT, METRICS["roc_auc"])
    frame = results_frame([result])
    assert frame.loc[0, ["rows_removed", "rows_added"]].tolist() == [6, 0]
    assert frame.loc[0, "class_rows"] == '[["no", 16, 0, 0], ["yes", 16, 6, 0]]'
    back = fold_results(frame)[0]
    assert (back.rows_removed, back.class_rows) == (6, result.class_rows)
    older = frame.drop(columns=["rows_removed", "rows_added", "class_rows"])
    assert fold_results(older)[0].class_rows == ()  # a store from before the counts


def folds(removed: list[int], added: list[int], classes: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": "a",
            "fold": range(len(removed)),
            "n_train": 200,
            "rows_removed": removed,
            "rows_added": added,
            "class_rows": classes,
            "error": "",
        }
    )


def test_a_filter_says_its_mean_share_range_and_classes() -> None:
    frame = folds(
        [20, 30, 40],
        [0, 0, 0],
        [
            '[["no", 150, 5, 0], ["yes", 50, 15, 0]]',
            '[["no", 150, 15, 0], ["yes", 50, 15, 0]]',
            '[["no", 150, 25, 0], ["yes", 50, 15, 0]]',
        ],
    )
    change = row_change("label-noise filter", frame)
    assert (change.removed, change.removed_low, change.removed_high) == (0.15, 0.10, 0.20)
    assert describe(change) == (
        "label-noise filter: removed 15.0% of the training rows (10.0–20.0% over folds); "
        "class 'yes': 30%, class 'no': 10%"
    )
    assert row_metrics(change)["rows_removed_share.class.yes"] == pytest.approx(0.30)
    assert describe_all([change]) == [describe(change)]  # under both limits: no warning


def test_a_lever_that_changed_nothing_says_no_rows_removed() -> None:
    frame = folds([0, 0], [0, 0], ['[["no", 150, 0, 0], ["yes", 50, 0, 0]]'] * 2)
    change = row_change("duplicate filter", frame)
    assert describe(change) == "duplicate filter: no rows removed or added"
    assert "+0.000" not in describe(change)


def test_an_oversampler_says_what_it_added_per_class() -> None:
    frame = folds([0, 0], [100, 100], ['[["no", 150, 0, 0], ["yes", 50, 0, 100]]'] * 2)
    assert describe(row_change("SMOTE", frame)) == (
        "SMOTE: added 50.0% to the training rows; class 'yes': +200%"
    )


def test_failed_folds_are_not_counted() -> None:
    frame = folds([20, 0], [0, 0], ["", ""])
    frame.loc[1, "error"] = "ValueError: boom"
    change = row_change("f", frame)
    assert (change.folds, change.removed) == (1, 0.10)
    assert describe(change) == "f: removed 10.0% of the training rows"


@pytest.mark.parametrize(
    ("removed", "yes_removed", "warnings"),
    [
        (40, 15, []),  # 20% of the rows, 30% of 'yes': at the limits, no warning
        (42, 15, ["removed 21.0% of the training rows, more than 20%"]),
        (40, 26, ["removed 52% of the training rows of class 'yes', more than 50%"]),
    ],
)
def test_a_filter_that_removes_too_much_is_warned_about(
    removed: int, yes_removed: int, warnings: list[str]
) -> None:
    cells = [f'[["no", 150, {removed - yes_removed}, 0], ["yes", 50, {yes_removed}, 0]]']
    change = row_change("outlier filter", folds([removed], [0], cells))
    said = change.warnings()
    assert len(said) == len(warnings)
    assert all(f"outlier filter {w}" in s for w, s in zip(warnings, said, strict=True))
    assert [line.startswith("warning: ") for line in describe_all([change])] == [
        False,
        *([True] * len(warnings)),
    ]
