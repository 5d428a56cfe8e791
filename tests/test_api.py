"""The Python API: compare() on tables in memory, the Comparison it returns, the levers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import run_fresh

import tuneworth
from tuneworth import CV, Baseline, Comparison, compare
from tuneworth.comparison import run_plan
from tuneworth.data import read_frame
from tuneworth.errors import TuneworthError
from tuneworth.experiment import plan_experiment
from tuneworth.levers import LEVERS, GridSearch, Lever, Preprocessing, Scaling
from tuneworth.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]
QUICK = CV(folds=3, repeats=1, inner_folds=2)


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series]:
    """The breast cancer table as the spec source ``sklearn:breast_cancer`` reads it."""
    frame = read_frame("sklearn:breast_cancer")
    return frame.drop(columns="target"), frame["target"]


@pytest.fixture(scope="module")
def quick(cancer: tuple[pd.DataFrame, pd.Series]) -> Comparison:
    X, y = cancer
    return compare(X, y, levers=[Scaling(method="standard"), "random_search"], cv=QUICK, budget=3)


def test_compare_on_a_dataframe_scores_the_folds_the_equivalent_spec_scores(
    cancer: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = cancer
    comparison = compare(
        X,
        y,
        levers=[{"smote": {"k_neighbors": 3}}, Scaling(method="quantile"), GridSearch],
        baseline=Baseline(model="linear", preprocess=Preprocessing(scale="standard")),
        cv=QUICK,
        budget=3,
        seed=7,
    )
    spec = parse_spec(
        {
            "name": "same",
            "dataset": {"source": "sklearn:breast_cancer", "target": "target"},
            "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
            "baseline": {"model": "linear", "preprocess": {"scale": "standard"}},
            "levers": [
                {"smote": {"k_neighbors": 3}},
                {"scaling": {"method": "quantile"}},
                "grid_search",
            ],
            "budget": {"trials": 3},
            "seed": 7,
        }
    )
    from_spec = run_plan(plan_experiment(spec)).results
    columns = ["arm", "fold", "score", "n_train", "rows_added"]
    pd.testing.assert_frame_equal(comparison.results[columns], from_spec[columns])
    assert list(comparison.summary["arm"]) == [
        "baseline",
        "SMOTE (k=3)",
        "quantile scaling",
        "grid search",
    ]


def test_a_comparison_without_a_tracker_neither_imports_mlflow_nor_writes_a_file(
    tmp_path: Path,
) -> None:
    script = textwrap.dedent(
        """
        import sys
        from sklearn.datasets import load_iris
        from tuneworth import compare
        X, y = load_iris(return_X_y=True)
        result = compare(X, y, levers=["scaling"], cv={"folds": 2, "repeats": 1})
        result._repr_html_()
        assert len(result.results) == 4, result.results
        assert "mlflow" not in sys.modules, "mlflow imported"
        """
    )
    done = run_fresh(script, tmp_path)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_comparison_shows_its_headline_table_and_verdict_in_a_notebook(
    quick: Comparison,
) -> None:
    page = quick._repr_html_()
    assert page.count("<tr") == 1 + 3  # the header and one row per arm
    assert f'<p class="headline">{quick.headline()}</p>' in page
    assert all(f"<li>{s}</li>" in page.replace("&#x27;", "'") for s in quick.verdict.sentences)
    assert "569 rows, 30 features, binary" in page
    assert repr(quick).startswith("<Comparison of 3 arms on 3 folds of 569 rows: ")


def test_a_comparison_draws_its_plots_and_writes_its_report(
    quick: Comparison, tmp_path: Path
) -> None:
    figures = quick.plot()
    assert sorted(figures) == [
        "cost_gain",
        "fold_deltas",
        "gains",
        "marginal_gains",  # the random search's budget curve and the data-size curves
        "tuning_curves",
    ]
    paths = quick.report(tmp_path / "report")
    names = sorted(path.name for path in paths)
    assert names[:2] == ["cost_gain.png", "fold_deltas.png"] and "report.html" in names
    assert "marginal_gains.png" in names
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert quick.headline() in markdown and "comparison" in markdown
    assert "## Marginal gains" in markdown and quick.marginal is not None
    assert quick.marginal.sentence in markdown


def test_the_fold_results_and_summary_are_frames_of_every_arm_and_fold(
    quick: Comparison,
) -> None:
    assert quick.results.groupby("arm")["fold"].apply(list).to_dict() == {
        "baseline": [0, 1, 2],
        "random search": [0, 1, 2],
        "standard scaling": [0, 1, 2],
    }
    assert quick.summary.set_index("arm").loc["baseline", "gain"] == 0
    assert set(quick.trials["arm"]) == {"random search"}
    assert quick.trials.groupby("fold").size().tolist() == [3, 3, 3]


def test_arrays_are_tables_with_named_columns(rng: np.random.Generator) -> None:
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    comparison = compare(X, y, cv={"folds": 2, "repeats": 1})
    assert comparison.plan.dataset.schema.numeric == ("x0", "x1", "x2")
    assert comparison.plan.dataset.task == "binary"
    assert len(comparison.results) == 2


def test_a_target_named_as_a_feature_keeps_both(rng: np.random.Generator) -> None:
    X = pd.DataFrame({"y": rng.normal(size=40), "b": rng.normal(size=40)})
    y = pd.Series((X["y"] > 0).astype(int), name="y")
    comparison = compare(X, y, cv={"folds": 2, "repeats": 1})
    assert comparison.plan.dataset.schema.features == ("y", "b")
    assert comparison.plan.dataset.y.name == "y_1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"levers": ["grid_serch"]},
            "levers.0: unknown lever 'grid_serch' (did you mean 'grid_search'?)",
        ),
        ({"cv": 1}, "compare: cv.folds: Input should be greater than or equal to 2"),
        ({"baseline": "forest"}, "compare: baseline.model: unknown model 'forest'"),
    ],
)
def test_bad_arguments_are_one_line_errors_naming_the_argument(
    kwargs: dict[str, object], message: str
) -> None:
    X = pd.DataFrame({"a": range(20), "b": range(20)})
    with pytest.raises(TuneworthError) as caught:
        compare(X, [0, 1] * 10, **kwargs)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_a_target_of_another_length_is_refused() -> None:
    with pytest.raises(TuneworthError, match="y has 3 values for the 4 rows of X"):
        compare(pd.DataFrame({"a": range(4)}), [0, 1, 0])


def test_the_lever_classes_are_public_under_the_names_a_user_guesses() -> None:
    import tuneworth.levers as levers

    for name in levers.__all__:
        assert hasattr(levers, name)
    assert dir(levers) == sorted(levers.__all__)
    public = [getattr(levers, name) for name in levers.__all__]
    assert all(cls in public for cls in LEVERS.values())
    assert levers.LabelNoiseFilter().name == "label_noise_filter"
    assert levers.Optuna is LEVERS["optuna"] and levers.SMOTE is LEVERS["smote"]
    assert all(issubclass(cls, Lever) for cls in LEVERS.values())


def test_the_package_lists_compare_and_comparison() -> None:
    assert {"compare", "Comparison", "Baseline", "CV", "Budget"} <= set(dir(tuneworth))
    assert {"compare", "Comparison"} <= set(tuneworth.__all__)


@pytest.mark.slow
def test_a_time_budget_cuts_the_arms_still_running_when_it_runs_out() -> None:
    from sklearn.datasets import load_iris

    from tuneworth import Budget
    from tuneworth.levers import Optuna

    X, y = load_iris(return_X_y=True, as_frame=True)
    comparison = compare(
        X,
        y,
        levers=["scaling", Optuna(trials=100_000)],
        cv={"folds": 2, "repeats": 1, "inner_folds": 2},
        budget=Budget(time="10s"),
    )
    assert list(comparison.summary["arm"]) == ["baseline", "standard scaling"]
    assert comparison.verdict.cut == ("optuna TPE, 100000 trials",)
    assert comparison.headline().endswith("(an arm cut by the 10 s time budget).")
