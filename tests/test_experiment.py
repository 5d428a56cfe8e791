from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from support import TINY

import tuneworth.evaluate as evaluate_module
from tuneworth.cli import main
from tuneworth.comparison import run_plan
from tuneworth.experiment import plan_experiment
from tuneworth.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]


def test_every_arm_is_fitted_on_the_same_outer_splits(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, int, tuple[int, ...], tuple[int, ...]]] = []
    subsampled: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []
    original = evaluate_module.fit_and_score

    def recording(arm: str, pipeline: Any, X: Any, y: Any, split: Any, *rest: Any) -> Any:
        if split.subsample is None:  # not a data-size curve's fit on a share of the rows
            seen.append((arm, split.index, tuple(split.train), tuple(split.test)))
        else:
            subsampled.append((split.index, tuple(split.train), tuple(split.test)))
        return original(arm, pipeline, X, y, split, *rest)

    monkeypatch.setattr(evaluate_module, "fit_and_score", recording)
    plan = plan_experiment(parse_spec(TINY))
    run_plan(plan, n_jobs=1)
    assert len(seen) == len(plan.arms) * 3
    by_fold: dict[int, set[tuple[tuple[int, ...], tuple[int, ...]]]] = {}
    for _, fold, train, test in seen:
        by_fold.setdefault(fold, set()).add((train, test))
    assert all(len(pairs) == 1 for pairs in by_fold.values())
    # The data-size curves subsample the same training folds and score the same test folds.
    assert subsampled and all((t, u) in by_fold[fold] for fold, t, u in subsampled)
    tests = [next(iter(pairs))[1] for pairs in by_fold.values()]
    assert sorted(i for t in tests for i in t) == list(range(len(plan.dataset.y)))


def test_default_spec_plans_without_network() -> None:
    plan = plan_experiment(load_spec(ROOT / "pipelines" / "default.yaml"))
    assert plan.dataset.task == "binary"
    assert {arm.family for arm in plan.arms} == {
        "baseline",
        "data",
        "preprocess",
        "model",
        "tuning",
    }


def test_cli_rejects_a_bad_spec_in_one_line_and_writes_nothing(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: never_written\ndataset: {source: sklearn:iris, target: species}\n")
    code = main(["run", str(path), "--tracking-uri", tracking_uri])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "target column 'species' not in 'sklearn:iris'" in err
    assert MlflowClient(tracking_uri).get_experiment_by_name("never_written") is None


def test_cli_run_prints_the_table(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({**TINY, "name": "tiny_cli", "levers": ["scaling"]}))
    reports = tmp_path / "reports"
    args = ["run", str(path), "--tracking-uri", tracking_uri, "--jobs", "1"]
    assert main([*args, "--report-dir", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "standard scaling" in out
    assert "95% CI" in out
    assert "No tuning lever ran" in out


def test_a_run_collects_the_whole_heap_less_often_and_restores_the_callers_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import argparse
    import gc

    import tuneworth.cli as cli

    seen: dict[str, tuple[int, int, int]] = {}

    def recording(name: str) -> Any:
        def command(args: argparse.Namespace) -> int:
            seen[name] = gc.get_threshold()
            return 0

        return command

    monkeypatch.setattr(cli, "_run", recording("run"))
    monkeypatch.setattr(cli, "_check", recording("check"))
    before = gc.get_threshold()
    assert cli.main(["run", "spec.yaml"]) == 0
    assert cli.main(["check", "sklearn:iris", "--target", "target"]) == 0
    assert seen == {"run": cli._GC_THRESHOLDS, "check": before}
    assert gc.get_threshold() == before != cli._GC_THRESHOLDS


def test_the_work_of_a_run_sees_the_heap_frozen_after_its_garbage_is_collected() -> None:
    import gc
    import weakref

    import tuneworth.cli as cli

    class Node:
        pass

    garbage = Node()
    garbage.loop = garbage  # type: ignore[attr-defined]
    gone = weakref.ref(garbage)
    del garbage
    before = gc.get_freeze_count()
    with cli._frozen_heap():
        # The cycle was collected, not frozen; what lives now is skipped by collections.
        assert gone() is None
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == before


def test_inner_progress_reports_every_search_score() -> None:
    from tuneworth.evaluate import inner_progress

    plan = plan_experiment(parse_spec(TINY))
    search = {"random search, 2 trials": plan.pipelines["random search, 2 trials"]}
    scored: list[int] = []
    with inner_progress(lambda: scored.append(1)) as ticks:
        list(
            evaluate_module.evaluate(
                search, plan.dataset.X, plan.dataset.y, plan.splits, plan.metric, ticks=ticks
            )
        )
    # 3 outer folds x 2 trials x 2 inner folds
    assert len(scored) == 12


def test_warm_up_fits_once_on_an_even_slice_of_a_large_fold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.base import BaseEstimator, ClassifierMixin

    seen: list[list[int]] = []

    class Recorder(ClassifierMixin, BaseEstimator):
        def fit(self, X: pd.DataFrame, y: pd.Series) -> Recorder:
            seen.append(list(X.index))
            return self

    monkeypatch.setattr(evaluate_module, "_WARM", set())
    X = pd.DataFrame({"x": range(2000)})
    y = pd.Series([0] * 1990 + [1] * 10)  # sorted, with a rare last class
    evaluate_module._warm_up("arm", Recorder(), X, y)
    evaluate_module._warm_up("arm", Recorder(), X, y)
    assert len(seen) == 1
    assert len(seen[0]) == evaluate_module.WARM_UP_ROWS
    assert (seen[0][0], seen[0][-1]) == (0, 1999)
    assert set(y.loc[seen[0]]) == {0, 1}


def test_run_takes_a_registered_model_name() -> None:
    from tuneworth.cli import _parser

    args = _parser().parse_args(["run", "spec.yaml", "--register", "churn-model"])
    assert args.register == "churn-model"
    assert _parser().parse_args(["run", "spec.yaml"]).register is None
