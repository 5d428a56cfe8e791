"""A data file in, a plan out: levers that follow from the diagnosis, a spec that round-trips
through its commented YAML, and the commands that show and run it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tuneworth.autoplan import AutoPlan, plan_from_diagnosis, spec_name, spec_yaml
from tuneworth.cli import main
from tuneworth.data import load_dataset
from tuneworth.diagnose import diagnose
from tuneworth.spec import load_spec, parse_spec


def _messy(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Informative gaps, repeated rows, a rare class and a leaking column."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "plan": rng.choice(["basic", "plus", "pro"], size=n),
        }
    )
    frame["churned"] = np.where(frame["a"] + frame["b"] > 1.2, "yes", "no")
    frame["b"] = frame["b"].mask((frame["churned"] == "yes") & (rng.random(n) < 0.6))
    frame["closing_code"] = frame["churned"].map({"yes": "C7", "no": "open"})
    frame["ticket_id"] = np.arange(n)
    return pd.concat([frame, frame.iloc[:40]], ignore_index=True)


def _clean(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = np.where(frame["a"] - frame["b"] > 0, 1, 0)
    return frame


def _plan(path: Path, target: str) -> AutoPlan:
    dataset = load_dataset(str(path), target)
    findings = diagnose(dataset.X, dataset.y, dataset.task, dataset.schema)
    return plan_from_diagnosis(dataset, target, findings)


def _levers(plan: AutoPlan) -> list[str]:
    return [
        lever if isinstance(lever, str) else next(iter(lever)) for lever in plan.document["levers"]
    ]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("data/churn.csv", "churn"),
        ("exports/2026 sales: Q1 (final).csv", "2026_sales_Q1_final"),
        ("..csv", "data"),
        (f"{'x' * 150}.parquet", "x" * 100),
        ("sklearn:breast_cancer", "breast_cancer"),
    ],
)
def test_spec_name_from_the_file_is_a_valid_spec_name(path: str, name: str) -> None:
    assert spec_name(path) == name
    parse_spec({"name": spec_name(path), "dataset": {"source": path}})


def test_every_data_lever_comes_from_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "churn.csv"
    _messy().to_csv(path, index=False)
    plan = _plan(path, "churned")
    assert plan.document["name"] == "churn"
    assert plan.document["dataset"]["drop"] == ["closing_code", "ticket_id"]
    assert _levers(plan)[:3] == ["imputation", "duplicate_filter", "random_oversampling"]
    reasons = {planned.reason.split(":")[0] for planned in plan.levers[:3]}
    assert reasons == {"missing values", "duplicates", "class balance"}
    assert plan.document["levers"][0] == {
        "imputation": {"strategy": "median", "add_indicator": True}
    }
    assert any("closing_code" in note for note in plan.notes)
    assert any("ID-like" in note and "ticket_id" in note for note in plan.notes)


def test_models_and_searches_on_equal_budgets_whatever_the_data(tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    _clean().to_csv(path, index=False)
    plan = _plan(path, "y")
    assert _levers(plan) == ["model", "model", "grid_search", "random_search", "optuna"]
    assert [lever["model"]["name"] for lever in plan.document["levers"][:2]] == [
        "random_forest",
        "hist_gradient_boosting",
    ]
    assert plan.document["budget"] == {"trials": 10}
    assert plan.document["cv"] == {"folds": 5, "repeats": 2, "inner_folds": 3}
    left_out = " ".join(plan.left_out)
    for lever in ("imputation", "duplicate_filter", "label_noise_filter", "outlier_filter"):
        assert lever in left_out
    assert plan.spec().baseline.model == "linear"


def test_commented_yaml_round_trips_to_the_same_spec(tmp_path: Path) -> None:
    path = tmp_path / "churn: export.csv"
    _messy().to_csv(path, index=False)
    plan = _plan(path, "churned")
    text = spec_yaml(plan, "tuneworth init churn.csv --target churned")
    assert text.count("\n#") > 5
    assert max(len(line) for line in text.splitlines() if line.startswith("#")) <= 100
    written = tmp_path / "spec.yaml"
    written.write_text(text)
    assert load_spec(written).to_document() == plan.spec().to_document()


def test_init_writes_a_spec_that_run_accepts_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _messy().to_csv("churn.csv", index=False)
    assert main(["init", "churn.csv", "--target", "churned"]) == 0
    written = tmp_path / "pipelines" / "churn.yaml"
    spec = load_spec(written)
    assert spec.name == "churn"
    assert spec.to_document() == _plan(Path("churn.csv"), "churned").spec().to_document()
    assert "wrote pipelines/churn.yaml" in capsys.readouterr().out
    assert main(["init", "churn.csv", "--target", "churned"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["init", "churn.csv", "--target", "churned", "-o", "mine.yaml"]) == 0
    assert yaml.safe_load(Path("mine.yaml").read_text()) == yaml.safe_load(written.read_text())


def test_check_prints_roles_then_the_diagnosis_within_100_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "churn.csv"
    frame = _messy().drop(columns="ticket_id")
    frame["customer_id"] = np.arange(len(frame))
    frame.to_csv(path, index=False)
    assert main(["check", str(path), "--target", "churned"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("check"))) :]
    assert max(len(line) for line in table[: table.index("")]) <= 100
    assert "numeric (2): a, b" in out
    assert "categorical (2): plan, closing_code" in out
    assert "excluded (1): customer_id" in out
    assert out.index("numeric (2)") < out.index("missing values")
    row = next(line for line in lines if line.startswith("leaking columns"))
    assert row.split()[2] == "severe"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "data.csv"], "name the column to predict with --target"),
        (["check", "data.parquet"], "name the column to predict with --target"),
        (["run", "spec.yaml", "--target", "y"], "--target is for a data file"),
    ],
)
def test_data_file_and_target_go_together(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_run_a_data_file_without_a_spec(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str], one_thread: None
) -> None:
    path = tmp_path / "small churn.csv"
    frame = _clean(n=120)
    frame.loc[:5, "a"] = np.nan
    frame.to_csv(path, index=False)
    args = ["run", str(path), "--target", "y", "--tracking-uri", tracking_uri, "-j", "1"]
    assert main([*args, "--report-dir", str(tmp_path / "reports")]) == 0
    captured = capsys.readouterr()
    assert captured.err.index("plan 'small_churn'") < captured.err.index("finished in")
    assert "check" in captured.err and "severity" in captured.err
    assert "small_churn: 120 rows" in captured.out
    for arm in ("random forest", "grid search", "random search", "optuna TPE"):
        assert arm in captured.out


def test_a_date_column_needs_no_lever_and_the_plan_says_why(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    frame = _clean()
    frame["day"] = pd.date_range("2026-01-01", periods=len(frame)).strftime("%Y-%m-%d")
    frame.to_csv(path, index=False)
    plan = _plan(path, "y")
    assert "date_features" not in _levers(plan)
    assert any(note.startswith("date_features:") and "day" in note for note in plan.left_out)
